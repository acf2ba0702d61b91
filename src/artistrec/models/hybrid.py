"""``hybrid``: tag-augmented EASE + ALS (+ friends); kNN + ALS + DLAE + tags + a set autoencoder for new users — the default.

Why it works (measured in docs/BENCHMARKS.md):

* EASE^R (a closed-form item-item ridge regression) is the strongest single baseline on this
  data set; restricting it to artists with >= 3 training listeners keeps the one dense inverse
  small (4.6k instead of 7k artists: ~3x cheaper) and lost nothing on validation once ALS and
  item-kNN, which cover every listened artist, are blended in.
* Tags: the tf-idf, L2-normalised artist x tag matrix is added to the Gram matrix as weighted
  pseudo-users, so co-tagged artists become similar even with few shared listeners.
* ALS (implicit matrix factorisation) scores are blended in, each model's scores scaled to
  max |score| = 1 per user, so the two complementary families vote on equal terms.
* New users (few revealed artists) get item-kNN cosine scores of their level-weighted profile
  blended with the exact ALS fold-in, a DLAE fold-in and a popularity prior that fades as they
  rate more. DLAE (Steck 2020) is EASE fitted to reconstruct each training user's row from a copy
  with 95% of the entries dropped, i.e. trained for exactly "a few artists -> the rest"; its
  dropout-shaped penalty (p/(1-p) x each artist's listener count) damps popular artists. On
  pseudo-new validation users it added +0.004 to +0.010 NDCG@10 on average over N = 3/5/10 to the
  kNN + ALS blend (two different carvings; `benchmarks/tune_hybrid.py` re-runs one), where a
  plainly stronger-regularised EASE had not helped.
* New users also get a tag-profile term: the level-weighted sum of the revealed artists' unit
  tf-idf tag rows, scored against each modelled artist's row (a cosine up to the profile's norm)
  and max-scaled like the other parts (``new_tags`` = 1.0). The rows are embedded with a rank-128
  truncated SVD (``tag_rank``), which scored like the exact sparse product on validation at half
  its request time. The term reaches artists by what listeners call them rather than by who else
  listens: +0.008 NDCG@10 on pseudo-new validation users (0.5112 -> 0.5189 exact, 0.5182 at rank
  128; mean over N = 3/5/10, three outer folds), flat for weights 0.8-1.2.
* The new-user item-kNN also counts, per user, up to 20 artists they tagged but did not list
  (most listened first): HetRec lists only each user's top-50 listens, and those tagged pairs are
  mostly listens beyond that cut. +0.003 NDCG@10 on pseudo-new validation users (all ~50k pairs
  gave +0.005 at 5x the co-occurrence and ~8 s more fit).
* New users also get the scores of a set autoencoder (:mod:`artistrec.models.set_autoencoder`):
  a softmax network with one tanh hidden layer (256 units) over the artists with >= 5 training
  listeners, trained for 20 epochs on exactly the new-user task (each step, every training user
  reveals a random 3-10 of their artists, level-weighted, and the loss is the likelihood of the
  rest). Unlike the linear parts, its hidden layer lets the revealed artists interact. On
  pseudo-new validation users: 0.5214 -> 0.5260 mean NDCG@10 over N = 3/5/10 (N = 5:
  0.5296 -> 0.5370), for ~2.7 s of fit; 4.6k artists and batches of 256 gave 0.5269 at ~4 s.
* Known users additionally get a small share of their friends' listening (the friend graph), and
  0.2 x the max-scaled scores of RP3beta (beta 0.7, 200 neighbours) on top of the rescaled
  EASE + ALS blend: +0.0019 NDCG@10 (+1.0%) on each of four validation splits (RecBole and warm,
  two seeds each), confirmed by ``benchmarks/tune_hybrid.py``.

The numerical core is :mod:`artistrec.models.hybrid_core` (numpy/scipy, ALS via ``implicit``); this module adapts
it to the :class:`~artistrec.models.base.Recommender` protocol.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from artistrec.data.dataset import Dataset
from artistrec.models import hybrid_core as core
from artistrec.models.base import Recommender
from artistrec.models.params import param
from artistrec.models.weighting import PRIOR_EPS

#: Arrays every scoring path reads; an artifact without them cannot serve.
_REQUIRED_STATE = ("items", "item_pos", "pop", "item_factors_mod_t", "item_gram", "knn_indptr")


class Hybrid(Recommender):
    """Tag-augmented EASE + ALS (+ friends) for known users; kNN + ALS + DLAE + tags + set autoencoder for new users.

    Parameters: ``Hybrid.param_table()`` (the tuned values are the defaults).
    """

    name = "hybrid"
    # 8: parameters renamed to the names every model uses (``l2``, ``min_listeners``,
    # ``neighbors``, ``factors``, ``iterations``, ...); 7: + the set autoencoder for new users;
    # 6: kNN co-occurrence with tagged artists; 5: + the tag-profile fold-in term for new users;
    # 4: + RP3beta for known users; 3: + the DLAE fold-in for new users; 2: EASE + ALS + item-kNN
    # (1 had a second EASE matrix)
    state_version = 8

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
    knn_neighbors: int = param(
        500, "new-user item-kNN: most similar artists kept per artist (0: all)", ge=0
    )
    knn_tagged_cap: int = param(
        20, "new-user item-kNN: tagged, unlisted artists counted per user (most listened)", ge=0
    )

    def _fit(self, dataset: Dataset) -> None:
        self.state_ = core.fit(
            self.seen_,
            dataset.artist_tags,
            dataset.friends,
            params=self.get_params(),
            known=self.known_,
        )
        self.friends_ = sp.csr_matrix(dataset.friends, dtype=np.float32)
        self.artist_tags_ = sp.csr_matrix(dataset.artist_tags, dtype=np.float32)
        self.__dict__.pop("_known_inputs", None)

    def _score_users(self, users: np.ndarray) -> np.ndarray:
        # every known user's profile and friends' mean profile, derived once per fitted or
        # loaded model (profiling per request cost ~6-10 ms of scipy overhead)
        known = self.__dict__.get("_known_inputs")
        if known is None:
            known = self._known_inputs = core.known_user_inputs(
                self.state_, self.seen_, self.friends_
            )
        return core.score_users(self.state_, self.seen_[users], None, None, users, known)

    def _score_new_user(self, items: np.ndarray, levels: np.ndarray) -> np.ndarray:
        return core.score_new_user(self.state_, items, levels)

    def _similar_scores(self, artist: int, measure: str) -> np.ndarray:
        st = self.state_
        out = PRIOR_EPS * st["pop"].astype(np.float32)
        pos = int(st["item_pos"][artist])
        if measure == "dot" and pos >= 0:  # EASE weights: how strongly liking `artist` predicts j
            out[st["items"]] += st["B"][pos]
            return out
        # cosine: item-kNN row (every artist with a training listener)
        lo, hi = st["knn_indptr"][artist], st["knn_indptr"][artist + 1]
        if hi > lo:
            out[st["knn_indices"][lo:hi]] += st["knn_data"][lo:hi]
            return out
        # an artist without training listeners: fall back to shared tags
        t = self.artist_tags_
        sim = np.asarray((t @ t[artist].T).todense()).ravel()
        norms = np.sqrt(np.asarray(t.multiply(t).sum(axis=1)).ravel())
        sim = sim / np.maximum(norms * norms[artist], 1e-12)
        return out + sim.astype(np.float32)

    def item_embeddings(self) -> np.ndarray:
        """The item factors of the hybrid's ALS part (n_items, als_factors)."""
        self._check_fitted()
        return self.state_["item_factors"]

    def _state(self) -> dict[str, Any]:
        return {
            **{f"core.{k}": v for k, v in self.state_.items()},
            "friends": self.friends_,
            "artist_tags": self.artist_tags_,
        }

    def _set_state(self, state: dict[str, Any]) -> None:
        self.state_ = {k[5:]: np.asarray(v) for k, v in state.items() if k.startswith("core.")}
        missing = sorted(set(_REQUIRED_STATE) - set(self.state_))
        if missing:
            raise KeyError(f"hybrid state lacks {missing}")
        self.friends_ = sp.csr_matrix(state["friends"], dtype=np.float32)
        self.artist_tags_ = sp.csr_matrix(state["artist_tags"], dtype=np.float32)
        self.__dict__.pop("_known_inputs", None)
