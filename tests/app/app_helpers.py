"""Helpers shared by the web app tests (a uniquely named module, importable from the tests)."""

from __future__ import annotations

import re

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
