"""The two-tower model (models/two_tower.py, models/neural/): features, the training draw, the
numpy serving path against torch, determinism, learning, and serving without PyTorch."""

from __future__ import annotations

import copy
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

import artistrec
from artistrec.data import Dataset, load_dataset
from artistrec.data.synthetic import SyntheticSpec, generate
from artistrec.models.neural import torch_available
from artistrec.models.neural.features import TIME_FEATURES, tag_tfidf, tag_time_features
from artistrec.models.params import ParameterError
from artistrec.models.two_tower import TwoTower, training_inputs, user_vector, user_vectors

needs_torch = pytest.mark.skipif(
    not torch_available(),
    reason="two-tower needs PyTorch to train: pip install 'artistrec[neural]'",
)

#: Small, quick settings for the synthetic data (200 users): the defaults, with fewer epochs.
QUICK = {"iterations": 40, "batch_size": 64, "patience": 40, "factors": 16, "hidden": 32}


@pytest.fixture(scope="module")
def fitted(synthetic_ds: Dataset) -> TwoTower:
    """One quick fit on the synthetic data, shared by the serving tests."""
    if not torch_available():
        pytest.skip("two-tower needs PyTorch to train: pip install 'artistrec[neural]'")
    return TwoTower(**QUICK).fit(synthetic_ds)


