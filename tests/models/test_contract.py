"""The model protocol, checked for every registered model on the small synthetic data set.

Every test takes ``model_name``, which conftest parametrises over the registered models, so a
newly registered family is held to the same contract without touching this file.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

import artistrec
import artistrec.models.registry
from artistrec.data import Dataset
from artistrec.data.scale import to_levels
from artistrec.models.base import NotFittedError, Recommender
from artistrec.models.params import Param, ParameterError
from artistrec.store.artifacts import ArtifactError, load_artifact


def _seen(ds: Dataset, user: int) -> np.ndarray:
    x = ds.interactions
    return x.indices[x.indptr[user] : x.indptr[user + 1]]


def test_exclude_seen_leaves_out_tagged_artists_too(
    model_name: str, fitted_models: dict[str, Recommender], synthetic_ds: Dataset
) -> None:
    """Artists a user tagged without a listed listen are known to them: never recommended."""
    model = fitted_models[model_name]
    np.testing.assert_array_equal(model.known_.toarray(), synthetic_ds.known_artists().toarray())
    top, top_scores = model.recommend(np.arange(5), k=3)
    tagged = copy.copy(model)  # the same model, as if each user had tagged their current top-1
    extra = sp.csr_matrix(
        (np.ones(5, np.float32), (np.arange(5), top[:, 0])), shape=model.known_.shape
    )
    tagged.known_ = model.known_ + extra
    items, scores = tagged.recommend(np.arange(5), k=3)
    assert not np.any(items == top[:, [0]])
    np.testing.assert_array_equal(scores[:, :2], top_scores[:, 1:])  # the rest moves up
    # without exclusion nothing is left out
    raw, _ = tagged.recommend(np.arange(5), k=3, exclude_seen=False)
    np.testing.assert_array_equal(raw, model.recommend(np.arange(5), k=3, exclude_seen=False)[0])


# ----------------------------------------------------------------------------------- recommend
def test_recommend_shapes_and_dtypes(
    model_name: str, fitted_models: dict[str, Recommender]
) -> None:
    model = fitted_models[model_name]
    items, scores = model.recommend(3, k=7)
    assert items.shape == (7,) and scores.shape == (7,)
    assert items.dtype == np.int64 and scores.dtype == np.float32
    assert np.all(np.diff(scores) <= 0), "scores must be sorted best first"
    assert len(set(items.tolist())) == 7

    items2, scores2 = model.recommend(np.array([3, 0, 5]), k=7)
    assert items2.shape == (3, 7) and scores2.shape == (3, 7)
    assert items2.dtype == np.int64 and scores2.dtype == np.float32
    np.testing.assert_array_equal(items2[0], items)
    # float32 BLAS sums a batch in another order than one row (a few ulps, which a softmax's
    # exp turns into ~1e-6 relative)
    np.testing.assert_allclose(scores2[0], scores, rtol=1e-5)
    assert np.all(np.isfinite(scores2))

    assert model.recommend(np.array([], dtype=np.int64), k=5)[0].shape == (0, 5)


def test_recommend_rejects_bad_users(
    model_name: str, fitted_models: dict[str, Recommender]
) -> None:
    model = fitted_models[model_name]
    with pytest.raises(IndexError):
        model.recommend(model.n_users)
    with pytest.raises(IndexError):
        model.recommend([-1])
    with pytest.raises(TypeError):
        model.recommend(np.array([0.5]))
    with pytest.raises(ValueError, match="k must be"):
        model.recommend(0, k=0)


def test_exclude_seen(
    model_name: str, fitted_models: dict[str, Recommender], synthetic_ds: Dataset
) -> None:
    model = fitted_models[model_name]
    users = np.arange(40)
    items, _ = model.recommend(users, k=10, exclude_seen=True)
    for u in users:  # a handful of users; checking membership per row is clearer than a mask
        assert not set(items[u].tolist()) & set(_seen(synthetic_ds, u).tolist())
    # without exclusion, the model's own training items come back (it learned from them)
    raw, _ = model.recommend(users, k=10, exclude_seen=False)
    hits = sum(len(set(raw[u].tolist()) & set(_seen(synthetic_ds, u).tolist())) for u in users)
    assert hits > 0


def test_unfitted_model_raises(model_name: str) -> None:
    model = artistrec.create_model(model_name)
    with pytest.raises(NotFittedError):
        model.recommend(0)
    with pytest.raises(NotFittedError):
        model.recommend_new_user({1: 3})


def test_unknown_parameter_is_rejected(model_name: str) -> None:
    with pytest.raises(ValueError, match="no parameter 'no_such_parameter'; valid parameters: "):
        artistrec.create_model(model_name, no_such_parameter=1)


# ----------------------------------------------------------------------------------- new users
def test_new_user_excludes_rated_and_ignores_level_zero(
    model_name: str, fitted_models: dict[str, Recommender]
) -> None:
    model = fitted_models[model_name]
    ratings = {10: 3, 20: 2, 30: 5}
    items, scores = model.recommend_new_user({**ratings, 40: 0}, k=10)
    assert items.shape == (10,) and items.dtype == np.int64 and scores.dtype == np.float32
    assert not {10, 20, 30, 40} & set(items.tolist())
    assert np.all(np.diff(scores) <= 0)

    # level 0 carries no signal: same ranking as without it (minus the excluded artist)
    with_zero, s_zero = model.recommend_new_user({**ratings, 40: 0}, k=20)
    without, s_without = model.recommend_new_user(ratings, k=21)
    keep = without != 40
    np.testing.assert_array_equal(with_zero, without[keep][:20])
    np.testing.assert_allclose(s_zero, s_without[keep][:20], rtol=1e-5, atol=1e-7)

    # exclude_rated=False may return the rated artists again
    items_all, _ = model.recommend_new_user(ratings, k=model.n_items, exclude_rated=False)
    assert {10, 20, 30} <= set(items_all.tolist())


def test_new_user_rejects_bad_input(model_name: str, fitted_models: dict[str, Recommender]) -> None:
    model = fitted_models[model_name]
    with pytest.raises(ValueError, match="level"):
        model.recommend_new_user({1: 6})
    with pytest.raises(ValueError, match="level"):
        model.recommend_new_user({1: -1})
    with pytest.raises(ValueError, match="level"):
        model.recommend_new_user({1: 2.5})
    with pytest.raises(IndexError, match="out of range"):
        model.recommend_new_user({model.n_items: 3})
    with pytest.raises(IndexError, match="out of range"):
        model.recommend_new_user({-1: 3})
    with pytest.raises(TypeError):
        model.recommend_new_user({"7": 3})
    with pytest.raises(TypeError):
        model.recommend_new_user([(1, 3)])


def test_new_user_without_signal_gets_popular_artists(
    model_name: str, fitted_models: dict[str, Recommender]
) -> None:
    model = fitted_models[model_name]
    popular, _ = fitted_models["popularity"].recommend_new_user({}, k=10)
    items, scores = model.recommend_new_user({}, k=10)
    assert items.shape == (10,) and np.all(np.isfinite(scores))
    assert len(set(items.tolist()) & set(popular.tolist())) >= 5
    # only level-0 ratings: the same prior ranking, those artists excluded
    zero_items, _ = model.recommend_new_user({5: 0, 6: 0}, k=10)
    prior12 = model.recommend_new_user({}, k=12)[0]
    np.testing.assert_array_equal(zero_items, prior12[~np.isin(prior12, [5, 6])][:10])


def test_fold_in_of_own_history_matches_learned_user(
    model_name: str, fitted_models: dict[str, Recommender], synthetic_ds: Dataset
) -> None:
    """A known user re-entered as a new person (their own levels) gets similar recommendations."""
    model = fitted_models[model_name]
    x = synthetic_ds.interactions
    overlaps = []
    for u in range(25):
        seen = _seen(synthetic_ds, u)
        levels = to_levels(x.data[x.indptr[u] : x.indptr[u + 1]])
        new_items, _ = model.recommend_new_user(
            {int(a): int(lv) for a, lv in zip(seen, levels, strict=True)}, k=10
        )
        known_items, _ = model.recommend(u, k=10)
        overlaps.append(len(set(new_items.tolist()) & set(known_items.tolist())) / 10)
    # chance level is ~10 / 470 = 0.02. (Models whose fold-in solves their own training
    # criterion exactly score ~1.0; SGD-trained BPR stops short of its optimum: ~0.5 here,
    # 0.39 on the same listens without tags (test_contract_bare.py) and ~0.7 on the real data,
    # measured.)
    floor = 0.3 if model_name == "bpr" else 0.4
    assert np.mean(overlaps) >= floor, f"mean top-10 overlap {np.mean(overlaps):.2f}"


# ----------------------------------------------------------------------------------- similar
@pytest.mark.parametrize("measure", ["cosine", "dot"])
def test_similar_artists(
    model_name: str, measure: str, fitted_models: dict[str, Recommender]
) -> None:
    model = fitted_models[model_name]
    popular = int(fitted_models["popularity"].recommend_new_user({}, k=1)[0][0])
    for artist in (popular, 17):
        items, scores = model.similar_artists(artist, k=8, measure=measure)
        assert items.shape == (8,) and items.dtype == np.int64 and scores.dtype == np.float32
        assert artist not in items.tolist()
        assert np.all(np.diff(scores) <= 0) and np.all(np.isfinite(scores))
        assert len(set(items.tolist())) == 8


def test_similar_artists_rejects_bad_input(
    model_name: str, fitted_models: dict[str, Recommender]
) -> None:
    model = fitted_models[model_name]
    with pytest.raises(ValueError, match="measure"):
        model.similar_artists(1, measure="euclid")
    with pytest.raises(IndexError):
        model.similar_artists(model.n_items)
    with pytest.raises(TypeError):
        model.similar_artists(1.0)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------------- persistence
def test_save_load_round_trip(
    model_name: str, fitted_models: dict[str, Recommender], synthetic_ds: Dataset, tmp_path: Path
) -> None:
    model = fitted_models[model_name]
    path = model.save(tmp_path / f"{model_name}.npz")
    loaded = artistrec.load_model(path, synthetic_ds)
    assert type(loaded) is type(model) and loaded.get_params() == model.get_params()
    users = np.arange(synthetic_ds.n_users)
    assert (loaded.known_ != model.known_).nnz == 0
    for exclude in (True, False):
        a, sa = model.recommend(users, k=15, exclude_seen=exclude)
        b, sb = loaded.recommend(users, k=15, exclude_seen=exclude)
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(sa, sb)
    ratings = {3: 2, 50: 4, 77: 1}
    np.testing.assert_array_equal(
        model.recommend_new_user(ratings, k=15)[1], loaded.recommend_new_user(ratings, k=15)[1]
    )
    for measure in ("cosine", "dot"):
        np.testing.assert_array_equal(
            model.similar_artists(9, k=15, measure=measure)[1],
            loaded.similar_artists(9, k=15, measure=measure)[1],
        )


def test_load_rejects_other_data_and_corrupt_files(
    model_name: str,
    fitted_models: dict[str, Recommender],
    other_ds: Dataset,
    tmp_path: Path,
) -> None:
    path = fitted_models[model_name].save(tmp_path / f"{model_name}.npz")
    with pytest.raises(ArtifactError, match="trained on data"):
        artistrec.load_model(path, other_ds)

    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ArtifactError):
        artistrec.load_model(truncated)

    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"definitely not a model" * 100)
    with pytest.raises(ArtifactError):
        artistrec.load_model(garbage)


# ----------------------------------------------------------------------------------- behaviour
def test_refit_is_deterministic(
    model_name: str, fitted_models: dict[str, Recommender], synthetic_ds: Dataset
) -> None:
    model = fitted_models[model_name]
    again = artistrec.create_model(model_name, **model.get_params()).fit(synthetic_ds)
    users = np.arange(synthetic_ds.n_users)
    a, sa = model.recommend(users, k=10)
    b, sb = again.recommend(users, k=10)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(sa, sb, rtol=1e-5, atol=1e-7)
    ratings = {3: 2, 50: 4, 77: 1}
    np.testing.assert_array_equal(
        model.recommend_new_user(ratings)[0], again.recommend_new_user(ratings)[0]
    )


def test_beats_popularity_on_held_out_synthetic_data(
    model_name: str, synthetic_warm_ndcg: Callable[[str], float]
) -> None:
    if model_name == "popularity":
        pytest.skip("popularity is the baseline")
    ours, baseline = synthetic_warm_ndcg(model_name), synthetic_warm_ndcg("popularity")
    assert ours > 2 * baseline, f"{model_name}: NDCG@10 {ours:.4f} vs popularity {baseline:.4f}"


# ----------------------------------------------------------------------------------- candidates
def _full(model: Recommender, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """The model's whole ranking for one query of ``kind`` (nothing restricted)."""
    n = model.n_items
    if kind == "user":
        return model.recommend(4, k=n)
    if kind == "new":
        return model.recommend_new_user(RATINGS, k=n)
    return model.similar_artists(9, k=n)


