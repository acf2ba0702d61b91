"""Listener profiles: ratings by ORIGINAL artist id, owned through a bearer token, versioned.

Two backends behind one :class:`ProfileStore` interface: embedded SQLite (the default, one file)
and PostgreSQL (shared by several API instances on several machines). Open either with
:func:`open_profile_store` (``ProfileStore(target)`` does the same; ``ProfileStore(path)`` is
SQLite as it always was).

    store = open_profile_store("postgresql://artistrec@db.example/artistrec")
    profile, token = store.create({289: 5})
    profile = store.replace(profile.id, token, {289: 4}, if_version=profile.version)
"""

from artistrec.store.profiles.base import (
    MAX_DISPLAY_NAME,
    MAX_RATINGS,
    InvalidProfileError,
    NotOwnerError,
    Profile,
    ProfileNotFoundError,
    ProfileStore,
    StoreError,
    StoreUnavailableError,
    VersionConflictError,
    default_path,
    hash_token,
)
from artistrec.store.profiles.factory import open_profile_store
from artistrec.store.profiles.postgres import PostgresProfileStore, redact_url
from artistrec.store.profiles.schema import SCHEMA_VERSION, SQLITE_MIGRATIONS
from artistrec.store.profiles.sqlite import SQLiteProfileStore

#: The SQLite migrations (the name this module had before PostgreSQL).
MIGRATIONS = SQLITE_MIGRATIONS

__all__ = [
    "MAX_DISPLAY_NAME",
    "MAX_RATINGS",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "InvalidProfileError",
    "NotOwnerError",
    "PostgresProfileStore",
    "Profile",
    "ProfileNotFoundError",
    "ProfileStore",
    "SQLiteProfileStore",
    "StoreError",
    "StoreUnavailableError",
    "VersionConflictError",
    "default_path",
    "hash_token",
    "open_profile_store",
    "redact_url",
]
