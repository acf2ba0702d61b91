"""Does scaling an export's play counts before they become levels help new-user recommendations?

A listening-history export covers its own period (a year of Spotify, a few years of Last.fm),
while HetRec's counts are all-time, so the same person's counts are smaller in an export. This
simulates shorter periods on the new-user protocol and scores recommendations from the thinned
history with and without scaling:

1. ``new_user_kfold`` (artistrec.evaluation) splits users into folds; the default model is
   fitted on each fold's training users (``dataset.with_interactions(train)``).
2. Every held-out user's play counts are thinned to a fraction ``f`` (each play kept with
   probability f: binomial sampling, seeded); artists left with no play drop out, as they would
   from a short export.
3. A random half of the thinned artists (at least one) is revealed as the history's ratings;
   the test set is every other artist of the user's full, unthinned list.
4. The revealed artists become levels (``to_levels``) from
   - ``none``: the thinned counts as they are;
   - ``volume``: the thinned counts times (median total plays of a training user / the user's
     thinned total), which needs no knowledge of the period;
   - ``oracle``: the thinned counts / f, the best any period-based scaling could do.
5. ``recommend_new_user`` of the public model API gives the top 10 (revealed artists removed);
   NDCG@10 and recall@10 (artistrec.evaluation.metrics) are compared per user, paired.

Usage::

    python benchmarks/history_scaling.py [--folds 3] [--fractions 0.05,0.2,0.5,1] [--out CSV]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from artistrec import create_model
from artistrec.data import load_dataset, to_levels
from artistrec.evaluation.metrics import user_metrics
from artistrec.evaluation.runner import recommend_new
from artistrec.evaluation.splits import new_user_kfold
from artistrec.evaluation.stats import paired_interval
from artistrec.models.registry import DEFAULT_MODEL

VARIANTS = ("none", "volume", "oracle")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--folds", type=int, default=3, help="folds (of 10) to run")
    ap.add_argument("--fractions", default="0.05,0.2,0.5,1")
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--min-artists", type=int, default=10, help="held-out users need this many")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=None, help="per-user rows as CSV")
    args = ap.parse_args()
    if not os.environ.get("LASTFM_DATA_DIR"):
        raise SystemExit("set LASTFM_DATA_DIR to the HetRec data")
    fractions = [float(x) for x in args.fractions.split(",")]
    ds = load_dataset()
    m = ds.interactions.tocsr()
    folds = new_user_kfold(m, n_folds=10, seed=args.seed, n_revealed=(1,))[: args.folds]
    rng = np.random.default_rng(args.seed)
    rows = []
    for fold in folds:
        t0 = time.perf_counter()
        model = create_model(DEFAULT_MODEL).fit(ds.with_interactions(fold.train))
        fit_s = time.perf_counter() - t0
        totals = np.asarray(fold.train.sum(axis=1)).ravel()
        ref_total = float(np.median(totals[totals > 0]))
        users = [u for u in fold.held_out if m.indptr[u + 1] - m.indptr[u] >= args.min_artists]
        print(f"fold {fold.fold}: fit {fit_s:.1f} s, {len(users)} users, ref total {ref_total:.0f}")
        for u in users:
            lo, hi = m.indptr[u], m.indptr[u + 1]
            items = m.indices[lo:hi].astype(np.int64)
            counts = m.data[lo:hi].astype(np.int64)
            for f in fractions:
                thin = rng.binomial(counts, f) if f < 1 else counts.copy()
                kept = np.flatnonzero(thin > 0)
                if kept.size < 2:
                    rows.append({"fold": fold.fold, "user": u, "f": f, "variant": "skipped"})
                    continue
                shown = rng.permutation(kept)[: max(1, kept.size // 2)]
                test_items = np.setdiff1d(items, items[shown])
                test = np.zeros((1, m.shape[1]), dtype=np.float32)
                test[0, test_items] = 1.0
                c = thin[shown].astype(np.float64)
                scaled = {
                    "none": c,
                    "volume": c * ref_total / float(thin.sum()),
                    "oracle": c / f,
                }
                for variant in VARIANTS:
                    levels = to_levels(scaled[variant])
                    ratings = dict(zip(items[shown].tolist(), levels.tolist(), strict=True))
                    recs = recommend_new(model, ratings, args.k)[None, :]
                    met = user_metrics(recs, sp.csr_matrix(test), args.k)
                    rows.append(
                        {
                            "fold": fold.fold,
                            "user": u,
                            "f": f,
                            "variant": variant,
                            "revealed": int(shown.size),
                            "mean_level": float(levels.mean()),
                            "ndcg": float(met["ndcg"][0]),
                            "recall": float(met["recall"][0]),
                        }
                    )
    df = pd.DataFrame(rows)
    if args.out:
        df.to_csv(args.out, index=False)
    scored = df[df["variant"] != "skipped"]
    skipped = df[df["variant"] == "skipped"].groupby("f").size()
    summary = scored.groupby(["f", "variant"]).agg(
        users=("user", "size"),
        revealed=("revealed", "mean"),
        mean_level=("mean_level", "mean"),
        ndcg=("ndcg", "mean"),
        recall=("recall", "mean"),
    )
    print(summary.round(4).to_string())
    print("users skipped (fewer than 2 artists left after thinning):", skipped.to_dict())
    wide = scored.pivot_table(index=["fold", "user", "f"], columns="variant", values="ndcg")
    for f in fractions:
        sub = wide.xs(f, level="f")
        for variant in ("volume", "oracle"):
            iv = paired_interval((sub[variant] - sub["none"]).to_numpy())
            print(
                f"f={f}: ndcg@{args.k} {variant} - none = {iv.mean:+.4f} "
                f"[{iv.low:+.4f}, {iv.high:+.4f}] (n={iv.n})"
            )


if __name__ == "__main__":
    main()
