"""End-to-end: `artistrec app` in a subprocess, driven by headless Chromium (Playwright).

Uses the real data when LASTFM_DATA_DIR points at it, else a synthetic data set. Every wait is
bounded and tied to text the app derives from the inputs (no fixed sleeps). Screenshots of each
page go to test-artifacts/ (gitignored).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from artistrec.data.synthetic import SyntheticSpec, generate

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
START_TIMEOUT_S = 300  # includes training the default model once when it is not cached
UI_TIMEOUT_MS = 30_000

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed"),
]
sync_api = pytest.importorskip("playwright.sync_api")

REAL = os.environ.get("LASTFM_DATA_DIR")
#: (search query, expected name of its first hit) on the real data; synthetic: (query, None)
REAL_PICKS = [("radiohead", "Radiohead"), ("bjork", "Björk"), ("daft punk", "Daft Punk")]
SYNTHETIC_PICKS = [("blue", None), ("night", None), ("café", None)]


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


@pytest.fixture(scope="module")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    """`artistrec app` on a free port; yields url, whether the data is real, start seconds."""
    real = bool(REAL) and Path(REAL).is_dir()
    data_dir = (
        Path(REAL) if real else generate(tmp_path_factory.mktemp("e2e-data"), SyntheticSpec())
    )
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("ARTISTREC_APP_MODEL", "ARTISTREC_MODEL_PATH")
    }
    env["LASTFM_DATA_DIR"] = str(data_dir)
    env.setdefault("ARTISTREC_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("e2e-log") / "app.log"
    started = time.monotonic()
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "artistrec.cli",
                "app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        while not _healthy(url):
            if proc.poll() is not None:
                pytest.fail(f"artistrec app exited with {proc.returncode}:\n{log.read_text()}")
            if time.monotonic() - started > START_TIMEOUT_S:
                pytest.fail(
                    f"artistrec app not healthy after {START_TIMEOUT_S} s:\n{log.read_text()}"
                )
            time.sleep(0.2)
        yield {"url": url, "real": real, "healthy_s": time.monotonic() - started}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=15)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=60_000)
        try:
            yield b
        finally:
            b.close()


def _idle(page) -> None:
    """Wait until the script run finished and no stale element is left on screen."""
    page.wait_for_selector(
        '[data-testid="stStatusWidget"]', state="detached", timeout=UI_TIMEOUT_MS
    )
    page.wait_for_function(
        "() => !document.querySelector('[data-stale=\"true\"]')", timeout=UI_TIMEOUT_MS
    )


def _card_names(page) -> list[str]:
    cards = page.locator('[data-testid="stMain"] [data-testid="stMarkdownContainer"] strong a')
    return [t.strip() for t in cards.all_inner_texts()]


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


@pytest.fixture
def page(browser) -> Iterator[object]:
    """A fresh page; its last state is saved as test-artifacts/last-state.png (debugging)."""
    pg = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        yield pg
    finally:
        if not pg.is_closed():
            _shot(pg, "last-state")
            pg.close()


def test_pick_rate_and_get_recommendations(app_server, page) -> None:
    page.set_default_timeout(UI_TIMEOUT_MS)
    page.goto(str(app_server["url"]), timeout=UI_TIMEOUT_MS)
    page.get_by_text("Popular artists to start from").wait_for()
    _idle(page)
    popular = _card_names(page)
    assert len(popular) == 12
    _shot(page, "1-recommend-empty")

    search = page.get_by_role("textbox", name="Search the catalogue")
    picks = REAL_PICKS if app_server["real"] else SYNTHETIC_PICKS
    names: list[str] = []
    for query, expected in picks:
        search.fill(query)
        search.press("Enter")
        first = page.locator('[data-testid="stMain"] button:has-text("listeners")').first
        first.wait_for()
        _idle(page)
        label = first.locator('[data-testid="stMarkdownContainer"]').inner_text()
        name = label.split(" · ")[0].strip()
        if expected is not None:
            assert name == expected
        first.click()
        names.append(name)
        # the server confirms by naming the artist, with its default level, in the caption
        page.get_by_text(re.compile(re.escape(f"{name} (level 3)"))).wait_for()

    # rate the first artist higher: keyboard on its slider (3 -> 5)
    slider = page.locator('[data-testid="stMain"] input[type="range"]').first
    slider.focus()
    slider.press("ArrowRight")
    slider.press("ArrowRight")
    page.get_by_text(re.compile(re.escape(f"{names[0]} (level 5)"))).wait_for()
    _idle(page)
    recs = _card_names(page)
    assert len(recs) == 12
    assert not set(names) & set(recs), f"rated artists recommended: {set(names) & set(recs)}"
    _shot(page, "2-recommend")

    # "not interested" drops the first recommendation
    page.get_by_role("button", name="Not interested").first.click()
    page.get_by_text("Not interested in 1 artist(s)").wait_for()
    _idle(page)
    assert recs[0] not in _card_names(page)

    # the other pages render (the ratings survive navigation)
    for link, marker, shot in [
        ("Similar artists", "Artists similar to", "3-similar"),
        ("Explore the data", "Top 25 tags", "4-explore"),
        ("Models", "Embedding norm vs number of listeners", "5-models"),
    ]:
        page.get_by_role("link", name=link).click()
        page.get_by_text(marker).first.wait_for(timeout=120_000)
        _idle(page)
        _shot(page, shot)
    page.get_by_role("link", name="Get recommendations").click()
    page.get_by_text(re.compile(re.escape(f"{names[0]} (level 5)"))).wait_for()
