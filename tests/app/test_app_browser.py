"""End-to-end: `artistrec app` in a subprocess, driven by headless Chromium (Playwright).

Uses the real data when LASTFM_DATA_DIR points at it, else a synthetic data set. Every wait is
bounded and tied to text the app derives from the inputs (no fixed sleeps). Screenshots of each
page go to test-artifacts/ (gitignored).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from app_helpers import (
    CHROMIUM,
    CHROMIUM_ARGS,
    browser_card_names,
    start_app,
    stop_app,
    wait_healthy,
    wait_idle,
)

from artistrec.data.synthetic import SyntheticSpec, generate

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
START_TIMEOUT_S = 300  # includes training the default model once when it is not cached
UI_TIMEOUT_MS = 30_000

pytestmark = [
    pytest.mark.browser,
    pytest.mark.timeout(900),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed"),
]
sync_api = pytest.importorskip("playwright.sync_api")

REAL = os.environ.get("LASTFM_DATA_DIR")
#: (search query, expected name of its first hit) on the real data; synthetic: (query, None)
REAL_PICKS = [("radiohead", "Radiohead"), ("bjork", "Björk"), ("daft punk", "Daft Punk")]
SYNTHETIC_PICKS = [("blue", None), ("night", None), ("café", None)]


@pytest.fixture(scope="module")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    """`artistrec app` on a free port; yields its url and whether the data is real."""
    real = bool(REAL) and Path(REAL).is_dir()
    data_dir = (
        Path(REAL) if real else generate(tmp_path_factory.mktemp("e2e-data"), SyntheticSpec())
    )
    cache = os.environ.get("ARTISTREC_CACHE_DIR") or str(tmp_path_factory.getbasetemp() / "cache")
    log = tmp_path_factory.mktemp("e2e-log") / "app.log"
    proc, url = start_app(data_dir, cache, log)
    try:
        wait_healthy(proc, url, START_TIMEOUT_S, log)
        yield {"url": url, "real": real}
    finally:
        stop_app(proc)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=60_000)
        try:
            yield b
        finally:
            b.close()


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
    wait_idle(page)
    popular = browser_card_names(page)
    assert len(popular) == 12
    _shot(page, "1-recommend-empty")

    search = page.get_by_role("textbox", name="Search the catalogue")
    picks = REAL_PICKS if app_server["real"] else SYNTHETIC_PICKS
    names: list[str] = []
    for query, expected in picks:
        search.fill(query)
        search.press("Enter")
        # the hit for this query (not a stale one from the previous search), not yet added
        wanted = re.escape(expected) if expected else re.escape(query) + ".*"
        hit_label = page.locator(
            '[data-testid="stMarkdownContainer"]',
            has_text=re.compile(rf"^{wanted} · [\d,]+ listener", re.IGNORECASE),
        )
        first = page.locator('[data-testid="stMain"] button:not([disabled])', has=hit_label).first
        first.wait_for()
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
    wait_idle(page)
    recs = browser_card_names(page)
    assert len(recs) == 12
    assert not set(names) & set(recs), f"rated artists recommended: {set(names) & set(recs)}"
    _shot(page, "2-recommend")
    assert page.locator('[data-testid="stException"]').count() == 0

    # "not interested" drops the first recommendation
    page.get_by_role("button", name="Not interested").first.click()
    page.get_by_text("Not interested in 1 artist(s)").wait_for()
    wait_idle(page)
    assert recs[0] not in browser_card_names(page)

    # the other pages render (the ratings survive navigation)
    for link, marker, shot in [
        ("Similar artists", "Artists similar to", "3-similar"),
        ("Explore the data", "Top 25 tags", "4-explore"),
        ("Models", "Embedding norm vs number of listeners", "5-models"),
    ]:
        page.get_by_role("link", name=link).click()
        page.get_by_text(marker).first.wait_for(timeout=120_000)
        wait_idle(page)
        _shot(page, shot)
        assert page.locator('[data-testid="stException"]').count() == 0, f"error on {link}"
    page.get_by_role("link", name="Get recommendations").click()
    page.get_by_text(re.compile(re.escape(f"{names[0]} (level 5)"))).wait_for()


def _panel_open(page) -> bool:
    """Whether the sidebar's "Save / load profile" panel is expanded (its details element)."""
    details = page.locator('[data-testid="stSidebar"] details', has_text="Save / load profile")
    return bool(details.evaluate("d => d.open"))


