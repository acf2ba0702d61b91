"""Artifacts of an older state layout are refused with a clear error, not at request time."""

from __future__ import annotations

from pathlib import Path

import pytest

from artistrec import create_model, load_model
from artistrec.data import Dataset
from artistrec.service import RecommenderService, default_model_path
from artistrec.store.artifacts import ArtifactError, load_artifact, save_artifact


def _rewrite(path: Path, meta_update: dict | None = None, drop: str | None = None) -> None:
    meta, state = load_artifact(path)
    meta.update(meta_update or {})
    for key in ("format", "format_version", "versions", "arrays"):
        meta.pop(key)
    if drop:
        state.pop(drop)
    save_artifact(path, meta, state)


def test_other_state_version_is_refused(synthetic_ds: Dataset, tmp_path: Path) -> None:
    path = create_model("popularity").fit(synthetic_ds).save(tmp_path / "m.npz")
    _rewrite(path, {"state_version": 99})
    with pytest.raises(ArtifactError, match="state version 99"):
        load_model(path, synthetic_ds)


def test_hybrid_artifact_missing_an_array_is_refused(synthetic_ds: Dataset, tmp_path: Path) -> None:
    path = create_model("hybrid").fit(synthetic_ds).save(tmp_path / "h.npz")
    _rewrite(path, drop="m.core.item_factors_mod_t")
    with pytest.raises(ArtifactError, match="item_factors_mod_t"):
        load_model(path, synthetic_ds)


def test_artifact_without_known_artists_is_refused(synthetic_ds: Dataset, tmp_path: Path) -> None:
    """Artifacts written before ``known`` (listened or tagged artists) existed must be retrained."""
    path = create_model("popularity").fit(synthetic_ds).save(tmp_path / "p.npz")
    _rewrite(path, drop="known")
    with pytest.raises(ArtifactError, match="known.*retrain"):
        load_model(path, synthetic_ds)


def test_service_retrains_an_outdated_cached_artifact(synthetic_ds: Dataset) -> None:
    path = default_model_path("popularity", synthetic_ds.fingerprint)
    create_model("popularity").fit(synthetic_ds).save(path)
    _rewrite(path, {"state_version": 0})
    model = RecommenderService(synthetic_ds).model("popularity")
    assert model.recommend_new_user({}, k=3)[0].size == 3
    assert load_model(path, synthetic_ds).state_version == 1  # replaced by the retrained one


@pytest.mark.parametrize(
    ("name", "old_params"),
    [
        ("als", {"regularization": 30.0}),
        ("seed-mf", {"dim": 12, "epochs": 300, "seed": 0}),
        ("set-autoencoder", {"hidden": 256, "lr": 0.007}),
        ("hybrid", {"lam": 100.0, "min_users": 3}),
    ],
)
def test_artifacts_from_before_the_parameter_renames_are_refused(
    name: str, old_params: dict, synthetic_ds: Dataset, tmp_path: Path
) -> None:
    """The renamed families bumped their state version: an artifact written before (old
    version, old parameter names) asks for a retrain; so do old names under the new version."""
    model = create_model(name, **({"iterations": 1} if name == "set-autoencoder" else {}))
    path = model.fit(synthetic_ds).save(tmp_path / "m.npz")
    meta, _ = load_artifact(path)
    params = {k: v for k, v in meta["params"].items() if k not in ("l2", "factors")}
    _rewrite(path, {"state_version": model.state_version - 1, "params": {**params, **old_params}})
    with pytest.raises(ArtifactError, match="retrain"):
        load_model(path, synthetic_ds)
    _rewrite(path, {"state_version": model.state_version})
    with pytest.raises(ArtifactError, match=f"no parameter '{next(iter(old_params))}'.*retrain"):
        load_model(path, synthetic_ds)
