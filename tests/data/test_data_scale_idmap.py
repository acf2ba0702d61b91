"""Property tests of the 1-5 rating scale and of IdMap (hypothesis)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from artistrec.data import IdMap, UnknownIdError, from_levels, to_levels
from artistrec.data.scale import REPRESENTATIVE_COUNTS, check_level

counts = hnp.arrays(
    np.float64,
    st.integers(0, 200),
    elements=st.floats(0, 1e7, allow_nan=False, allow_infinity=False),
)


@given(counts)
def test_to_levels_is_monotone_and_in_range(c: np.ndarray) -> None:
    c = np.sort(c)
    lv = to_levels(c)
    assert lv.dtype == np.int8 and lv.shape == c.shape
    assert np.all(np.diff(lv.astype(int)) >= 0)
    assert np.all((lv >= 0) & (lv <= 5))
    assert np.all((lv == 0) == (c == 0))


@given(hnp.arrays(np.int64, st.integers(0, 100), elements=st.integers(0, 5)))
def test_from_levels_then_to_levels_is_identity(levels: np.ndarray) -> None:
    np.testing.assert_array_equal(to_levels(from_levels(levels)), levels)
    assert from_levels(levels).dtype == np.float32


@given(st.integers(1, 10**9))
def test_from_levels_of_to_levels_stays_in_the_same_band(count: int) -> None:
    level = to_levels([count])
    assert to_levels(from_levels(level)).tolist() == level.tolist()


@pytest.mark.parametrize(
    ("count", "level"),
    [
        (0, 0),
        (1, 1),
        (2, 2),
        (1000, 2),
        (1001, 3),
        (10000, 3),
        (10001, 4),
        (50000, 4),
        (50001, 5),
        (10**8, 5),
    ],
)
def test_level_boundaries(count: int, level: int) -> None:
    assert to_levels([count]).tolist() == [level]
    assert to_levels(np.float32(count)).item() == level


def test_representative_counts_map_to_their_levels() -> None:
    assert to_levels(REPRESENTATIVE_COUNTS).tolist() == [0, 1, 2, 3, 4, 5]


@pytest.mark.parametrize("bad", [[-1.0], [np.nan], [np.inf]])
def test_to_levels_rejects_bad_counts(bad: list[float]) -> None:
    with pytest.raises(ValueError, match="finite and non-negative"):
        to_levels(bad)


@pytest.mark.parametrize(("bad", "msg"), [([6], "0..5"), ([-1], "0..5"), ([2.5], "whole")])
def test_from_levels_rejects_bad_levels(bad: list[float], msg: str) -> None:
    with pytest.raises(ValueError, match=msg):
        from_levels(bad)


def test_check_level() -> None:
    assert check_level(np.int64(3)) == 3
    for bad in (True, 2.0, "3", 6, -1):
        with pytest.raises(ValueError):
            check_level(bad)


# ------------------------------------------------------------------------------ IdMap
unique_ids = st.lists(st.integers(-(2**40), 2**40), min_size=1, max_size=60, unique=True)


@given(unique_ids, st.data())
def test_idmap_round_trips(ids: list[int], data: st.DataObject) -> None:
    m = IdMap(np.sort(np.asarray(ids, dtype=np.int64)), "artist")
    idx = np.asarray(data.draw(st.lists(st.integers(0, len(m) - 1), max_size=50)), dtype=np.int64)
    np.testing.assert_array_equal(m.index(m.to_ids(idx)), idx)
    some = np.asarray(data.draw(st.lists(st.sampled_from(ids), max_size=50)), dtype=np.int64)
    np.testing.assert_array_equal(m.to_ids(m.index(some)), some)
    np.testing.assert_array_equal(m.index(m.ids), np.arange(len(m)))
    assert m.contains(some).all()


@given(unique_ids, st.lists(st.integers(-(2**41), 2**41), min_size=1, max_size=10))
def test_idmap_unknown_ids_raise_naming_them(ids: list[int], queries: list[int]) -> None:
    m = IdMap(np.sort(np.asarray(ids, dtype=np.int64)), "user")
    unknown = sorted(set(queries) - set(ids))
    known_mask = m.contains(queries)
    assert known_mask.tolist() == [q in set(ids) for q in queries]
    if not unknown:
        m.index(queries)
        return
    with pytest.raises(UnknownIdError) as err:
        m.index(queries)
    assert err.value.kind == "user"
    assert err.value.unknown.tolist() == unknown
    assert str(err.value).startswith("unknown user id(s): ")
    for u in unknown[:5]:
        assert str(u) in str(err.value)
    if len(unknown) > 5:
        assert f"and {len(unknown) - 5} more" in str(err.value)


def test_idmap_rejects_unsorted_and_out_of_range() -> None:
    with pytest.raises(ValueError, match="strictly increasing"):
        IdMap(np.array([3, 1]), "artist")
    with pytest.raises(ValueError, match="strictly increasing"):
        IdMap(np.array([1, 1]), "artist")
    m = IdMap(np.array([10, 20]), "artist")
    with pytest.raises(IndexError, match="out of range 0..1"):
        m.to_ids([2])
    with pytest.raises(ValueError, match="whole numbers"):
        m.index([10.5])
    assert isinstance(UnknownIdError("artist", np.array([1])), KeyError)


@pytest.mark.parametrize(
    "ids", [[1, 2, 3, 4], [5, 6, 7], [1, 3, 4, 9]], ids=["1..n", "5..7", "gaps"]
)
def test_contiguous_and_gapped_id_maps_agree_with_a_search(ids: list[int]) -> None:
    """Ids numbered first..first+n-1 take a shortcut (index = id - first); it must give
    exactly what a binary search gives, unknown ids included."""
    m = IdMap(np.asarray(ids), "artist")
    query = np.arange(-1, 12)
    expected = np.isin(query, ids)
    np.testing.assert_array_equal(m.contains(query), expected)
    np.testing.assert_array_equal(m.index(query[expected]), np.searchsorted(ids, query[expected]))
    with pytest.raises(UnknownIdError, match="unknown artist id"):
        m.index([0, ids[0]])
