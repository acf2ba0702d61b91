"""Smoke check of the HTTP API on a large artifact: start ``artistrec serve``, time its start-up
(until ``/ready`` answers 200), send new-user ``POST /recommendations`` requests and report.

    python benchmarks/serve_smoke.py --model /path/360k-hybrid.npz --data-dir /path/syn360k
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence

import numpy as np


def _request(url: str, body: dict | None = None, timeout: float = 60.0) -> tuple[int, bytes]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0, b""


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--requests", type=int, default=50)
    ap.add_argument("--timeout", type=float, default=900.0, help="start-up timeout, seconds")
    args = ap.parse_args(argv)

    import artistrec

    ds = artistrec.load_dataset(args.data_dir)
    rng = np.random.default_rng(0)
    popular = np.argsort(-np.diff(ds.interactions.tocsc().indptr))[:2000]
    base = f"http://127.0.0.1:{args.port}"
    cmd = ["artistrec", "serve", "--model", args.model, "--data-dir", args.data_dir]
    cmd += ["--port", str(args.port)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, start_new_session=True)
    try:
        while True:
            status, _ = _request(f"{base}/ready", timeout=5.0)
            if status == 200:
                break
            if proc.poll() is not None or time.perf_counter() - t0 > args.timeout:
                print(f"server did not become ready (exit {proc.poll()})")
                return 1
            time.sleep(0.5)
        startup = time.perf_counter() - t0
        print(f"start-up until /ready: {startup:.1f} s")
        times, shown = [], None
        for i in range(args.requests):
            picks = rng.choice(popular, size=10, replace=False)
            ratings = [
                {"artist_id": int(ds.artist_ids[a]), "level": int(rng.integers(1, 6))}
                for a in picks
            ]
            t1 = time.perf_counter()
            status, body = _request(f"{base}/recommendations", {"ratings": ratings, "k": 10})
            times.append(time.perf_counter() - t1)
            if status != 200:
                print(f"request {i}: HTTP {status}: {body[:300]!r}")
                return 1
            shown = shown or json.loads(body)
        ms = np.array(times) * 1e3
        print(
            f"{args.requests} new-user POST /recommendations: HTTP 200, p50 {np.median(ms):.1f} ms,"
        )
        print(f"p99 {np.percentile(ms, 99):.1f} ms (first request {ms[0]:.1f} ms)")
        print("first answer:", json.dumps(shown)[:400])
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)
        rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024**2
        print(f"server peak RSS: {rss:.2f} GB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
