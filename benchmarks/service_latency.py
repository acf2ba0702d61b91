"""In-process cost of one service request (what the CLI, API and web app pay per answer).

Times :meth:`RecommenderService.recommend_for_ratings` (fold-in, exclusion, novelty re-ranking,
reasons, tags, names) and :meth:`RecommenderService.similar` on the loaded data set, one BLAS
thread as the server runs them. Each request rates ``--ratings`` artists drawn (seeded) from the
500 most listened, levels 1..5; ``similar`` walks the 30 most listened artists. Models come from
the service's artifact cache (trained and cached on first use). Prints the median and p99 per
(model, kind) over ``--requests`` requests after a short warm-up; compare numbers measured in
one run, on an idle machine.

    OMP_NUM_THREADS=1 python benchmarks/service_latency.py --models default,popularity
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence

import numpy as np

import artistrec
from artistrec.models.linalg import single_blas_thread
from artistrec.service import RecommenderService

#: Ratings are drawn from this many most listened artists (names people actually type).
POPULAR_POOL = 500
#: ``similar`` queries walk this many most listened artists.
SIMILAR_ARTISTS = 30
#: Untimed calls before timing (first-call caches: tags, BLAS controller).
WARM_UP = 10


def _time(calls: list[Callable[[], object]]) -> tuple[float, float]:
    for call in calls[:WARM_UP]:
        call()
    ms = []
    for call in calls:
        t0 = time.perf_counter()
        call()
        ms.append((time.perf_counter() - t0) * 1000)
    return float(np.median(ms)), float(np.percentile(ms, 99))


def measure(
    svc: RecommenderService, model: str, requests: int, n_ratings: int, seed: int = 0
) -> list[tuple[str, float, float]]:
    """(kind, median ms, p99 ms) of each request kind for ``model``."""
    ds = svc.dataset
    popular = ds.artist_ids[np.argsort(-ds.artist_listeners(), kind="stable")]
    rng = np.random.default_rng(seed)
    profiles = [
        {
            int(a): int(lv)
            for a, lv in zip(
                rng.choice(popular[:POPULAR_POOL], n_ratings, replace=False),
                rng.integers(1, 6, n_ratings),
                strict=True,
            )
        }
        for _ in range(requests)
    ]
    svc.model(model)
    kinds: dict[str, list[Callable[[], object]]] = {
        "recommend": [
            lambda r=r: svc.recommend_for_ratings(r, k=10, model=model) for r in profiles
        ],
        "recommend novelty=0.5": [
            lambda r=r: svc.recommend_for_ratings(r, k=10, model=model, novelty=0.5)
            for r in profiles
        ],
        "popular (no ratings)": [
            lambda: svc.recommend_for_ratings({}, k=10, model=model) for _ in profiles
        ],
        "similar": [
            lambda a=int(a): svc.similar(a, k=10, model=model)
            for a in np.resize(popular[:SIMILAR_ARTISTS], requests)
        ],
    }
    with single_blas_thread():
        return [(kind, *_time(calls)) for kind, calls in kinds.items()]


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default="default", help="comma-separated model names")
    ap.add_argument("--requests", type=int, default=300)
    ap.add_argument("--ratings", type=int, default=15, help="rated artists per request")
    ap.add_argument("--data-dir", default=None)
    args = ap.parse_args(argv)
    svc = RecommenderService(artistrec.load_dataset(args.data_dir))
    print("model\tkind\tmedian_ms\tp99_ms")
    for name in [m.strip() for m in args.models.split(",") if m.strip()]:
        for kind, med, p99 in measure(svc, name, args.requests, args.ratings):
            print(f"{name}\t{kind}\t{med:.3f}\t{p99:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
