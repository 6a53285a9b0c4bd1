"""The patch world model (frozen pre-trained patch encoder, frame history), history windows in training and in
the episode loop, and the device option (the CUDA tests skip without a GPU)."""

from __future__ import annotations

import dataclasses
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from test_control import TOY, ToyEnv, ToyModel
from test_harness import toy_tasks
from test_models import PLANNER, SMALL, PointMass, Split, make_dataset
from toys import interrupt_unfinished_saves

from wmbench.cli import main
from wmbench.data.windows import make_windows
from wmbench.harness.episodes import run_episodes
from wmbench.harness.schema import read_results
from wmbench.harness.sweep import SweepConfig, plan_units, prepare, run_sweep
from wmbench.models import MODELS, checkpoint
from wmbench.models.checkpoint import checkpoint_path
from wmbench.models.device import resolve_device
from wmbench.models.dynamics import ROLLOUT_CHUNK, rollout
from wmbench.models.history import frame_windows, reset_windows, still_window
from wmbench.models.patch_model import PatchWorldModel
from wmbench.models.state_model import StateWorldModel
from wmbench.planning import Budget, Planner, parse_budgets
from wmbench.training.base import base_step_fn, encode_in_chunks, make_optimizer, run_steps, window_latents
from wmbench.training.config import TrainConfig
from wmbench.training.owm import collect_round
from wmbench.training.segments import sample_segments
from wmbench.training.trainer import train
from wmbench_baselines.cem import CEM
from wmbench_baselines.gbp import GBP

torch.set_num_threads(1)
#: A patch model small enough for tests: 16-px frames, 4 x 4 patches of 4 px, 4-d tokens, history 3.
TINY = dict(image_size=16, patch_size=4, token_dim=4, encoder_width=16, encoder_layers=1, encoder_heads=2,
            hidden=8, layers=1, blur=1.0)
TINY_CONFIG = dataclasses.replace(SMALL, model_options={**TINY, "mae_steps": 20})


class WindowedSplit(Split):
    """Stand-in split whose windows carry ``episode`` / ``start`` (the gather path of ``window_latents``)."""

    def windows(self, history, horizon, frameskip):
        return make_windows(self.states, self.actions, history, horizon, frameskip)


@pytest.fixture(scope="module")
def dataset():
    return make_dataset()


@pytest.fixture(scope="module")
def patch_model(dataset):
    return PatchWorldModel.from_dataset(dataset, "pointmass", seed=0, mae_steps=40, renderer=PointMass(),
                                        progress=False, **TINY)


def copy_of(model: PatchWorldModel) -> PatchWorldModel:
    twin = PatchWorldModel(**model.config)
    twin.load_state_dict(model.state_dict())
    twin.renderer = model.renderer
    return twin


def test_patch_model_shapes_and_goal_weights(patch_model, dataset):
    model = copy_of(patch_model)
    torch.nn.init.normal_(model.predictor.out.weight, std=0.1)  # zero at init: "nothing changes"
    assert MODELS["patch"] == "wmbench.models.patch_model:PatchWorldModel"
    sizes = (model.grid, model.frame_dim, model.history, model.latent_dim, model.action_dim)
    assert sizes == (4, 64, 3, 192, 10)
    frames = model.render(dataset.val.states[:5, 0])
    assert frames.shape == (5, 16, 16, 3) and frames.dtype == torch.uint8
    z = model.encode(frames)
    assert z.shape == (5, 64)
    assert torch.equal(model.encode_states(dataset.val.states[:5, 0]), z)
    window = still_window(z, 3)
    assert torch.equal(window[:, 128:], z) and torch.equal(window[:, :64], z)
    actions = torch.zeros(5, 4, 10, requires_grad=True)
    traj = model.rollout(window, actions)
    assert traj.shape == (5, 5, 192) and torch.equal(traj[:, 0], window)
    # step drops the oldest frame and appends the predicted one
    assert torch.equal(traj[:, 1, :128], window[:, 64:]) and torch.equal(traj[:, 2, :64], window[:, 128:])
    traj[:, -1].pow(2).sum().backward()
    assert actions.grad[:, :3].abs().sum() > 0
    assert model.goal_weights.tolist() == [0.0] * 128 + [1.0] * 64
    assert model.decode(z).shape == (5, 16, 16, 3)
    with pytest.raises(ValueError, match="expects latents"):
        model.step(z, torch.zeros(5, 10))