def _query(model: Recommender, kind: str, k: int, **filters: object) -> tuple:
    if kind == "user":
        return model.recommend(4, k=k, **filters)
    if kind == "new":
        return model.recommend_new_user(RATINGS, k=k, **filters)
    return model.similar_artists(9, k=k, **filters)


RATINGS = {3: 2, 50: 4, 77: 1}


@pytest.mark.parametrize("kind", ["user", "new", "similar"])
def test_candidates_and_exclusions_restrict_the_ranking(
    model_name: str, kind: str, fitted_models: dict[str, Recommender]
) -> None:
    """``items=`` keeps only candidates and ``exclude=`` drops artists, in the order (and with the
    scores) of the unrestricted ranking."""
    model = fitted_models[model_name]
    full_items, full_scores = _full(model, kind)
    rng = np.random.default_rng(0)
    cand = rng.choice(model.n_items, size=60, replace=False)
    banned = np.concatenate([full_items[:4], rng.choice(model.n_items, size=20)])
    for filters, keep in (
        ({"items": cand}, np.isin(full_items, cand)),
        ({"exclude": banned}, ~np.isin(full_items, banned)),
        (
            {"items": cand, "exclude": banned},
            np.isin(full_items, cand) & ~np.isin(full_items, banned),
        ),
    ):
        items, scores = _query(model, kind, 10, **filters)
        np.testing.assert_array_equal(items, full_items[keep][:10])
        np.testing.assert_allclose(scores, full_scores[keep][:10], rtol=1e-6)
    # an empty candidate set gives an empty list, a candidate set smaller than k a short one
    assert _query(model, kind, 10, items=np.array([], np.int64))[0].size == 0
    few = _query(model, kind, 10, items=cand[:3])[0]
    assert set(few.tolist()) <= set(cand[:3].tolist()) and few.size <= 3


