"""Regenerate the README's "Import listening history" screenshot (docs/img/app-history.png).

    artistrec app --port 8765 &          # on the real data (LASTFM_DATA_DIR)
    python tests/app/make_history_screenshot.py http://127.0.0.1:8765

Uploads a generated Spotify export (a zip, as Spotify hands it out) through the page's file
input, like tests/app/test_app_browser_history.py; every wait is bounded.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from app_helpers import CHROMIUM, CHROMIUM_ARGS, wait_idle
from playwright.sync_api import sync_playwright

from artistrec.history import samples

OUT = Path(__file__).resolve().parents[2] / "docs" / "img" / "app-history.png"
#: Spellings as an export may carry them; "Emminen" is a close match to confirm.
ARTISTS = [
    "Radiohead",
    "bjork",
    "Daft Punk",
    "Sigur Ros",
    "Portishead",
    "Massive Attack",
    "Emminen",
    "The Unlisted Band",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    args = parser.parse_args()
    streams = samples.generate_streams(ARTISTS, 20_000, seed=11)
    parts = samples.spotify_extended(streams, parts=2)
    export = samples.zipped({f"Streaming_History_Audio_{i}.json": b for i, b in enumerate(parts)})
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1250})
        page.set_default_timeout(60_000)
        page.goto(args.url)
        page.get_by_text("Popular artists to start from").wait_for()
        wait_idle(page)
        page.get_by_text("Import listening history").click()
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
            [{"name": "my_spotify_data.zip", "mimeType": "application/zip", "buffer": export}]
        )
        page.get_by_text("my_spotify_data.zip").wait_for()
        wait_idle(page)
        page.get_by_role("button", name="Import", exact=True).click()
        page.get_by_text(re.compile(r"Read [\d,]+ plays")).wait_for()
        wait_idle(page)
        page.get_by_role("heading", name="1 · Find artists you know").evaluate(
            "e => e.scrollIntoView({block: 'start'})"
        )
        page.mouse.move(100, 900)
        page.wait_for_timeout(500)
        OUT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(OUT))
        browser.close()
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
