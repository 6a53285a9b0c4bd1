"""Wall-contact probe: does a Wall world model stop the dot at the wall under full-speed pushes?

Cases (``wall_probe_cases``): starts ``d`` px in front of either wall face (``d`` in ``FACE_DISTANCES``,
at ``HEIGHTS`` above and below the door) pushed at full speed towards the wall (``a = (+-1, 0)``), starts
``d`` px below or above a door jamb inside the door column pushed into it (``a = (0, -+1)``), and the same
horizontal pushes far from the wall (free motion, a control). Each case is one model step: the push repeated
``frameskip`` times (5 env steps of 2 px, so every face case reaches the face). The probe reports the mean and
largest ``|predicted - true|`` of the pushed coordinate in grid px, the truth coming from the simulator.
"""

from __future__ import annotations

import numpy as np
import torch

from wmbench_envs.wall import WallEnv, wall_geometry

GEOMETRY = wall_geometry()
FACE_DISTANCES = (0.0, 0.5, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0)
HEIGHTS = (*np.linspace(6.0, 25.0, 8).tolist(), *np.linspace(35.0, 58.0, 8).tolist())
JAMB_XS = tuple(np.linspace(GEOMETRY.wall_x0 + 0.5, GEOMETRY.wall_x1 - 0.5, 5).tolist())
JAMB_DISTANCES = (0.0, 0.5, 1.0, 2.0, 3.0)
FREE_XS = (10.0, 14.0, 46.0, 50.0)


def wall_probe_cases() -> dict[str, tuple[np.ndarray, np.ndarray, int]]:
    """``kind -> (starts [N, 2], env actions [N, 2], pushed axis)`` for kinds "face", "jamb" and "free"."""
    face, face_a, jamb, jamb_a, free, free_a = [], [], [], [], [], []
    for y in HEIGHTS:
        for d in FACE_DISTANCES:
            face += [(GEOMETRY.wall_x0 - d, y), (GEOMETRY.wall_x1 + d, y)]
            face_a += [(1.0, 0.0), (-1.0, 0.0)]
        for x in FREE_XS:
            free.append((x, y))
            free_a.append((1.0, 0.0) if x < GEOMETRY.wall_x0 else (-1.0, 0.0))
    for x in JAMB_XS:
        for d in JAMB_DISTANCES:
            jamb += [(x, GEOMETRY.door_y0 + d), (x, GEOMETRY.door_y1 - d)]
            jamb_a += [(0.0, -1.0), (0.0, 1.0)]
    arrays = {"face": (face, face_a, 0), "jamb": (jamb, jamb_a, 1), "free": (free, free_a, 0)}
    return {kind: (np.array(s, dtype=np.float64), np.array(a, dtype=np.float64), axis)
            for kind, (s, a, axis) in arrays.items()}


def _check_state_model(model) -> None:
    if not (hasattr(model, "state_mean") and hasattr(model, "frameskip")
            and getattr(model, "state_dim", None) == 2 and not getattr(model, "angle_dims", [])):
        raise ValueError(f"the wall-contact probe reads positions from a Wall state world model's latent "
                         f"(z-normalised state); got a {type(model).__name__}")


@torch.no_grad()
def wall_contact_probe(model, env: WallEnv | None = None) -> dict[str, float]:
    """``{kind}_mean_px`` / ``{kind}_max_px``: |predicted - true| of the pushed coordinate after one model
    step, for kinds "face" (the probe's headline), "jamb" and "free" (see the module docstring)."""
    _check_state_model(model)
    env = WallEnv() if env is None else env
    out: dict[str, float] = {}
    for kind, (starts, pushes, axis) in wall_probe_cases().items():
        actions = np.repeat(pushes[:, None, None, :], model.frameskip, axis=2)  # [N, 1, frameskip, 2]
        true = env.replay(starts, actions)[:, 1, axis]
        z0 = model.encode_states(torch.as_tensor(starts, dtype=torch.float32))
        z1 = model.step(z0, torch.as_tensor(actions.reshape(len(starts), -1), dtype=torch.float32))
        pred = (z1 * model.state_std + model.state_mean)[:, axis].double().numpy()
        error = np.abs(pred - true)
        out[f"{kind}_mean_px"], out[f"{kind}_max_px"] = float(error.mean()), float(error.max())
    return out