def test_batch_filters_are_per_user_rows(
    model_name: str, fitted_models: dict[str, Recommender]
) -> None:
    """For a batch, a sparse matrix gives each user their own candidates / exclusions; a 1-D
    array applies to every user; rows that run out of candidates are padded with -1 / -inf."""
    model = fitted_models[model_name]
    users = np.array([0, 5, 9])
    rng = np.random.default_rng(1)
    cand = rng.choice(model.n_items, size=(3, 40))
    per_user = sp.csr_matrix(
        (np.ones(cand.size), (np.repeat(np.arange(3), 40), cand.ravel())),
        shape=(3, model.n_items),
    )
    items, scores = model.recommend(users, k=8, items=per_user)
    for row, u in enumerate(users):
        one, one_scores = model.recommend(int(u), k=8, items=cand[row])
        np.testing.assert_array_equal(items[row][: one.size], one)
        np.testing.assert_allclose(scores[row][: one.size], one_scores, rtol=1e-5)
    shared, _ = model.recommend(users, k=8, exclude=cand[0])
    assert not np.isin(shared, cand[0]).any()
    padded, padded_scores = model.recommend(users, k=8, items=np.array([1, 2]))
    assert padded.shape == (3, 8) and np.all(padded[:, 2:] == -1)
    assert np.all(np.isneginf(padded_scores[:, 2:]))
    with pytest.raises(ValueError, match="shape"):
        model.recommend(users, k=8, exclude=per_user[:2])
    with pytest.raises(IndexError, match="out of range"):
        model.recommend(users, k=8, items=np.array([model.n_items]))


