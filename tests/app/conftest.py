"""Fixtures for the web app tests: the app on the small synthetic data set with a fast model."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from app_helpers import APP_MODEL
from streamlit.testing.v1 import AppTest

from artistrec.app import ENTRY_SCRIPT
from artistrec.app.common import get_service
from artistrec.service import RecommenderService


@pytest.fixture
def app_env(synthetic_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Point the app at the synthetic data, the fast model and an empty results folder."""
    env = {
        "LASTFM_DATA_DIR": str(synthetic_dir),
        "ARTISTREC_APP_MODEL": APP_MODEL,
        "ARTISTREC_RESULTS_DIR": str(tmp_path / "results"),
    }
    monkeypatch.delenv("ARTISTREC_MODEL_PATH", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


@pytest.fixture
def svc(app_env: dict[str, str]) -> RecommenderService:
    """The very service object the app uses (same process-wide cache)."""
    return get_service()


@pytest.fixture
def make_app(app_env: dict[str, str]) -> Callable[[str | None], AppTest]:
    """``make_app(page)`` runs the app once (on ``page``, e.g. "views/similar.py") and returns it."""

    def make(page: str | None = None) -> AppTest:
        at = AppTest.from_file(str(ENTRY_SCRIPT), default_timeout=60).run()
        assert not at.exception, at.exception
        if page is not None:
            at.switch_page(page).run()
            assert not at.exception, at.exception
        return at

    return make
