"""The committed reports are exactly what `wmbench report` makes of the committed Parquet."""

import json
from pathlib import Path

import pytest

from wmbench.report import report

REPO = Path(__file__).resolve().parents[1]
RESULTS = sorted(p.parent.relative_to(REPO) for pattern in ("*/leaderboard.md", "*/*/leaderboard.md")
                 for p in (REPO / "results").glob(pattern))
#: Studies of several results folders (``wmbench reproduce scaling``): the folder of SCALING.md, its parts'
#: folders.
SCALING = sorted(p.parent.relative_to(REPO) for p in (REPO / "results").glob("*/SCALING.md"))
#: The leaderboards of the reference results with the submissions of their protocol: protocol -> (folder of
#: leaderboard.md, plots folder). The full protocol's is the repository's front page.
BOARDS = {"full": (Path("."), Path("results/front/plots")),
          "quick": (Path("submissions"), Path("results/front/quick-plots"))}


def _board(protocol: str) -> list[Path]:
    """The reference results of ``protocol`` and every committed submission run under it."""
    submissions = sorted(p.parent.relative_to(REPO) for p in (REPO / "submissions").glob("*/submission.json")
                         if json.loads(p.read_text())["protocol"] == protocol)
    return [Path("results") / protocol, *submissions]


def test_there_are_committed_results():
    assert {p.name for p in RESULTS} >= {"full", "quick", "table1-quick", "budget-quick"}
    assert len(_board("quick")) > 1  # the example submission


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
@pytest.mark.parametrize("protocol", BOARDS)
def test_leaderboards_with_submissions_regenerate_byte_for_byte(protocol, tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    out, plots = BOARDS[protocol]
    board = _board(protocol)
    folders = " ".join(p.as_posix() for p in board)
    written = tmp_path / out  # the same layout as the repository's, so the figures' relative links agree
    report(board, written, command=f"wmbench report {folders} --out {out.as_posix()} --plots "
           f"{plots.as_posix()} --no-summaries", plots_dir=tmp_path / plots, summaries=False)
    assert sorted(p.name for p in written.glob("*.md")) == ["leaderboard.md"]
    assert (written / "leaderboard.md").read_text() == (REPO / out / "leaderboard.md").read_text()


@pytest.mark.slow
@pytest.mark.parametrize("study", SCALING, ids=str)
def test_committed_scaling_reports_regenerate_byte_for_byte(study, tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    folders = sorted(p.parent for p in study.glob("*/parts"))
    command = f"wmbench report {' '.join(p.as_posix() for p in folders)} --out {study.as_posix()}"
    report(folders, tmp_path, command=command, plots_dir=tmp_path / "plots")
    assert (tmp_path / "SCALING.md").read_text() == (study / "SCALING.md").read_text(), f"{study} is stale"
