"""The catalogue: ids <-> indices, names, descriptions, name resolution, result records."""

from __future__ import annotations

import numpy as np
import pytest

from artistrec.data import Dataset
from artistrec.data.names import fold_name as fold
from artistrec.service import InvalidRequestError, UnknownArtistError
from artistrec.service.catalogue import CARD_TAGS, Catalogue


@pytest.fixture(scope="module")
def cat(synthetic_ds: Dataset) -> Catalogue:
    return Catalogue(synthetic_ds)


def test_ids_and_indices_round_trip(cat: Catalogue, synthetic_ds: Dataset) -> None:
    ids = synthetic_ds.artist_ids
    assert cat.index_of(int(ids[7])) == 7
    assert cat.index_of(np.int64(ids[3])) == 3
    assert cat.indices_of([int(ids[5]), int(ids[2])], "ratings").tolist() == [5, 2]
    assert cat.indices_of([], "ratings").dtype == np.int64


@pytest.mark.parametrize("bad", [10**9, -5, 2**70])
def test_unknown_ids_raise_without_suggestions(cat: Catalogue, bad: int) -> None:
    # numerically close ids name unrelated artists: suggesting them would mean nothing
    with pytest.raises(UnknownArtistError) as exc:
        cat.indices_of([int(cat.ids[0]), bad], "exclude")
    assert exc.value.query == bad and exc.value.suggestions == []
    assert exc.value.field == "exclude"
    with pytest.raises(UnknownArtistError) as exc:
        cat.index_of(bad)
    assert exc.value.suggestions == [] and "did you mean" not in str(exc.value)


def test_non_integer_ids_are_invalid(cat: Catalogue) -> None:
    for bad in (3.5, "7", True, None):
        with pytest.raises(InvalidRequestError) as exc:
            cat.index_of(bad)
        assert exc.value.field == "artist_id"


def test_names_of_marks_unknown_ids(cat: Catalogue) -> None:
    ids = [int(cat.ids[4]), 10**9, "x", int(cat.ids[0]), 2**70]
    assert cat.names_of(ids) == [str(cat.names[4]), None, None, str(cat.names[0]), None]
    assert cat.names_of([]) == []


def test_resolve_name(cat: Catalogue) -> None:
    name = str(cat.names[11])
    aid = int(cat.ids[11])
    assert cat.resolve_name(aid) == aid
    assert cat.resolve_name(f"  {name.upper()} ") == int(cat.ids[cat.matcher.lookup(name).index])
    assert fold(str(cat.names[cat.index_of(cat.resolve_name(name))])) == fold(name)
    assert cat.resolve_name(f" {aid} ") == aid  # a numeric name that is no artist's: the id
    with pytest.raises(UnknownArtistError) as exc:
        cat.resolve_name(name + "q")
    assert name in exc.value.suggestions  # a one-letter typo is offered back
    with pytest.raises(UnknownArtistError):
        cat.resolve_name(10**9)
    with pytest.raises(InvalidRequestError, match="name or an integer id"):
        cat.resolve_name(3.5)  # type: ignore[arg-type]
    with pytest.raises(InvalidRequestError, match="longer than"):
        cat.resolve_name("x" * 1000)


def test_search_validation_and_records(cat: Catalogue) -> None:
    hits = cat.search("", limit=5)
    assert [h.index for h in hits] == [i for i, _ in cat.matcher.search("", 5)]
    assert all(h.id == cat.ids[h.index] and h.listeners == cat.listeners[h.index] for h in hits)
    for kwargs in ({"query": "x", "limit": 0}, {"query": "x" * 201}, {"query": 5}):
        with pytest.raises(InvalidRequestError):
            cat.search(**kwargs)  # type: ignore[arg-type]
    assert cat.suggest("") == []


def test_info_and_recommendation_records(cat: Catalogue, synthetic_ds: Dataset) -> None:
    idx = int(np.argmax(np.diff(synthetic_ds.artist_tags.indptr)))
    info = cat.info(int(cat.ids[idx]))
    assert info["index"] == idx and info["name"] == str(cat.names[idx])
    assert info["tags"] == synthetic_ds.top_tags(idx, 5) and info["tags"]
    items = np.array([idx, 0, 1])
    scores = np.array([0.9, np.nan, -np.inf], dtype=np.float32)
    recs = cat.recommendations(items, scores, ["a", "b", "c"])
    # non-finite scores never reach a JSON encoder
    assert [(r.index, r.reason) for r in recs] == [(idx, "a")]
    assert recs[0].artist_id == cat.ids[idx] and recs[0].tags == info["tags"][:CARD_TAGS]
    assert recs[0].score == pytest.approx(0.9)
