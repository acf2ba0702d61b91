"""The explanation engine: "because you rated X and Y" from one artist feature matrix.

Each artist has one feature row: its listeners (binary, unit norm) next to sqrt(1/2) x its
unit-norm tag profile, so the dot product of two rows is their co-listening cosine plus half their
tag cosine. A recommended artist is explained by the (up to two) anchors - artists the person
rated or listens to - whose rows are most similar to its own; the explanation is independent of
the model that ranked it, so every model gets the same kind of reason.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from artistrec.data import Dataset
from artistrec.models.sparse import csr_row_entries

#: Similarities with up to this many anchors use a dense (features x anchors) block (<= 3.5 MB).
DENSE_ANCHORS = 64
#: A known user's artists considered as reasons, most played first. HetRec keeps each user's 50
#: most played artists, so this is all of them there; it bounds the cost for richer data.
USER_ANCHORS = 50
#: Anchors named in one reason.
NAMED_ANCHORS = 2
#: Artists whose pairwise similarities :meth:`Explainer.cache_popular` keeps (n^2 float32:
#: 16 MB for 2,000). Rated and recommended artists are mostly among the most listened, so a
#: server answers most requests' reasons by lookup (~0.3 ms -> ~0.02 ms for 10 x 15 pairs).
POPULAR_BLOCK = 2000


def feature_matrix(dataset: Dataset, listeners: np.ndarray) -> sp.csr_matrix:
    """(n_artists, n_users + n_tags) float32 rows: unit co-listening | sqrt(1/2) unit tag profile."""
    x = (dataset.interactions > 0).astype(np.float32).T.tocsr()
    norms = np.sqrt(np.maximum(listeners, 1)).astype(np.float32)
    colisten = sp.diags(1.0 / norms) @ x
    t = sp.csr_matrix(dataset.artist_tags, dtype=np.float32)
    tn = np.sqrt(np.asarray(t.multiply(t).sum(axis=1)).ravel())
    tagprof = sp.diags(np.sqrt(0.5) / np.maximum(tn, 1e-12)) @ t
    return sp.csr_matrix(sp.hstack([colisten, tagprof]), dtype=np.float32)


class Explainer:
    """Reasons for ranked artists, in words, from :func:`feature_matrix`."""

    def __init__(self, dataset: Dataset, names: np.ndarray, listeners: np.ndarray) -> None:
        self.dataset = dataset
        self.names = names
        self.listeners = np.asarray(listeners)
        self.features = feature_matrix(dataset, listeners)
        self._block: np.ndarray | None = None  # similarities among the most listened artists
        self._block_pos: np.ndarray | None = None  # artist index -> row of the block, or -1

    def cache_popular(self, n: int = POPULAR_BLOCK) -> None:
        """Keep the similarities among the ``n`` most listened artists (``n^2`` float32), so
        reasons whose items and anchors are all among them are lookups. For long-running
        servers (the HTTP API calls it at start); one-off callers need not."""
        top = np.argsort(-self.listeners, kind="stable")[: min(n, self.listeners.size)]
        f = self.features[top]
        block = np.asarray((f @ f.T).toarray(), dtype=np.float32)
        pos = np.full(self.listeners.size, -1, np.int64)
        pos[top] = np.arange(top.size)
        self._block, self._block_pos = block, pos

    def similarity(self, items: np.ndarray, anchors: np.ndarray) -> np.ndarray:
        """(len(items), len(anchors)) float32: co-listening cosine plus half the tag cosine."""
        if items.size == 0 or anchors.size == 0:
            return np.zeros((items.size, anchors.size), np.float32)
        if self._block_pos is not None:
            rows, cols = self._block_pos[items], self._block_pos[anchors]
            if rows.min() >= 0 and cols.min() >= 0:
                return self._block[np.ix_(rows, cols)]  # type: ignore[index]
        f = self.features
        if anchors.size > DENSE_ANCHORS:
            return np.asarray((f[items] @ f[anchors].T).toarray(), dtype=np.float32)
        # per-request hot path: gather the CSR rows with numpy instead of scipy's fancy
        # indexing + sparse product (~4x less CPU for k = 10 items and ~15 anchors)
        a_row, a_col, a_val = self._gather_rows(anchors)
        dense = np.zeros((f.shape[1], anchors.size), np.float32)
        dense[a_col, a_row] = a_val
        i_row, i_col, i_val = self._gather_rows(items)
        out = np.zeros((items.size, anchors.size), np.float32)
        if i_col.size:
            contrib = dense[i_col] * i_val[:, None]
            starts = np.flatnonzero(np.r_[True, i_row[1:] != i_row[:-1]])
            out[i_row[starts]] = np.add.reduceat(contrib, starts, axis=0)
        return out

    def _gather_rows(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(position in ``rows``, column, value) of every non-zero of those feature rows."""
        f = self.features
        flat, lens = csr_row_entries(f.indptr, rows)
        return np.repeat(np.arange(rows.size), lens), f.indices[flat], f.data[flat]

    def because(self, items: np.ndarray, anchors: np.ndarray, verb: str) -> list[str]:
        """'because you {verb} X and Y': the anchors most similar to each item, named."""
        if anchors.size == 0:
            return ["popular with listeners" for _ in items]
        sim = self.similarity(items, anchors)
        n = min(NAMED_ANCHORS, anchors.size)
        top = np.argsort(-sim, axis=1, kind="stable")[:, :n]
        top_sim = np.take_along_axis(sim, top, axis=1)
        out = []
        for row, vals in zip(top, top_sim, strict=True):
            names = [str(self.names[anchors[j]]) for j, v in zip(row, vals, strict=True) if v > 0]
            if not names:
                out.append("popular with listeners of your artists")
            else:
                out.append(f"because you {verb} " + " and ".join(names))
        return out

    def similar_to(self, items: np.ndarray, artist: int) -> list[str]:
        """Why each of ``items`` resembles ``artist``: shared listeners, else 'similar to'."""
        name = str(self.names[artist])
        sim = self.similarity(items, np.asarray([artist], dtype=np.int64))[:, 0]
        return [f"listeners of {name} also play it" if s > 0 else f"similar to {name}" for s in sim]

    def user_anchors(self, user: int) -> np.ndarray:
        """Column indices of user row ``user``'s most played artists (up to :data:`USER_ANCHORS`)."""
        row = self.dataset.interactions.getrow(user)
        order = np.argsort(-row.data, kind="stable")[:USER_ANCHORS]
        return row.indices[order].astype(np.int64)

    @staticmethod
    def popular(listeners: Sequence[int]) -> list[str]:
        """Reasons for artists recommended for their popularity alone."""
        return [f"popular: {int(n):,} listeners" for n in listeners]
