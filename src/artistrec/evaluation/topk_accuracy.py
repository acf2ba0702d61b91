"""Top-k categorical accuracy on held-out (user, artist) pairs, as TensorFlow Recommenders reports it.

The original project evaluated its two-tower model with ``tfrs.metrics.FactorizedTopK``. For
each held-out pair, that metric takes the user's query embedding, scores the true artist and
the whole candidate corpus, and asks ``tf.math.in_top_k(k)`` whether the true artist's score is
among the k highest of [its own score, the corpus' top scores]; ``in_top_k`` counts every entry
tied with the k-th as inside. So a pair is a hit at k exactly when fewer than k artists of the
corpus score strictly higher than the true one. The corpus is the whole catalogue: the user's
own training artists are NOT removed (FactorizedTopK does not know them), and the accuracy is
averaged over pairs, not users (a user with 40 held-out artists weighs 40 times).

:func:`factorized_top_k` computes that, and with ``exclude`` the "filtered" variant that leaves
each user's known artists out of the corpus (as the ranking metrics do), which is the number a
user of the recommender experiences.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

#: The cut-offs the original reported.
TOPK_KS: tuple[int, ...] = (1, 5, 10, 50, 100)


def higher_counts(
    scores: np.ndarray, positives: sp.spmatrix, exclude: sp.spmatrix | None = None
) -> np.ndarray:
    """For every stored entry (row, artist) of ``positives`` (rows aligned with ``scores``), the
    number of artists of that row scoring strictly higher than the artist (its 0-based rank,
    ties counted in its favour). With ``exclude``, that row's excluded artists do not count
    (an excluded positive is still ranked). Returns int64 in the order of ``positives``' CSR
    entries."""
    scores = np.asarray(scores, dtype=np.float64)
    pos = sp.csr_matrix(positives)
    if pos.shape != scores.shape:
        raise ValueError(f"positives {pos.shape} and scores {scores.shape} differ in shape")
    rows = np.repeat(np.arange(pos.shape[0]), np.diff(pos.indptr))
    target = scores[rows, pos.indices]
    out = np.empty(rows.size, np.int64)
    ex = sp.csr_matrix(exclude, dtype=bool) if exclude is not None else None
    for r in np.unique(rows):  # one vectorised sort per user; users are at most a few thousand
        s = scores[r]
        if ex is not None:
            cols = ex.indices[ex.indptr[r] : ex.indptr[r + 1]]
            s = np.delete(s, cols)
        ordered = np.sort(s)
        sel = rows == r
        out[sel] = ordered.size - np.searchsorted(ordered, target[sel], side="right")
    return out


def factorized_top_k(
    scores: np.ndarray,
    positives: sp.spmatrix,
    exclude: sp.spmatrix | None = None,
    ks: Sequence[int] = TOPK_KS,
) -> dict[str, float]:
    """``{"top_k_acc@k": share of held-out pairs with fewer than k higher-scored artists}`` for
    each k in ``ks`` (module docstring), plus ``"pairs"``: how many pairs were scored."""
    counts = higher_counts(scores, positives, exclude)
    out = {
        f"top_k_acc@{k}": float(np.mean(counts < k)) if counts.size else float("nan") for k in ks
    }
    out["pairs"] = float(counts.size)
    return out
