"""The shared backend: profiles in a PostgreSQL database, so several API instances on several
machines serve the same profiles.

psycopg 3 with a :class:`psycopg_pool.ConnectionPool` (thread-safe; connections in autocommit
mode, one explicit transaction per write). Writes lock the profile row (``SELECT ... FOR
UPDATE`` under READ COMMITTED), so concurrent writers of one profile queue up instead of losing
updates; reads are single statements, hence one consistent snapshot. Opening the store connects
once directly (a clear error when the server cannot be reached) and applies the migrations under
an advisory lock (instances starting together migrate once). A connection that breaks before
COMMIT is replaced and the transaction retried; one that breaks *during* COMMIT is reported as
such (``commit_unknown``), never retried blindly. The password never appears in messages:
:attr:`PostgresProfileStore.location` and every error show ``user:***@host``.

Needs the ``postgres`` extra (``pip install 'artistrec[postgres]'``).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import unquote

from artistrec.store.profiles.base import (
    ProfileStore,
    StoreError,
    StoreUnavailableError,
    Tx,
)
from artistrec.store.profiles.schema import POSTGRES_MIGRATIONS, statements

if TYPE_CHECKING:  # pragma: no cover
    import psycopg

T = TypeVar("T")

SCHEMES = ("postgresql", "postgres")
#: pg_advisory_xact_lock key that serialises migrations of concurrently starting instances.
MIGRATION_LOCK = 0x61727469737472
#: Attempts of one operation when a pooled connection turns out broken or a deadlock hits.
MAX_ATTEMPTS = 3
_MASK = "***"


# ---------------------------------------------------------------------------- URLs
def is_postgres_url(target: object) -> bool:
    """``target`` is a ``postgresql://`` or ``postgres://`` URL."""
    return isinstance(target, str) and target.split("://", 1)[0].lower() in SCHEMES


def _split(url: str) -> tuple[str, str, str]:
    """(``scheme://``, authority, rest) of ``url``, without re-encoding anything."""
    scheme, sep, rest = url.partition("://")
    cut = min([i for i in (rest.find(c) for c in "/?#") if i >= 0] + [len(rest)])
    return scheme + sep, rest[:cut], rest[cut:]


_QUERY_PASSWORD = re.compile(r"(?i)([?&]password=)([^&#]*)")


def redact_url(url: str) -> str:
    """``url`` with the password (in the user part or a ``password=`` parameter) as ``***``."""
    head, authority, rest = _split(url)
    userinfo, at, hosts = authority.rpartition("@")
    if at and ":" in userinfo:
        authority = f"{userinfo.split(':', 1)[0]}:{_MASK}@{hosts}"
    return head + authority + _QUERY_PASSWORD.sub(rf"\g<1>{_MASK}", rest)


def _passwords(url: str) -> list[str]:
    """Every spelling of the password in ``url`` (to scrub from driver messages)."""
    _, authority, rest = _split(url)
    userinfo, at, _ = authority.rpartition("@")
    found = [userinfo.split(":", 1)[1]] if at and ":" in userinfo else []
    found += [m.group(2) for m in _QUERY_PASSWORD.finditer(rest)]
    found += [unquote(p) for p in found]
    return sorted({p for p in found if p}, key=len, reverse=True)


def _scrub(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, _MASK)
    return text


def _driver() -> tuple[Any, Any]:
    try:
        import psycopg
        import psycopg_pool
    except ImportError:
        raise StoreError(
            "PostgreSQL profile stores need the 'postgres' extra: pip install 'artistrec[postgres]'"
        ) from None
    return psycopg, psycopg_pool


def _reason(exc: BaseException, secrets: list[str]) -> str:
    """libpq's reason for a failed connection, short: 'connection refused', 'password
    authentication failed for user "x"', ... (first line, without the host preamble)."""
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    reason = first.rsplit(" failed: ", 1)[-1].strip()
    reason = reason.removeprefix("FATAL:").strip()
    reason = reason[:1].lower() + reason[1:]
    return _scrub(reason, secrets) or type(exc).__name__


@lru_cache(maxsize=64)
def _pg(sql: str) -> str:
    """Our ``?`` placeholders as psycopg's ``%s`` (no statement contains a literal ? or %)."""
    return sql.replace("?", "%s")


