"""Episode videos (``wmbench video``): one task planned and executed by the harness, drawn with ``env.draw``.

The episode runs through `wmbench.harness.episodes.run_episodes` (its ``on_step`` hook records the
states), so the video shows exactly what an evaluation does. Each frame is one env step: the real state with
the goal drawn translucently over it (a ghost: the goal's pixels that differ from the empty scene, blended
into it). Open-loop episodes get a second panel with the world model's predicted trajectory for the executed
plan, one prediction per planning step (``frameskip`` env steps): decoded by the model's ``decode`` when it
has one (state models: the predicted state drawn like the real one; pixel models: the decoded image), else
the real frame whose latent is nearest to the prediction. The last frame is held for a second.

mp4 is written by imageio's ffmpeg plugin (the ``video`` extra, imageio-ffmpeg), GIF by Pillow.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import imageio.v2 as imageio
import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from wmbench.harness.entries import ORACLE, resolve_entry
from wmbench.harness.episodes import EpisodeRecord, model_obs_type, run_episodes
from wmbench.io import atomic_path
from wmbench.planning import Budget, parse_budgets
from wmbench.registry import make_env

FPS = 10
#: Opacity of the goal ghost.
GOAL_ALPHA = 0.45
#: A pixel belongs to an object when a channel differs from the empty scene by more than this.
OBJECT_TOLERANCE = 8
HEADER = 32
FORMATS = (".mp4", ".gif")
UNITS = {"seconds": "s", "iterations": "it", "evaluations": "ev"}
#: States drawn to estimate the empty scene (their per-pixel median).
BACKGROUND_SAMPLES = 9


@dataclass(frozen=True)
class EpisodeTrace:
    """One recorded episode: ``states [T + 1, S]`` (index 0 = start), env ``actions [T, A]``, its goal and
    the harness's record."""

    states: np.ndarray
    actions: np.ndarray
    goal: np.ndarray
    record: EpisodeRecord


@dataclass(frozen=True)
class Prediction:
    """The world model's predicted frames, one per planning step (index 0 = the start), how they were made
    (``"decoded"`` or ``"nearest real frame"``) and whether they are ``env.draw`` images (which get the goal
    ghost; a pixel model's decoded images are shown as they are)."""

    frames: list[np.ndarray]
    kind: str
    drawn: bool


@dataclass(frozen=True)
class VideoInfo:
    """What `episode_video` wrote."""

    path: Path
    frames: int
    seconds: float
    bytes: int
    success: bool


def record_episode(env_name: str, model: Any, planner: Any, start: np.ndarray, goal: np.ndarray,
                   budget: Budget, mode: str = "mpc", **settings: Any) -> EpisodeTrace:
    """Run one episode with `run_episodes` (``settings``: its keyword
    options, e.g. ``horizon``, ``step_cap``, ``seed``) and record every state and action."""
    states, actions = [np.asarray(start, dtype=np.float64)], []

    def on_step(_: int, action: np.ndarray, state: np.ndarray) -> None:
        actions.append(np.asarray(action, dtype=np.float64))
        states.append(np.asarray(state, dtype=np.float64))

    (record,) = run_episodes(env_name, model, planner, budget, (start[None], goal[None]), mode,
                             on_step=on_step, **settings)
    return EpisodeTrace(np.stack(states), np.asarray(actions, dtype=np.float64), np.asarray(goal), record)


def _observations(model: Any, env: Any, states: np.ndarray) -> torch.Tensor:
    """What ``model.encode`` takes for ``states``: the states, or their images for pixel models."""
    if model_obs_type(model) == "pixels":
        size = int(getattr(model, "image_size", 64))
        return torch.from_numpy(np.stack([env.draw(s, size) for s in states]))
    return torch.as_tensor(states, dtype=torch.float32)


