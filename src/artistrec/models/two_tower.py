"""Two-tower retrieval: a user tower over a set of rated artists, an artist tower over ids and tags.

The original student project trained a two-tower model with TensorFlow Recommenders; its
tag/timestamp variant produced NaN and never trained. This is that model, trained properly:

- **Artist tower**: an id embedding (artists with at least ``min_listeners`` training
  listeners; the rest share one "unknown" row) + a tf-idf bag of the artist's tags + its numeric
  features (when and how much it was tagged: first/mean date, recency, span, assignment and tagger
  counts, standardised, dates before 2002 left out; log listeners; a has-tags flag), then an
  MLP. Its last output is the artist's bias (popularity).
- **User tower**: the rated artists' input vectors (their own id embedding + the same tag and
  numeric projections) pooled by attention (a learned query plus a learned logit per level
  1..5), then an MLP. A new person folds in by one forward pass of their ratings; a known user
  is the same tower over their training artists.
- **Objective**: in-batch sampled softmax with the logQ correction (Yi et al. 2019, "Sampling-
  bias-corrected neural modeling for large corpus item recommendations"): each training user
  reveals a random subset of their artists (``new_user_share`` of them 3-10, as new users do;
  the others 1..n-1, as known users) and up to ``positives`` of the rest are the targets; the
  negatives of a target are the other targets in the batch plus ``uniform_negatives`` artists
  drawn uniformly from the catalogue (mixed negative sampling, Yang et al. 2020), each logit
  minus the log of its artist's expected count among them (targets are drawn in proportion to
  listeners), the user's own other artists masked out ("accidental hits"). AdamW, gradient clipping, fixed seed, deterministic
  CPU algorithms, early stopping on NDCG@10 of a validation carve-out of the training users.

The artists the model ranks (its catalogue) are those with at least ``min_listeners`` training
listeners; the others get only the popularity tie-break. Serving needs numpy only: the artist
tower's outputs and every artist's user-tower input are precomputed arrays, and the user tower's
weights are exported; a request is one small forward pass and one (catalogue x factors) product.
PyTorch (the ``neural`` extra) is imported only by :meth:`TwoTower.fit`.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from artistrec.data.dataset import Dataset
from artistrec.data.scale import to_levels
from artistrec.models.base import Recommender
from artistrec.models.neural import require_torch
from artistrec.models.neural.features import tag_tfidf, tag_time_features
from artistrec.models.neural.numpy_nn import check_mlp, mlp_forward, nan_standardizer, standardize
from artistrec.models.params import param
from artistrec.models.weighting import add_prior, listener_counts, popularity_prior

#: Columns of ``TwoTower.history_`` (one row per epoch): the sampled training loss, the full-
#: softmax NLL of a fixed draw of training users and of the validation users, and validation NDCG@10.
HISTORY_COLUMNS: tuple[str, ...] = ("epoch", "train_loss", "train_nll", "valid_nll", "valid_ndcg")

#: Arrays of the exported network (see :meth:`TwoTower._state`).
NETWORK_KEYS: tuple[str, ...] = ("inputs", "item_vectors", "item_bias", "level_logit", "query")

#: Gradient-norm clip of every training step (keeps a rare huge gradient from blowing up Adam).
CLIP_NORM = 5.0

#: PyTorch intra-op threads while training. The network's operations are small (a few hundred
#: rows per matrix product), so a second thread only adds synchronisation: on the shared 2-core
#: machine a step cost ~0.03 s of CPU on one thread and ~0.65 s on two (OpenMP spin-waiting).
TRAIN_THREADS = 1


# ------------------------------------------------------------------------------- numpy serving
def user_vectors(
    net: dict[str, np.ndarray], indptr: np.ndarray, indices: np.ndarray, levels: np.ndarray
) -> np.ndarray:
    """The user tower for people given as CSR rows of rated artists and their levels 1..5.

    Every row must be non-empty. Returns (people, factors) float32.
    """
    n = np.diff(indptr)
    inputs = net["inputs"][indices]  # (nnz, dim)
    logit = net["level_logit"][levels] + inputs @ net["query"]
    starts = indptr[:-1]
    logit -= np.repeat(np.maximum.reduceat(logit, starts), n)
    w = np.exp(logit)
    w /= np.repeat(np.add.reduceat(w, starts), n)
    pooled = np.add.reduceat(inputs * w[:, None], starts, axis=0)
    h = np.concatenate([pooled, np.log1p(n.astype(np.float32))[:, None]], axis=1)
    return mlp_forward(net, "user_", h)


def user_vector(net: dict[str, np.ndarray], items: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """:func:`user_vectors` for one person (the per-request path: no segment bookkeeping)."""
    inputs = net["inputs"][items]
    logit = net["level_logit"][levels] + inputs @ net["query"]
    w = np.exp(logit - logit.max())
    w /= w.sum()
    h = np.empty(inputs.shape[1] + 1, np.float32)
    h[:-1] = w @ inputs
    h[-1] = np.log1p(np.float32(items.size))
    return mlp_forward(net, "user_", h)


def softmax_order(logits: np.ndarray) -> np.ndarray:
    """exp(logit - max logit) per row: the softmax probability scaled to a maximum of 1."""
    logits = logits - logits.max(axis=-1, keepdims=True)
    return np.exp(logits, out=logits)


# ------------------------------------------------------------------------------- the model
class TwoTower(Recommender):
    """Two-tower retrieval trained with PyTorch, served with numpy (module docstring)."""

    name = "two-tower"
    #: extras ``fit`` needs (tests skip the model's training without them)
    fit_requires: ClassVar[tuple[str, ...]] = ("torch",)

    factors: int = param(64, "width of the user and artist vectors (the towers' outputs)", ge=1)
    hidden: int = param(256, "width of the towers' hidden layers", ge=1)
    l2: float = param(1e-4, "AdamW weight decay of the network", ge=0)
    learning_rate: float = param(0.003, "AdamW step size", gt=0)
    batch_size: int = param(256, "training users per step (and in-batch candidates)", ge=1)
    iterations: int = param(200, "most passes (epochs) over the training users", ge=1)
    patience: int = param(
        20, "epochs without a better validation NDCG@10 before training stops", ge=1
    )
    positives: int = param(4, "target artists drawn per training user and step", ge=1)
    uniform_negatives: int = param(
        1024, "catalogue artists drawn uniformly per step as extra negatives", ge=0
    )
    new_user_share: float = param(
        0.5, "share of training users revealing 3-10 artists (as new users do)", ge=0, lt=1
    )
    min_listeners: int = param(
        3, "artists with fewer training listeners are outside the catalogue it ranks", ge=1
    )
    min_tag_artists: int = param(5, "tags on fewer artists are left out of the tf-idf", ge=1)
    validation_fraction: float = param(
        0.1, "share of training users carved out for early stopping (0: none)", ge=0, lt=1
    )
    random_state: int = param(0, "seed of the initialisation, the draws and the carve-out", ge=0)

    # --------------------------------------------------------------------------- fitting
    def _fit(self, dataset: Dataset) -> None:
        require_torch("two-tower")
        from artistrec.models.neural import two_tower_net as tt
        from artistrec.models.neural.torch_utils import torch_session

        inputs = training_inputs(dataset, int(self.min_listeners), int(self.min_tag_artists))
        cfg = tt.TrainConfig(
            factors=int(self.factors),
            hidden=int(self.hidden),
            l2=float(self.l2),
            learning_rate=float(self.learning_rate),
            batch_size=int(self.batch_size),
            iterations=int(self.iterations),
            patience=int(self.patience),
            positives=int(self.positives),
            uniform_negatives=int(self.uniform_negatives),
            new_user_share=float(self.new_user_share),
            validation_fraction=float(self.validation_fraction),
            clip_norm=CLIP_NORM,
            random_state=int(self.random_state),
        )
        with torch_session("two-tower", int(self.random_state), TRAIN_THREADS):
            net, history, best = tt.train(inputs, cfg)
        self.prior_ = popularity_prior(self.seen_)
        self.catalogue_ = inputs.catalogue
        self.described_ = (inputs.vocab > 0) | (np.diff(inputs.tags.indptr) > 0)
        self.history_ = history
        self.best_epoch_ = int(best)
        self.net_ = net
        self._index()

    def _index(self) -> None:
        """Serving caches: the catalogue's artist vectors and biases as contiguous arrays."""
        self.cat_vectors_ = np.ascontiguousarray(self.net_["item_vectors"][self.catalogue_])
        self.cat_bias_ = np.ascontiguousarray(self.net_["item_bias"][self.catalogue_])

    # --------------------------------------------------------------------------- scoring
    def _catalogue_scores(self, users: np.ndarray) -> np.ndarray:
        return softmax_order(users @ self.cat_vectors_.T + self.cat_bias_)

    def _score_users(self, users: np.ndarray) -> np.ndarray:
        out = np.zeros((users.size, self.n_items), np.float32)
        rows = _levels(self.seen_[users])
        has = np.diff(rows.indptr) > 0
        if has.any() and self.catalogue_.size:
            rows = rows[has]
            vecs = user_vectors(self.net_, rows.indptr, rows.indices, rows.data.astype(np.int64))
            out[np.ix_(has, self.catalogue_)] = self._catalogue_scores(vecs)
        return add_prior(out, self.prior_)

    def _score_new_user(self, items: np.ndarray, levels: np.ndarray) -> np.ndarray:
        out = np.zeros(self.n_items, np.float32)
        if items.size and self.catalogue_.size:
            vec = user_vector(self.net_, items, levels.astype(np.int64))
            out[self.catalogue_] = self._catalogue_scores(vec)
        return add_prior(out, self.prior_)[0]

    def _similar_scores(self, artist: int, measure: str) -> np.ndarray:
        out = np.zeros(self.n_items, np.float32)
        if self.described_[artist] and self.catalogue_.size:
            q = self.net_["item_vectors"][artist]
            sim = self.cat_vectors_ @ q
            if measure == "cosine":
                norms = np.linalg.norm(self.cat_vectors_, axis=1) * np.linalg.norm(q)
                out[self.catalogue_] = 0.5 * (1.0 + sim / np.maximum(norms, 1e-12))
            else:
                out[self.catalogue_] = softmax_order(sim)
        return add_prior(out, self.prior_)[0]

    def item_embeddings(self) -> np.ndarray:
        """Every artist's vector from the artist tower (e.g. for the web app's artist map)."""
        self._check_fitted()
        return np.array(self.net_["item_vectors"], dtype=np.float32, copy=True)

    # --------------------------------------------------------------------------- persistence
    def _state(self) -> dict[str, Any]:
        return {
            "prior": self.prior_,
            "catalogue": self.catalogue_,
            "described": self.described_,
            "history": self.history_,
            "best_epoch": np.asarray(self.best_epoch_, np.int64),
            **{f"net.{k}": v for k, v in self.net_.items()},
        }

    def _set_state(self, state: dict[str, Any]) -> None:
        self.prior_ = np.asarray(state["prior"], dtype=np.float32)
        self.catalogue_ = np.asarray(state["catalogue"], dtype=np.int64)
        self.described_ = np.asarray(state["described"], dtype=bool)
        self.history_ = np.asarray(state["history"], dtype=np.float32)
        self.best_epoch_ = int(state["best_epoch"])
        net = {k[4:]: np.asarray(v, np.float32) for k, v in state.items() if k.startswith("net.")}
        missing = [k for k in NETWORK_KEYS if k not in net]
        if missing:
            raise KeyError(f"two-tower network arrays {missing}")
        n, dim = net["inputs"].shape
        if n != self.n_items or net["item_vectors"].shape[0] != n or net["item_bias"].shape != (n,):
            raise ValueError("two-tower arrays do not match the artist map")
        if net["query"].shape != (dim,) or net["level_logit"].shape != (6,):
            raise ValueError("two-tower pooling weights do not match the input width")
        if check_mlp(net, "user_", dim + 1) != net["item_vectors"].shape[1]:
            raise ValueError("two-tower user tower does not match the artist vectors")
        self.net_ = net
        self._index()


