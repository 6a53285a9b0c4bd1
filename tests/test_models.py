"""World models, checkpoints and the base / AWM / OWM trainers (with small stand-in env and dataset)."""

from __future__ import annotations

import dataclasses
import errno
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from full_disk import fill_disk
from gymnasium import spaces
from toys import interrupt_unfinished_saves

from wmbench.models import checkpoint
from wmbench.models.checkpoint import checkpoint_path
from wmbench.models.dynamics import rollout
from wmbench.models.history import still_window
from wmbench.models.pixel_model import PixelWorldModel
from wmbench.models.state_model import StateWorldModel
from wmbench.registry import make_env
from wmbench.training.awm import attack_radii, perturb
from wmbench.training.base import base_step_fn, make_optimizer, one_step_loss, run_steps, window_latents
from wmbench.training.config import TrainConfig
from wmbench.training.owm import collect_round, gbp_planner
from wmbench.training.trainer import train
from wmbench_envs.base import GoalEnv

torch.set_num_threads(1)


class PointMass(GoalEnv):
    """Stand-in env: damped 2-D point mass in a box, state [x, y, vx, vy]."""

    state_low = np.array([-1.0, -1.0, -2.0, -2.0])
    state_high = -state_low

    def __init__(self):
        self.action_space = spaces.Box(-1, 1, (2,), np.float32)
        super().__init__()

    def _set_physics_state(self, state):
        self._s = state.copy()

    def _get_physics_state(self):
        return self._s

    def _physics_step(self, action):
        v = 0.8 * self._s[2:] + 0.3 * action
        self._s = np.concatenate([np.clip(self._s[:2] + 0.1 * v, -1, 1), v])

    def sample_start_goal(self, rng):
        return (np.concatenate([rng.uniform(-0.8, 0.8, 2), [0, 0]]),
                np.concatenate([rng.uniform(-0.8, 0.8, 2), [0, 0]]))

    def draw(self, state, size):
        img = np.zeros((size, size, 3), np.uint8)
        i, j = ((np.asarray(state[:2]) + 1) / 2 * (size - 1)).round().astype(int)
        img[j, i] = 255
        return img

    @staticmethod
    def state_distance(state, goal):
        return np.linalg.norm(np.asarray(state)[..., :2] - np.asarray(goal)[..., :2], axis=-1)

    @staticmethod
    def success(state, goal):
        return PointMass.state_distance(state, goal) < 0.1


class Split:
    """Stand-in EpisodeSplit following docs/interfaces.md."""

    def __init__(self, states, actions):
        self.states, self.actions = states, actions

    def windows(self, history, horizon, frameskip):
        n = history + horizon
        span = (n - 1) * frameskip
        s = self.states.unfold(1, span + 1, 1).permute(0, 1, 3, 2)[:, :, ::frameskip]
        a = self.actions.unfold(1, span, 1).permute(0, 1, 3, 2)
        a = a.reshape(*a.shape[:2], n - 1, frameskip * a.shape[-1])
        return SimpleNamespace(states=s.reshape(-1, n, s.shape[-1]),
                               actions=a.reshape(-1, n - 1, a.shape[-1]))


def make_dataset(episodes=24, steps=40, seed=0):
    env, rng = PointMass(), np.random.default_rng(seed)
    states = np.zeros((episodes, steps + 1, 4))
    actions = np.zeros((episodes, steps, 2))
    for e in range(episodes):
        env.reset(seed=int(rng.integers(1 << 30)))
        states[e, 0] = env.get_state()
        a = rng.uniform(-1, 1, 2)
        for t in range(steps):
            a = np.clip(0.7 * a + 0.5 * rng.normal(size=2), -1, 1)
            env.step(a)
            actions[e, t], states[e, t + 1] = a, env.get_state()
    s, a = torch.tensor(states, dtype=torch.float32), torch.tensor(actions, dtype=torch.float32)
    cut = episodes * 3 // 4
    return SimpleNamespace(train=Split(s[:cut], a[:cut]), val=Split(s[cut:], a[cut:]),
                           content_hash="stand-in")


PLANNER = gbp_planner(10)


SMALL = TrainConfig(steps=30, batch_size=32, awm_steps=10, owm_rounds=2, owm_rollouts=6, owm_steps=10,
                    gap_episodes=6, checkpoint_every=10, model_options={"hidden": 32, "layers": 2})


