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

#: Arrays every scoring path reads; an artifact without them cannot serve.
_REQUIRED_STATE = ("items", "item_pos", "pop", "item_factors_mod_t", "item_gram", "knn_indptr")


class Hybrid(Recommender):
    """Tag-augmented EASE + ALS (+ friends) for known users; kNN + ALS + DLAE + tags + set autoencoder for new users.

    Parameters as in :data:`artistrec.models.hybrid_core.DEFAULT_PARAMS`.
    """

    name = "hybrid"
    # 7: + the set autoencoder for new users; 6: kNN co-occurrence with tagged artists; 5: + the tag-profile fold-in term for new users;
    # 4: + RP3beta for known users; 3: + the DLAE fold-in for new users; 2: EASE + ALS + item-kNN
    # (1 had a second EASE matrix)
    state_version = 7

    def __init__(
        self,
        lam: float = core.DEFAULT_PARAMS["lam"],
        min_users: int = int(core.DEFAULT_PARAMS["min_users"]),
        tag_weight: float = core.DEFAULT_PARAMS["tag_weight"],
        friend_direct: float = core.DEFAULT_PARAMS["friend_direct"],
        known_als: float = core.DEFAULT_PARAMS["known_als"],
        known_rp3: float = core.DEFAULT_PARAMS["known_rp3"],
        rp3_beta: float = core.DEFAULT_PARAMS["rp3_beta"],
        rp3_topk: int = int(core.DEFAULT_PARAMS["rp3_topk"]),
        new_als: float = core.DEFAULT_PARAMS["new_als"],
        new_dlae: float = core.DEFAULT_PARAMS["new_dlae"],
        dlae_p: float = core.DEFAULT_PARAMS["dlae_p"],
        dlae_lam: float = core.DEFAULT_PARAMS["dlae_lam"],
        new_tags: float = core.DEFAULT_PARAMS["new_tags"],
        tag_rank: int = int(core.DEFAULT_PARAMS["tag_rank"]),
        tag_min_users: int = int(core.DEFAULT_PARAMS["tag_min_users"]),
        new_dae: float = core.DEFAULT_PARAMS["new_dae"],
        dae_hidden: int = int(core.DEFAULT_PARAMS["dae_hidden"]),
        dae_epochs: int = int(core.DEFAULT_PARAMS["dae_epochs"]),
        dae_lr: float = core.DEFAULT_PARAMS["dae_lr"],
        dae_batch: int = int(core.DEFAULT_PARAMS["dae_batch"]),
        dae_min_users: int = int(core.DEFAULT_PARAMS["dae_min_users"]),
        pop_beta: float = core.DEFAULT_PARAMS["pop_beta"],
        als_factors: int = int(core.DEFAULT_PARAMS["als_factors"]),
        als_reg: float = core.DEFAULT_PARAMS["als_reg"],
        als_alpha: float = core.DEFAULT_PARAMS["als_alpha"],
        knn_shrink: float = core.DEFAULT_PARAMS["knn_shrink"],
        knn_topk: int = int(core.DEFAULT_PARAMS["knn_topk"]),
        knn_tagged_cap: int = int(core.DEFAULT_PARAMS["knn_tagged_cap"]),
    ) -> None:
        self.lam = lam
        self.min_users = min_users
        self.tag_weight = tag_weight
        self.friend_direct = friend_direct
        self.known_als = known_als
        self.known_rp3 = known_rp3
        self.rp3_beta = rp3_beta
        self.rp3_topk = rp3_topk
        self.new_als = new_als
        self.new_dlae = new_dlae
        self.dlae_p = dlae_p
        self.dlae_lam = dlae_lam
        self.new_tags = new_tags
        self.tag_rank = tag_rank
        self.tag_min_users = tag_min_users
        self.new_dae = new_dae
        self.dae_hidden = dae_hidden
        self.dae_epochs = dae_epochs
        self.dae_lr = dae_lr
        self.dae_batch = dae_batch
        self.dae_min_users = dae_min_users
        self.pop_beta = pop_beta
        self.als_factors = als_factors
        self.als_reg = als_reg
        self.als_alpha = als_alpha
        self.knn_shrink = knn_shrink
        self.knn_topk = knn_topk
        self.knn_tagged_cap = knn_tagged_cap

    def _core_params(self) -> dict[str, float]:
        for key in ("lam", "als_factors", "als_reg", "dae_lr"):
            if not float(getattr(self, key)) > 0:
                raise ValueError(f"{key} must be positive, got {getattr(self, key)!r}")
        for key in (
            "min_users",
            "als_factors",
            "rp3_topk",
            "tag_rank",
            "tag_min_users",
            "dae_hidden",
            "dae_epochs",
            "dae_batch",
            "dae_min_users",
        ):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{key} must be a positive integer, got {value!r}")
        for key in (
            "tag_weight",
            "friend_direct",
            "known_als",
            "known_rp3",
            "rp3_beta",
            "new_als",
            "new_dlae",
            "dlae_lam",
            "new_tags",
            "new_dae",
            "pop_beta",
            "knn_shrink",
            "als_alpha",
        ):
            if not float(getattr(self, key)) >= 0:
                raise ValueError(f"{key} must be >= 0, got {getattr(self, key)!r}")
        for key in ("knn_topk", "knn_tagged_cap"):
            v = getattr(self, key)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
                raise ValueError(f"{key} must be a non-negative integer, got {v!r}")
        if not 0.0 <= float(self.dlae_p) < 1.0:
            raise ValueError(f"dlae_p must be in [0, 1), got {self.dlae_p!r}")
        return {**core.DEFAULT_PARAMS, **{k: float(v) for k, v in self.get_params().items()}}

    def _fit(self, dataset: Dataset) -> None:
        self.state_ = core.fit(
            self.seen_,
            dataset.artist_tags,
            dataset.friends,
            params=self._core_params(),
            known=self.known_,
        )
        self.friends_ = sp.csr_matrix(dataset.friends, dtype=np.float32)
        self.artist_tags_ = sp.csr_matrix(dataset.artist_tags, dtype=np.float32)

    def _score_users(self, users: np.ndarray) -> np.ndarray:
        return core.score_users(
            self.state_, self.seen_[users], self.friends_[users], self.seen_, users=users
        )

    def _score_new_user(self, items: np.ndarray, levels: np.ndarray) -> np.ndarray:
        return core.score_new_user(self.state_, items, levels)

    def _similar_scores(self, artist: int, measure: str) -> np.ndarray:
        st = self.state_
        out = 1e-6 * st["pop"].astype(np.float32)
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
