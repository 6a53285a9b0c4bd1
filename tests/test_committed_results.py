"""The committed reports are exactly what `wmbench report` makes of the committed Parquet."""

from pathlib import Path

import pytest

from wmbench.report import report

REPO = Path(__file__).resolve().parents[1]
RESULTS = sorted(p.parent.relative_to(REPO) for pattern in ("*/leaderboard.md", "*/*/leaderboard.md")
                 for p in (REPO / "results").glob(pattern))
#: Studies of several results folders (``wmbench reproduce scaling``): the folder of SCALING.md, its parts'
#: folders.
SCALING = sorted(p.parent.relative_to(REPO) for p in (REPO / "results").glob("*/SCALING.md"))
#: The repository's front-page leaderboard: the quick results and every committed submission.
FRONT = [Path("results/quick"), *sorted(p.parent.relative_to(REPO) for p in (REPO / "submissions").glob(
    "*/submission.json"))]
FRONT_PLOTS = Path("results/front/plots")


def test_there_are_committed_results():
    assert FRONT[0] in RESULTS and {p.name for p in RESULTS} >= {"quick", "table1-quick", "budget-quick"}


@pytest.mark.slow
@pytest.mark.parametrize("results", RESULTS, ids=str)
def test_committed_reports_regenerate_byte_for_byte(results, tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    report(results, tmp_path, command=f"wmbench report {results.as_posix()}", plots_dir=tmp_path / "plots")
    written = sorted(p.name for p in tmp_path.glob("*.md"))
    assert written == sorted(p.name for p in results.glob("*.md"))
    for name in written:
        assert (tmp_path / name).read_text() == (results / name).read_text(), f"{results / name} is stale"


@pytest.mark.slow
def test_front_page_leaderboard_regenerates_byte_for_byte(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    folders = " ".join(p.as_posix() for p in FRONT)
    report(FRONT, tmp_path, command=f"wmbench report {folders} --out . --plots {FRONT_PLOTS.as_posix()}",
           plots_dir=tmp_path / FRONT_PLOTS)
    assert (tmp_path / "leaderboard.md").read_text() == (REPO / "leaderboard.md").read_text()


@pytest.mark.slow
@pytest.mark.parametrize("study", SCALING, ids=str)
def test_committed_scaling_reports_regenerate_byte_for_byte(study, tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    folders = sorted(p.parent for p in study.glob("*/parts"))
    command = f"wmbench report {' '.join(p.as_posix() for p in folders)} --out {study.as_posix()}"
    report(folders, tmp_path, command=command, plots_dir=tmp_path / "plots")
    assert (tmp_path / "SCALING.md").read_text() == (study / "SCALING.md").read_text(), f"{study} is stale"
