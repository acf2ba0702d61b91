"""In-process latency of one new-user request (fold-in + top-k of the whole catalogue).

Fits each model once on the full data set (one BLAS thread, as served), then times
``--requests`` single ``recommend_new_user`` calls per repetition with
:func:`artistrec.evaluation.runner.fold_in_latency` (profiles: ``--ratings`` random artists, with
their levels, of random users), and prints the median and p99 of each repetition and the fit time.
Repetitions use different request seeds; run it on an idle machine and compare medians and p99s
measured in the same run.

    OMP_NUM_THREADS=1 python benchmarks/foldin_latency.py --models default --requests 2000 --repeats 3
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

import artistrec
from artistrec.evaluation.runner import fold_in_latency
from artistrec.models.linalg import single_blas_thread


def measure(
    dataset: artistrec.Dataset,
    model_name: str,
    requests: int,
    ratings: int,
    repeats: int,
    k: int = 10,
) -> list[dict[str, float]]:
    """One row per repetition: model, fit seconds, median and p99 ms, timed requests."""
    with single_blas_thread():
        t0 = time.perf_counter()
        model = artistrec.create_model(model_name).fit(dataset)
        fit_s = time.perf_counter() - t0
        rows = []
        for rep in range(repeats):
            med, p99, n = fold_in_latency(
                model, dataset.interactions, n_requests=requests, n_ratings=ratings, k=k, seed=rep
            )
            rows.append(
                {"model": model.name, "fit_s": fit_s, "median_ms": med, "p99_ms": p99, "n": n}
            )
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default="default", help="comma-separated model names")
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--ratings", type=int, default=10, help="rated artists per request")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--data-dir", default=None)
    args = ap.parse_args(argv)
    dataset = artistrec.load_dataset(args.data_dir)
    print("model\tfit_s\trepeat\tmedian_ms\tp99_ms\trequests")
    for name in [m.strip() for m in args.models.split(",") if m.strip()]:
        for i, r in enumerate(
            measure(dataset, name, args.requests, args.ratings, args.repeats, args.k)
        ):
            print(
                f"{r['model']}\t{r['fit_s']:.2f}\t{i}\t{r['median_ms']:.3f}\t{r['p99_ms']:.3f}\t{r['n']}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
