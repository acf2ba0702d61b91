"""Conditional requests on profiles (RFC 9110 section 13): ``ETag``, ``Last-Modified``,
``If-Match``, ``If-Unmodified-Since`` and ``If-None-Match``.

A profile's entity tag is its version in quotes (``"3"``): strong, since a version names one
exact state. Writes turn the preconditions into the profile store's compare-and-set
(``if_version``), so the check and the write happen in one database transaction and two clients
that read the same version can never both write on top of it.

``If-Match`` is optional (no 428): clients that do not send it get last-writer-wins, as before,
and every client that sends it is protected. ``PATCH`` adds and removes single ratings under the
row lock, so a client that only patches needs no precondition to keep others' changes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime

from starlette.requests import Request

from artistrec.api.errors import ApiError
from artistrec.store.profiles import Profile

MAX_TAGS = 64


def etag(version: int) -> str:
    """The strong entity tag of a profile version."""
    return f'"{version}"'


def last_modified(updated_at: float) -> str:
    """``updated_at`` as an HTTP-date (whole seconds, rounded down)."""
    return format_datetime(datetime.fromtimestamp(math.floor(updated_at), UTC), usegmt=True)


def profile_headers(profile: Profile) -> dict[str, str]:
    """``ETag`` and ``Last-Modified`` of a profile."""
    return {"ETag": etag(profile.version), "Last-Modified": last_modified(profile.updated_at)}


def _tags(value: str) -> list[str] | None:
    """The entity tags of an ``If-Match`` / ``If-None-Match`` value (``None`` for ``*``)."""
    if value.strip() == "*":
        return None
    return [t.strip() for t in value.split(",")[:MAX_TAGS] if t.strip()]


def _version(tag: str) -> int | None:
    """The version a strong tag names (``"3"`` -> 3); weak or foreign tags name none."""
    if len(tag) < 3 or tag[0] != '"' or tag[-1] != '"' or not tag[1:-1].isdigit():
        return None
    return int(tag[1:-1]) if len(tag) < 22 else None


def _http_date(value: str | None) -> float | None:
    """Seconds since the epoch of an HTTP-date (``None`` when absent or not a date: ignored)."""
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def failed(profile: Profile, header: str) -> ApiError:
    """The 412 of a precondition ``header`` that does not hold for ``profile``."""
    return ApiError(
        412,
        "precondition_failed",
        f"{header} does not match profile {profile.id!r}, now at version {profile.version}: "
        "it changed since you read it; read it again and retry",
        headers={"ETag": etag(profile.version)},
        current_version=profile.version,
    )


def has_write_preconditions(request: Request) -> bool:
    """Whether the request sends ``If-Match`` or ``If-Unmodified-Since``."""
    h = request.headers
    return "if-match" in h or "if-unmodified-since" in h


def expected_version(request: Request, current: Callable[[], Profile]) -> int | None:
    """The version a write must find (``if_version``), or ``None`` when the request sets no
    precondition. Raises a 412 :class:`ApiError` when one already fails.

    ``If-Match`` with one strong tag needs no read: the store compares inside the write. With
    ``*``, several tags, or ``If-Unmodified-Since`` (ignored when ``If-Match`` is present, as
    RFC 9110 says), ``current()`` reads the profile once and the write then expects that version.
    ``If-Unmodified-Since`` has the one-second resolution of HTTP dates: it cannot tell two
    changes within the same second apart; ``If-Match`` can.
    """
    h = request.headers
    if_match = h.get("if-match")
    if if_match is not None:
        tags = _tags(if_match)
        if tags is not None and len(tags) == 1:
            v = _version(tags[0])
            if v is None:
                raise failed(current(), "If-Match")  # current() first: a 404 comes before
            return v
        profile = current()
        if tags is not None and profile.version not in {_version(t) for t in tags}:
            raise failed(profile, "If-Match")
        return profile.version
    since = _http_date(h.get("if-unmodified-since"))
    if since is None:
        return None
    profile = current()
    if math.floor(profile.updated_at) > since:
        raise failed(profile, "If-Unmodified-Since")
    return profile.version


def not_modified(request: Request, profile: Profile) -> bool:
    """``If-None-Match`` (weak comparison) matches the profile: answer 304."""
    value = request.headers.get("if-none-match")
    if value is None:
        return False
    tags = _tags(value)
    if tags is None:
        return True
    return profile.version in {_version(t.removeprefix("W/")) for t in tags}
