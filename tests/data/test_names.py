"""The artist-name matcher: folding, search, resolve, suggest and resolve_many."""

from __future__ import annotations

import numpy as np
import pytest

from artistrec.data import names as names_mod
from artistrec.data.names import MAX_CANDIDATES, Match, NameIndex, fold_name

# name -> listeners; every quirk the matcher has to handle
CATALOGUE: dict[str, int] = {
    "Guns N' Roses": 160,
    "Guns N Roses &Alice Cooper": 1,
    "Eminem": 200,
    "Eminence Symphony Orchestra": 1,
    "Metallica": 220,
    "Metal Church": 5,
    "Björk": 170,
    "Brant Bjork": 2,
    "소녀시대": 24,
    "동방신기": 10,
    "Ария": 10,
    "R.E.M.": 96,
    "Rem": 2,
    "Red": 24,
    "ＲＥＤ": 1,
    "Red Hot Chili Peppers": 220,
    "Simply Red": 30,
    "Jay-Z": 83,
    "Simon & Garfunkel": 40,
    "The Beatles": 480,
    "Killers": 2,
    "The Killers": 300,
    "!!!": 2,
    "Ke$ha": 360,
    "MØ": 12,
    "Beyoncé": 300,
    "AC/DC": 180,
    "Sinéad O'Connor": 7,
}


@pytest.fixture(scope="module")
def index() -> NameIndex:
    return NameIndex.build(list(CATALOGUE), np.array(list(CATALOGUE.values())))


def name_of(index: NameIndex, i: int | None) -> str | None:
    return None if i is None else index.name(i)


def resolved(index: NameIndex, query: str) -> str | None:
    m = index.resolve(query)
    return None if m is None else index.name(m.index)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Guns N' Roses", "guns n roses"),
        ("Guns N’ Roses", "guns n roses"),
        ("R.E.M.", "rem"),
        ("Jay-Z", "jay z"),
        ("Simon & Garfunkel", "simon and garfunkel"),
        ("ＲＥＤ", "red"),
        ("Björk", "bjork"),
        ("Sinéad O'Connor", "sinead oconnor"),
        ("Ke$ha", "kesha"),
        ("AC/DC", "ac dc"),
        ("  Lady   GAGA ", "lady gaga"),
        ("소녀시대", "소녀시대"),  # Hangul is not decomposed into jamo
        ("!!!", "!!!"),  # all punctuation: keep it rather than fold to nothing
        ("", ""),
        ("   ", ""),
    ],
)
def test_fold_name(text: str, key: str) -> None:
    assert fold_name(text) == key


@pytest.mark.parametrize(
    ("query", "name", "kind"),
    [
        ("Metallica", "Metallica", "exact"),
        ("guns n roses", "Guns N' Roses", "folded"),
        ("GUNS N’ ROSES", "Guns N' Roses", "folded"),
        ("rem", "R.E.M.", "folded"),  # R.E.M. (96) beats Rem (2): both fold to "rem"
        ("red", "Red", "folded"),
        ("ＲＥＤ", "Red", "folded"),  # the most listened of the names that fold alike
        ("jay z", "Jay-Z", "folded"),
        ("jayz", "Jay-Z", "folded"),
        ("bjork", "Björk", "folded"),
        ("simon and garfunkel", "Simon & Garfunkel", "folded"),
        ("kesha", "Ke$ha", "folded"),
        ("acdc", "AC/DC", "folded"),
        ("sonyeosidae", "소녀시대", "folded"),  # transliteration
        ("소녀시대", "소녀시대", "exact"),
        ("dongbangsingi", "동방신기", "folded"),
        ("ariya", "Ария", "folded"),
        ("mo", "MØ", "folded"),
        ("beatles", "The Beatles", "folded"),  # "the" is optional
        ("Killers", "Killers", "exact"),  # ... but an exact name wins over the "the"-less one
        ("killers", "Killers", "folded"),
        ("!!!", "!!!", "exact"),
        ("metalica", "Metallica", "fuzzy"),
        ("eminen", "Eminem", "fuzzy"),
        ("beyonse", "Beyoncé", "fuzzy"),
        ("Металлика", "Metallica", "fuzzy"),  # Cyrillic spelling of a Latin name
    ],
)
def test_resolve(index: NameIndex, query: str, name: str, kind: str) -> None:
    m = index.resolve(query)
    assert m is not None, query
    assert (index.name(m.index), m.kind, m.query) == (name, kind, query)
    assert 0.0 <= m.score <= 100.0
    if kind != "fuzzy":
        assert m.score == 100.0


