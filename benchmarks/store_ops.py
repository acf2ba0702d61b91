"""Latency of profile-store operations per backend, and lost-update-free throughput under
contention.

For each backend (a temporary SQLite file; a throwaway PostgreSQL server from
``tests/store/pg_cluster.py`` unless ``--pg-url`` names one) it times, in one process:
``get``, ``create``, ``replace`` with ``if_version``, ``update`` of one rating and the
``check_writable`` probe (median and p99 over ``--n`` calls, profiles of 50 ratings), then
``--threads`` threads doing GET + PUT(if_version) on ONE profile for ``--seconds``: successful
writes/s, conflicts/s, and whether the final version equals 1 + the successful writes.

    python benchmarks/store_ops.py --n 500 --threads 8 --seconds 5
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import numpy as np

from artistrec.store.profiles import ProfileStore, VersionConflictError, open_profile_store


def timed(fn: Callable[[int], object], n: int) -> dict[str, float]:
    """Median and p99 in milliseconds of ``fn(i)`` for i in 0..n-1 (after 10 warm-up calls)."""
    for i in range(10):
        fn(i)
    out = np.empty(n)
    for i in range(n):
        t0 = time.perf_counter()
        fn(i)
        out[i] = time.perf_counter() - t0
    return {
        "median_ms": round(1000 * float(np.median(out)), 3),
        "p99_ms": round(1000 * float(np.quantile(out, 0.99)), 3),
    }


def contention(store: ProfileStore, threads: int, seconds: float) -> dict[str, object]:
    p, token = store.create({0: 1})
    ok = [0] * threads
    conflicts = [0] * threads
    stop = time.monotonic() + seconds

    def work(k: int) -> None:
        while time.monotonic() < stop:
            cur = store.get(p.id)
            ratings = dict(cur.ratings)
            ratings[len(ratings)] = 1 + len(ratings) % 5
            if len(ratings) > 900:
                ratings = {0: 1 + cur.version % 5}
            try:
                store.replace(p.id, token, ratings, if_version=cur.version)
                ok[k] += 1
            except VersionConflictError:
                conflicts[k] += 1

    ts = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    final = store.get(p.id).version
    return {
        "threads": threads,
        "writes_per_s": round(sum(ok) / seconds, 1),
        "conflicts_per_s": round(sum(conflicts) / seconds, 1),
        "final_version_is_1_plus_writes": final == 1 + sum(ok),
    }


def bench(target: str, n: int, threads: int, seconds: float) -> dict[str, object]:
    store = open_profile_store(target)
    try:
        ratings = {j: 1 + j % 5 for j in range(50)}
        p, token = store.create(ratings)
        version = [p.version]

        def replace(i: int) -> None:
            new = {j + i % 2: 1 + (j + i) % 5 for j in range(50)}
            version[0] = store.replace(p.id, token, new, if_version=version[0]).version

        result: dict[str, object] = {"backend": store.backend}
        result["get"] = timed(lambda i: store.get(p.id), n)
        result["create"] = timed(lambda i: store.create(ratings), n)
        result["replace_if_version"] = timed(replace, n)
        result["update_one"] = timed(
            lambda i: store.update(p.id, token, set_ratings={1000 + i % 7: 1 + i % 5}), n
        )
        result["check_writable"] = timed(lambda i: store.check_writable(), n)
        result["contention"] = contention(store, threads, seconds)
        return result
    finally:
        store.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--n", type=int, default=500, help="Calls per timed operation.")
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=5.0, help="Duration of the contention run.")
    ap.add_argument("--pg-url", help="Use this PostgreSQL database instead of a throwaway server.")
    ap.add_argument("--skip-postgres", action="store_true")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        targets = [str(Path(tmp) / "profiles.sqlite3")]
        if args.pg_url:
            targets.append(args.pg_url)
        elif not args.skip_postgres:
            sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "store"))
            import pg_cluster

            reason = pg_cluster.why_unavailable()
            if reason:
                raise SystemExit(f"cannot start a PostgreSQL server: {reason} (--skip-postgres)")
            cluster = pg_cluster.Cluster()
            stack.callback(cluster.destroy)
            targets.append(cluster.new_database("bench"))
        for target in targets:
            print(json.dumps(bench(target, args.n, args.threads, args.seconds)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
