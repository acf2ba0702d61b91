"""Today's name matcher: folding, exact names, substring search, "did you mean"."""

from __future__ import annotations

import numpy as np
import pytest

from artistrec.service.search import FoldedNameMatcher, fold

NAMES = np.array(
    ["Red", "ＲＥＤ", "Sigur Rós", "Röyksopp", "Metallica", "Beatallica", "Metric", "Redman"],
    dtype=object,
)
LISTENERS = np.array([5, 9, 40, 30, 100, 3, 20, 5])


@pytest.fixture
def matcher() -> FoldedNameMatcher:
    return FoldedNameMatcher(NAMES, LISTENERS)


def test_fold_ignores_case_accents_width_and_spacing() -> None:
    assert fold("Röyksopp") == fold("ROYKSOPP") == "royksopp"
    assert fold("ＲＥＤ") == fold("red")
    assert fold("  Sigur   Rós ") == "sigur ros"


def test_exact_prefers_the_most_listened_spelling(matcher: FoldedNameMatcher) -> None:
    assert matcher.exact("red") == 1  # "ＲＥＤ" has more listeners than "Red"
    assert matcher.exact("SIGUR ROS") == 2
    assert matcher.exact("sigur") is None
    assert matcher.exact("   ") is None


def test_search_is_substring_most_listened_first(matcher: FoldedNameMatcher) -> None:
    assert matcher.search("red", 10).tolist() == [1, 0, 7]  # 9, 5, 5 listeners; ties by index
    assert matcher.search("RED", 2).tolist() == [1, 0]
    assert matcher.search("allica", 10).tolist() == [4, 5]
    assert matcher.search("", 3).tolist() == [4, 2, 3]  # no query: the most listened
    assert matcher.search("zzz", 5).size == 0


def test_suggest_substring_hits_then_close_spellings(matcher: FoldedNameMatcher) -> None:
    assert matcher.suggest("metalica", 3) == [4, 5, 6]  # Metallica, Beatallica, Metric
    assert matcher.suggest("royksop", 5) == [3]
    assert matcher.suggest("   ", 5) == []
    # hits come first, close spellings fill up; no name twice
    names = [NAMES[i] for i in matcher.suggest("red", 8)]
    assert names[:3] == ["ＲＥＤ", "Red", "Redman"] and len(set(names)) == len(names)
