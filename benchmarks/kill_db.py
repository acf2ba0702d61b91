"""Crash-durability soak of the SQLite profile store: SIGKILL a writer again and again.

Each round starts a writer process that creates profiles and replaces the previous one in a
tight loop, printing one line after every COMMIT (the acknowledgement). After a random number
of acknowledgements (fixed seed) the writer is SIGKILLed; the database is then reopened and
checked: ``PRAGMA integrity_check`` is ok and every acknowledged write is present with exactly
the acknowledged ratings. All rounds write to the same file, so recovery is exercised on a
growing database. Bounded by ``--rounds`` and ``--seconds``.

    python benchmarks/kill_db.py --rounds 20
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
from pathlib import Path

import numpy as np

from artistrec.store.profiles import ProfileStore

WRITER = r"""
import json, sys
from artistrec.store.profiles import ProfileStore
store = ProfileStore(sys.argv[1])
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


def one_round(db: Path, base: int, kill_after: int) -> dict:
    """Run the writer until ``kill_after`` acks, SIGKILL it, reopen and verify."""
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db), str(base)],
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
    store = ProfileStore(db)
    reopen_s = time.perf_counter() - t1
    try:
        ok = store.integrity_ok()
        last: dict[str, int] = {}
        for a in acked:
            last[a["id"]] = a["seq"]
        final = acked[-1]
        lost = 0
        for pid, seq in last.items():
            got = store.get(pid).ratings
            allowed = [expected(seq)]
            if pid == final["id"]:
                allowed.append(expected(final["seq"] + 1))
            lost += got not in allowed
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
    ap.add_argument("--db", type=Path, help="Database file (default: a temporary one).")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or Path(tmp) / "profiles.sqlite3"
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
