"""Set autoencoder: a softmax "a few revealed artists -> the rest" network, in numpy.

The new-user task is "given 3-10 of a person's artists and their levels, rank the others". This
network is trained on exactly that. At every step each user of a batch reveals a random 3-10 of
their artists; the revealed artists' level weights, scaled to unit norm, are summed through an
embedding table, passed through one tanh layer and a softmax over all modelled artists, and the
loss is the mean negative log-likelihood of the artists the user did *not* reveal (the
multinomial likelihood of Mult-DAE, Liang et al. 2018, "Variational Autoencoders for
Collaborative Filtering", with the input noise being the new-user protocol itself rather than
i.i.d. dropout). Adam (lazy for the embedding rows); fixed seed.

Unlike the linear item-item parts of the hybrid (kNN, DLAE), the hidden layer lets the revealed
artists interact (two niche artists together point somewhere neither points alone), and the
softmax spends the model's capacity on ranking, not on reconstructing counts.

Written with numpy/scipy by hand (forward pass, gradients and Adam are ~60 lines): the default
model must not require PyTorch, an optional multi-hundred-MB dependency, and at ~2k users x ~5k
artists one epoch is three float32 BLAS products, as fast in numpy as in torch.
The learned parameters are plain float32 arrays (npz-serialisable); scoring needs numpy only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp

from artistrec.data.dataset import Dataset
from artistrec.models.base import Recommender
from artistrec.models.capping import SOFTMAX_MAX_ARTISTS, SOFTMAX_MAX_STEPS, capped_artists
from artistrec.models.params import param
from artistrec.models.weighting import add_prior, listener_counts, popularity_prior, weigh

#: parameter arrays of a trained network
PARAM_KEYS = ("E", "b1", "W2", "b2")

#: Standard deviation of the input embeddings' initialisation (small: tanh starts linear).
INIT_STD = 0.05


def sample_reveal(
    rows: sp.csr_matrix, rng: np.random.Generator, n_min: int, n_max: int
) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """One training draw of the new-user protocol for a batch of users (vectorised).

    rows: users x artists CSR whose data are the input weights (> 0) of each user's artists.
    Each user reveals a uniform random number in [n_min, n_max] of their artists (at most all
    but one), picked uniformly. Returns (inputs, targets): the revealed entries scaled to unit
    L2 norm per user, and the other entries as 1 / (their count), so each target row sums to 1.
    """
    indptr = rows.indptr.astype(np.int64)
    n = np.diff(indptr)
    b = n.size
    owner = np.repeat(np.arange(b), n)
    k = np.minimum(rng.integers(n_min, n_max + 1, size=b), n - 1)
    order = np.lexsort((rng.random(owner.size), owner))  # a random order inside each row
    rank = np.empty(owner.size, np.int64)
    rank[order] = np.arange(owner.size) - indptr[owner[order]]
    revealed = rank < k[owner]

    w = np.where(revealed, rows.data, 0.0).astype(np.float64)
    norm = np.sqrt(np.bincount(owner, weights=w * w, minlength=b))
    w /= np.maximum(norm[owner], 1e-12)
    rest = (~revealed).astype(np.float64)
    rest /= np.maximum(np.bincount(owner, weights=rest, minlength=b)[owner], 1.0)
    shape = rows.shape
    inputs = sp.csr_matrix((w.astype(np.float32), rows.indices.copy(), indptr.copy()), shape=shape)
    targets = sp.csr_matrix(
        (rest.astype(np.float32), rows.indices.copy(), indptr.copy()), shape=shape
    )
    inputs.eliminate_zeros()
    targets.eliminate_zeros()
    return inputs, targets


def fit(
    X: sp.csr_matrix,
    factors: int = 256,
    iterations: int = 20,
    learning_rate: float = 0.007,
    batch_size: int = 384,
    n_min: int = 3,
    n_max: int = 10,
    random_state: int = 0,
    callback: Callable[[int, dict[str, np.ndarray]], None] | None = None,
    max_steps: int | None = None,
) -> dict[str, np.ndarray]:
    """Train the network on ``X`` (users x artists CSR, data = input weight > 0 per listened
    artist). Users with fewer than two artists have nothing to predict and are skipped.

    ``factors`` is the width of the hidden layer; ``iterations`` the passes (epochs) over the
    users. Returns {"E": (artists, factors) input embeddings, "b1": (factors,), "W2": (factors,
    artists) output weights, "b2": (artists,)}, all float32. ``callback(epoch, params)``
    (optional) sees the parameters after every epoch. ``max_steps`` (optional) stops training
    after that many Adam steps in total, even mid-epoch: the cost of a step does not depend on
    the number of users, so this bounds the fit's time on large data sets.
    """
    X = sp.csr_matrix(X, dtype=np.float32)
    n_items = X.shape[1]
    rng = np.random.default_rng(random_state)
    lim = 1.0 / np.sqrt(factors)
    params = {
        "E": (rng.standard_normal((n_items, factors)) * INIT_STD).astype(np.float32),
        "b1": np.zeros(factors, np.float32),
        "W2": rng.uniform(-lim, lim, (factors, n_items)).astype(np.float32),
        "b2": rng.uniform(-lim, lim, n_items).astype(np.float32),
    }
    adam = {k: _Adam(v.shape) for k, v in params.items()}
    users = np.flatnonzero(np.diff(X.indptr) >= 2)
    t = 0
    for epoch in range(iterations):
        if max_steps is not None and t >= max_steps:
            break
        perm = rng.permutation(users)
        for s in range(0, perm.size, batch_size):
            if max_steps is not None and t >= max_steps:
                break
            inputs, targets = sample_reveal(X[perm[s : s + batch_size]], rng, n_min, n_max)
            grads, rows = gradients(params, inputs, targets)
            t += 1
            for k in ("W2", "b2", "b1"):
                adam[k].step(params[k], grads[k], learning_rate, t)
            adam["E"].step_rows(params["E"], rows, grads["E"], learning_rate, t)
        if callback is not None:
            callback(epoch + 1, params)
    return params


def gradients(
    params: dict[str, np.ndarray], inputs: sp.csr_matrix, targets: sp.csr_matrix
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Gradients of the mean (over the batch) negative log-likelihood of ``targets`` (rows summing
    to 1) under the softmax of the network's output for ``inputs``.

    Only the embedding rows of artists that occur in ``inputs`` have a gradient: returns
    (grads, rows) with grads["E"] the gradient of those rows only (``E[rows]``).
    """
    E, b1, W2, b2 = (params[k] for k in PARAM_KEYS)
    b = inputs.shape[0]
    rows = np.unique(inputs.indices)
    x = inputs[:, rows]
    h = np.tanh(np.asarray(x @ E[rows]) + b1)
    g = h @ W2
    g += b2
    g -= g.max(axis=1, keepdims=True)
    np.exp(g, out=g)
    # d(mean NLL)/d(logits) = (softmax - target distribution) / batch
    g *= (1.0 / (g.sum(axis=1, keepdims=True) * b)).astype(np.float32)
    tc = targets.tocoo()
    g[tc.row, tc.col] -= tc.data / np.float32(b)
    dh = g @ W2.T
    dh *= 1.0 - h * h
    grads = {
        "W2": h.T @ g,
        "b2": g.sum(axis=0),
        "b1": dh.sum(axis=0),
        "E": np.asarray(x.T @ dh),
    }
    return grads, rows