class _PgTx:
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.conn.execute(_pg(sql), params).fetchall()

    def run(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.conn.execute(_pg(sql), params)

    def many(self, sql: str, seq: Sequence[Sequence[Any]]) -> None:
        if seq:
            with self.conn.cursor() as cur:
                cur.executemany(_pg(sql), seq)


class PostgresProfileStore(ProfileStore):
    """Profiles in the PostgreSQL database ``url`` (``postgresql://user[:password]@host[:port]/
    dbname[?param=value]``, any libpq parameter; a password may also come from ``PGPASSWORD``
    or ``~/.pgpass``). The user must be allowed to create tables in the database on first use.

    ``min_size``/``max_size``: pooled connections; ``connect_timeout``: seconds to reach the
    server; ``pool_timeout``: seconds an operation waits for a connection before
    :class:`StoreUnavailableError` (``unreachable``); ``lock_timeout``: seconds a write waits
    for another writer of the same profile (``locked``); ``statement_timeout``: seconds any
    statement may run (``timeout``).
    """

    backend = "postgresql"
    migrations = POSTGRES_MIGRATIONS
    _now_sql = "extract(epoch FROM statement_timestamp())::float8"
    _lock_sql = " FOR UPDATE OF p"

    def __init__(
        self,
        url: str,
        *,
        min_size: int = 1,
        max_size: int = 10,
        connect_timeout: float = 5.0,
        pool_timeout: float = 5.0,
        lock_timeout: float = 10.0,
        statement_timeout: float = 30.0,
    ) -> None:
        if not is_postgres_url(url):
            raise StoreError(f"not a PostgreSQL URL: {redact_url(str(url))!r}")
        psycopg, psycopg_pool = _driver()
        self._psycopg = psycopg
        self._url = url
        self._secrets = _passwords(url)
        self._location = redact_url(url)
        self.pool_timeout = float(pool_timeout)
        self.lock_timeout = float(lock_timeout)
        self.statement_timeout = float(statement_timeout)
        try:
            params = psycopg.conninfo.conninfo_to_dict(url)
        except psycopg.Error as exc:
            raise StoreError(
                f"invalid PostgreSQL URL {self._location}: {_reason(exc, self._secrets)}"
            ) from None
        host = str(params.get("host") or os.environ.get("PGHOST") or "localhost")
        port = str(params.get("port") or os.environ.get("PGPORT") or 5432)
        self.server = f"{host}:{port}"
        extra: dict[str, Any] = {"autocommit": True}
        if "connect_timeout" not in params:
            extra["connect_timeout"] = max(2, round(connect_timeout))
        if "application_name" not in params:
            extra["application_name"] = "artistrec"

        try:
            first = psycopg.connect(url, **extra)
        except psycopg.Error as exc:
            raise StoreError(
                f"cannot connect to PostgreSQL at {self.server}: {_reason(exc, self._secrets)}"
            ) from None
        try:
            self._migrate(first)
        finally:
            first.close()

        self._closed = threading.Event()
        self._pool = psycopg_pool.ConnectionPool(
            url,
            min_size=min_size,
            max_size=max_size,
            kwargs=extra,
            configure=self._configure,
            timeout=self.pool_timeout,
            # give up a reconnection sequence as soon as a request would: the next request
            # starts a fresh one at once, so service resumes right after an outage instead of
            # after the pool's exponential back-off (up to minutes with the default 300 s)
            reconnect_timeout=max(self.pool_timeout, 1.0),
            name="artistrec-profiles",
            open=True,
        )

    @property
    def url(self) -> str:
        return self._url

    @property
    def path(self) -> str:
        """The connection URL, for code that hands ``store.path`` to worker processes so they
        can reopen the store (it may contain the password: print :attr:`location` instead)."""
        return self._url

    @property
    def location(self) -> str:
        return self._location

    # ------------------------------------------------------------------ schema
    def _migrate(self, conn: psycopg.Connection[Any]) -> None:
        psycopg = self._psycopg
        try:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
                conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
                row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
                version = int(row[0]) if row and row[0] is not None else 0
                target = len(self.migrations)
                if version > target:
                    raise StoreError(
                        f"{self._location} has schema version {version}, newer than this "
                        f"artistrec ({target}); upgrade artistrec"
                    )
                for i in range(version, target):
                    for statement in statements(self.migrations[i]):
                        conn.execute(statement)
                    conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (i + 1,))
        except psycopg.Error as exc:
            text = str(exc).strip()
            detail = _scrub(text.splitlines()[0], self._secrets) if text else type(exc).__name__
            raise StoreError(
                f"cannot prepare the profile tables in {self._location}: {detail}"
            ) from None

    def _configure(self, conn: psycopg.Connection[Any]) -> None:
        """Per-connection limits, so no request can wait on a lock or a statement forever."""
        conn.execute(
            "SELECT set_config('lock_timeout', %s, false),"
            " set_config('statement_timeout', %s, false),"
            " set_config('idle_in_transaction_session_timeout', %s, false)",
            (
                f"{int(self.lock_timeout * 1000)}ms",
                f"{int(self.statement_timeout * 1000)}ms",
                f"{int(max(self.statement_timeout, 60) * 1000)}ms",
            ),
        )

    # ------------------------------------------------------------------ transactions
    def _execute(self, fn: Callable[[Tx], T], *, write: bool, action: str) -> T:
        psycopg = self._psycopg
        if self._closed.is_set():
            raise StoreError(f"cannot {action}: the profile store has been closed")
        for attempt in range(1, MAX_ATTEMPTS + 1):
            conn: psycopg.Connection[Any] | None = None
            committing = False
            try:
                with self._pool.connection() as conn:
                    if not write:
                        return fn(_PgTx(conn))
                    with conn.transaction():
                        result = fn(_PgTx(conn))
                        committing = True  # the block's exit sends COMMIT
                    return result
            except psycopg.Error as exc:
                broken = conn is not None and (conn.broken or conn.closed)
                retry = isinstance(
                    exc, psycopg.errors.SerializationFailure | psycopg.errors.DeadlockDetected
                ) or (broken and not committing)
                if retry and attempt < MAX_ATTEMPTS:
                    if broken:
                        self._pool.check()  # drop the other dead connections of the pool
                    continue
                raise self._translate(exc, action, broken, committing) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def _translate(
        self, exc: BaseException, action: str, broken: bool, committing: bool
    ) -> StoreError:
        """The store error for a driver error (message: what failed; no password, no SQL)."""
        psycopg = self._psycopg
        from psycopg_pool import PoolClosed, PoolTimeout

        what = f"cannot {action}"
        at = f"PostgreSQL at {self.server}"
        if isinstance(exc, PoolClosed):
            return StoreError(f"{what}: the profile store has been closed")
        if isinstance(exc, PoolTimeout):
            return StoreUnavailableError(
                f"{what}: no connection to {at} within {self.pool_timeout:g} s "
                "(is the server running and reachable?)",
                "unreachable",
            )
        if broken and committing:
            return StoreUnavailableError(
                f"{what}: the connection to {at} was lost during COMMIT; the change may or may "
                "not have been saved (read the profile to see)",
                "commit_unknown",
            )
        state = getattr(exc, "sqlstate", None) or ""
        table: list[tuple[bool, str, str]] = [
            (state == "25006", "read_only", f"{at} accepts no writes (read-only or a standby)"),
            (state == "53100", "disk_full", f"the disk of {at} is full"),
            (state == "53200", "out_of_memory", f"{at} is out of memory"),
            (state.startswith("53"), "busy", f"{at} is out of resources (connections, ...)"),
            (
                state == "55P03",
                "locked",
                f"the profile stayed locked by another writer for over {self.lock_timeout:g} s",
            ),
            (
                state == "57014",
                "timeout",
                f"{at} did not answer within {self.statement_timeout:g} s",
            ),
            (state.startswith("57"), "server_shutdown", f"{at} is shutting down or restarting"),
            (state in ("40001", "40P01"), "busy", "too many concurrent writers; try again"),
            (
                broken or state.startswith("08") or not state,
                "connection_lost",
                f"the connection to {at} was lost",
            ),
        ]
        if isinstance(exc, psycopg.OperationalError | psycopg.errors.ReadOnlySqlTransaction):
            for hit, reason, text in table:
                if hit:
                    return StoreUnavailableError(f"{what}: {text}", reason)
        if broken:
            return StoreUnavailableError(
                f"{what}: the connection to {at} was lost", "connection_lost"
            )
        name = type(exc).__name__ + (f" {state}" if state else "")
        return StoreError(f"{what}: unexpected database error ({name})")

    # ------------------------------------------------------------------ maintenance
    def integrity_ok(self) -> bool:
        """No rating without its profile and no version below 1 (the constraints hold)."""
        rows = self._execute(
            lambda tx: tx.rows(
                "SELECT (SELECT count(*) FROM ratings r"
                " WHERE NOT EXISTS (SELECT 1 FROM profiles p WHERE p.id = r.profile_id))"
                " + (SELECT count(*) FROM profiles WHERE version < 1)"
            ),
            write=False,
            action="check integrity",
        )
        return int(rows[0][0]) == 0

    def close(self) -> None:
        self._closed.set()
        self._pool.close(timeout=5.0)
