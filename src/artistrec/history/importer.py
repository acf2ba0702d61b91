"""Turn a listening history into ratings: sum plays, match artists to the catalogue, make levels.

:class:`HistoryImporter` holds the catalogue side (a :class:`~artistrec.data.names.NameIndex`
and the original artist ids by index); ``from_files`` / ``from_entries`` return a
:class:`HistoryImport`, the object the CLI (``recommend --history``), the API (``POST
/history``) and the web app show. Nothing is stored.

Matching uses the same matcher as search: MusicBrainz ids where both sides have them, exact
spelling, folded spelling (case, accents, punctuation, script), then fuzzy. Exports carry the
services' canonical spellings, so a fuzzy hit is applied only at a high score
(:data:`CONFIDENT_SCORE`); hits between :data:`CONFIRM_SCORE` and that are listed for the
person to confirm, not applied. Plays of every spelling matched to one artist are summed and
become a level on the product's 1-5 scale with :func:`artistrec.data.scale.to_levels`, as
they are: an export covers its own period while HetRec's counts are all-time, but scaling the
counts did not measurably help new-user recommendations (docs/BENCHMARKS.md, "Listening-history
import"), so none is applied.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from artistrec.data.names import NameIndex, fold_name
from artistrec.data.scale import to_levels
from artistrec.history.formats import (
    MIN_PLAY_MS,
    HistoryFormatError,
    ParsedHistory,
    Progress,
    Source,
    parse_entries,
    read_sources,
)

#: A fuzzy match at or above this score is applied.
CONFIDENT_SCORE = 90.0
#: A fuzzy match at or above this score (and below CONFIDENT_SCORE) is listed to confirm.
CONFIRM_SCORE = 70.0
#: At most this many distinct unmatched names (the most played) get a fuzzy search; the rest
#: are listed as unmatched. Keeps a 30,000-artist export's import bounded (about 1 ms each).
MAX_FUZZY_NAMES = 3_000

_KIND_ORDER = {"id": 0, "mbid": 1, "exact": 2, "folded": 3, "fuzzy": 4}


class EmptyHistoryError(HistoryFormatError):
    """The files were read but held no plays."""


@dataclass(frozen=True)
class RatedArtist:
    """One catalogue artist of the history: its plays, their level and how it was matched."""

    artist_id: int
    name: str
    plays: int
    level: int
    match: str  # "id" | "mbid" | "exact" | "folded" | "fuzzy"
    query: str  # the spelling in the history (the most played one when several matched)
    score: float


@dataclass(frozen=True)
class HistoryImport:
    """The result of one import (``to_dict()`` is the JSON the interfaces return).

    ``read``: plays, artists and skipped rows read (plus short streams, files and ignored
    archive members); ``ratings``: matched artists, most played first; ``unmatched``: names
    not in the catalogue, most played first (``name``, ``plays``); ``to_confirm``:
    low-confidence fuzzy matches that were not applied, most played first (``name`` and
    ``plays`` as in the history, the ``level`` it would get, the candidate's ``artist_id`` and
    ``artist_name``, ``score``); ``matched``: how many artists and plays were matched.
    """

    read: dict[str, Any]
    ratings: list[RatedArtist]
    unmatched: list[dict[str, Any]]
    to_confirm: list[dict[str, Any]]
    matched: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "read": dict(self.read),
            "matched": dict(self.matched),
            "ratings": [asdict(r) for r in self.ratings],
            "unmatched": [dict(u) for u in self.unmatched],
            "to_confirm": [dict(c) for c in self.to_confirm],
        }

    def levels_by_id(self) -> dict[int, int]:
        """{original artist id: level 1..5} of the matched artists (a fold-in input)."""
        return {r.artist_id: r.level for r in self.ratings}

    def exclude_ids(self) -> list[int]:
        """Artist ids recommendations must leave out: every matched artist and every
        candidate awaiting confirmation (the person most likely listened to it too)."""
        ids = [r.artist_id for r in self.ratings] + [int(c["artist_id"]) for c in self.to_confirm]
        return list(dict.fromkeys(ids))


class HistoryImporter:
    """Imports histories against one catalogue.

    ``index`` matches names; ``artist_ids[i]`` is the original id of the artist at index ``i``
    (``dataset.artist_ids``). Build once per data set, e.g. with :meth:`from_dataset`.
    """

    def __init__(
        self,
        index: NameIndex,
        artist_ids: npt.ArrayLike,
        *,
        confident_score: float = CONFIDENT_SCORE,
        confirm_score: float = CONFIRM_SCORE,
        min_play_ms: int = MIN_PLAY_MS,
        max_fuzzy_names: int = MAX_FUZZY_NAMES,
    ) -> None:
        ids = np.asarray(artist_ids, dtype=np.int64).ravel()
        if ids.size != len(index):
            raise ValueError(f"{ids.size} artist ids for an index of {len(index)} names")
        if not 0 <= confirm_score <= confident_score <= 100:
            raise ValueError("need 0 <= confirm_score <= confident_score <= 100")
        self.index = index
        self.artist_ids = ids
        self._sorted = np.argsort(ids, kind="stable")
        self.confident_score = float(confident_score)
        self.confirm_score = float(confirm_score)
        self.min_play_ms = int(min_play_ms)
        self.max_fuzzy_names = int(max_fuzzy_names)

    @classmethod
    def from_dataset(
        cls, dataset: Any, index: NameIndex | None = None, **options: Any
    ) -> HistoryImporter:
        """An importer for a :class:`artistrec.data.Dataset` (its name index built if not given)."""
        return cls(index or NameIndex.from_dataset(dataset), dataset.artist_ids, **options)

    # ------------------------------------------------------------------ entry points
    def from_files(
        self, sources: Source | Iterable[Source], progress: Progress | None = None
    ) -> HistoryImport:
        """Import files (paths or ``(name, bytes)`` uploads; zips are opened).

        ``progress(done, total)`` is called after each file is read.
        """
        parsed = read_sources(sources, self.min_play_ms, progress)
        return self.from_parsed(parsed)

    def from_parsed(self, parsed: ParsedHistory) -> HistoryImport:
        """Import an already parsed history."""
        plays = parsed.plays()
        read = {
            "plays": int(plays["plays"].sum()),
            "artists": _distinct_artists(plays["artist"]),
            "skipped_rows": parsed.skipped_rows,
            "short_streams": parsed.short_streams,
            "files": [{"file": f.name, "format": f.format, "rows": f.rows} for f in parsed.files],
            "ignored_files": list(parsed.ignored),
        }
        if read["plays"] == 0:
            raise EmptyHistoryError(
                f"no plays were found: {parsed.rows:,} rows read, {parsed.skipped_rows:,} "
                f"without an artist (podcasts, videos), {parsed.short_streams:,} streams "
                f"shorter than {self.min_play_ms / 1000:g} s"
            )
        return self._match(plays, read)

    def from_entries(self, entries: Sequence[Mapping[str, Any]]) -> HistoryImport:
        """Import ``[{"name", "plays"}]`` / ``[{"artist_id", "plays"}]`` (the API's JSON form)."""
        table = parse_entries(entries)
        if table.empty:
            raise EmptyHistoryError("no plays were given")
        named = table["artist_id"].to_numpy() < 0
        read = {
            "plays": int(table["plays"].sum()),
            "artists": _distinct_artists(table["artist"][named])
            + int(np.unique(table["artist_id"].to_numpy()[~named]).size),
            "skipped_rows": 0,
            "short_streams": 0,
            "files": [],
            "ignored_files": [],
        }
        return self._match(table.assign(mbid=None), read)

    # ------------------------------------------------------------------ matching
    def _match(self, plays: pd.DataFrame, read: dict[str, Any]) -> HistoryImport:
        """Match every row of ``plays`` (artist, mbid, plays[, artist_id]) and build the result."""
        n = len(plays)
        index = np.full(n, -1, dtype=np.int64)
        kind = np.full(n, "", dtype=object)
        score = np.zeros(n, dtype=np.float64)
        if "artist_id" in plays:
            ids = plays["artist_id"].to_numpy(np.int64)
            by_id = ids >= 0
            index[by_id] = self._index_of_ids(ids[by_id])
            kind[by_id] = "id"
            score[by_id] = 100.0
        else:
            by_id = np.zeros(n, dtype=bool)
        rows = np.flatnonzero(~by_id)
        names = plays["artist"].to_numpy(object)[rows].tolist()
        mbids = plays["mbid"].to_numpy(object)[rows].tolist()
        order = np.argsort(-plays["plays"].to_numpy()[rows], kind="stable")
        # exact/folded/MBID for all; fuzzy only for the most played leftovers
        first = self.index.resolve_many(names, mbids, fuzzy=False)
        left = [int(i) for i in order if first[i] is None][: self.max_fuzzy_names]
        fuzzy = self.index.resolve_many([names[i] for i in left], min_score=self.confirm_score)
        for i, m in zip(left, fuzzy, strict=True):
            first[i] = m
        for r, m in zip(rows.tolist(), first, strict=True):
            if m is not None:
                index[r], kind[r], score[r] = m.index, m.kind, m.score

        counts = plays["plays"].to_numpy(np.int64)
        applied = (index >= 0) & ((kind != "fuzzy") | (score >= self.confident_score))
        pending = (index >= 0) & ~applied
        ratings = self._ratings(plays, index, kind, score, counts, applied)
        to_confirm = [
            {
                "name": str(plays["artist"].iat[r]),
                "plays": int(counts[r]),
                "level": int(to_levels(counts[r])),  # the level it gets once confirmed
                "artist_id": int(self.artist_ids[index[r]]),
                "artist_name": self.index.name(int(index[r])),
                "score": float(score[r]),
            }
            for r in np.flatnonzero(pending)[np.argsort(-counts[pending], kind="stable")]
        ]
        unmatched = _unmatched(plays["artist"][index < 0], counts[index < 0])
        matched = {"artists": len(ratings), "plays": int(counts[applied].sum())}
        return HistoryImport(read, ratings, unmatched, to_confirm, matched)

    def _index_of_ids(self, ids: np.ndarray) -> np.ndarray:
        pos = np.searchsorted(self.artist_ids, ids, sorter=self._sorted)
        pos = np.minimum(pos, max(self.artist_ids.size - 1, 0))
        idx = self._sorted[pos] if self.artist_ids.size else pos
        bad = (self.artist_ids[idx] != ids) if self.artist_ids.size else np.ones(ids.size, bool)
        if bad.any():
            shown = ", ".join(str(v) for v in np.unique(ids[bad])[:5])
            raise ValueError(f"unknown artist id(s): {shown}")
        return idx

    def _ratings(
        self,
        plays: pd.DataFrame,
        index: np.ndarray,
        kind: np.ndarray,
        score: np.ndarray,
        counts: np.ndarray,
        applied: np.ndarray,
    ) -> list[RatedArtist]:
        rows = np.flatnonzero(applied)
        if rows.size == 0:
            return []
        df = pd.DataFrame(
            {
                "index": index[rows],
                "plays": counts[rows],
                "query": plays["artist"].to_numpy(object)[rows],
                "kind": kind[rows],
                "score": score[rows],
            }
        )
        df["query"] = df["query"].where(df["query"].notna(), None)
        # per artist: total plays; the most played spelling names the match
        df = df.sort_values(["index", "plays"], ascending=[True, False], kind="stable")
        g = df.groupby("index", sort=False)
        top = g.head(1).set_index("index")
        total = g["plays"].sum()
        top = top.assign(total=total).sort_values(["total"], ascending=False, kind="stable")
        levels = to_levels(top["total"].to_numpy(np.float64))
        ids = self.artist_ids[top.index.to_numpy(np.int64)]
        queries = top["query"].tolist()
        return [
            RatedArtist(
                artist_id=int(artist_id),
                name=self.index.name(int(idx)),
                plays=int(total_plays),
                level=int(level),
                match=str(match),
                query=str(query if query is not None else artist_id),
                score=float(match_score),
            )
            for idx, artist_id, total_plays, level, match, query, match_score in zip(
                top.index.tolist(),
                ids.tolist(),
                top["total"].tolist(),
                levels.tolist(),
                top["kind"].tolist(),
                queries,
                top["score"].tolist(),
                strict=True,
            )
        ]


def _distinct_artists(names: pd.Series) -> int:
    """Distinct artists among spellings (names that fold alike count once)."""
    return len({fold_name(n) for n in names.dropna().unique().tolist()})


def _unmatched(names: pd.Series, counts: np.ndarray) -> list[dict[str, Any]]:
    """Unmatched names, spellings that fold alike merged, most played first."""
    if len(names) == 0:
        return []
    df = pd.DataFrame({"name": names.to_numpy(object), "plays": counts})
    df["key"] = [fold_name(n) for n in df["name"].tolist()]
    df = df.sort_values("plays", ascending=False, kind="stable")
    g = df.groupby("key", sort=False)
    out = pd.DataFrame({"name": g["name"].first(), "plays": g["plays"].sum()})
    out = out.sort_values("plays", ascending=False, kind="stable")
    return [
        {"name": str(n), "plays": int(p)}
        for n, p in zip(out["name"].tolist(), out["plays"].tolist(), strict=True)
    ]
