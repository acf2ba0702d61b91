"""Listener profiles in SQLite: ratings by ORIGINAL artist id, owned through a bearer token.

One file, WAL journal, ``synchronous=FULL`` (an acknowledged write survives a crash), foreign
keys on, and a ``schema_version`` table applied by ordered migrations. Only the SHA-256 hash of
each owner token is stored; it is compared in constant time (:func:`hmac.compare_digest`).
The store validates shapes (levels 0..5, integer ids, sizes) but not whether an artist exists:
that is the service's job, so the store never needs the data set.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from artistrec.data.source import cache_dir

MAX_RATINGS = 1000
MAX_DISPLAY_NAME = 100

#: Ordered migrations; migration i brings the schema from version i to i + 1.
MIGRATIONS: tuple[str, ...] = (
    """
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
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


class StoreError(RuntimeError):
    """The database cannot be opened or has an unsupported schema."""


class ProfileNotFoundError(KeyError):
    """No profile with this id."""

    def __init__(self, profile_id: str) -> None:
        self.profile_id = profile_id
        super().__init__(f"no profile with id {profile_id!r}")

    def __str__(self) -> str:
        return str(self.args[0])


class NotOwnerError(PermissionError):
    """The bearer token is missing or does not own the profile."""


class InvalidProfileError(ValueError):
    """Profile data of the wrong shape (level outside 0..5, too many ratings, ...)."""


@dataclass
class Profile:
    """A stored profile: ratings map original artist id -> level 0..5."""

    id: str
    display_name: str | None
    ratings: dict[int, int] = field(default_factory=dict)
    created_at: float = 0.0
    updated_at: float = 0.0


