"""seed-mf: gradients, training curves, gravity, fold-in, persistence, determinism."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from artistrec.data import Dataset
from artistrec.models import create_model, load_model
from artistrec.models.seed_mf import RIDGE_FLOOR, SeedMF, objective


def _tiny_problem(seed: int = 0) -> tuple[np.ndarray, np.ndarray, sp.csr_matrix]:
    rng = np.random.default_rng(seed)
    n, m, d = 6, 9, 3
    mask = rng.random((n, m)) < 0.4
    levels = np.where(mask, rng.integers(1, 6, size=(n, m)), 0).astype(np.float64)
    R = sp.csr_matrix(levels)
    return rng.normal(0, 0.5, (n, d)), rng.normal(0, 0.5, (m, d)), R


@pytest.mark.parametrize(("l2", "gravity"), [(0.0, 0.0), (0.1, 1.0), (0.7, 3.0)])
def test_gradients_match_finite_differences(l2: float, gravity: float) -> None:
    U, V, R = _tiny_problem()
    _, _, gU, gV = objective(U, V, R, l2, gravity)
    eps = 1e-6
    for P, G in ((U, gU), (V, gV)):
        num = np.zeros_like(P)
        for idx in np.ndindex(P.shape):
            old = P[idx]
            P[idx] = old + eps
            up = objective(U, V, R, l2, gravity)[0]
            P[idx] = old - eps
            down = objective(U, V, R, l2, gravity)[0]
            P[idx] = old
            num[idx] = (up - down) / (2 * eps)
        np.testing.assert_allclose(G, num, rtol=1e-5, atol=1e-8)


def test_objective_terms_match_their_definitions() -> None:
    U, V, R = _tiny_problem(1)
    n, m = R.shape
    dense = R.toarray()
    obs = dense > 0
    pred = U @ V.T
    mse = np.mean((pred[obs] - dense[obs]) ** 2)
    l2_term = 0.1 * (np.sum(U**2) / n + np.sum(V**2) / m)
    gravity_term = 2.0 * np.sum(pred**2) / (n * m)  # sum((U'U) o (V'V)) == ||U V'||_F^2
    loss, got_mse, _, _ = objective(U, V, R, 0.1, 2.0)
    assert got_mse == pytest.approx(mse)
    assert loss == pytest.approx(mse + l2_term + gravity_term)


def test_loss_decreases_and_curves_are_recorded(synthetic_ds: Dataset) -> None:
    model = SeedMF(iterations=150, holdout=0.1, random_state=1).fit(synthetic_ds)
    assert model.train_loss_.shape == model.test_loss_.shape == model.objective_.shape == (150,)
    assert model.train_loss_.dtype == np.float32
    assert model.train_loss_[-1] < 0.1 * model.train_loss_[0]
    assert model.test_loss_[-1] < 0.5 * model.test_loss_[0]
    # held-out entries are really held out: the model fits training entries far better
    assert model.test_loss_[-1] > 2 * model.train_loss_[-1]
    n_obs = synthetic_ds.interactions.nnz
    assert model.n_train_obs_ == n_obs - round(0.1 * n_obs)


def test_no_holdout_gives_an_empty_test_curve(synthetic_ds: Dataset) -> None:
    model = SeedMF(iterations=5).fit(synthetic_ds)
    assert model.test_loss_.shape == (0,)
    assert model.n_train_obs_ == synthetic_ds.interactions.nnz


def test_plain_gradient_descent_also_converges(synthetic_ds: Dataset) -> None:
    model = SeedMF(optimizer="gd", learning_rate=5.0, iterations=200).fit(synthetic_ds)
    assert model.train_loss_[-1] < 0.05 * model.train_loss_[0]
    assert np.all(np.diff(model.objective_) <= 1e-6)  # small-step GD descends monotonically


def test_gravity_lowers_predictions_on_unobserved_pairs(synthetic_ds: Dataset) -> None:
    plain = SeedMF(iterations=200).fit(synthetic_ds)
    grav = SeedMF.from_variant("gravity", iterations=200).fit(synthetic_ds)
    unobserved = synthetic_ds.interactions.toarray() == 0
    p_plain = (plain.user_factors_ @ plain.item_factors_.T)[unobserved]
    p_grav = (grav.user_factors_ @ grav.item_factors_.T)[unobserved]
    assert np.mean(p_grav**2) < 0.5 * np.mean(p_plain**2)
    assert np.mean(p_grav) < np.mean(p_plain)


def test_from_variant_and_registry() -> None:
    model = create_model("seed-mf")
    assert isinstance(model, SeedMF)
    assert (model.l2, model.gravity, model.factors, model.init_std) == (0.0, 0.0, 12, 0.25)
    grav = SeedMF.from_variant("gravity", iterations=7)
    assert (grav.l2, grav.gravity, grav.iterations) == (0.1, 1.0, 7)
    with pytest.raises(ValueError, match="variant"):
        SeedMF.from_variant("nope")


def _als_step(model: SeedMF, items: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """One alternating-least-squares update of a user row against fixed V, written out."""
    V = model.item_factors_.astype(np.float64)
    n, m = model.user_factors_.shape[0], V.shape[0]
    n_obs = model.n_train_obs_
    Vr = V[items]
    A = Vr.T @ Vr + max(model.l2 * n_obs / n, RIDGE_FLOOR) * np.eye(V.shape[1])
    A += model.gravity * n_obs / (n * m) * (V.T @ V)
    return np.linalg.solve(A, Vr.T @ levels)


@pytest.mark.parametrize("gravity", [0.0, 1.0])
def test_fold_in_of_a_known_user_reproduces_their_vector(
    synthetic_ds: Dataset, gravity: float
) -> None:
    model = SeedMF(l2=0.1, gravity=gravity, iterations=300).fit(synthetic_ds)
    levels = synthetic_ds.levels()
    cosines, ratios = [], []
    for user in range(0, synthetic_ds.n_users, 10):
        row = levels.getrow(user)
        folded = model.fold_in_vector(row.indices, row.data)
        np.testing.assert_allclose(
            folded, _als_step(model, row.indices, row.data), rtol=1e-4, atol=1e-5
        )
        learned = model.user_factors_[user]
        cosines.append(folded @ learned / (np.linalg.norm(folded) * np.linalg.norm(learned)))
        ratios.append(np.linalg.norm(folded) / np.linalg.norm(learned))
    # at convergence the gradient wrt each user row vanishes, i.e. U[i] IS the exact fold-in
    assert min(cosines) > 0.999
    np.testing.assert_allclose(ratios, 1.0, atol=0.01)


def test_dot_fold_in_is_the_originals_shortcut(synthetic_ds: Dataset) -> None:
    model = SeedMF(iterations=20, fold_in="dot").fit(synthetic_ds)
    ratings = {3: 2, 10: 5, 42: 1}
    V = model.item_factors_
    expected = V @ (np.array([2, 5, 1], np.float32) @ V[[3, 10, 42]])
    items, scores = model.recommend_new_user(ratings, k=5)
    order = np.argsort(-np.where(np.isin(np.arange(V.shape[0]), [3, 10, 42]), -np.inf, expected))
    np.testing.assert_array_equal(items, order[:5])
    np.testing.assert_allclose(scores, expected[items], rtol=1e-5)


def test_new_user_without_ratings_gets_popularity(synthetic_ds: Dataset) -> None:
    model = SeedMF(iterations=5).fit(synthetic_ds)
    items, _ = model.recommend_new_user({}, k=10)
    listeners = np.bincount(synthetic_ds.interactions.indices, minlength=synthetic_ds.n_artists)
    assert np.all(listeners[items] >= np.sort(listeners)[-10])


def test_recommend_is_u_dot_v_and_similar_uses_v(synthetic_ds: Dataset) -> None:
    model = SeedMF(iterations=30).fit(synthetic_ds)
    items, scores = model.recommend(4, k=5, exclude_seen=False)
    full = model.user_factors_[4] @ model.item_factors_.T
    np.testing.assert_array_equal(items, np.argsort(-full, kind="stable")[:5])
    sim_items, _ = model.similar_artists(7, k=5, measure="dot")
    dots = model.item_factors_ @ model.item_factors_[7]
    dots[7] = -np.inf
    np.testing.assert_array_equal(sim_items, np.argsort(-dots, kind="stable")[:5])


def test_save_load_round_trip(synthetic_ds: Dataset, tmp_path: Path) -> None:
    model = SeedMF.from_variant("gravity", iterations=40, holdout=0.2, random_state=3).fit(
        synthetic_ds
    )
    path = model.save(tmp_path / "seed.npz")
    loaded = load_model(path, synthetic_ds)
    assert isinstance(loaded, SeedMF)
    assert loaded.get_params() == model.get_params()
    for attr in ("user_factors_", "item_factors_", "train_loss_", "test_loss_", "objective_"):
        np.testing.assert_array_equal(getattr(loaded, attr), getattr(model, attr))
    assert loaded.test_loss_.shape == (40,)
    ratings = {1: 3, 2: 2, 30: 4}
    for a, b in zip(
        loaded.recommend_new_user(ratings), model.recommend_new_user(ratings), strict=True
    ):
        np.testing.assert_array_equal(a, b)


def test_deterministic_with_a_seed(synthetic_ds: Dataset) -> None:
    a = SeedMF(iterations=30, holdout=0.1, random_state=5).fit(synthetic_ds)
    b = SeedMF(iterations=30, holdout=0.1, random_state=5).fit(synthetic_ds)
    c = SeedMF(iterations=30, holdout=0.1, random_state=6).fit(synthetic_ds)
    np.testing.assert_array_equal(a.item_factors_, b.item_factors_)
    np.testing.assert_array_equal(a.test_loss_, b.test_loss_)
    assert not np.allclose(a.item_factors_, c.item_factors_)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"factors": 0}, "factors"),
        ({"iterations": 2.5}, "iterations"),
        ({"init_std": 0.0}, "init_std"),
        ({"learning_rate": -1.0}, "learning_rate"),
        ({"optimizer": "sgd"}, "optimizer"),
        ({"holdout": 1.0}, "holdout"),
        ({"fold_in": "magic"}, "fold_in"),
        ({"l2": -0.1}, "l2"),
        ({"gravity": float("nan")}, "gravity"),
        ({"init_std": "0.25"}, "init_std"),
        ({"random_state": -1}, "random_state"),
    ],
)
def test_bad_parameters_fail_clearly(
    synthetic_ds: Dataset, params: dict[str, object], match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        SeedMF(**params).fit(synthetic_ds)


def test_divergence_is_reported(synthetic_ds: Dataset) -> None:
    with pytest.raises(FloatingPointError, match="learning_rate"):
        SeedMF(optimizer="gd", learning_rate=1e6, iterations=50).fit(synthetic_ds)


@pytest.mark.integration
def test_gravity_variant_generalises_better_on_real_data(real_ds: Dataset) -> None:
    plain = SeedMF(holdout=0.1, iterations=100).fit(real_ds)
    grav = SeedMF.from_variant("gravity", holdout=0.1, iterations=100).fit(real_ds)
    assert plain.train_loss_[-1] < grav.train_loss_[-1]  # plain fits the observed entries harder
    assert grav.test_loss_[-1] < plain.test_loss_[-1]
