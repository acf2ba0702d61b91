"""The embedded backend: profiles in one SQLite file.

WAL journal, ``synchronous=FULL`` (an acknowledged write survives a crash), foreign keys on. One
connection serialised by a lock (safe under a server's thread pool); writes run in
``BEGIN IMMEDIATE`` transactions, which lock the file against other processes, so a write's
read-check-write is atomic across processes too. SQLite's error codes map to
:class:`StoreUnavailableError` (disk full, I/O error, read-only, locked beyond the timeout) or
:class:`StoreError` (damaged file, unexpected errors).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from artistrec.store.profiles.base import (
    ProfileStore,
    StoreError,
    StoreUnavailableError,
    Tx,
)
from artistrec.store.profiles.schema import SQLITE_MIGRATIONS, statements

T = TypeVar("T")

#: RETURNING (used by create) needs SQLite 3.35.
MIN_SQLITE = (3, 35, 0)
#: Free bytes under which an I/O error is reported as a full disk.
FULL_BELOW = 1 << 20


def sqlite_path(target: str | os.PathLike[str]) -> Path:
    """The file a path or ``sqlite:///path`` URL names (``sqlite:///tmp/p.db`` is ``/tmp/p.db``)."""
    if isinstance(target, str) and target.lower().startswith("sqlite:"):
        rest = target[len("sqlite:") :]
        if not rest.startswith("//"):
            raise StoreError(f"a SQLite URL looks like sqlite:///path/to/file, got {target!r}")
        host, _, path = rest[2:].partition("/")
        if host or not path:
            raise StoreError(
                f"a SQLite URL names a file, not a host: sqlite:///path/to/file, got {target!r}"
            )
        return Path("/" + path)
    return Path(target)


