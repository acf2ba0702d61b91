"""Stage 2 of the ``pipeline``: learned rankers over the stage-1 candidates, their features and
their leak-free training data.

- :class:`LightGBMRanker`: LightGBM with the lambdarank objective, started from the blend score
  (``init_score``). The interface is ``fit(features, labels, groups, init_score)`` /
  ``predict(features)`` / ``to_arrays()``, so another ranker (e.g. an MLP in numpy) plugs in by
  implementing the same four methods and adding itself to :data:`RANKERS`. The trained model is
  LightGBM's own text format (``model_to_string``), stored as bytes in the npz artifact; serving
  evaluates the trees with numpy (:class:`TreeEnsemble`), vectorised over candidates and trees.
- :class:`MLPStage2`: the original project's ranking model, an MLP
  (:class:`~artistrec.models.neural.ranker.MLPRanker`, trained with PyTorch, served with numpy)
  over the same rows and features. With the ``rmse`` objective (the original's) its target is the
  per-user min-max-normalised listen weight of each candidate (0 for the candidates the user does
  not listen to, :func:`targets`); the listwise/pairwise objectives learn the 0/1 labels. Its
  output replaces the blend score rather than adding to it (``adds_to_init``).
- :func:`features`: one row per (new user, candidate), vectorised for one request; the same
  function builds the training rows and the serving rows.
- :func:`training_data`: pseudo-new users. The training users with >= 13 artists are split into
  ``ranker_groups`` groups; for each group, stage 1 is refitted WITHOUT the group's users and each
  of them reveals a random N = 3..10 of their artists (with their levels); the blend's top-M
  candidates of that stage 1 are labelled by the user's other artists. So no training row is
  scored by a stage 1 (or item statistics) that saw its label.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd
import scipy.sparse as sp

from artistrec.data.dataset import Dataset
from artistrec.data.scale import to_levels
from artistrec.models.ranking import top_k_1d
from artistrec.models.weighting import listener_counts

if TYPE_CHECKING:
    from artistrec.models.pipeline import Pipeline

#: the new-user parts whose score and rank are features, in column order (missing parts: 0)
FEATURE_PARTS = ("item-knn", "als", "dlae", "tag-profile", "set-autoencoder")

#: per-artist features (computed at fit from the training data), in column order
ITEM_FEATURES = (
    "log_listeners",
    "log_plays",
    "mean_level",
    "log_tag_assignments",
    "first_tag_year",
    "last_tag_year",
    "mean_tag_year",
    "recent_tag_share",
    "modelled",
)

#: the tag-date ("time") features among them
TIME_FEATURES = ("first_tag_year", "last_tag_year", "mean_tag_year", "recent_tag_share")

#: per-request features
REQUEST_FEATURES = ("n_revealed", "mean_level_revealed", "max_level_revealed", "share_modelled")


def feature_names() -> list[str]:
    """Column names of :func:`features`."""
    names = ["blend", "blend_rank"]
    for p in FEATURE_PARTS:
        names += [f"{p}_score", f"{p}_rank"]
    names += list(ITEM_FEATURES)
    names += ["tag_cos_max", "tag_cos_mean"]
    names += list(REQUEST_FEATURES)
    return names


# ----------------------------------------------------------------------------------- features
def item_features(model: Pipeline, dataset: Dataset) -> np.ndarray:
    """(n_items, len(ITEM_FEATURES)) float32 per-artist features from the training data: listeners,
    plays, mean listen level, tag assignments and their dates (the time signal), modelled flag."""
    x = sp.csr_matrix(model.seen_)
    n = x.shape[1]
    listeners = listener_counts(x)
    plays = np.asarray(x.sum(axis=0), dtype=np.float64).ravel()
    lv = x.copy()
    lv.data = to_levels(lv.data).astype(np.float32)
    mean_level = np.asarray(lv.sum(axis=0)).ravel() / np.maximum(listeners, 1.0)
    ta = dataset.tag_assignments
    a = ta["artist_index"].to_numpy()
    ok = a >= 0
    a = a[ok]
    if "date" in ta.columns and ok.any():  # HetRec's day/month/year of each assignment
        d = pd.to_datetime(pd.Series(ta["date"].to_numpy()[ok]), errors="coerce")
        t = (d.dt.year + (d.dt.month - 1) / 12.0 + (d.dt.day - 1) / 365.0).to_numpy(np.float64)
        t = np.where((t > 1990) & (t < 2100), t, np.nan)  # a few dates from 1956-1979
    else:
        t = np.full(a.size, np.nan)
    valid = np.isfinite(t)
    t_end = float(np.nanmax(t)) if valid.any() else 0.0
    cnt = np.bincount(a, minlength=n).astype(np.float64)
    cnt_t = np.bincount(a[valid], minlength=n).astype(np.float64)
    first = np.full(n, np.inf)
    last = np.full(n, -np.inf)
    np.minimum.at(first, a[valid], t[valid])
    np.maximum.at(last, a[valid], t[valid])
    mean_t = np.bincount(a[valid], weights=t[valid], minlength=n) / np.maximum(cnt_t, 1.0)
    recent = np.bincount(a[valid], weights=(t[valid] >= t_end - 1.0), minlength=n)
    has = cnt_t > 0
    # years relative to the data's last tag date; artists without dated tags get -10 years
    rel = lambda v: np.where(has, v - t_end, -10.0)  # noqa: E731
    out = np.column_stack(
        [
            np.log1p(listeners),
            np.log1p(plays),
            mean_level,
            np.log1p(cnt),
            rel(first),
            rel(last),
            rel(mean_t),
            recent / np.maximum(cnt_t, 1.0),
            model.modelled_.astype(np.float64),
        ]
    )
    if not model.ranker_time_features:  # ablation: constant columns, which no tree splits on
        out[:, [ITEM_FEATURES.index(f) for f in TIME_FEATURES]] = 0.0
    return np.ascontiguousarray(out, dtype=np.float32)


def _rank_within(values: np.ndarray) -> np.ndarray:
    """0 for the largest of ``values``, 1 for the next, ... (ties by position)."""
    order = np.argsort(-values, kind="stable")
    rank = np.empty(values.size, np.float32)
    rank[order] = np.arange(values.size, dtype=np.float32)
    return rank


def features(
    model: Pipeline,
    items: np.ndarray,
    levels: np.ndarray,
    parts: dict[str, np.ndarray],
    blend: np.ndarray,
    cand: np.ndarray,
) -> np.ndarray:
    """(len(cand), len(feature_names())) float32 features of one new person's candidates
    (vectorised: no loop over candidates)."""
    m = cand.size
    cols = [blend[cand], _rank_within(blend[cand])]
    for name in FEATURE_PARTS:
        s = parts.get(name)
        if s is None:
            cols += [np.zeros(m, np.float32), np.zeros(m, np.float32)]
            continue
        top = float(np.abs(s).max())
        v = s[cand] / np.float32(top if top > 0 else 1.0)
        cols += [v, _rank_within(v)]
    block = [np.column_stack(cols).astype(np.float32), model.item_features_[cand]]
    tag = model.parts_.get("tag-profile")
    if tag is not None and tag.embedding_.shape[1]:
        e_c = tag.embedding_[cand]
        e_r = tag.embedding_[items]
        sim = (e_c @ e_r.T) / np.maximum(
            np.linalg.norm(e_c, axis=1)[:, None] * np.linalg.norm(e_r, axis=1)[None, :], 1e-9
        )
        block.append(np.column_stack([sim.max(axis=1), sim.mean(axis=1)]).astype(np.float32))
    else:
        block.append(np.zeros((m, 2), np.float32))
    lv = levels.astype(np.float32)
    req = np.array(
        [items.size, lv.mean(), lv.max(), model.modelled_[items].mean()], dtype=np.float32
    )
    block.append(np.broadcast_to(req, (m, req.size)))
    return np.concatenate(block, axis=1)


def candidates(blend: np.ndarray, items: np.ndarray, m: int) -> np.ndarray:
    """The blend's top-``m`` artists, the revealed ``items`` left out (best first)."""
    s = blend.copy()
    s[items] = -np.inf
    return top_k_1d(s, m)[0]


