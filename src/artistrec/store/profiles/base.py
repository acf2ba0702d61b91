"""What a profile store is, independent of the database: data model, errors, checks, operations.

Every operation (create, get, replace, update, delete, write probe) is written once here over a
three-method transaction interface (:class:`Tx`). A backend supplies connections, transactions,
retries and the translation of its driver's errors; so SQLite and PostgreSQL share versions,
limits, ownership checks and error semantics by construction.

Concurrency: a write reads the profile row *locked* (SQLite: ``BEGIN IMMEDIATE`` locks the file;
PostgreSQL: ``SELECT ... FOR UPDATE``), checks owner and expected version, then writes the new
state and ``version + 1`` in the same transaction. That makes ``if_version`` a compare-and-set,
and two writers of one profile can never both build on the same old state.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol, TypeVar

from artistrec.data.source import cache_dir

MAX_RATINGS = 1000
MAX_DISPLAY_NAME = 100
#: Longer ids (or ids with NUL characters) cannot exist: they are "not found" in every backend.
MAX_PROFILE_ID = 200

T = TypeVar("T")


# ---------------------------------------------------------------------------- errors
class StoreError(RuntimeError):
    """The database cannot be opened, has an unsupported schema, or failed unexpectedly."""


class StoreUnavailableError(StoreError):
    """The database cannot serve the request right now (I/O, disk full, read-only, locked,
    connection lost); nothing was half-written and retrying later may succeed.

    ``reason`` is a short code for callers that map it (``disk_full``, ``read_only``, ``locked``,
    ``io_error``, ``unreachable``, ``connection_lost``, ``commit_unknown``, ``timeout``,
    ``server_shutdown``, ``busy``, ``out_of_memory``). It subclasses :class:`StoreError` so code
    that already handles store errors keeps handling it; catch it first to tell the two apart.
    """

    #: Seconds after which a retry is worth it, by reason (an HTTP layer's ``Retry-After``).
    RETRY_AFTER: ClassVar[dict[str, int]] = {
        "locked": 1,
        "busy": 1,
        "connection_lost": 1,
        "commit_unknown": 1,
        "timeout": 2,
        "unreachable": 5,
        "server_shutdown": 5,
        "out_of_memory": 10,
        "io_error": 30,
        "disk_full": 30,
        "read_only": 30,
    }

    def __init__(self, message: str, reason: str = "unavailable") -> None:
        super().__init__(message)
        self.reason = reason
        self.retry_after: int = self.RETRY_AFTER.get(reason, 5)


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


class VersionConflictError(Exception):
    """The profile's version is not the expected one: somebody else changed it since it was read.

    Nothing was written. ``current_version`` is the stored version (send it back, after
    re-reading the profile, to retry).
    """

    def __init__(self, profile_id: str, current_version: int, expected_version: int) -> None:
        self.profile_id = profile_id
        self.current_version = current_version
        self.expected_version = expected_version
        super().__init__(
            f"profile {profile_id!r} is at version {current_version}, not {expected_version}: "
            "it changed since you read it; read it again and retry"
        )


# ---------------------------------------------------------------------------- data model
@dataclass
class Profile:
    """A stored profile: ratings map original artist id -> level 0..5 (sorted by id).

    ``version`` is 1 on create and grows by one with every change (a write that changes nothing
    keeps it); ``updated_at`` is the time of the last change in seconds since the epoch, by the
    database server's clock.
    """

    id: str
    display_name: str | None
    ratings: dict[int, int] = field(default_factory=dict)
    created_at: float = 0.0
    updated_at: float = 0.0
    version: int = 1


def hash_token(token: str) -> str:
    """Hex SHA-256 of an owner token (what is stored)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def default_path() -> Path:
    """``<cache dir>/profiles.sqlite3``."""
    return cache_dir() / "profiles.sqlite3"


# ---------------------------------------------------------------------------- input checks
def _is_int(x: object) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def check_ratings(ratings: Mapping[int, int]) -> dict[int, int]:
    """``ratings`` as a plain dict, or :class:`InvalidProfileError` naming the first problem."""
    if not isinstance(ratings, Mapping):
        raise InvalidProfileError("ratings must be a mapping {artist id: level}")
    out: dict[int, int] = {}
    for key, level in ratings.items():
        if not _is_int(key) or not -(2**63) <= key < 2**63:
            raise InvalidProfileError(f"artist id must be a 64-bit integer, got {key!r}")
        if not _is_int(level) or not 0 <= level <= 5:
            raise InvalidProfileError(f"level must be an integer 0..5, got {level!r}")
        out[key] = level
    return out


