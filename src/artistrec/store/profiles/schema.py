"""The profile tables for each backend: ordered migrations with the same version numbers.

Migration ``i`` brings a database from schema version ``i`` to ``i + 1``; the applied versions are
rows of a ``schema_version`` table. Both backends hold the same tables and columns (SQLite and
PostgreSQL spellings of the same types), so a profile means the same thing in either.

* v1: ``profiles`` (id, display name, SHA-256 of the owner token, timestamps) and ``ratings``.
* v2: ``profiles.version`` (1 on create, +1 on every change; existing rows start at 1) and the
  one-row ``heartbeat`` table that write probes update.
"""

from __future__ import annotations

#: Statements are separated by ";" (none contains one), run in one transaction per migration.
SQLITE_MIGRATIONS: tuple[str, ...] = (
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
    """
    ALTER TABLE profiles ADD COLUMN version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1);
    CREATE TABLE heartbeat (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        beat_at REAL NOT NULL,
        beats INTEGER NOT NULL
    );
    """,
)

POSTGRES_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE profiles (
        id TEXT PRIMARY KEY,
        display_name TEXT,
        token_hash TEXT NOT NULL,
        created_at DOUBLE PRECISION NOT NULL,
        updated_at DOUBLE PRECISION NOT NULL
    );
    CREATE TABLE ratings (
        profile_id TEXT NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
        artist_id BIGINT NOT NULL,
        level SMALLINT NOT NULL CHECK (level BETWEEN 0 AND 5),
        PRIMARY KEY (profile_id, artist_id)
    );
    """,
    """
    ALTER TABLE profiles ADD COLUMN version BIGINT NOT NULL DEFAULT 1 CHECK (version >= 1);
    CREATE TABLE heartbeat (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        beat_at DOUBLE PRECISION NOT NULL,
        beats BIGINT NOT NULL
    );
    """,
)

SCHEMA_VERSION = len(SQLITE_MIGRATIONS)
assert len(POSTGRES_MIGRATIONS) == SCHEMA_VERSION, "both backends share the schema versions"


def statements(migration: str) -> list[str]:
    """The statements of one migration, in order."""
    return [s.strip() for s in migration.split(";") if s.strip()]
