"""SQLite specifics of the profile store (pragmas, file migrations) and choosing a backend."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import pytest

from artistrec.store.profiles import (
    SCHEMA_VERSION,
    PostgresProfileStore,
    ProfileStore,
    SQLiteProfileStore,
    StoreError,
    VersionConflictError,
    default_path,
    hash_token,
    open_profile_store,
)

#: The schema exactly as artistrec wrote it before versions existed (schema version 1).
SCHEMA_V1 = """
CREATE TABLE schema_version (version INTEGER);
CREATE TABLE profiles (
    id TEXT PRIMARY KEY,
    display_name TEXT,
    token_hash TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE ratings (
    profile_id TEXT NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
    artist_id INTEGER NOT NULL,
    level INTEGER NOT NULL CHECK (level BETWEEN 0 AND 5),
    PRIMARY KEY (profile_id, artist_id)
) WITHOUT ROWID;
INSERT INTO schema_version (version) VALUES (1);
"""


def write_v1_database(path: Path) -> dict[str, tuple[str, dict[int, int]]]:
    """A database in today's schema with two profiles; {id: (token, ratings)}."""
    made = {"p-one": ("token-one", {289: 5, 72: 0}), "p-two": ("token-two", {})}
    with sqlite3.connect(path) as c:
        c.execute("PRAGMA journal_mode=WAL")
        c.executescript(SCHEMA_V1)
        for pid, (token, ratings) in made.items():
            c.execute(
                "INSERT INTO profiles VALUES (?, ?, ?, ?, ?)",
                (pid, f"name {pid}", hash_token(token), 1700000000.0, 1700000100.0),
            )
            c.executemany(
                "INSERT INTO ratings VALUES (?, ?, ?)", [(pid, a, lv) for a, lv in ratings.items()]
            )
    return made


@pytest.fixture()
def store(tmp_path: Path) -> SQLiteProfileStore:
    s = SQLiteProfileStore(tmp_path / "p.sqlite3")
    yield s
    s.close()


def test_pragmas(store: SQLiteProfileStore) -> None:
    assert store._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store._conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert store._conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_reopen_is_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "p.sqlite3"
    s = ProfileStore(path)
    p, _ = s.create({1: 3})
    s.close()
    s2 = ProfileStore(path)
    assert s2.get(p.id) == p
    rows = s2._conn.execute("SELECT version FROM schema_version").fetchall()
    assert [r[0] for r in rows] == list(range(1, SCHEMA_VERSION + 1))
    s2.close()


def test_migrates_a_database_of_the_version_1_schema(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    made = write_v1_database(path)
    s = ProfileStore(path)
    try:
        assert s.schema_version == SCHEMA_VERSION == 2 and s.integrity_ok()
        for pid, (_token, ratings) in made.items():
            p = s.get(pid)
            assert p.version == 1 and p.ratings == dict(sorted(ratings.items()))
            assert p.display_name == f"name {pid}" and p.updated_at == 1700000100.0
        # the old owner tokens still work, and versions start counting from 1
        q = s.replace("p-one", "token-one", {289: 4}, "renamed", if_version=1)
        assert q.version == 2 and q.created_at == 1700000000.0
        with pytest.raises(VersionConflictError):
            s.delete("p-one", "token-one", if_version=1)
        s.check_writable()
    finally:
        s.close()
    # reopening does not migrate again
    with sqlite3.connect(path) as c:
        assert [r[0] for r in c.execute("SELECT version FROM schema_version")] == [1, 2]


def test_failed_migration_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "old.sqlite3"
    write_v1_database(path)
    broken = (*SQLiteProfileStore.migrations[:1], "ALTER TABLE profiles ADD COLUMN v INTEGER; x")
    monkeypatch.setattr(SQLiteProfileStore, "migrations", broken)
    with pytest.raises(StoreError, match="cannot open"):
        SQLiteProfileStore(path)
    with sqlite3.connect(path) as c:
        assert [r[0] for r in c.execute("SELECT version FROM schema_version")] == [1]
        cols = [r[1] for r in c.execute("PRAGMA table_info(profiles)")]
        assert "v" not in cols and c.execute("SELECT count(*) FROM profiles").fetchone()[0] == 2


def test_migration_runs_later_steps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "p.sqlite3"
    SQLiteProfileStore(path).close()
    extra = "CREATE TABLE extra_v3 (x INTEGER)"
    monkeypatch.setattr(SQLiteProfileStore, "migrations", (*SQLiteProfileStore.migrations, extra))
    s = SQLiteProfileStore(path)
    assert s.schema_version == SCHEMA_VERSION + 1
    s._conn.execute("SELECT x FROM extra_v3").fetchall()
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
    assert (tmp_path / "junk.sqlite3").read_bytes() == b"not a database at all" * 100


# ---------------------------------------------------------------------------- choosing a backend
def test_paths_and_sqlite_urls_open_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite3"
    for target in (path, str(path), f"sqlite://{path}", f"SQLITE://{path}"):
        for opener in (open_profile_store, ProfileStore):
            s = opener(target)
            assert isinstance(s, SQLiteProfileStore) and s.path == path
            assert s.url == str(path) and s.location == str(path)
            s.close()
    with open_profile_store(f" {path} ") as s:  # pasted with spaces
        assert s.path == path


def test_default_store_is_the_cache_file() -> None:
    for s in (open_profile_store(), open_profile_store(""), ProfileStore.default()):
        assert isinstance(s, SQLiteProfileStore) and s.path == default_path()
        s.close()


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("mysql://u@h/db", "unsupported profile database mysql://"),
        ("sqlite://host/x.db", "names a file, not a host"),
        ("sqlite:relative.db", "sqlite:///path"),
        ("sqlite:///", "names a file"),
    ],
)
def test_bad_targets_are_explained(target: str, message: str) -> None:
    with pytest.raises(StoreError, match=message):
        open_profile_store(target)


def test_non_path_target_is_refused() -> None:
    with pytest.raises(StoreError, match="path or URL"):
        open_profile_store(42)  # type: ignore[arg-type]


def test_postgres_urls_pick_postgres_and_need_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from artistrec.store.profiles.factory import backend_class

    for url in ("postgresql://u@h/db", "postgres://u@h/db", "PostgreSQL://u@h/db"):
        assert backend_class(url) is PostgresProfileStore
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if the extra were not installed
    with pytest.raises(StoreError, match=r"pip install 'artistrec\[postgres\]'"):
        open_profile_store("postgresql://u:secret@h/db")
    with pytest.raises(StoreError, match="postgres"):
        ProfileStore("postgres://u:secret@h/db")


def test_locked_beyond_the_timeout_is_unavailable(tmp_path: Path) -> None:
    from artistrec.store.profiles import StoreUnavailableError

    path = tmp_path / "p.sqlite3"
    s = SQLiteProfileStore(path, timeout=0.2)
    p, token = s.create({1: 1})
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        with pytest.raises(StoreUnavailableError, match="locked") as err:
            s.replace(p.id, token, {1: 2})
        assert err.value.reason == "locked" and err.value.retry_after == 1
        assert not s.ping(write=True) and s.ping()  # reads still work in WAL mode
        assert s.get(p.id).ratings == {1: 1}
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert s.replace(p.id, token, {1: 2}).version == 2
    s.close()