class _Adam:
    """Adam (Kingma & Ba 2015) moments of one parameter array, updated in place without
    temporaries the size of the array (the update passes dominate a step otherwise)."""

    beta1, beta2, eps = 0.9, 0.999, 1e-8

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.m = np.zeros(shape, np.float32)
        self.v = np.zeros(shape, np.float32)

    def _direction(self, m: np.ndarray, v: np.ndarray, grad: np.ndarray) -> np.ndarray:
        """Update the moments (in place) and return m / (sqrt(v) + eps) in a new array."""
        m *= self.beta1
        m += (1.0 - self.beta1) * grad
        grad *= grad
        grad *= 1.0 - self.beta2
        v *= self.beta2
        v += grad
        d = np.sqrt(v)
        d += self.eps
        np.divide(m, d, out=d)
        return d

    def _size(self, lr: float, t: int) -> np.float32:
        return np.float32(lr * np.sqrt(1.0 - self.beta2**t) / (1.0 - self.beta1**t))

    def step(self, param: np.ndarray, grad: np.ndarray, lr: float, t: int) -> None:
        d = self._direction(self.m, self.v, grad)
        d *= self._size(lr, t)
        param -= d

    def step_rows(
        self, param: np.ndarray, rows: np.ndarray, grad: np.ndarray, lr: float, t: int
    ) -> None:
        """Lazy Adam for embeddings: only ``rows`` (the ones with a gradient) move, and only
        their moments decay (as TensorFlow's LazyAdam / torch's SparseAdam)."""
        m, v = self.m[rows], self.v[rows]
        d = self._direction(m, v, grad)
        self.m[rows], self.v[rows] = m, v
        d *= self._size(lr, t)
        param[rows] -= d


