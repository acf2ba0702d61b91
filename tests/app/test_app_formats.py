"""Every page of the web app on data sets without tags or friends (Last.fm-360K, generic):
no error, and what such a data set lacks is said instead of shown empty."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_helpers import card_names
from streamlit.testing.v1 import AppTest

from artistrec.app import ENTRY_SCRIPT
from artistrec.data.synthetic import SyntheticSpec, generate

PAGES = ["views/recommend.py", "views/similar.py", "views/explore.py", "views/models.py"]


@pytest.fixture(scope="module", params=["lastfm360k", "generic"])
def plain_dir(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    spec = SyntheticSpec(n_users=120, n_artists=240, seed=4)
    return generate(tmp_path_factory.mktemp(request.param), spec, format=request.param)


@pytest.fixture
def at(plain_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("LASTFM_DATA_DIR", str(plain_dir))
    monkeypatch.setenv("ARTISTREC_APP_MODEL", "item-knn")
    monkeypatch.setenv("ARTISTREC_RESULTS_DIR", str(tmp_path / "results"))
    monkeypatch.delenv("ARTISTREC_MODEL_PATH", raising=False)
    app = AppTest.from_file(str(ENTRY_SCRIPT), default_timeout=120).run()
    assert not app.exception, app.exception
    return app


def _texts(at: AppTest) -> str:
    return " ".join(e.value for kind in (at.info, at.caption, at.markdown) for e in kind)


def test_every_page_renders_and_says_what_is_missing(at: AppTest) -> None:
    for page in PAGES:
        at.switch_page(page).run()
        assert not at.exception, (page, at.exception)
        assert not at.error, (page, [e.value for e in at.error])
    at.switch_page("views/explore.py").run()
    texts = _texts(at)
    assert "has no tags and no friends" in texts
    assert "has no tags, so there is nothing to chart here" in texts
    assert "has no friend links" in texts


def test_cards_leave_tags_out_and_say_why(at: AppTest) -> None:
    names = card_names(at)
    assert len(names) == 12
    cards = [m.value for m in at.markdown if m.value.startswith("**1. ")]
    assert cards and "gray-badge" not in cards[0]  # no "no tags" badge on every card
    assert any("has no tags, so the artists show none" in c.value for c in at.caption)
    at.switch_page("views/similar.py").run()
    assert any("has no tags, so the artists show none" in c.value for c in at.caption)
    assert card_names(at)
