"""The ``pipeline`` model: registered parts as stage 1, the blend, a LightGBM or an MLP ranker as
stage 2.

The contract suite (test_contract.py) covers the default pipeline like every registered model;
here: the blend is what its docstring says (computed from the standalone parts), the ranker's
training data is leak-free, fixed seeds give identical artifacts, different people get different
lists, save/load keeps the ranker's scores, and fitting the real data stays within budget. For
``ranker="mlp"`` (skipped without PyTorch): new-user lists, re-ordering only the blend's
candidates, save/load, fixed seeds, its RMSE target (the per-user min-max listen weight) and the
error without PyTorch.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

import artistrec
from artistrec.data import Dataset
from artistrec.models import rankers
from artistrec.models.pipeline import Pipeline, part_class
from artistrec.store.artifacts import load_artifact

RATINGS = {3: 2, 40: 4, 41: 1, 99: 5}
#: a small ranker, so the synthetic tests stay fast
SMALL = {"ranker": "lightgbm", "ranker_trees": 20, "dae_iterations": 3, "candidates": 30}


@pytest.fixture(scope="module")
def blend(clustered_ds: Dataset) -> Pipeline:
    return Pipeline(dae_iterations=3).fit(clustered_ds)


@pytest.fixture(scope="module")
def ranked(clustered_ds: Dataset) -> Pipeline:
    pytest.importorskip("lightgbm", reason="the ranker needs the `ranking` extra")
    return Pipeline(**SMALL).fit(clustered_ds)


@pytest.fixture(scope="module")
def training(ranked: Pipeline, clustered_ds: Dataset) -> rankers.TrainingData:
    """The ranker's training rows, rebuilt exactly as ``ranked`` was trained (same seed)."""
    return rankers.training_data(ranked, clustered_ds)


def _ratings(ds: Dataset, user: int, n: int) -> dict[int, int]:
    x = ds.interactions
    arts = x.indices[x.indptr[user] : x.indptr[user + 1]][:n]
    return {int(a): 3 for a in arts}


def test_parts_are_the_registered_models(blend: Pipeline, clustered_ds: Dataset) -> None:
    """Each stage-1 part is the registered model with the pipeline's parameters: fitting the
    standalone model gives the same scores."""
    for name, params in blend.part_specs().items():
        alone = part_class(name)(**params).fit(clustered_ds)
        np.testing.assert_allclose(
            alone.score_users(np.arange(4)), blend.parts_[name].score_users(np.arange(4)), rtol=1e-5
        )


def test_new_user_blend_is_the_weighted_sum_of_max_scaled_parts(blend: Pipeline) -> None:
    items = np.array(list(RATINGS), np.int64)
    levels = np.array(list(RATINGS.values()), np.int64)
    parts = {n: blend.parts_[n].score_new_user(RATINGS) for n in blend.parts_}
    for s in parts.values():
        s[items] = 0.0
    expect = blend.pop_ * (0.9 / items.size + 1e-6)
    expect = expect + parts["item-knn"] / np.abs(parts["item-knn"]).max()
    mod = blend.modelled_
    for name, w in (("dlae", 1.0), ("tag-profile", 1.0), ("set-autoencoder", 1.0), ("als", 0.75)):
        s = np.where(mod, parts[name], 0.0)
        expect = expect + w * s / np.abs(s).max()
    got = blend.score_new_user(RATINGS)
    np.testing.assert_allclose(
        got[~np.isin(np.arange(got.size), items)],
        expect[~np.isin(np.arange(got.size), items)],
        rtol=1e-4,
        atol=1e-6,
    )
    assert blend.new_user_parts(items, levels).keys() >= {"item-knn", "als", "dlae"}


def test_two_users_and_two_new_users_get_different_lists(
    ranked: Pipeline, blend: Pipeline, clustered_ds: Dataset
) -> None:
    """The original's pipeline returned one list for everyone."""
    for model in (blend, ranked):
        lists, _ = model.recommend(np.array([0, 1]), k=10)
        assert set(lists[0].tolist()) != set(lists[1].tolist())
        # users 0 and 1 sit in different taste clusters of clustered_ds
        r0, r1 = _ratings(clustered_ds, 0, 5), _ratings(clustered_ds, 1, 5)
        n0 = model.recommend_new_user(r0, k=10)[0]
        n1 = model.recommend_new_user(r1, k=10)[0]
        assert len(set(n0.tolist()) & set(n1.tolist())) < 5


