"""Which backend a database target names, and opening it: ``open_profile_store``."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from artistrec.store.profiles.base import ProfileStore, StoreError, default_path

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*)://")


def backend_class(target: str | os.PathLike[str] | None) -> type[ProfileStore]:
    """The store class for ``target``: a path or ``sqlite:///path`` is SQLite,
    ``postgresql://...`` / ``postgres://...`` is PostgreSQL; other URL schemes are refused."""
    from artistrec.store.profiles.postgres import PostgresProfileStore, is_postgres_url
    from artistrec.store.profiles.sqlite import SQLiteProfileStore

    if isinstance(target, str):
        if is_postgres_url(target):
            return PostgresProfileStore
        match = _SCHEME.match(target)
        if match and match.group(1).lower() != "sqlite":
            raise StoreError(
                f"unsupported profile database {match.group(1)}://...: give a file path, "
                "sqlite:///path/to/file or postgresql://user@host/dbname"
            )
    elif target is not None and not isinstance(target, os.PathLike):
        raise StoreError(f"a profile database is a path or URL, got {type(target).__name__}")
    return SQLiteProfileStore


def open_profile_store(
    target: str | os.PathLike[str] | None = None, **options: Any
) -> ProfileStore:
    """Open the profile store ``target`` names (``None``: the embedded default,
    ``<cache>/profiles.sqlite3``).

    * a file path or ``sqlite:///path/to/file``: SQLite (``options``: ``timeout``);
    * ``postgresql://user[:password]@host[:port]/dbname`` (or ``postgres://``): PostgreSQL,
      shared by every process that opens the same URL (``options``: see
      :class:`~artistrec.store.profiles.postgres.PostgresProfileStore`).

    Raises :class:`StoreError` with a sentence a newcomer understands when the target cannot
    be opened (unreachable server, bad URL, missing ``postgres`` extra, newer schema, ...).
    """
    if target is None or (isinstance(target, str) and not target.strip()):
        target = default_path()
    if isinstance(target, str):
        target = target.strip()
    cls = backend_class(target)
    return cls(target if isinstance(target, str) else Path(target), **options)
