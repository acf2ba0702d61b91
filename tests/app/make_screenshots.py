"""Regenerate the README's screenshots (docs/img/app-*.png) from a running app.

    artistrec app --port 8765 &          # on the real data (LASTFM_DATA_DIR)
    python tests/app/make_screenshots.py http://127.0.0.1:8765 [--model NAME]

Drives headless Chromium like tests/app/test_app_browser.py; every wait is bounded.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from app_helpers import CHROMIUM, CHROMIUM_ARGS, wait_idle
from playwright.sync_api import sync_playwright

OUT = Path(__file__).resolve().parents[2] / "docs" / "img"
PICKS = [("radiohead", "Radiohead"), ("bjork", "Björk"), ("daft punk", "Daft Punk")]


def _top(page, text: str) -> None:
    """Scroll so that the heading ``text`` is at the top of the viewport."""
    page.get_by_role("heading", name=text).evaluate("e => e.scrollIntoView({block: 'start'})")
    page.mouse.move(100, 900)  # over the sidebar: no chart toolbar, no hover effects
    page.wait_for_timeout(500)  # let the scroll settle before the picture


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--model", default=None, help="model to choose in the sidebar")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 950})
        page.set_default_timeout(60_000)
        page.goto(args.url)
        page.get_by_text("Popular artists to start from").wait_for()
        wait_idle(page)
        if args.model:
            page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first.click()
            page.get_by_role("option", name=args.model, exact=True).click()
            wait_idle(page)
        search = page.get_by_role("textbox", name="Search the catalogue")
        for query, name in PICKS:
            search.fill(query)
            search.press("Enter")
            page.get_by_role(
                "button", name=re.compile(rf"^(add )?{re.escape(name)} · ")
            ).first.click()
            page.get_by_text(re.compile(re.escape(f"{name} (level 3)"))).wait_for()
        slider = page.locator('[data-testid="stMain"] input[type="range"]').first
        slider.focus()
        slider.press("ArrowRight")
        page.get_by_text(re.compile(re.escape(f"{PICKS[0][1]} (level 4)"))).wait_for()
        search.fill("")
        search.press("Enter")
        page.get_by_text("Artists matching").wait_for(state="detached")
        wait_idle(page)
        page.mouse.click(900, 60)  # empty header space: drops the focus ring
        page.mouse.move(1390, 940)
        page.screenshot(path=str(OUT / "app-recommend.png"))

        page.get_by_role("link", name="Similar artists").click()
        page.get_by_text("Artists similar to").wait_for()
        wait_idle(page)
        search = page.get_by_role("textbox", name="Search the catalogue")
        search.fill("radiohead")
        search.press("Enter")
        page.get_by_text("Artists similar to Radiohead").wait_for()
        wait_idle(page)
        page.evaluate("document.activeElement && document.activeElement.blur()")
        page.screenshot(path=str(OUT / "app-similar.png"))

        page.get_by_role("link", name="Explore the data").click()
        page.get_by_text("Tag frequency by rank (log-log)").wait_for()
        wait_idle(page)
        page.mouse.move(800, 600)
        page.mouse.wheel(0, 430)
        page.wait_for_timeout(500)  # let the scroll settle before the picture
        page.screenshot(path=str(OUT / "app-explore.png"))

        page.get_by_role("link", name="Models").click()
        page.get_by_role("heading", name="Benchmarks").wait_for()
        wait_idle(page, timeout_ms=120_000)
        page.get_by_role("tab", name="new-users", exact=True).click()
        wait_idle(page)
        _top(page, "Benchmarks")
        page.screenshot(path=str(OUT / "app-models-benchmarks.png"))
        page.get_by_role("button", name="Train and compare (about 10 s)").click()
        page.get_by_text("Held-out error at the last epoch").wait_for(timeout=300_000)
        draw = page.get_by_role("button", name="Draw the map")
        if draw.is_enabled():  # a layout kept beside the model is drawn without asking
            draw.click()
        page.get_by_text("2-D map (t-SNE)").wait_for()
        wait_idle(page, timeout_ms=300_000)
        _top(page, "Training curves of seed-mf")
        page.screenshot(path=str(OUT / "app-models-curves.png"))
        _top(page, "Artist embeddings")
        page.screenshot(path=str(OUT / "app-models.png"))
        browser.close()
    for f in sorted(OUT.glob("app-*.png")):
        print(f, f.stat().st_size // 1024, "KB")


if __name__ == "__main__":
    main()
