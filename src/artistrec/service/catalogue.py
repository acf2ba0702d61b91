"""The artist catalogue: original id <-> column index, names, links, listeners, tags, name search.

Everything the interfaces show about an artist comes from here, and every original artist id a
request carries is turned into a column index here (or rejected with :class:`UnknownArtistError`).
Name matching (search, "did you mean", typed names) is :class:`~artistrec.data.names.NameIndex`,
built once per data set and shared by the CLI, the API and the web app.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from artistrec.data import Dataset
from artistrec.data.names import NameIndex, fold_name
from artistrec.service.errors import InvalidRequestError, UnknownArtistError
from artistrec.service.results import ArtistHit, Recommendation
from artistrec.service.validation import (
    MAX_SEARCH_LIMIT,
    check_k,
    check_query,
    in_int64,
    is_int,
)

#: Tags listed by :meth:`Catalogue.info`; recommendation cards show the first :data:`CARD_TAGS`.
N_TAGS = 5
CARD_TAGS = 3
#: "Did you mean" names offered for a name that matches nothing.
N_SUGGESTIONS = 5
#: A numeric name ("1349") may also be an artist id; longer digit strings cannot be one.
_MAX_ID_DIGITS = 18


class Catalogue:
    """Artists of one :class:`~artistrec.data.Dataset`, addressed by original id at the boundary."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset
        self.ids = dataset.artist_ids
        self.names = dataset.artist_names
        self.urls = dataset.artists["url"].fillna("").astype(str).to_numpy(object)
        self.listeners = dataset.artist_listeners()
        self.matcher = NameIndex.from_dataset(dataset)
        self._tags: dict[int, list[str]] = {}

    @property
    def size(self) -> int:
        """Number of artists."""
        return int(self.ids.size)

    # ------------------------------------------------------------------ ids <-> indices
    def index_of(self, artist_id: object) -> int:
        """Column index of an original artist id (an unknown id gets no suggestions: ids that
        are numerically close name unrelated artists)."""
        if not is_int(artist_id):
            raise InvalidRequestError(
                f"artist id must be an integer, got {artist_id!r}", "artist_id"
            )
        return int(self.indices_of([int(artist_id)], "artist_id")[0])

    def indices_of(self, ids: Sequence[int], field: str) -> np.ndarray:
        """Column indices (int64) of original artist ids; the first unknown one raises."""
        for i in ids:
            if not in_int64(i):
                raise UnknownArtistError(int(i), field=field)
        arr = np.asarray(ids, dtype=np.int64)
        if arr.size == 0:
            return np.empty(0, np.int64)
        known = self.dataset.artist_map.contains(arr)
        if not np.all(known):
            raise UnknownArtistError(int(arr[~known][0]), field=field)
        return self.dataset.artist_map.index(arr)

    def names_of(self, artist_ids: Iterable[int]) -> list[str | None]:
        """Names of original artist ids (``None`` for ids not in the data)."""
        ids = [int(a) if is_int(a) and in_int64(a) else None for a in artist_ids]
        arr = np.asarray([a if a is not None else -1 for a in ids], dtype=np.int64)
        known = self.dataset.artist_map.contains(arr) if arr.size else np.zeros(0, bool)
        out: list[str | None] = [None] * len(ids)
        if known.any():
            idx = self.dataset.artist_map.index(arr[known])
            for pos, i in zip(np.flatnonzero(known), idx, strict=True):
                out[int(pos)] = str(self.names[i])
        return out

    # ------------------------------------------------------------------ descriptions
    def top_tags(self, idx: int) -> list[str]:
        """The :data:`N_TAGS` tags assigned most often to artist ``idx`` (cached)."""
        tags = self._tags.get(idx)
        if tags is None:
            tags = self._tags[idx] = self.dataset.top_tags(idx, N_TAGS)
        return tags

    def info(self, artist_id: int) -> dict[str, Any]:
        """id, index, name, url, picture_url, listeners and top tags of one artist."""
        idx = self.index_of(artist_id)
        row = self.dataset.artists.iloc[idx]
        pic = row["picture_url"]
        return {
            "id": int(row["id"]),
            "index": idx,
            "name": str(row["name"]),
            "url": str(row["url"] or ""),
            "picture_url": str(pic) if isinstance(pic, str) and pic else None,
            "listeners": int(self.listeners[idx]),
            "tags": self.top_tags(idx),
        }

    def hit(self, idx: int) -> ArtistHit:
        """The search record of artist ``idx``."""
        return ArtistHit(
            index=idx,
            id=int(self.ids[idx]),
            name=str(self.names[idx]),
            listeners=int(self.listeners[idx]),
            url=self.urls[idx],
        )

    def recommendations(
        self, items: np.ndarray, scores: np.ndarray, reasons: Sequence[str]
    ) -> list[Recommendation]:
        """Ranked artists as records; entries with a non-finite score are left out (JSON-safe)."""
        finite = np.isfinite(scores)
        if not np.all(finite):
            items, scores = items[finite], scores[finite]
            reasons = [r for r, f in zip(reasons, finite, strict=True) if f]
        return [
            Recommendation(
                artist_id=int(self.ids[i]),
                index=int(i),
                name=str(self.names[i]),
                url=self.urls[i],
                score=float(s),
                tags=self.top_tags(int(i))[:CARD_TAGS],
                reason=r,
            )
            for i, s, r in zip(items, scores, reasons, strict=True)
        ]

    # ------------------------------------------------------------------ names
    def search(self, query: str, limit: int = 20) -> list[ArtistHit]:
        """Artists matching ``query`` (case, accents, punctuation and script folded; prefix,
        word and close-spelling hits), best match first, popular artists ahead of rare ones."""
        query = check_query(query, "q")
        limit = check_k(limit, "limit", MAX_SEARCH_LIMIT)
        return [self.hit(int(i)) for i, _ in self.matcher.search(query, limit)]

    def suggest(self, query: str, n: int = N_SUGGESTIONS) -> list[str]:
        """Names a misspelt ``query`` may mean ("did you mean"), best first."""
        query = check_query(query, "q")
        return [str(self.names[i]) for i in self.matcher.suggest(query, check_k(n, "n"))]

    def resolve_name(self, name_or_id: str | int) -> int:
        """The ORIGINAL artist id for a name (exact folded match, else a numeric id) or an id.

        Raises :class:`UnknownArtistError` with "did you mean" names when nothing fits.
        """
        if is_int(name_or_id):
            return int(self.ids[self.index_of(name_or_id)])
        if not isinstance(name_or_id, str):
            raise InvalidRequestError(
                f"artist must be a name or an integer id, got {name_or_id!r}", "name"
            )
        name = check_query(name_or_id, "name", "artist name")
        match = self.matcher.lookup(name)
        if match is not None:
            return int(self.ids[match.index])
        key = fold_name(name)
        if key.isascii() and key.isdigit() and len(key) < _MAX_ID_DIGITS:
            q = np.asarray([int(key)], dtype=np.int64)
            if self.dataset.artist_map.contains(q)[0]:
                return int(key)
        raise UnknownArtistError(name_or_id, self.suggest(name))
