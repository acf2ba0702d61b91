"""Listening-history imports behind the facade: one importer per data set, what a history feeds
the fold-in, and the answer every interface shows.

:class:`HistoryService` owns the one :class:`~artistrec.history.HistoryImporter` of a data set,
built on first use from the catalogue's :class:`~artistrec.data.names.NameIndex` (the matcher
search uses), and turns the core's errors into the service's: :class:`InvalidHistoryError` (an
:class:`InvalidRequestError` on the field ``history``; ``too_large`` for the size limits).
:func:`fold_in` says which artists a history rates and which it excludes; :func:`history_body`
is the object of issue 14 that ``artistrec recommend --history --json``, ``POST /history`` and
the web app share. Files are read in memory and never stored.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from artistrec.history import (
    HistoryFormatError,
    HistoryImport,
    HistoryImporter,
    HistoryTooLargeError,
    parse_entries,
)
from artistrec.history.formats import Progress, Source
from artistrec.service.catalogue import Catalogue
from artistrec.service.errors import InvalidRequestError
from artistrec.service.results import Recommendation
from artistrec.service.validation import MAX_EXCLUDE, MAX_RATINGS

#: Most ``{"name"|"artist_id", "plays"}`` entries one import takes (files are bounded by size).
MAX_HISTORY_ENTRIES = 100_000
#: The most played matched artists of a history that become ratings (the fold-in input, the
#: web app's rating list, the ``profile`` to save); every other artist of the history is
#: excluded. Twice HetRec's 50 artists per listener, the lists the models learned from; and a
#: rating list the web app redraws on every interaction stays responsive (docs/BENCHMARKS.md).
HISTORY_MAX_RATINGS = 100

#: What ``read`` takes as files: a path or ``(name, bytes)`` upload, or several.
Files = Source | Iterable[Source]


class InvalidHistoryError(InvalidRequestError):
    """A history that cannot be imported: an unrecognised format (the message lists the
    understood ones), a corrupt file (the message says where), no plays, a bad entry, or
    (``too_large``) a file, archive or import over the size limits. ``field`` is ``history``."""

    def __init__(self, message: str, too_large: bool = False) -> None:
        super().__init__(message, "history")
        self.too_large = too_large


@contextmanager
def history_errors() -> Iterator[None]:
    """Turn the core's errors (and unreadable paths) into :class:`InvalidHistoryError`."""
    try:
        yield
    except HistoryTooLargeError as exc:
        raise InvalidHistoryError(str(exc), too_large=True) from None
    except HistoryFormatError as exc:
        raise InvalidHistoryError(str(exc)) from None
    except OSError as exc:  # a path that exists but cannot be read
        where = f"{exc.filename}: " if exc.filename else ""
        raise InvalidHistoryError(f"{where}cannot be read ({exc.strerror or exc})") from None


class HistoryService:
    """Reads listening histories against one catalogue (thread-safe; the importer is lazy)."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self._importer: HistoryImporter | None = None
        self._lock = threading.Lock()

    @property
    def importer(self) -> HistoryImporter:
        """The data set's importer, built once on first use from the catalogue's name index."""
        if self._importer is None:
            with self._lock:
                if self._importer is None:
                    self._importer = HistoryImporter(self.catalogue.matcher, self.catalogue.ids)
        return self._importer

    def read(
        self,
        files: Files | None = None,
        *,
        entries: Sequence[Mapping[str, Any]] | None = None,
        progress: Progress | None = None,
    ) -> HistoryImport:
        """Import ``files`` (paths or ``(name, bytes)`` uploads, zips opened) or ``entries``
        (``[{"name", "plays"}]`` / ``[{"artist_id", "plays"}]``): exactly one of the two.

        ``progress(done, total)`` is called after each file. Raises
        :class:`InvalidHistoryError`, or :class:`UnknownArtistError` for an entry's unknown id.
        """
        if (files is None) == (entries is None):
            raise InvalidRequestError("give either history files or history entries", "history")
        with history_errors():
            if entries is not None:
                return self._read_entries(entries)
            return self.importer.from_files(files, progress)

    def _read_entries(self, entries: Sequence[Mapping[str, Any]]) -> HistoryImport:
        if isinstance(entries, Sequence) and len(entries) > MAX_HISTORY_ENTRIES:
            raise InvalidHistoryError(
                f"at most {MAX_HISTORY_ENTRIES:,} history entries per import, got "
                f"{len(entries):,} (sum the plays per artist first)",
                too_large=True,
            )
        try:
            table = parse_entries(entries)
        except ValueError as exc:
            raise InvalidHistoryError(str(exc)) from None
        ids = table["artist_id"].to_numpy(np.int64)
        # an unknown id is the same error as anywhere else in the service (404 in the API)
        self.catalogue.indices_of(np.unique(ids[ids >= 0]).tolist(), "history")
        return self.importer.from_entries(entries)


def fold_in(result: HistoryImport) -> tuple[dict[int, int], list[int]]:
    """What a history feeds the fold-in: ``(ratings, exclude)``.

    ``ratings`` = {artist id: level} of the :data:`HISTORY_MAX_RATINGS` most played matched
    artists; ``exclude`` = every other artist of the history, the matched ones beyond that and
    the fuzzy candidates awaiting confirmation, so no artist of the history is recommended
    (capped at :data:`MAX_EXCLUDE`, most played first: only a history matching more than
    10,000 catalogue artists reaches that).
    """
    levels = result.levels_by_id()
    top = result.ratings[: min(HISTORY_MAX_RATINGS, MAX_RATINGS)]
    ratings = {r.artist_id: levels[r.artist_id] for r in top}
    exclude = [a for a in result.exclude_ids() if a not in ratings][:MAX_EXCLUDE]
    return ratings, exclude


def recommendation_body(rec: Recommendation) -> dict[str, Any]:
    """A recommendation as the interfaces show it: original ids only (no column index)."""
    return {k: v for k, v in rec.to_dict().items() if k != "index"}


def history_body(
    result: HistoryImport,
    ratings: Mapping[int, int],
    recs: Sequence[Recommendation],
    model: str,
) -> dict[str, Any]:
    """The answer to an import (issue 14's object), JSON-ready.

    ``read`` (plays, artists, skipped_rows, short_streams, files, ignored_files), ``matched``
    (artists, plays), ``ratings`` (every matched artist, most played first: artist_id, name,
    plays, level, match = id | mbid | exact | folded | fuzzy, query = the spelling in the
    history, score), ``unmatched`` (name, plays; most played first), ``to_confirm`` (fuzzy
    matches not applied: name, plays, level, artist_id, artist_name, score), ``profile`` (the
    ratings the recommendations come from, as a ``POST /profiles`` body), ``model`` (the model
    that ranked) and ``recommendations`` (artist_id, name, url, score, tags, reason).
    """
    body = result.to_dict()
    body["profile"] = {
        "ratings": [{"artist_id": int(a), "level": int(lv)} for a, lv in ratings.items()]
    }
    body["model"] = model
    body["recommendations"] = [recommendation_body(r) for r in recs]
    return body
