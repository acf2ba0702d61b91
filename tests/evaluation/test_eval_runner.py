"""Runner end-to-end on synthetic data, exclusion of seen/revealed artists, comparisons, tuning."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from artistrec.evaluation.metrics import ALL_METRICS, evaluate_lists, hit_matrix
from artistrec.evaluation.runner import (
    default_model_names,
    evaluate,
    evaluate_detailed,
    fold_in_latency,
    recommend_known,
    recommend_new,
)
from artistrec.evaluation.splits import recbole_split, warm_split
from artistrec.evaluation.stats import compare, paired_interval
from artistrec.evaluation.tuning import tune
from artistrec.models.popularity import Popularity


class Honest(Popularity):
    """Popularity with ties broken deterministically (so two rankings can be compared exactly)."""

    def _fit(self, dataset: Any) -> None:
        super()._fit(dataset)
        n = self.item_scores_.size
        self.item_scores_ = (self.item_scores_ + np.arange(n, 0, -1) / (4.0 * n**2)).astype(
            np.float32
        )


class Cheater(Honest):
    """Scores the artists it was trained on (or was given) above everything else, and ignores
    the exclusion flags and filters -- the harness must still keep them out of the lists."""

    def _score_users(self, users: np.ndarray) -> np.ndarray:
        return np.asarray(self.seen_[users].todense(), np.float32) * 10 + self.item_scores_

    def _score_new_user(self, items: np.ndarray, levels: np.ndarray) -> np.ndarray:
        s = self.item_scores_.copy()
        s[items] += 10.0
        return s

    def recommend(self, users: Any, k: int = 10, exclude_seen: bool = True, **_: Any) -> Any:
        return super().recommend(users, k, exclude_seen=False)

    def recommend_new_user(
        self, ratings: Any, k: int = 10, exclude_rated: bool = True, **_: Any
    ) -> Any:
        return super().recommend_new_user(ratings, k, exclude_rated=False)


@pytest.mark.parametrize("protocol", ["warm", "new-users", "recbole"])
def test_evaluate_end_to_end(synthetic_ds, protocol: str) -> None:
    df = evaluate(
        synthetic_ds,
        ["popularity"],
        protocol=protocol,
        k=5,
        seeds=(0, 1),
        n_folds=3,
        latency_requests=5,
        latency_runs="all",
        progress=False,
    )
    folds = 3 if protocol == "new-users" else 1
    n_per = 3 if protocol == "new-users" else 1
    assert len(df) == 2 * folds * n_per
    assert set(df["seed"]) == {0, 1}
    assert set(ALL_METRICS) <= set(df.columns)
    for m in ("precision", "recall", "ndcg", "map", "mrr", "hit_rate", "coverage"):
        assert df[m].between(0, 1).all()
    assert (df["ndcg"] > 0).all()  # popularity finds something on genre-structured data
    assert (df["latency_median_ms"] > 0).all() and (df["train_s"] >= 0).all()
    assert (df["latency_p99_ms"] >= df["latency_median_ms"]).all()
    if protocol == "new-users":
        assert sorted(df["n_revealed"].unique()) == [3, 5, 10]
        # the same users are scored for every N within a fold
        assert df.groupby(["seed", "fold"])["n_users"].nunique().eq(1).all()
    else:
        assert df["n_revealed"].isna().all()


def test_evaluate_is_reproducible(synthetic_ds) -> None:
    kw = {"protocol": "warm", "seeds": (3,), "latency_requests": 0, "progress": False}
    a = evaluate(synthetic_ds, ["popularity"], **kw)
    b = evaluate(synthetic_ds, ["popularity"], **kw)
    pd.testing.assert_series_equal(a["ndcg"], b["ndcg"])


def test_harness_excludes_training_and_valid_artists(synthetic_ds) -> None:
    r = recbole_split(synthetic_ds.interactions, seed=0)
    model = Cheater().fit(synthetic_ds.with_interactions(r.train))
    users = np.flatnonzero(np.diff(r.test.indptr) > 0)
    raw, _ = model.recommend(users, k=5)
    assert hit_matrix(raw, r.train[users]).any()  # the cheater does push training artists
    exclude = (r.train + r.valid).tocsr()
    recs = recommend_known(model, users, 5, exclude)
    assert recs.shape == (users.size, 5)
    assert not hit_matrix(recs, exclude[users]).any()  # dropped (-1 fills the list's end)
    assert (recs >= 0).any(axis=1).sum() < users.size  # the cheater wasted its slots
    honest = recommend_known(
        Honest().fit(synthetic_ds.with_interactions(r.train)), users, 5, exclude
    )
    assert (honest >= 0).all() and not hit_matrix(honest, exclude[users]).any()


def test_harness_excludes_revealed_artists(synthetic_ds) -> None:
    model = Cheater().fit(synthetic_ds)
    ratings = {3: 2, 7: 5, 11: 1}
    raw, _ = model.recommend_new_user(ratings, k=5)
    assert set(raw[:3]) == {3, 7, 11}
    recs = recommend_new(model, ratings, 5)
    assert recs.size == 5 and not set(recs) & {3, 7, 11}
    assert (recs == -1).sum() == 3  # the three wasted slots are dropped, not refilled


def test_cheater_gains_nothing_end_to_end(synthetic_ds) -> None:
    """Scoring training artists highest cannot help: they never reach the evaluated lists (the
    slots a model spends on them stay empty)."""
    kw = {"seeds": (0,), "n_folds": 2, "latency_requests": 0, "progress": False}
    for protocol in ("warm", "recbole", "new-users"):
        honest = evaluate(synthetic_ds, {"popularity": Honest()}, protocol=protocol, **kw)
        cheat = evaluate(synthetic_ds, {"popularity": Cheater()}, protocol=protocol, **kw)
        assert len(honest) == len(cheat) > 0
        for metric in ("ndcg", "recall"):
            assert (cheat[metric] < honest[metric]).all(), (protocol, metric)


def test_models_spec_and_errors(synthetic_ds) -> None:
    assert "popularity" in default_model_names() and "default" not in default_model_names()
    df = evaluate(
        synthetic_ds,
        {"popularity": {"by": "plays"}, "listeners": Popularity()},
        seeds=(0,),
        latency_requests=0,
        progress=False,
    )
    assert list(df["model"]) == ["popularity", "listeners"]
    assert '"by": "plays"' in df["params"].iloc[0]
    with pytest.raises(ValueError, match="unknown model"):
        evaluate(synthetic_ds, ["nope"], progress=False)
    with pytest.raises(ValueError, match="protocol"):
        evaluate(synthetic_ds, ["popularity"], protocol="cold", progress=False)
    with pytest.raises(ValueError, match="k must be"):
        evaluate(synthetic_ds, ["popularity"], k=0, progress=False)


def test_fold_in_latency_positive(synthetic_ds) -> None:
    model = Popularity().fit(synthetic_ds)
    med, p99, n = fold_in_latency(model, synthetic_ds.interactions, n_requests=20)
    assert 0 < med <= p99 and n == 20
    _, _, n = fold_in_latency(model, synthetic_ds.interactions, n_requests=50, budget_s=0.0)
    assert n == 10  # the time budget stops timing after the minimum of 10 requests


def test_paired_interval_t_hand_values() -> None:
    iv = paired_interval(np.array([1.0, 2.0, 3.0]), method="t")
    half = 4.302653 * (1.0 / np.sqrt(3))  # t_{0.975, 2} * s / sqrt(n)
    assert iv.mean == pytest.approx(2.0)
    assert (iv.low, iv.high) == pytest.approx((2 - half, 2 + half), abs=1e-5)
    b = paired_interval(np.linspace(0, 1, 50), method="bootstrap", seed=0)
    assert b.low < 0.5 < b.high and b.high - b.low < 0.3
    with pytest.raises(ValueError, match="two"):
        paired_interval(np.array([1.0]))


def test_compare_models(synthetic_ds) -> None:
    res = evaluate_detailed(
        synthetic_ds,
        {"popularity": {}, "plays": Popularity(by="plays")},
        protocol="new-users",
        seeds=(0,),
        n_folds=4,
        latency_requests=0,
        progress=False,
    )
    same = compare(res.per_user, "popularity", "popularity")
    assert (same["mean_diff"] == 0).all() and (same["ci_low"] == same["ci_high"]).all()
    comp = compare(res.per_user, "plays", "popularity", unit="fold")
    assert list(comp["n_revealed"]) == [3, 5, 10] and (comp["n"] == 4).all()
    assert (comp["ci_low"] <= comp["mean_diff"]).all() and (
        comp["mean_diff"] <= comp["ci_high"]
    ).all()
    per_fold = res.summary.pivot_table(index=["fold", "n_revealed"], columns="model", values="ndcg")
    expected = (per_fold["plays"] - per_fold["popularity"]).groupby("n_revealed").mean()
    np.testing.assert_allclose(comp["mean_diff"], expected.to_numpy())
    users = compare(res.per_user, "plays", "popularity", unit="user")
    assert (users["method"] == "bootstrap").all() and (users["n"] > 4).all()


def test_tune_uses_only_training_data(synthetic_ds, monkeypatch: pytest.MonkeyPatch) -> None:
    split = warm_split(synthetic_ds.interactions, seed=0)
    train = synthetic_ds.with_interactions(split.train)
    fitted: list[sp.csr_matrix] = []
    original = Popularity.fit

    def spy(self: Popularity, dataset: Any) -> Popularity:
        fitted.append(dataset.interactions)
        return original(self, dataset)

    monkeypatch.setattr(Popularity, "fit", spy)
    result = tune(train, "popularity", {"by": ["listeners", "plays"]}, seed=0)
    assert result.best_params["by"] in ("listeners", "plays")
    assert len(result.table) == 2
    assert result.best_score == result.table["ndcg"].max()
    test_pairs = split.test.multiply(split.test)  # nonzero pattern of the test set
    for x in fitted:
        assert x.nnz < split.train.nnz  # a validation part was carved out of training
        assert x.multiply(test_pairs).nnz == 0  # and no test listen was ever used
    sampled = tune(train, "popularity", {"by": ["listeners", "plays"]}, n_iter=1, seed=0)
    assert len(sampled.table) == 1


def test_latency_first_run_only_and_max_users(synthetic_ds) -> None:
    df = evaluate(
        synthetic_ds,
        ["popularity"],
        protocol="new-users",
        seeds=(0,),
        n_folds=3,
        n_revealed=(3, 5),
        latency_requests=12,
        max_users=4,
        progress=False,
    )
    first = (df["fold"] == 0) & (df["seed"] == 0)
    assert (
        df.loc[first, "latency_median_ms"].gt(0).all() and (df.loc[first, "latency_n"] == 12).all()
    )
    assert (
        df.loc[~first, "latency_median_ms"].isna().all()
        and (df.loc[~first, "latency_n"] == 0).all()
    )
    assert (df["n_users"] == 4).all()
    again = evaluate(
        synthetic_ds, ["popularity"], protocol="new-users", seeds=(0,), n_folds=3,
        n_revealed=(3, 5), latency_requests=0, max_users=4, progress=False,
    )  # fmt: skip
    np.testing.assert_allclose(again["ndcg"], df["ndcg"])  # the user sample is seeded
    with pytest.raises(ValueError, match="latency_runs"):
        evaluate(synthetic_ds, ["popularity"], latency_runs="some", progress=False)


def test_tune_on_given_valid_split(synthetic_ds) -> None:
    r = recbole_split(synthetic_ds.interactions, seed=0)
    train = synthetic_ds.with_interactions(r.train)
    res = tune(train, "popularity", {"by": ["listeners", "plays"]}, valid=r.valid)
    assert len(res.table) == 2 and 0 < res.best_score <= 1
    manual = evaluate_lists(
        recommend_known(
            Popularity(by=res.best_params["by"]).fit(train),
            np.flatnonzero(np.diff(r.valid.indptr) > 0),
            10,
            r.train,
        ),
        r.valid[np.flatnonzero(np.diff(r.valid.indptr) > 0)],
        r.train,
        10,
    )[1]
    assert res.best_score == pytest.approx(manual["ndcg"])
    with pytest.raises(ValueError, match="shares listens"):
        tune(train, "popularity", {"by": ["plays"]}, valid=r.train)


@pytest.mark.parametrize("name", default_model_names())
def test_every_registered_model_runs_through_the_harness(synthetic_ds, name: str) -> None:
    for protocol in ("warm", "new-users"):
        df = evaluate(
            synthetic_ds,
            [name],
            protocol=protocol,
            seeds=(0,),
            n_folds=2,
            max_users=5,
            latency_requests=3,
            progress=False,
        )
        assert df["ndcg"].between(0, 1).all() and df["n_users"].gt(0).all()
        assert df["latency_median_ms"].iloc[0] > 0
