"""The explainer: its similarity equals the definition, and reasons name the closest anchors."""

from __future__ import annotations

import numpy as np
import pytest

from artistrec.data import Dataset
from artistrec.service.explain import DENSE_ANCHORS, USER_ANCHORS, Explainer


@pytest.fixture(scope="module")
def explainer(synthetic_ds: Dataset) -> Explainer:
    return Explainer(synthetic_ds, synthetic_ds.artist_names, synthetic_ds.artist_listeners())


def _reference(ds: Dataset, items: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    """Co-listening cosine + half the tag cosine, from dense matrices."""
    x = (ds.interactions.toarray() > 0).astype(np.float64).T
    t = ds.artist_tags.toarray().astype(np.float64)

    def cos(m: np.ndarray) -> np.ndarray:
        n = np.linalg.norm(m, axis=1, keepdims=True)
        u = m / np.maximum(n, 1e-12)
        return u[items] @ u[anchors].T

    return cos(x) + 0.5 * cos(t)


@pytest.mark.parametrize("n_anchors", [1, 15, DENSE_ANCHORS + 6])
def test_similarity_is_listener_cosine_plus_half_tag_cosine(
    explainer: Explainer, synthetic_ds: Dataset, n_anchors: int
) -> None:
    rng = np.random.default_rng(n_anchors)
    items = rng.choice(synthetic_ds.n_artists, 12, replace=False)
    anchors = rng.choice(synthetic_ds.n_artists, n_anchors, replace=False)
    got = explainer.similarity(items, anchors)
    assert got.shape == (12, n_anchors) and got.dtype == np.float32
    assert np.allclose(got, _reference(synthetic_ds, items, anchors), atol=1e-5)
    assert explainer.similarity(items, anchors[:0]).shape == (12, 0)


def test_because_names_the_two_closest_anchors(explainer: Explainer, synthetic_ds: Dataset) -> None:
    names = synthetic_ds.artist_names
    listeners = synthetic_ds.artist_listeners()
    items = np.argsort(-listeners, kind="stable")[:5]
    anchors = np.argsort(-listeners, kind="stable")[5:25]
    sim = _reference(synthetic_ds, items, anchors)
    for item_sim, reason in zip(sim, explainer.because(items, anchors, "rated"), strict=True):
        best = anchors[np.argsort(-item_sim, kind="stable")[:2]]
        assert reason == f"because you rated {names[best[0]]} and {names[best[1]]}"
    assert (
        explainer.because(items, np.empty(0, np.int64), "rated") == ["popular with listeners"] * 5
    )


def test_because_without_any_similarity(explainer: Explainer, synthetic_ds: Dataset) -> None:
    listeners = synthetic_ds.artist_listeners()
    tags = np.diff(synthetic_ds.artist_tags.indptr)
    lonely = np.flatnonzero((listeners == 0) & (tags == 0))
    if lonely.size == 0:
        pytest.skip("every synthetic artist has a listener or a tag")
    reasons = explainer.because(lonely[:1], np.array([0, 1]), "rated")
    assert reasons == ["popular with listeners of your artists"]


def test_similar_to_and_user_anchors(explainer: Explainer, synthetic_ds: Dataset) -> None:
    top = int(np.argmax(synthetic_ds.artist_listeners()))
    name = synthetic_ds.artist_names[top]
    x = synthetic_ds.interactions.tocsc()
    co = np.unique(x[:, [top]].nonzero()[0])
    shared = np.unique(synthetic_ds.interactions[co].indices)
    shared = shared[shared != top][:3]
    assert explainer.similar_to(shared, top) == [f"listeners of {name} also play it"] * 3
    row = synthetic_ds.interactions.getrow(0)
    anchors = explainer.user_anchors(0)
    assert anchors.size == min(row.nnz, USER_ANCHORS)
    plays = dict(zip(row.indices.tolist(), row.data.tolist(), strict=True))
    assert [plays[a] for a in anchors] == sorted(plays.values(), reverse=True)[: anchors.size]


def test_cached_popular_similarities_are_the_same(synthetic_ds: Dataset) -> None:
    plain = Explainer(synthetic_ds, synthetic_ds.artist_names, synthetic_ds.artist_listeners())
    cached = Explainer(synthetic_ds, synthetic_ds.artist_names, synthetic_ds.artist_listeners())
    cached.cache_popular(100)
    order = np.argsort(-synthetic_ds.artist_listeners(), kind="stable")
    popular, rare = order[:100], order[100:]
    rng = np.random.default_rng(0)
    for items, anchors in [
        (rng.choice(popular, 10, replace=False), rng.choice(popular, 15, replace=False)),
        (rng.choice(popular, 10, replace=False), rng.choice(rare, 5, replace=False)),
        (rng.choice(rare, 10, replace=False), rng.choice(popular, 70, replace=False)),
    ]:
        got = cached.similarity(items, anchors)
        assert got.dtype == np.float32
        assert np.allclose(got, plain.similarity(items, anchors), atol=1e-6)
        assert np.allclose(got, _reference(synthetic_ds, items, anchors), atol=1e-5)
    items, anchors = popular[:10], popular[10:25]
    assert cached.because(items, anchors, "rated") == plain.because(items, anchors, "rated")