@pytest.mark.parametrize("query", ["asdfghjkl", "xqzkvw", "zzzz", "", "   ", "x" * 200, "ab" * 150])
def test_resolve_rejects_garbage(index: NameIndex, query: str) -> None:
    assert index.resolve(query) is None
    assert index.suggest(query) == []


def test_fuzzy_score_weighs_popularity() -> None:
    """The same one-letter slip is a confident match for a famous name, not an obscure one."""
    ix = NameIndex.build(["Eminem", "Zeminem"], [200, 1])
    famous = ix.resolve("eminen")
    assert famous is not None and ix.name(famous.index) == "Eminem"
    obscure = NameIndex.build(["Eminem"], [0]).resolve("eminen", min_score=0)
    assert obscure is not None and obscure.score < famous.score
    assert NameIndex.build(["Eminem"], [0]).resolve("eminen") is None  # below the threshold


def test_search_ranks_exact_then_blended(index: NameIndex) -> None:
    hits = [index.name(i) for i, _ in index.search("guns n roses", 5)]
    assert hits[:2] == ["Guns N' Roses", "Guns N Roses &Alice Cooper"]
    # a close spelling of a famous name ranks above a literal prefix of an obscure one
    hits = [index.name(i) for i, _ in index.search("eminen", 5)]
    assert hits[0] == "Eminem" and "Eminence Symphony Orchestra" in hits
    # names that fold alike share the top score, the most listened first
    top = index.search("ＲＥＤ", 10)
    assert [index.name(i) for i, _ in top[:2]] == ["Red", "ＲＥＤ"]
    assert top[0][1] == top[1][1] == 100.0
    assert {"Red Hot Chili Peppers", "Simply Red"} <= {index.name(i) for i, _ in top}
    scores = [s for _, s in top]
    assert scores == sorted(scores, reverse=True)


def test_search_word_prefix_and_substring(index: NameIndex) -> None:
    assert "Simply Red" in [index.name(i) for i, _ in index.search("red", 10)]  # a later word
    assert "Guns N' Roses" in [index.name(i) for i, _ in index.search("roses", 10)]
    assert "Metallica" in [index.name(i) for i, _ in index.search("tallic", 10)]  # substring


def test_search_empty_query_lists_most_popular(index: NameIndex) -> None:
    got = [index.name(i) for i, _ in index.search("", 3)]
    assert got == ["The Beatles", "Ke$ha", "The Killers"]
    assert len(index.search("r", 4)) == 4  # limit respected (R.E.M., Rem, Red, ...)
    assert index.search("Metallica", 0) == []


def test_suggest(index: NameIndex) -> None:
    assert name_of(index, index.suggest("eminen")[0]) == "Eminem"
    assert name_of(index, index.suggest("metalica")[0]) == "Metallica"
    assert len(index.suggest("metalica", 1)) == 1
    assert "Guns N' Roses" in [index.name(i) for i in index.suggest("guns n rose")]
    # names that fold alike are one suggestion, the most listened
    got = [index.name(i) for i in index.suggest("redd")]
    assert "Red" in got and "ＲＥＤ" not in got