def test_save_load_panel_stays_open(app_server, page) -> None:
    """The panel keeps its state when the "Not interested" block appears or disappears, and
    shows the confirmation of a save and of a load (issue 12.14)."""
    page.set_default_timeout(UI_TIMEOUT_MS)
    page.goto(str(app_server["url"]), timeout=UI_TIMEOUT_MS)
    page.get_by_text("Popular artists to start from").wait_for()
    wait_idle(page)
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text("Save / load profile").click()
    sidebar.get_by_text("Save your ratings to come back").wait_for()
    assert _panel_open(page)

    # rate one popular artist, then hide a recommendation: the "Not interested" block appears
    page.get_by_role("button", name="I listen to this").first.click()
    page.get_by_text("Recommended for you").wait_for()
    wait_idle(page)
    page.get_by_role("button", name="Not interested").first.click()
    sidebar.get_by_text("Not interested in 1 artist(s)").wait_for()
    wait_idle(page)
    assert _panel_open(page), "the panel collapsed when the 'Not interested' block appeared"

    # save: the confirmation is visible in the open panel
    sidebar.get_by_role("button", name="Save").click()
    sidebar.get_by_text(re.compile(r"Saved profile \S+")).wait_for()
    wait_idle(page)
    assert _panel_open(page)
    profile_id = sidebar.get_by_role("textbox", name="Profile id").input_value()
    assert profile_id

    # "Show them again": the block disappears, the panel stays open
    sidebar.get_by_role("button", name="Show them again").click()
    sidebar.get_by_text("Not interested in 1 artist(s)").wait_for(state="detached")
    wait_idle(page)
    assert _panel_open(page), "the panel collapsed when the 'Not interested' block went away"

    # loading the profile brings the hidden artist back (the block re-appears): the panel
    # stays open and shows the confirmation
    sidebar.get_by_role("button", name="Load").click()
    sidebar.get_by_text(re.compile(r"Loaded 1 rated artist\(s\) from profile")).wait_for()
    sidebar.get_by_text("Not interested in 1 artist(s)").wait_for()
    wait_idle(page)
    assert _panel_open(page)
    assert sidebar.get_by_text(re.compile(r"Loaded 1 rated artist\(s\)")).is_visible()
    _shot(page, "6-profile-panel")


#: The width a text needs in an input's font against the room the input leaves for it.
_PLACEHOLDER_FITS = """els => els.filter(e => e.placeholder).map(e => {
  const cs = getComputedStyle(e);
  const ctx = document.createElement('canvas').getContext('2d');
  ctx.font = cs.font;
  const room = e.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
  return [e.placeholder, ctx.measureText(e.placeholder).width <= room];
})"""


def test_nothing_is_cut_off(app_server, page) -> None:
    """Search placeholders and the benchmark table fit their boxes at 1400 px (issue 12.17)."""
    page.set_default_timeout(UI_TIMEOUT_MS)
    page.goto(str(app_server["url"]), timeout=UI_TIMEOUT_MS)
    page.get_by_text("Popular artists to start from").wait_for()
    wait_idle(page)
    for link, marker in [("Get recommendations", "Popular artists"), ("Similar artists", None)]:
        if marker is None:
            page.get_by_role("link", name=link).click()
            page.get_by_text("Artists similar to").first.wait_for()
            wait_idle(page)
        # the page's script may still be drawing the column with the search box
        page.locator("input[placeholder]").first.wait_for()
        fits = dict(page.locator("input[placeholder]").evaluate_all(_PLACEHOLDER_FITS))
        assert fits and all(fits.values()), f"{link}: placeholders cut off: {fits}"
    page.get_by_role("link", name="Models").click()
    page.get_by_role("heading", name="Benchmarks").wait_for(timeout=120_000)
    wait_idle(page, timeout_ms=120_000)
    tables = page.locator('[data-testid="stDataFrame"]:visible .dvn-scroller')
    if tables.count() == 0:
        pytest.skip("no benchmark results next to this checkout")
    widths = tables.evaluate_all("els => els.map(e => [e.scrollWidth, e.clientWidth])")
    assert all(scroll <= client + 1 for scroll, client in widths), widths