class _SQLiteTx:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.conn.execute(sql, params).fetchall()

    def run(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.conn.execute(sql, params)

    def many(self, sql: str, seq: Sequence[Sequence[Any]]) -> None:
        if seq:
            self.conn.executemany(sql, seq)


class SQLiteProfileStore(ProfileStore):
    """Profiles in the SQLite file ``path`` (created with its directory if missing).

    ``timeout``: seconds a write waits for another process's lock before
    :class:`StoreUnavailableError` (reason ``locked``).
    """

    backend = "sqlite"
    migrations = SQLITE_MIGRATIONS
    # julianday('now') is stable within one statement; millisecond resolution
    _now_sql = "((julianday('now') - 2440587.5) * 86400.0)"

    def __init__(self, path: str | os.PathLike[str], *, timeout: float = 10.0) -> None:
        self.path = sqlite_path(path)
        self.timeout = float(timeout)
        if sqlite3.sqlite_version_info < MIN_SQLITE:
            raise StoreError(
                f"the profile store needs SQLite >= {'.'.join(map(str, MIN_SQLITE))}, "
                f"this Python has {sqlite3.sqlite_version}"
            )
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(
                self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False
            )
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.execute("PRAGMA foreign_keys=ON")
            self._conn.execute(f"PRAGMA busy_timeout={int(self.timeout * 1000)}")
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open profile database {self.path}: {exc}") from exc
        self._lock = threading.RLock()
        self._migrate()

    @property
    def url(self) -> str:
        return str(self.path)

    @property
    def location(self) -> str:
        return str(self.path)

    # ------------------------------------------------------------------ schema
    def _migrate(self) -> None:
        with self._lock:
            conn = self._conn
            try:
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER)")
                row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
                version = int(row[0]) if row and row[0] is not None else 0
                target = len(self.migrations)
                if version > target:
                    raise StoreError(
                        f"{self.path} has schema version {version}, newer than this artistrec "
                        f"({target}); upgrade artistrec"
                    )
                for i in range(version, target):
                    for statement in statements(self.migrations[i]):
                        conn.execute(statement)
                    conn.execute("INSERT INTO schema_version (version) VALUES (?)", (i + 1,))
                conn.execute("COMMIT")
            except BaseException as exc:
                self._rollback()
                if isinstance(exc, sqlite3.Error):
                    raise StoreError(f"cannot open profile database {self.path}: {exc}") from exc
                raise

    # ------------------------------------------------------------------ transactions
    def _rollback(self) -> None:
        try:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass  # SQLite already rolled back (e.g. after a disk-full or I/O error)

    def _execute(self, fn: Callable[[Tx], T], *, write: bool, action: str) -> T:
        with self._lock:
            try:
                conn = self._conn
                if write:
                    self._rollback()  # never build on a transaction a failed call left open
                    conn.execute("BEGIN IMMEDIATE")
                try:
                    result = fn(_SQLiteTx(conn))
                    if write:
                        conn.execute("COMMIT")
                except BaseException:
                    self._rollback()
                    raise
                return result
            except sqlite3.Error as exc:
                raise self._translate(exc, action) from exc

    def _translate(self, exc: sqlite3.Error, action: str) -> StoreError:
        """The store error for a driver error (message: what failed, not SQLite's internals)."""
        name = getattr(exc, "sqlite_errorname", "") or ""
        what = f"cannot {action}"
        if isinstance(exc, sqlite3.ProgrammingError) and "closed" in str(exc).lower():
            return StoreError(f"{what}: the profile store has been closed")
        table: list[tuple[str, str, str]] = [
            ("SQLITE_FULL", "disk_full", "the disk holding the profile database is full"),
            ("SQLITE_READONLY", "read_only", "the profile database is read-only"),
            (
                "SQLITE_BUSY",
                "locked",
                f"the profile database stayed locked by another process for over "
                f"{self.timeout:g} s",
            ),
            ("SQLITE_LOCKED", "locked", "the profile database is locked"),
            ("SQLITE_IOERR", "io_error", "reading or writing the profile database failed"),
            ("SQLITE_CANTOPEN", "io_error", "the profile database file cannot be opened"),
            ("SQLITE_NOMEM", "out_of_memory", "out of memory"),
            ("SQLITE_INTERRUPT", "busy", "the operation was interrupted"),
            ("SQLITE_PROTOCOL", "locked", "the profile database is locked"),
        ]
        if name.startswith(("SQLITE_IOERR", "SQLITE_FULL", "SQLITE_READONLY", "SQLITE_CANTOPEN")):
            found = self._filesystem_problem()  # SQLite cannot tell EROFS or ENOSPC from EIO
            if found is not None:
                return StoreUnavailableError(f"{what}: {found[1]}", found[0])
        for prefix, reason, text in table:
            if name.startswith(prefix):
                return StoreUnavailableError(f"{what}: {text}", reason)
        if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")):
            return StoreError(f"{what}: the profile database file {self.path} is damaged")
        return StoreError(f"{what}: unexpected database error ({name or type(exc).__name__})")

    def _filesystem_problem(self) -> tuple[str, str] | None:
        """(reason, text) when the database's file system is read-only or (nearly) full."""
        try:
            st = os.statvfs(self.path.parent)
        except (OSError, AttributeError):  # no statvfs (Windows) or the directory is gone
            return None
        if st.f_flag & os.ST_RDONLY:
            return "read_only", "the file system holding the profile database is read-only"
        free = (st.f_bfree if os.geteuid() == 0 else st.f_bavail) * st.f_frsize
        if free < FULL_BELOW:
            return "disk_full", "the disk holding the profile database is full"
        return None

    # ------------------------------------------------------------------ maintenance
    def integrity_ok(self) -> bool:
        """``PRAGMA integrity_check`` says ok."""
        rows = self._execute(
            lambda tx: tx.rows("PRAGMA integrity_check"), write=False, action="check integrity"
        )
        return rows[0][0] == "ok"

    def close(self) -> None:
        with self._lock:
            self._conn.close()
