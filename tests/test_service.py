"""RecommenderService, the facade: ids at the boundary, validation, fold-in, reasons, fallbacks.

Each part has its own unit tests in tests/service/; these check that the facade composes them.
"""

from __future__ import annotations

import numpy as np
import pytest

from artistrec import create_model
from artistrec.data import Dataset
from artistrec.data.names import fold_name as fold
from artistrec.service import (
    MAX_RATINGS,
    InvalidRequestError,
    RecommenderService,
    UnknownArtistError,
    UnknownUserError,
)
from artistrec.store.artifacts import ArtifactError


@pytest.fixture(scope="module")
def svc(synthetic_ds: Dataset) -> RecommenderService:
    model = create_model("popularity").fit(synthetic_ds)
    return RecommenderService(synthetic_ds, models={"default": model})


def _popular_ids(ds: Dataset, n: int) -> list[int]:
    order = np.argsort(-ds.artist_listeners(), kind="stable")[:n]
    return [int(x) for x in ds.artist_ids[order]]


def test_search_accent_insensitive_and_sorted(svc: RecommenderService) -> None:
    ds = svc.dataset
    names = ds.artist_names
    accented = next(n for n in names if fold(n) != n.casefold())
    plain = fold(accented).split()[0]
    hits = svc.search_artists(plain, limit=500)
    assert any(h.name == accented for h in hits)
    assert all(plain in fold(h.name) for h in hits)
    listeners = [h.listeners for h in hits]
    assert listeners == sorted(listeners, reverse=True)
    # ids are original ids, index agrees with them
    assert all(ds.artist_ids[h.index] == h.id for h in hits)


def test_search_empty_is_most_popular(svc: RecommenderService) -> None:
    hits = svc.search_artists("", limit=5)
    assert [h.id for h in hits] == _popular_ids(svc.dataset, 5)


def test_search_validation(svc: RecommenderService) -> None:
    with pytest.raises(InvalidRequestError):
        svc.search_artists("x", limit=0)
    with pytest.raises(InvalidRequestError):
        svc.search_artists("x" * 1000)
    assert svc.search_artists("zzzz-no-such-artist-qqq") == []


def test_resolve_artist(svc: RecommenderService) -> None:
    ds = svc.dataset
    aid = int(ds.artist_ids[7])
    name = str(ds.artist_names[7])
    assert svc.resolve_artist(aid) == aid
    assert svc.resolve_artist(name.upper()) == svc.resolve_artist(fold(name))
    assert fold(str(ds.artist_names[ds.artist_map.index([svc.resolve_artist(name)])[0]])) == fold(
        name
    )
    # a one-letter typo of a well-known name is offered back (among near-identical synthetic
    # names, popularity decides which of equally close spellings comes first)
    popular = svc.popular(1)[0].name
    with pytest.raises(UnknownArtistError) as exc:
        svc.resolve_artist(popular[:-1] + "q")
    assert exc.value.suggestions, "a one-letter typo must get suggestions"
    assert exc.value.suggestions[0] == popular
    with pytest.raises(UnknownArtistError):
        svc.resolve_artist(10**9)
    with pytest.raises(InvalidRequestError):
        svc.resolve_artist(3.5)  # type: ignore[arg-type]


def test_artist_info(svc: RecommenderService) -> None:
    ds = svc.dataset
    idx = int(np.argmax(np.diff(ds.artist_tags.indptr)))
    info = svc.artist_info(int(ds.artist_ids[idx]))
    assert info["id"] == int(ds.artist_ids[idx])
    assert info["listeners"] == int(ds.artist_listeners()[idx])
    assert info["tags"] == ds.top_tags(idx, 5) and info["tags"]
    with pytest.raises(UnknownArtistError):
        svc.artist_info(-5)


def test_recommend_for_ratings_excludes_and_explains(svc: RecommenderService) -> None:
    ids = _popular_ids(svc.dataset, 5)
    ratings = {ids[0]: 5, ids[1]: 3, ids[2]: 0}
    recs = svc.recommend_for_ratings(ratings, k=10, exclude=[ids[3]])
    got = [r.artist_id for r in recs]
    assert len(got) == 10 and len(set(got)) == 10
    assert not set(got) & {ids[0], ids[1], ids[2], ids[3]}
    assert ids[4] in got  # popularity model: next most popular comes first
    scores = [r.score for r in recs]
    assert scores == sorted(scores, reverse=True)
    rated_names = {str(n) for n in svc.dataset.artist_names[svc.dataset.artist_map.index(ids[:2])]}
    explained = [r for r in recs if r.reason.startswith("because you rated")]
    assert explained, [r.reason for r in recs]
    # the level-0 artist is never named as a reason
    zero_name = str(svc.dataset.artist_names[svc.dataset.artist_map.index([ids[2]])[0]])
    for r in explained:
        assert any(n in r.reason for n in rated_names)
        if not any(zero_name in n for n in rated_names):
            assert zero_name not in r.reason


def test_recommend_empty_ratings_is_popular(svc: RecommenderService) -> None:
    recs = svc.recommend_for_ratings({}, k=3)
    assert [r.artist_id for r in recs] == _popular_ids(svc.dataset, 3)
    assert [r.artist_id for r in svc.popular(3)] == _popular_ids(svc.dataset, 3)


