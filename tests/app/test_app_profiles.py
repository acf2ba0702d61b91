"""Saving and loading listener profiles: the app's profile service and its sidebar expander."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_helpers import card_names
from streamlit.testing.v1 import AppTest

from artistrec.app.common import get_profiles, md
from artistrec.service import (
    ENV_PROFILE_DB,
    ProfileService,
    RecommenderService,
    UnknownArtistError,
)
from artistrec.store.profiles import ProfileStore


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh profile database for this test, used by the app through $ARTISTREC_DB."""
    path = tmp_path / "profiles.sqlite3"
    monkeypatch.setenv(ENV_PROFILE_DB, str(path))
    return path


def _rate(svc: RecommenderService, n: int, start: int = 0) -> dict[int, int]:
    """{artist id: level} for ``n`` popular artists, levels cycling 1..5."""
    recs = svc.popular(start + n)[start:]
    return {r.artist_id: i % 5 + 1 for i, r in enumerate(recs)}


# ----------------------------------------------------------------------------- service
@pytest.fixture
def profiles(svc: RecommenderService, db: Path) -> ProfileService:
    """The profile service the app's pages use (over $ARTISTREC_DB)."""
    return get_profiles()


def test_app_profile_service_uses_the_configured_database(
    svc: RecommenderService, profiles: ProfileService, db: Path, tmp_path: Path
) -> None:
    ratings = _rate(svc, 4)
    pid, token = profiles.save(ratings, display_name="ann")
    assert profiles.load(pid).ratings == ratings and profiles.load(pid).display_name == "ann"
    # the same database the HTTP API opens on that path sees it, token hash and all
    store = ProfileStore(db)
    assert store.get(pid).ratings == ratings
    assert store.replace(pid, token, {}, None).ratings == {}
    store.close()
    assert get_profiles() is profiles  # one service (and store) per process and path
    with pytest.raises(UnknownArtistError):
        profiles.save({10**9: 3})
    assert ProfileStore(db).count() == 1


# ----------------------------------------------------------------------------- app
def _picked_ratings(at: AppTest) -> dict[int, int]:
    return {a: int(at.session_state[f"level_{a}"]) for a in at.session_state["picked"]}


def svc_model(at: AppTest) -> str:
    """The model chosen in the app's sidebar."""
    return str(at.selectbox(key="model").value)


def _set_ratings(at: AppTest, ratings: dict[int, int], svc: RecommenderService) -> None:
    """Add the artists by quick-add state and set their levels through the sliders."""
    for artist_id in ratings:
        at.session_state["picked"][artist_id] = svc.names_of([artist_id])[0]
    at.run()
    for artist_id, level in ratings.items():
        at.select_slider(key=f"level_{artist_id}").set_value(level).run()
    assert not at.exception, at.exception
    assert _picked_ratings(at) == ratings


def test_app_save_then_load_in_a_fresh_session(make_app, svc, db: Path) -> None:
    ratings = _rate(svc, 3)
    at = make_app()
    _set_ratings(at, ratings, svc)
    at.text_input(key="profile_name").input("tester").run()
    at.button(key="profile_save").click().run()
    assert not at.exception, at.exception
    assert not at.error
    assert any(s.value.startswith("Saved profile") for s in at.success)
    pid, token = at.session_state["profile_id"], at.session_state["profile_token"]
    assert [c.value for c in at.code] == [pid, token]
    assert get_profiles().load(pid).ratings == ratings

    fresh = make_app()
    assert not fresh.session_state["picked"]
    fresh.text_input(key="profile_id").input(pid).run()
    fresh.button(key="profile_load").click().run()
    assert not fresh.exception, fresh.exception
    assert any(s.value.startswith("Loaded 3 rated artist") for s in fresh.success)
    assert _picked_ratings(fresh) == ratings
    assert fresh.text_input(key="profile_name").value == "tester"
    shown = card_names(fresh)
    assert shown == [
        r.name for r in svc.recommend_for_ratings(ratings, k=12, model=svc_model(fresh))
    ]
    assert not set(shown) & set(svc.names_of(ratings))


def test_app_update_with_token_and_wrong_token(make_app, svc, db: Path) -> None:
    at = make_app()
    first = _rate(svc, 2)
    _set_ratings(at, first, svc)
    at.button(key="profile_save").click().run()
    pid, token = at.session_state["profile_id"], at.session_state["profile_token"]

    # saving again with the id and token (still filled in) updates the same profile
    more = {**first, **_rate(svc, 1, start=4)}
    _set_ratings(at, more, svc)
    at.button(key="profile_save").click().run()
    assert any(s.value == f"Updated profile {pid}." for s in at.success)
    assert at.session_state["profile_id"] == pid
    assert get_profiles().load(pid).ratings == more
    assert ProfileStore(db).count() == 1

    # a wrong token changes nothing and says why
    at.text_input(key="profile_token").input("not-the-token").run()
    _set_ratings(at, {**more, **_rate(svc, 1, start=6)}, svc)
    at.button(key="profile_save").click().run()
    assert not at.exception, at.exception
    assert any("does not own" in e.value for e in at.error)
    assert get_profiles().load(pid).ratings == more
    # the owner's token still works
    assert get_profiles().save(first, profile_id=pid, token=token) == (pid, token)
    assert get_profiles().load(pid).ratings == first


def test_app_unknown_id_shows_error_and_keeps_ratings(make_app, svc, db: Path) -> None:
    at = make_app()
    ratings = _rate(svc, 2)
    _set_ratings(at, ratings, svc)
    for bad in ("00000000-0000-0000-0000-000000000000", "not a uuid"):
        at.text_input(key="profile_id").input(bad).run()
        at.button(key="profile_load").click().run()
        assert not at.exception, at.exception
        assert [e.value for e in at.error] == [f"No saved profile has the id “{md(bad)}”."]
        assert _picked_ratings(at) == ratings
    # an id that does not exist cannot be "updated" either
    at.text_input(key="profile_token").input("x").run()
    at.button(key="profile_save").click().run()
    assert any("No saved profile" in e.value for e in at.error)
    assert ProfileStore(db).count() == 0


def test_app_not_interested_round_trips_and_empty_save_refused(make_app, svc, db: Path) -> None:
    at = make_app()
    at.button(key="profile_save").click().run()
    assert [e.value for e in at.error] == ["Rate at least one artist before saving."]
    assert ProfileStore(db).count() == 0

    ratings = _rate(svc, 2)
    _set_ratings(at, ratings, svc)
    hidden_id = next(
        int(b.key.removeprefix("hide_")) for b in at.button if b.key.startswith("hide_")
    )
    at.button(key=f"hide_{hidden_id}").click().run()
    at.button(key="profile_save").click().run()
    pid = at.session_state["profile_id"]
    # "not interested" is stored as level 0 and comes back as hidden, not as a rating
    assert get_profiles().load(pid).ratings == {**ratings, hidden_id: 0}
    fresh = make_app()
    fresh.text_input(key="profile_id").input(pid).run()
    fresh.button(key="profile_load").click().run()
    assert _picked_ratings(fresh) == ratings
    assert list(fresh.session_state["hidden"]) == [hidden_id]
    assert svc.names_of([hidden_id])[0] not in card_names(fresh)
