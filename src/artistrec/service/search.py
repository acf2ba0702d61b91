"""Today's artist-name matching: folded exact match, folded substring, difflib "did you mean".

:class:`FoldedNameMatcher` is what :class:`~artistrec.service.catalogue.Catalogue` asks for
names; any object with the same three methods (:class:`NameMatcher`) can replace it, e.g. the
fuzzy matcher of :mod:`artistrec.data.names`, by changing the one line that builds it in
``Catalogue.__init__``. Matchers work on column indices and know nothing of ids or requests.
"""

from __future__ import annotations

import difflib
import unicodedata
from typing import Protocol

import numpy as np
import pandas as pd

#: difflib ratio a folded name needs to be offered as "did you mean".
SUGGEST_CUTOFF = 0.6


def fold(text: str) -> str:
    """Case- and accent-insensitive key: NFKD, combining marks dropped, casefolded, spaces collapsed."""
    decomposed = unicodedata.normalize("NFKD", str(text))
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.casefold().split())


class NameMatcher(Protocol):
    """What the catalogue needs from a name matcher (indices are artist column indices)."""

    def exact(self, query: str) -> int | None:
        """The artist a person means by exactly this name, or None."""
        ...

    def search(self, query: str, limit: int) -> np.ndarray:
        """Up to ``limit`` artists matching ``query``, best first (all artists for "")."""
        ...

    def suggest(self, query: str, n: int) -> list[int]:
        """Up to ``n`` artists a misspelt ``query`` may mean, best first, distinct names."""
        ...


class FoldedNameMatcher:
    """Names folded by :func:`fold`; hits ordered by listeners (ties by index)."""

    def __init__(self, names: np.ndarray, listeners: np.ndarray) -> None:
        self._names = names
        self._folded = pd.Series([fold(n) for n in names], dtype=object)
        self._order = np.argsort(-np.asarray(listeners), kind="stable")
        # folded name -> the most listened artist spelled that way ("Red" beats "ＲＥＤ")
        firsts = self._folded.iloc[self._order].drop_duplicates(keep="first")
        self._by_folded: dict[str, int] = dict(
            zip(firsts.to_numpy(object), firsts.index.to_numpy(np.int64).tolist(), strict=True)
        )
        self._unique_folded = list(self._by_folded)

    def exact(self, query: str) -> int | None:
        key = fold(query)
        return self._by_folded.get(key) if key else None

    def search(self, query: str, limit: int) -> np.ndarray:
        """Artists whose folded name contains the folded ``query``, most listened first."""
        key = fold(query)
        if not key:
            return self._order[:limit]
        mask = self._folded.str.contains(key, regex=False).to_numpy(bool)
        return self._order[mask[self._order]][:limit]

    def suggest(self, query: str, n: int) -> list[int]:
        """Substring hits first, then difflib's closest folded names (ratio >= cutoff)."""
        key = fold(query)
        if not key:
            return []
        out = [int(i) for i in self.search(query, n)]
        if len(out) < n:
            names = {str(self._names[i]) for i in out}
            close = difflib.get_close_matches(key, self._unique_folded, n=n, cutoff=SUGGEST_CUTOFF)
            for c in close:
                idx = self._by_folded[c]
                if str(self._names[idx]) not in names:
                    names.add(str(self._names[idx]))
                    out.append(idx)
        return out[:n]
