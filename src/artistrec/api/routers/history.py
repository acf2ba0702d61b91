"""``POST /history``: recommendations from a listening history, uploaded as export files
(multipart, zips included) or sent as a JSON list of plays per artist.

The route has its own body limit, :data:`MAX_HISTORY_BODY` (100 MB; every other route keeps the
API's 1 MiB), registered through :data:`BODY_LIMITS`. The body is held in memory and never
written anywhere: the multipart form is parsed here with python-multipart, not by Starlette's
form parser, which spools files over 1 MB to temporary files on disk. No CPU work runs on the
event loop: parsing, matching and the fold-in (about a second of CPU for a large export) run in
the thread pool, in steps that give the GIL up often (the form is fed to the parser 1 MiB at a
time; long JSON files are decoded item by item, :func:`artistrec.history.formats.loads_json`),
so the event loop keeps answering. At most :data:`MAX_CONCURRENT_IMPORTS` imports run at a time
per process: a request waits for a slot before its body is read, so at most that many bodies
are held at once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from artistrec.api.deps import DEFAULT_MODEL, ModelName
from artistrec.api.errors import ApiError, error_response
from artistrec.api.schemas import ErrorOut, RecommendationOut
from artistrec.history import FORMATS, MAX_FILE_BYTES
from artistrec.history.formats import MAX_PLAYS
from artistrec.service import MAX_HISTORY_ENTRIES, MAX_K, InvalidHistoryError, RecommenderService
from artistrec.service.history import HISTORY_MAX_RATINGS

PATH = "/history"
#: Largest request body ``POST /history`` takes (the files together, with the form's framing).
MAX_HISTORY_BODY = MAX_FILE_BYTES
#: The API's per-path body limits this router needs (``create_app`` passes them on).
BODY_LIMITS: dict[str, int] = {PATH: MAX_HISTORY_BODY}
#: History imports one process runs at once; more wait (memory: each holds its body).
MAX_CONCURRENT_IMPORTS = 2
#: Most files one multipart upload may hold (a zip counts as one).
MAX_UPLOAD_FILES = 100
#: The multipart field that carries the files.
FILES_FIELD = "files"
_MAX_FILE_NAME = 200
_ENTRY_KEYS = frozenset({"name", "artist_id", "plays"})
_FEED_BYTES = 1 << 20

router = APIRouter(tags=["history"])


# ----------------------------------------------------------------------------- response (docs)
class HistoryFile(BaseModel):
    file: str
    format: Literal[tuple(FORMATS)]  # type: ignore[valid-type]
    rows: int


class IgnoredFile(BaseModel):
    file: str
    reason: str


class HistoryRead(BaseModel):
    plays: int = Field(description="Plays read (streams of at least 30 s with an artist)")
    artists: int = Field(description="Distinct artist names read (spellings folded)")
    skipped_rows: int = Field(description="Rows without an artist (podcasts, videos)")
    short_streams: int = Field(description="Streams shorter than 30 s, not counted as plays")
    files: list[HistoryFile]
    ignored_files: list[IgnoredFile] = Field(description="Archive members that are no history")


class HistoryMatched(BaseModel):
    artists: int
    plays: int


class HistoryRating(BaseModel):
    artist_id: int
    name: str
    plays: int
    level: int = Field(description="1..5 on the product's scale, from the plays")
    match: Literal["id", "mbid", "exact", "folded", "fuzzy"]
    query: str = Field(description="The spelling in the history (the most played one)")
    score: float


class Unmatched(BaseModel):
    name: str
    plays: int


class ToConfirm(BaseModel):
    name: str = Field(description="The spelling in the history")
    plays: int
    level: int = Field(description="The level it gets once confirmed")
    artist_id: int
    artist_name: str
    score: float


class ProfileRating(BaseModel):
    artist_id: int
    level: int


class HistoryProfile(BaseModel):
    ratings: list[ProfileRating]


class HistoryOut(BaseModel):
    """What was read and matched, and the recommendations (no artist of the history)."""

    read: HistoryRead
    matched: HistoryMatched
    ratings: list[HistoryRating] = Field(description="Matched artists, most played first")
    unmatched: list[Unmatched] = Field(description="Names not in the catalogue, most played first")
    to_confirm: list[ToConfirm] = Field(
        description="Close (fuzzy) matches not applied: confirm one by sending it again as "
        '{"artist_id", "plays"}'
    )
    profile: HistoryProfile = Field(
        description=f"The ratings the recommendations come from (the {HISTORY_MAX_RATINGS} most played "
        "matched artists): post this object to POST /profiles to save them"
    )
    model: str
    recommendations: list[RecommendationOut]


# ----------------------------------------------------------------------------- request (docs)
_ENTRY_SCHEMA: dict[str, Any] = {
    "oneOf": [
        {
            "type": "object",
            "properties": {
                "name": {"type": "string", "minLength": 1, "examples": ["Radiohead"]},
                "plays": {"type": "integer", "minimum": 1, "maximum": MAX_PLAYS},
            },
            "required": ["name", "plays"],
            "additionalProperties": False,
        },
        {
            "type": "object",
            "properties": {
                "artist_id": {"type": "integer", "examples": [289]},
                "plays": {"type": "integer", "minimum": 1, "maximum": MAX_PLAYS},
            },
            "required": ["artist_id", "plays"],
            "additionalProperties": False,
        },
    ]
}
_REQUEST_BODY: dict[str, Any] = {
    "required": True,
    "description": (
        f"Either export files as multipart/form-data in the field `{FILES_FIELD}` (repeat it "
        "for several files; the format is recognised from the content: "
        + "; ".join(FORMATS.values())
        + "), or a JSON list of plays per artist, by name or by id. At most "
        f"{MAX_HISTORY_BODY // 2**20} MB in all; zip a larger export. Nothing is stored."
    ),
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {
                    FILES_FIELD: {
                        "type": "array",
                        "items": {"type": "string", "format": "binary"},
                        "minItems": 1,
                        "maxItems": MAX_UPLOAD_FILES,
                    }
                },
                "required": [FILES_FIELD],
            }
        },
        "application/json": {
            "schema": {
                "type": "array",
                "items": _ENTRY_SCHEMA,
                "minItems": 1,
                "maxItems": MAX_HISTORY_ENTRIES,
            },
            "example": [{"name": "Radiohead", "plays": 1234}, {"artist_id": 289, "plays": 56}],
        },
    },
}


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorOut, "description": description}


_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _error("The body is not valid JSON, or the multipart form is malformed"),
    404: _error("An entry's artist_id is not in the catalogue"),
    413: _error(f"Over {MAX_HISTORY_BODY // 2**20} MB, or a file or archive over its limit"),
    415: _error("Neither multipart/form-data nor application/json"),
    422: _error(
        "Unrecognised format (the message names the understood ones), a corrupt file (the "
        "message says where), no plays, a bad entry, or a bad k / model / novelty"
    ),
}


# ----------------------------------------------------------------------------- the route
@router.post(
    PATH,
    response_model=HistoryOut,
    responses=_RESPONSES,
    openapi_extra={"requestBody": _REQUEST_BODY},
)
async def import_history(
    request: Request,
    k: Annotated[int, Query(ge=1, le=MAX_K, description="Number of recommendations")] = 10,
    model: ModelName = DEFAULT_MODEL,
    novelty: Annotated[
        float, Query(ge=0.0, le=1.0, allow_inf_nan=False, description="0..1: less popular")
    ] = 0.0,
) -> Response:
    """Recommendations from a listening history (Spotify or Last.fm export, artist/plays table).

    Answers with what was read (plays, artists, skipped rows), how each artist was matched, the
    unmatched names and close matches to confirm (most played first), and the recommendations,
    which leave out every artist of the history. ``profile`` is a ready ``POST /profiles`` body
    with the ratings the recommendations come from.
    """
    svc: RecommenderService = request.app.state.service
    model_name: str = model.value
    content_type = request.headers.get("content-type", "")
    kind = _content_kind(content_type)
    await run_in_threadpool(svc.model, model_name)  # an untrained one loads before any reading
    async with _slots(request):
        try:  # not request.body(): the request would keep the bytes until it is answered
            body = b"".join([chunk async for chunk in request.stream()])
        except ClientDisconnect:
            raise ApiError(400, "client_disconnected", "the client closed the connection") from None
        try:
            if kind == "json":
                entries = await run_in_threadpool(_entries, body)
                del body
                result = await run_in_threadpool(
                    _recommend, svc, None, entries, k, model_name, novelty
                )
            else:
                files = await run_in_threadpool(parse_files, content_type, body)
                del body
                result = await run_in_threadpool(
                    _recommend, svc, files, None, k, model_name, novelty
                )
        except InvalidHistoryError as exc:
            if exc.too_large:
                return error_response(413, "history_too_large", str(exc), fields=["history"])
            return error_response(422, "invalid_history", str(exc), fields=["history"])
    return JSONResponse(result)


def _recommend(
    svc: RecommenderService,
    files: list[tuple[str, bytes]] | None,
    entries: list[Any] | None,
    k: int,
    model: str,
    novelty: float,
) -> dict[str, Any]:
    """Read, match, fold in and recommend (in a worker thread)."""
    return svc.import_history(files, entries=entries, k=k, model=model, novelty=novelty)


def _slots(request: Request) -> anyio.Semaphore:
    """This app's import slots (created on first use, inside the event loop)."""
    state = request.app.state
    slots = getattr(state, "history_slots", None)
    if slots is None:
        slots = state.history_slots = anyio.Semaphore(MAX_CONCURRENT_IMPORTS)
    return slots