@pytest.mark.parametrize("kind", ["user", "new", "similar"])
def test_ties_are_broken_by_index_the_same_for_every_k(
    model_name: str, kind: str, fitted_models: dict[str, Recommender]
) -> None:
    model = fitted_models[model_name]
    full_items, full_scores = _full(model, kind)
    tied = full_scores[1:] == full_scores[:-1]
    assert np.all(full_items[1:][tied] > full_items[:-1][tied])
    for k in (1, 7, 10, 33, 150):
        np.testing.assert_array_equal(_query(model, kind, k)[0], full_items[:k])


# ----------------------------------------------------------------------------------- scores
def test_scores_are_what_the_rankings_rank(
    model_name: str, fitted_models: dict[str, Recommender]
) -> None:
    """``score_users`` / ``score_new_user`` (what a re-ranking pipeline reads) are the scores
    behind ``recommend`` / ``recommend_new_user``."""
    model = fitted_models[model_name]
    users = np.array([2, 11])
    s = model.score_users(users)
    assert s.shape == (2, model.n_items) and s.dtype == np.float32
    # BLAS order changes the last bits: relative to each score and to the scores' scale (the
    # regularised seed-mf puts many scores near 0, where a relative bound alone is too tight)
    ulps = 1e-6 * float(np.abs(s).max())
    np.testing.assert_allclose(model.score_users(2), s[0], rtol=1e-5, atol=ulps)
    items, scores = model.recommend(users, k=12, exclude_seen=False)
    np.testing.assert_allclose(np.take_along_axis(s, items, axis=1), scores, rtol=1e-6)
    assert np.all(scores[:, -1:] >= np.sort(s, axis=1)[:, -12:-11] - 1e-7)

    new = model.score_new_user({**RATINGS, 90: 0})
    assert new.shape == (model.n_items,) and new.dtype == np.float32
    np.testing.assert_array_equal(new, model.score_new_user(RATINGS))  # level 0: no signal
    items, scores = model.recommend_new_user(RATINGS, k=12, exclude_rated=False)
    np.testing.assert_array_equal(new[items], scores)
    assert scores[-1] >= np.sort(new)[-12]


