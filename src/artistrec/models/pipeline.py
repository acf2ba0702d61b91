"""``pipeline``: registered models retrieve and score (stage 1), a blend or a learned ranker orders (stage 2).

Stage 1 is a set of registered models, each fitted once on the same data (no fit or fold-in of
a part exists anywhere else; a fix in ``ease.py`` is a fix here):

| part | known users | new users | why |
|---|---|---|---|
| ``ease`` (+ tag pseudo-users, ``tag_weight``) | base scores | - | strongest single model for known users; tags make co-tagged artists similar |
| friends (internal) | ``friend_direct`` x the friends' mean profile | - | the friend graph |
| ``als`` | ``known_als`` | ``new_als`` (exact fold-in) | factor model: complements the item-item parts |
| ``rp3beta`` | ``known_rp3`` | - | popularity-discounted walk: +1% on known users |
| ``item-knn`` (+ tagged artists, level-weighted query) | - | base scores | best single fold-in at N = 10 |
| ``dlae`` | - | ``new_dlae`` | trained for "a few artists -> the rest" |
| ``tag-profile`` | - | ``new_tags`` | reaches artists by their tags, not their listeners |
| ``set-autoencoder`` | - | ``new_dae`` | its hidden layer lets the revealed artists interact |
| popularity | tie-break | ``new_pop`` / N | a prior that fades as a person rates more |

Stage 2, ``ranker="none"``: the fixed blend — each part's scores scaled to max |score| = 1 over
the artists the person does not know, weighted and summed (known users: EASE + friends, then
ALS, then RP3beta on top, as the ``hybrid`` did). ``ranker="lightgbm"``: for new users, a
LightGBM lambdarank model (:mod:`artistrec.models.rankers`) re-orders the blend's top
``candidates`` artists from each part's score and rank, popularity, tag and tag-date features,
starting from the blend score; ``ranker="mlp"``: the original project's ranking model instead, an
MLP (:class:`~artistrec.models.neural.ranker.MLPRanker`, trained with PyTorch, served with
numpy) over the same rows and features, predicting the per-user min-max-normalised listen
weight with RMSE (``ranker_objective="rmse"``, as the original) or ranking them listwise
(``"listnet"``) or pairwise (``"ranknet"``). Either ranker is trained leak-free (:func:`~artistrec.models.rankers.
training_data`: stage 1 refitted without each of ``ranker_groups`` user groups scores that
group's pseudo-new users). Known users are served the blend (the ranker lost there on
validation). The measurements behind every weight are in docs/BENCHMARKS.md.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from artistrec.data.dataset import Dataset
from artistrec.models.base import Recommender
from artistrec.models.params import param
from artistrec.models.registry import model_class
from artistrec.models.tag_profile import TagProfile
from artistrec.models.weighting import PRIOR_EPS, listener_counts

#: stage-2 choices
RANKERS = ("none", "lightgbm", "mlp")

#: losses of the ``mlp`` ranker (:class:`~artistrec.models.neural.ranker.MLPRanker`)
MLP_OBJECTIVES = ("rmse", "listnet", "ranknet")


def part_class(name: str) -> type[Recommender]:
    """The model class of a stage-1 part: a registered model, or the internal ``tag-profile``
    scorer (a Recommender, not registered: alone it is a weak recommender, tags only)."""
    return TagProfile if name == TagProfile.name else model_class(name)


def max_scale(s: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Rows of ``s`` divided by their max |value| outside ``mask`` (cells kept as they are; an
    all-zero row stays zero); in place."""
    if mask is None:
        m = np.abs(s).max(axis=-1, keepdims=True)
    else:
        m = np.abs(np.where(mask, 0.0, s)).max(axis=-1, keepdims=True)
    s /= np.where(m > 0, m, 1.0).astype(s.dtype)
    return s