def test_ranker_reorders_the_blends_candidates(ranked: Pipeline, clustered_ds: Dataset) -> None:
    ratings = _ratings(clustered_ds, 2, 5)
    items = np.array(list(ratings), np.int64)
    levels = np.array(list(ratings.values()), np.int64)
    parts = ranked.new_user_parts(items, levels)
    blend = ranked.blend_new_user(parts, items.size)
    cand = rankers.candidates(blend, items, ranked.candidates)
    top, _ = ranked.recommend_new_user(ratings, k=ranked.candidates)
    assert set(top.tolist()) == set(cand.tolist())  # the same artists, re-ordered
    # the numpy tree evaluation is LightGBM's own prediction
    import lightgbm as lgb

    x = rankers.features(ranked, items, levels, parts, blend, cand)
    booster = lgb.Booster(model_str=ranked.ranker_.model_text_)
    np.testing.assert_allclose(
        ranked.ranker_.predict(x), booster.predict(x, raw_score=True), rtol=1e-6, atol=1e-9
    )


def test_ranker_training_rows_never_scored_by_a_stage1_that_saw_their_labels(
    training: rankers.TrainingData, clustered_ds: Dataset
) -> None:
    """Each training row's candidate was scored by the stage 1 fitted without that user: the
    user's listens (the labels) are absent from its training data, and the item statistics
    (listeners) it used do not count them."""
    data = training
    x = clustered_ds.interactions
    assert data.labels.sum() > 0
    for g, sub in enumerate(data.stage1):
        users = np.unique(data.users[data.group == g])
        assert sub.seen_[users].nnz == 0  # never saw any listen of its pseudo-new users
        # the item statistics come from the reduced data: listeners exclude the group
        expect = np.log1p(
            np.asarray((x > 0).sum(axis=0)).ravel() - np.asarray((x[users] > 0).sum(axis=0)).ravel()
        )
        np.testing.assert_allclose(sub.item_features_[:, 0], expect, rtol=1e-6)
    # every labelled pair is a real listen of that user, and outside its group's stage-1 data
    pos = data.labels > 0
    assert np.all(np.asarray(x[data.users[pos], data.artists[pos]]).ravel() > 0)


def test_a_leaked_label_would_be_exploited_but_the_features_carry_none(
    training: rankers.TrainingData, ranked: Pipeline
) -> None:
    """Planted signal: a column equal to the label is learned perfectly (the ranker can exploit a
    leak), while no column of the real features is a function of the label."""
    data = training
    leaky = np.column_stack([data.features, data.labels])
    r = rankers.LightGBMRanker(n_estimators=20).fit(leaky, data.labels, data.groups)
    p = r.predict(leaky)
    assert p[data.labels > 0].min() > p[data.labels == 0].max()
    # the real features do not separate the labels perfectly on the training rows
    p = ranked.ranker_.predict(data.features) + data.init_score
    assert not p[data.labels > 0].min() > p[data.labels == 0].max()


def test_fixed_seeds_give_identical_artifacts(
    ranked: Pipeline, clustered_ds: Dataset, tmp_path: Path
) -> None:
    a = ranked.save(tmp_path / "a")
    b = Pipeline(**SMALL).fit(clustered_ds).save(tmp_path / "b")
    meta_a, state_a = load_artifact(a)
    meta_b, state_b = load_artifact(b)
    assert meta_a["params"] == meta_b["params"]
    assert state_a.keys() == state_b.keys()
    for key in state_a:
        va, vb = state_a[key], state_b[key]
        if sp.issparse(va):
            va, vb = va.toarray(), vb.toarray()
        np.testing.assert_array_equal(np.asarray(va), np.asarray(vb), err_msg=key)


