"""Speed of the web app on the real data: re-render after a rating change, and start time.

``rerender``: the server-side time of one full run of the "Get recommendations" page after a
level slider changes, with three artists rated (Radiohead, Björk, Daft Punk), measured with
Streamlit's ``AppTest`` in-process (12 changes alternating levels 5 and 2; the model is the
default one, or ``$ARTISTREC_APP_MODEL``). Target: median < 300 ms.

``start``: from spawning ``artistrec app`` to the 12 popular-artist cards visible in headless
Chromium (Playwright, ``/usr/bin/chromium``), the default model already cached (it is trained
and cached first when missing). Target: < 10 s.

    export LASTFM_DATA_DIR=/path/to/hetrec2011-lastfm-2k
    python benchmarks/app_speed.py rerender
    ARTISTREC_APP_MODEL=als python benchmarks/app_speed.py rerender
    python benchmarks/app_speed.py start

Timings are noisy on a shared machine: compare medians measured in one run.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path

PICKS = ("radiohead", "bjork", "daft punk")
CHANGES = 12
RERENDER_TARGET_MS = 300.0
START_TARGET_S = 10.0
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
#: Bound of every wait (the server start includes loading the data set and the model).
TIMEOUT_S = 120


def rerender() -> None:
    """Print the median and max server-side re-render time after a rating change."""
    from streamlit.testing.v1 import AppTest

    from artistrec.app import ENTRY_SCRIPT

    os.environ.pop("ARTISTREC_MODEL_PATH", None)
    at = AppTest.from_file(str(ENTRY_SCRIPT), default_timeout=600).run()
    if at.exception:
        raise SystemExit(f"the app failed: {at.exception}")
    for query in PICKS:
        at.text_input(key="search").input(query).run()
        [b for b in at.button if b.key and b.key.startswith("add_")][0].click().run()
    slider = f"level_{next(iter(at.session_state['picked']))}"
    times = []
    for i in range(CHANGES):
        started = time.perf_counter()
        at.select_slider(key=slider).set_value(5 if i % 2 == 0 else 2).run()
        times.append((time.perf_counter() - started) * 1000)
    model = os.environ.get("ARTISTREC_APP_MODEL") or "default"
    print(
        f"re-render after a rating change ({model}): median {statistics.median(times):.0f} ms, "
        f"max {max(times):.0f} ms (target: median < {RERENDER_TARGET_MS:.0f} ms)"
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def start() -> None:
    """Print the seconds from spawning ``artistrec app`` to health and to the first cards."""
    from playwright.sync_api import sync_playwright

    from artistrec.service import RecommenderService

    RecommenderService.load()  # trains and caches the default model if needed
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    drop = ("ARTISTREC_APP_MODEL", "ARTISTREC_MODEL_PATH")  # the default model, from the cache
    env = {k: v for k, v in os.environ.items() if k not in drop}
    log = Path(tempfile.mkdtemp()) / "app.log"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        started = time.monotonic()
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "artistrec.cli", "app", "--port", str(port)],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            while not _healthy(url):
                if proc.poll() is not None or time.monotonic() - started > TIMEOUT_S:
                    raise SystemExit(f"artistrec app did not start:\n{log.read_text()}")
                time.sleep(0.1)
            healthy_s = time.monotonic() - started
            page = browser.new_page()
            page.goto(url, timeout=TIMEOUT_S * 1000)
            page.locator('[data-testid="stMain"] strong a').nth(11).wait_for(
                timeout=TIMEOUT_S * 1000
            )
            cards_s = time.monotonic() - started
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=15)
            browser.close()
    print(
        f"app start: healthy after {healthy_s:.1f} s, first cards after {cards_s:.1f} s "
        f"(target: first cards < {START_TARGET_S:.0f} s)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("what", choices=["rerender", "start"])
    args = ap.parse_args(argv)
    if not os.environ.get("LASTFM_DATA_DIR"):
        raise SystemExit("set LASTFM_DATA_DIR to the real data set")
    if args.what == "rerender":
        rerender()
    else:
        start()
    return 0


if __name__ == "__main__":
    sys.exit(main())
