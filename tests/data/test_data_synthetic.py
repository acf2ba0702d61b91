"""The synthetic generator: requested sizes, HetRec format and quirks, determinism, scale."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from artistrec.data import load_dataset
from artistrec.data.scale import to_levels
from artistrec.data.synthetic import SyntheticSpec, _ascii_ints, generate


def test_generated_set_loads_with_the_requested_sizes(tmp_path: Path) -> None:
    spec = SyntheticSpec(n_users=300, n_artists=900, n_tags=70, max_per_user=40, seed=2)
    ds = load_dataset(generate(tmp_path / "g", spec), use_cache=False)
    assert (ds.n_users, ds.n_artists, ds.n_tags) == (300, 900, 70)
    per_user = np.diff(ds.interactions.indptr)
    assert per_user.min() >= 1 and per_user.max() == 40  # top-40 truncation
    # non-contiguous ids, as in the real data
    assert ds.artist_ids.max() > 900 and ds.user_ids.min() >= 2 and ds.user_ids.max() > 300
    assert np.all(np.isin(np.arange(1, 6), to_levels(ds.interactions.data)))  # all five levels
    names = ds.artist_names.tolist()
    assert any(n.startswith('"Quoted" Artist') for n in names)
    assert any("ã" in n for n in names) and any("ö" in n for n in names)
    assert any("é" in str(t) for t in ds.tag_names)
    # quirks: dangling tagged artist ids reported as a finding, left out of artist_tags
    ta = ds.tag_assignments
    assert (ta.artist_index < 0).sum() == spec.dangling_tag_artists
    assert any("3 artist id(s) in column 'artistID' that are not defined" in f for f in ds.findings)
    assert (ds.friends != ds.friends.T).nnz == 0 and ds.friends.diagonal().sum() == 0


def test_file_encodings_match_grouplens(tmp_path: Path) -> None:
    d = generate(tmp_path / "g", SyntheticSpec(n_users=20, n_artists=50, n_tags=12, seed=1))
    (d / "artists.dat").read_bytes().decode("utf-8")
    tags = (d / "tags.dat").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        tags.decode("utf-8")  # latin-1, as GroupLens ships it
    for name in ("user_artists.dat", "user_friends.dat", "user_taggedartists.dat"):
        (d / name).read_bytes().decode("ascii")
    header = (d / "user_taggedartists.dat").read_text().splitlines()[0]
    assert header == "userID\tartistID\ttagID\tday\tmonth\tyear"


def test_old_tag_dates_quirk(tmp_path: Path) -> None:
    spec = SyntheticSpec(n_users=50, n_artists=100, old_tag_dates=4, seed=3)
    ds = load_dataset(generate(tmp_path / "g", spec), use_cache=False)
    assert (ds.tag_assignments["date"].dt.year < 2002).sum() == 4
    assert any("4 tag assignment(s) dated before 2002" in f for f in ds.findings)


def test_same_seed_same_bytes_other_seed_other_data(tmp_path: Path) -> None:
    kw = {"n_users": 40, "n_artists": 120}
    a = generate(tmp_path / "a", seed=7, **kw)
    b = generate(tmp_path / "b", seed=7, **kw)
    c = generate(tmp_path / "c", seed=8, **kw)
    for name in ("artists.dat", "user_artists.dat", "user_taggedartists.dat", "user_friends.dat"):
        assert (a / name).read_bytes() == (b / name).read_bytes()
    assert (a / "user_artists.dat").read_bytes() != (c / "user_artists.dat").read_bytes()


def test_tiny_catalogue_still_gives_distinct_artists(tmp_path: Path) -> None:
    """More wanted listens than artists: every user gets each artist at most once."""
    ds = load_dataset(
        generate(tmp_path / "g", SyntheticSpec(n_users=10, n_artists=4, n_tags=3, seed=0)),
        use_cache=False,
    )
    assert ds.n_artists == 4
    assert np.diff(ds.interactions.indptr).max() <= 4


def test_users_prefer_their_genres(tmp_path: Path) -> None:
    """Genre structure is learnable: a user's tags concentrate on a few genres, more than
    the same tags shuffled across users would."""
    spec = SyntheticSpec(n_users=400, n_artists=2000, n_genres=8, seed=0)
    ds = load_dataset(generate(tmp_path / "g", spec), use_cache=False)
    # tag t belongs to genre t % n_genres; its name is "genre<g>[é] <t>"
    genre_of_tag = np.asarray([int(str(t).split()[0].rstrip("é")[5:]) for t in ds.tag_names])
    ta = ds.tag_assignments
    g = genre_of_tag[ta["tag_index"].to_numpy()]
    busy = ta.groupby("user_index")["tag_index"].transform("size").to_numpy() > 10

    def top2_share(genres: np.ndarray) -> float:
        df = ta.loc[busy, ["user_index"]].assign(g=genres[busy])
        return float(
            df.groupby("user_index")["g"]
            .agg(lambda s: s.value_counts().iloc[:2].sum() / len(s))
            .mean()
        )

    shuffled = np.random.default_rng(0).permutation(g)
    assert top2_share(g) > top2_share(shuffled) + 0.08  # 0.65 vs 0.51 with seed 0


def test_medium_scale_is_fast(tmp_path: Path) -> None:
    """10k users x 40k artists: vectorised, so about a second rather than minutes."""
    spec = SyntheticSpec(n_users=10_000, n_artists=40_000, n_tags=5_000, seed=0)
    d = generate(tmp_path / "g", spec)
    lines = (d / "user_artists.dat").read_bytes().count(b"\n") - 1
    assert 10_000 * 20 < lines <= 10_000 * spec.max_per_user
    assert (d / "artists.dat").read_bytes().count(b"\n") == 40_001


def test_ascii_ints_writer() -> None:
    out = _ascii_ints([np.array([0, 7, 10, 12345]), np.array([99, 100, 0, 1])])
    assert out == b"0\t99\n7\t100\n10\t0\n12345\t1\n"
    with pytest.raises(ValueError, match="non-negative"):
        _ascii_ints([np.array([-1])])


def test_invalid_spec() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        generate("/nonexistent/never-created", SyntheticSpec(n_users=0))
