"""The data-scaling report: one folder per dataset size and the Oracle's, reported together, never pooled."""

from __future__ import annotations

import pytest
from result_rows import episode_rows

from wmbench.cli import main
from wmbench.harness.schema import write_part
from wmbench.report import report

COMMAND = "wmbench reproduce scaling --preset full --model state --env pusht --n-tasks 20 --sizes small,full"
#: (size, episodes) -> entry -> successes out of 20 per level
SUCCESSES = {("small", 200): {"CEM": 4, "GBP": 2, "GBP+OWM": 3, "GBP+AWM": 2, "MPPI": 3},
             ("full", 2000): {"CEM": 15, "GBP": 5, "GBP+OWM": 9, "GBP+AWM": 4, "MPPI": 10}}


def _size_rows(size: str, episodes: int) -> list[dict]:
    rows = []
    for entry, k in SUCCESSES[size, episodes].items():
        for level in ("near", "far"):
            rows += episode_rows(entry, 30, k, n=20, budget_kind="iterations", level=level, command=COMMAND,
                                 dataset="pusht-expert-v1", dataset_size=size, dataset_episodes=episodes,
                                 checkpoint_hash=f"{size}-{entry}", protocol_sha256=size, split="test",
                                 task_suite_sha256="v2")
    return rows


def _folders(tmp_path):
    folders = []
    for size, episodes in SUCCESSES:
        write_part(_size_rows(size, episodes), tmp_path / size / "parts" / "rows.parquet")
        folders.append(tmp_path / size)
    oracle = [r for level in ("near", "far") for r in episode_rows(
        "Oracle", 30, 19, n=20, budget_kind="iterations", level=level, command=COMMAND, dataset="",
        dataset_size="", dataset_episodes=0, model_seed=-1, protocol_sha256="small", split="test",
        task_suite_sha256="v2")]
    write_part(oracle, tmp_path / "oracle" / "parts" / "rows.parquet")
    return [tmp_path / "oracle", *folders]


def test_scaling_report_tables_sizes_pairs_entries_and_names_the_headline_size(tmp_path):
    path = report(_folders(tmp_path), tmp_path / "out")
    text = path.read_text()
    assert path.name == "SCALING.md" and (tmp_path / "out" / "plots" / "scaling.png").stat().st_size > 0
    assert "| entry | small (200 episodes) | full (2000 episodes) |" in text
    assert "| CEM | 20% [8, 42] (n=20) | 75% [53, 89] (n=20) |" in text
    assert "| Oracle (simulator, ceiling) | 95% [76, 99] (n=20) | 95% [76, 99] (n=20) |" in text
    # GBP fails where CEM fails (the first k tasks succeed): 2 vs 4 and 5 vs 15 discordant pairs
    assert "| GBP − CEM | -10 [" in text and "| GBP+OWM − GBP |" in text and "p=" in text
    assert "Headline dataset size: **full** (2000 episodes)" in text
    assert text.count("### mpc, level") == 2
    again = report(_folders(tmp_path), tmp_path / "out").read_bytes()
    assert again == text.encode()


def test_a_single_scaling_folder_gets_an_ordinary_leaderboard(tmp_path):
    folders = _folders(tmp_path)
    assert report(folders[1]).name == "leaderboard.md"


@pytest.mark.parametrize("argv, message", [
    (["reproduce", "table1", "--sizes", "small"], "--sizes is for `wmbench reproduce scaling`, not table1"),
    (["reproduce", "scaling", "--sizes", "huge"], "unknown size 'huge'"),
])
def test_scaling_options_are_checked(argv, message, capsys):
    assert main(argv) == 2 and message in capsys.readouterr().err