class Pipeline(Recommender):
    """Registered models as stage-1 scorers; a fixed blend, a LightGBM or an MLP ranker as stage 2.

    Parameters: ``Pipeline.param_table()`` (the names of the ``hybrid`` they reproduce).
    """

    name = "pipeline"
    state_version = 1

    # ---- known users: EASE (+ tags as pseudo-users) + ALS + RP3beta + friends
    ease_l2: float = param(100.0, "EASE's L2 penalty (known users)", gt=0)
    min_listeners: int = param(
        3, "artists with fewer training listeners are not modelled by EASE/DLAE (kNN/ALS are)", ge=1
    )
    tag_weight: float = param(
        40.0, "weight of the tag pseudo-user rows in EASE's Gram matrix", ge=0
    )
    friend_direct: float = param(
        0.05, "known users: weight of the mean friend's profile added to the scores", ge=0
    )
    known_als: float = param(1.0, "known users: weight of the max-scaled ALS scores", ge=0)
    known_rp3: float = param(
        0.2, "known users: weight of the max-scaled RP3beta scores (0: not fitted)", ge=0
    )
    rp3_beta: float = param(0.7, "RP3beta's popularity discount (listeners**-beta)", ge=0)
    rp3_neighbors: int = param(200, "RP3beta: strongest transitions kept per artist", ge=1)
    # ---- new users: item-kNN + ALS fold-in + DLAE + tag profile + set autoencoder + popularity
    new_als: float = param(0.75, "new users: weight of the max-scaled ALS fold-in", ge=0)
    new_dlae: float = param(
        1.0, "new users: weight of the max-scaled DLAE fold-in (0: not fitted)", ge=0
    )
    dlae_dropout: float = param(0.95, "DLAE's input dropout probability", ge=0, lt=1)
    dlae_l2: float = param(30.0, "DLAE's extra L2 penalty", ge=0)
    new_tags: float = param(
        1.0, "new users: weight of the max-scaled tag-profile term (0: not fitted)", ge=0
    )
    tag_rank: int = param(128, "rank of the tag embedding the tag-profile term uses", ge=1)
    tag_min_listeners: int = param(
        10, "artists the tag-profile term scores: at least this many training listeners", ge=1
    )
    new_dae: float = param(
        1.0, "new users: weight of the max-scaled set autoencoder (0: not fitted)", ge=0
    )
    dae_factors: int = param(256, "set autoencoder: width of its hidden layer", ge=1)
    dae_iterations: int = param(20, "set autoencoder: passes over the training users", ge=1)
    dae_learning_rate: float = param(0.007, "set autoencoder: Adam step size", gt=0)
    dae_batch_size: int = param(384, "set autoencoder: users per Adam step", ge=1)
    dae_min_listeners: int = param(
        5, "set autoencoder: artists with fewer training listeners are not modelled", ge=1
    )
    new_pop: float = param(
        0.9, "new users: weight of the popularity prior, divided by the number revealed", ge=0
    )
    # ---- the ALS and item-kNN parts
    als_factors: int = param(32, "ALS: width of the factors", ge=1)
    als_l2: float = param(30.0, "ALS: L2 penalty on the factors", gt=0)
    als_alpha: float = param(3.0, "ALS: confidence 1 + alpha * log1p(count)", ge=0)
    knn_shrink: float = param(5.0, "new-user item-kNN: shrinkage of the cosine", ge=0)
    knn_neighbors: int = param(500, "new-user item-kNN: most similar artists kept per artist", ge=1)
    knn_tagged_cap: int = param(
        20, "new-user item-kNN: tagged, unlisted artists counted per user (most listened)", ge=0
    )
    # ---- stage 2
    ranker: str = param(
        "none", "stage 2 for new users: the fixed blend, or a learned ranker", choices=RANKERS
    )
    candidates: int = param(50, "stage 2 re-orders the blend's top-M artists (M)", ge=1)
    ranker_groups: int = param(
        3, "ranker training: user groups, stage 1 refitted without each", ge=2
    )
    ranker_trees: int = param(150, "ranker: boosting rounds", ge=1)
    ranker_leaves: int = param(15, "ranker: leaves per tree", ge=2)
    ranker_learning_rate: float = param(0.05, "ranker: shrinkage of each tree", gt=0)
    ranker_objective: str = param(
        "rmse",
        "ranker='mlp': its loss (rmse on the min-max-normalised listen weight, or listwise/pairwise)",
        choices=MLP_OBJECTIVES,
    )
    ranker_iterations: int = param(
        100, "ranker='mlp': most passes over the training users (early-stopped)", ge=1
    )
    ranker_time_features: bool = param(
        True, "ranker: use the artists' tag-date features (when and how recently tagged)"
    )
    random_state: int = param(0, "seed of the parts, the pseudo-new users and the ranker", ge=0)

    # --------------------------------------------------------------------------- parts
    def part_specs(self) -> dict[str, dict[str, Any]]:
        """stage-1 part name -> its registered model's parameters (the parts this setting fits)."""
        specs: dict[str, dict[str, Any]] = {
            "ease": {
                "l2": self.ease_l2,
                "min_listeners": self.min_listeners,
                "weighting": "binary",
                "tag_weight": self.tag_weight,
            },
            "item-knn": {
                "neighbors": self.knn_neighbors,
                "shrink": self.knn_shrink,
                "weighting": "binary",
                "query_weighting": "levels",
                "prune": "source",
                "tagged_cap": self.knn_tagged_cap,
            },
        }
        if self.known_als > 0 or self.new_als > 0:
            specs["als"] = {
                "factors": self.als_factors,
                "l2": self.als_l2,
                "alpha": self.als_alpha,
                "iterations": 15,
                "weighting": "log",
                "random_state": self.random_state,
            }
        if self.known_rp3 > 0:
            specs["rp3beta"] = {
                "alpha": 1.0,
                "beta": self.rp3_beta,
                "neighbors": self.rp3_neighbors,
                "weighting": "binary",
            }
        if self.new_dlae > 0:
            specs["dlae"] = {
                "dropout": self.dlae_dropout,
                "l2": self.dlae_l2,
                "min_listeners": self.min_listeners,
                "weighting": "binary",
            }
        if self.new_tags > 0:
            specs["tag-profile"] = {"rank": self.tag_rank, "min_listeners": self.tag_min_listeners}
        if self.new_dae > 0:
            specs["set-autoencoder"] = {
                "factors": self.dae_factors,
                "iterations": self.dae_iterations,
                "learning_rate": self.dae_learning_rate,
                "batch_size": self.dae_batch_size,
                "min_listeners": self.dae_min_listeners,
                "random_state": self.random_state,
            }
        return specs

    #: new-user weight parameter of each part that enters the new-user blend on the modelled artists
    _NEW_WEIGHTS = (
        ("dlae", "new_dlae"),
        ("tag-profile", "new_tags"),
        ("set-autoencoder", "new_dae"),
        ("als", "new_als"),
    )

    # --------------------------------------------------------------------------- fitting
    def _fit(self, dataset: Dataset) -> None:
        if self.ranker == "mlp":  # a clear error before the stage-1 fits, not after them
            from artistrec.models.neural import require_torch

            require_torch("pipeline(ranker='mlp')")
        self.parts_ = {
            name: part_class(name)(**params).fit(dataset)
            for name, params in self.part_specs().items()
        }
        self.friends_ = sp.csr_matrix(dataset.friends, dtype=np.float32)
        self._index(self.parts_)
        self.ranker_ = None
        if self.ranker != "none":
            from artistrec.models import rankers

            self.item_features_ = rankers.item_features(self, dataset)
            self.ranker_ = rankers.train(self, dataset)

    def _index(self, parts: dict[str, Recommender]) -> None:
        """Derived arrays (from the listens and the parts), recomputed after a load."""
        cnt = listener_counts(self.seen_)
        self.pop_ = (cnt / max(float(cnt.max(initial=0.0)), 1.0)).astype(np.float32)
        self.modelled_ = cnt >= self.min_listeners
        self.modelled_items_ = np.flatnonzero(self.modelled_)
        # every user's L1-normalised binary profile (friends' listening)
        b = sp.csr_matrix(self.seen_ > 0, dtype=np.float32)
        n = np.maximum(np.diff(b.indptr), 1).astype(np.float32)
        self.profiles_ = sp.csr_matrix(sp.diags(1.0 / n) @ b, dtype=np.float32)

    # --------------------------------------------------------------------------- known users
    def _score_users(self, users: np.ndarray) -> np.ndarray:
        p = self.parts_
        seen = self.seen_[users]
        mask = seen.toarray() > 0
        n_u = np.maximum(np.diff(seen.indptr), 1).astype(np.float32)
        out = p["ease"]._score_users(users) / n_u[:, None]
        if self.friend_direct > 0:
            a = self.friends_[users]
            deg = np.maximum(np.asarray(a.sum(1)).ravel(), 1.0).astype(np.float32)
            fr = sp.diags(1.0 / deg) @ a @ self.profiles_
            out += np.float32(self.friend_direct) * fr.toarray()
        max_scale(out, mask)
        if "als" in p and self.known_als > 0:
            out += np.float32(self.known_als) * max_scale(p["als"]._score_users(users), mask)
        if "rp3beta" in p:
            max_scale(out, mask)
            out += np.float32(self.known_rp3) * max_scale(p["rp3beta"]._score_users(users), mask)
        out += PRIOR_EPS * self.pop_[None, :]
        return out

    # --------------------------------------------------------------------------- new users
    def new_user_parts(self, items: np.ndarray, levels: np.ndarray) -> dict[str, np.ndarray]:
        """Each new-user part's (n_items,) scores for revealed ``items`` with ``levels`` (> 0),
        the revealed artists set to 0."""
        out = {}
        for name, part in self.parts_.items():
            if name in ("ease", "rp3beta"):  # known users only
                continue
            s = part._score_new_user(items, levels)
            s[items] = 0.0
            out[name] = s
        return out

    def blend_new_user(self, parts: dict[str, np.ndarray], n_revealed: int) -> np.ndarray:
        """The fixed blend of :meth:`new_user_parts` (module docstring)."""
        c = float(self.new_pop) / max(n_revealed, 1) + PRIOR_EPS
        out = self.pop_ * np.float32(c)
        if not n_revealed:
            return out
        knn = parts["item-knn"]
        top = float(np.abs(knn).max())
        if top > 0:
            out += knn * np.float32(1.0 / top)
        mod = self.modelled_items_
        acc = np.zeros(mod.size, np.float32)
        for name, weight in self._NEW_WEIGHTS:
            w = float(getattr(self, weight))
            if w > 0 and name in parts:
                s = parts[name][mod]  # a copy: the modelled artists only
                top = float(np.abs(s).max(initial=0.0))
                if top > 0:
                    s *= np.float32(w / top)
                    acc += s
        out[mod] += acc
        return out

    def _score_new_user(self, items: np.ndarray, levels: np.ndarray) -> np.ndarray:
        if not items.size:
            return self.blend_new_user({}, 0)
        parts = self.new_user_parts(items, levels)
        blend = self.blend_new_user(parts, items.size)
        if self.ranker_ is None:
            return blend
        from artistrec.models import rankers

        return rankers.rerank(self, items, levels, parts, blend)

    # --------------------------------------------------------------------------- artists
    def _similar_scores(self, artist: int, measure: str) -> np.ndarray:
        p = self.parts_
        if measure == "dot" and self.modelled_[artist]:
            # EASE weights: how strongly liking `artist` predicts each other artist
            return p["ease"]._similar_scores(artist, "dot")
        if self.seen_.getnnz(axis=0)[artist] > 0:  # cosine: the item-kNN neighbours
            return p["item-knn"]._similar_scores(artist, "cosine")
        if "tag-profile" in p:  # no training listener: shared tags
            return p["tag-profile"]._similar_scores(artist, "cosine")
        return PRIOR_EPS * self.pop_

    def item_embeddings(self) -> np.ndarray | None:
        """The ALS part's item factors (n_items, als_factors), or None without an ALS part."""
        self._check_fitted()
        return self.parts_["als"].item_embeddings() if "als" in self.parts_ else None

    # --------------------------------------------------------------------------- persistence
    def _state(self) -> dict[str, Any]:
        state: dict[str, Any] = {"friends": self.friends_}
        for name, part in self.parts_.items():
            state.update({f"{name}.{k}": v for k, v in part._state().items()})
        if self.ranker_ is not None:
            state.update({f"ranker.{k}": v for k, v in self.ranker_.to_arrays().items()})
            state["item_features"] = self.item_features_
        return state

    def _set_state(self, state: dict[str, Any]) -> None:
        self.friends_ = sp.csr_matrix(state["friends"], dtype=np.float32)
        self.parts_ = {}
        for name, params in self.part_specs().items():
            part = part_class(name)(**params).validate_params()
            part.user_ids_, part.artist_ids_ = self.user_ids_, self.artist_ids_
            part.seen_, part.known_, part.fingerprint_ = self.seen_, self.known_, self.fingerprint_
            prefix = f"{name}."
            sub = {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
            if not sub:
                raise KeyError(f"pipeline state lacks the {name!r} part: retrain the model")
            part._set_state(sub)
            self.parts_[name] = part
        self._index(self.parts_)
        self.ranker_ = None
        if self.ranker != "none":
            from artistrec.models import rankers

            arrays = {k[7:]: v for k, v in state.items() if k.startswith("ranker.")}
            if not arrays:
                raise KeyError("pipeline state lacks its ranker: retrain the model")
            self.ranker_ = rankers.ranker_from_arrays(self.ranker, arrays)
            self.item_features_ = np.asarray(state["item_features"], dtype=np.float32)