def hash_token(token: str) -> str:
    """Hex SHA-256 of an owner token (what is stored)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def default_path() -> Path:
    """``<cache dir>/profiles.sqlite3``."""
    return cache_dir() / "profiles.sqlite3"


def _check_ratings(ratings: Mapping[int, int]) -> dict[int, int]:
    if not isinstance(ratings, Mapping):
        raise InvalidProfileError("ratings must be a mapping {artist id: level}")
    out: dict[int, int] = {}
    for key, level in ratings.items():
        if isinstance(key, bool) or not isinstance(key, int) or not -(2**63) <= key < 2**63:
            raise InvalidProfileError(f"artist id must be a 64-bit integer, got {key!r}")
        if isinstance(level, bool) or not isinstance(level, int) or not 0 <= level <= 5:
            raise InvalidProfileError(f"level must be an integer 0..5, got {level!r}")
        out[key] = level
    return out


def _check_name(name: str | None) -> str | None:
    if name is None:
        return None
    if not isinstance(name, str) or len(name) > MAX_DISPLAY_NAME:
        raise InvalidProfileError(f"display_name must be a string of at most {MAX_DISPLAY_NAME}")
    return name


class ProfileStore:
    """Thread-safe profile store over one SQLite file (one connection, serialised by a lock)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(
                self.path, timeout=10.0, isolation_level=None, check_same_thread=False
            )
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.execute("PRAGMA foreign_keys=ON")
            self._conn.execute("PRAGMA busy_timeout=10000")
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open profile database {self.path}: {exc}") from exc
        self._lock = threading.RLock()
        self._migrate()

    @classmethod
    def default(cls) -> ProfileStore:
        """The store at :func:`default_path`."""
        return cls(default_path())

    # ------------------------------------------------------------------ schema
    def _migrate(self) -> None:
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                self._conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER)")
                row = self._conn.execute("SELECT max(version) FROM schema_version").fetchone()
                version = int(row[0]) if row and row[0] is not None else 0
                if version > SCHEMA_VERSION:
                    raise StoreError(
                        f"{self.path} has schema version {version}, newer than this artistrec "
                        f"({SCHEMA_VERSION}); upgrade artistrec"
                    )
                for i in range(version, SCHEMA_VERSION):
                    for statement in MIGRATIONS[i].split(";"):
                        if statement.strip():
                            self._conn.execute(statement)
                    self._conn.execute("INSERT INTO schema_version (version) VALUES (?)", (i + 1,))
                self._conn.execute("COMMIT")
            except BaseException as exc:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise StoreError(f"cannot migrate {self.path}: {exc}") from exc
                raise

    @property
    def schema_version(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT max(version) FROM schema_version").fetchone()[0])

    def integrity_ok(self) -> bool:
        """``PRAGMA integrity_check`` says ok."""
        with self._lock:
            return self._conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    def ping(self) -> bool:
        """The database answers a trivial query."""
        try:
            with self._lock:
                self._conn.execute("SELECT 1").fetchone()
            return True
        except sqlite3.Error:
            return False

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # ------------------------------------------------------------------ helpers
    def _tx(self) -> _Transaction:
        return _Transaction(self)

    def _authorize(self, profile_id: str, token: str | None) -> None:
        row = self._conn.execute(
            "SELECT token_hash FROM profiles WHERE id = ?", (profile_id,)
        ).fetchone()
        if row is None:
            raise ProfileNotFoundError(profile_id)
        given = hash_token(token) if isinstance(token, str) and token else ""
        if not hmac.compare_digest(given.encode(), str(row[0]).encode()):
            raise NotOwnerError("the bearer token does not own this profile")

    def _read(self, profile_id: str) -> Profile:
        row = self._conn.execute(
            "SELECT id, display_name, created_at, updated_at FROM profiles WHERE id = ?",
            (profile_id,),
        ).fetchone()
        if row is None:
            raise ProfileNotFoundError(profile_id)
        ratings = dict(
            self._conn.execute(
                "SELECT artist_id, level FROM ratings WHERE profile_id = ? ORDER BY artist_id",
                (profile_id,),
            ).fetchall()
        )
        return Profile(row[0], row[1], ratings, float(row[2]), float(row[3]))

    # ------------------------------------------------------------------ operations
    def create(
        self, ratings: Mapping[int, int], display_name: str | None = None
    ) -> tuple[Profile, str]:
        """A new profile with a random UUID; returns it and its owner token (shown once)."""
        ratings = _check_ratings(ratings)
        if len(ratings) > MAX_RATINGS:
            raise InvalidProfileError(f"at most {MAX_RATINGS} ratings per profile")
        display_name = _check_name(display_name)
        profile_id = str(uuid.uuid4())
        token = secrets.token_urlsafe(32)
        now = time.time()
        with self._tx() as c:
            c.execute(
                "INSERT INTO profiles (id, display_name, token_hash, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (profile_id, display_name, hash_token(token), now, now),
            )
            c.executemany(
                "INSERT INTO ratings (profile_id, artist_id, level) VALUES (?, ?, ?)",
                [(profile_id, a, lv) for a, lv in ratings.items()],
            )
        return Profile(profile_id, display_name, dict(sorted(ratings.items())), now, now), token

    def get(self, profile_id: str) -> Profile:
        """The profile ``profile_id`` (raises :class:`ProfileNotFoundError`)."""
        with self._lock:
            return self._read(profile_id)

    def replace(
        self,
        profile_id: str,
        token: str | None,
        ratings: Mapping[int, int],
        display_name: str | None = None,
    ) -> Profile:
        """Replace all ratings and the display name (owner only)."""
        ratings = _check_ratings(ratings)
        if len(ratings) > MAX_RATINGS:
            raise InvalidProfileError(f"at most {MAX_RATINGS} ratings per profile")
        display_name = _check_name(display_name)
        with self._tx() as c:
            self._authorize(profile_id, token)
            c.execute("DELETE FROM ratings WHERE profile_id = ?", (profile_id,))
            c.executemany(
                "INSERT INTO ratings (profile_id, artist_id, level) VALUES (?, ?, ?)",
                [(profile_id, a, lv) for a, lv in ratings.items()],
            )
            c.execute(
                "UPDATE profiles SET display_name = ?, updated_at = ? WHERE id = ?",
                (display_name, time.time(), profile_id),
            )
            return self._read(profile_id)

    def update(
        self,
        profile_id: str,
        token: str | None,
        set_ratings: Mapping[int, int] | None = None,
        remove: Iterable[int] = (),
        display_name: str | None = None,
        set_display_name: bool = False,
    ) -> Profile:
        """Upsert ``set_ratings``, delete ``remove``, optionally change the name (owner only)."""
        upserts = _check_ratings(set_ratings or {})
        removed = list(remove)
        if any(isinstance(a, bool) or not isinstance(a, int) for a in removed):
            raise InvalidProfileError("remove must hold integer artist ids")
        if set(upserts) & set(removed):
            raise InvalidProfileError("an artist is both rated and removed")
        if set_display_name:
            display_name = _check_name(display_name)
        with self._tx() as c:
            self._authorize(profile_id, token)
            c.executemany(
                "DELETE FROM ratings WHERE profile_id = ? AND artist_id = ?",
                [(profile_id, a) for a in removed if -(2**63) <= a < 2**63],
            )
            c.executemany(
                "INSERT INTO ratings (profile_id, artist_id, level) VALUES (?, ?, ?)"
                " ON CONFLICT (profile_id, artist_id) DO UPDATE SET level = excluded.level",
                [(profile_id, a, lv) for a, lv in upserts.items()],
            )
            n = c.execute(
                "SELECT count(*) FROM ratings WHERE profile_id = ?", (profile_id,)
            ).fetchone()[0]
            if n > MAX_RATINGS:
                raise InvalidProfileError(f"at most {MAX_RATINGS} ratings per profile (got {n})")
            if set_display_name:
                c.execute(
                    "UPDATE profiles SET display_name = ? WHERE id = ?", (display_name, profile_id)
                )
            c.execute("UPDATE profiles SET updated_at = ? WHERE id = ?", (time.time(), profile_id))
            return self._read(profile_id)

    def delete(self, profile_id: str, token: str | None) -> None:
        """Delete a profile and its ratings (owner only)."""
        with self._tx() as c:
            self._authorize(profile_id, token)
            c.execute("DELETE FROM profiles WHERE id = ?", (profile_id,))

    def count(self) -> int:
        """Number of stored profiles (for tests and monitoring; no endpoint lists profiles)."""
        with self._lock:
            return int(self._conn.execute("SELECT count(*) FROM profiles").fetchone()[0])


class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` under the store lock; rollback on any exception."""

    def __init__(self, store: ProfileStore) -> None:
        self.store = store

    def __enter__(self) -> sqlite3.Connection:
        self.store._lock.acquire()
        try:
            self.store._conn.execute("BEGIN IMMEDIATE")
        except BaseException:
            self.store._lock.release()
            raise
        return self.store._conn

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        conn = self.store._conn
        try:
            if exc_type is None:
                try:
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
            elif conn.in_transaction:
                conn.execute("ROLLBACK")
        finally:
            self.store._lock.release()
