"""The model cache: load or train once per name, staleness, explicit artifacts, swaps, baseline."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from artistrec import create_model
from artistrec.data import Dataset
from artistrec.models.registry import DEFAULT_MODEL
from artistrec.service import InvalidRequestError
from artistrec.service.models import BASELINE_MODEL, ModelCache, default_model_path
from artistrec.store.artifacts import ArtifactError

NAME = "popularity"  # a named (not "default") model: independent of the registry's choice


@pytest.fixture
def artifact(synthetic_ds: Dataset) -> Path:
    """The cache path of the named model, emptied for this test."""
    path = default_model_path(NAME, synthetic_ds.fingerprint)
    path.unlink(missing_ok=True)
    return path


def test_trained_once_saved_and_loaded(synthetic_ds: Dataset, artifact: Path) -> None:
    with pytest.raises(ArtifactError, match="artistrec train popularity"):
        ModelCache(synthetic_ds, train_if_missing=False).get(NAME)
    cache = ModelCache(synthetic_ds)
    results: list = []
    threads = [threading.Thread(target=lambda: results.append(cache.get(NAME))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(m) for m in results}) == 1, "concurrent first calls must share one model"
    assert artifact.is_file() and cache.is_loaded(NAME) and not cache.is_loaded("default")
    again = ModelCache(synthetic_ds, train_if_missing=False)
    assert again.get(NAME).name == NAME
    info = again.info(NAME)
    assert info["data_fingerprint"] == synthetic_ds.fingerprint
    assert info["artifact"] == str(artifact) and info["params"] == {"by": "listeners"}


def test_stale_artifact_is_retrained_and_replaced(synthetic_ds: Dataset, artifact: Path) -> None:
    """An artifact cached under a model's name but trained with since-retuned parameters."""
    create_model(NAME, by="plays").fit(synthetic_ds).save(artifact)
    assert ModelCache(synthetic_ds).get(NAME).get_params() == {"by": "listeners"}
    assert ModelCache(synthetic_ds, train_if_missing=False).get(NAME).by == "listeners"


def test_corrupt_cached_artifact_is_retrained(synthetic_ds: Dataset, artifact: Path) -> None:
    artifact.parent.mkdir(parents=True, exist_ok=True)
    artifact.write_bytes(b"not a model")
    assert ModelCache(synthetic_ds).get(NAME).name == NAME
    assert ModelCache(synthetic_ds, train_if_missing=False).get(NAME).name == NAME


def test_explicit_artifact_serves_default_as_is(synthetic_ds: Dataset, tmp_path: Path) -> None:
    path = tmp_path / "mine.npz"
    with pytest.raises(ArtifactError, match="not found"):
        ModelCache(synthetic_ds, model_path=path).get()
    create_model(NAME, by="plays").fit(synthetic_ds).save(path)
    cache = ModelCache(synthetic_ds, model_path=path)
    assert cache.get().get_params() == {"by": "plays"}  # explicit: never "stale"
    assert cache.artifact_path("default") == path
    path.write_bytes(b"corrupt")
    with pytest.raises(ArtifactError):
        ModelCache(synthetic_ds, model_path=path).get()


def test_default_follows_the_registry(synthetic_ds: Dataset) -> None:
    given = ModelCache(synthetic_ds, models={"default": create_model(NAME).fit(synthetic_ds)})
    assert given.get().name == NAME  # a given model is served without touching the disk
    path = default_model_path(DEFAULT_MODEL, synthetic_ds.fingerprint)
    assert given.artifact_path("default") == path
    assert ModelCache(synthetic_ds).get().name == DEFAULT_MODEL
    assert path.is_file()


def test_unknown_name_and_bad_swaps(synthetic_ds: Dataset) -> None:
    cache = ModelCache(synthetic_ds, models={"default": create_model(NAME).fit(synthetic_ds)})
    for bad in ("nope", 3, None):
        with pytest.raises(InvalidRequestError) as exc:
            cache.get(bad)  # type: ignore[arg-type]
        assert exc.value.field == "model"
    with pytest.raises(InvalidRequestError, match="fitted"):
        cache.set(create_model(NAME))
    other = create_model(NAME).fit(synthetic_ds)
    other.artist_ids_ = other.artist_ids_ + 1
    with pytest.raises(ArtifactError, match="artist ids"):
        cache.set(other)
    fresh = create_model(NAME, by="plays").fit(synthetic_ds)
    cache.set(fresh)
    assert cache.get() is fresh


def test_reload_swaps_in_the_artifact(synthetic_ds: Dataset, tmp_path: Path) -> None:
    path = tmp_path / "m.npz"
    create_model(NAME).fit(synthetic_ds).save(path)
    cache = ModelCache(synthetic_ds, model_path=path, train_if_missing=False)
    old = cache.get()
    create_model(NAME, by="plays").fit(synthetic_ds).save(path)
    new = cache.reload()
    assert new is not old and cache.get() is new and new.by == "plays"


def test_baseline_is_fitted_once_in_memory(synthetic_ds: Dataset, tmp_path: Path) -> None:
    cache = ModelCache(synthetic_ds, model_path=tmp_path / "none.npz", train_if_missing=False)
    base = cache.baseline()
    assert base.name == BASELINE_MODEL and base.is_fitted
    assert base.get_params() == create_model(BASELINE_MODEL).get_params()
    assert cache.baseline() is base
    assert not cache.is_loaded(BASELINE_MODEL) and not list(tmp_path.iterdir())