@pytest.fixture(scope="module")
def old_dates_ds(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    """Synthetic data with a few tag dates in 1950-1979, as the real data has."""
    path = generate(tmp_path_factory.mktemp("old_dates"), SyntheticSpec(seed=3, old_tag_dates=6))
    return load_dataset(path, use_cache=False)


# ----------------------------------------------------------------------------------- features
def test_tag_tfidf_rows_are_unit_and_rare_tags_dropped(synthetic_ds: Dataset) -> None:
    T, kept = tag_tfidf(synthetic_ds.artist_tags, min_artists=5)
    df = np.diff(synthetic_ds.artist_tags.tocsc().indptr)
    np.testing.assert_array_equal(kept, np.flatnonzero(df >= 5))
    assert T.shape == (synthetic_ds.n_artists, kept.size) and T.dtype == np.float32
    norms = np.sqrt(np.asarray(T.multiply(T).sum(axis=1)).ravel())
    tagged = np.diff(T.indptr) > 0
    np.testing.assert_allclose(norms[tagged], 1.0, rtol=1e-5)
    assert np.all(norms[~tagged] == 0)


def test_time_features_ignore_implausible_dates(old_dates_ds: Dataset) -> None:
    ta = old_dates_ds.tag_assignments
    years = ta["date"].dt.year.to_numpy()
    assert (years < 2002).sum() > 0  # the fixture has them
    F = tag_time_features(old_dates_ds)
    assert F.shape == (old_dates_ds.n_artists, len(TIME_FEATURES)) and F.dtype == np.float32
    first = F[:, TIME_FEATURES.index("first_year")]
    assert np.nanmin(first) >= 2002
    # an artist tagged only on implausible dates has no time features at all
    ok = ta["artist_index"].to_numpy() >= 0
    art = ta["artist_index"].to_numpy()[ok]
    old_only = np.setdiff1d(art[years[ok] < 2002], art[years[ok] >= 2002])
    assert np.all(np.isnan(F[old_only]))
    untagged = np.setdiff1d(np.arange(old_dates_ds.n_artists), art)
    assert np.all(np.isnan(F[untagged]))
    tagged = np.setdiff1d(art, old_only)
    assert np.all(np.isfinite(F[tagged]))
    recency = F[tagged, TIME_FEATURES.index("recency_years")]
    assert recency.min() == pytest.approx(0.0, abs=1e-3) and recency.max() < 10


@needs_torch
def test_trains_finite_on_data_with_1950s_dates(old_dates_ds: Dataset) -> None:
    model = TwoTower(**{**QUICK, "iterations": 10}).fit(old_dates_ds)
    assert np.all(np.isfinite(model.history_[:, 1:4]))
    for key, value in model.net_.items():
        assert np.all(np.isfinite(value)), key


# ----------------------------------------------------------------------------------- the draw
def test_draw_splits_each_user_into_revealed_and_catalogue_targets() -> None:
    from artistrec.models.neural.two_tower_net import draw

    rng = np.random.default_rng(0)
    X = sp.random(40, 60, density=0.3, random_state=rng, format="csr", dtype=np.float32)
    X.data = rng.integers(1, 6, X.nnz).astype(np.float32)
    X.sort_indices()
    in_cat = rng.random(60) < 0.7
    users = np.flatnonzero(np.diff(X.indptr) >= 2)
    for share in (0.0, 1.0):
        d = draw(X, users, np.random.default_rng(1), in_cat, positives=3, new_user_share=share)
        n = np.diff(X.indptr)[users]
        k = d.mask.sum(axis=1)
        assert np.all(k >= 1) and np.all(k <= n - 1)
        if share == 1.0:
            assert np.all(k == np.clip(k, np.minimum(3, n - 1), np.minimum(10, n - 1)))
        for b, u in enumerate(users):
            own = set(X.indices[X.indptr[u] : X.indptr[u + 1]].tolist())
            rev = set(d.revealed[b][d.mask[b]].tolist())
            tgt = d.pair_artist[d.pair_user == b]
            assert rev <= own and set(tgt.tolist()) <= own - rev
            assert np.all(in_cat[tgt]) and tgt.size == min(
                3, len((own - rev) & set(np.flatnonzero(in_cat)))
            )
            levels = d.revealed_levels[b][d.mask[b]]
            np.testing.assert_array_equal(levels, [X[u, a] for a in d.revealed[b][d.mask[b]]])


# ----------------------------------------------------------------------------------- numpy == torch
@needs_torch
def test_numpy_forward_equals_torch_forward(synthetic_ds: Dataset) -> None:
    import torch

    from artistrec.models.neural import two_tower_net as tt

    data = training_inputs(synthetic_ds, min_listeners=3, min_tag_artists=5)
    cfg = tt.TrainConfig(
        factors=16, hidden=32, l2=0.0, learning_rate=0.01, batch_size=64, iterations=1,
        patience=1, positives=4, uniform_negatives=64, new_user_share=0.5, validation_fraction=0.1, clip_norm=5.0,
        random_state=0,
    )  # fmt: skip
    trainer = tt._Trainer(data, cfg)
    users = np.flatnonzero(np.diff(data.levels.indptr) >= 2)
    rng = np.random.default_rng(0)
    for _ in range(5):  # move off the initial weights
        trainer.step(tt.draw(data.levels, users[:64], rng, trainer.in_cat, 4, 0.5))
    net = trainer.export()
    d = tt.draw(data.levels, users[:30], rng, trainer.in_cat, 4, 0.5)
    trainer.net.eval()
    with torch.no_grad():
        need = np.unique(d.revealed[d.mask])
        expected = trainer._user_vectors(d, need, trainer._content(need)).numpy()
        everyone = np.arange(synthetic_ds.n_artists)
        items = trainer.net.items(trainer._content(everyone), trainer.vocab).numpy()
    k = d.mask.sum(axis=1)
    indptr = np.concatenate([[0], np.cumsum(k)])
    got = user_vectors(net, indptr, d.revealed[d.mask], d.revealed_levels[d.mask])
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    one = user_vector(net, d.revealed[0][d.mask[0]], d.revealed_levels[0][d.mask[0]])
    np.testing.assert_allclose(one, expected[0], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(net["item_vectors"], items[:, :-1], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(net["item_bias"], items[:, -1], rtol=1e-4, atol=1e-5)


# ----------------------------------------------------------------------------------- training
@needs_torch
def test_fixed_seed_gives_identical_artifact_arrays(synthetic_ds: Dataset, tmp_path: Path) -> None:
    params = {**QUICK, "iterations": 5}
    a = TwoTower(**params, random_state=3).fit(synthetic_ds)
    b = TwoTower(**params, random_state=3).fit(synthetic_ds)
    pa, pb = a.save(tmp_path / "a.npz"), b.save(tmp_path / "b.npz")
    with np.load(pa) as za, np.load(pb) as zb:
        assert sorted(za.files) == sorted(zb.files)
        for key in za.files:
            if key != "__meta__":  # holds the creation time
                np.testing.assert_array_equal(za[key], zb[key], err_msg=key)
    c = TwoTower(**params, random_state=4).fit(synthetic_ds)
    assert not np.array_equal(c.net_["item_vectors"], a.net_["item_vectors"])


@needs_torch
def test_loss_decreases_and_stays_finite(synthetic_ds: Dataset) -> None:
    model = TwoTower(**{**QUICK, "iterations": 30, "patience": 30}).fit(synthetic_ds)
    hist = model.history_
    assert hist.shape == (30, 5)
    assert np.all(np.isfinite(hist[:, 1:4]))
    first, last = hist[:3, 1].mean(), hist[-3:, 1].mean()
    assert last < first - 0.1, f"training loss {first:.3f} -> {last:.3f}"
    assert hist[-3:, 2].mean() < hist[:3, 2].mean()  # the full-softmax NLL of training users too
    assert 1 <= model.best_epoch_ <= 30


def _scenes(ds: Dataset, seed: int = 0) -> sp.csr_matrix:
    """Two disjoint scenes: even users listen only to even artists, odd users to odd ones."""
    rng = np.random.default_rng(seed)
    n_u, n_a = ds.n_users, ds.n_artists
    rows, cols = [], []
    for u in range(n_u):  # building the fixture, not a hot path
        scene = np.arange(u % 2, n_a, 2)
        weight = 1.0 / (np.arange(scene.size) + 1.0) ** 0.5
        pick = rng.choice(scene, size=15, replace=False, p=weight / weight.sum())
        rows += [u] * pick.size
        cols += pick.tolist()
    counts = np.exp(rng.normal(5.5, 1.5, len(rows))).round() + 1
    return sp.csr_matrix((counts.astype(np.float32), (rows, cols)), shape=(n_u, n_a))


@needs_torch
def test_learns_two_disjoint_scenes(synthetic_ds: Dataset) -> None:
    ds = synthetic_ds.with_interactions(_scenes(synthetic_ds))
    model = TwoTower(**{**QUICK, "min_listeners": 2}).fit(ds)
    # a new person who rated four artists of one scene gets artists of that scene
    for scene in (0, 1):
        rated = {a: 3 for a in range(scene, 40, 10)}
        items, _ = model.recommend_new_user(rated, k=10)
        assert np.all(items % 2 == scene), f"scene {scene}: {items.tolist()}"
    # known users too
    items, _ = model.recommend(np.arange(20), k=10)
    share = np.mean(items % 2 == (np.arange(20) % 2)[:, None])
    assert share >= 0.95


# ----------------------------------------------------------------------------------- persistence
@needs_torch
def test_save_load_gives_identical_scores(
    fitted: TwoTower, synthetic_ds: Dataset, tmp_path: Path
) -> None:
    model = fitted
    loaded = artistrec.load_model(model.save(tmp_path / "tt.npz"), synthetic_ds)
    users = np.arange(synthetic_ds.n_users)
    np.testing.assert_array_equal(model._score_users(users), loaded._score_users(users))
    items, levels = np.array([3, 50, 77]), np.array([2, 4, 1])
    np.testing.assert_array_equal(
        model._score_new_user(items, levels), loaded._score_new_user(items, levels)
    )
    np.testing.assert_array_equal(loaded.history_, model.history_)
    assert loaded.best_epoch_ == model.best_epoch_


@needs_torch
def test_corrupt_network_arrays_are_refused(fitted: TwoTower) -> None:
    model = fitted
    broken = copy.copy(model)
    state = model._state()
    state["net.user_W0"] = state["net.user_W0"][:-1]
    with pytest.raises(ValueError, match="layer user_0"):
        broken._set_state(state)
    state = model._state()
    state["net.inputs"] = state["net.inputs"][:-1]
    with pytest.raises(ValueError, match="artist map"):
        broken._set_state(state)
    with pytest.raises(KeyError, match="item_bias"):
        broken._set_state({k: v for k, v in model._state().items() if k != "net.item_bias"})


@needs_torch
def test_too_little_data_is_a_clear_error(synthetic_ds: Dataset) -> None:
    with pytest.raises(ValueError, match="lower min_listeners"):
        TwoTower(**QUICK, min_listeners=10_000).fit(synthetic_ds)


def test_bad_parameters_get_clear_errors(synthetic_ds: Dataset) -> None:
    with pytest.raises(ParameterError, match=r"'new_user_share' must be a number in \[0, 1\)"):
        TwoTower(new_user_share=1.5).fit(synthetic_ds)
    with pytest.raises(ParameterError, match="'factors' must be an integer >= 1, got 0"):
        TwoTower(factors=0).fit(synthetic_ds)
    with pytest.raises(ParameterError, match="valid parameters: factors, hidden"):
        artistrec.create_model("two-tower", epochs=3)


# ----------------------------------------------------------------------------------- no torch
NO_TORCH = """
import importlib.abc
import sys


class NoTorch(importlib.abc.MetaPathFinder):  # importing torch fails as when it is missing

    def find_spec(self, name, path, target=None):
        if name.split(".")[0] == "torch":
            raise ModuleNotFoundError(f"No module named {{name!r}}")
        return None


sys.meta_path.insert(0, NoTorch())
import numpy as np
import artistrec
from artistrec.models.neural.ranker import MLPRanker

ds = artistrec.load_dataset({data!r}, use_cache=False)
model = artistrec.load_model({path!r}, ds)
items, _ = model.recommend_new_user({{3: 2, 50: 4}}, k=5)
assert items.shape == (5,)
assert model.recommend(0, k=5)[0].shape == (5,)
assert model.similar_artists(3, k=5)[0].shape == (5,)
with np.load({ranker!r}) as z:
    ranker = MLPRanker.from_state(dict(z))
assert ranker.predict(np.zeros((4, 6), np.float32)).shape == (4,)
try:
    artistrec.create_model("two-tower").fit(ds)
except ImportError as exc:
    assert "two-tower needs PyTorch: pip install 'artistrec[neural]'" in str(exc), exc
else:
    raise AssertionError("fit without torch did not raise")
try:
    MLPRanker().fit(np.zeros((4, 6), np.float32), np.zeros(4, np.float32), [4])
except ImportError as exc:
    assert "MLPRanker needs PyTorch" in str(exc), exc
else:
    raise AssertionError("MLPRanker.fit without torch did not raise")
from artistrec.evaluation.runner import default_model_names
assert "two-tower" not in default_model_names() and "als" in default_model_names()
assert not [m for m in sys.modules if m.split(".")[0] == "torch"]
print("ok")
"""


@needs_torch
def test_serving_needs_no_torch(fitted: TwoTower, synthetic_dir: Path, tmp_path: Path) -> None:
    from artistrec.models.neural.ranker import MLPRanker

    path = fitted.save(tmp_path / "tt.npz")
    rng = np.random.default_rng(0)
    ranker = MLPRanker(iterations=2).fit(
        rng.normal(size=(40, 6)).astype(np.float32), rng.random(40).astype(np.float32), [20, 20]
    )
    np.savez(tmp_path / "ranker.npz", **ranker.state())
    code = NO_TORCH.format(
        data=str(synthetic_dir), path=str(path), ranker=str(tmp_path / "ranker.npz")
    )
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "ok"
    from artistrec.evaluation.runner import default_model_names

    assert "two-tower" in default_model_names()  # trainable here, so evaluated by default
