"""AppTest of the "Get recommendations" page on the synthetic data set."""

from __future__ import annotations

from app_helpers import APP_MODEL, card_names
from streamlit.testing.v1 import AppTest

from artistrec.app.common import recommendations_frame
from artistrec.data.names import fold_name as fold
from artistrec.service import RecommenderService


def _add(at: AppTest, query: str, position: int = 0) -> tuple[int, str]:
    """Search ``query`` and click the ``position``-th hit; returns (artist id, name)."""
    at.text_input(key="search").input(query).run()
    hits = [b for b in at.button if b.key and b.key.startswith("add_")]
    assert hits, f"no search hits for {query!r}"
    button = hits[position]
    artist_id = int(button.key.removeprefix("add_"))
    button.click().run()
    assert not at.exception, at.exception
    return artist_id, str(button.label).split(" · ")[0]


def _names(svc: RecommenderService, recs: list) -> list[str]:
    return [r.name for r in recs]


def test_empty_selection_shows_popular_artists_and_a_hint(make_app, svc) -> None:
    at = make_app()
    assert at.title[0].value.endswith("Get recommendations")
    assert [s.value for s in at.subheader if "Popular" in s.value] == [
        "Popular artists to start from"
    ]
    assert any("Search for an artist" in i.value for i in at.info)
    assert card_names(at) == _names(svc, svc.popular(12))


def test_search_is_accent_and_case_insensitive_most_listened_first(make_app, svc) -> None:
    at = make_app()
    at.text_input(key="search").input("ROYKSOPP").run()
    buttons = [b for b in at.button if b.key and b.key.startswith("add_")]
    assert buttons, "accent-free upper-case query found nothing"
    labels = [str(b.label) for b in buttons]
    assert all("royksopp" in fold(label) for label in labels)
    listeners = [int(label.rsplit(" · ", 1)[1].split()[0].replace(",", "")) for label in labels]
    assert listeners == sorted(listeners, reverse=True)
    expected = [h.id for h in svc.search_artists("röyksopp", limit=len(buttons))]
    assert [int(b.key.removeprefix("add_")) for b in buttons] == expected


def test_unknown_search_warns_and_suggests(make_app, svc) -> None:
    at = make_app()
    at.text_input(key="search").input("zzqxj").run()
    assert not at.exception
    assert any("No artist matches" in w.value for w in at.warning)
    assert not [b for b in at.button if b.key and b.key.startswith("add_")]
    # a misspelt real name finds the artist among close spellings, best first, and adds it
    popular = svc.popular(1)[0]
    misspelt = popular.name[:-1] + "q"
    at.text_input(key="search").input(misspelt).run()
    buttons = [b for b in at.button if b.key and b.key.startswith("add_")]
    assert [int(b.key.removeprefix("add_")) for b in buttons] == [
        h.id for h in svc.search_artists(misspelt, limit=len(buttons))
    ]
    assert int(buttons[0].key.removeprefix("add_")) == popular.artist_id
    buttons[0].click().run()
    assert not at.exception
    assert list(at.session_state["picked"].values()) == [popular.name]


def test_rated_artists_excluded_and_results_follow_selection(make_app, svc) -> None:
    at = make_app()
    popular_cards = card_names(at)
    a_id, a_name = _add(at, "blue")
    assert [s.value for s in at.subheader if "Recommended" in s.value]
    after_one = card_names(at)
    assert a_name not in after_one
    assert popular_cards == _names(svc, svc.popular(12))
    assert after_one == _names(svc, svc.recommend_for_ratings({a_id: 3}, k=12, model=APP_MODEL))
    b_id, b_name = _add(at, "night")
    c_id, c_name = _add(at, "café")
    names = card_names(at)
    assert len(names) == 12
    assert not {a_name, b_name, c_name} & set(names)
    expected = svc.recommend_for_ratings({a_id: 3, b_id: 3, c_id: 3}, k=12, model=APP_MODEL)
    assert names == _names(svc, expected)
    # the added artist's button is now disabled, and a caption names the rated artists
    assert at.button(key=f"add_{c_id}").disabled
    assert any(a_name in c.value and c_name in c.value for c in at.caption)


def test_ratings_are_used(make_app, svc) -> None:
    at = make_app()
    a_id, _ = _add(at, "blue")
    b_id, _ = _add(at, "echo")
    before = card_names(at)
    at.select_slider(key=f"level_{a_id}").set_value(5).run()
    at.select_slider(key=f"level_{b_id}").set_value(1).run()
    assert not at.exception
    expected = svc.recommend_for_ratings({a_id: 5, b_id: 1}, k=12, model=APP_MODEL)
    assert card_names(at) == _names(svc, expected)
    baseline = svc.recommend_for_ratings({a_id: 3, b_id: 3}, k=12, model=APP_MODEL)
    assert before == _names(svc, baseline)
    # the level labels show the scale's meaning
    options = at.select_slider(key=f"level_{a_id}").options
    assert options[0] == "1 · once" and options[1] == "2 · 2-1,000 plays"
    assert options[4] == "5 · over 50,000 plays"


def test_controls_number_model_novelty(make_app, svc) -> None:
    at = make_app()
    a_id, _ = _add(at, "blue")
    at.sidebar.slider(key="k").set_value(6).run()
    assert len(card_names(at)) == 6
    at.sidebar.selectbox(key="model").set_value("popularity").run()
    assert not at.exception
    pop = svc.recommend_for_ratings({a_id: 3}, k=6, model="popularity")
    assert card_names(at) == _names(svc, pop)
    at.sidebar.selectbox(key="model").set_value(APP_MODEL).run()
    at.sidebar.slider(key="novelty").set_value(1.0).run()
    novel = svc.recommend_for_ratings({a_id: 3}, k=6, model=APP_MODEL, novelty=1.0)
    assert card_names(at) == _names(svc, novel)


def test_not_interested_and_remove(make_app) -> None:
    at = make_app()
    a_id, a_name = _add(at, "blue")
    first = card_names(at)[0]
    hide = [b for b in at.button if b.key and b.key.startswith("hide_")][0]
    hide.click().run()
    assert first not in card_names(at)
    assert len(card_names(at)) == 12
    assert any(first in c.value for c in at.sidebar.caption)
    at.sidebar.button(key="unhide").click().run()
    assert card_names(at)[0] == first
    at.button(key=f"remove_{a_id}").click().run()
    assert not at.session_state["picked"]
    assert [s.value for s in at.subheader if "Popular" in s.value]


def test_quick_add_from_popular_and_clear(make_app, svc) -> None:
    at = make_app()
    top = svc.popular(1)[0]
    at.button(key=f"quickadd_{top.artist_id}").click().run()
    assert at.session_state["picked"] == {top.artist_id: top.name}
    assert at.select_slider(key=f"level_{top.artist_id}").value == 3
    assert top.name not in card_names(at)
    at.button(key="clear").click().run()
    assert not at.session_state["picked"]


def test_download_frame_matches_cards(svc) -> None:
    recs = svc.popular(5)
    df = recommendations_frame(recs)
    assert list(df["name"]) == [r.name for r in recs]
    assert list(df["rank"]) == [1, 2, 3, 4, 5]
    assert list(df.columns) == ["rank", "artist_id", "name", "score", "tags", "reason", "url"]
    assert df.to_csv(index=False).splitlines()[0] == "rank,artist_id,name,score,tags,reason,url"
