"""Paired statistics against statsmodels and a published worked example; episode matching."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep

from wmbench.report.paired import align, holm, mcnemar_exact, newcombe_interval, paired_difference
from wmbench.report.stats import difference_interval

# hand-made paired tables (both, only_first, only_second, neither)
TABLES = [(59, 6, 16, 80), (10, 0, 0, 5), (3, 7, 0, 10), (40, 12, 5, 43), (0, 1, 9, 0), (25, 25, 25, 25)]


@pytest.mark.parametrize("table", TABLES)
def test_exact_mcnemar_matches_statsmodels(table):
    both, only_first, only_second, neither = table
    expected = mcnemar([[both, only_first], [only_second, neither]], exact=True).pvalue
    assert mcnemar_exact(only_first, only_second) == pytest.approx(expected, rel=1e-12)


def test_holm_matches_statsmodels():
    p = np.random.default_rng(0).uniform(0, 0.2, 25).tolist() + [0.001, 0.001, 1.0]
    assert holm(p) == pytest.approx(multipletests(p, method="holm")[1].tolist(), rel=1e-12)
    assert holm([]) == []


def test_newcombe_interval_matches_the_published_worked_example():
    # complete response before/after consolidation therapy, 161 patients: 59 both, 6 before only, 16 after
    # only, 80 neither; the textbook gives -0.0621 (95% CI -0.1186 to -0.0046) for Newcombe's method and
    # P = 0.052479 for the exact conditional McNemar test
    before = [True] * 65 + [False] * 96
    after = [True] * 59 + [False] * 6 + [True] * 16 + [False] * 80
    diff = paired_difference(before, after)
    assert (diff.n, diff.both, diff.only_first, diff.only_second, diff.neither) == (161, 59, 6, 16, 80)
    assert diff.difference == pytest.approx(-0.0621, abs=5e-5)
    assert (diff.low, diff.high) == pytest.approx((-0.1186, -0.0046), abs=5e-5)
    assert diff.p_value == pytest.approx(0.052479, abs=5e-7)


@pytest.mark.parametrize("table", TABLES)
def test_newcombe_interval_is_antisymmetric_and_contains_the_estimate(table):
    both, only_first, only_second, neither = table
    low, high = newcombe_interval(*table)
    swapped = newcombe_interval(both, only_second, only_first, neither)
    assert swapped == pytest.approx((-high, -low), abs=1e-12)
    estimate = (only_first - only_second) / sum(table)
    assert -1 <= low <= estimate <= high <= 1 and high - low > 0


def test_newcombe_interval_without_episodes_is_nan():
    assert all(math.isnan(x) for x in newcombe_interval(0, 0, 0, 0))
    with pytest.raises(ValueError, match="equal-length"):
        paired_difference([True], [True, False])


def _episodes(successes, model_seed=0, task_suite_sha256="s", tasks=None):
    tasks = range(len(successes)) if tasks is None else tasks
    return pd.DataFrame({"task_suite_sha256": task_suite_sha256, "split": "test", "task": list(tasks),
                         "seed": 0, "model_seed": model_seed, "success": successes})


def test_align_matches_episodes_one_to_one():
    first = _episodes([True, False, True], tasks=[2, 0, 1])
    second = _episodes([False, True, True, True], tasks=[0, 1, 2, 3])
    a, b = align(first, second)
    assert a.tolist() == [False, True, True] and b.tolist() == [False, True, True]  # tasks 0, 1, 2
    # one model each (e.g. the Oracle's simulator, seed -1): matched on the episode alone
    a, _ = align(_episodes([True, False], model_seed=3), _episodes([True, True], model_seed=-1))
    assert a.tolist() == [True, False]
    # the same set of model seeds: matched per model
    two = pd.concat([_episodes([True, True], model_seed=0), _episodes([False, False], model_seed=1)])
    a, b = align(two, two.iloc[::-1])
    assert a.tolist() == b.tolist() and len(a) == 4
    # several models against one, another task suite, no shared tasks: nothing to match
    assert align(two, _episodes([True, True], model_seed=0)) is None
    assert align(first, _episodes([True] * 3, task_suite_sha256="other")) is None
    assert align(first, _episodes([True], tasks=[9])) is None


@pytest.mark.parametrize(("s1", "n1", "s2", "n2"), [(7, 34, 1, 34), (0, 10, 10, 10), (40, 100, 38, 120)])
def test_unpaired_difference_interval_matches_statsmodels(s1, n1, s2, n2):
    expected = confint_proportions_2indep(s1, n1, s2, n2, method="newcomb")
    assert difference_interval(s1, n1, s2, n2) == pytest.approx(expected, abs=1e-12)