def _check_size(ratings: Mapping[int, int]) -> None:
    if len(ratings) > MAX_RATINGS:
        raise InvalidProfileError(f"at most {MAX_RATINGS} ratings per profile (got {len(ratings)})")


def check_name(name: str | None) -> str | None:
    """A valid display name (``None`` or text of at most :data:`MAX_DISPLAY_NAME` characters)."""
    if name is None:
        return None
    if not isinstance(name, str) or len(name) > MAX_DISPLAY_NAME:
        raise InvalidProfileError(f"display_name must be a string of at most {MAX_DISPLAY_NAME}")
    if "\x00" in name:
        raise InvalidProfileError("display_name must not contain NUL characters")
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidProfileError("display_name must be valid Unicode text") from None
    return name


def _check_id(profile_id: object) -> str:
    if (
        not isinstance(profile_id, str)
        or len(profile_id) > MAX_PROFILE_ID
        or "\x00" in profile_id
        or not profile_id.isprintable()
    ):
        raise ProfileNotFoundError(str(profile_id)[:MAX_PROFILE_ID])
    return profile_id


def _check_version(if_version: int | None) -> int | None:
    if if_version is None:
        return None
    if not _is_int(if_version) or if_version < 1:
        raise InvalidProfileError(f"if_version must be a positive integer, got {if_version!r}")
    return if_version


def _authorize(stored_hash: str, token: str | None) -> None:
    given = hash_token(token) if isinstance(token, str) and token else ""
    if not hmac.compare_digest(given.encode(), str(stored_hash).encode()):
        raise NotOwnerError("the bearer token does not own this profile")


# ---------------------------------------------------------------------------- backend seam
class Tx(Protocol):
    """One open transaction (or autocommit read) of a backend; SQL uses ``?`` placeholders."""

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one statement and return all its rows."""
        ...

    def run(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Run one statement."""
        ...

    def many(self, sql: str, seq: Sequence[Sequence[Any]]) -> None:
        """Run one statement once per parameter tuple (nothing when ``seq`` is empty)."""
        ...


#: The profile row (locked in a write) and its ratings in one statement, plus the database clock.
_SELECT = (
    "SELECT p.id, p.display_name, p.created_at, p.updated_at, p.version, p.token_hash, {now},"
    " r.artist_id, r.level"
    " FROM profiles p LEFT JOIN ratings r ON r.profile_id = p.id"
    " WHERE p.id = ? ORDER BY r.artist_id{lock}"
)
_UPSERT = (
    "INSERT INTO ratings (profile_id, artist_id, level) VALUES (?, ?, ?)"
    " ON CONFLICT (profile_id, artist_id) DO UPDATE SET level = excluded.level"
)


@dataclass
class _Row:
    profile: Profile
    token_hash: str
    now: float


def _row(rows: list[tuple[Any, ...]], profile_id: str) -> _Row:
    if not rows:
        raise ProfileNotFoundError(profile_id)
    pid, name, created, updated, version, token_hash, now = rows[0][:7]
    ratings = {int(r[7]): int(r[8]) for r in rows if r[7] is not None}
    profile = Profile(pid, name, ratings, float(created), float(updated), int(version))
    return _Row(profile, str(token_hash), float(now))


