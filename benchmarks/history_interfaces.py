"""Cost of a listening-history import through each interface, on the real data and model.

The export is :func:`history_import.make_export`'s 100,000-stream Spotify history (4 JSON files).

1. Service: ``svc.import_history`` (read + match + fold-in + recommendations), wall and CPU,
   and the fold-in alone (``recommend_for_ratings``) for the history's N most played artists.
2. HTTP: a real ``artistrec serve`` process; ``POST /history`` with the four files (multipart),
   and ``GET /health`` polled every 20 ms by another connection while the import runs, against
   the same poll on the idle server (is the event loop free while an import runs?).
3. GIL holds by step (in process): a thread runs one step of a ``POST /history`` while the
   main thread sleeps 1 ms in a loop; a late wake-up is the time the step held the GIL (what
   an event loop thread would wait). Steps: the multipart parse, reading the files (JSON
   decoded item by item, as served, and with one ``json.loads`` per file), matching + fold-in.
4. Web app (Streamlit AppTest, in process): the "Import" click (import + redraw), then a redraw
   with the imported rating list (100 sliders) against one with 3 hand-added artists.

Usage::

    python benchmarks/history_interfaces.py [--repeats 5] [--skip-http] [--skip-app]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from history_import import make_export  # noqa: E402

from artistrec.service import RecommenderService  # noqa: E402
from artistrec.service.history import fold_in  # noqa: E402


def _stats(ms: list[float]) -> str:
    a = np.asarray(ms)
    return (
        f"p50 {np.median(a):.1f} ms, p99 {np.percentile(a, 99):.1f} ms, max {a.max():.1f} ms "
        f"(n={a.size})"
    )


def bench_service(svc: RecommenderService, files: list[tuple[str, bytes]], repeats: int) -> None:
    walls, cpus, reads = [], [], []
    for _ in range(repeats):
        c0, t0 = time.process_time(), time.perf_counter()
        result = svc.read_history(files)
        reads.append(time.perf_counter() - t0)
        ratings, exclude = fold_in(result)
        svc.recommend_for_ratings(ratings, 10, exclude)
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    print(
        f"service import_history (read + match + fold-in, k=10) over {repeats} runs: median wall "
        f"{np.median(walls):.2f} s (read+match {np.median(reads):.2f} s), median CPU "
        f"{np.median(cpus):.2f} s; {result.matched['artists']:,} matched, "
        f"{len(ratings)} rated, {len(exclude):,} excluded"
    )
    levels = result.levels_by_id()
    ids = [r.artist_id for r in result.ratings]
    for n in (10, 50, 100, 300, 1000):
        if n > len(ids):
            break
        top = {a: levels[a] for a in ids[:n]}
        rest = ids[n:]
        walls, cpus = [], []
        for _ in range(20):
            c0, t0 = time.thread_time(), time.perf_counter()
            svc.recommend_for_ratings(top, 10, rest)
            walls.append((time.perf_counter() - t0) * 1000)
            cpus.append((time.thread_time() - c0) * 1000)
        print(
            f"  fold-in from the {n:>4} most played (the rest excluded): CPU p50 "
            f"{np.median(cpus):.1f} ms; wall {_stats(walls)}"
        )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _poll(url: str, stop: threading.Event, out: list[float]) -> None:
    with httpx.Client(timeout=30) as c:
        while not stop.is_set():
            t0 = time.perf_counter()
            c.get(f"{url}/health")
            out.append((time.perf_counter() - t0) * 1000)
            time.sleep(0.02)


def bench_http(files: list[tuple[str, bytes]], repeats: int) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "artistrec.cli", "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 600
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit("artistrec serve did not start")
            time.sleep(0.2)
        idle: list[float] = []
        stop = threading.Event()
        t = threading.Thread(target=_poll, args=(url, stop, idle))
        t.start()
        time.sleep(3)
        stop.set()
        t.join()
        upload = [("files", (n, b, "application/json")) for n, b in files]
        walls: list[float] = []
        busy: list[float] = []
        with httpx.Client(timeout=120) as c:
            for _ in range(repeats):
                stop = threading.Event()
                t = threading.Thread(target=_poll, args=(url, stop, busy))
                t.start()
                t0 = time.perf_counter()
                r = c.post(f"{url}/history", files=upload, params={"k": 10})
                walls.append(time.perf_counter() - t0)
                stop.set()
                t.join()
                r.raise_for_status()
        mb = sum(len(b) for _, b in files) / 2**20
        print(
            f"POST /history ({mb:.0f} MB multipart, 4 files) over {repeats} runs: median wall "
            f"{np.median(walls):.2f} s, max {np.max(walls):.2f} s"
        )
        print(f"  GET /health every 20 ms, idle server:       {_stats(idle)}")
        print(f"  GET /health every 20 ms, during the imports: {_stats(busy)}")
    finally:
        proc.terminate()
        proc.wait(30)


def _ticks_while(work: Callable[[], object]) -> np.ndarray:
    """Late wake-ups (ms) of a 1 ms sleep loop in this thread while ``work`` runs in another."""
    out: list[float] = []
    t = threading.Thread(target=work)
    t.start()
    while t.is_alive():
        t0 = time.perf_counter()
        time.sleep(0.001)
        out.append((time.perf_counter() - t0) * 1000)
    t.join()
    return np.asarray(out)


def bench_gil(svc: RecommenderService, files: list[tuple[str, bytes]], repeats: int) -> None:
    from artistrec.api.routers.history import parse_files
    from artistrec.history import formats, read_sources

    def read_whole() -> None:  # one json.loads per file, as before item-wise decoding
        saved = formats.JSON_ITEMWISE_CHARS
        formats.JSON_ITEMWISE_CHARS = 1 << 40
        try:
            read_sources(files)
        finally:
            formats.JSON_ITEMWISE_CHARS = saved

    request = httpx.Request(
        "POST", "http://x/history", files=[("files", (n, b, "application/json")) for n, b in files]
    )
    body, ctype = request.read(), request.headers["content-type"]
    parsed = read_sources(files)

    def match() -> None:
        ratings, exclude = fold_in(svc.read_history(parsed))
        svc.recommend_for_ratings(ratings, 10, exclude)

    steps = {
        "idle (sleep 2 s)": lambda: time.sleep(2),
        "multipart parse": lambda: parse_files(ctype, body),
        "read the files (item-wise JSON)": lambda: read_sources(files),
        "read the files (json.loads)": read_whole,
        "match + fold-in": match,
    }
    print("GIL holds seen by a 1 ms sleep loop in another thread (late wake-ups):")
    for label, work in steps.items():
        late = np.concatenate([_ticks_while(work) for _ in range(repeats)])
        print(
            f"  {label:<32} max {late.max():6.1f} ms, p99 {np.percentile(late, 99):6.1f} ms, "
            f"wake-ups later than 50 ms: {(late > 50).sum() / repeats:.1f} per run"
        )


def bench_app(files: list[tuple[str, bytes]], repeats: int) -> None:
    from streamlit.testing.v1 import AppTest

    from artistrec.app import ENTRY_SCRIPT

    clicks, big, small = [], [], []
    for _ in range(repeats):
        at = AppTest.from_file(str(ENTRY_SCRIPT), default_timeout=600).run()
        [up] = [u for u in at.file_uploader if u.key.startswith("history_files_")]
        up.set_value([(n, b, "application/json") for n, b in files]).run()
        t0 = time.perf_counter()
        at.button(key="history_import").click().run()
        clicks.append(time.perf_counter() - t0)
        assert not at.exception, at.exception
        n_rated = len(at.session_state["picked"])
        for value in (0.1, 0.0):  # a redraw with the imported rating list
            t0 = time.perf_counter()
            at.sidebar.slider(key="novelty").set_value(value).run()
            big.append((time.perf_counter() - t0) * 1000)
        three = list(at.session_state["picked"].items())[:3]
        at.button(key="clear").click().run()
        at.session_state["picked"] = dict(three)
        for artist_id, _ in three:
            at.session_state[f"level_{artist_id}"] = 2
        for value in (0.1, 0.0):
            t0 = time.perf_counter()
            at.sidebar.slider(key="novelty").set_value(value).run()
            small.append((time.perf_counter() - t0) * 1000)
    print(
        f"web app: Import click (import + redraw) over {repeats} runs: median "
        f"{np.median(clicks):.2f} s; {n_rated} artists in the rating list"
    )
    print(f"  redraw with the imported rating list: {_stats(big)}")
    print(f"  redraw with 3 rated artists:          {_stats(small)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--streams", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--skip-http", action="store_true")
    ap.add_argument("--skip-app", action="store_true")
    args = ap.parse_args()
    if not os.environ.get("LASTFM_DATA_DIR"):
        raise SystemExit("set LASTFM_DATA_DIR to the HetRec data")
    svc = RecommenderService.load()  # the default model (trained once into the cache)
    files, artists = make_export(svc.dataset, args.streams, 4_000, 0.6, 4)
    print(f"export: {args.streams:,} streams, {len(artists):,} artists, {len(files)} files")
    bench_service(svc, files, args.repeats)
    bench_gil(svc, files, args.repeats)
    if not args.skip_http:
        bench_http(files, args.repeats)
    if not args.skip_app:
        bench_app(files, args.repeats)


if __name__ == "__main__":
    main()