def test_masked_autoencoder_pretraining_lowers_the_reconstruction_error(dataset):
    renderer = PointMass()
    torch.manual_seed(0)
    untrained = PatchWorldModel("pointmass", **TINY)
    untrained.renderer = renderer
    frames = untrained.render(dataset.train.states[:, ::4].reshape(-1, 4))
    model = PatchWorldModel("pointmass", **TINY)
    losses = model.pretrain(frames, 60, 32, 3e-3, 0.5, torch.Generator().manual_seed(0), progress=False)
    x = model._float(frames)
    with torch.no_grad():
        error = torch.nn.functional.mse_loss(model.reconstruct(model.encoder(x)), x)
        before = torch.nn.functional.mse_loss(untrained.reconstruct(untrained.encoder(x)), x)
    assert error < 0.5 * before and losses[-1] < losses[0]
    assert not any(p.requires_grad for p in [*model.encoder.parameters(), *model.decoder.parameters()])


def test_predictor_training_leaves_the_frozen_encoder_untouched(patch_model, dataset):
    model = copy_of(patch_model)
    frozen = {k: v.clone() for k, v in model.state_dict().items() if k.startswith(("encoder.", "decoder."))}
    predictor = {k: v.clone() for k, v in model.predictor.state_dict().items()}
    cfg = TrainConfig(batch_size=16)
    data = window_latents(model, dataset.train, cfg)
    optimizer = make_optimizer(model, 1e-3, cfg)
    assert {id(p) for g in optimizer.param_groups for p in g["params"]} == \
        {id(p) for p in model.predictor.parameters()}
    run_steps(model, optimizer, torch.Generator().manual_seed(0), 0, 5, base_step_fn(model, data, cfg), cfg,
              progress=False)
    assert all(p.grad is None for p in [*model.encoder.parameters(), *model.decoder.parameters()])
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in frozen.items())
    assert not all(torch.equal(v, model.predictor.state_dict()[k]) for k, v in predictor.items())


@pytest.mark.parametrize("split_cls", [WindowedSplit, Split])
def test_latent_windows_are_the_encodings_of_frames_one_planning_step_apart(patch_model, dataset, split_cls):
    split = split_cls(dataset.train.states, dataset.train.actions)
    cfg = TrainConfig(frameskip=5, horizon=3)
    z, a = window_latents(patch_model, split, cfg)
    windows = make_windows(split.states, split.actions, 3, 3, 5)  # history 3 + horizon 3 frames
    n_windows = len(windows)
    # every window twice: with its recorded history, and as if reset at its first latent's frame
    assert z.shape == (2 * n_windows, 4, 192) and a.shape == (2 * n_windows, 3, 10)
    assert torch.equal(a[:n_windows], a[n_windows:])
    for n in (0, 7, n_windows - 1):
        e, s = int(windows.episode[n]), int(windows.start[n])
        t0 = s + 10  # env step of the first latent's newest frame
        for k in range(4):  # latent k of window n = frames t - 2f, t - f, t with t = s + (k + 2) f
            t = s + (k + 2) * 5
            expected = patch_model.encode_states(split.states[e, [t - 10, t - 5, t]]).reshape(-1)
            assert torch.allclose(z[n, k], expected, atol=1e-5)
            reset = patch_model.encode_states(split.states[e, [max(t0, t - 10), max(t0, t - 5), t]])
            assert torch.allclose(z[n_windows + n, k], reset.reshape(-1), atol=1e-5)
        for k in range(3):  # the actions between latents k and k + 1: env steps t .. t + f - 1
            t = s + (k + 2) * 5
            assert torch.equal(a[n, k], split.actions[e, t:t + 5].reshape(-1))


