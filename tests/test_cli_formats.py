"""Every command on data sets without tags or friends (Last.fm-360K and the generic format):
they work, and say what such a data set does not have instead of failing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from artistrec.cli import app
from artistrec.data import Dataset, load_dataset
from artistrec.data.synthetic import SyntheticSpec, generate

runner = CliRunner()
FORMATS = ["lastfm360k", "generic"]


def _flat(text: str) -> str:
    return " ".join(text.replace("│", " ").split())


@pytest.fixture(scope="module", params=FORMATS)
def plain_dir(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic data set in a format without tags and friends."""
    spec = SyntheticSpec(n_users=120, n_artists=240, seed=3)
    return generate(tmp_path_factory.mktemp(request.param), spec, format=request.param)


@pytest.fixture(scope="module")
def plain_ds(plain_dir: Path) -> Dataset:
    ds = load_dataset(plain_dir, use_cache=False)
    assert not ds.has_tags and not ds.has_friends
    return ds


def _top_name(ds: Dataset, rank: int = 0) -> str:
    order = np.argsort(-ds.artist_listeners(), kind="stable")
    return str(ds.artist_names[order[rank]])


def test_info_and_validate_say_what_is_absent(plain_dir: Path) -> None:
    result = runner.invoke(app, ["data", "info", "--data-dir", str(plain_dir)])
    assert result.exit_code == 0, result.output
    assert "tags not in this data set" in _flat(result.stdout)
    assert "friend relations not in this data set" in _flat(result.stdout)
    result = runner.invoke(app, ["data", "validate", str(plain_dir)])
    assert result.exit_code == 0, result.output


def test_recommend_similar_and_users(plain_dir: Path, plain_ds: Dataset) -> None:
    d = ["--data-dir", str(plain_dir)]
    name = _top_name(plain_ds)
    result = runner.invoke(app, ["recommend", "--rate", f"{name}=4", "--k", "3", *d])
    assert result.exit_code == 0, result.output
    out = _flat(result.stdout)
    assert "because you rated" in out and "(this data set has no tags)" in out
    assert "tags" not in out.replace("has no tags", "")  # no empty tags column
    result = runner.invoke(app, ["recommend", "--rate", f"{name}=4", "--json", *d])
    recs = json.loads(result.stdout)
    assert len(recs) == 10 and all(r["tags"] == [] for r in recs)
    result = runner.invoke(app, ["similar", name, "--k", "3", *d])
    assert result.exit_code == 0 and "(this data set has no tags)" in _flat(result.stdout)
    uid = str(int(plain_ds.user_ids[0]))
    result = runner.invoke(app, ["recommend", "--user", uid, "--k", "3", "--json", *d])
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)) == 3


@pytest.mark.parametrize("model", ["popularity", "item-knn", "seed-mf", "hybrid"])
def test_train_every_kind_of_model(plain_dir: Path, tmp_path: Path, model: str) -> None:
    out = tmp_path / f"{model}.npz"
    result = runner.invoke(app, ["train", model, "--out", str(out), "--data-dir", str(plain_dir)])
    assert result.exit_code == 0, result.output
    assert out.is_file()


def test_evaluate(plain_dir: Path, tmp_path: Path) -> None:
    args = ["evaluate", "--models", "popularity,item-knn", "--seeds", "0", "--no-progress"]
    args += ["--latency-requests", "0", "--out", str(tmp_path), "--data-dir", str(plain_dir)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "warm_summary.csv").is_file()


def test_serve_and_app_start(
    plain_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import streamlit.web.cli as streamlit_cli
    import uvicorn
    from fastapi.testclient import TestClient

    import artistrec.app.common as common

    seen: dict = {}
    monkeypatch.setattr(uvicorn, "run", lambda app_, **kw: seen.update(api=app_))
    monkeypatch.setattr(streamlit_cli, "main", lambda **kw: seen.update(app=True))
    monkeypatch.setattr(common, "warm_up", lambda: None)
    monkeypatch.setattr(common, "_ADOPTED", {})
    for var in ("ARTISTREC_DB", "ARTISTREC_MODEL_PATH", "ARTISTREC_APP_MODEL", "LASTFM_DATA_DIR"):
        monkeypatch.delenv(var, raising=False)
    model = tmp_path / "pop.npz"
    d = ["--data-dir", str(plain_dir)]
    assert runner.invoke(app, ["train", "popularity", "--out", str(model), *d]).exit_code == 0
    db = str(tmp_path / "p.sqlite3")
    args = ["serve", "--artifact", str(model), "--db", db, "--port", "8999", *d]
    monkeypatch.setattr("artistrec.cli.check_bindable", lambda host, port: None)
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    with TestClient(seen["api"]) as client:
        body = client.get("/artists", params={"q": _top_name(load_dataset(plain_dir)), "limit": 1})
        assert body.status_code == 200 and body.json()
    result = runner.invoke(app, ["app", "--artifact", str(model), "--db", db, *d])
    assert result.exit_code == 0, result.output
    assert seen["app"]