def rerank(
    model: Pipeline,
    items: np.ndarray,
    levels: np.ndarray,
    parts: dict[str, np.ndarray],
    blend: np.ndarray,
) -> np.ndarray:
    """Stage 2 for one new person: the candidates re-scored by the ranker (blend score + ranker
    output), every other artist kept in blend order below them."""
    cand = candidates(blend, items, int(model.candidates))
    x = features(model, items, levels, parts, blend, cand)
    s = model.ranker_.predict(x).astype(np.float32)
    if model.ranker_.adds_to_init:
        s = s + blend[cand]
    out = blend - np.float32(float(blend.max()) - float(s.min()) + 1.0)
    out[cand] = s
    return out


# ----------------------------------------------------------------------------------- training
@dataclass
class TrainingData:
    """Rows of the ranker's training set: ``features`` (n, d), ``labels`` (n,), ``groups`` (rows
    per pseudo-new user, in order), ``init_score`` (the blend), ``weights`` (the user's listen
    count of each candidate: 0 unless a label), and for checking leakage the
    ``users`` / ``artists`` of each row, the ``group`` of each row and the stage-1 model that
    scored each group (``stage1[g]``)."""

    features: np.ndarray
    labels: np.ndarray
    groups: np.ndarray
    init_score: np.ndarray
    weights: np.ndarray
    users: np.ndarray
    artists: np.ndarray
    group: np.ndarray
    stage1: list[Any]


