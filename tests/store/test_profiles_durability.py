"""Crash durability: a writer process is SIGKILLed mid-stream; every acknowledged write survives.

Runs against both backends: for SQLite the killed process is the database too (WAL recovery on
reopen); for PostgreSQL a killed client must lose no acknowledged write and leave no half
transaction behind (the server rolls the open one back).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from artistrec.store.profiles import open_profile_store

#: Creates profiles and replaces the previous one in a tight loop; after each COMMIT it prints
#: one JSON line (the acknowledgement). Ratings are a pure function of the sequence number.
WRITER = r"""
import json, sys
from artistrec.store.profiles import open_profile_store
store = open_profile_store(sys.argv[1])
seq = 0
prev = None
while True:
    seq += 1
    ratings = {seq * 10 + j: (seq + j) % 6 for j in range(seq % 7)}
    if prev is not None and seq % 3 == 0:
        store.replace(prev[0], prev[1], ratings, f"r{seq}")
        print(json.dumps({"op": "replace", "id": prev[0], "seq": seq}), flush=True)
    else:
        p, token = store.create(ratings, f"c{seq}")
        prev = (p.id, token)
        print(json.dumps({"op": "create", "id": p.id, "seq": seq}), flush=True)
"""


def _ratings(seq: int) -> dict[int, int]:
    return {seq * 10 + j: (seq + j) % 6 for j in range(seq % 7)}


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
@pytest.mark.parametrize("round_", range(2))
def test_sigkill_keeps_acknowledged_writes(store_target: str, round_: int) -> None:
    db = store_target
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    acked: list[dict] = []
    target = 40 + 37 * round_  # kill at different points of the stream
    deadline = time.monotonic() + 60
    try:
        assert proc.stdout is not None
        while len(acked) < target and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            acked.append(json.loads(line))
        os.kill(proc.pid, signal.SIGKILL)
        # acknowledgements already in the pipe were written before the kill, so they count too
        rest, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    acked += [json.loads(x) for x in rest.splitlines() if x.strip()]
    assert len(acked) >= target, f"writer died early: {err[-2000:]}"
    assert proc.returncode == -signal.SIGKILL

    store = open_profile_store(db)  # restart: opens, recovers the WAL, migrations are a no-op
    try:
        assert store.integrity_ok()
        # expected state per profile from the acknowledged operations; the operation after the
        # last acknowledgement may or may not have committed before the kill
        last: dict[str, int] = {}
        writes: dict[str, int] = {}
        for a in acked:
            last[a["id"]] = a["seq"]
            writes[a["id"]] = writes.get(a["id"], 0) + 1
        final_seq = acked[-1]["seq"]
        for pid, seq in last.items():
            got = store.get(pid)
            # (ratings, version) after the last acknowledged write, or after the unacknowledged
            # one in flight (a replace of the last profile)
            allowed = [(_ratings(seq), writes[pid])]
            if pid == acked[-1]["id"]:
                allowed.append((_ratings(final_seq + 1), writes[pid] + 1))
            assert (got.ratings, got.version) in allowed, (pid, seq, got)
        creates = {a["id"] for a in acked if a["op"] == "create"}
        assert store.count() in (len(creates), len(creates) + 1)
    finally:
        store.close()
