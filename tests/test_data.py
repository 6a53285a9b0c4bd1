"""Tests of wmbench.data: determinism, atomic builds, validation errors, splits and windows."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
from full_disk import fill_disk
from gymnasium import spaces

import wmbench_envs
from wmbench import data
from wmbench.data import builder, store
from wmbench.data.dataset import split_episodes
from wmbench.data.manifest import read_manifest, write_manifest
from wmbench.data.rollout import mix_policy, render_states, resolve, rollout_episodes
from wmbench.data.windows import make_windows
from wmbench.io import sha256_file
from wmbench_envs.base import GoalEnv

torch.set_num_threads(1)


class ToyEnv(GoalEnv):
    """A point in the unit square moving by 0.1 x action per step."""

    state_low = np.zeros(2)
    state_high = np.ones(2)
    action_space = spaces.Box(-1.0, 1.0, (2,), dtype=np.float32)

    def _set_physics_state(self, state: np.ndarray) -> None:
        self._pos = state.copy()

    def _get_physics_state(self) -> np.ndarray:
        return self._pos

    def _physics_step(self, action: np.ndarray) -> None:
        self._pos = np.clip(self._pos + 0.1 * action, 0.0, 1.0)

    def sample_start_goal(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        return rng.uniform(0, 1, 2), rng.uniform(0, 1, 2)

    def draw(self, state: np.ndarray, size: int) -> np.ndarray:
        image = np.zeros((size, size, 3), dtype=np.uint8)
        col, row = (np.clip(state, 0, 1) * (size - 1)).round().astype(int)
        image[row, col] = 255
        return image

    @staticmethod
    def success(state: np.ndarray, goal: np.ndarray) -> np.ndarray:
        return ToyEnv.state_distance(state, goal) < 0.1

    @staticmethod
    def state_distance(state: np.ndarray, goal: np.ndarray) -> np.ndarray:
        return np.linalg.norm(np.asarray(state) - np.asarray(goal), axis=-1)


class ToyExpert:
    """Heads for the goal; ``noise`` mixes in uniform random actions."""

    def __init__(self, env: GoalEnv, noise: float = 0.0, seed: int = 0):
        self.noise, self.rng = noise, np.random.default_rng(seed)

    def reset(self, goal: np.ndarray) -> None:
        self.goal = goal

    def act(self, state: np.ndarray) -> np.ndarray:
        clean = np.clip(10 * (self.goal - state), -1, 1)
        return (1 - self.noise) * clean + self.noise * self.rng.uniform(-1, 1, 2)


class ToyPusher(ToyExpert):
    """A data policy: always pushes right at full speed."""

    def act(self, state: np.ndarray) -> np.ndarray:
        return np.array([1.0, 0.0], dtype=np.float32)


TOY = data.DatasetSpec(name="toy-expert-v0", version=0, env="toy", size="small", n_episodes=12,
                       episode_len=20, seed=3, noise_mix=((0.0, 0.5), (1.0, 0.5)))


@pytest.fixture(autouse=True)
def toy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(wmbench_envs.ENVS, "toy", ("toy-v0", f"{__name__}:ToyEnv", f"{__name__}:ToyExpert"))


@pytest.fixture
def built(tmp_path: Path) -> Path:
    data.build_spec(TOY, home=tmp_path, workers=1, progress=False)
    return tmp_path


def _files(home: Path, spec: data.DatasetSpec = TOY) -> dict[str, str]:
    directory = data.dataset_dir(spec.name, spec.size, home)
    return {p.name: sha256_file(p) for p in sorted(directory.iterdir())}


def test_registry_specs_are_consistent() -> None:
    envs = ("pointmaze", "pusht", "wall")
    assert data.list_datasets() == [f"{env}-expert-v{version}" for env in envs for version in (0, 1)]
    for name, sizes in data.DATASETS.items():
        assert {"small", "full"} <= set(sizes) <= set(data.SIZES)
        for size, spec in sizes.items():
            assert (spec.name, spec.size) == (name, size) and spec.env in wmbench_envs.ENVS
            assert name.endswith(f"-v{spec.version}")
            for entry in spec.noise_mix:  # every named data policy exists in the env's expert module
                assert isinstance(mix_policy(wmbench_envs.ENVS[spec.env][2], entry), type)
    assert data.get_spec("wall-expert-v0", "full").n_episodes == 1920
    assert data.default_dataset("wall") == "wall-expert-v1"
    with pytest.raises(KeyError, match="known datasets"):
        data.get_spec("nope")
    with pytest.raises(ValueError, match="sum to 1"):
        replace(TOY, noise_mix=((0.5, 0.7),))
    with pytest.raises(ValueError, match="policy class name"):
        replace(TOY, noise_mix=((0.5, 1.0, "not a name"),))


def test_a_mix_entry_can_name_a_data_policy(tmp_path: Path) -> None:
    spec = replace(TOY, noise_mix=((0.0, 0.5), (0.0, 0.5, "ToyPusher")))
    data.build_spec(spec, home=tmp_path, workers=1, progress=False)
    ds = data.load(spec.name, home=tmp_path)
    actions = torch.cat([ds.train.actions, ds.val.actions]).reshape(-1, 2)
    pushes = (actions == torch.tensor([1.0, 0.0])).all(-1)
    assert 0 < pushes.float().mean() < 1  # ToyPusher episodes and ToyExpert episodes
    manifest = read_manifest(data.dataset_dir(spec.name, spec.size, tmp_path))
    assert data.DatasetSpec.from_dict(manifest["spec"]) == spec


@pytest.mark.parametrize("env", ["pointmaze", "pusht", "wall"])
def test_v1_specs_are_deterministic_prefixes_of_full(env: str) -> None:
    small, full = data.get_spec(f"{env}-expert-v1", "small"), data.get_spec(f"{env}-expert-v1", "full")
    entries = wmbench_envs.ENVS[env][1:]
    first = rollout_episodes(small, entries, 6, 9)
    again = rollout_episodes(small, entries, 6, 9)
    assert all(np.array_equal(first[k], again[k]) for k in first)
    if small.episode_len == full.episode_len:
        assert np.array_equal(rollout_episodes(full, entries, 6, 9)["states"], first["states"])
    assert np.abs(first["actions"]).max() <= 1 and np.isfinite(first["states"]).all()


def test_wall_v1_data_push_the_wall_at_full_speed() -> None:
    from wmbench_envs.wall import DOOR_Y0, DOOR_Y1, WALL_X0, WALL_X1

    spec = data.get_spec("wall-expert-v1", "small")
    chunk = rollout_episodes(spec, wmbench_envs.ENVS["wall"][1:], 0, 60)
    states, actions = chunk["states"].astype(np.float64), chunk["actions"]
    y, next_x = states[:, :-1, 1], states[:, 1:, 0]
    solid = (y < DOOR_Y0) | (y > DOOR_Y1)
    horizontal = actions[..., 1] == 0
    for push, face in ((1.0, WALL_X0), (-1.0, WALL_X1)):  # pure full-speed pushes ending on each face
        contacts = (actions[..., 0] == push) & horizontal & solid & np.isclose(next_x, face)
        assert contacts.sum() >= 30, (push, contacts.sum())
    v0 = rollout_episodes(data.get_spec("wall-expert-v0", "small"), wmbench_envs.ENVS["wall"][1:], 0, 60)
    assert np.abs(v0["actions"]).max() < 1  # the gap v1 closes


def test_same_spec_same_bytes_any_worker_count_and_seed_changes_hash(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "ROW_GROUP_ROWS", 50)  # row groups of 2 episodes, across chunk boundaries
    one, two, other = tmp_path / "one", tmp_path / "two", tmp_path / "other"
    data.build_spec(TOY, home=one, workers=1, progress=False)
    data.build_spec(TOY, home=two, workers=2, progress=False)  # separate spawned processes
    data.build_spec(replace(TOY, seed=4), home=other, workers=1, progress=False)
    assert _files(one) == _files(two)
    assert pq.ParquetFile(data.dataset_dir(TOY.name, "small", one) / "steps.parquet").num_row_groups == 6
    assert data.load(TOY.name, home=one).content_hash == data.load(TOY.name, home=two).content_hash
    assert data.load(TOY.name, home=other).content_hash != data.load(TOY.name, home=one).content_hash


def test_loaded_content_matches_rollout_and_episode_prefix(built: Path) -> None:
    entries = wmbench_envs.ENVS["toy"][1:]
    direct = rollout_episodes(TOY, entries, 0, TOY.n_episodes)
    # episode i depends only on (seed, i): a different chunking gives the same episodes
    assert np.array_equal(rollout_episodes(TOY, entries, 5, 7)["states"], direct["states"][5:7])
    ds = data.load(TOY.name, home=built)
    for split in (ds.train, ds.val):
        ids = split.episodes.numpy()
        assert split.states.dtype == torch.float32 and split.states.shape == (len(ids), 21, 2)
        assert np.array_equal(split.states.numpy(), direct["states"][ids])
        assert np.array_equal(split.actions.numpy(), direct["actions"][ids])
    table = pq.read_table(ds.path / "steps.parquet")
    assert table.num_rows == 12 * 20 and table.schema.field("state").type == pa.list_(pa.float32(), 2)
    rewards = table.column("reward").to_numpy().reshape(12, 20)
    assert np.array_equal(rewards, direct["rewards"]) and np.all(rewards <= 0)
    assert direct["success"].any() and not direct["success"].all()


def test_existing_build_is_reused_and_stale_spec_is_refused(built: Path) -> None:
    manifest = data.dataset_dir(TOY.name, "small", built) / "manifest.json"
    before = manifest.stat().st_mtime_ns
    assert data.build_spec(TOY, home=built, workers=1, progress=False) == manifest.parent
    assert manifest.stat().st_mtime_ns == before
    with pytest.raises(data.DatasetError, match="different spec"):
        data.build_spec(replace(TOY, seed=9), home=built, workers=1, progress=False)
    data.build_spec(replace(TOY, seed=9), home=built, workers=1, progress=False, force=True)
    assert data.load(TOY.name, home=built).spec.seed == 9
    assert [p.name for p in manifest.parent.parent.iterdir()] == ["small"]


def test_a_truncated_build_is_not_reused(built: Path) -> None:
    steps = data.dataset_dir(TOY.name, "small", built) / "steps.parquet"
    steps.write_bytes(steps.read_bytes()[:100])
    with pytest.raises(data.DatasetError, match="truncated"):
        data.build_spec(TOY, home=built, workers=1, progress=False)
    data.build_spec(TOY, home=built, workers=1, progress=False, force=True)
    data.check_built(TOY.name, "small", built)


def test_interrupted_build_leaves_nothing_visible(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(builder, "write_manifest", crash)
    with pytest.raises(KeyboardInterrupt):
        data.build_spec(TOY, home=tmp_path, workers=1, progress=False)
    parent = data.dataset_dir(TOY.name, "small", tmp_path).parent
    assert list(parent.iterdir()) == []
    with pytest.raises(data.DatasetNotFoundError, match=f"wmbench data build {TOY.name} --size small"):
        data.load(TOY.name, home=tmp_path)
    # a build killed hard leaves a hidden temp dir of a dead process: the next build removes it
    (parent / ".small.tmp-999999999-deadbeef").mkdir()
    monkeypatch.setattr(builder, "write_manifest", write_manifest)
    data.build_spec(TOY, home=tmp_path, workers=1, progress=False)
    assert [p.name for p in parent.iterdir()] == ["small"]
    assert len(data.load(TOY.name, home=tmp_path).train) == 11


@pytest.mark.parametrize("where", ["pyarrow", "python"])
def test_a_build_onto_a_full_disk_names_the_dataset(where, tmp_path, monkeypatch, capsys) -> None:
    def pyarrow_full(*args: object) -> None:  # pyarrow's OSError names no file and has no errno
        raise OSError("Error writing bytes to file. Detail: [errno 28] No space left on device")

    with monkeypatch.context() as patch:
        if where == "pyarrow":
            patch.setattr(store.StepsWriter, "write", pyarrow_full)
        else:
            fill_disk(patch, 0)  # Python's own writes (the manifest) fail
        with pytest.raises(OSError) as caught:
            data.build_spec(TOY, home=tmp_path, workers=1, progress=False)
    final = data.dataset_dir(TOY.name, "small", tmp_path)
    assert caught.value.filename == str(final) and "No space left on device" in caught.value.strerror
    assert list(final.parent.iterdir()) == []


def test_corrupt_parquet_names_file_and_fix(built: Path) -> None:
    path = data.dataset_dir(TOY.name, "small", built) / "steps.parquet"
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(data.DatasetError, match="steps.parquet") as err:
        data.load(TOY.name, home=built)
    assert f"wmbench data build {TOY.name} --size small --force" in str(err.value)


@pytest.mark.parametrize("edit, message", [
    (lambda m: m.update(content_hash="0" * 64), "content hash"),
    (lambda m: m["spec"].update(seed=99), "content hash"),
    (lambda m: m.update(schema_version=0), "schema version"),
    (lambda m: m.update(episodes=11), "inconsistent"),
    (lambda m: m.pop("files"), "malformed"),
])
def test_edited_manifest_is_detected(built: Path, edit, message: str) -> None:
    directory = data.dataset_dir(TOY.name, "small", built)
    manifest = read_manifest(directory)
    edit(manifest)
    write_manifest(directory, manifest)
    with pytest.raises(data.DatasetError, match=message) as err:
        data.load(TOY.name, home=built)
    assert "manifest.json" in str(err.value) and "--force" in str(err.value)


def test_schema_mismatch_is_detected(built: Path) -> None:
    directory = data.dataset_dir(TOY.name, "small", built)
    path = directory / "steps.parquet"
    table = pq.read_table(path)
    values = table.column("state").combine_chunks().flatten().cast(pa.float64())
    state = pa.FixedSizeListArray.from_arrays(values, 2)
    pq.write_table(table.set_column(2, "state", state), path)
    manifest = read_manifest(directory)
    manifest["files"]["steps.parquet"].update(sha256=sha256_file(path), bytes=path.stat().st_size)
    write_manifest(directory, manifest)
    with pytest.raises(data.DatasetError, match="schema mismatch in .*steps.parquet"):
        data.load(TOY.name, home=built)


def test_garbage_manifest_and_missing_file(built: Path) -> None:
    directory = data.dataset_dir(TOY.name, "small", built)
    (directory / "steps.parquet").unlink()
    with pytest.raises(data.DatasetError, match="steps.parquet is missing"):
        data.load(TOY.name, home=built)
    (directory / "manifest.json").write_text("{not json")
    with pytest.raises(data.DatasetError, match="cannot read .*manifest.json"):
        data.load(TOY.name, home=built)


def test_check_built_reads_only_the_manifest_and_file_sizes(built: Path, tmp_path_factory) -> None:
    directory = data.dataset_dir(TOY.name, "small", built)
    assert data.check_built(TOY.name, "small", built) == directory
    with pytest.raises(data.DatasetNotFoundError, match="not built"):
        data.check_built(TOY.name, "small", tmp_path_factory.mktemp("empty"))
    steps = directory / "steps.parquet"
    raw = steps.read_bytes()
    steps.write_bytes(raw[:-10])
    with pytest.raises(data.DatasetError, match="truncated") as err:
        data.check_built(TOY.name, "small", built)
    assert f"wmbench data build {TOY.name} --size small --force" in str(err.value)
    steps.write_bytes(bytes([raw[0] ^ 0xFF]) + raw[1:])  # same size: only the full load sees it
    data.check_built(TOY.name, "small", built)
    with pytest.raises(data.DatasetError, match="sha256"):
        data.load(TOY.name, home=built)
    (directory / "manifest.json").write_text("[1, 2]")
    with pytest.raises(data.DatasetError, match="not a JSON object"):
        data.check_built(TOY.name, "small", built)
    (directory / "manifest.json").unlink()
    with pytest.raises(data.DatasetError, match="manifest.json is missing"):
        data.check_built(TOY.name, "small", built)


def test_split_is_seeded_disjoint_and_covers_all(built: Path) -> None:
    train, val = split_episodes(2000, seed=0)
    assert len(val) == 200 and len(np.intersect1d(train, val)) == 0
    assert np.array_equal(np.sort(np.concatenate([train, val])), np.arange(2000))
    assert np.array_equal(split_episodes(2000, seed=0)[1], val)
    assert not np.array_equal(split_episodes(2000, seed=1)[1], val)
    ds = data.load(TOY.name, home=built)
    assert len(ds.val) == 1 and set(ds.train.episodes.tolist()).isdisjoint(ds.val.episodes.tolist())


def test_stats_are_over_train(built: Path) -> None:
    ds = data.load(TOY.name, home=built)
    stats = ds.train.stats()
    flat = ds.train.states.reshape(-1, 2).double()
    assert torch.allclose(stats.state_mean, flat.mean(0).float())
    assert torch.allclose(stats.state_std, flat.std(0).float())
    assert torch.allclose(stats.action_mean, ds.train.actions.reshape(-1, 2).mean(0), atol=1e-6)


def test_windows_match_hand_built_episodes() -> None:
    n_episodes, horizon = 2, 10
    steps = torch.arange(horizon + 1, dtype=torch.float32)
    states = torch.stack([torch.stack([steps + 100 * e, -steps], -1) for e in range(n_episodes)])
    acts = torch.arange(horizon, dtype=torch.float32)
    actions = torch.stack([torch.stack([acts + 100 * e, acts + 0.5], -1) for e in range(n_episodes)])
    win = make_windows(states, actions, history=2, horizon=1, frameskip=3)
    n_starts = horizon - 6 + 1
    assert win.states.shape == (n_episodes * n_starts, 3, 2)
    assert win.actions.shape == (n_episodes * n_starts, 2, 6)
    k = 0
    for e in range(n_episodes):
        for t in range(n_starts):
            assert (win.episode[k], win.start[k]) == (e, t)
            assert torch.equal(win.states[k], states[e, [t, t + 3, t + 6]])
            for j in range(2):
                expected = torch.cat([actions[e, t + 3 * j + i] for i in range(3)])
                assert torch.equal(win.actions[k, j], expected)
            k += 1
    assert torch.equal(make_windows(states, actions, 1, 1, 1).states, states.unfold(1, 2, 1).transpose(2, 3)
                       .reshape(-1, 2, 2))
    with pytest.raises(ValueError, match="longer than the episodes"):
        make_windows(states, actions, history=3, horizon=5, frameskip=2)
    with pytest.raises(ValueError, match="frameskip"):
        make_windows(states, actions, history=1, horizon=1, frameskip=0)


def test_pixels_are_stored_rendered_from_states_and_windowed(tmp_path: Path) -> None:
    spec = replace(TOY, name="toy-pixels-v0", n_episodes=4, episode_len=8, obs_types=("state", "pixels"),
                   image_size=16)
    data.build_spec(spec, home=tmp_path, workers=1, progress=False)
    ds = data.load(spec.name, home=tmp_path)
    assert ds.train.pixels.shape == (3, 9, 16, 16, 3) and ds.train.pixels.dtype == torch.uint8
    expected = render_states(ToyEnv(), ds.train.states.numpy(), 16)
    assert np.array_equal(ds.train.pixels.numpy(), expected)
    win = ds.train.windows(history=1, horizon=2, frameskip=2)
    assert torch.equal(win.pixels[5], ds.train.pixels[win.episode[5], win.start[5] + torch.tensor([0, 2, 4])])
    assert win.pixels.shape == (len(win), 3, 16, 16, 3)
    data.build_spec(TOY, home=tmp_path, workers=1, progress=False)
    assert data.load(TOY.name, home=tmp_path).train.windows(1, 1, 1).pixels is None


@pytest.mark.parametrize("version", [0, 1])
@pytest.mark.parametrize("env", ["pointmaze", "pusht", "wall"])
def test_tiny_real_dataset(tmp_path: Path, env: str, version: int) -> None:
    env_cls = resolve(wmbench_envs.ENVS[env][1])
    mix = data.get_spec(f"{env}-expert-v{version}").noise_mix
    spec = data.DatasetSpec(name=f"tiny-{env}", version=0, env=env, size="small", n_episodes=3,
                            episode_len=12, seed=0, noise_mix=mix)
    data.build_spec(spec, home=tmp_path, workers=1, progress=False)
    ds = data.load(spec.name, home=tmp_path)
    probe = env_cls()
    states = torch.cat([ds.train.states, ds.val.states])
    assert states.shape == (3, 13, probe.state_dim) and torch.isfinite(states).all()
    assert ds.train.actions.abs().max() <= 1.0 and ds.train.actions.std() > 0
    assert (states[:, 1:] != states[:, :-1]).any()


def test_registered_small_build_and_prefix_of_full(tmp_path: Path) -> None:
    path = data.build("wall-expert-v0", home=tmp_path, workers=1, progress=False)
    assert path == tmp_path / "datasets" / "wall-expert-v0" / "small"
    ds = data.load("wall-expert-v0", home=tmp_path)
    assert (len(ds.train), len(ds.val)) == (180, 20)
    win = ds.val.windows(history=1, horizon=5, frameskip=5)
    assert win.states.shape == (20 * (50 - 25 + 1), 6, 2) and win.actions.shape == (20 * 26, 5, 10)
    small, full = data.get_spec("wall-expert-v0", "small"), data.get_spec("wall-expert-v0", "full")
    entries = wmbench_envs.ENVS["wall"][1:]
    episode = int(ds.train.episodes[0])
    assert np.array_equal(rollout_episodes(full, entries, episode, episode + 1)["states"][0],
                          ds.train.states[0].numpy())
    assert np.array_equal(rollout_episodes(small, entries, 0, 2)["actions"],
                          rollout_episodes(full, entries, 0, 2)["actions"])