#: pseudo-new users reveal N in this range, as the new-user protocol's N = 3, 5, 10
REVEAL_RANGE = (3, 10)
#: at least this many artists: the largest reveal plus 3 labels
MIN_ARTISTS = REVEAL_RANGE[1] + 3


def training_data(model: Pipeline, dataset: Dataset) -> TrainingData:
    """Pseudo-new users from ``ranker_groups`` groups of training users (module docstring)."""
    from artistrec.models.pipeline import Pipeline

    rng = np.random.default_rng(int(model.random_state))
    x = sp.csr_matrix(dataset.interactions, dtype=np.float32)
    n_art = np.diff(x.indptr)
    eligible = rng.permutation(np.flatnonzero(n_art >= MIN_ARTISTS))
    k = int(model.ranker_groups)
    params = {**model.get_params(), "ranker": "none"}
    feats, labels, sizes, init, users, artists, group, stage1 = [], [], [], [], [], [], [], []
    weights = []
    for g, members in enumerate(np.array_split(eligible, k)):
        keep = np.ones(x.shape[0], dtype=bool)
        keep[members] = False
        reduced = sp.csr_matrix(sp.diags(keep.astype(np.float32)) @ x)
        sub_ds = dataset.with_interactions(reduced)
        sub = Pipeline(**params).fit(sub_ds)
        sub.item_features_ = item_features(sub, sub_ds)
        stage1.append(sub)
        for u in members:  # one request per pseudo-new user, exactly as served
            arts = x.indices[x.indptr[u] : x.indptr[u + 1]].astype(np.int64)
            counts = x.data[x.indptr[u] : x.indptr[u + 1]]
            lev = to_levels(counts).astype(np.int64)
            n = int(rng.integers(REVEAL_RANGE[0], REVEAL_RANGE[1] + 1))
            pick = rng.permutation(arts.size)
            rev, rest = pick[:n], pick[n:]
            items, levels = arts[rev], lev[rev]
            parts = sub.new_user_parts(items, levels)
            blend = sub.blend_new_user(parts, items.size)
            cand = candidates(blend, items, int(model.candidates))
            held, held_w = arts[rest], counts[rest]
            y = np.isin(cand, held).astype(np.float32)
            order = np.argsort(held)
            at = np.minimum(np.searchsorted(held[order], cand), held.size - 1)
            w = np.where(held[order][at] == cand, held_w[order][at], 0.0)
            weights.append(w.astype(np.float32))
            feats.append(features(sub, items, levels, parts, blend, cand))
            labels.append(y)
            sizes.append(cand.size)
            init.append(blend[cand])
            users.append(np.full(cand.size, u, np.int64))
            artists.append(cand)
            group.append(np.full(cand.size, g, np.int64))
    return TrainingData(
        features=np.concatenate(feats),
        labels=np.concatenate(labels),
        groups=np.asarray(sizes, np.int64),
        init_score=np.concatenate(init),
        weights=np.concatenate(weights),
        users=np.concatenate(users),
        artists=np.concatenate(artists),
        group=np.concatenate(group),
        stage1=stage1,
    )