def _output(params: dict[str, np.ndarray], h: np.ndarray) -> np.ndarray:
    """exp(logit - max logit) per row of hidden activations ``h`` (1-D or 2-D): the softmax
    probability scaled to a maximum of 1 (the order of the softmax, without summing it)."""
    logit = h @ params["W2"]
    logit += params["b2"]
    logit -= logit.max(axis=-1, keepdims=True)
    return np.exp(logit, out=logit)


def scores(params: dict[str, np.ndarray], pos: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Scores of every modelled artist for one person (``pos``: their artists' rows of ``E``;
    ``weights``: their input weights), as :func:`_output` (the per-request path: no scipy)."""
    w = np.asarray(weights, np.float32)
    w = w / np.float32(max(float(np.sqrt(w @ w)), 1e-12))
    return _output(params, np.tanh(w @ params["E"][pos] + params["b1"]))


def scores_batch(params: dict[str, np.ndarray], inputs: sp.csr_matrix) -> np.ndarray:
    """``scores`` for many people at once: ``inputs`` is (people x artists) CSR of input weights
    (rows scaled to unit norm here). Returns dense float32 (people x artists)."""
    x = sp.csr_matrix(inputs, dtype=np.float32)
    norm = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
    x = sp.diags((1.0 / np.maximum(norm, 1e-12)).astype(np.float32)) @ x
    return _output(params, np.tanh(np.asarray(x @ params["E"]) + params["b1"]))


# ------------------------------------------------------------------------------- the model
class SetAutoencoder(Recommender):
    """The set autoencoder as a model of its own (the default ``hybrid`` blends it in for new
    users). Inputs are listen levels 1..5 (unit-normalised per person); artists with fewer than
    ``min_listeners`` training listeners, and all but the ``max_artists`` most listened, are
    outside its vocabulary and only carry the popularity tie-break (a new person's ratings of
    them are ignored). Known users are scored from their whole profile; similar artists are
    the nearest output embeddings (columns of ``W2``).
    """

    name = "set-autoencoder"

    # 2: ``hidden``, ``epochs``, ``lr``, ``batch``, ``seed`` renamed ``factors``, ``iterations``,
    # ``learning_rate``, ``batch_size``, ``random_state``
    state_version = 2

    factors: int = param(256, "width of the hidden layer (the artists' embedding size)", ge=1)
    iterations: int = param(20, "passes (epochs) over the training users", ge=1)
    learning_rate: float = param(0.007, "Adam step size", gt=0)
    batch_size: int = param(384, "users per Adam step", ge=1)
    min_listeners: int = param(
        5, "artists with fewer training listeners are outside the vocabulary", ge=1
    )
    max_artists: int = param(
        SOFTMAX_MAX_ARTISTS,
        "at most this many artists (the most listened) are in the vocabulary: every step's "
        "softmax costs batch x factors x vocabulary (artistrec.models.capping)",
        ge=1,
    )
    max_steps: int = param(
        SOFTMAX_MAX_STEPS,
        "at most this many Adam steps in total (each costs batch x factors x vocabulary, "
        "whatever the number of users): bounds the fit's time on large data",
        ge=1,
    )
    random_state: int = param(0, "seed of the initialisation and the reveal draws", ge=0)

    def _fit(self, dataset: Dataset) -> None:
        self.prior_ = popularity_prior(self.seen_)
        self.items_ = capped_artists(
            listener_counts(self.seen_), int(self.min_listeners), int(self.max_artists)
        )
        self.params_ = fit(
            weigh(self.seen_[:, self.items_], "levels"),
            factors=int(self.factors),
            iterations=int(self.iterations),
            learning_rate=float(self.learning_rate),
            batch_size=int(self.batch_size),
            random_state=int(self.random_state),
            max_steps=int(self.max_steps),
        )
        self._index()

    def _index(self) -> None:
        self.row_ = np.full(self.n_items, -1, np.int64)
        self.row_[self.items_] = np.arange(self.items_.size)

    def _score_users(self, users: np.ndarray) -> np.ndarray:
        out = np.zeros((users.size, self.n_items), np.float32)
        x = weigh(self.seen_[users][:, self.items_], "levels")
        has = np.diff(x.indptr) > 0
        if self.items_.size and has.any():
            out[np.ix_(has, self.items_)] = scores_batch(self.params_, x[has])
        return add_prior(out, self.prior_)

    def _score_new_user(self, items: np.ndarray, levels: np.ndarray) -> np.ndarray:
        out = np.zeros(self.n_items, np.float32)
        rows = self.row_[items]
        known = rows >= 0
        if known.any():
            out[self.items_] = scores(self.params_, rows[known], levels[known])
        return add_prior(out, self.prior_)[0]

    def _similar_scores(self, artist: int, measure: str) -> np.ndarray:
        out = np.zeros(self.n_items, np.float32)
        row = int(self.row_[artist])
        if row >= 0:
            emb = self.params_["W2"].T  # (vocabulary, hidden) output embeddings
            sim = emb @ emb[row]
            if measure == "cosine":
                norms = np.linalg.norm(emb, axis=1)
                sim = sim / np.maximum(norms * norms[row], 1e-12)
            out[self.items_] = sim
        return add_prior(out, self.prior_)[0]

    def item_embeddings(self) -> np.ndarray:
        """Every artist's output embedding (a row of ``W2.T``; zeros outside the vocabulary),
        e.g. for the web app's artist map."""
        self._check_fitted()
        out = np.zeros((self.n_items, self.params_["W2"].shape[0]), np.float32)
        out[self.items_] = self.params_["W2"].T
        return out

    @property
    def item_embeddings_(self) -> np.ndarray:
        """:meth:`item_embeddings`, under the attribute name ``explore.item_embeddings`` looks
        for (until it calls the protocol method)."""
        return self.item_embeddings()

    def _state(self) -> dict[str, Any]:
        return {"prior": self.prior_, "items": self.items_, **self.params_}

    def _set_state(self, state: dict[str, Any]) -> None:
        self.prior_ = np.asarray(state["prior"], dtype=np.float32)
        self.items_ = np.asarray(state["items"], dtype=np.int64)
        self.params_ = {k: np.asarray(state[k], dtype=np.float32) for k in PARAM_KEYS}
        n = self.items_.size
        if self.params_["E"].shape[0] != n or self.params_["W2"].shape[1] != n:
            raise ValueError("set autoencoder weights do not match its artist vocabulary")
        self._index()
