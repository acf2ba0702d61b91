"""Strict JSON request bodies: decoded and validated in one pass by msgspec, documented once.

Why not FastAPI's pydantic body parameters: pydantic coerces (``"level": "5"`` and ``true``
became 5 and 1, ``"artist_id": 289.0`` became 289) and reports every problem of a body (74,000
unknown keys gave a 6.8 MB answer after ~1 s). msgspec decodes JSON straight into typed structs,
strictly (no str -> int, bool -> int or float -> int), refuses unknown keys, and stops at the first
problem, so a bad body costs about as much as reading it and the error names one field. The
OpenAPI schema of each body is generated from the same struct (:func:`openapi_components`), with
the one rule msgspec's generator cannot say (``oneOf`` for "exactly one of artist_id or name")
added by hand next to the code that enforces it.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, TypeVar

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from artistrec.service import MAX_EXCLUDE, MAX_K, MAX_RATINGS

#: Ids beyond this are certainly unknown; bounding them keeps every id a valid SQLite/int64 value.
MAX_ID = 2**53
MAX_NAME = 200
MAX_DISPLAY_NAME = 100
#: Text fields accept any Unicode except NUL (no database stores it) and lone surrogates (no
#: UTF-8 encodes them; msgspec refuses them while decoding).
TEXT_PATTERN = r"^[^\x00]*$"

ArtistIdIn = Annotated[int, Meta(ge=-MAX_ID, le=MAX_ID, examples=[289])]
Level = Annotated[
    int, Meta(ge=0, le=5, description="0 = not interested / not listened .. 5 = over 50,000 plays")
]
ArtistName = Annotated[
    str,
    Meta(min_length=1, max_length=MAX_NAME, pattern=TEXT_PATTERN, examples=["Britney Spears"]),
]
DisplayName = Annotated[str, Meta(max_length=MAX_DISPLAY_NAME, pattern=TEXT_PATTERN)]


class BodyError(ValueError):
    """A body that is not what the endpoint takes: ``field`` names the first problem
    (dotted path, e.g. ``ratings.0.level``; empty for the body as a whole)."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


class InvalidJSONError(ValueError):
    """The body is not JSON at all (the message says where)."""


class RatingIn(Struct, forbid_unknown_fields=True, omit_defaults=True):
    """One rating: an artist by ``artist_id`` OR by ``name`` (exactly one), and a level 0..5."""

    level: Level
    artist_id: ArtistIdIn | UnsetType = UNSET
    name: ArtistName | UnsetType = UNSET

    def __post_init__(self) -> None:
        if (self.artist_id is UNSET) == (self.name is UNSET):
            raise ValueError("give exactly one of artist_id or name")


class RecommendRequest(Struct, forbid_unknown_fields=True):
    """Body of ``POST /recommendations``."""

    ratings: Annotated[list[RatingIn], Meta(max_length=MAX_RATINGS)] = []
    k: Annotated[int, Meta(ge=1, le=MAX_K)] = 10
    exclude: Annotated[list[ArtistIdIn], Meta(max_length=MAX_EXCLUDE)] = []
    model: Annotated[str, Meta(max_length=64)] = "default"
    novelty: Annotated[float, Meta(ge=0.0, le=1.0)] = 0.0


class ProfileIn(Struct, forbid_unknown_fields=True):
    """Body of ``POST /profiles`` and ``PUT /profiles/{id}``."""

    ratings: Annotated[list[RatingIn], Meta(max_length=MAX_RATINGS)] = []
    display_name: DisplayName | None = None


class ProfilePatch(Struct, forbid_unknown_fields=True):
    """Body of ``PATCH /profiles/{id}``: upsert ``ratings``, delete ``remove``, rename.

    ``display_name`` absent keeps the name, ``null`` clears it.
    """

    ratings: Annotated[list[RatingIn], Meta(max_length=MAX_RATINGS)] = []
    remove: Annotated[list[ArtistIdIn], Meta(max_length=MAX_RATINGS)] = []
    display_name: DisplayName | None | UnsetType = UNSET


