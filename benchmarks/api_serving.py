"""Serving behaviour of ``artistrec serve`` on the real data, measured over real connections:

* ``event-loop``: ``GET /health`` latency (p50, p99) on an idle server and while N connections
  keep sending misspelt artist names (each answered with "did you mean" suggestions); the
  target is p50 < 20 ms while 4 connections do so (issue 11, item 1).
* ``workers``: ``--workers 2``: resident memory (VmRSS) of the supervising process and of each
  worker, and how long after ``POST /admin/reload`` (asked of one worker) every fresh
  connection reports the new model version.

    python benchmarks/api_serving.py event-loop --connections 4 --seconds 20
    python benchmarks/api_serving.py workers

Loopback only; the servers are started and stopped by the script. The machine is shared and
noisy: run each a few times and report medians.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "api"))
from api_live import connect, free_port, http  # noqa: E402

UNKNOWN = ["Metalicaa", "Britny Spers", "Radiohed", "The Beatlez", "Coldplai", "Madona", "Xyzzy"]


def serve(args: list[str], env: dict[str, str] | None = None) -> tuple[subprocess.Popen, str]:
    port = free_port()
    cmd = [sys.executable, "-m", "artistrec.cli", "serve", "--port", str(port), *args]
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, **(env or {})},
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {proc.stderr.read().decode()[-2000:]}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit("server did not start")


def stop(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


def health_latencies(url: str, seconds: float) -> list[float]:
    out = []
    with connect(url) as sock:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            t0 = time.perf_counter()
            status, _ = http(sock, "GET", "/health")
            out.append(time.perf_counter() - t0)
            assert status == 200
            time.sleep(0.01)
    return out


def summary(lat: list[float]) -> dict:
    ms = np.asarray(lat) * 1000
    return {
        "n": int(ms.size),
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p99_ms": round(float(np.percentile(ms, 99)), 2),
    }


def event_loop(args: argparse.Namespace) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = serve(["--db", str(Path(tmp) / "p.sqlite3"), "--no-access-log"])
        try:
            idle = summary(health_latencies(url, args.seconds / 2))
            stop_flag = threading.Event()
            answered = [0]

            def load(n: int) -> None:
                with connect(url, timeout=120) as sock:
                    i = n
                    while not stop_flag.is_set():
                        body = {"ratings": [{"name": UNKNOWN[i % len(UNKNOWN)], "level": 4}]}
                        status, _ = http(
                            sock, "POST", "/recommendations", json.dumps(body).encode()
                        )
                        assert status == 404
                        answered[0] += 1
                        i += 1

            threads = [threading.Thread(target=load, args=(n,)) for n in range(args.connections)]
            for t in threads:
                t.start()
            time.sleep(0.5)
            t0 = time.monotonic()
            busy = summary(health_latencies(url, args.seconds))
            rate = answered[0] / (time.monotonic() - t0 + 0.5)
            stop_flag.set()
            for t in threads:
                t.join(timeout=120)
        finally:
            stop(proc)
    return {
        "idle": idle,
        "busy": busy,
        "loading_connections": args.connections,
        "unknown_names_per_s": round(rate, 1),
        "target_p50_ms": 20,
        "load_1min": round(os.getloadavg()[0], 2),
    }


def _workers(pid: int) -> list[int]:
    kids = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for kid in (task / "children").read_text().split():
            try:
                if b"spawn_main" in Path(f"/proc/{kid}/cmdline").read_bytes():
                    kids.append(int(kid))
            except OSError:
                pass
    return kids


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def workers(args: argparse.Namespace) -> dict:
    from artistrec import create_model, load_dataset
    from artistrec.service import RecommenderService

    token = "bench-admin"
    with tempfile.TemporaryDirectory() as tmp:
        # the served artifact: a copy of the default model's, so the reload can replace it
        svc = RecommenderService.load()
        artifact = Path(tmp) / "model.npz"
        artifact.write_bytes(svc.model_cache.artifact_path("default").read_bytes())
        del svc
        proc, url = serve(
            ["--db", str(Path(tmp) / "p.sqlite3"), "--workers", "2", "--model", str(artifact)]
            + ["--no-access-log", "--reload-poll", str(args.poll)],
            env={"ARTISTREC_ADMIN_TOKEN": token},
        )
        try:
            deadline = time.monotonic() + 300
            while len({httpx.get(f"{url}/health").json()["pid"] for _ in range(20)}) < 2:
                assert time.monotonic() < deadline, "the second worker never answered"
                time.sleep(0.5)
            rss = {"supervisor_mb": _rss_mb(proc.pid)}
            rss["workers_mb"] = [_rss_mb(p) for p in _workers(proc.pid)]
            # a different model at the same path, then a reload asked of one worker
            create_model("popularity").fit(load_dataset()).save(artifact)
            t0 = time.monotonic()
            resp = httpx.post(
                f"{url}/admin/reload", headers={"Authorization": f"Bearer {token}"}, timeout=120
            )
            new = resp.json()["model_version"]
            first = time.monotonic() - t0
            while True:
                seen = set()
                for _ in range(20):
                    with httpx.Client() as c:  # fresh connections land on either worker
                        seen.add(c.get(f"{url}/health").json()["model_version"])
                if seen == {new}:
                    break
                time.sleep(0.1)
            converged = time.monotonic() - t0
            rss_after = {"supervisor_mb": _rss_mb(proc.pid)}
            rss_after["workers_mb"] = [_rss_mb(p) for p in _workers(proc.pid)]
        finally:
            stop(proc)
    return {
        "rss_serving_default_model": rss,
        "rss_after_reload_to_popularity": rss_after,
        "reload_answered_s": round(first, 2),
        "all_workers_converged_s": round(converged, 2),
        "reload_poll_s": args.poll,
        "load_1min": round(os.getloadavg()[0], 2),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="what", required=True)
    ev = sub.add_parser("event-loop")
    ev.add_argument("--connections", type=int, default=4)
    ev.add_argument("--seconds", type=float, default=20.0)
    wk = sub.add_parser("workers")
    wk.add_argument("--poll", type=float, default=1.0, help="serve --reload-poll")
    args = ap.parse_args(argv)
    result = event_loop(args) if args.what == "event-loop" else workers(args)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
