"""No request holds up the others: while connections send unknown artist names (whose "did you
mean" suggestions search the whole catalogue), a real ``artistrec serve`` process still answers
``/health`` promptly. Measured against the same server idle, with real connections, on the real
data (17,632 names); the strict number (p50 < 20 ms) is measured by benchmarks/api_event_loop.py."""

from __future__ import annotations

import json
import os
import statistics
import threading
import time
from pathlib import Path

import pytest
from api_live import connect, http

from artistrec import create_model
from artistrec.data import Dataset

pytestmark = pytest.mark.integration

#: Misspelt names (each answered with suggestions) sent in turn by the loading connections.
UNKNOWN = ["Metalicaa", "Britny Spers", "Radiohed", "The Beatlez", "Coldplai", "Madona", "Xyzzy"]


def health_p50(url: str, n: int = 40) -> float:
    """Median seconds of ``n`` sequential ``GET /health`` on one keep-alive connection."""
    times = []
    with connect(url) as sock:
        for _ in range(n):
            t0 = time.perf_counter()
            status, _ = http(sock, "GET", "/health")
            times.append(time.perf_counter() - t0)
            assert status == 200
            time.sleep(0.01)
    return statistics.median(times)


def test_unknown_names_do_not_block_the_event_loop(
    real_ds: Dataset, tmp_path: Path, live_server
) -> None:
    model = tmp_path / "pop.npz"
    create_model("popularity").fit(real_ds).save(model)
    db = str(tmp_path / "p.sqlite3")
    data = os.environ["LASTFM_DATA_DIR"]
    server = live_server("--model", str(model), "--db", db, "--data-dir", data)
    idle = health_p50(server.url)

    stop = threading.Event()
    answered: list[int] = []

    def send_unknown_names(n: int) -> None:
        with connect(server.url, timeout=60) as sock:
            i = n
            while not stop.is_set():
                body = {"ratings": [{"name": UNKNOWN[i % len(UNKNOWN)], "level": 4}]}
                status, raw = http(sock, "POST", "/recommendations", json.dumps(body).encode())
                assert status == 404 and json.loads(raw)["error"] == "unknown_artist", raw
                answered.append(status)
                i += 1

    threads = [threading.Thread(target=send_unknown_names, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    try:
        time.sleep(0.5)  # the four connections are busy
        busy = health_p50(server.url)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=120)
    assert len(answered) >= 4, "the loading connections got no answers"
    # before the fix: p50 > 1 s (each name ran 40-226 ms of difflib inline on the event loop).
    # Generous, as the machine is shared: the strict 20 ms is the benchmark's
    assert busy < max(10 * idle, 0.1), (idle, busy, len(answered))
