"""Helpers shared by the web app tests (a uniquely named module, importable from the tests)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from streamlit.testing.v1 import AppTest

from artistrec.models import available_models

#: A fast personalised model for the app tests (first one registered).
APP_MODEL = next(m for m in ("item-knn", "seed-mf", "popularity") if m in available_models())

_CARD = re.compile(r"^\*\*(\d+)\. \[(.*?)\]\(<")
_UNESCAPE = re.compile(r"\\(.)")


def card_names(at: AppTest) -> list[str]:
    """Artist names on the cards, in rank order (read from the cards' markdown)."""
    out = []
    for el in at.markdown:
        m = _CARD.match(el.value)
        if m:
            out.append(_UNESCAPE.sub(r"\1", m.group(2)))
    return out


# ----------------------------------------------------------------------------- a real server
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def start_app(data_dir: Path, cache_dir: str, log: Path) -> tuple[subprocess.Popen, str]:
    """Start ``artistrec app`` (its own process group) on a free port; returns (process, url)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("ARTISTREC_APP_MODEL", "ARTISTREC_MODEL_PATH")
    }
    env["LASTFM_DATA_DIR"] = str(data_dir)
    env["ARTISTREC_CACHE_DIR"] = cache_dir
    port = free_port()
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "artistrec.cli", "app", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return proc, f"http://127.0.0.1:{port}"


def wait_healthy(proc: subprocess.Popen, url: str, timeout_s: float, log: Path) -> None:
    """Block until the server answers its health check; AssertionError on exit or timeout."""
    deadline = time.monotonic() + timeout_s
    while not healthy(url):
        if proc.poll() is not None:
            raise AssertionError(f"artistrec app exited with {proc.returncode}:\n{log.read_text()}")
        if time.monotonic() > deadline:
            raise AssertionError(
                f"artistrec app not healthy after {timeout_s} s:\n{log.read_text()}"
            )
        time.sleep(0.1)


def stop_app(proc: subprocess.Popen) -> None:
    """Terminate the server's process group (kill it after 15 s)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=15)


def wait_idle(page, timeout_ms: int = 30_000) -> None:
    """Wait until the app's script run has finished and no stale element is left on screen.

    Uses the state Streamlit publishes on its root element (``initial``, ``running``,
    ``rerunRequested``, ``notRunning``); call it after waiting for something the action changes.
    """
    page.wait_for_selector(
        '[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=timeout_ms
    )
    page.wait_for_function(
        "() => !document.querySelector('[data-stale=\"true\"]')", timeout=timeout_ms
    )


def browser_card_names(page) -> list[str]:
    """Artist names on the cards of the current page (linked, bold names in the main area)."""
    cards = page.locator('[data-testid="stMain"] [data-testid="stMarkdownContainer"] strong a')
    return [t.strip() for t in cards.all_inner_texts()]