@pytest.fixture(scope="module")
def dataset():
    return make_dataset()


def fit_kwargs(dataset, tmp_path):
    return dict(home=tmp_path, config=SMALL, progress=False, dataset=dataset, sim_env=PointMass(),
                planner=PLANNER)


def test_state_model_normalises_and_rollout_gradients_reach_every_action(dataset):
    model = StateWorldModel.from_dataset(dataset, "pointmass", frameskip=5, hidden=32)
    assert model.action_dim == 10 and model.latent_dim == 4
    z = model.encode(dataset.train.states.reshape(-1, 4))
    assert torch.allclose(z.mean(0), torch.zeros(4), atol=1e-4)
    assert torch.allclose(z.std(0), torch.ones(4), atol=1e-3)
    assert torch.equal(model.goal_weights, torch.ones(4))
    actions = torch.zeros(3, 4, 10, requires_grad=True)
    traj = model.rollout(z[:3], actions)
    assert traj.shape == (3, 5, 4) and torch.equal(traj[:, 0], z[:3])
    traj[:, -1].pow(2).sum().backward()
    assert (actions.grad.abs().sum(dim=(0, 2)) > 0).all()
    with pytest.raises(ValueError, match="frameskip 5"):
        model.step(z[:3], torch.zeros(3, 2))


@pytest.mark.parametrize("make", [
    lambda: StateWorldModel("pusht", 7, angle_dims=[4], hidden=32, n_models=2),
    lambda: StateWorldModel("pusht", 7, layers=0),
    lambda: PixelWorldModel("pointmass", image_size=16, code_dim=8, channels=4, hidden=32, history=3),
])
def test_the_fused_no_grad_rollout_is_bit_identical_to_stepping(make):
    torch.manual_seed(0)
    model = make()
    with torch.no_grad():
        for p in model.dynamics.parameters():
            p.add_(0.1 * torch.randn_like(p))
        model.dynamics.action_mean.normal_()
        model.dynamics.action_std.uniform_(0.5, 2)
    z0, actions = torch.randn(50, model.latent_dim), torch.rand(50, 4, model.action_dim) * 2 - 1
    stepped = rollout(model.step, z0, actions, chunk=16)
    with torch.no_grad():
        assert torch.equal(model.dynamics.rollout(z0, actions, chunk=16), stepped)
        assert torch.equal(model.rollout(z0[:3], actions[:3]), rollout(model.step, z0[:3], actions[:3]))
        assert model.rollout(z0, actions[:, :0]).shape == (50, 1, model.latent_dim)
        with pytest.raises(ValueError, match="frameskip 5"):
            model.rollout(z0, actions[..., :2])


def test_fgsm_stays_in_radius_and_beats_random_and_zero_perturbations(dataset):
    cfg = TrainConfig(eps_latent=0.1, eps_action=0.1)
    model = StateWorldModel.from_dataset(dataset, "pointmass", hidden=32)
    z, a = window_latents(model, dataset.train, cfg)
    z, a = z[:256], a[:256]
    z_in, target = z[:, :-1], z[:, 1:]
    eps_z, eps_a = attack_radii(z_in, a, cfg)
    gen = torch.Generator().manual_seed(0)
    z_adv, a_adv = perturb(model, z_in, a, target, eps_z, eps_a, 1, gen)
    assert ((z_adv - z_in).abs() <= eps_z + 1e-6).all() and ((a_adv - a).abs() <= eps_a + 1e-6).all()
    assert (z_adv - z_in).abs().max() > 0.5 * eps_z.min()
    rand_z = z_in + (torch.rand(z_in.shape, generator=gen) * 2 - 1) * eps_z
    rand_a = a + (torch.rand(a.shape, generator=gen) * 2 - 1) * eps_a
    adv = one_step_loss(model, z_adv, a_adv, target)
    assert adv > one_step_loss(model, rand_z, rand_a, target)
    assert adv > one_step_loss(model, z_in, a, target)
    z_pgd, _ = perturb(model, z_in, a, target, eps_z, eps_a, 3, gen)
    assert ((z_pgd - z_in).abs() <= eps_z + 1e-6).all()