def test_history_segments_and_replay_keep_the_recorded_history(patch_model, dataset):
    seg = sample_segments(dataset.train, 6, 5, 5, torch.Generator().manual_seed(0), history=3)
    assert seg.states.shape == (6, 2 + 5 + 1, 4) and torch.equal(seg.starts, seg.states[:, 2])
    z = encode_in_chunks(patch_model, seg.states)
    assert z.shape == (6, 6, 192)
    assert torch.allclose(z[:, 0, :64], patch_model.encode_states(seg.states[:, 0]), atol=1e-6)
    assert torch.allclose(z[:, 0, 128:], patch_model.encode_states(seg.starts), atol=1e-6)
    env = PointMass()
    states, actions = collect_round(patch_model, env, dataset.train, TrainConfig(owm_rollouts=3), PLANNER, 1)
    assert states.shape == (3, 8, 4) and actions.shape == (3, 5, 10)
    for i in range(3):  # the replay continues from the recorded start with the executed actions
        env.reset(options={"state": states[i, 2].double().numpy(), "goal": states[i, -1].double().numpy()})
        for k in range(5):
            env.step(actions[i, 0, 2 * k:2 * k + 2].numpy())
        np.testing.assert_allclose(env.get_state(), states[i, 3].numpy(), atol=1e-5)


class HistoryToyModel(torch.nn.Module):
    """The toy env's exact dynamics with a history-3 latent (three positions, oldest first); records every
    batch of observations it encodes."""

    env, frameskip, action_dim, history, latent_dim = TOY, 2, 4, 3, 6
    obs_type = "state"

    def __init__(self):
        super().__init__()
        self.scale = torch.nn.Parameter(torch.tensor(0.1))
        self.metadata = {"env": TOY}
        self.encoded: list[torch.Tensor] = []
        self.goal_weights = torch.tensor([0.0, 0, 0, 0, 1, 1])

    def encode(self, obs):
        self.encoded.append(obs.clone())
        return obs.float()

    def step(self, z, a):
        return torch.cat([z[:, 2:], z[:, -2:] + self.scale * a.view(-1, 2, 2).sum(1)], 1)

    def rollout(self, z0, actions):
        zs = [z0]
        for t in range(actions.shape[1]):
            zs.append(self.step(zs[-1], actions[:, t]))
        return torch.stack(zs, 1)


class TowardsGoal(Planner):
    """Full speed from the newest frame towards the goal's newest frame."""

    def init(self, problem, generator):
        return None

    def iterate(self, problem, state, generator):
        d = problem.goal[:, -2:] - problem.start[:, -2:]
        u = (d / d.norm(dim=-1, keepdim=True).clamp_min(1e-9)).repeat(1, 2)
        candidates = u[:, None, None].expand(-1, 1, problem.horizon, -1).contiguous()
        return candidates, problem.cost(candidates)


def test_the_episode_loop_feeds_the_last_history_observations_a_planning_step_apart():
    model = HistoryToyModel()
    records = run_episodes(TOY, model, TowardsGoal(), Budget(iterations=1), (np.zeros((1, 2)), [[1.0, 0.0]]),
                           "mpc", step_cap=20)
    assert records[0].success and records[0].replans == 5
    goal, *plans = model.encoded
    assert torch.equal(goal, torch.tensor([[1.0, 0.0]] * 3, dtype=goal.dtype))  # a still goal window
    x = [0.0, 0.2, 0.4, 0.6, 0.8]  # positions at the replans (2 env steps of 0.1 apart)
    expected = [[x[0], x[0], x[0]], [x[0], x[0], x[1]], [x[0], x[1], x[2]], [x[1], x[2], x[3]],
                [x[2], x[3], x[4]]]
    np.testing.assert_allclose([p[:, 0].tolist() for p in plans], expected, atol=1e-6)
    assert all(p[:, 1].abs().max() < 1e-6 for p in plans)


def toy_data(episodes: int = 6, steps: int = 40, seed: int = 0) -> SimpleNamespace:
    """Random-walk episodes of the toy env (``x += 0.1 a``), as a dataset."""
    rng = np.random.default_rng(seed)
    actions = rng.uniform(-1, 1, (episodes, steps, 2))
    states = np.concatenate([np.zeros((episodes, 1, 2)), np.cumsum(0.1 * actions, 1)], 1).clip(-2, 2)
    split = Split(torch.tensor(states, dtype=torch.float32), torch.tensor(actions, dtype=torch.float32))
    return SimpleNamespace(train=split, val=split, content_hash="toy")