#: Models with an artist embedding (documented in ``Recommender.item_embeddings``).
EMBEDDING_MODELS = {"als", "bpr", "seed-mf", "set-autoencoder", "hybrid", "pipeline", "two-tower"}


def test_item_embeddings_where_the_model_has_them(
    model_name: str, fitted_models: dict[str, Recommender]
) -> None:
    model = fitted_models[model_name]
    emb = model.item_embeddings()
    if model_name not in EMBEDDING_MODELS:
        assert emb is None
        return
    assert emb.ndim == 2 and emb.shape[0] == model.n_items and emb.dtype == np.float32
    assert np.all(np.isfinite(emb)) and np.abs(emb).sum() > 0
    with pytest.raises(NotFittedError):
        artistrec.create_model(model_name).item_embeddings()


# ----------------------------------------------------------------------------------- parameters
def _invalid(spec: Param) -> object:
    """A value ``spec`` rejects."""
    if spec.choices is not None:
        return "no-such-choice"
    if spec.gt is not None:
        return spec.kind(spec.gt)
    if spec.ge is not None:
        return spec.kind(spec.ge - 1)
    if spec.lt is not None:
        return spec.kind(spec.lt)
    return "not a number"


def test_parameters_are_declared_once(model_name: str, synthetic_ds: Dataset) -> None:
    """The declarations give the signature, the defaults, ``get_params``, ``repr`` and the
    table; a bad value fails at ``fit`` with the model, parameter, accepted range and value."""
    cls = artistrec.models.registry.model_class(model_name)
    specs = cls.param_specs()
    signature = inspect.signature(cls).parameters
    assert list(signature) == list(specs)
    assert {n: p.default for n, p in signature.items()} == {n: s.default for n, s in specs.items()}
    model = cls()
    assert model.get_params() == {n: s.default for n, s in specs.items()}
    assert repr(model).startswith(f"{cls.__name__}(") and all(n in repr(model) for n in specs)
    table = cls.param_table()
    assert list(table["name"]) == list(specs) and table["doc"].str.len().gt(10).all()
    with pytest.raises(ParameterError, match="valid parameters: "):
        model.set_params(no_such_parameter=1)
    for name, spec in specs.items():
        bad = _invalid(spec)
        message = f"{model_name}: parameter '{name}' must be {spec.accepts()}, got {bad!r}"
        with pytest.raises(ParameterError) as err:
            cls(**{name: bad}).fit(synthetic_ds)
        assert str(err.value) == message
        if spec.kind is int:
            with pytest.raises(ParameterError, match=name):
                cls(**{name: spec.default + 0.5}).validate_params()


def test_artifact_metadata_holds_the_declared_parameters(
    model_name: str, fitted_models: dict[str, Recommender], tmp_path: Path
) -> None:
    model = fitted_models[model_name]
    meta, _ = load_artifact(model.save(tmp_path / "m.npz"))
    assert meta["params"] == model.get_params()
    assert set(meta["params"]) == set(model.param_specs())