def _content_kind(content_type: str) -> str:
    """``multipart`` or ``json`` (415 for anything else)."""
    mime = content_type.split(";", 1)[0].strip().lower()
    if mime == "multipart/form-data":
        return "multipart"
    if mime == "application/json" or (mime.startswith("application/") and mime.endswith("+json")):
        return "json"
    raise ApiError(
        415,
        "unsupported_media_type",
        f"send the history as multipart/form-data (files in the field '{FILES_FIELD}') or as "
        'application/json (a list of {"name" or "artist_id", "plays"})',
    )


def _entries(body: bytes) -> list[Any]:
    """The JSON body (400 when it is not JSON; its shape is checked by the service)."""
    try:
        doc = json.loads(body)
    except UnicodeDecodeError:
        raise ApiError(400, "invalid_json", "request body is not valid UTF-8 JSON") from None
    except json.JSONDecodeError as exc:
        raise ApiError(
            400,
            "invalid_json",
            f"request body is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
        ) from None
    if not isinstance(doc, list):
        raise InvalidHistoryError(
            'the JSON body must be a list of {"name" or "artist_id", "plays"} objects'
        )
    for i, entry in enumerate(doc, start=1):  # unknown keys refused at once, as in every body
        if isinstance(entry, dict) and not entry.keys() <= _ENTRY_KEYS:
            key = sorted(entry.keys() - _ENTRY_KEYS)[0][:64]
            raise InvalidHistoryError(f"entry {i}: unknown field {key!r}")
    return doc