TOY_TASKS = (np.zeros((2, 2)), np.array([[0.3, 0.0], [0.0, -0.3]]))


@pytest.mark.parametrize("mode", ["open-loop", "mpc"])
def test_planning_through_a_patch_model_with_history(mode):
    env = ToyEnv("pixels", image_size=16)
    model = PatchWorldModel.from_dataset(toy_data(), TOY, frameskip=2, mae_steps=5, renderer=env,
                                         progress=False, **TINY)
    budgets = [Budget(iterations=2), Budget(iterations=3)] if mode == "open-loop" else Budget(iterations=2)
    for planner in (CEM(samples=16, topk=4), GBP()):
        records = run_episodes(TOY, model, planner, budgets, TOY_TASKS, mode, step_cap=6)
        assert len(records) == (4 if mode == "open-loop" else 2)
        assert all(r.error is None for r in records), [r.error for r in records]
        assert all(r.steps == 10 if mode == "open-loop" else 1 <= r.steps <= 6 for r in records)


def test_patch_training_resumes_to_identical_weights(dataset, tmp_path, monkeypatch):
    cfg = dataclasses.replace(TINY_CONFIG, steps=10, checkpoint_every=5)
    kwargs = dict(model="patch", config=cfg, progress=False, dataset=dataset, sim_env=PointMass(),
                  planner=PLANNER, diagnose=False)
    straight = checkpoint.load(train("pointmass", home=tmp_path / "a", **kwargs))
    save = interrupt_unfinished_saves(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        train("pointmass", home=tmp_path / "b", **kwargs)
    path = checkpoint_path("pointmass", "patch", home=tmp_path / "b")
    assert checkpoint.read(path)["training"]["step"] == 5
    monkeypatch.setattr(checkpoint, "save", save)
    resumed = checkpoint.load(train("pointmass", home=tmp_path / "b", **kwargs))
    assert isinstance(resumed, PatchWorldModel) and resumed.latent_dim == 192
    for k, v in straight.state_dict().items():
        assert torch.equal(v, resumed.state_dict()[k]), k


@pytest.mark.parametrize("variant", ["awm", "owm"])
def test_patch_variants_fine_tune_the_predictor_only(dataset, tmp_path, variant):
    path = train("pointmass", model="patch", variant=variant, home=tmp_path, config=TINY_CONFIG,
                 progress=False, dataset=dataset, sim_env=PointMass(), planner=PLANNER)
    base = checkpoint.load(checkpoint_path("pointmass", "patch", "base", home=tmp_path))
    model = checkpoint.load(path)
    changed = {k for k, v in base.state_dict().items() if not torch.equal(v, model.state_dict()[k])}
    assert changed and all(k.startswith("predictor.") for k in changed)
    assert all(np.isfinite(v) for v in model.metadata["diagnostics"].values())
    assert model.metadata["training"]["device"] == "cpu"
    if variant == "owm":
        assert checkpoint.read(path)["training"]["replay_states"].shape == (12, 8, 4)


def test_frame_windows_and_still_windows():
    frames = torch.arange(2 * 5 * 3, dtype=torch.float32).view(2, 5, 3)
    windows = frame_windows(frames, 3)
    assert windows.shape == (2, 3, 9)
    assert torch.equal(windows[1, 2], frames[1, 2:5].reshape(-1))
    assert frame_windows(frames, 1) is frames
    assert torch.equal(still_window(frames[:, 0], 2), torch.cat([frames[:, 0], frames[:, 0]], 1))
    reset = reset_windows(frames, 3)
    assert reset.shape == (2, 5, 9)
    assert torch.equal(reset[:, 0], still_window(frames[:, 0], 3)) and torch.equal(reset[:, 2:], windows)
    assert torch.equal(reset[0, 1], frames[0, [0, 0, 1]].reshape(-1))
    with pytest.raises(ValueError, match="at least 3 frames"):
        frame_windows(frames[:, :2], 3)


def test_device_names_resolve_or_fail_clearly():
    assert resolve_device("cpu") == resolve_device(" CPU ") == "cpu"
    assert resolve_device("auto") == ("cuda:0" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ValueError, match="unknown device 'gpu'"):
        resolve_device("gpu")
    with pytest.raises(ValueError, match="cuda:99"):
        resolve_device("cuda:99")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="needs CUDA"):
            resolve_device("cuda")


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(
    not torch.cuda.is_available(), reason="needs a CUDA device"))])
