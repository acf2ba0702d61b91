"""The profile service: ratings checked against the catalogue, the store's operations."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from artistrec.data import Dataset
from artistrec.service import (
    ENV_PROFILE_DB,
    InvalidRequestError,
    ProfileService,
    UnknownArtistError,
    open_store,
)
from artistrec.service.catalogue import Catalogue
from artistrec.service.profiles import profile_db_path
from artistrec.store.profiles import NotOwnerError, ProfileNotFoundError, ProfileStore


@pytest.fixture
def profiles(synthetic_ds: Dataset, tmp_path: Path) -> ProfileService:
    store = ProfileStore(tmp_path / "p.sqlite3")
    yield ProfileService(store, Catalogue(synthetic_ds))
    store.close()


def _ids(ds: Dataset, n: int) -> list[int]:
    return [int(a) for a in ds.artist_ids[np.argsort(-ds.artist_listeners(), kind="stable")[:n]]]


def test_save_load_replace(profiles: ProfileService, synthetic_ds: Dataset) -> None:
    a, b, c = _ids(synthetic_ds, 3)
    pid, token = profiles.save({a: 5, b: 0}, display_name="ann")
    profile = profiles.load(f" {pid} ")
    assert profile.ratings == {a: 5, b: 0} and profile.display_name == "ann"
    assert profiles.save({c: 2}, None, profile_id=pid, token=token) == (pid, token)
    assert profiles.load(pid).ratings == {c: 2} and profiles.load(pid).display_name is None
    for bad in ("wrong", None):
        with pytest.raises(NotOwnerError):
            profiles.save({a: 1}, profile_id=pid, token=bad)
    assert profiles.load(pid).ratings == {c: 2}
    with pytest.raises(ProfileNotFoundError):
        profiles.load("00000000-0000-0000-0000-000000000000")


@pytest.mark.parametrize(
    ("ratings", "error"),
    [
        ({10**9: 3}, UnknownArtistError),
        ({"x": 3}, InvalidRequestError),
        ("not a mapping", InvalidRequestError),
    ],
)
def test_invalid_ratings_store_nothing(
    profiles: ProfileService, synthetic_ds: Dataset, ratings: object, error: type
) -> None:
    with pytest.raises(error):
        profiles.create(ratings)  # type: ignore[arg-type]
    with pytest.raises(InvalidRequestError, match="0..5"):
        profiles.create({_ids(synthetic_ds, 1)[0]: 6})
    assert profiles.store.count() == 0


def test_update_and_delete_check_ratings(profiles: ProfileService, synthetic_ds: Dataset) -> None:
    a, b, c = _ids(synthetic_ds, 3)
    profile, token = profiles.create({a: 3, b: 2})
    with pytest.raises(UnknownArtistError):
        profiles.update(profile.id, token, ratings={10**9: 2})
    with pytest.raises(UnknownArtistError):
        profiles.replace(profile.id, token, {10**9: 2})
    updated = profiles.update(profile.id, token, ratings={c: 4}, remove=[b, 10**9])
    assert updated.ratings == {a: 3, c: 4}
    assert profiles.update(profile.id, token, display_name="x", set_display_name=True).ratings
    profiles.delete(profile.id, token)
    with pytest.raises(ProfileNotFoundError):
        profiles.get(profile.id)


def test_unknown_artists_of_another_data_version(
    profiles: ProfileService, synthetic_ds: Dataset
) -> None:
    a, b = _ids(synthetic_ds, 2)
    stale, _ = profiles.store.create({a: 4, 10**9: 2, b: 0})  # written by an older data set
    assert profiles.load(stale.id).ratings == {a: 4, b: 0}
    assert profiles.get(stale.id).ratings == {a: 4, b: 0, 10**9: 2}
    names = {aid: name for aid, name, _ in profiles.rated_artists(profiles.get(stale.id))}
    assert (
        names[10**9] is None
        and names[a] == synthetic_ds.artist_names[synthetic_ds.artist_map.index([a])[0]]
    )
    assert profiles.ping()


def test_open_store_follows_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_PROFILE_DB, str(tmp_path / "env.sqlite3"))
    assert profile_db_path() == (tmp_path / "env.sqlite3").resolve()
    assert profile_db_path(tmp_path / "arg.sqlite3") == (tmp_path / "arg.sqlite3").resolve()
    store = open_store()
    assert store.path == (tmp_path / "env.sqlite3").resolve() and store.path.is_file()
    store.close()
    monkeypatch.delenv(ENV_PROFILE_DB)
    assert profile_db_path().name == "profiles.sqlite3"