def test_save_load_gives_identical_scores(ranked: Pipeline, tmp_path: Path) -> None:
    path = ranked.save(tmp_path / "p")
    loaded = artistrec.load_model(path)
    np.testing.assert_array_equal(loaded.score_new_user(RATINGS), ranked.score_new_user(RATINGS))
    np.testing.assert_array_equal(
        loaded.score_users(np.arange(3)), ranked.score_users(np.arange(3))
    )
    assert loaded.ranker_ is not None


@pytest.mark.integration
def test_fit_on_real_data_within_budget(real_ds: Dataset) -> None:
    """The blend pipeline trains within the default model's 60 s on the full HetRec data. CPU
    time of this process (its parts run on one thread), so other load on a shared machine does
    not count; the ranker's 3 extra stage-1 fits cost ~94 CPU-s (docs/BENCHMARKS.md), which is
    why it is not the default."""
    t0 = time.process_time()
    model = Pipeline().fit(real_ds)
    elapsed = time.process_time() - t0
    assert elapsed <= 60.0, f"fit took {elapsed:.1f} CPU-s"
    items, _ = model.recommend_new_user({0: 3, 1: 2, 2: 4}, k=10)
    assert items.size == 10


def test_time_features_come_from_the_tag_dates(blend: Pipeline, clustered_ds: Dataset) -> None:
    """The tag-date columns vary with the data (they were once constant: a wrong column name),
    and the ablation switch makes them constant."""
    f = rankers.item_features(blend, clustered_ds)
    cols = [rankers.ITEM_FEATURES.index(n) for n in rankers.TIME_FEATURES]
    assert all(np.unique(f[:, c]).size > 2 for c in cols)
    off = Pipeline(dae_iterations=3, ranker_time_features=False)
    off.__dict__.update({k: v for k, v in blend.__dict__.items() if k.endswith("_")})
    assert np.all(rankers.item_features(off, clustered_ds)[:, cols] == 0.0)


# ----------------------------------------------------------------------------- the MLP ranker
#: the original's ranking model as stage 2, small and quick for the synthetic data
SMALL_MLP = {
    "ranker": "mlp",
    "ranker_iterations": 8,
    "dae_iterations": 3,
    "candidates": 30,
}


@pytest.fixture(scope="module")
def mlp_ranked(clustered_ds: Dataset) -> Pipeline:
    pytest.importorskip("torch", reason="ranker='mlp' trains with PyTorch (the `neural` extra)")
    return Pipeline(**SMALL_MLP).fit(clustered_ds)


def test_mlp_ranker_fits_and_recommends_new_users(
    mlp_ranked: Pipeline, clustered_ds: Dataset
) -> None:
    from artistrec.models.neural.ranker import MLPRanker

    assert isinstance(mlp_ranked.ranker_, rankers.MLPStage2)
    assert isinstance(mlp_ranked.ranker_.net_, MLPRanker)
    assert mlp_ranked.ranker_.net_.objective == "rmse"
    assert artistrec.create_model("pipeline", ranker="mlp").ranker == "mlp"
    ratings = _ratings(clustered_ds, 2, 5)
    items, scores = mlp_ranked.recommend_new_user(ratings, k=10)
    assert items.size == 10 and np.all(np.isfinite(scores))
    assert not set(items.tolist()) & set(ratings)
    assert np.all(np.diff(scores) <= 0)
    # two new users from different taste clusters get different lists
    other = mlp_ranked.recommend_new_user(_ratings(clustered_ds, 1, 5), k=10)[0]
    assert set(items.tolist()) != set(other.tolist())


