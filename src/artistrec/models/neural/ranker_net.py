"""Training :class:`~artistrec.models.neural.ranker.MLPRanker`'s network with PyTorch.

Imported only by ``MLPRanker.fit`` (it imports ``torch``). Batches are whole queries, padded to
the longest query of the batch, so the listwise and pairwise losses see each query's candidates
together.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from artistrec.models.neural.numpy_nn import layer_arrays
from artistrec.models.neural.ranker import ndcg_at
from artistrec.models.neural.torch_utils import EarlyStopping, linear_arrays, mlp, mlp_linears

#: Gradient-norm clip of every step.
CLIP_NORM = 5.0


def _padded(starts: np.ndarray, sizes: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """(len(queries), longest) row indices of the queries' candidates, -1 padded."""
    q_sizes = sizes[queries]
    width = int(q_sizes.max(initial=1))
    offs = np.arange(width)
    rows = starts[queries][:, None] + offs[None, :]
    return np.where(offs[None, :] < q_sizes[:, None], rows, -1)


def loss_fn(objective: str, scores: Any, labels: Any, mask: Any) -> Any:
    """The objective's loss for padded (queries, candidates) scores and labels."""
    if objective == "rmse":
        err = (scores - labels) ** 2
        return err[mask].mean()
    if objective == "listnet":
        target = torch.where(mask, labels, torch.zeros_like(labels))
        total = target.sum(dim=1, keepdim=True)
        has = total[:, 0] > 0
        if not bool(has.any()):
            return scores.sum() * 0.0
        logp = torch.log_softmax(scores.masked_fill(~mask, float("-inf")), dim=1)
        logp = torch.where(mask, logp, torch.zeros_like(logp))
        return -((target / total.clamp_min(1e-12)) * logp).sum(dim=1)[has].mean()
    # ranknet: every pair (i, j) of one query with label_i > label_j
    better = (labels[:, :, None] > labels[:, None, :]) & mask[:, :, None] & mask[:, None, :]
    if not bool(better.any()):
        return scores.sum() * 0.0
    diff = scores[:, :, None] - scores[:, None, :]
    return nn.functional.softplus(-diff[better]).mean()


def _predict(net: Any, Z: np.ndarray) -> np.ndarray:
    net.eval()
    with torch.no_grad():
        return net(torch.from_numpy(Z)).numpy()[:, 0]


def train(
    ranker: Any,
    Z: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    val: tuple[np.ndarray, np.ndarray, np.ndarray] | None,
) -> tuple[Any, np.ndarray]:
    """Train the ranker's network on standardised features ``Z``; returns (net, history)."""
    rng = np.random.default_rng(int(ranker.random_state))
    net = mlp(torch, [Z.shape[1], *[int(h) for h in ranker.hidden], 1])
    opt = torch.optim.AdamW(
        net.parameters(), lr=float(ranker.learning_rate), weight_decay=float(ranker.l2)
    )
    starts = np.concatenate([[0], np.cumsum(groups)[:-1]]).astype(np.int64)
    queries = np.arange(groups.size)
    if val is None and ranker.validation_fraction > 0 and groups.size >= 2:
        perm = rng.permutation(groups.size)
        n_val = min(max(1, int(round(ranker.validation_fraction * groups.size))), groups.size - 1)
        held, queries = np.sort(perm[:n_val]), np.sort(perm[n_val:])
        rows = np.concatenate([np.arange(starts[q], starts[q] + groups[q]) for q in held])
        val = (Z[rows], y[rows], groups[held])
    if val is not None and not np.any(val[1] > 0):
        val = None  # nothing to rank in the validation queries: train all iterations
    Zt, yt = torch.from_numpy(Z), torch.from_numpy(y)
    stopper = EarlyStopping(int(ranker.patience))
    history = []
    for epoch in range(1, int(ranker.iterations) + 1):
        net.train()
        order = rng.permutation(queries)
        losses = []
        for s in range(0, order.size, int(ranker.batch_size)):
            idx = _padded(starts, groups, order[s : s + int(ranker.batch_size)])
            mask = torch.from_numpy(idx >= 0)
            flat = torch.from_numpy(np.maximum(idx, 0))
            scores = net(Zt[flat.reshape(-1)]).reshape(idx.shape)
            loss = loss_fn(ranker.objective, scores, yt[flat], mask)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(net.parameters(), CLIP_NORM)
            opt.step()
            losses.append(float(loss.detach()))
        train_loss = float(np.mean(losses))
        if not np.isfinite(train_loss):
            raise FloatingPointError(f"MLPRanker training diverged at epoch {epoch}")
        valid_ndcg = ndcg_at(_predict(net, val[0]), val[1], val[2]) if val is not None else np.nan
        history.append([epoch, train_loss, valid_ndcg])
        if val is not None and stopper.step(valid_ndcg, epoch, net):
            break
    if val is not None:
        stopper.restore(net)
    net.eval()
    return net, np.asarray(history, dtype=np.float32)


def export(net: Any) -> dict[str, np.ndarray]:
    """The network's dense layers as numpy arrays (``W0, b0, ...``)."""
    return layer_arrays("", [linear_arrays(m) for m in mlp_linears(net)])
