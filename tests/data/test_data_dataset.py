"""Dataset attributes (docs/ARCHITECTURE.md) and Dataset.with_interactions on the MINI data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hetrec_fixtures import write_mini

from artistrec.data import Dataset, load_dataset


@pytest.fixture()
def ds(mini_dir: Path) -> Dataset:
    return load_dataset(mini_dir, use_cache=False)


def _pair_tags(d: Dataset) -> set[tuple[int, int, int]]:
    ta = d.tag_assignments
    return set(zip(ta["user_id"], ta["artist_id"], ta["tag_id"], strict=True))


def test_interactions_are_float32_csr_raw_counts(ds: Dataset) -> None:
    m = ds.interactions
    assert sp.isspmatrix_csr(m) and m.dtype == np.float32
    assert m.shape == (3, 4)
    np.testing.assert_array_equal(ds.user_ids, [2, 4, 6])
    np.testing.assert_array_equal(ds.artist_ids, [1, 3, 5, 7])
    assert ds.users is ds.user_map and ds.artists_map is ds.artist_map  # names in the docs
    assert ds.artists_map.index([5]).tolist() == [2]
    expected = np.array(
        [[500, 20000, 0, 0], [1, 0, 70000, 0], [0, 3000, 0, 0]],
        dtype=np.float32,
    )
    np.testing.assert_array_equal(m.toarray(), expected)
    assert ds.artist_names.tolist() == ["Titãs", '"Weird Al" Yankovic', "Björk", "Nobody Listens"]
    assert list(ds.artists.columns) == ["id", "name", "url", "picture_url", "mbid"]
    assert ds.artists.loc[1, "picture_url"] == ""  # empty field kept as empty string


def test_artist_without_listeners_keeps_its_column(ds: Dataset) -> None:
    col = int(ds.artist_map.index([7])[0])
    assert ds.artist_listeners()[col] == 0
    assert ds.artist_names[col] == "Nobody Listens"
    assert ds.artist_tags[col].sum() == 1  # user 2 tagged it 'rock'


def test_artist_tags_counts_and_tag_arrays(ds: Dataset) -> None:
    np.testing.assert_array_equal(ds.tag_ids, [1, 2, 4])
    assert ds.tag_names.tolist() == ["rock", "música brasileira", "fußball"]
    at = ds.artist_tags
    assert sp.isspmatrix_csr(at) and at.dtype == np.float32 and at.shape == (4, 3)
    expected = np.array(
        [
            [1, 1, 0],  # artist 1: rock (user 4), música (user 2)
            [1, 0, 0],  # artist 3: rock (user 6)
            [0, 0, 1],  # artist 5: fußball
            [1, 0, 0],  # artist 7: rock
        ],
        dtype=np.float32,
    )
    np.testing.assert_array_equal(at.toarray(), expected)
    assert ds.top_tags(0, 5) == ["rock", "música brasileira"]


def test_tag_assignments_have_indices_and_dates(ds: Dataset) -> None:
    ta = ds.tag_assignments
    assert list(ta.columns) == [
        "user_id",
        "artist_id",
        "tag_id",
        "user_index",
        "artist_index",
        "tag_index",
        "date",
    ]
    assert len(ta) == 6
    assert pd.api.types.is_datetime64_any_dtype(ta["date"])
    first = ta.iloc[0]
    assert (first.user_id, first.artist_id, first.tag_id) == (2, 1, 2)
    assert (first.user_index, first.artist_index, first.tag_index) == (0, 0, 1)
    assert first.date == pd.Timestamp("2008-05-01")
    old = ta[ta["date"].dt.year == 1956]
    assert len(old) == 1 and old.iloc[0].artist_id == 1
    dangling = ta[ta["artist_id"] == 99]
    assert dangling["artist_index"].tolist() == [-1]
    assert "timestamp" not in ta  # the optional file is absent


def test_friends_are_symmetric_zero_one(ds: Dataset) -> None:
    f = ds.friends
    assert f.dtype == np.float32 and f.shape == (3, 3)
    assert (f != f.T).nnz == 0
    assert set(np.unique(f.data)) == {1.0}
    dense = f.toarray()
    assert dense[1, 2] == dense[2, 1] == 1  # listed one way only in the file
    assert dense[0, 1] == dense[1, 0] == 1  # listed both ways: still 1, not 2
    assert dense[0, 2] == 0
    assert ds.summary()["friend_relations"] == 2
    assert ds.summary()["friend_pairs_directed"] == 4


def test_optional_timestamps_file_is_read(tmp_path: Path) -> None:
    """user_taggedartists-timestamps.dat (ms since epoch) adds a datetime64[ms] column."""
    ts = (
        "userID\tartistID\ttagID\ttimestamp\n"
        "2\t1\t2\t1209592800000\n"
        "6\t99\t1\t1315173600000\n"
        "4\t5\t4\t1278108000000\n"
    )
    d = write_mini(tmp_path / "d", {"user_taggedartists-timestamps.dat": ts})
    ds = load_dataset(d, use_cache=False)
    ta = ds.tag_assignments
    assert ta["timestamp"].dtype == np.dtype("datetime64[ms]")
    by = {(u, a): t for u, a, t in zip(ta.user_id, ta.artist_id, ta.timestamp, strict=True)}
    assert by[(2, 1)] == pd.Timestamp(1209592800000, unit="ms")
    assert by[(6, 99)] == pd.Timestamp("2011-09-04 22:00:00")
    assert pd.isna(by[(6, 3)])  # no row in the timestamps file
    assert any("3 tag assignment(s)" in f and "no timestamp" in f for f in ds.findings)
    # the cached copy keeps them
    load_dataset(d)
    cached = load_dataset(d)
    pd.testing.assert_series_equal(cached.tag_assignments["timestamp"], ta["timestamp"])


# --------------------------------------------------------------------- with_interactions
def _without(ds: Dataset, user_id: int, artist_id: int) -> sp.csr_matrix:
    m = ds.interactions.tolil(copy=True)
    m[int(ds.user_map.index([user_id])[0]), int(ds.artist_map.index([artist_id])[0])] = 0
    return m.tocsr()


def test_with_interactions_drops_tags_of_held_out_listens(ds: Dataset) -> None:
    train = _without(ds, 2, 1)  # hold out user 2's listens of artist 1
    before = ds.interactions.copy()
    out = ds.with_interactions(train)
    assert (2, 1, 2) in _pair_tags(ds)
    assert (2, 1, 2) not in _pair_tags(out)  # the held-out pair's tag would leak
    assert _pair_tags(ds) - _pair_tags(out) == {(2, 1, 2)}
    assert (2, 7, 1) in _pair_tags(out)  # never listened: kept
    assert (6, 99, 1) in _pair_tags(out)  # dangling: kept
    # artist_tags is rebuilt: artist 1 lost 'música brasileira'
    assert out.artist_tags[0].toarray().ravel().tolist() == [1, 0, 0]
    assert ds.artist_tags[0].toarray().ravel().tolist() == [1, 1, 0]
    # the source dataset and the passed matrix are unchanged
    assert (ds.interactions != before).nnz == 0 and len(ds.tag_assignments) == 6
    assert out.interactions.nnz == 4 and out.interactions.dtype == np.float32


def test_with_interactions_keeps_tags_of_still_listened_pairs(ds: Dataset) -> None:
    m = ds.interactions.copy()
    m.data[:] = 1.0  # same pairs, other values
    out = ds.with_interactions(m)
    assert _pair_tags(out) == _pair_tags(ds)


def test_with_interactions_chains_against_the_source(ds: Dataset) -> None:
    """A second derivation still knows which pairs were listened in the loaded data."""
    first = ds.with_interactions(_without(ds, 2, 1))
    second = first.with_interactions(_without(ds, 4, 5))
    assert (2, 1, 2) in _pair_tags(first) ^ _pair_tags(ds)
    assert (4, 5, 4) not in _pair_tags(second)
    assert (2, 1, 2) in _pair_tags(second)  # listened again in `second`'s interactions


def test_with_interactions_does_not_mutate_its_input(ds: Dataset) -> None:
    m = ds.interactions.copy()
    m.data[0] = 0.0  # an explicit zero
    nnz = m.nnz
    ds.with_interactions(m)
    assert m.nnz == nnz


def test_with_interactions_rejects_bad_input(ds: Dataset) -> None:
    with pytest.raises(ValueError, match=r"shape \(3, 3\) != dataset shape \(3, 4\)"):
        ds.with_interactions(sp.csr_matrix((3, 3), dtype=np.float32))
    neg = ds.interactions.copy()
    neg.data[0] = -1.0
    with pytest.raises(ValueError, match="non-negative"):
        ds.with_interactions(neg)
    with pytest.raises(TypeError, match="scipy.sparse"):
        ds.with_interactions(ds.interactions.toarray())  # type: ignore[arg-type]


@pytest.mark.integration
def test_real_with_interactions_drops_only_held_out_pairs(real_ds: Dataset) -> None:
    rng = np.random.default_rng(0)
    m = real_ds.interactions.tocoo()
    held = rng.random(m.nnz) < 0.2
    train = sp.csr_matrix((m.data[~held], (m.row[~held], m.col[~held])), shape=m.shape)
    out = real_ds.with_interactions(train)
    ta = real_ds.tag_assignments
    held_keys = set(zip(m.row[held].tolist(), m.col[held].tolist(), strict=True))
    pair = list(zip(ta.user_index.tolist(), ta.artist_index.tolist(), strict=True))
    expected_dropped = sum(p in held_keys for p in pair)
    assert expected_dropped > 0
    assert len(out.tag_assignments) == len(ta) - expected_dropped
    assert (
        out.artist_tags.sum()
        == len(out.tag_assignments) - (out.tag_assignments.artist_index < 0).sum()
    )


def test_known_artists_are_listens_and_tagged_artists(ds: Dataset) -> None:
    known = ds.known_artists()
    assert known.shape == ds.interactions.shape and known.dtype == np.float32
    assert set(known.data.tolist()) == {1.0}
    u2 = int(ds.user_map.index(np.array([2]))[0])
    a1, a7 = (int(i) for i in ds.artist_map.index(np.array([1, 7])))
    listened = sp.csr_matrix(ds.interactions > 0, dtype=np.float32)
    extra = (known - listened).tocoo()
    extra.eliminate_zeros()
    # user 2 tagged artist 7 without listening; the dangling tag (artist 99) adds nothing
    assert set(zip(extra.row.tolist(), extra.col.tolist(), strict=True)) == {(u2, a7)}
    assert ((listened - known) > 0).nnz == 0  # every listen is known
    # a held-out listen is not known, even though user 2 had tagged it (the tag is dropped)
    out = ds.with_interactions(_without(ds, 2, 1))
    assert ds.known_artists()[u2, a1] == 1.0 and out.known_artists()[u2, a1] == 0.0
    assert out.known_artists()[u2, a7] == 1.0
