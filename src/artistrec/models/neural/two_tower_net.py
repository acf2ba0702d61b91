"""Training the two-tower network with PyTorch, and exporting it to numpy arrays.

Imported only by :meth:`artistrec.models.two_tower.TwoTower.fit` (it imports ``torch``). The
network, the sampled-softmax objective and the training draw are described in
:mod:`artistrec.models.two_tower`; this module holds their PyTorch form.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn

from artistrec.models.neural.numpy_nn import layer_arrays
from artistrec.models.neural.torch_utils import EarlyStopping, linear_arrays, mlp, mlp_linears
from artistrec.models.two_tower import HISTORY_COLUMNS

#: Fewest training steps per epoch (see ``train``).
MIN_STEPS = 6


@dataclass(frozen=True)
class TwoTowerInputs:
    """Everything the network is trained from, as arrays over the data set's artist indices.

    ``levels``: users x artists CSR of training levels 1..5 (sorted indices); ``vocab``: each
    artist's id-embedding slot (0 = outside the vocabulary); ``catalogue``: the sorted artist
    indices the model ranks (its softmax support); ``tags``: artists x tags tf-idf CSR;
    ``numeric``: (artists, n) standardised numeric features; ``log_q``: log of each catalogue
    artist's probability of being drawn as a target (the logQ correction).
    """

    levels: sp.csr_matrix
    vocab: np.ndarray
    catalogue: np.ndarray
    tags: sp.csr_matrix
    numeric: np.ndarray
    log_q: np.ndarray


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters of one fit (the model's parameters, validated by the model)."""

    factors: int
    hidden: int
    l2: float
    learning_rate: float
    batch_size: int
    iterations: int
    patience: int
    positives: int
    uniform_negatives: int
    new_user_share: float
    validation_fraction: float
    clip_norm: float
    random_state: int


