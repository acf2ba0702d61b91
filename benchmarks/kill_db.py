"""Crash-durability soak of the profile store: SIGKILL a writer again and again.

Each round starts a writer process that creates profiles and replaces the previous one in a
tight loop, printing one line after every COMMIT (the acknowledgement). After a random number
of acknowledgements (fixed seed) the writer is SIGKILLed; the store is then reopened and
checked: the integrity check passes (SQLite: ``PRAGMA integrity_check``; PostgreSQL: no orphan
ratings) and every acknowledged write is present with exactly the acknowledged ratings and
version. All rounds write to the same database, so recovery is exercised on a growing one.
Bounded by ``--rounds`` and ``--seconds``.

For SQLite the killed process holds the database itself (WAL recovery on reopen); for
PostgreSQL it is a client whose open transaction the server must roll back.

    python benchmarks/kill_db.py --rounds 20                       # SQLite, a temporary file
    python benchmarks/kill_db.py --rounds 20 --postgres            # a throwaway local server
    python benchmarks/kill_db.py --db postgresql://user@host/db    # an existing database
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import numpy as np

from artistrec.store.profiles import open_profile_store

WRITER = r"""
import json, sys
from artistrec.store.profiles import open_profile_store
store = open_profile_store(sys.argv[1])
base = int(sys.argv[2])
seq, prev = 0, None
while True:
    seq += 1
    s = base + seq
    ratings = {s * 10 + j: (s + j) % 6 for j in range(s % 7)}
    if prev is not None and seq % 3 == 0:
        store.replace(prev[0], prev[1], ratings, None)
        print(json.dumps({"op": "replace", "id": prev[0], "seq": s}), flush=True)
    else:
        p, token = store.create(ratings)
        prev = (p.id, token)
        print(json.dumps({"op": "create", "id": p.id, "seq": s}), flush=True)
"""


def expected(seq: int) -> dict[int, int]:
    return {seq * 10 + j: (seq + j) % 6 for j in range(seq % 7)}


def one_round(db: str, base: int, kill_after: int) -> dict:
    """Run the writer until ``kill_after`` acks, SIGKILL it, reopen and verify."""
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, db, str(base)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    acked: list[dict] = []
    t0 = 0.0
    assert proc.stdout is not None
    while len(acked) < kill_after:
        line = proc.stdout.readline()
        if not line:
            break
        acked.append(json.loads(line))
        if len(acked) == 1:
            t0 = time.perf_counter()  # writes/s excludes interpreter start-up
    write_s = max(time.perf_counter() - t0, 1e-9)
    n_timed = max(len(acked) - 1, 0)
    os.kill(proc.pid, signal.SIGKILL)
    rest, err = proc.communicate(timeout=30)
    acked += [json.loads(x) for x in rest.splitlines() if x.strip()]
    if len(acked) < kill_after:
        raise SystemExit(f"writer died early: {err[-2000:]}")
    t1 = time.perf_counter()
    store = open_profile_store(db)
    reopen_s = time.perf_counter() - t1
    try:
        ok = store.integrity_ok()
        last: dict[str, int] = {}
        writes: dict[str, int] = {}
        for a in acked:
            last[a["id"]] = a["seq"]
            writes[a["id"]] = writes.get(a["id"], 0) + 1
        final = acked[-1]
        lost = 0
        for pid, seq in last.items():
            got = store.get(pid)
            allowed = [(expected(seq), writes[pid])]
            if pid == final["id"]:  # the write in flight may have committed
                allowed.append((expected(final["seq"] + 1), writes[pid] + 1))
            lost += (got.ratings, got.version) not in allowed
    finally:
        store.close()
    return {
        "acked": len(acked),
        "writes_per_s": round(n_timed / write_s, 1),
        "reopen_ms": round(reopen_s * 1000, 1),
        "lost": lost,
        "integrity_ok": ok,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=120.0, help="Stop starting rounds after this.")
    ap.add_argument(
        "--db", help="Database file or postgresql:// URL (default: a temporary SQLite file)."
    )
    ap.add_argument(
        "--postgres",
        action="store_true",
        help="Start a throwaway PostgreSQL server (tests/store/pg_cluster.py) and use it.",
    )
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        db = args.db or str(Path(tmp) / "profiles.sqlite3")
        if args.postgres:
            sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "store"))
            import pg_cluster

            reason = pg_cluster.why_unavailable()
            if reason:
                raise SystemExit(f"cannot start a PostgreSQL server: {reason}")
            cluster = pg_cluster.Cluster()
            stack.callback(cluster.destroy)
            db = cluster.new_database("killdb")
        results = []
        start = time.monotonic()
        for r in range(args.rounds):
            if time.monotonic() - start > args.seconds:
                break
            results.append(one_round(db, base=r * 1_000_000, kill_after=int(rng.integers(5, 400))))
            print(json.dumps({"round": r, **results[-1]}), flush=True)
        total = sum(x["acked"] for x in results)
        lost = sum(x["lost"] for x in results)
        bad = sum(not x["integrity_ok"] for x in results)
        print(
            f"{len(results)} rounds, {total} acknowledged writes, {lost} lost, "
            f"{bad} failed integrity checks, median {np.median([x['writes_per_s'] for x in results]):.0f} "
            f"writes/s, median reopen {np.median([x['reopen_ms'] for x in results]):.1f} ms"
        )
    return 0 if lost == 0 and bad == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