def targets(model: Pipeline, data: TrainingData) -> np.ndarray:
    """What the ranker ``model.ranker`` learns per row: the 0/1 labels, or for the MLP with the
    ``rmse`` objective (the original's ranking model) the per-user min-max-normalised listen
    weight of each candidate (unlistened candidates 0, the user's most listened candidate 1)."""
    if model.ranker == "mlp" and model.ranker_objective == "rmse":
        from artistrec.models.neural.ranker import minmax_per_group

        return minmax_per_group(data.weights, data.groups)
    return data.labels


def make_ranker(model: Pipeline) -> Any:
    """An unfitted ranker ``model.ranker`` with the pipeline's ranker parameters."""
    if model.ranker == "mlp":
        return MLPStage2(
            objective=str(model.ranker_objective),
            iterations=int(model.ranker_iterations),
            random_state=int(model.random_state),
        )
    return RANKERS[model.ranker](
        n_estimators=int(model.ranker_trees),
        num_leaves=int(model.ranker_leaves),
        learning_rate=float(model.ranker_learning_rate),
        random_state=int(model.random_state),
    )


def train(model: Pipeline, dataset: Dataset) -> Any:
    """The ranker ``model.ranker`` trained on :func:`training_data`."""
    data = training_data(model, dataset)
    ranker = make_ranker(model)
    return ranker.fit(data.features, targets(model, data), data.groups, data.init_score)


# ----------------------------------------------------------------------------------- rankers
class TreeEnsemble:
    """LightGBM's trees as flat numpy arrays, evaluated for many rows at once (all rows through
    all trees, one array step per tree level): ~0.1 ms for 50 candidates where the LightGBM
    Python call costs more than the 2 ms request budget allows on a loaded machine. Numerical
    splits only (every feature here is numeric and never missing)."""

    def __init__(self, dump: dict[str, Any]) -> None:
        feat, thr, left, right, value, roots = [], [], [], [], [], []
        offset = 0
        for tree in dump["tree_info"]:
            nodes: list[dict[str, Any]] = []
            _flatten(tree["tree_structure"], nodes)
            for node in nodes:
                if "leaf_value" in node:
                    feat.append(-1)
                    thr.append(0.0)
                    left.append(-1)
                    right.append(-1)
                    value.append(float(node["leaf_value"]))
                else:
                    if node.get("decision_type", "<=") != "<=":
                        raise ValueError("only numerical '<=' splits are supported")
                    feat.append(int(node["split_feature"]))
                    thr.append(float(node["threshold"]))
                    left.append(offset + node["_left"])
                    right.append(offset + node["_right"])
                    value.append(0.0)
            roots.append(offset)
            offset += len(nodes)
        self.feature = np.asarray(feat, np.int64)
        self.threshold = np.asarray(thr, np.float64)
        self.left = np.asarray(left, np.int64)
        self.right = np.asarray(right, np.int64)
        self.value = np.asarray(value, np.float64)
        self.roots = np.asarray(roots, np.int64)

    def predict(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, np.float64)
        node = np.broadcast_to(self.roots, (x.shape[0], self.roots.size)).copy()
        rows = np.arange(x.shape[0])[:, None]
        while True:
            f = self.feature[node]
            inner = f >= 0
            if not inner.any():
                break
            go_left = x[rows, np.where(inner, f, 0)] <= self.threshold[node]
            nxt = np.where(go_left, self.left[node], self.right[node])
            node = np.where(inner, nxt, node)
        return self.value[node].sum(axis=1)


def _flatten(node: dict[str, Any], out: list[dict[str, Any]]) -> int:
    """Pre-order list of a dumped tree's nodes with child positions; returns node's position."""
    pos = len(out)
    entry = dict(node)
    out.append(entry)
    if "leaf_value" not in node:
        entry["_left"] = _flatten(node["left_child"], out)
        entry["_right"] = _flatten(node["right_child"], out)
    return pos