class TwoTowerNet(nn.Module):
    """User tower: attention pooling of the rated artists' input vectors (a learned query plus a
    learned bias per level), then an MLP. Artist tower: id embedding + tag bag + numeric
    features, then an MLP whose last output is the artist's bias. Score = <user, artist>."""

    def __init__(
        self, n_vocab: int, n_tags: int, n_numeric: int, factors: int, hidden: int
    ) -> None:
        super().__init__()
        dim = factors
        self.id_in = nn.Embedding(n_vocab + 1, dim)
        self.id_out = nn.Embedding(n_vocab + 1, dim)
        for emb in (self.id_in, self.id_out):
            nn.init.normal_(emb.weight, std=0.05)
        self.tags = nn.EmbeddingBag(max(n_tags, 1), dim, mode="sum")
        nn.init.normal_(self.tags.weight, std=0.05)
        self.numeric = nn.Linear(n_numeric, dim)
        self.level_logit = nn.Parameter(torch.zeros(6))
        self.query = nn.Parameter(torch.zeros(dim))
        self.user_mlp = mlp(torch, [dim + 1, hidden, factors])
        self.item_mlp = mlp(torch, [dim, hidden, factors + 1])

    def content(
        self, bag: tuple[torch.Tensor, torch.Tensor, torch.Tensor], numeric: torch.Tensor
    ) -> torch.Tensor:
        """Tag bag + projected numeric features of every artist, (n_artists, dim)."""
        idx, offsets, weights = bag
        return self.tags(idx, offsets, per_sample_weights=weights) + self.numeric(numeric)

    def user(self, inputs: torch.Tensor, levels: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """User vectors (B, factors) from padded rated-artist inputs (B, L, dim), their levels
        (B, L) and a mask of real entries (B, L); every row needs at least one real entry."""
        logit = self.level_logit[levels] + inputs @ self.query
        logit = logit.masked_fill(~mask, float("-inf"))
        w = torch.softmax(logit, dim=1)
        pooled = (w.unsqueeze(-1) * inputs).sum(dim=1)
        size = torch.log1p(mask.sum(dim=1, keepdim=True).to(inputs.dtype))
        return self.user_mlp(torch.cat([pooled, size], dim=1))

    def items(self, content_rows: torch.Tensor, vocab_rows: torch.Tensor) -> torch.Tensor:
        """Artist vectors (n, factors + 1): the last column is the artist's bias."""
        return self.item_mlp(self.id_out(vocab_rows) + content_rows)

    def export(
        self,
        bag: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
        numeric: torch.Tensor,
        vocab: torch.Tensor,
    ) -> dict[str, np.ndarray]:
        """The numpy serving arrays: every artist's user-tower input and artist vector, and the
        user tower's pooling and MLP weights."""
        with torch.no_grad():
            content = self.content(bag, numeric)
            inputs = self.id_in(vocab) + content
            items = self.items(content, vocab)
        out = {
            "inputs": inputs.numpy().astype(np.float32),
            "item_vectors": np.ascontiguousarray(items[:, :-1].numpy(), dtype=np.float32),
            "item_bias": np.ascontiguousarray(items[:, -1].numpy(), dtype=np.float32),
            "level_logit": self.level_logit.detach().numpy().astype(np.float32),
            "query": self.query.detach().numpy().astype(np.float32),
        }
        out.update(layer_arrays("user_", [linear_arrays(m) for m in mlp_linears(self.user_mlp)]))
        return out


# ------------------------------------------------------------------------------- the training draw
@dataclass
class Draw:
    """One draw of the new-user task for a batch of users (indices into the batch)."""

    users: np.ndarray  # (B,) row indices into the levels matrix
    revealed: np.ndarray  # (B, L) artist indices, padded with 0
    revealed_levels: np.ndarray  # (B, L) levels 1..5, padded with 0
    mask: np.ndarray  # (B, L) True for real entries
    pair_user: np.ndarray  # (P,) batch row of each target
    pair_artist: np.ndarray  # (P,) artist index of each target


def draw(
    levels: sp.csr_matrix,
    users: np.ndarray,
    rng: np.random.Generator,
    in_catalogue: np.ndarray,
    positives: int,
    new_user_share: float,
    n_min: int = 3,
    n_max: int = 10,
) -> Draw:
    """Each user reveals a random subset of their artists and the others are the targets.

    With probability ``new_user_share`` a user reveals ``n_min..n_max`` artists (the new-user
    protocol), otherwise 1..n-1 (known users with most of their profile). At most ``positives``
    random non-revealed artists per user that are in the catalogue are the targets. Users need
    at least two artists. Vectorised over the batch.
    """
    rows = levels[users]
    indptr = rows.indptr.astype(np.int64)
    n = np.diff(indptr)
    b = n.size
    owner = np.repeat(np.arange(b), n)
    new = rng.random(b) < new_user_share
    k_new = rng.integers(n_min, n_max + 1, size=b)
    k_all = np.floor(rng.random(b) * np.maximum(n - 1, 1)).astype(np.int64) + 1
    k = np.clip(np.where(new, k_new, k_all), 1, np.maximum(n - 1, 1))
    order = np.lexsort((rng.random(owner.size), owner))  # a random order inside each row
    rank = np.empty(owner.size, np.int64)
    rank[order] = np.arange(owner.size) - indptr[owner[order]]
    revealed = rank < k[owner]

    L = int(k.max(initial=1))
    rev_art = np.zeros((b, L), np.int64)
    rev_lvl = np.zeros((b, L), np.int64)
    mask = np.zeros((b, L), bool)
    r_owner, r_rank = owner[revealed], rank[revealed]
    rev_art[r_owner, r_rank] = rows.indices[revealed]
    rev_lvl[r_owner, r_rank] = rows.data[revealed].astype(np.int64)
    mask[r_owner, r_rank] = True

    eligible = ~revealed & in_catalogue[rows.indices]
    el_order = order[eligible[order]]  # eligible entries in each row's random order
    el_owner = owner[el_order]
    starts = np.searchsorted(el_owner, np.arange(b))
    pos = np.arange(el_order.size) - starts[el_owner]
    take = el_order[pos < positives]
    return Draw(
        users=np.asarray(users, np.int64),
        revealed=rev_art,
        revealed_levels=rev_lvl,
        mask=mask,
        pair_user=owner[take],
        pair_artist=rows.indices[take].astype(np.int64),
    )


def fixed_draws(
    levels: sp.csr_matrix,
    users: np.ndarray,
    in_catalogue: np.ndarray,
    new_user_share: float,
    seed: int,
) -> Draw:
    """A draw for evaluation (all non-revealed catalogue artists are targets), fixed by ``seed``."""
    return draw(
        levels,
        users,
        np.random.default_rng(seed),
        in_catalogue,
        positives=np.iinfo(np.int32).max,
        new_user_share=new_user_share,
    )


# ------------------------------------------------------------------------------- training
def _bag(tags: sp.csr_matrix) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    return (
        torch.from_numpy(tags.indices.astype(np.int64)),
        torch.from_numpy(tags.indptr[:-1].astype(np.int64)),
        torch.from_numpy(tags.data.astype(np.float32)),
    )


class _Trainer:
    def __init__(self, data: TwoTowerInputs, cfg: TrainConfig) -> None:
        self.data, self.cfg = data, cfg
        n_vocab = int(data.vocab.max(initial=0))
        self.net = TwoTowerNet(
            n_vocab, data.tags.shape[1], data.numeric.shape[1], cfg.factors, cfg.hidden
        )
        self.bag = _bag(data.tags)
        self.numeric = torch.from_numpy(np.ascontiguousarray(data.numeric, dtype=np.float32))
        self.vocab = torch.from_numpy(data.vocab.astype(np.int64))
        n_art = data.levels.shape[1]
        self.in_cat = np.zeros(n_art, bool)
        self.in_cat[data.catalogue] = True
        self.cat_pos = np.full(n_art, -1, np.int64)
        self.cat_pos[data.catalogue] = np.arange(data.catalogue.size)
        self.log_q = torch.from_numpy(data.log_q.astype(np.float32))
        self.rng = np.random.default_rng(cfg.random_state + 7)
        self.opt = torch.optim.AdamW(
            self.net.parameters(), lr=cfg.learning_rate, weight_decay=cfg.l2
        )

    def _content(self, artists: np.ndarray) -> torch.Tensor:
        """Tag bag + numeric features of ``artists`` only (a step touches a few thousand)."""
        return self.net.content(_bag(self.data.tags[artists]), self.numeric[artists])

    def _user_vectors(self, d: Draw, need: np.ndarray, content: torch.Tensor) -> torch.Tensor:
        """User vectors of a draw; ``content`` holds the rows of the sorted artists ``need``."""
        rev = torch.from_numpy(np.searchsorted(need, d.revealed))
        inputs = self.net.id_in(self.vocab[torch.from_numpy(d.revealed)]) + content[rev]
        return self.net.user(inputs, torch.from_numpy(d.revealed_levels), torch.from_numpy(d.mask))

    def step(self, d: Draw) -> float:
        """One Adam step of in-batch sampled softmax with the logQ correction; returns the loss."""
        if d.pair_user.size == 0:
            return float("nan")
        self.net.train()
        # candidates: every target of the batch for every pair, duplicates kept (the logQ
        # correction assumes draws with replacement, Yi et al. 2019), plus ``uniform_negatives``
        # artists drawn uniformly from the catalogue (mixed negative sampling, Yang et al. 2020:
        # the tail rarely shows up among the targets). Each column's logit is corrected by the
        # log of its artist's expected count among the columns.
        n_pairs, n_uni = d.pair_artist.size, self.cfg.uniform_negatives
        catalogue = self.data.catalogue
        uniform = catalogue[self.rng.integers(0, catalogue.size, n_uni)]
        cand, cols = np.unique(np.concatenate([d.pair_artist, uniform]), return_inverse=True)
        need = np.union1d(d.revealed[d.mask], cand)
        content = self._content(need)
        users = self._user_vectors(d, need, content)
        rows = torch.from_numpy(np.searchsorted(need, cand))
        items = self.net.items(content[rows], self.vocab[torch.from_numpy(cand)])
        items = items[torch.from_numpy(cols)]
        logits = users[torch.from_numpy(d.pair_user)] @ items[:, :-1].T + items[:, -1]
        q = np.exp(self.data.log_q[self.cat_pos[cand]])  # an artist's share of target draws
        log_count = np.log(n_pairs * q + n_uni / catalogue.size).astype(np.float32)
        logits = logits - torch.from_numpy(log_count[cols])
        # remove accidental hits: the user's own artists (other than this pair's column) are
        # no negatives, including other users' draws of the same target artist
        profile = self.data.levels[d.users][:, cand].toarray() > 0
        hit = profile[d.pair_user][:, cols]
        target = np.arange(n_pairs)
        hit[target, target] = False
        logits = logits.masked_fill(torch.from_numpy(hit), float("-inf"))
        loss = nn.functional.cross_entropy(logits, torch.from_numpy(target.astype(np.int64)))
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        if self.cfg.clip_norm > 0:
            nn.utils.clip_grad_norm_(self.net.parameters(), self.cfg.clip_norm)
        self.opt.step()
        return float(loss.detach())

    def evaluate(self, d: Draw) -> tuple[float, float]:
        """(mean NLL of the targets under the full softmax over the catalogue minus the revealed
        artists, NDCG@10 of the top-10 of that ranking)."""
        if d.pair_user.size == 0:
            return float("nan"), float("nan")
        self.net.eval()
        with torch.no_grad():
            need = np.union1d(d.revealed[d.mask], self.data.catalogue)
            content = self._content(need)
            users = self._user_vectors(d, need, content)
            cat = torch.from_numpy(np.searchsorted(need, self.data.catalogue))
            items = self.net.items(content[cat], self.vocab[torch.from_numpy(self.data.catalogue)])
            logits = (users @ items[:, :-1].T + items[:, -1]).numpy().astype(np.float64)
        rev_pos = self.cat_pos[d.revealed]
        rr, cc = np.nonzero(d.mask & (rev_pos >= 0))
        logits[rr, rev_pos[rr, cc]] = -np.inf
        mx = logits.max(axis=1, keepdims=True)
        lse = mx[:, 0] + np.log(np.exp(logits - mx).sum(axis=1))
        tpos = self.cat_pos[d.pair_artist]
        nll = float(np.mean(lse[d.pair_user] - logits[d.pair_user, tpos]))
        return nll, _ndcg10(logits, d.pair_user, tpos)

    def export(self) -> dict[str, np.ndarray]:
        self.net.eval()
        return self.net.export(self.bag, self.numeric, self.vocab)


def _ndcg10(logits: np.ndarray, pair_user: np.ndarray, target: np.ndarray) -> float:
    """Mean binary NDCG@10 of each row's top-10 against its targets (rows without one skipped)."""
    n_rows, n = logits.shape
    k = min(10, n)
    top = np.argpartition(-logits, k - 1, axis=1)[:, :k]
    top = np.take_along_axis(top, np.argsort(-np.take_along_axis(logits, top, 1), 1), 1)
    rel = np.zeros((n_rows, n), bool)
    rel[pair_user, target] = True
    gains = np.take_along_axis(rel, top, 1)
    disc = 1.0 / np.log2(np.arange(2, k + 2))
    n_rel = np.bincount(pair_user, minlength=n_rows)
    idcg = np.concatenate([[1.0], np.cumsum(disc)])[np.minimum(n_rel, k)]
    has = n_rel > 0
    return float(((gains * disc).sum(1)[has] / idcg[has]).mean())


def train(
    data: TwoTowerInputs,
    cfg: TrainConfig,
    progress: Callable[[int, dict[str, float]], None] | None = None,
) -> tuple[dict[str, np.ndarray], np.ndarray, int]:
    """Train on ``data``; returns (numpy serving arrays, history (epochs, HISTORY_COLUMNS), best
    epoch). Early stopping watches NDCG@10 on a validation carve-out of ``validation_fraction``
    of the training users (never trained on) and restores the best epoch's weights."""
    rng = np.random.default_rng(cfg.random_state)
    trainer = _Trainer(data, cfg)
    n_u = np.diff(data.levels.indptr)
    usable = np.flatnonzero(n_u >= 2)
    usable = usable[np.isin(usable, np.flatnonzero(_has_target(data.levels, trainer.in_cat)))]
    if usable.size < 2:
        raise ValueError(
            f"two-tower needs at least two users with two or more artists, one of them listened "
            f"to by >= min_listeners users; this data set has {usable.size} (catalogue of "
            f"{data.catalogue.size} artists): lower min_listeners or add listening data"
        )
    perm = rng.permutation(usable)
    n_val = int(round(cfg.validation_fraction * perm.size))
    n_val = min(max(n_val, 1 if cfg.validation_fraction > 0 else 0), max(perm.size - 1, 0))
    valid, fit_users = np.sort(perm[:n_val]), np.sort(perm[n_val:])
    seed = int(rng.integers(2**31))
    valid_draw = fixed_draws(data.levels, valid, trainer.in_cat, cfg.new_user_share, seed)
    monitor = np.sort(
        rng.choice(fit_users, size=min(fit_users.size, max(n_val, 50)), replace=False)
    )
    train_draw = fixed_draws(data.levels, monitor, trainer.in_cat, cfg.new_user_share, seed + 1)
    stopper = EarlyStopping(cfg.patience)
    history = []
    # on small data sets, smaller batches: an epoch is at least MIN_STEPS steps, so that early
    # stopping's patience (in epochs) is a real amount of training
    batch = max(1, min(cfg.batch_size, -(-fit_users.size // MIN_STEPS)))
    for epoch in range(1, cfg.iterations + 1):
        order = rng.permutation(fit_users)
        losses = []
        for s in range(0, order.size, batch):
            d = draw(
                data.levels,
                order[s : s + batch],
                rng,
                trainer.in_cat,
                cfg.positives,
                cfg.new_user_share,
            )
            losses.append(trainer.step(d))
        train_loss = float(np.nanmean(losses)) if losses else float("nan")
        if not np.isfinite(train_loss):
            raise FloatingPointError(
                f"two-tower training diverged at epoch {epoch} (loss {train_loss})"
            )
        train_nll, _ = trainer.evaluate(train_draw)
        valid_nll, valid_ndcg = trainer.evaluate(valid_draw) if valid.size else (np.nan, np.nan)
        row = {
            "epoch": epoch,
            "train_loss": train_loss,
            "train_nll": train_nll,
            "valid_nll": valid_nll,
            "valid_ndcg": valid_ndcg,
        }
        history.append([row[c] for c in HISTORY_COLUMNS])
        if progress is not None:
            progress(epoch, row)
        score = valid_ndcg if valid.size else -train_nll
        if stopper.step(score, epoch, trainer.net):
            break
    stopper.restore(trainer.net)
    return trainer.export(), np.asarray(history, dtype=np.float32), stopper.best_epoch


def _has_target(levels: sp.csr_matrix, in_catalogue: np.ndarray) -> np.ndarray:
    """Users with at least one catalogue artist (something to predict)."""
    owner = np.repeat(np.arange(levels.shape[0]), np.diff(levels.indptr))
    hits = np.bincount(owner, weights=in_catalogue[levels.indices], minlength=levels.shape[0])
    return hits > 0