def test_resolve_many_matches_like_resolve(index: NameIndex) -> None:
    queries = ["Metallica", "rem", "eminen", "asdfghjkl", "rem", "ＲＥＤ", ""]
    got = index.resolve_many(queries)
    assert got == [index.resolve(q) for q in queries]
    assert got[1] is not None and got[4] is not None and got[1].index == got[4].index


def test_resolve_many_uses_mbids_when_both_sides_have_them() -> None:
    ix = NameIndex.build(["Nirvana", "Nirvana (UK)"], [300, 3], mbids=["mbid-us", "MBID-UK"])
    got = ix.resolve_many(["Nirvana", "Nirvana", "Nirvana"], mbids=["mbid-uk", None, "unknown"])
    assert [(ix.name(m.index), m.kind) for m in got if m] == [
        ("Nirvana (UK)", "mbid"),
        ("Nirvana", "exact"),
        ("Nirvana", "exact"),  # an id the catalogue does not know falls back to the name
    ]
    with pytest.raises(ValueError, match="mbids has 1 values for 2 names"):
        ix.resolve_many(["a", "b"], mbids=["x"])


def test_build_validates_input() -> None:
    with pytest.raises(ValueError, match="popularity has 1 values for 2 names"):
        NameIndex.build(["a", "b"], [1])
    with pytest.raises(ValueError, match="non-negative"):
        NameIndex.build(["a"], [-1])
    with pytest.raises(ValueError, match="mbids has 2 values for 1 names"):
        NameIndex.build(["a"], [1], mbids=["x", "y"])
    empty = NameIndex.build([], [])
    assert len(empty) == 0 and empty.resolve("a") is None and empty.search("a") == []


def test_match_to_dict() -> None:
    m = Match(3, "fuzzy", 91.5, "metalica")
    assert m.to_dict() == {"index": 3, "kind": "fuzzy", "score": 91.5, "query": "metalica"}


def test_work_per_query_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """With thousands of names sharing the query's trigrams, only the most popular postings and
    at most MAX_CANDIDATES names are scored, and the famous name is still found."""
    rng = np.random.default_rng(0)
    filler = [f"Metal {w}{i}" for i, w in enumerate(rng.choice(["lica", "lic", "ica"], 5000))]
    ix = NameIndex.build(["Metallica", *filler], np.r_[500, rng.integers(0, 5, len(filler))])
    monkeypatch.setattr(names_mod, "POSTINGS_BUDGET", 200)
    cand = ix._candidates(["metalica"])
    assert cand.size <= MAX_CANDIDATES
    assert resolved(ix, "metalica") == "Metallica"


# ----------------------------------------------------------------------------- real data
@pytest.mark.integration
def test_real_names(real_ds) -> None:  # noqa: ANN001
    ix = NameIndex.from_dataset(real_ds)

    def first_search(q: str) -> str:
        return ix.name(ix.search(q, 10)[0][0])

    assert first_search("guns n roses") == "Guns N' Roses"
    assert resolved(ix, "guns n roses") == "Guns N' Roses"
    assert ix.name(ix.suggest("eminen")[0]) == "Eminem"
    assert first_search("eminen") == "Eminem"
    assert resolved(ix, "eminen") == "Eminem"
    assert resolved(ix, "metalica") == "Metallica"
    assert resolved(ix, "bjork") == "Björk"
    assert resolved(ix, "sonyeosidae") == "소녀시대"
    assert resolved(ix, "소녀시대") == "소녀시대"
    assert resolved(ix, "rem") == "R.E.M."
    listeners = real_ds.artist_listeners()
    reds = [i for i, n in enumerate(real_ds.artist_names) if fold_name(n) == "red"]
    most = max(reds, key=lambda i: listeners[i])
    assert len(reds) > 1 and real_ds.artist_names[most] == "Red"
    assert ix.resolve("ＲＥＤ").index == most and ix.resolve("red").index == most
    assert ix.suggest("asdfghjkl") == [] and ix.resolve("x" * 200) is None