@pytest.mark.parametrize(("model", "variant"), [("state", "awm"), ("patch", "owm")])
def test_training_and_planning_on_a_device(tmp_path, device, model, variant):
    env = ToyEnv("pixels", image_size=16)
    options = TINY_CONFIG.model_options if model == "patch" else SMALL.model_options
    cfg = dataclasses.replace(TINY_CONFIG, model_options=options, gap_episodes=4)
    path = train(TOY, model=model, variant=variant, home=tmp_path, config=cfg, progress=False,
                 dataset=toy_data(), sim_env=env, planner=PLANNER, device=device)
    net = checkpoint.load(path, device)
    assert net.metadata["training"]["device"] == resolve_device(device)
    assert all(t.device.type == device for t in net.state_dict().values())
    assert all(np.isfinite(v) for v in net.metadata["diagnostics"].values())
    net.renderer = env
    for planner in (CEM(samples=16, topk=4), GBP()):
        records = run_episodes(TOY, net, planner, Budget(iterations=2), TOY_TASKS, "mpc", step_cap=4)
        assert all(r.error is None for r in records), [r.error for r in records]


@pytest.mark.parametrize("argv, message", [
    (["eval", "--env", "wall", "--entry", "GBP", "--device", "tpu"], "unknown device 'tpu'"),
    (["train", "wall", "--device", "cuda:x"], "unknown device 'cuda:x'"),
    (["reproduce", "table1", "--device", "gpu"], "unknown device 'gpu'"),
    (["run", "--device", "cuda:99"], "cuda:99"),
])
def test_bad_devices_give_one_line_errors(argv, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main([*argv, "--home", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("wmbench: error:") and message in err and len(err.splitlines()) == 1


def test_sweep_units_and_rows_carry_the_resolved_device(tmp_path):
    config = SweepConfig(entries=("test_control:Straight",), envs=(TOY,), n_tasks=2,
                         budgets=parse_budgets("it:1"), mode="open-loop", device="auto")
    outcome = run_sweep(config, tmp_path, lambda env, variant: ToyModel(), tasks=toy_tasks, progress=False)
    df = read_results(tmp_path)
    expected = resolve_device("auto")
    assert set(df["device"]) == {"cpu" if expected == "cpu" else f"cuda:{torch.cuda.get_device_name(0)}"}
    sweep = prepare(config, tasks=toy_tasks)
    cpu_unit = plan_units(replace(config, device="cpu"), list(sweep.entries), sweep.suites,
                          {(TOY, "base"): ToyModel()})[0]
    assert (cpu_unit.id in outcome.parts[0].name) == (expected == "cpu")


@pytest.mark.parametrize("make", [lambda: StateWorldModel("pusht", state_dim=7),
                                  lambda: PatchWorldModel("pusht", **TINY)])
def test_chunked_no_grad_rollout_equals_the_whole_batch_rollout(make):
    torch.manual_seed(0)
    model = make().eval()
    if isinstance(model, PatchWorldModel):
        torch.nn.init.normal_(model.predictor.out.weight, std=0.1)
    z0 = torch.randn(1100, model.latent_dim)
    actions = torch.rand(1100, 5, model.action_dim) * 2 - 1
    with torch.no_grad():
        chunked = model.rollout(z0, actions)  # 512-row chunks (ROLLOUT_CHUNK)
        whole = rollout(model.step, z0, actions, chunk=None)
    assert ROLLOUT_CHUNK < 1100 and chunked.shape == whole.shape == (1100, 6, model.latent_dim)
    torch.testing.assert_close(chunked, whole, rtol=0, atol=1e-5)
    assert not torch.equal(whole[:, -1], whole[:, 0])