class LightGBMRanker:
    """LightGBM lambdarank (deterministic: fixed seed, 2 threads, ``deterministic=True``)."""

    kind: ClassVar[str] = "lightgbm"
    #: its output is added to the blend score (the boosting started from it)
    adds_to_init: ClassVar[bool] = True

    def __init__(
        self,
        n_estimators: int = 150,
        num_leaves: int = 15,
        learning_rate: float = 0.05,
        random_state: int = 0,
    ) -> None:
        self.n_estimators = n_estimators
        self.num_leaves = num_leaves
        self.learning_rate = learning_rate
        self.random_state = random_state

    def fit(
        self,
        features: np.ndarray,
        labels: np.ndarray,
        groups: np.ndarray,
        init_score: np.ndarray | None = None,
    ) -> LightGBMRanker:
        try:
            import lightgbm as lgb
        except ImportError as exc:  # no silent fallback to the blend
            raise ImportError(
                "ranker='lightgbm' needs LightGBM: pip install -e '.[ranking]'"
            ) from exc

        params = {
            "objective": "lambdarank",
            "metric": "ndcg",
            "eval_at": [10],
            "num_leaves": self.num_leaves,
            "learning_rate": self.learning_rate,
            "min_data_in_leaf": 50,
            "feature_fraction": 0.9,
            "bagging_fraction": 1.0,
            "lambdarank_truncation_level": 20,
            "seed": self.random_state,
            "deterministic": True,
            "force_row_wise": True,
            "num_threads": 2,
            "verbosity": -1,
        }
        train = lgb.Dataset(
            np.asarray(features, np.float32),
            label=np.asarray(labels),
            group=np.asarray(groups),
            init_score=None if init_score is None else np.asarray(init_score, np.float64),
            free_raw_data=True,
        )
        booster = lgb.train(params, train, num_boost_round=self.n_estimators)
        self.model_text_ = booster.model_to_string()
        self.trees_ = TreeEnsemble(booster.dump_model())
        return self

    def predict(self, features: np.ndarray) -> np.ndarray:
        """The ranker's raw score per row (to add to the init score)."""
        return self.trees_.predict(features)

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {"model": np.frombuffer(self.model_text_.encode("utf-8"), dtype=np.uint8)}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> LightGBMRanker:
        import lightgbm as lgb

        out = cls()
        out.model_text_ = np.asarray(arrays["model"], np.uint8).tobytes().decode("utf-8")
        booster = lgb.Booster(model_str=out.model_text_)
        out.trees_ = TreeEnsemble(booster.dump_model())
        return out


class MLPStage2:
    """:class:`~artistrec.models.neural.ranker.MLPRanker` behind the stage-2 interface
    (``fit(features, labels, groups, init_score)`` / ``predict`` / ``to_arrays``). Training needs
    PyTorch (the ``neural`` extra); a fitted one is numpy arrays and numpy code only. The blend
    score is one of its features, so ``init_score`` is not used and its output is the score."""

    kind: ClassVar[str] = "mlp"
    adds_to_init: ClassVar[bool] = False

    def __init__(
        self, objective: str = "rmse", iterations: int = 100, random_state: int = 0
    ) -> None:
        self.objective = objective
        self.iterations = iterations
        self.random_state = random_state

    def fit(
        self,
        features: np.ndarray,
        labels: np.ndarray,
        groups: np.ndarray,
        init_score: np.ndarray | None = None,
    ) -> MLPStage2:
        from artistrec.models.neural.ranker import MLPRanker

        self.net_ = MLPRanker(
            objective=self.objective,
            iterations=self.iterations,
            random_state=self.random_state,
        ).fit(features, labels, groups)
        return self

    def predict(self, features: np.ndarray) -> np.ndarray:
        """The network's score per row (numpy forward pass)."""
        return self.net_.predict(features)

    def to_arrays(self) -> dict[str, np.ndarray]:
        return self.net_.state()

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> MLPStage2:
        from artistrec.models.neural.ranker import MLPRanker

        net = MLPRanker.from_state(arrays)
        out = cls(objective=net.objective)
        out.net_ = net
        return out


#: ranker name (the pipeline's ``ranker`` parameter) -> class
RANKERS: dict[str, Any] = {"lightgbm": LightGBMRanker, "mlp": MLPStage2}


def ranker_from_arrays(kind: str, arrays: dict[str, np.ndarray]) -> Any:
    """A trained ranker back from its artifact arrays."""
    return RANKERS[kind].from_arrays(arrays)
