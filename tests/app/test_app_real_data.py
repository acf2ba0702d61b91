"""The web app on the real data (integration): the default model's cards follow every change.

Timings of the same flow (re-render < 300 ms, start < 10 s) are measured by
``benchmarks/app_speed.py`` and reported in docs/BENCHMARKS.md, not asserted here.
"""

from __future__ import annotations

import pytest
from app_helpers import card_names
from streamlit.testing.v1 import AppTest

from artistrec.app import ENTRY_SCRIPT
from artistrec.app.common import DEFAULT_LEVEL, get_service
from artistrec.data import Dataset

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

#: (search query, the most listened artist it finds on the real data)
PICKS = (("radiohead", "Radiohead"), ("bjork", "Björk"), ("daft punk", "Daft Punk"))
K = 12  # cards the page shows by default


def test_cards_follow_level_changes_with_the_default_model(
    real_ds: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ARTISTREC_MODEL_PATH", raising=False)
    monkeypatch.delenv("ARTISTREC_APP_MODEL", raising=False)
    at = AppTest.from_file(str(ENTRY_SCRIPT), default_timeout=600).run()
    assert not at.exception, at.exception
    for query, name in PICKS:
        at.text_input(key="search").input(query).run()
        first = [b for b in at.button if b.key and b.key.startswith("add_")][0]
        assert name in str(first.label)
        first.click().run()
    picked = dict(at.session_state["picked"])
    assert list(picked.values()) == [name for _, name in PICKS]
    svc = get_service()
    first_id = next(iter(picked))
    shown = []
    for level in (5, 2, 5):
        at.select_slider(key=f"level_{first_id}").set_value(level).run()
        assert not at.exception, at.exception
        ratings = {a: (level if a == first_id else DEFAULT_LEVEL) for a in picked}
        expected = [r.name for r in svc.recommend_for_ratings(ratings, k=K)]
        assert card_names(at) == expected
        assert not set(expected) & set(picked.values())
        shown.append(expected)
    # the same ratings give the same cards; the level of Radiohead moves the ranking
    assert shown[0] == shown[2] and shown[0] != shown[1]
