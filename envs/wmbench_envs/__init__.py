"""wmbench environments: PointMaze, PushT and Wall, registered with Gymnasium on import.

>>> import gymnasium as gym, wmbench_envs
>>> env = gym.make("wmbench/PushT-v0", obs_type="both")
"""

from __future__ import annotations

from gymnasium.envs.registration import register, registry

#: short name -> (Gymnasium id, env class, scripted expert class), as "module:attr" strings.
ENVS: dict[str, tuple[str, str, str]] = {
    "pointmaze": ("wmbench/PointMaze-v0", "wmbench_envs.pointmaze:PointMazeEnv",
                  "wmbench_envs.pointmaze_expert:PointMazeExpert"),
    "pusht": ("wmbench/PushT-v0", "wmbench_envs.pusht:PushTEnv", "wmbench_envs.pusht_expert:PushTExpert"),
    "wall": ("wmbench/Wall-v0", "wmbench_envs.wall:WallEnv", "wmbench_envs.wall_expert:WallExpert"),
}

#: Gymnasium TimeLimit for plain `gym.make` use; evaluation tasks carry their own step caps.
MAX_EPISODE_STEPS = {"pointmaze": 300, "pusht": 300, "wall": 300}

for _name, (_env_id, _entry_point, _expert) in ENVS.items():
    if _env_id not in registry:
        register(id=_env_id, entry_point=_entry_point, max_episode_steps=MAX_EPISODE_STEPS[_name])
