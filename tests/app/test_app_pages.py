"""AppTest of the "Similar artists", "Explore the data" and "Models" pages (synthetic data)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from app_helpers import APP_MODEL, card_names

from artistrec import explore


def _charts(at) -> list:
    return at.get("vega_lite_chart")


# ----------------------------------------------------------------------------- similar
def test_similar_defaults_to_most_listened_artist(make_app, svc) -> None:
    at = make_app("views/similar.py")
    top = svc.search_artists("", limit=1)[0]
    assert at.selectbox(key="sim_artist").value == top.id
    expected = svc.similar(top.id, k=12, measure="cosine", model=APP_MODEL)
    assert card_names(at) == [r.name for r in expected]
    assert top.name not in card_names(at)
    assert any(top.name in s.value for s in at.subheader)


def test_similar_search_measure_and_k(make_app, svc) -> None:
    at = make_app("views/similar.py")
    at.text_input(key="sim_search").input("night").run()
    options = at.selectbox(key="sim_artist").options
    hits = svc.search_artists("night", limit=50)
    assert len(options) == len(hits)
    target = hits[1]
    at.selectbox(key="sim_artist").set_value(target.id).run()
    at.sidebar.radio(key="sim_measure").set_value("dot").run()
    at.sidebar.slider(key="sim_k").set_value(6).run()
    assert not at.exception
    expected = svc.similar(target.id, k=6, measure="dot", model=APP_MODEL)
    assert card_names(at) == [r.name for r in expected]
    assert any("dot similarity" in c.value for c in at.caption)


def test_similar_unknown_search(make_app) -> None:
    at = make_app("views/similar.py")
    at.text_input(key="sim_search").input("zzqxj").run()
    assert not at.exception
    assert any("No artist matches" in w.value for w in at.warning)
    assert not card_names(at)


def test_similar_near_miss_offers_the_close_name_first(make_app, svc) -> None:
    at = make_app("views/similar.py")
    popular = svc.popular(1)[0]
    misspelt = popular.name[:-1] + "q"
    at.text_input(key="sim_search").input(misspelt).run()
    assert not at.exception
    assert any("Did you mean" in c.value and "No artist is named" in c.value for c in at.caption)
    assert at.selectbox(key="sim_artist").value == popular.artist_id
    assert card_names(at)  # the neighbours of the meant artist are shown


def test_model_choice_is_shared_between_pages(make_app) -> None:
    at = make_app()
    at.sidebar.selectbox(key="model").set_value("popularity").run()
    at.switch_page("views/similar.py").run()
    assert at.sidebar.selectbox(key="model").value == "popularity"


# ----------------------------------------------------------------------------- explore
def test_explore_page_shows_statistics_and_charts(make_app, svc) -> None:
    at = make_app("views/explore.py")
    stats = explore.dataset_stats(svc.dataset)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Artists"] == f"{stats['artists']:,}"
    assert metrics["Listeners (users)"] == f"{stats['users']:,}"
    assert metrics["Tag assignments"] == f"{stats['tag_assignments']:,}"
    assert len(_charts(at)) == 8
    at.radio(key="explore_artists_by").set_value("listeners").run()
    assert not at.exception


# ----------------------------------------------------------------------------- models
def test_models_page_without_results_shows_a_note(make_app) -> None:
    at = make_app("views/models.py")
    assert any("No benchmark results found" in i.value for i in at.info)
    # seed-mf curves + the norm scatter (the t-SNE map waits for its button)
    assert len(_charts(at)) >= 1
    assert at.button(key="draw_map")


def test_models_page_reads_benchmark_summaries(make_app, app_env) -> None:
    results = Path(app_env["ARTISTREC_RESULTS_DIR"])
    results.mkdir(parents=True)
    pd.DataFrame(
        {
            "model": ["popularity", "als"],
            "protocol": ["warm", "warm"],
            "n_revealed": [np.nan, np.nan],
            "runs": [3, 3],
            "ndcg_mean": [0.1, 0.3],
            "ndcg_std": [0.01, 0.02],
            "recall_mean": [0.2, 0.4],
            "recall_std": [0.0, 0.01],
            "k": [10, 10],
        }
    ).to_csv(results / "warm_summary.csv", index=False)
    at = make_app("views/models.py")
    assert not any("No benchmark results found" in i.value for i in at.info)
    assert at.selectbox(key="bench_metric_warm").options == ["ndcg", "recall"]
    table = at.dataframe[0].value
    assert list(table["model"]) == ["popularity", "als"]
    # numbers (sortable, three decimals on screen); the spread is in the chart's error bars
    assert list(table["ndcg"]) == [0.1, 0.3] and list(table["recall"]) == [0.2, 0.4]


def test_models_page_compares_seed_mf_variants(make_app) -> None:
    at = make_app("views/models.py")
    before = len(_charts(at))
    at.button(key="train_variants").click().run(timeout=120)
    assert not at.exception, at.exception
    assert len(_charts(at)) == before + 1
    caption = [c.value for c in at.caption if "Held-out error at the last epoch" in c.value]
    assert caption and "plain" in caption[0] and "gravity" in caption[0]


def test_models_page_draws_the_embedding_map(make_app, svc) -> None:
    at = make_app("views/models.py")
    candidates = at.selectbox(key="emb_model").options
    factor = [m for m in ("als", "bpr", "seed-mf") if m in candidates]
    assert factor, "no factor model to draw"
    at.selectbox(key="emb_model").set_value(factor[-1]).run()
    cached = explore.map_cache_path(svc.model_info(factor[-1])["artifact"], 100)
    cached.unlink(missing_ok=True)  # a layout from an earlier run would be drawn at once
    at.slider(key="emb_n").set_value(100).run()
    assert explore.item_embeddings(svc.model(factor[-1])) is not None
    before = len(_charts(at))
    at.button(key="draw_map").click().run(timeout=120)
    assert not at.exception, at.exception
    assert len(_charts(at)) == before + 1
    assert cached.is_file()  # kept beside the model's artifact
    # a new session (an app restart) draws the kept layout without asking
    again = make_app("views/models.py")
    again.selectbox(key="emb_model").set_value(factor[-1]).run()
    again.slider(key="emb_n").set_value(100).run()
    assert again.button(key="draw_map").disabled
    assert len(_charts(again)) == before + 1


def test_models_page_model_without_embedding(make_app, svc) -> None:
    at = make_app("views/models.py")
    candidates = at.selectbox(key="emb_model").options
    plain = [m for m in candidates if explore.item_embeddings(svc.model(m)) is None]
    if not plain:
        pytest.skip("every registered model has an item embedding")
    at.selectbox(key="emb_model").set_value(plain[0]).run()
    assert not at.exception
    assert any("has no item embedding" in i.value for i in at.info)


def test_unloadable_data_shows_a_clear_error(tmp_path, monkeypatch) -> None:
    from streamlit.testing.v1 import AppTest

    from artistrec.app import ENTRY_SCRIPT

    empty = tmp_path / "no-data"
    empty.mkdir()
    monkeypatch.setenv("LASTFM_DATA_DIR", str(empty))
    monkeypatch.setenv("ARTISTREC_DATA_URL", "http://127.0.0.1:9/none.zip")
    at = AppTest.from_file(str(ENTRY_SCRIPT), default_timeout=60).run()
    assert not at.exception, at.exception
    assert any("could not load its data or model" in e.value for e in at.error)


def test_model_artifact_from_the_environment_serves_as_default(
    app_env, synthetic_ds, tmp_path, monkeypatch
) -> None:
    """`artistrec app --model PATH` sets ARTISTREC_MODEL_PATH; the app serves it as "default"."""
    from streamlit.testing.v1 import AppTest

    from artistrec import create_model
    from artistrec.app import ENTRY_SCRIPT

    path = create_model("popularity").fit(synthetic_ds).save(tmp_path / "pop.npz")
    monkeypatch.setenv("ARTISTREC_MODEL_PATH", str(path))
    monkeypatch.delenv("ARTISTREC_APP_MODEL")
    at = AppTest.from_file(str(ENTRY_SCRIPT), default_timeout=60).run()
    assert not at.exception, at.exception
    model = at.sidebar.selectbox(key="model")
    assert model.value == "default"
    # the artifact's model answers as "default", although the registry's default is another
    assert model.format_func("default") == "default (popularity)"