def test_mlp_ranker_only_reorders_the_blends_candidates(
    mlp_ranked: Pipeline, clustered_ds: Dataset
) -> None:
    ratings = _ratings(clustered_ds, 0, 5)
    items = np.array(list(ratings), np.int64)
    levels = np.array(list(ratings.values()), np.int64)
    parts = mlp_ranked.new_user_parts(items, levels)
    blend = mlp_ranked.blend_new_user(parts, items.size)
    cand = rankers.candidates(blend, items, mlp_ranked.candidates)
    top, top_scores = mlp_ranked.recommend_new_user(ratings, k=mlp_ranked.candidates)
    assert set(top.tolist()) == set(cand.tolist())  # the same artists, re-ordered
    # ordered by the network's numpy output (not blend + output: the blend is a feature)
    x = rankers.features(mlp_ranked, items, levels, parts, blend, cand)
    expect = mlp_ranked.ranker_.net_.predict(x)
    np.testing.assert_allclose(np.sort(top_scores)[::-1], np.sort(expect)[::-1], rtol=1e-6)
    # below the candidates, every other artist in blend order
    full = mlp_ranked.score_new_user(ratings)
    rest = np.setdiff1d(np.arange(full.size), np.concatenate([cand, items]))
    assert full[rest].max() < full[cand].min()
    by_blend = np.argsort(-blend[rest], kind="stable")
    assert np.all(np.diff(full[rest][by_blend]) <= 0)  # (float32 shift may merge tiny gaps)


def test_mlp_rmse_target_is_the_per_user_minmax_listen_weight(
    mlp_ranked: Pipeline, clustered_ds: Dataset
) -> None:
    data = rankers.training_data(mlp_ranked, clustered_ds)
    y = rankers.targets(mlp_ranked, data)
    x = clustered_ds.interactions
    listened = np.asarray(x[data.users, data.artists]).ravel()
    pos = data.labels > 0
    np.testing.assert_array_equal(data.weights[pos], listened[pos])  # the real listen counts
    assert np.all(data.weights[~pos] == 0) and np.all(y[~pos] == 0)
    assert y.min() == 0.0 and y.max() == 1.0 and np.unique(y[pos]).size > 2
    starts = np.concatenate([[0], np.cumsum(data.groups)[:-1]])
    q = int(np.flatnonzero(np.add.reduceat(data.labels, starts) > 0)[0])
    rows = slice(starts[q], starts[q] + data.groups[q])
    np.testing.assert_allclose(y[rows], data.weights[rows] / data.weights[rows].max(), rtol=1e-6)
    listwise = Pipeline(**{**SMALL_MLP, "ranker_objective": "listnet"})
    np.testing.assert_array_equal(rankers.targets(listwise, data), data.labels)


def test_mlp_ranker_save_load_gives_identical_scores(mlp_ranked: Pipeline, tmp_path: Path) -> None:
    path = mlp_ranked.save(tmp_path / "mlp")
    loaded = artistrec.load_model(path)
    assert isinstance(loaded.ranker_, rankers.MLPStage2)
    np.testing.assert_array_equal(
        loaded.score_new_user(RATINGS), mlp_ranked.score_new_user(RATINGS)
    )
    np.testing.assert_array_equal(
        loaded.score_users(np.arange(3)), mlp_ranked.score_users(np.arange(3))
    )


def test_mlp_ranker_fixed_seed_gives_identical_artifacts(
    mlp_ranked: Pipeline, clustered_ds: Dataset, tmp_path: Path
) -> None:
    a = mlp_ranked.save(tmp_path / "a")
    b = Pipeline(**SMALL_MLP).fit(clustered_ds).save(tmp_path / "b")
    meta_a, state_a = load_artifact(a)
    meta_b, state_b = load_artifact(b)
    assert meta_a["params"] == meta_b["params"]
    assert state_a.keys() == state_b.keys()
    assert any(".ranker.layer." in k for k in state_a)  # the network is in the npz
    for key in state_a:
        va, vb = state_a[key], state_b[key]
        if sp.issparse(va):
            va, vb = va.toarray(), vb.toarray()
        np.testing.assert_array_equal(np.asarray(va), np.asarray(vb), err_msg=key)


def test_mlp_ranker_without_torch_fails_clearly_before_fitting(
    clustered_ds: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` raises ImportError
    model = Pipeline(**SMALL_MLP)
    with pytest.raises(ImportError, match=r"ranker='mlp'.*PyTorch.*neural"):
        model.fit(clustered_ds)
    assert not hasattr(model, "parts_")  # failed before the stage-1 fits
