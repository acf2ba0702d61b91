"""ProfileStore: schema migrations, CRUD, ownership, validation, WAL."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from artistrec.store import profiles as P
from artistrec.store.profiles import (
    InvalidProfileError,
    NotOwnerError,
    ProfileNotFoundError,
    ProfileStore,
    StoreError,
)


@pytest.fixture()
def store(tmp_path: Path) -> ProfileStore:
    s = ProfileStore(tmp_path / "p.sqlite3")
    yield s
    s.close()


def test_schema_and_pragmas(store: ProfileStore) -> None:
    assert store.schema_version == P.SCHEMA_VERSION
    assert store._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store._conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert store.integrity_ok() and store.ping()


def test_reopen_is_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "p.sqlite3"
    s = ProfileStore(path)
    p, _ = s.create({1: 3})
    s.close()
    s2 = ProfileStore(path)
    assert s2.get(p.id).ratings == {1: 3}
    rows = s2._conn.execute("SELECT version FROM schema_version").fetchall()
    assert [r[0] for r in rows] == list(range(1, P.SCHEMA_VERSION + 1))
    s2.close()


def test_migration_runs_later_steps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "p.sqlite3"
    ProfileStore(path).close()
    extra = "CREATE TABLE extra_v2 (x INTEGER)"
    monkeypatch.setattr(P, "MIGRATIONS", (*P.MIGRATIONS, extra))
    monkeypatch.setattr(P, "SCHEMA_VERSION", len(P.MIGRATIONS))
    s = ProfileStore(path)
    assert s.schema_version == P.SCHEMA_VERSION
    s._conn.execute("SELECT x FROM extra_v2").fetchall()
    s.close()


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "p.sqlite3"
    ProfileStore(path).close()
    with sqlite3.connect(path) as c:
        c.execute("INSERT INTO schema_version VALUES (999)")
    with pytest.raises(StoreError, match="newer"):
        ProfileStore(path)


def test_unopenable_path(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError):
        ProfileStore(tmp_path / "file" / "p.sqlite3")
    (tmp_path / "junk.sqlite3").write_bytes(b"not a database at all" * 100)
    with pytest.raises(StoreError):
        ProfileStore(tmp_path / "junk.sqlite3")


def test_crud_and_ownership(store: ProfileStore) -> None:
    p, token = store.create({10: 5, 3: 0}, "alice")
    assert p.ratings == {3: 0, 10: 5} and p.display_name == "alice"
    other, other_token = store.create({})
    assert store.get(p.id).ratings == {3: 0, 10: 5}
    for bad in (None, "", other_token, token + "x"):
        with pytest.raises(NotOwnerError):
            store.replace(p.id, bad, {1: 1})
        with pytest.raises(NotOwnerError):
            store.delete(p.id, bad)
    assert store.get(p.id).ratings == {3: 0, 10: 5}
    q = store.replace(p.id, token, {7: 2}, "bob")
    assert q.ratings == {7: 2} and q.display_name == "bob" and q.updated_at >= p.updated_at
    q = store.update(p.id, token, set_ratings={7: 4, 8: 1}, remove=[99])
    assert q.ratings == {7: 4, 8: 1} and q.display_name == "bob"
    q = store.update(p.id, token, remove=[7], display_name=None, set_display_name=True)
    assert q.ratings == {8: 1} and q.display_name is None
    store.delete(p.id, token)
    with pytest.raises(ProfileNotFoundError):
        store.get(p.id)
    with pytest.raises(ProfileNotFoundError):
        store.delete(p.id, token)
    assert (
        store._conn.execute("SELECT count(*) FROM ratings WHERE profile_id=?", (p.id,)).fetchone()[
            0
        ]
        == 0
    )
    assert store.count() == 1 and store.get(other.id).ratings == {}


def test_token_stored_only_as_hash(store: ProfileStore) -> None:
    p, token = store.create({1: 1})
    stored = store._conn.execute("SELECT token_hash FROM profiles WHERE id=?", (p.id,)).fetchone()[
        0
    ]
    assert stored == P.hash_token(token) and token not in stored


@pytest.mark.parametrize(
    "ratings",
    [{1: 6}, {1: -1}, {1: True}, {1: 2.5}, {"a": 1}, {2**64: 1}, [(1, 1)]],
)
def test_invalid_ratings(store: ProfileStore, ratings: object) -> None:
    with pytest.raises(InvalidProfileError):
        store.create(ratings)  # type: ignore[arg-type]
    assert store.count() == 0


def test_limits_and_atomic_failure(store: ProfileStore, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(InvalidProfileError):
        store.create({i: 1 for i in range(P.MAX_RATINGS + 1)})
    with pytest.raises(InvalidProfileError):
        store.create({}, "x" * (P.MAX_DISPLAY_NAME + 1))
    p, token = store.create({i: 1 for i in range(P.MAX_RATINGS)})
    # an update that would exceed the limit is rolled back entirely
    with pytest.raises(InvalidProfileError):
        store.update(p.id, token, set_ratings={P.MAX_RATINGS: 2}, remove=[])
    assert len(store.get(p.id).ratings) == P.MAX_RATINGS
    with pytest.raises(InvalidProfileError):
        store.update(p.id, token, set_ratings={1: 2}, remove=[1])


def test_concurrent_writers(store: ProfileStore) -> None:
    ids: list[str] = []

    def work(n: int) -> None:
        for i in range(20):
            ids.append(store.create({n * 100 + i: i % 6})[0].id)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.count() == 80 and len(set(ids)) == 80 and store.integrity_ok()