class ProfileStore(ABC):
    """Listener profiles (ratings by ORIGINAL artist id) owned through a bearer token.

    ``ProfileStore(target)`` opens the backend ``target`` names (see
    :func:`~artistrec.store.profiles.open_profile_store`): a file path or ``sqlite:///path`` is
    an embedded SQLite file, ``postgresql://user@host/dbname`` a PostgreSQL database shared by
    several processes and machines. Thread-safe. Only the SHA-256 hash of each owner token is
    stored, compared in constant time. The store validates shapes (levels 0..5, integer ids,
    sizes) but not whether an artist exists: that is the service's job.

    Errors: :class:`ProfileNotFoundError`, :class:`NotOwnerError`, :class:`InvalidProfileError`,
    :class:`VersionConflictError` describe the request and never change stored data;
    :class:`StoreUnavailableError` means the database could not do it now (retry later);
    :class:`StoreError` means it cannot be opened or used at all.
    """

    #: Backend name ("sqlite" or "postgresql").
    backend: ClassVar[str]
    #: Ordered migrations (see :mod:`artistrec.store.profiles.schema`).
    migrations: ClassVar[tuple[str, ...]]
    #: SQL for "now" in seconds since the epoch, constant within one statement.
    _now_sql: ClassVar[str]
    #: Suffix that locks the selected profile row until the transaction ends.
    _lock_sql: ClassVar[str] = ""

    def __new__(cls, *args: Any, **kwargs: Any) -> ProfileStore:
        if cls is ProfileStore:  # ProfileStore(target): pick the backend the target names
            from artistrec.store.profiles.factory import backend_class

            target = args[0] if args else kwargs.get("path", kwargs.get("target"))
            cls = backend_class(target)
        return super().__new__(cls)

    @classmethod
    def default(cls) -> ProfileStore:
        """The embedded SQLite store at :func:`default_path`."""
        from artistrec.store.profiles.sqlite import SQLiteProfileStore

        return SQLiteProfileStore(default_path())

    # ------------------------------------------------------------------ backend interface
    @abstractmethod
    def _execute(self, fn: Callable[[Tx], T], *, write: bool, action: str) -> T:
        """Run ``fn`` in one transaction (``write``) or as a consistent read; commit, roll back
        on any exception, and turn driver errors into :class:`StoreError` /
        :class:`StoreUnavailableError` whose message starts "cannot {action}"."""

    @property
    @abstractmethod
    def url(self) -> str:
        """What :func:`open_profile_store` needs to open this store in another process
        (may contain a password: never print or log it; use :attr:`location`)."""

    @property
    @abstractmethod
    def location(self) -> str:
        """Where the profiles live, safe to print and log (passwords masked)."""

    @abstractmethod
    def integrity_ok(self) -> bool:
        """The database's own consistency check passes."""

    @abstractmethod
    def close(self) -> None:
        """Release the connection(s); the store cannot be used afterwards."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.location!r})"

    def __enter__(self) -> ProfileStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ health
    @property
    def schema_version(self) -> int:
        """The applied schema version."""
        rows = self._execute(
            lambda tx: tx.rows("SELECT max(version) FROM schema_version"),
            write=False,
            action="read the schema version",
        )
        return int(rows[0][0])

    def ping(self, write: bool = False) -> bool:
        """The database answers a trivial query (``write=True``: :meth:`check_writable` passes)."""
        try:
            if write:
                self.check_writable()
            else:
                self._execute(lambda tx: tx.rows("SELECT 1"), write=False, action="reach")
            return True
        except StoreError:
            return False

    def check_writable(self) -> None:
        """Commit a real write (the one-row heartbeat), or raise :class:`StoreUnavailableError`
        saying why not; for readiness probes. Touches no profile."""

        def beat(tx: Tx) -> None:
            tx.run(
                f"INSERT INTO heartbeat (id, beat_at, beats) VALUES (1, {self._now_sql}, 1)"
                " ON CONFLICT (id) DO UPDATE"
                " SET beat_at = excluded.beat_at, beats = heartbeat.beats + 1"
            )

        self._execute(beat, write=True, action="write to the profile database")

    def count(self) -> int:
        """Number of stored profiles (for tests and monitoring; no endpoint lists profiles)."""
        rows = self._execute(
            lambda tx: tx.rows("SELECT count(*) FROM profiles"),
            write=False,
            action="count profiles",
        )
        return int(rows[0][0])

    # ------------------------------------------------------------------ operations
    def create(
        self, ratings: Mapping[int, int], display_name: str | None = None
    ) -> tuple[Profile, str]:
        """A new profile (random UUID, version 1); returns it and its owner token (shown once)."""
        checked = check_ratings(ratings)
        _check_size(checked)
        name = check_name(display_name)
        profile_id = str(uuid.uuid4())
        token = secrets.token_urlsafe(32)

        def insert(tx: Tx) -> float:
            now = tx.rows(
                "INSERT INTO profiles"
                " (id, display_name, token_hash, created_at, updated_at, version)"
                f" VALUES (?, ?, ?, {self._now_sql}, {self._now_sql}, 1) RETURNING created_at",
                (profile_id, name, hash_token(token)),
            )[0][0]
            tx.many(
                "INSERT INTO ratings (profile_id, artist_id, level) VALUES (?, ?, ?)",
                [(profile_id, a, lv) for a, lv in checked.items()],
            )
            return float(now)

        now = self._execute(insert, write=True, action="create the profile")
        return Profile(profile_id, name, dict(sorted(checked.items())), now, now, 1), token

    def get(self, profile_id: str) -> Profile:
        """The profile ``profile_id`` (raises :class:`ProfileNotFoundError`)."""
        pid = _check_id(profile_id)
        sql = _SELECT.format(now=self._now_sql, lock="")
        rows = self._execute(
            lambda tx: tx.rows(sql, (pid,)), write=False, action="read the profile"
        )
        return _row(rows, pid).profile

    def replace(
        self,
        profile_id: str,
        token: str | None,
        ratings: Mapping[int, int],
        display_name: str | None = None,
        *,
        if_version: int | None = None,
    ) -> Profile:
        """Replace all ratings and the display name (owner only).

        With ``if_version``, only if the stored version is that one (else
        :class:`VersionConflictError`, nothing written).
        """
        checked = check_ratings(ratings)
        _check_size(checked)
        name = check_name(display_name)
        result = self._modify(
            profile_id, token, if_version, lambda _r, _n: (checked, name), "save the profile"
        )
        assert result is not None
        return result

    def update(
        self,
        profile_id: str,
        token: str | None,
        set_ratings: Mapping[int, int] | None = None,
        remove: Iterable[int] = (),
        display_name: str | None = None,
        set_display_name: bool = False,
        *,
        if_version: int | None = None,
    ) -> Profile:
        """Upsert ``set_ratings``, delete ``remove``, optionally change the name (owner only).

        ``if_version`` as in :meth:`replace`. An update that would exceed
        :data:`MAX_RATINGS` is refused whole.
        """
        upserts = check_ratings(set_ratings or {})
        removed = list(remove)
        if any(not _is_int(a) for a in removed):
            raise InvalidProfileError("remove must hold integer artist ids")
        if set(upserts) & set(removed):
            raise InvalidProfileError("an artist is both rated and removed")
        if set_display_name:
            display_name = check_name(display_name)

        gone = set(removed)

        def change(current: dict[int, int], name: str | None) -> tuple[dict[int, int], str | None]:
            new = {a: lv for a, lv in current.items() if a not in gone}
            new.update(upserts)
            _check_size(new)
            return new, (display_name if set_display_name else name)

        result = self._modify(profile_id, token, if_version, change, "save the profile")
        assert result is not None
        return result

    def delete(self, profile_id: str, token: str | None, *, if_version: int | None = None) -> None:
        """Delete a profile and its ratings (owner only; ``if_version`` as in :meth:`replace`)."""
        self._modify(profile_id, token, if_version, None, "delete the profile")

    def _modify(
        self,
        profile_id: str,
        token: str | None,
        if_version: int | None,
        change: Callable[[dict[int, int], str | None], tuple[dict[int, int], str | None]] | None,
        action: str,
    ) -> Profile | None:
        """Locked read, owner and version check, then the new state (``change``) or deletion
        (``change=None``), all in one transaction."""
        pid = _check_id(profile_id)
        expected = _check_version(if_version)
        select = _SELECT.format(now=self._now_sql, lock=self._lock_sql)

        def op(tx: Tx) -> Profile | None:
            row = _row(tx.rows(select, (pid,)), pid)
            old = row.profile
            _authorize(row.token_hash, token)
            if expected is not None and expected != old.version:
                raise VersionConflictError(pid, old.version, expected)
            if change is None:
                tx.run("DELETE FROM profiles WHERE id = ?", (pid,))
                return None
            ratings, name = change(old.ratings, old.display_name)
            if ratings == old.ratings and name == old.display_name:
                return old  # nothing changes: same version, same updated_at
            tx.many(
                "DELETE FROM ratings WHERE profile_id = ? AND artist_id = ?",
                [(pid, a) for a in old.ratings if a not in ratings],
            )
            tx.many(
                _UPSERT,
                [(pid, a, lv) for a, lv in ratings.items() if old.ratings.get(a) != lv],
            )
            updated = max(row.now, old.updated_at)  # never goes back, even if the clock does
            tx.run(
                "UPDATE profiles SET display_name = ?, updated_at = ?, version = ? WHERE id = ?",
                (name, updated, old.version + 1, pid),
            )
            return Profile(
                pid, name, dict(sorted(ratings.items())), old.created_at, updated, old.version + 1
            )

        return self._execute(op, write=True, action=action)
