"""The MLP ranker (models/neural/ranker.py): learning a known order, numpy serving, its state."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from artistrec.models.neural import torch_available
from artistrec.models.neural.ranker import MLPRanker, minmax_per_group, ndcg_at
from artistrec.models.params import ParameterError
from artistrec.models.two_tower import TwoTower

needs_torch = pytest.mark.skipif(
    not torch_available(), reason="MLPRanker.fit needs PyTorch: pip install 'artistrec[neural]'"
)


def ranking_data(
    n_queries: int, seed: int, size: int = 20, missing: float = 0.1
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Queries of ``size`` candidates with 6 features whose true utility is a known nonlinear
    function; returns (X, graded labels 0..3 by true rank, true utility, groups). Feature 4 is
    missing (NaN) for a ``missing`` share of rows, and a missing value itself means "good"."""
    rng = np.random.default_rng(seed)
    n = n_queries * size
    X = rng.normal(size=(n, 6)).astype(np.float32)
    X[:, 5] = X[:, 5] * 100.0 + 1000.0  # a badly scaled, uninformative column
    gone = rng.random(n) < missing
    utility = X[:, 0] + 0.8 * X[:, 1] ** 2 - X[:, 2] * X[:, 3] + 1.5 * gone
    utility += 0.7 * X[:, 4] * ~gone
    X[gone, 4] = np.nan
    groups = np.full(n_queries, size, np.int64)
    rank = np.argsort(np.argsort(-utility.reshape(n_queries, size), axis=1), axis=1).ravel()
    labels = np.select([rank < 2, rank < 5, rank < 9], [3.0, 2.0, 1.0], 0.0).astype(np.float32)
    return X, labels, utility.astype(np.float32), groups


@pytest.fixture(scope="module")
def data() -> dict[str, tuple[np.ndarray, ...]]:
    return {"train": ranking_data(250, 0), "val": ranking_data(60, 1), "test": ranking_data(120, 2)}


def test_minmax_per_group_scales_each_query_to_unit_range() -> None:
    out = minmax_per_group([5.0, 1.0, 3.0, 7.0, 7.0, 2.0], [3, 2, 1])
    np.testing.assert_allclose(out, [1.0, 0.0, 0.5, 0.0, 0.0, 0.0])
    assert out.dtype == np.float32
    with pytest.raises(ValueError, match="sum to"):
        minmax_per_group([1.0, 2.0], [3])


def test_ndcg_at_rewards_the_right_order_and_not_ties() -> None:
    y = np.array([3.0, 0.0, 1.0, 0.0], np.float32)
    groups = np.array([4])
    assert ndcg_at(y, y, groups) == pytest.approx(1.0)
    assert ndcg_at(-y, y, groups) < 0.6
    constant = ndcg_at(np.zeros(4, np.float32), y, groups)  # ties keep the given order
    assert constant == pytest.approx(ndcg_at(np.array([4.0, 3, 2, 1]), y, groups))


@needs_torch
@pytest.mark.parametrize("objective", ["rmse", "listnet", "ranknet"])
def test_each_objective_learns_the_known_order(
    objective: str, data: dict[str, tuple[np.ndarray, ...]]
) -> None:
    X, labels, utility, groups = data["train"]
    Xv, lv, uv, gv = data["val"]
    Xt, lt, _, gt = data["test"]
    # the original's pointwise target: the per-query min-max-normalised utility
    y, yv = (
        (minmax_per_group(utility, groups), minmax_per_group(uv, gv))
        if objective == "rmse"
        else (labels, lv)
    )
    ranker = MLPRanker(objective=objective, iterations=40, random_state=0)
    ranker.fit(X, y, groups, X_val=Xv, y_val=yv, groups_val=gv)
    scores = ranker.predict(Xt)
    assert scores.dtype == np.float32 and scores.shape == (Xt.shape[0],)
    assert np.all(np.isfinite(scores))
    learned = ndcg_at(scores, lt, gt)
    rng = np.random.default_rng(3)
    random = np.mean([ndcg_at(rng.random(Xt.shape[0]), lt, gt) for _ in range(5)])
    assert random < 0.5
    assert learned > random + 0.3, f"{objective}: NDCG@10 {learned:.3f} vs random {random:.3f}"
    hist = ranker.history_
    assert hist.shape[1] == 3 and np.all(np.isfinite(hist[:, 1]))


@needs_torch
def test_numpy_predict_equals_the_torch_network(data: dict[str, tuple[np.ndarray, ...]]) -> None:
    import torch

    from artistrec.models.neural import ranker_net

    X, labels, _, groups = data["train"]
    ranker = MLPRanker(iterations=5, hidden=(16, 8), validation_fraction=0.0)
    ranker.fit(X, labels, groups)
    Z = ranker._transform(X)
    net, _ = ranker_net.train(ranker, Z, labels, groups, None)
    exported = MLPRanker.from_state(
        {**ranker.state(), **{f"layer.{k}": v for k, v in ranker_net.export(net).items()}}
    )
    with torch.no_grad():
        expected = net(torch.from_numpy(Z)).numpy()[:, 0]
    np.testing.assert_allclose(exported.predict(X), expected, rtol=1e-5, atol=1e-5)