def predict(model: Any, env: Any, trace: EpisodeTrace, size: int) -> Prediction:
    """The model's open-loop prediction of ``trace`` (its actions as one plan from its start), drawn at
    ``size`` px: decoded by ``model.decode`` if it exists, else the nearest real frame in latent space."""
    frameskip = int(model.frameskip)
    plan = torch.as_tensor(trace.actions[:len(trace.actions) // frameskip * frameskip], dtype=torch.float32)
    plan = plan.reshape(1, -1, model.action_dim)
    with torch.no_grad():
        z = model.rollout(model.encode(_observations(model, env, trace.states[:1])), plan)[0]
        if hasattr(model, "decode"):
            decoded = model.decode(z).detach().cpu()
            if model_obs_type(model) == "pixels":
                return Prediction([_resize(img, size) for img in decoded.numpy()], "decoded", drawn=False)
            return Prediction([env.draw(s, size) for s in decoded.double().numpy()], "decoded", drawn=True)
        real = model.encode(_observations(model, env, trace.states))
        nearest = torch.cdist(z.float(), real.float()).argmin(dim=1)
    frames = [env.draw(trace.states[int(i)], size) for i in nearest]
    return Prediction(frames, "nearest real frame", drawn=True)


def _resize(image: np.ndarray, size: int) -> np.ndarray:
    return np.asarray(Image.fromarray(image).resize((size, size), Image.Resampling.BILINEAR))


def empty_scene(env: Any, size: int) -> np.ndarray:
    """The scene without its objects: the per-pixel median of draws of a few sampled states (objects seldom
    cover the same pixel in most of them)."""
    rng = np.random.default_rng(0)
    states = [env.sample_start_goal(rng)[k % 2] for k in range(BACKGROUND_SAMPLES)]
    return np.median(np.stack([env.draw(s, size) for s in states]), axis=0).astype(np.uint8)


def with_goal(frame: np.ndarray, goal: np.ndarray, scene: np.ndarray) -> np.ndarray:
    """``frame`` with the goal's objects blended translucently into its empty parts (objects stay on top)."""
    def objects(image: np.ndarray) -> np.ndarray:
        return (np.abs(image.astype(np.int16) - scene).max(axis=-1) > OBJECT_TOLERANCE)[..., None]

    ghost = (1 - GOAL_ALPHA) * scene + GOAL_ALPHA * goal
    return np.where(objects(frame), frame, np.where(objects(goal), ghost, frame)).round().astype(np.uint8)


def _header(width: int, lines: list[tuple[int, str]]) -> np.ndarray:
    """A white strip with texts ``(x, text)``: the first on the top line, the others on the second."""
    strip = Image.new("RGB", (width, HEADER), (255, 255, 255))
    draw, font = ImageDraw.Draw(strip), ImageFont.load_default(size=12)
    for k, (x, text) in enumerate(lines):
        draw.text((x + 4, 2 if k == 0 else 17), text, fill=(0, 0, 0), font=font)
    return np.asarray(strip)


def render_frames(env: Any, trace: EpisodeTrace, title: str, size: int = 256,
                  prediction: Prediction | None = None, frameskip: int = 1, final: str = ""
                  ) -> list[np.ndarray]:
    """One frame per state of ``trace`` (then the last one held for a second): a header with ``title`` and
    the step, the real state with the goal ghost and, with a ``prediction``, the predicted frame of the
    latest planning step beside it. ``final`` is shown on the last frame."""
    scene, goal = empty_scene(env, size), env.draw(trace.goal, size)
    steps = len(trace.states) - 1
    frames = []
    for t, state in enumerate(trace.states):
        status = f"step {t}/{steps}" + (f" · {final}" if t == steps and final else "")
        panels, labels = [with_goal(env.draw(state, size), goal, scene)], [(0, f"simulator · {status}")]
        if prediction is not None:
            h = min(t // frameskip, len(prediction.frames) - 1)
            shown = prediction.frames[h]
            panels.append(with_goal(shown, goal, scene) if prediction.drawn else shown)
            labels.append((size, f"model ({prediction.kind}) · step {h * frameskip}"))
        header = _header(size * len(panels), [(0, title), *labels])
        frames.append(np.concatenate([header, np.concatenate(panels, axis=1)], axis=0))
    return frames + [frames[-1]] * FPS


def check_video_path(path: str | Path) -> Path:
    """``path`` if it names an .mp4 or .gif file, else a one-line ``ValueError``."""
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise ValueError(f"--out {path}: write a .mp4 or a .gif file")
    return path


def write_video(frames: list[np.ndarray], path: Path, fps: int = FPS) -> Path:
    """Encode ``frames`` (uint8 ``[H, W, 3]``) as mp4 (H.264 through imageio-ffmpeg) or GIF (Pillow),
    atomically."""
    path = check_video_path(path)
    if path.suffix.lower() == ".gif":
        with atomic_path(path) as tmp:
            imageio.mimwrite(tmp, frames, format="GIF-PIL", duration=1000 / fps, loop=0)
        return path
    try:
        import imageio_ffmpeg  # noqa: F401  (imageio's ffmpeg plugin needs it)
    except ImportError:
        raise RuntimeError("mp4 videos need the optional 'video' extra: pip install 'wmbench[video]' (or "
                           "write a .gif)") from None
    with atomic_path(path) as tmp:
        imageio.mimwrite(tmp, frames, format="FFMPEG", fps=fps, codec="libx264", macro_block_size=16,
                         ffmpeg_log_level="error", output_params=["-threads", "1"])
    return path


def load_model(env_name: str, variant: str, model_kind: str, dataset_size: str, home: Path | None,
               frozen: bool = True) -> Any:
    """The world model an entry plans through: the simulator for the Oracle, else the frozen reference
    checkpoint (``frozen``) or, where wmbench ships none, the trained one
    ([`wmbench.models.zoo.find_checkpoint`][wmbench.models.zoo.find_checkpoint])."""
    if variant == ORACLE:
        from wmbench.models.simulator import SimulatorModel

        return SimulatorModel(env_name)
    from wmbench.models.checkpoint import load
    from wmbench.models.zoo import find_checkpoint

    return load(find_checkpoint(env_name, model_kind, variant, dataset_size, 0, home, frozen))


def episode_video(env_name: str, entry: str, task: int, out: str | Path, *, budget: str = "1",
                  mode: str = "mpc", model_kind: str = "state", dataset_size: str = "small",
                  split: str = "test", seed: int = 0, size: int = 256, home: Path | None = None,
                  frozen: bool = True) -> VideoInfo:
    """Plan and execute task ``task`` of ``env_name``'s ``split`` suite with ``entry`` under one ``budget``
    per plan call (``"1"`` second, ``"it:30"`` iterations, ``"ev:3000"`` evaluations) and write the video."""
    from wmbench import tasks

    check_video_path(out)
    budgets = parse_budgets(budget)
    if len(budgets) != 1:
        raise ValueError(f"--budget {budget!r}: give one budget (a video shows one episode)")

    suite = tasks.load(env_name, split)
    if not 0 <= task < len(suite):
        raise ValueError(f"--task {task} is out of range: the {env_name} {split} suite has tasks 0 to "
                         f"{len(suite) - 1}")
    resolved = resolve_entry(entry)
    model = load_model(env_name, resolved.variant, model_kind, dataset_size, home, frozen)
    trace = record_episode(env_name, model, resolved.make_planner(), suite.starts[task], suite.goals[task],
                           budgets[0], mode, step_cap=suite.step_cap, seed=seed)
    if trace.record.error:
        raise RuntimeError(f"the episode failed: {trace.record.error}")
    env = make_env(env_name)
    prediction = predict(model, env, trace, size) if mode == "open-loop" else None
    outcome = "success" if trace.record.success else "failure"
    budget_text = f"{budgets[0].value:g} {UNITS[budgets[0].kind]}"
    title = f"{env_name} {split} #{task} · {resolved.name} · {mode} · {budget_text}"
    frames = render_frames(env, trace, title, size, prediction, int(model.frameskip), outcome)
    path = write_video(frames, Path(out))
    return VideoInfo(path, len(frames), len(frames) / FPS, path.stat().st_size, trace.record.success)
