"""Episode videos: recorded through the harness, goal ghost, model predictions, mp4/GIF files, CLI errors."""

from __future__ import annotations

import errno
import sys
from pathlib import Path

import imageio.v2 as imageio
import imageio.v3 as iio
import numpy as np
import pytest
import torch

from wmbench.cli import main
from wmbench.models.pixel_model import PixelWorldModel
from wmbench.models.simulator import SimulatorModel
from wmbench.planning import Budget
from wmbench.registry import make_env
from wmbench.report.video import FPS, HEADER, empty_scene, predict, record_episode, with_goal, write_video
from wmbench.tasks import load
from wmbench_baselines.oracle import Oracle

torch.set_num_threads(1)
SIZE = 64


class NoDecode:
    """The simulator behind the model interface, without ``decode`` (so predictions are nearest frames)."""

    def __init__(self):
        self.sim = SimulatorModel("wall")
        self.frameskip, self.action_dim = self.sim.frameskip, self.sim.action_dim

    def encode(self, obs):
        return self.sim.encode(obs)

    def rollout(self, z0, actions):
        return self.sim.rollout(z0, actions)


@pytest.fixture(scope="module")
def trace():
    suite = load("wall", "dev")
    return record_episode("wall", SimulatorModel("wall"), Oracle(samples=30, topk=5), suite.starts[0],
                          suite.goals[0], Budget(iterations=2), "open-loop", seed=0)


def test_recorded_episode_is_the_harness_episode(trace):
    env = make_env("wall")
    assert trace.states.shape == (26, 2) and trace.actions.shape == (25, 2)
    replayed = env.replay(trace.states[:1], trace.actions.reshape(1, 25, 1, 2))[0]
    np.testing.assert_allclose(replayed, trace.states)
    assert trace.record.steps == 25
    assert trace.record.success == bool(env.success(trace.states[-1], trace.goal))


def test_predictions_are_decoded_or_nearest_real_frames(trace):
    env = make_env("wall")
    real = [env.draw(trace.states[5 * h], SIZE) for h in range(6)]
    decoded = predict(SimulatorModel("wall"), env, trace, SIZE)  # the simulator predicts exactly
    assert decoded.kind == "decoded" and decoded.drawn
    for got, want in zip(decoded.frames, real, strict=True):
        np.testing.assert_array_equal(got, want)
    nearest = predict(NoDecode(), env, trace, SIZE)
    assert nearest.kind == "nearest real frame" and nearest.drawn
    for got, want in zip(nearest.frames, real, strict=True):
        np.testing.assert_array_equal(got, want)
    pixels = predict(PixelWorldModel("wall"), env, trace, SIZE)  # untrained: only shapes are meaningful
    assert pixels.kind == "decoded" and not pixels.drawn
    assert len(pixels.frames) == 6 and pixels.frames[0].shape == (SIZE, SIZE, 3)


def test_goal_is_a_ghost_under_the_real_state():
    env = make_env("wall")
    state, goal = np.array([15.0, 15.0]), np.array([50.0, 50.0])
    scene, frame, ghost = empty_scene(env, SIZE), env.draw(state, SIZE), env.draw(goal, SIZE)
    out = with_goal(frame, ghost, scene)
    at = lambda xy: (int(xy[1] * SIZE / 65), int(xy[0] * SIZE / 65))  # noqa: E731  (grid px -> row, col)
    np.testing.assert_array_equal(out[at(state)], frame[at(state)])  # the real dot is drawn opaque
    assert scene[at(goal)][1] > out[at(goal)][1] > ghost[at(goal)][1]  # the goal dot is translucent
    np.testing.assert_array_equal(out[:4], scene[:4])  # the empty scene is untouched


def test_cli_writes_a_gif_and_mp4_is_byte_reproducible(tmp_path, capsys):
    out = tmp_path / "oracle.gif"
    argv = ["video", "--env", "wall", "--entry", "Oracle(samples=30, topk=5)", "--task", "1", "--split",
            "dev", "--budget", "it:2", "--mode", "open-loop", "--out", str(out), "--home", str(tmp_path)]
    assert main(argv) == 0
    assert capsys.readouterr().out.startswith(f"{out}: {26 + FPS} frames, 3.6 s")
    frames = iio.imread(out, index=None)
    assert frames.shape[:3] == (26 + FPS, HEADER + 256, 2 * 256)  # simulator | prediction
    rng = np.random.default_rng(0)
    clip = [rng.integers(0, 256, (HEADER + 256, 256, 3), dtype=np.uint8) for _ in range(5)]
    first, second = write_video(clip, tmp_path / "a.mp4"), write_video(clip, tmp_path / "b.mp4")
    assert first.stat().st_size > 1000 and first.read_bytes() == second.read_bytes()


@pytest.mark.parametrize("argv, message", [
    (["--entry", "GBP", "--out", "x.gif", "--trained"],
     "`wmbench train wall --model state --variant base --size small`"),
    (["--entry", "Oracle", "--out", "x.avi"], "write a .mp4 or a .gif"),
    (["--entry", "Oracle", "--out", "x.gif", "--task", "500"], "--task 500 is out of range"),
    (["--entry", "Oracle", "--out", "x.gif", "--budget", "it:1,2"], "give one budget"),
])
def test_bad_input_gives_one_line_error(argv, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["video", "--env", "wall", "--task", "0", *argv, "--home", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("wmbench: error:") and message in err and len(err.splitlines()) == 1


def test_mp4_without_imageio_ffmpeg_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)
    with pytest.raises(RuntimeError, match=r"pip install 'wmbench\[video\]'"):
        write_video([np.zeros((16, 16, 3), dtype=np.uint8)], tmp_path / "x.mp4")


@pytest.mark.parametrize("name", ["clip.gif", "clip.mp4"])
def test_a_video_onto_a_full_disk_names_the_file_and_keeps_the_old_one(name, tmp_path, monkeypatch):
    path = write_video([np.zeros((16, 16, 3), dtype=np.uint8)] * 3, tmp_path / name)
    old = path.read_bytes()

    def full_disk(target, frames, **options):
        Path(target).write_bytes(b"half a video")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(imageio, "mimwrite", full_disk)
    with pytest.raises(OSError) as caught:
        write_video([np.ones((16, 16, 3), dtype=np.uint8)] * 3, path)
    assert caught.value.errno == errno.ENOSPC and caught.value.filename == str(path)
    assert path.read_bytes() == old and [p.name for p in tmp_path.iterdir()] == [name]
