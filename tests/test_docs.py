"""The guides' code blocks run: each page's ``python`` and ``bash`` blocks in order, like a reader would.

Python blocks of a page share one namespace; bash blocks run in ``bash -euo pipefail``. Both run in a fresh
working directory holding a copy of ``examples/`` and of ``results/quick`` (its Parquet parts and sweep
manifests), against one temporary ``WMBENCH_HOME`` whose Wall dataset
is the real small build and whose world models (the base state model and the linear plugin) are trained for
20 steps, so the guides' ``wmbench train`` blocks are the illustrative ones. A block preceded by the line
``<!-- docs-test: skip (REASON) -->`` is not run (documented in ``docs/index.md``); a block whose only line is
a snippet include ``--8<-- "PATH"`` runs that file of the repository.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from wmbench import data, training
from wmbench.training import TrainConfig

ROOT = Path(__file__).resolve().parents[1]
GUIDES = sorted((ROOT / "docs" / "guides").glob("*.md"))
BLOCK = re.compile(r"(?:^<!-- docs-test: skip \((?P<skip>[^)]*)\) -->\n)?"
                   r"^```(?P<lang>\w*)[^\n]*\n(?P<code>.*?)^```", re.M | re.S)
SNIPPET = re.compile(r'^--8<-- "(?P<path>[^"]+)"\n$')
TINY = TrainConfig(steps=20, checkpoint_every=20)
#: Illustrative blocks allowed across all guides (each needs a reason).
MAX_SKIPPED = 4


def blocks(page: Path | str) -> list[tuple[str, str, str | None]]:
    """``(language, code, skip reason or None)`` of every fenced block of ``page`` (a path or the page's
    text), snippets resolved."""
    found = []
    for match in BLOCK.finditer(page.read_text() if isinstance(page, Path) else page):
        code = match["code"]
        snippet = SNIPPET.match(code)
        if snippet:
            code = (ROOT / snippet["path"]).read_text()
        found.append((match["lang"], code, match["skip"]))
    return found


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache with the small Wall dataset and 20-step world models: state base and the linear plugin."""
    home = tmp_path_factory.mktemp("home")
    data.build(data.default_dataset("wall"), "small", home=home, workers=1, progress=False)
    sys.path.insert(0, str(ROOT / "examples"))
    try:
        for model in ("state", "linear_world_model:LinearWorldModel"):
            training.train("wall", model, "base", "small", home=home, config=TINY, progress=False,
                           diagnose=False)
    finally:
        sys.path.remove(str(ROOT / "examples"))
    return home


def test_skip_marker_skips_exactly_the_next_block():
    page = ("```bash\nwmbench data list\n```\n\n<!-- docs-test: skip (trains for an hour) -->\n"
            "```bash\nwmbench train pusht\n```\n\n```python\nprint(1)\n```\n")
    assert blocks(page) == [("bash", "wmbench data list\n", None), ("bash", "wmbench train pusht\n",
                                                                      "trains for an hour"),
                            ("python", "print(1)\n", None)]


def test_guides_mark_few_blocks_illustrative_and_give_reasons():
    skipped = [reason for page in GUIDES for _, _, reason in blocks(page) if reason is not None]
    assert all(reason.strip() for reason in skipped)
    assert len(skipped) <= MAX_SKIPPED
    assert {page.stem for page in GUIDES} == {"submit-a-planner", "reproduce", "compare-curves"}


@pytest.mark.slow
@pytest.mark.parametrize("page", GUIDES, ids=[p.stem for p in GUIDES])
def test_guide_code_blocks_run(page: Path, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    shutil.copytree(ROOT / "results" / "quick", tmp_path / "results" / "quick",
                    ignore=shutil.ignore_patterns("plots", "*.md"))
    env = {**os.environ, "WMBENCH_HOME": str(home), "TQDM_DISABLE": "1",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WMBENCH_HOME", str(home))
    namespace: dict = {"__name__": f"docs_{page.stem.replace('-', '_')}"}
    ran = 0
    for k, (lang, code, skip) in enumerate(blocks(page)):
        if skip is not None or lang not in ("python", "bash"):
            continue
        if lang == "python":
            exec(compile(code, f"{page.name} block {k}", "exec"), namespace)
        else:
            done = subprocess.run(["bash", "-euo", "pipefail", "-c", code], cwd=tmp_path, env=env,
                                  capture_output=True, text=True, timeout=600)
            assert done.returncode == 0, f"{page.name} block {k}:\n{code}\n{done.stdout}\n{done.stderr}"
        ran += 1
    assert ran >= 2


@pytest.mark.slow
def test_the_docs_overview_picture_is_what_the_committed_results_draw():
    spec = importlib.util.spec_from_file_location("mkdocs_hooks", ROOT / "mkdocs_hooks.py")
    hooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hooks)
    drawn = hooks.overview_png(ROOT / "results" / "quick")
    assert (ROOT / "docs" / "assets" / "overview-quick.png").read_bytes() == drawn, \
        "docs/assets/overview-quick.png is stale: `make docs` redraws it"
    assert (ROOT / "results" / "quick" / "plots" / "overview.png").read_bytes() == drawn