@needs_torch
def test_state_round_trip_and_fixed_seed(data: dict[str, tuple[np.ndarray, ...]]) -> None:
    X, labels, _, groups = data["train"]
    Xt = data["test"][0]
    a = MLPRanker(iterations=8, random_state=4).fit(X, labels, groups)
    b = MLPRanker(iterations=8, random_state=4).fit(X, labels, groups)
    sa, sb = a.state(), b.state()
    assert sa.keys() == sb.keys()
    for key in sa:
        assert isinstance(sa[key], np.ndarray)
        np.testing.assert_array_equal(sa[key], sb[key], err_msg=key)
    loaded = MLPRanker.from_state(dict(np.load(_npz(sa))))
    np.testing.assert_array_equal(loaded.predict(Xt), a.predict(Xt))
    assert loaded.objective == a.objective
    c = MLPRanker(iterations=8, random_state=5).fit(X, labels, groups)
    assert not np.array_equal(c.predict(Xt), a.predict(Xt))


def _npz(state: dict[str, np.ndarray]) -> object:
    import io

    buf = io.BytesIO()
    np.savez(buf, **state)
    buf.seek(0)
    return buf


@needs_torch
def test_missing_values_are_used_not_fatal(data: dict[str, tuple[np.ndarray, ...]]) -> None:
    """Missing feature 4 means 'good' in this data: the missing indicator carries it."""
    X, labels, _, groups = data["train"]
    ranker = MLPRanker(iterations=40).fit(X, labels, groups)
    assert ranker.nan_columns_.tolist() == [4]
    probe = np.zeros((2, 6), np.float32)
    probe[:, 5] = 1000.0
    probe[1, 4] = np.nan
    s = ranker.predict(probe)
    assert np.all(np.isfinite(s)) and s[1] > s[0]
    inf = probe.copy()
    inf[0, 4] = np.inf  # any non-finite value counts as missing
    assert ranker.predict(inf)[0] == pytest.approx(s[1])


def test_bad_input_gets_clear_errors(data: dict[str, tuple[np.ndarray, ...]]) -> None:
    X, labels, _, groups = data["train"]
    with pytest.raises(ParameterError, match="MLPRanker: parameter 'objective' must be one of"):
        MLPRanker(objective="lambdamart").fit(X, labels, groups)
    with pytest.raises(ParameterError, match="parameter 'hidden' must be positive layer widths"):
        MLPRanker(hidden=(64, 0)).fit(X, labels, groups)
    with pytest.raises(ParameterError, match="parameter 'learning_rate' must be a number > 0"):
        MLPRanker(learning_rate=0.0).fit(X, labels, groups)
    with pytest.raises(ParameterError, match="valid parameters: objective, hidden"):
        MLPRanker().set_params(epochs=3)
    with pytest.raises(ValueError, match="groups sum to"):
        MLPRanker().fit(X, labels, groups[:-1])
    with pytest.raises(ValueError, match="one label per row"):
        MLPRanker().fit(X, labels[:-1], groups)
    with pytest.raises(ValueError, match="labels >= 0"):
        MLPRanker(objective="listnet").fit(X, labels - 1.0, groups)
    with pytest.raises(ValueError, match="together"):
        MLPRanker().fit(X, labels, groups, X_val=X)
    with pytest.raises(RuntimeError, match="not fitted"):
        MLPRanker().predict(X)
    with pytest.raises(ValueError, match="not a fitted MLPRanker state"):
        MLPRanker.from_state({"mean": np.zeros(3)})


def test_parameters_are_declared_as_the_models_are() -> None:
    """The declarations give ``__init__``, ``get_params`` (JSON-ready) and the validation; the
    ideas the ranker shares with the two-tower model have the same names and kinds."""
    specs = MLPRanker.param_specs()
    assert list(inspect.signature(MLPRanker).parameters) == list(specs)
    params = MLPRanker().get_params()
    assert params["hidden"] == [64, 32] and MLPRanker(**params).get_params() == params
    tower = TwoTower.param_specs()
    shared = set(specs) & set(tower)
    assert shared >= {"l2", "learning_rate", "batch_size", "iterations", "random_state"}
    assert all(specs[n].kind is tower[n].kind for n in shared - {"hidden"})


@needs_torch
def test_predict_checks_the_feature_count(data: dict[str, tuple[np.ndarray, ...]]) -> None:
    X, labels, _, groups = data["train"]
    ranker = MLPRanker(iterations=2).fit(X, labels, groups)
    with pytest.raises(ValueError, match=r"shape \(n, 6\)"):
        ranker.predict(X[:, :5])