def test_novelty_prefers_less_popular(svc: RecommenderService) -> None:
    ids = _popular_ids(svc.dataset, 3)
    base = svc.recommend_for_ratings({ids[0]: 4}, k=10)
    novel = svc.recommend_for_ratings({ids[0]: 4}, k=10, novelty=1.0)
    listeners = svc.dataset.artist_listeners()

    def mean_pop(recs: list) -> float:
        return float(np.mean([listeners[r.index] for r in recs]))

    assert mean_pop(novel) < mean_pop(base)
    assert ids[0] not in [r.artist_id for r in novel]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"k": 0}, "k"),
        ({"k": 501}, "k"),
        ({"k": True}, "k"),
        ({"novelty": 1.5}, "novelty"),
        ({"novelty": float("nan")}, "novelty"),
        ({"exclude": "abc"}, "exclude"),
        ({"model": "nope"}, "model"),
    ],
)
def test_recommend_validation(svc: RecommenderService, kwargs: dict, field: str) -> None:
    aid = int(svc.dataset.artist_ids[0])
    with pytest.raises(InvalidRequestError) as exc:
        svc.recommend_for_ratings({aid: 3}, **kwargs)
    assert exc.value.field == field


def test_recommend_rating_validation(svc: RecommenderService) -> None:
    ids = svc.dataset.artist_ids
    with pytest.raises(InvalidRequestError, match="0..5"):
        svc.recommend_for_ratings({int(ids[0]): 6})
    with pytest.raises(InvalidRequestError, match="0..5"):
        svc.recommend_for_ratings({int(ids[0]): -1})
    with pytest.raises(InvalidRequestError, match="at most"):
        svc.recommend_for_ratings({i: 1 for i in range(MAX_RATINGS + 1)})
    with pytest.raises(UnknownArtistError) as exc:
        svc.recommend_for_ratings({10**9: 3})
    # an unknown id gets no "did you mean": neighbouring ids name unrelated artists
    assert exc.value.query == 10**9 and exc.value.suggestions == []
    assert exc.value.field == "ratings"
    with pytest.raises(UnknownArtistError) as exc:
        svc.recommend_for_ratings({int(ids[0]): 3}, exclude=[10**9])
    assert exc.value.field == "exclude" and exc.value.suggestions == []


def test_recommend_for_user(svc: RecommenderService) -> None:
    ds = svc.dataset
    uid = int(ds.user_ids[0])
    recs = svc.recommend_for_user(uid, k=5)
    seen = set(ds.artist_ids[ds.interactions.getrow(0).indices].tolist())
    assert len(recs) == 5 and not seen & {r.artist_id for r in recs}
    assert all(r.reason.startswith("because you listen to") for r in recs)
    with pytest.raises(UnknownUserError):
        svc.recommend_for_user(-1)


def test_similar(svc: RecommenderService) -> None:
    aid = _popular_ids(svc.dataset, 1)[0]
    recs = svc.similar(aid, k=5)
    assert len(recs) == 5 and aid not in [r.artist_id for r in recs]
    assert svc.similar(aid, k=5, measure="dot")
    with pytest.raises(InvalidRequestError):
        svc.similar(aid, measure="euclid")
    with pytest.raises(UnknownArtistError):
        svc.similar(10**9)


def test_model_cache_is_served_through_the_facade(synthetic_ds: Dataset, tmp_path) -> None:
    path = tmp_path / "pop.npz"
    create_model("popularity", by="plays").fit(synthetic_ds).save(path)
    svc = RecommenderService(synthetic_ds, model_path=path, train_if_missing=False)
    assert not svc.is_loaded()
    assert svc.model().get_params() == {"by": "plays"} and svc.is_loaded()
    assert svc.model_path == path and svc.model_info()["artifact"] == str(path)
    with pytest.raises(ArtifactError):
        RecommenderService(synthetic_ds, model_path=tmp_path / "nope.npz").model()


def test_no_positive_rating_recommends_popular_artists_whatever_the_model(
    synthetic_ds: Dataset,
) -> None:
    knn = create_model("item-knn").fit(synthetic_ds)
    svc = RecommenderService(synthetic_ds, models={"default": knn}, train_if_missing=False)
    ids = _popular_ids(synthetic_ds, 8)
    recs = svc.recommend_for_ratings({ids[0]: 0}, k=5, exclude=[ids[2]])
    assert [r.artist_id for r in recs] == [ids[1], *ids[3:7]]
    listeners = synthetic_ds.artist_listeners()
    top = listeners.max()
    for r in recs:
        assert r.reason == f"popular: {listeners[r.index]:,} listeners"
        assert r.score == pytest.approx(listeners[r.index] / top)


def test_novelty_pool_does_not_depend_on_exclusions_outside_it(svc: RecommenderService) -> None:
    ds = svc.dataset
    ids = _popular_ids(ds, ds.n_artists)
    base = svc.recommend_for_ratings({ids[0]: 4}, k=5, novelty=0.5)
    far = svc.recommend_for_ratings({ids[0]: 4}, k=5, novelty=0.5, exclude=[ids[-1]])
    assert [r.artist_id for r in far] == [r.artist_id for r in base]
    assert [r.score for r in far] == [r.score for r in base]


@pytest.mark.integration
def test_real_data_names_and_fold_in(real_ds: Dataset) -> None:
    svc = RecommenderService(real_ds, models={"default": create_model("popularity").fit(real_ds)})
    assert svc.resolve_artist("beyonce") == 295  # accent-insensitive exact match
    assert svc.resolve_artist("BRITNEY SPEARS") == 289
    assert svc.search_artists("", limit=1)[0].name == "Lady Gaga"
    with pytest.raises(UnknownArtistError) as exc:
        svc.resolve_artist("britny spears")
    assert exc.value.suggestions[0] == "Britney Spears"
    # full-width and ASCII spellings fold together; the most listened one wins
    assert fold("ＲＥＤ") == fold("Red")
    recs = svc.recommend_for_ratings({289: 5, 295: 4}, k=20)
    assert len(recs) == 20 and not {289, 295} & {r.artist_id for r in recs}
    assert all(r.reason for r in recs) and recs[0].tags
