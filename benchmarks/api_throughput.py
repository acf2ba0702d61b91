"""Throughput of ``POST /recommendations`` next to a trivial FastAPI endpoint, side by side.

Starts two servers on loopback ports with the same uvicorn setup (one process, asyncio loop,
httptools, TCP_NODELAY): ``artistrec serve`` (the default model, real data) and a trivial
FastAPI app whose ``GET /ping`` returns ``{"ok": true}``. Then, for ``--rounds`` rounds, runs
``wrk`` (a C load generator using a fraction of a core, ``apt-get install wrk``) against each in
turn with the same connections, threads and duration, and reports each server's median
throughput and p99 over the rounds and their ratios: the API's share of the trivial endpoint's
throughput, and its p99 as a multiple of the trivial p99. Alternating the two servers within one
run keeps the comparison fair on a shared machine, where absolute numbers drift by 2x.

Request bodies rate 5-20 of the 500 most listened artists (fixed seed, 512 bodies in turn, the
same as ``load_api.py``); the server caches no responses, so each request is a full fold-in.

    python benchmarks/api_throughput.py --connections 32 --seconds 10 --rounds 5
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load_api import _free_port, make_bodies, write_wrk_lua  # noqa: E402

TRIVIAL_APP = """
from fastapi import FastAPI

app = FastAPI()


@app.get("/ping")
async def ping() -> dict:
    return {"ok": True}
"""


def start(cmd: list[str], url: str, cwd: str | None = None) -> subprocess.Popen:
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=cwd)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{cmd[:4]} exited: {proc.stderr.read().decode()[-2000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    proc.terminate()
    raise SystemExit(f"{cmd[:4]} did not start")


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(url: str, connections: int, seconds: float, threads: int, script: str | None) -> dict:
    """One wrk run: requests/s, p50 and p99 in ms, non-2xx answers, socket errors."""
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--latency", url]
    if script:
        cmd += ["-s", script]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", out, re.M))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": rps,
        "p50_ms": _ms(lat["50"]),
        "p99_ms": _ms(lat["99"]),
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": errors.group(1) if errors else "",
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=10.0, help="Length of one wrk run.")
    ap.add_argument("--rounds", type=int, default=5, help="Alternating runs per server.")
    ap.add_argument("--threads", type=int, default=1, help="wrk threads.")
    ap.add_argument("--model", help="Model artifact for artistrec serve (default: cached).")
    ap.add_argument("--json", dest="json_out", help="Also write the results to this file.")
    args = ap.parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")

    procs: list[subprocess.Popen] = []
    with tempfile.TemporaryDirectory() as tmp:
        try:
            (Path(tmp) / "trivial_app.py").write_text(TRIVIAL_APP)
            tport, aport = _free_port(), _free_port()
            trivial = f"http://127.0.0.1:{tport}"
            api = f"http://127.0.0.1:{aport}"
            procs.append(
                start(
                    [sys.executable, "-m", "uvicorn", "trivial_app:app", "--port", str(tport)]
                    + ["--loop", "asyncio", "--http", "artistrec.api.server:GuardedHTTPProtocol"]
                    + ["--log-level", "warning"],
                    f"{trivial}/ping",
                    cwd=tmp,
                )
            )
            cmd = [sys.executable, "-m", "artistrec.cli", "serve", "--port", str(aport)]
            # the same logging as the trivial server (warnings only, no access log)
            cmd += ["--db", str(Path(tmp) / "p.sqlite3"), "--max-inflight", "100000"]
            cmd += ["--no-access-log"]
            if args.model:
                cmd += ["--model", args.model]
            procs.append(start(cmd, f"{api}/health"))
            health = httpx.get(f"{api}/health", timeout=10).json()
            script = str(Path(tmp) / "bodies.lua")
            write_wrk_lua(Path(script), make_bodies(api, 512))
            # warm-up: caches, first-touch page faults
            wrk(trivial + "/ping", args.connections, 2, args.threads, None)
            wrk(api, args.connections, 2, args.threads, script)
            runs: dict[str, list[dict]] = {"trivial": [], "api": []}
            for _ in range(args.rounds):
                runs["trivial"].append(
                    wrk(trivial + "/ping", args.connections, args.seconds, args.threads, None)
                )
                runs["api"].append(wrk(api, args.connections, args.seconds, args.threads, script))
        finally:
            for p in procs:
                p.terminate()
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()

    def med(name: str, key: str) -> float:
        return statistics.median(r[key] for r in runs[name])

    share = [a["rps"] / t["rps"] for a, t in zip(runs["api"], runs["trivial"], strict=True)]
    p99x = [a["p99_ms"] / t["p99_ms"] for a, t in zip(runs["api"], runs["trivial"], strict=True)]
    report = {
        "model": health["model"],
        "model_version": health["model_version"],
        "cpus": os.cpu_count(),
        "load_1min_after": round(os.getloadavg()[0], 2),
        "connections": args.connections,
        "seconds": args.seconds,
        "rounds": args.rounds,
        "runs": runs,
        "median_throughput_share": round(statistics.median(share), 3),
        "median_p99_ratio": round(statistics.median(p99x), 2),
    }
    print(
        f"model {health['model']} ({health['model_version']}), {os.cpu_count()} CPUs, "
        f"{args.connections} connections, {args.rounds} x {args.seconds:g} s alternating"
    )
    print("| server | req/s (median) | p50 ms | p99 ms | non-2xx |")
    print("|---|---:|---:|---:|---:|")
    for name in ("trivial", "api"):
        non2xx = sum(r["non_2xx"] for r in runs[name])
        print(
            f"| {name} | {med(name, 'rps'):.0f} | {med(name, 'p50_ms'):.2f} | "
            f"{med(name, 'p99_ms'):.2f} | {non2xx} |"
        )
    print(
        f"API throughput / trivial (median of per-round ratios): {report['median_throughput_share']:.2f}"
    )
    print(f"API p99 / trivial p99 (median of per-round ratios): {report['median_p99_ratio']:.2f}")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