BODIES: tuple[type[Struct], ...] = (RecommendRequest, ProfileIn, ProfilePatch)
B = TypeVar("B", bound=Struct)
_DECODERS: dict[type, msgspec.json.Decoder] = {t: msgspec.json.Decoder(t) for t in BODIES}
_AT = " - at `$"


def _field(path: str) -> str:
    """``$.ratings[0].level`` (msgspec) -> ``ratings.0.level``."""
    return path.lstrip("$.").replace("[", ".").replace("]", "").strip(".")


def decode(body: bytes, kind: type[B]) -> B:
    """``body`` as a ``kind`` struct, or :class:`InvalidJSONError` / :class:`BodyError`."""
    try:
        return _DECODERS[kind].decode(body)
    except msgspec.ValidationError as exc:
        text = str(exc)
        if _AT in text:
            message, _, path = text.rpartition(_AT)
            field = _field("$" + path.rstrip("`"))
        else:
            message, field = text, ""
        unknown = re.fullmatch(r"Object contains unknown field `(.*)`", message)
        if unknown:
            key = unknown.group(1)[:64]
            field = f"{field}.{key}" if field else key
            message = f"unknown field {key!r}"
        elif "matching regex" in message:
            message = "text must not contain NUL characters"
        elif message.startswith("Expected `object`"):
            message = f"{message[0].lower()}{message[1:]}: the body must be a JSON object"
        else:
            message = message[0].lower() + message[1:]
        raise BodyError(f"{field}: {message}" if field else message, field) from None
    except msgspec.DecodeError as exc:
        raise InvalidJSONError(f"request body is not valid JSON: {_json_problem(exc)}") from None


def is_json(content_type: str | None) -> bool:
    """Whether a Content-Type names JSON (``application/json``, ``application/*+json``)."""
    if not content_type:
        return False
    mime = content_type.split(";", 1)[0].strip().lower()
    return mime == "application/json" or (
        mime.startswith("application/") and mime.endswith("+json")
    )


def _json_problem(exc: msgspec.DecodeError) -> str:
    """msgspec's "JSON is malformed: invalid character (byte 12)" -> "invalid character at
    byte 12"; "Input data was truncated" -> "it ends too early"."""
    text = str(exc)
    if text == "Input data was truncated":
        return "it ends before the JSON value does (empty or cut off)"
    text = text.removeprefix("JSON is malformed: ")
    m = re.fullmatch(r"(.*) \(byte (\d+)\)", text)
    return f"{m.group(1)} at byte {m.group(2)}" if m else text


# ----------------------------------------------------------------------------- OpenAPI
def _ref(name: str) -> str:
    return f"#/components/schemas/{name}"


def openapi_components(models: list[str]) -> dict[str, dict[str, Any]]:
    """JSON schemas of the request bodies (``components/schemas``), as msgspec and the routes
    enforce them (``models``: the names ``model`` may take)."""
    _, components = msgspec.json.schema_components(BODIES, ref_template=_ref("{name}"))
    components["RecommendRequest"]["properties"]["model"]["enum"] = list(models)
    rating = components["RatingIn"]
    rating["oneOf"] = [{"required": ["artist_id"]}, {"required": ["name"]}]
    for name in ("RecommendRequest", "ProfileIn", "ProfilePatch"):
        # identical ratings are refused like any artist rated twice (ratings_by_id); that an
        # artist may appear once only, whether by id or by name, JSON Schema cannot say
        ratings = components[name]["properties"]["ratings"]
        ratings["uniqueItems"] = True
        ratings["description"] = "Each artist at most once (by id or by name)"
    return components


def request_body(kind: type[Struct]) -> dict[str, Any]:
    """The ``openapi_extra`` of a route that reads a ``kind`` body."""
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": _ref(kind.__name__)}}},
        }
    }
