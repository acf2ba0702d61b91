"""AppTest of "Import listening history" on the recommendations page (synthetic data)."""

from __future__ import annotations

import re

import numpy as np
import pytest
from app_helpers import card_names
from streamlit.testing.v1 import AppTest

from artistrec.app import ENTRY_SCRIPT
from artistrec.app.common import get_service
from artistrec.history import HistoryImporter, samples
from artistrec.service import RecommenderService
from artistrec.service import history as service_history


def _popular(svc: RecommenderService, n: int) -> list[tuple[int, str]]:
    order = np.argsort(-svc.catalogue.listeners, kind="stable")[:n]
    return [(int(svc.catalogue.ids[i]), str(svc.catalogue.names[i])) for i in order]


def _uploader(at: AppTest):  # noqa: ANN202
    [up] = [u for u in at.file_uploader if u.key.startswith("history_files_")]
    return up


def _import(at: AppTest, files: dict[str, bytes]) -> AppTest:
    _uploader(at).set_value([(n, d, "application/octet-stream") for n, d in files.items()])
    at.run()
    at.button(key="history_import").click().run()
    assert not at.exception, at.exception
    return at


def _text(at: AppTest) -> str:
    """Everything the page says, markdown emphasis and escapes removed."""
    raw = " ".join(m.value for m in [*at.markdown, *at.success, *at.caption, *at.error])
    return re.sub(r"\\(.)", r"\1", raw.replace("**", ""))


def _use_popularity(at: AppTest) -> None:
    """The popularity model recommends exactly what a history of popular artists must not get."""
    at.sidebar.selectbox(key="model").set_value("popularity").run()


def test_spotify_zip_import_rates_the_matched_artists(make_app, svc) -> None:
    at = make_app()
    _use_popularity(at)
    top = _popular(svc, 16)
    names = [n for _, n in top[:4]]
    streams = samples.generate_streams([*names, "Zz Unknown Band"], 600, seed=2)
    parts = samples.spotify_extended(streams, parts=2)
    export = samples.zipped({f"Streaming_History_Audio_{i}.json": b for i, b in enumerate(parts)})
    assert not at.button(key="history_import").value
    assert at.button(key="history_import").disabled  # nothing uploaded yet
    _import(at, {"my_spotify_data.zip": export})
    plays = streams.plays()
    text = _text(at)
    assert f"Read {sum(plays.values()):,} plays of 5 artists from 2 files." in text
    assert "rows without an artist (podcasts, videos) skipped" in text
    assert "Matched 4 artists" in text
    assert "Not in the catalogue: 1 name, most played first: Zz Unknown Band" in text
    # the matched artists are in the rating list with the levels of their plays
    picked = at.session_state["picked"]
    assert set(picked) == {a for a, _ in top[:4]}
    for artist_id, name in top[:4]:
        level = at.select_slider(key=f"level_{artist_id}").value
        assert level == (1 if plays[name] == 1 else 2 if plays[name] <= 1000 else 3)
    # none of them is recommended: popularity goes on with the next most popular artists
    assert card_names(at) == [n for _, n in top[4:16]]
    # the file is gone from the uploader (a fresh, empty one)
    assert not _uploader(at).value


def test_imported_ratings_are_edited_and_removed_like_hand_added_ones(make_app, svc) -> None:
    at = make_app()
    (a, name_a), (b, name_b) = _popular(svc, 2)
    _import(at, {"plays.csv": samples.plays_table({name_a: 20_000, name_b: 5})})
    assert at.select_slider(key=f"level_{a}").value == 4
    at.select_slider(key=f"level_{a}").set_value(5).run()
    at.button(key=f"remove_{b}").click().run()
    assert not at.exception
    assert at.session_state["picked"] == {a: name_a}
    expected = svc.recommend_for_ratings(
        {a: 5}, k=12, model=at.sidebar.selectbox(key="model").value
    )
    assert card_names(at) == [r.name for r in expected]


def test_beyond_the_rating_list_the_history_is_still_excluded(
    make_app, svc, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service_history, "HISTORY_MAX_RATINGS", 2)
    at = make_app()
    _use_popularity(at)
    top = _popular(svc, 17)
    plays = {name: 500 - i for i, (_, name) in enumerate(top[:5])}
    _import(at, {"plays.tsv": samples.plays_table(plays, sep="\t")})
    assert list(at.session_state["picked"]) == [a for a, _ in top[:2]]
    assert "The 2 most played are in your ratings below; the other 3 are never recommended." in (
        _text(at)
    )
    assert card_names(at) == [n for _, n in top[5:17]]


def test_close_matches_are_confirmed_or_rejected(
    make_app, svc, monkeypatch: pytest.MonkeyPatch
) -> None:
    # every fuzzy match waits for confirmation
    strict = HistoryImporter(svc.catalogue.matcher, svc.catalogue.ids, confident_score=100)
    monkeypatch.setattr(svc.history, "_importer", strict)
    at = make_app()
    _use_popularity(at)
    top = _popular(svc, 15)
    (a, name_a), (b, name_b), (c, name_c) = top[:3]
    _import(at, {"p.csv": samples.plays_table({name_a: 9, name_b + "x": 2000, name_c + "x": 3})})
    assert "Close matches to confirm (2;" in _text(at)
    assert list(at.session_state["picked"]) == [a]
    # awaiting confirmation: not rated, not recommended
    assert not {name_b, name_c} & set(card_names(at))
    at.button(key=f"history_accept_{b}_{name_b}x").click().run()
    assert at.session_state["picked"] == {a: name_a, b: name_b}
    assert at.select_slider(key=f"level_{b}").value == 3  # the level of its 2,000 plays
    at.button(key=f"history_reject_{c}_{name_c}x").click().run()
    assert not at.exception
    assert "Close matches to confirm" not in _text(at)
    # rejected: it may be recommended again (it is the most popular artist left)
    assert card_names(at)[0] == name_c


