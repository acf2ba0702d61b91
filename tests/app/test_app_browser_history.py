"""End-to-end: "Import listening history" in `artistrec app`, driven by headless Chromium.

The exports are uploaded through the page's real file input (a Spotify zip and a Last.fm CSV at
once); the test then reads what the person sees: the summary, the rating list with the
imported levels, the cards without any artist of the history, a close match accepted and an
imported artist removed. Real data when LASTFM_DATA_DIR points at it, else synthetic data.
Screenshots go to test-artifacts/ (gitignored).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
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

from artistrec.data import load_dataset
from artistrec.data.scale import to_levels
from artistrec.data.synthetic import SyntheticSpec, generate
from artistrec.history import samples

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
START_TIMEOUT_S = 300  # includes training the default model once when it is not cached
UI_TIMEOUT_MS = 60_000

pytestmark = [
    pytest.mark.browser,
    pytest.mark.timeout(900),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed"),
]
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

REAL = os.environ.get("LASTFM_DATA_DIR")
#: real data: (spelling in the export, catalogue name); "Emminen" is a close match to confirm
REAL_ARTISTS = [("Guns N Roses", "Guns N' Roses"), ("Bjork", "Björk"), ("REM", "R.E.M.")]


@pytest.fixture(scope="module")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    real = bool(REAL) and Path(REAL).is_dir()
    data_dir = (
        Path(REAL) if real else generate(tmp_path_factory.mktemp("e2e-data"), SyntheticSpec())
    )
    cache = os.environ.get("ARTISTREC_CACHE_DIR") or str(tmp_path_factory.getbasetemp() / "cache")
    log = tmp_path_factory.mktemp("e2e-log") / "app.log"
    proc, url = start_app(data_dir, cache, log)
    try:
        wait_healthy(proc, url, START_TIMEOUT_S, log)
        yield {"url": url, "real": real, "data_dir": data_dir}
    finally:
        stop_app(proc)


def _artists(server: dict[str, object]) -> list[tuple[str, str]]:
    """(spelling in the export, catalogue name) of three catalogue artists."""
    if server["real"]:
        return REAL_ARTISTS
    ds = load_dataset(Path(str(server["data_dir"])))
    order = np.argsort(-ds.artist_listeners(), kind="stable")[:3]
    names = [str(ds.artist_names[i]) for i in order]
    return [(names[0].upper(), names[0]), (names[1], names[1]), (names[2], names[2])]


def _shot(page, name: str) -> None:  # noqa: ANN001
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_import_listening_history_in_the_browser(app_server) -> None:  # noqa: ANN001
    artists = _artists(app_server)
    extra = ["Emminen"] if app_server["real"] else []
    streams = samples.generate_streams(
        [a for a, _ in artists] + extra + ["Qwxyzzt Plorb"], 1500, seed=4
    )
    parts = samples.spotify_extended(streams, parts=2)
    export = samples.zipped({f"Streaming_History_Audio_{i}.json": b for i, b in enumerate(parts)})
    scrobbles = samples.lastfm_csv(streams, bom=True)
    plays = {k: 2 * v for k, v in streams.plays().items()}  # the zip and the CSV add up

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=60_000
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(UI_TIMEOUT_MS)
        try:
            page.goto(str(app_server["url"]), timeout=UI_TIMEOUT_MS)
            page.get_by_text("Popular artists to start from").wait_for()
            wait_idle(page)
            page.get_by_text("Import listening history").click()
            page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
                [
                    {
                        "name": "my_spotify_data.zip",
                        "mimeType": "application/zip",
                        "buffer": export,
                    },
                    {"name": "scrobbles.csv", "mimeType": "text/csv", "buffer": scrobbles},
                ]
            )
            page.get_by_text("scrobbles.csv").wait_for()
            wait_idle(page)
            import_button = page.get_by_role("button", name="Import", exact=True)
            import_button.click()
            total = sum(plays.values())
            page.get_by_text(
                re.compile(rf"Read {total:,} plays of \d+ artists from 3 files")
            ).wait_for()
            wait_idle(page)
            _shot(page, "history-1-imported")

            # the summary: matched, unmatched
            main = page.locator('[data-testid="stMain"]')
            assert main.get_by_text(re.compile(r"Matched 3 artists")).count() == 1
            assert main.get_by_text(re.compile(r"Not in the catalogue: 1 name")).count() == 1
            # the rating list: each imported artist with the level of its plays
            levels = {name: int(to_levels(plays[spelling])) for spelling, name in artists}
            caption = main.get_by_text(re.compile(r"artists for .* computed in"))
            text = caption.inner_text()
            for name, level in levels.items():
                assert f"{name} (level {level})" in text, text
            cards = browser_card_names(page)
            assert len(cards) == 12
            assert not set(levels) & set(cards), set(levels) & set(cards)
            # the uploader was emptied: the files are not kept
            assert page.get_by_text("scrobbles.csv").count() == 0

            if extra:  # accept the close match: Eminem joins the ratings, at its level
                assert "Eminem" not in cards
                # the innermost row holding the candidate (the page's columns hold it too)
                row = main.locator('[data-testid="stHorizontalBlock"]', has_text="Emminen").last
                row.get_by_role("button").first.click()  # the check mark: accept
                page.get_by_text(re.compile(r"for 4 rated artists")).wait_for()
                wait_idle(page)
                assert "Eminem" not in browser_card_names(page)

            # the panel stays open while the page around it changes (a search adds buttons)
            search = page.get_by_role("textbox", name="Search the catalogue")
            search.fill("zzqxjw")
            search.press("Enter")
            main.get_by_text(re.compile("zzqxjw")).first.wait_for()  # the page answers it
            wait_idle(page)
            assert main.get_by_text(re.compile(r"Matched 3 artists")).is_visible()

            # an imported artist is removed like a hand-added one
            first = artists[0][1]
            slider = page.locator('[data-testid="stSlider"]', has_text=first)
            rating_row = main.locator('[data-testid="stHorizontalBlock"]').filter(has=slider).last
            rating_row.get_by_role("button").click()
            expect(slider).to_have_count(0)
            expect(caption).not_to_contain_text(first)
            wait_idle(page)
            assert re.search(r"artists for .*\(level \d\)", caption.inner_text())
            _shot(page, "history-2-edited")
            assert page.locator('[data-testid="stException"]').count() == 0
        finally:
            _shot(page, "history-last-state")
            browser.close()
