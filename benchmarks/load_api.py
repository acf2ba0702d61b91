"""Bounded HTTP load test of ``POST /recommendations`` on 127.0.0.1 (asyncio, keep-alive).

Starts ``artistrec serve [--workers N]`` on a free loopback port (or uses ``--url``, which must
be a loopback address), then, for each concurrency level, keeps that many connections busy until
``--requests`` requests are done or ``--seconds`` have passed, whichever comes first, and reports
p50/p99 latency, throughput, errors and the load average. Request bodies rate 5-20 artists drawn
(fixed seed) from the 500 most listened. Client and server share the machine, so numbers are a
lower bound (the client is a minimal HTTP/1.1 one for that reason; httpx sets up the run).

    python benchmarks/load_api.py --workers 2 --levels 32,128 --requests 3000 --seconds 30

``--wrk-lua FILE`` instead writes the same request bodies as a script for ``wrk -s FILE``.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

import httpx
import numpy as np


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _check_loopback(url: str) -> None:
    host = urlparse(url).hostname or ""
    if host != "localhost" and not ipaddress.ip_address(host).is_loopback:
        raise SystemExit(f"refusing to load-test a non-loopback address: {host}")


def start_server(db: Path, model: str | None, workers: int = 1) -> tuple[subprocess.Popen, str]:
    """``artistrec serve`` in a subprocess; returns it and its base URL once /ready answers."""
    port = _free_port()
    cmd = [sys.executable, "-m", "artistrec.cli", "serve", "--port", str(port), "--db", str(db)]
    cmd += ["--workers", str(workers)]
    if model:
        cmd += ["--artifact", model]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {proc.stderr.read() if proc.stderr else ''}")
        try:
            if httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                time.sleep(5.0 if workers > 1 else 0.0)  # the other workers finish loading
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    proc.terminate()
    raise SystemExit("server did not become ready in 300 s")


def write_wrk_lua(path: Path, bodies: list[dict]) -> None:
    """A wrk script that POSTs ``bodies`` to /recommendations in turn (per wrk thread)."""
    lines = ["local bodies = {"]
    lines += [f"  [[{json.dumps(b, separators=(',', ':'))}]]," for b in bodies]
    lines += [
        "}",
        "local i = 0",
        'wrk.method = "POST"',
        'wrk.headers["Content-Type"] = "application/json"',
        "request = function()",
        "  i = i % #bodies + 1",
        '  return wrk.format(nil, "/recommendations", nil, bodies[i])',
        "end",
    ]
    path.write_text("\n".join(lines) + "\n")


def make_bodies(url: str, n: int, seed: int = 0) -> list[dict]:
    """``n`` request bodies rating 5-20 of the 500 most listened artists."""
    artists = httpx.get(f"{url}/artists", params={"limit": 500}, timeout=30).json()
    ids = np.array([a["id"] for a in artists], dtype=np.int64)
    rng = np.random.default_rng(seed)
    bodies = []
    for _ in range(n):
        m = int(rng.integers(5, 21))
        chosen = rng.choice(ids, size=m, replace=False)
        levels = rng.choice([1, 2, 3, 4, 5], size=m, p=[0.05, 0.6, 0.25, 0.07, 0.03])
        bodies.append(
            {
                "ratings": [
                    {"artist_id": int(a), "level": int(lv)}
                    for a, lv in zip(chosen, levels, strict=True)
                ],
                "k": 10,
            }
        )
    return bodies


class Conn:
    """One keep-alive HTTP/1.1 connection that speaks just enough HTTP for ``POST`` + JSON.

    httpx costs about 1 ms of client CPU per request, which on 2 shared cores throttles the
    server under test and queues requests inside the client (measured: p99 1.6 s at 32
    connections against ~0.1 s with wrk); this client costs a few tens of microseconds.
    """

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes) -> int:
        """Send one request and read the whole answer; returns the status code."""
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        self.writer.write(head.encode() + body)
        reader = self.reader
        status_line = await reader.readline()
        if not status_line:
            raise ConnectionError("connection closed by the server")
        status = int(status_line.split()[1])
        length = None
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if length is None:
            raise ConnectionError("answer without Content-Length")
        await reader.readexactly(length)
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def run_level(
    url: str, concurrency: int, bodies: list[dict], n_requests: int, seconds: float
) -> dict:
    """Keep ``concurrency`` connections busy; bounded by ``n_requests`` and ``seconds``."""
    parsed = urlparse(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or 80
    payloads = [json.dumps(b, separators=(",", ":")).encode() for b in bodies]
    latencies: list[float] = []
    errors: dict[str, int] = {}
    sent = 0
    conns = [Conn(host, port) for _ in range(concurrency)]
    try:
        # warm-up: one request per connection, not measured
        await asyncio.gather(
            *(c.post("/recommendations", payloads[i % len(payloads)]) for i, c in enumerate(conns))
        )
        load_before = os.getloadavg()[0]
        start = time.perf_counter()
        deadline = start + seconds

        async def worker(conn: Conn) -> None:
            nonlocal sent
            while sent < n_requests and time.perf_counter() < deadline:
                body = payloads[sent % len(payloads)]
                sent += 1
                t0 = time.perf_counter()
                try:
                    status = await asyncio.wait_for(conn.post("/recommendations", body), 60)
                    ok, key = status == 200, str(status)
                except (OSError, ValueError, IndexError) as exc:  # TimeoutError is an OSError
                    ok, key = False, type(exc).__name__
                    conn.close()  # reconnect on the next request
                latencies.append(time.perf_counter() - t0)
                if not ok:
                    errors[key] = errors.get(key, 0) + 1

        await asyncio.gather(*(worker(c) for c in conns))
        wall = time.perf_counter() - start
    finally:
        for c in conns:
            c.close()
    lat = np.asarray(latencies) * 1000.0
    return {
        "concurrency": concurrency,
        "requests": int(lat.size),
        "seconds": round(wall, 2),
        "throughput_rps": round(lat.size / wall, 1),
        "p50_ms": round(float(np.percentile(lat, 50)), 1),
        "p99_ms": round(float(np.percentile(lat, 99)), 1),
        "max_ms": round(float(lat.max()), 1),
        "errors": int(sum(errors.values())),
        "error_kinds": errors,
        "load_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--url", help="Existing server on a loopback address (default: start one).")
    ap.add_argument("--model", help="Model artifact for the started server.")
    ap.add_argument("--workers", type=int, default=1, help="Processes of the started server.")
    ap.add_argument("--levels", default="32,128", help="Comma-separated concurrency levels.")
    ap.add_argument("--requests", type=int, default=3000, help="Max requests per level.")
    ap.add_argument("--seconds", type=float, default=30.0, help="Max seconds per level.")
    ap.add_argument("--json", dest="json_out", help="Also write the results to this JSON file.")
    ap.add_argument("--wrk-lua", help="Only write the request bodies as a wrk script here.")
    args = ap.parse_args(argv)
    levels = [int(x) for x in args.levels.split(",") if x.strip()]
    if any(c < 1 or c > 1024 for c in levels) or args.requests < 1 or args.seconds <= 0:
        raise SystemExit("levels must be 1..1024, --requests >= 1 and --seconds > 0")
    if not 1 <= args.workers <= 64:
        raise SystemExit("--workers must be 1..64")

    proc = None
    with tempfile.TemporaryDirectory() as tmp:
        if args.url:
            _check_loopback(args.url)
            url = args.url.rstrip("/")
        else:
            proc, url = start_server(Path(tmp) / "profiles.sqlite3", args.model, args.workers)
        try:
            health = httpx.get(f"{url}/health", timeout=10).json()
            bodies = make_bodies(url, 512)
            if args.wrk_lua:
                write_wrk_lua(Path(args.wrk_lua), bodies)
                print(f"wrote {len(bodies)} request bodies to {args.wrk_lua}")
                return 0
            results = [
                asyncio.run(run_level(url, c, bodies, args.requests, args.seconds)) for c in levels
            ]
        finally:
            if proc is not None:
                proc.terminate()
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
    report = {
        "model": health.get("model"),
        "data_fingerprint": health.get("data_fingerprint"),
        "cpus": os.cpu_count(),
        "workers": args.workers if not args.url else None,
        "results": results,
    }
    print(f"model {report['model']} (data {report['data_fingerprint']}), {os.cpu_count()} CPUs")
    print("| connections | requests | p50 ms | p99 ms | max ms | req/s | errors | load 1 min |")
    print("|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in results:
        print(
            f"| {r['concurrency']} | {r['requests']} | {r['p50_ms']} | {r['p99_ms']} | "
            f"{r['max_ms']} | {r['throughput_rps']} | {r['errors']} | "
            f"{r['load_1min'][0]}-{r['load_1min'][1]} |"
        )
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(report, indent=2))
    return 0 if all(r["errors"] == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
