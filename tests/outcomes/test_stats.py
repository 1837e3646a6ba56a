"""The intervals against published, hand-checked values."""

import pytest

from outcomes.stats import BETTER, TOO_FEW, UNCLEAR, WORSE, Change, Rate, wilson


def test_wilson_matches_published_values():
    # Newcombe (1998), Statistics in Medicine 17:857, table I: 81/263 -> 0.2553 to 0.3662
    low, high = wilson(81, 263)
    assert low == pytest.approx(0.2553, abs=5e-5)
    assert high == pytest.approx(0.3662, abs=5e-5)
    # the edges stay inside [0, 1] and are not degenerate
    assert wilson(0, 10) == (0.0, pytest.approx(0.2775, abs=5e-5))
    assert wilson(10, 10)[1] == pytest.approx(1.0) and wilson(10, 10)[0] == pytest.approx(
        0.7225, abs=5e-5
    )


def test_wilson_refuses_impossible_counts():
    for k, n in [(1, 0), (-1, 5), (6, 5)]:
        with pytest.raises(ValueError):
            wilson(k, n)


def test_difference_interval_matches_newcombe_method_10():
    # Newcombe (1998), table II, example (a): 56/70 vs 48/80 -> difference 0.2000, 0.0524 to 0.3339
    change = Change(before=Rate(48, 80), after=Rate(56, 70))
    assert change.difference == pytest.approx(0.2, abs=5e-5)
    low, high = change.interval
    assert low == pytest.approx(0.0524, abs=5e-4)
    assert high == pytest.approx(0.3339, abs=5e-4)
    assert change.verdict == BETTER


def test_verdicts():
    assert Change(Rate(72, 100), Rate(55, 100)).verdict == WORSE
    assert Change(Rate(72, 100), Rate(55, 100), higher_is_better=False).verdict == BETTER
    assert Change(Rate(50, 100), Rate(52, 100)).verdict == UNCLEAR
    assert Change(Rate(20, 29), Rate(2, 100)).verdict == TOO_FEW
    assert Rate(0, 0).share is None and Change(Rate(0, 0), Rate(1, 2)).interval is None