def test_owm_round_adds_simulator_true_transitions(dataset):
    cfg = TrainConfig(owm_rollouts=4)
    model = StateWorldModel.from_dataset(dataset, "pointmass", hidden=32)
    env = PointMass()
    states, actions = collect_round(model, env, dataset.train, cfg, PLANNER, seed=3)
    assert states.shape == (4, 6, 4) and actions.shape == (4, 5, 10)
    assert actions.abs().max() <= 1
    for i, h in [(0, 0), (2, 3)]:
        env.reset(options={"state": states[i, h].double().numpy(), "goal": states[i, -1].double().numpy()})
        for k in range(5):
            env.step(actions[i, h, 2 * k:2 * k + 2].numpy())
        np.testing.assert_allclose(env.get_state(), states[i, h + 1].numpy(), atol=1e-5)


def test_a_checkpoint_save_onto_a_full_disk_names_the_file_and_keeps_the_old_one(dataset, tmp_path,
                                                                                monkeypatch):
    model = StateWorldModel.from_dataset(dataset, "pointmass", hidden=32, n_models=2)
    path = checkpoint.save(model, tmp_path / "m.pt")
    old = path.read_bytes()
    with monkeypatch.context() as patch, pytest.raises(OSError) as caught:
        fill_disk(patch, 1000)
        checkpoint.save(model, path)  # not torch's "enforce fail at inline_container.cc"
    assert caught.value.errno == errno.ENOSPC and caught.value.filename == str(path)
    assert path.read_bytes() == old and [p.name for p in tmp_path.iterdir()] == ["m.pt"]


def test_checkpoint_round_trip_and_clear_errors(dataset, tmp_path):
    model = StateWorldModel.from_dataset(dataset, "pointmass", hidden=32, n_models=2)
    model.metadata["variant"] = "base"
    path = checkpoint.save(model, tmp_path / "m.pt")
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt"]  # no temporary file left
    loaded = checkpoint.load(path)
    z, a = torch.randn(5, 4), torch.rand(5, 3, 10) * 2 - 1
    assert torch.equal(loaded.rollout(z, a), model.eval().rollout(z, a))
    assert loaded.metadata["variant"] == "base" and loaded.config == model.config
    assert set(torch.load(path, weights_only=True)) >= {"class_path", "config", "state_dict"}
    bad = tmp_path / "bad.pt"
    bad.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ValueError, match="bad.pt.*corrupt"):
        checkpoint.load(bad)
    with pytest.raises(FileNotFoundError, match="missing.pt"):
        checkpoint.load(tmp_path / "missing.pt")
    payload = torch.load(path, weights_only=True)
    payload["config"]["hidden"] = 64
    torch.save(payload, tmp_path / "edited.pt")
    with pytest.raises(ValueError, match="edited.pt fails its content hash check"):
        checkpoint.load(tmp_path / "edited.pt")
    payload["content_sha256"] = checkpoint.content_hash(payload)  # consistent, but for another architecture
    torch.save(payload, tmp_path / "mismatch.pt")
    with pytest.raises(ValueError, match="mismatch.pt.*does not match"):
        checkpoint.load(tmp_path / "mismatch.pt")


def test_a_checkpoint_with_flipped_weight_bytes_is_refused(tmp_path):
    model = StateWorldModel("pointmass", 4, hidden=16, layers=1)
    path = checkpoint.save(model, tmp_path / "m.pt")
    raw = bytearray(path.read_bytes())
    weight = model.dynamics.nets[0][0].weight.detach().numpy().tobytes()
    at = raw.find(weight[:64])
    assert at > 0
    raw[at + 3] ^= 0x7F  # one float's exponent: the weight becomes huge, the file stays loadable
    flipped = tmp_path / "flipped.pt"
    flipped.write_bytes(bytes(raw))
    assert torch.load(flipped, weights_only=True)["state_dict"]  # torch itself does not notice
    with pytest.raises(ValueError, match="flipped.pt fails its content hash check"):
        checkpoint.load(flipped)
    identity = checkpoint.identity_hash(checkpoint.read(path))
    assert checkpoint.load(path).metadata["checkpoint_hash"] == identity


def test_retraining_with_the_same_seed_gives_the_same_identity(dataset, tmp_path):
    """The identity (class, config, weights) is reproducible; the file's content hash, which covers the
    metadata's wall-clock times, is not, and stays the tamper check."""
    kwargs = {**fit_kwargs(dataset, tmp_path), "diagnose": False}
    first, second = (train("pointmass", **{**kwargs, "home": tmp_path / run}) for run in ("a", "b"))
    assert first.read_bytes() != second.read_bytes()
    assert checkpoint.read(first)["content_sha256"] != checkpoint.read(second)["content_sha256"]
    identities = [checkpoint.load(path).metadata["checkpoint_hash"] for path in (first, second)]
    assert identities[0] == identities[1]
    other = train("pointmass", **{**kwargs, "home": tmp_path / "c", "seed": 1})
    assert checkpoint.load(other).metadata["checkpoint_hash"] != identities[0]


