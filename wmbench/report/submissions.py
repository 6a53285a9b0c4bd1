"""Submissions: a folder of result parts run under a named protocol through the frozen reference models,
with a small manifest, checked by ``wmbench validate`` before it stands beside the reference entries.

A submission folder (by convention ``submissions/NAME/``) holds what ``wmbench eval --protocol P --results
DIR`` wrote (``parts/``, ``sweeps/``) and ``submission.json``::

    {"name": "random-shooting", "entries": ["random_shooting:RandomShooting"], "protocol": "quick",
     "source": "random_shooting.py", "command": "PYTHONPATH=... wmbench eval --protocol quick ..."}

``source`` is the planner's code inside the folder (a module file, or a package directory): its hash must be
the rows' ``planner_source_sha256``, so anyone can see which code made the rows. :func:`validate` checks the
manifest, the rows (schema and integrity), that every unit of the sweeps has results without errors, and that
every row ran under the named protocol as defined now, on the task suites as shipped now and through the
frozen models the protocol plans through.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from wmbench.harness import manifest
from wmbench.harness.schema import read_results
from wmbench.protocols import get_protocol
from wmbench.registry import source_sha256
from wmbench.report.integrity import check

MANIFEST = "submission.json"
_KEYS = ("name", "entries", "protocol", "source", "command")


@dataclass(frozen=True)
class Submission:
    """A validated submission: its manifest and how many rows it holds."""

    name: str
    entries: tuple[str, ...]
    protocol: str
    command: str
    rows: int


def _manifest(folder: Path) -> dict:
    path = folder / MANIFEST
    try:
        body = json.loads(path.read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"{path} is missing: a submission folder needs its manifest (keys "
                                f"{', '.join(_KEYS)}; see docs/guides/submit-a-planner.md)") from None
    except ValueError as exc:
        raise ValueError(f"{path} is not valid JSON ({exc})") from None
    missing = [key for key in _KEYS if key not in body]
    if not isinstance(body, dict) or missing:
        raise ValueError(f"{path} lacks {', '.join(missing) or 'its keys'}; give {', '.join(_KEYS)}")
    return body


def _first(rows: pd.DataFrame, bad: pd.Series) -> str:
    row = rows[bad].iloc[0]
    where = f"{row['env']} ({row['mode']}, level {row['level']})"
    return f"{int(bad.sum())} row(s), e.g. {row['entry']} on {where}"


def validate(folder: str | Path) -> Submission:
    """Check a submission folder (see the module docstring); one-line ``ValueError`` naming the first
    problem and its fix."""
    from wmbench import tasks
    from wmbench.models.checkpoint import checkpoint_path
    from wmbench.models.zoo import manifest as frozen_manifest

    folder = Path(folder)
    body = _manifest(folder)
    protocol = get_protocol(body["protocol"])
    rows = check(read_results(folder), where=str(folder)).rows
    rerun = f"rerun `{body['command']}`"
    done = manifest.check(folder)
    if done.units == 0:
        raise ValueError(f"submission {folder} has no sweep manifest (sweeps/*.json): {rerun}")
    if done.missing or done.failed:
        raise ValueError(f"submission {folder}: {done.summary(folder)}")
    unknown = sorted(set(rows["entry"]) - set(body["entries"]))
    if unknown:
        raise ValueError(f"submission {folder} has rows of entries its manifest does not list: {unknown}")
    bad = (rows["protocol"] != protocol.name) | (rows["protocol_sha256"] != protocol.sha256)
    if bad.any():
        raise ValueError(f"submission {folder}: {_first(rows, bad)} did not run under protocol "
                         f"{protocol.name} as defined now (sha256 {protocol.sha256[:12]}): {rerun}")
    suites = {(env, split): tasks.load(env, split).sha256 for env, split in
              rows[["env", "split"]].drop_duplicates().itertuples(index=False)}
    bad = rows["task_suite_sha256"] != [suites[env, split] for env, split in zip(rows["env"], rows["split"],
                                                                                 strict=True)]
    if bad.any():
        raise ValueError(f"submission {folder}: {_first(rows, bad)} ran on another task suite than the one "
                         f"shipped: {rerun}")
    frozen = frozen_manifest()  # by file name: the protocol's model kind, dataset size and training seed

    def frozen_identity(env: str, variant: str, seed: int) -> str | None:
        name = checkpoint_path(env, protocol.model, variant, protocol.dataset_size, seed, home=folder).name
        return frozen[name]["identity"] if name in frozen else None

    models = rows[~rows["upper_bound"]]
    expected = [frozen_identity(env, variant, int(seed)) for env, variant, seed in
                zip(models["env"], models["variant"], models["model_seed"], strict=True)]
    bad = pd.Series(models["checkpoint_hash"].to_numpy() != pd.Series(expected, dtype=object).to_numpy(),
                    index=models.index)
    if bad.any():
        raise ValueError(f"submission {folder}: {_first(models, bad)} planned through a world model that is "
                         "not the protocol's frozen one: rerun without --trained")
    source = folder / body["source"]
    if not source.exists():
        raise FileNotFoundError(f"submission {folder}: its source {source} is missing")
    bad = rows["planner_source_sha256"] != source_sha256(source)
    if bad.any():
        raise ValueError(f"submission {folder}: {_first(rows, bad)} came from other code than {source}: copy "
                         "the planner's code as it ran into the folder, or rerun")
    return Submission(body["name"], tuple(body["entries"]), protocol.name, body["command"], len(rows))