# ----------------------------------------------------------------------------- multipart
class _Parts:
    """Collects the parts of a multipart body in memory (python-multipart callbacks)."""

    def __init__(self) -> None:
        self.parts: list[tuple[dict[bytes, bytes], bytes]] = []
        self._headers: dict[bytes, bytes] = {}
        self._field = b""
        self._value = b""
        self._data = bytearray()

    def callbacks(self) -> dict[str, Any]:
        return {
            "on_part_begin": self._begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value,
            "on_header_end": self._header_end,
            "on_part_data": self._part_data,
            "on_part_end": self._end,
        }

    def _begin(self) -> None:
        if len(self.parts) >= MAX_UPLOAD_FILES:
            raise ApiError(  # the schema's maxItems: a validation error like any other
                422, "too_many_files", f"at most {MAX_UPLOAD_FILES} files per upload; zip them"
            )
        self._headers, self._data = {}, bytearray()

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._field.strip().lower()] = self._value.strip()
        self._field, self._value = b"", b""

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        self._data += data[start:end]

    def _end(self) -> None:
        self.parts.append((self._headers, bytes(self._data)))
        self._data = bytearray()


def parse_files(content_type: str, body: bytes) -> list[tuple[str, bytes]]:
    """The uploaded files of a multipart/form-data body as ``(file name, bytes)``, in memory.

    Only the field :data:`FILES_FIELD` is accepted (422 naming any other field); a file's name
    is the base name the client sent (used in messages only).
    """
    _, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if not boundary:
        raise ApiError(400, "bad_multipart", "the multipart Content-Type has no boundary")
    parts = _Parts()
    try:
        parser = MultipartParser(boundary, parts.callbacks())
        for start in range(0, len(body), _FEED_BYTES):  # the GIL is given up between pieces
            parser.write(body[start : start + _FEED_BYTES])
        parser.finalize()
    except ApiError:
        raise
    except Exception as exc:  # python-multipart's parse errors (several classes)
        raise ApiError(400, "bad_multipart", f"the multipart form is malformed ({exc})") from None
    files: list[tuple[str, bytes]] = []
    for headers, data in parts.parts:
        disposition = headers.get(b"content-disposition", b"")
        _, options = parse_options_header(disposition)
        field = _text(options.get(b"name", b""))
        if field != FILES_FIELD:
            raise InvalidHistoryError(
                f"unexpected form field {field!r}: send the files in the field '{FILES_FIELD}'"
            )
        files.append((_file_name(options, len(files) + 1), data))
    if not files:
        raise InvalidHistoryError(f"no files were sent in the form field '{FILES_FIELD}'")
    return files


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


def _file_name(options: Mapping[bytes, bytes], number: int) -> str:
    """The base name of an uploaded file (``file N`` without one), for messages."""
    name = _text(options.get(b"filename", b"")).replace("\\", "/").rsplit("/", 1)[-1].strip()
    name = "".join(c for c in name if c.isprintable())[:_MAX_FILE_NAME]
    return name or f"file {number}"