@pytest.mark.parametrize("variant", ["base", "awm", "owm"])
def test_interrupted_training_resumes_to_identical_weights(dataset, tmp_path, monkeypatch, variant):
    cfg = dataclasses.replace(SMALL, checkpoint_every=5, eval_every=4)  # validation state spans checkpoints
    kwargs = {**fit_kwargs(dataset, tmp_path), "config": cfg, "diagnose": False, "variant": variant}
    straight = checkpoint.load(train("pointmass", **{**kwargs, "home": tmp_path / "a"}))
    if variant != "base":
        train("pointmass", **{**kwargs, "home": tmp_path / "b", "variant": "base"})
    save = interrupt_unfinished_saves(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        train("pointmass", **{**kwargs, "home": tmp_path / "b"})
    path = checkpoint_path("pointmass", variant=variant, home=tmp_path / "b")
    assert checkpoint.read(path)["training"]["step"] == 5
    monkeypatch.setattr(checkpoint, "save", save)
    resumed = checkpoint.load(train("pointmass", **{**kwargs, "home": tmp_path / "b"}))
    for k, v in straight.state_dict().items():
        assert torch.equal(v, resumed.state_dict()[k]), k
    assert straight.metadata["training"]["curve"] == resumed.metadata["training"]["curve"]
    assert checkpoint.read(path)["training"]["complete"]
    with pytest.raises(ValueError, match="other settings.*overwrite"):
        train("pointmass", **{**kwargs, "home": tmp_path / "b", "config": dataclasses.replace(cfg, steps=31)})


@pytest.mark.parametrize("variant", ["awm", "owm"])
def test_variants_fine_tune_from_base_and_store_diagnostics(dataset, tmp_path, variant):
    path = train("pointmass", variant=variant, **fit_kwargs(dataset, tmp_path))
    assert checkpoint_path("pointmass", variant="base", home=tmp_path).exists()
    base = checkpoint.load(checkpoint_path("pointmass", variant="base", home=tmp_path))
    model = checkpoint.load(path)
    meta = model.metadata
    assert meta["variant"] == variant and meta["dataset_hash"] == "stand-in"
    assert meta["training"]["steps"] == (10 if variant == "awm" else 20)
    diag = meta["diagnostics"]
    assert {"val_one_step_mse", "val_rollout_mse", "gap_expert_mse", "gap_plan_mse", "gap_ratio"} <= set(diag)
    assert all(np.isfinite(v) for v in diag.values())
    changed = any(not torch.equal(v, model.state_dict()[k]) for k, v in base.state_dict().items())
    assert changed
    training = checkpoint.read(path)["training"]
    if variant == "owm":
        assert training["replay_states"].shape == (12, 6, 4)
    else:
        assert training["radii"][0].shape == (4,)


def test_pixel_model_pretrains_then_freezes_its_encoder(dataset, tmp_path):
    options = dict(image_size=16, channels=8, code_dim=8, hidden=32)
    torch.manual_seed(0)
    untrained = PixelWorldModel("pointmass", **options)
    model = PixelWorldModel.from_dataset(dataset, "pointmass", seed=0, ae_steps=60, renderer=PointMass(),
                                         progress=False, **options)
    frames = model.render(dataset.val.states[:, 0])
    assert frames.shape == (len(frames), 16, 16, 3) and frames.dtype == torch.uint8
    x = model._float(frames)
    with torch.no_grad():
        assert torch.nn.functional.mse_loss(model.autoencoder(x), x) < torch.nn.functional.mse_loss(
            untrained.autoencoder(x), x)
    assert not any(p.requires_grad for p in model.autoencoder.parameters())
    encoder = {k: v.clone() for k, v in model.autoencoder.state_dict().items()}
    dynamics = {k: v.clone() for k, v in model.dynamics.state_dict().items()}
    cfg = TrainConfig(batch_size=16)
    data = window_latents(model, dataset.train, cfg)
    assert model.history == 3 and model.frame_dim == 8 and model.latent_dim == 24
    assert data[0].shape[-1] == 24 and data[1].shape[-1] == 10
    assert model.goal_weights.tolist() == [0.0] * 16 + [1.0] * 8
    run_steps(model, make_optimizer(model, 1e-3, cfg), torch.Generator().manual_seed(0), 0, 5,
              base_step_fn(model, data, cfg), cfg, progress=False)
    assert all(torch.equal(v, model.autoencoder.state_dict()[k]) for k, v in encoder.items())
    assert not all(torch.equal(v, model.dynamics.state_dict()[k]) for k, v in dynamics.items())
    loaded = checkpoint.load(checkpoint.save(model, tmp_path / "pixel.pt"))
    loaded.renderer = PointMass()
    states = dataset.val.states[:3, :2]
    assert torch.allclose(loaded.encode_states(states), model.encode_states(states))
    assert loaded.encode_states(states).shape == (3, 2, 8)
    z0 = still_window(loaded.encode(frames[:3]), 3)
    assert loaded.rollout(z0, torch.zeros(3, 2, 10)).shape == (3, 3, 24)


def random_walk_dataset(env, episodes=4, steps=30, seed=0):
    """A tiny dataset of random-action episodes in ``env`` (for checks against the real simulators)."""
    rng = np.random.default_rng(seed)
    states, actions = [], []
    for e in range(episodes):
        env.reset(seed=seed + e)
        ep_s, ep_a = [env.get_state()], rng.uniform(-1, 1, (steps, 2))
        for a in ep_a:
            env.step(a)
            ep_s.append(env.get_state())
        states.append(ep_s)
        actions.append(ep_a)
    split = Split(torch.tensor(np.array(states), dtype=torch.float32), torch.tensor(np.array(actions),
                                                                                  dtype=torch.float32))
    return SimpleNamespace(train=split, val=split, content_hash="random-walk")


@pytest.mark.parametrize("name", ["pointmaze", "pusht", "wall"])
def test_owm_transitions_match_the_real_simulator(name):
    env = make_env(name)
    data = random_walk_dataset(env)
    model = StateWorldModel.from_dataset(data, name, hidden=32)
    states, actions = collect_round(model, env, data.train, TrainConfig(owm_rollouts=2), PLANNER, seed=1)
    check = make_env(name)
    for i in range(2):
        check.reset(options={"state": states[i, 2].double().numpy(), "goal": states[i, -1].double().numpy()})
        for k in range(5):
            check.step(actions[i, 2, 2 * k:2 * k + 2].numpy())
        np.testing.assert_allclose(check.get_state(), states[i, 3].numpy(), rtol=1e-4, atol=1e-4)


def test_custom_model_class_path_trains_and_reloads(dataset, tmp_path):
    cls_path = "wmbench.models.state_model:StateWorldModel"
    path = train("pointmass", model=cls_path, **fit_kwargs(dataset, tmp_path), diagnose=False)
    assert checkpoint.read(path)["class_path"] == cls_path
    assert isinstance(checkpoint.load(path), StateWorldModel)
    with pytest.raises(ValueError, match="model must be one of"):
        train("pointmass", model="nonsense", **fit_kwargs(dataset, tmp_path))
    with pytest.raises(ImportError, match="no_such_module"):
        train("pointmass", model="no_such_module:Model", **fit_kwargs(dataset, tmp_path))


def test_state_model_encodes_angles_as_cos_sin_and_weighs_goal_dims():
    g = torch.Generator().manual_seed(0)
    states = torch.rand(4, 6, 7, generator=g) * torch.tensor([512, 512, 512, 512, 6.28, 50, 50])
    data = SimpleNamespace(train=SimpleNamespace(states=states, actions=torch.rand(4, 5, 2, generator=g)))
    model = StateWorldModel.from_dataset(data, "pusht", frameskip=1, hidden=16)
    assert model.latent_dim == 8
    # latent layout: agent xy, block xy, agent velocity, cos(angle), sin(angle); velocities do not count
    assert model.goal_weights.tolist() == [1, 1, 1, 1, 0, 0, 1, 1]
    near_seam = torch.tensor([[100, 100, 200, 200, 0.01, 0, 0], [100, 100, 200, 200, 6.2732, 0, 0]])
    z = model.encode(near_seam)
    assert torch.allclose(z[0], z[1], atol=0.05)
    reloaded = StateWorldModel(**model.config)
    assert reloaded.goal_weights.tolist() == model.goal_weights.tolist()