def training_inputs(dataset: Dataset, min_listeners: int, min_tag_artists: int) -> Any:
    """The arrays the network trains from
    (:class:`~artistrec.models.neural.two_tower_net.TwoTowerInputs`; imports torch)."""
    from artistrec.models.neural.two_tower_net import TwoTowerInputs

    counts = sp.csr_matrix(dataset.interactions, dtype=np.float32)
    listeners = listener_counts(counts)
    catalogue = np.flatnonzero(listeners >= min_listeners).astype(np.int64)
    vocab = np.zeros(dataset.n_artists, np.int64)
    vocab[catalogue] = np.arange(1, catalogue.size + 1)
    tags, _ = tag_tfidf(dataset.artist_tags, min_tag_artists)
    time = tag_time_features(dataset)
    mean, scale = nan_standardizer(time)
    pop = np.log1p(listeners)[:, None]
    pm, ps = nan_standardizer(pop)
    numeric = np.concatenate(
        [
            standardize(time, mean, scale),
            standardize(pop, pm, ps),
            np.isfinite(time[:, :1]).astype(np.float32),  # has dated tags
            (np.diff(tags.indptr) > 0).astype(np.float32)[:, None],  # has kept tags
        ],
        axis=1,
    )
    share = listeners[catalogue] / max(float(listeners[catalogue].sum()), 1.0)
    return TwoTowerInputs(
        levels=_levels(counts),
        vocab=vocab,
        catalogue=catalogue,
        tags=tags,
        numeric=numeric,
        log_q=np.log(np.maximum(share, 1e-12)).astype(np.float32),
    )


def _levels(counts: sp.spmatrix) -> sp.csr_matrix:
    """Listen counts -> levels 1..5 (float32 CSR, sorted indices, zeros dropped)."""
    x = sp.csr_matrix(counts, dtype=np.float32, copy=True)
    x.eliminate_zeros()
    x.sort_indices()
    x.data = to_levels(x.data).astype(np.float32)
    return x
