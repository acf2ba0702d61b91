"""Fit time (wall and CPU) on the full data and single-request latency (p50/p99) of the
``pipeline`` (blend / LightGBM ranker) and the ``hybrid``.

    OMP_NUM_THREADS=1 nice python benchmarks/pipeline_cost.py --requests 300 --out benchmarks/results-pipeline

A new-user request is ``recommend_new_user`` with 3-10 random artists of a random training user
(their real levels), k = 10; a known-user request is ``recommend(user, k=10)``. In-process,
``time.perf_counter``; BLAS on one thread as the API's serving processes run it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

import artistrec
from artistrec.data.scale import to_levels
from artistrec.models.linalg import single_blas_thread

VARIANTS = {
    "hybrid": ("hybrid", {}),
    "pipeline": ("pipeline", {}),
    "pipeline-lgbm": ("pipeline", {"ranker": "lightgbm"}),
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=300)
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results-pipeline"))
    args = ap.parse_args(argv)
    ds = artistrec.load_dataset()
    x = ds.interactions
    rng = np.random.default_rng(0)
    users = rng.choice(np.flatnonzero(np.diff(x.indptr) >= 10), size=args.requests)
    requests = []
    for u in users:
        arts = x.indices[x.indptr[u] : x.indptr[u + 1]]
        lev = to_levels(x.data[x.indptr[u] : x.indptr[u + 1]]).astype(int)
        pick = rng.permutation(arts.size)[: int(rng.integers(3, 11))]
        requests.append({int(arts[i]): int(lev[i]) for i in pick})
    rows = []
    for label in args.variants.split(","):
        name, params = VARIANTS[label]
        model = artistrec.create_model(name, **params)
        w0, c0 = time.perf_counter(), time.process_time()
        model.fit(ds)
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        new_ms, known_ms = [], []
        with single_blas_thread():
            for r in requests[:20]:  # warm-up
                model.recommend_new_user(r, k=10)
            for r, u in zip(requests, users, strict=True):
                t = time.perf_counter()
                model.recommend_new_user(r, k=10)
                new_ms.append((time.perf_counter() - t) * 1e3)
                t = time.perf_counter()
                model.recommend(int(u), k=10)
                known_ms.append((time.perf_counter() - t) * 1e3)
        row = {
            "model": label,
            "fit_wall_s": round(wall, 2),
            "fit_cpu_s": round(cpu, 2),
            "new_p50_ms": round(float(np.percentile(new_ms, 50)), 3),
            "new_p99_ms": round(float(np.percentile(new_ms, 99)), 3),
            "known_p50_ms": round(float(np.percentile(known_ms, 50)), 3),
            "known_p99_ms": round(float(np.percentile(known_ms, 99)), 3),
        }
        print(json.dumps(row), flush=True)
        rows.append(row)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "cost.json").write_text(json.dumps(rows, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