def test_many_unmatched_names_are_summarised(make_app, svc) -> None:
    at = make_app()
    (_, name), *_ = _popular(svc, 1)
    unknown = {f"Qq Unknown {i:02d}": 100 + i for i in range(30)}
    _import(at, {"p.csv": samples.plays_table({name: 5, **unknown})})
    text = _text(at)
    listed = ", ".join(f"Qq Unknown {i:02d} ({100 + i})" for i in range(29, 9, -1))
    assert f"Not in the catalogue: 30 names, most played first: {listed} and 10 more." in text
    [table] = at.dataframe
    assert len(table.value) == 30  # the full list, most played first
    assert table.value["name"].iloc[0] == "Qq Unknown 29"


def test_errors_are_shown_and_nothing_changes(make_app, svc) -> None:
    at = make_app()
    _import(at, {"notes.txt": b"hello\nworld\n"})
    [error] = at.error
    assert "notes.txt" in error.value and "Understood formats" in error.value
    assert not at.session_state["picked"]
    _import(at, {"h.json": b'[{"ts": "2020", "ms_played": 1'})
    assert "h.json: not valid JSON" in at.error[0].value


def test_forget_undoes_the_import(make_app, svc) -> None:
    at = make_app()
    (a, name_a), (b, name_b), (c, _) = _popular(svc, 3)
    at.button(key=f"quickadd_{c}").click().run()  # a hand-added artist stays
    _import(at, {"p.csv": samples.plays_table({name_a: 20, name_b: 10})})
    assert set(at.session_state["picked"]) == {a, b, c}
    at.button(key="history_forget").click().run()
    assert not at.exception
    assert set(at.session_state["picked"]) == {c}
    assert "Matched" not in _text(at)


@pytest.mark.integration
@pytest.mark.timeout(900)
def test_real_data_cards_equal_the_api_answer(real_ds, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    """The same export gives the web app the recommendations the CLI and the API give."""
    monkeypatch.delenv("ARTISTREC_MODEL_PATH", raising=False)
    monkeypatch.delenv("ARTISTREC_APP_MODEL", raising=False)
    at = AppTest.from_file(str(ENTRY_SCRIPT), default_timeout=600).run()
    assert not at.exception, at.exception
    streams = samples.generate_streams(
        ["Guns N Roses", "Bjork", "REM", "Daft Punk", "Qwxyzzt Plorb"], 800, seed=5
    )
    files = {"StreamingHistory0.json": samples.spotify_account(streams)[0]}
    _import(at, files)
    matched = {"Guns N' Roses", "Björk", "R.E.M.", "Daft Punk"}
    assert set(at.session_state["picked"].values()) == matched
    body = get_service().import_history(list(files.items()), k=12)
    assert card_names(at) == [r["name"] for r in body["recommendations"]]
    assert not matched & set(card_names(at))


def test_large_imports_show_progress(make_app, svc, monkeypatch: pytest.MonkeyPatch) -> None:
    """The page hands the service a progress callback and draws it (a bar per file read)."""
    calls: list[tuple[int, int]] = []
    real = svc.read_history

    def recording(files, progress=None, **kw):  # noqa: ANN001, ANN003, ANN202
        assert progress is not None

        def spy(done: int, total: int) -> None:
            calls.append((done, total))
            progress(done, total)

        return real(files, progress=spy, **kw)

    monkeypatch.setattr(svc, "read_history", recording)
    at = make_app()
    (_, name), *_ = _popular(svc, 1)
    files = {f"p{i}.csv": samples.plays_table({name: 10 + i}) for i in range(3)}
    _import(at, files)
    assert calls == [(1, 3), (2, 3), (3, 3)]
    assert "Read 33 plays of 1 artist from 3 files." in _text(at)


def test_a_second_import_adds_to_the_first(make_app, svc, monkeypatch: pytest.MonkeyPatch) -> None:
    strict = HistoryImporter(svc.catalogue.matcher, svc.catalogue.ids, confident_score=100)
    monkeypatch.setattr(svc.history, "_importer", strict)
    at = make_app()
    _use_popularity(at)
    top = _popular(svc, 16)
    _import(at, {"a.csv": samples.plays_table({top[0][1]: 30, top[1][1] + "x": 3})})
    _import(at, {"b.csv": samples.plays_table({top[2][1]: 30})})
    assert list(at.session_state["picked"]) == [top[0][0], top[2][0]]
    # the first import's match to confirm is still listed, and still not recommended
    assert "Close matches to confirm (1;" in _text(at)
    assert card_names(at) == [n for _, n in top[3:15]]
    at.button(key="history_forget").click().run()
    assert not at.session_state["picked"]
    assert card_names(at)[0] == top[0][1]  # nothing of either history is left out any more
