"""CLI commands train / recommend / similar / serve on the synthetic data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from artistrec import load_model
from artistrec.cli import app
from artistrec.data import Dataset
from artistrec.data.names import fold_name as fold
from artistrec.service import RecommenderService, default_model_path

runner = CliRunner()


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, " ".join(result.output.split())


def _top(ds: Dataset, n: int) -> list[int]:
    order = np.argsort(-ds.artist_listeners(), kind="stable")[:n]
    return [int(i) for i in order]


def test_train_saves_artifact(synthetic_dir: Path, synthetic_ds: Dataset, tmp_path: Path) -> None:
    out = tmp_path / "m.npz"
    code, text = _run(
        "train",
        "popularity",
        "--param",
        "by=plays",
        "--out",
        str(out),
        "--data-dir",
        str(synthetic_dir),
    )
    assert code == 0, text
    model = load_model(out, synthetic_ds)
    assert model.get_params() == {"by": "plays"}
    # default destination: the cache path the service loads
    code, text = _run("train", "popularity", "--data-dir", str(synthetic_dir))
    assert code == 0, text
    assert default_model_path("popularity", synthetic_ds.fingerprint).is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("train", "nope"), "unknown model"),
        (
            ("train", "popularity", "--param", "bogus=1"),
            "no parameter 'bogus'; valid parameters: by",
        ),
        (("train", "popularity", "--param", "by=loudness"), "parameter 'by' must be one of"),
        (("train", "popularity", "--param", "noequals"), "key=value"),
    ],
)
def test_train_errors(synthetic_dir: Path, args: tuple[str, ...], message: str) -> None:
    code, text = _run(*args, "--data-dir", str(synthetic_dir))
    assert code != 0 and message in text, text


def test_recommend_from_ratings(synthetic_dir: Path, synthetic_ds: Dataset) -> None:
    top = _top(synthetic_ds, 3)
    names = [str(synthetic_ds.artist_names[i]) for i in top]
    # case and accents ignored
    code, text = _run(
        "recommend",
        "--rate",
        f"{fold(names[0]).upper()}=5",
        "--rate",
        f"{names[1]}=3",
        "--k",
        "4",
        "--json",
        "--data-dir",
        str(synthetic_dir),
    )
    assert code == 0, text
    recs = json.loads(text)
    ids = [r["artist_id"] for r in recs]
    rated = [int(synthetic_ds.artist_ids[i]) for i in top[:2]]
    assert len(ids) == 4 and not set(rated) & set(ids)
    # the CLI answers exactly what the service (and so the API and the app) answers
    svc = RecommenderService.load(synthetic_dir, train_if_missing=False)
    expected = svc.recommend_for_ratings({rated[0]: 5, rated[1]: 3}, k=4)
    assert ids == [r.artist_id for r in expected]
    assert [r["score"] for r in recs] == pytest.approx([r.score for r in expected], rel=1e-6)


def test_recommend_table_and_user(synthetic_dir: Path, synthetic_ds: Dataset) -> None:
    name = str(synthetic_ds.artist_names[_top(synthetic_ds, 1)[0]])
    code, text = _run("recommend", "--rate", f"{name}=4", "--data-dir", str(synthetic_dir))
    assert code == 0 and "because you rated" in text, text
    uid = int(synthetic_ds.user_ids[0])
    code, text = _run(
        "recommend", "--user", str(uid), "--k", "3", "--json", "--data-dir", str(synthetic_dir)
    )
    assert code == 0, text
    seen = set(synthetic_ds.artist_ids[synthetic_ds.interactions.getrow(0).indices].tolist())
    recs = json.loads(text)
    assert len(recs) == 3 and not seen & {r["artist_id"] for r in recs}


def test_recommend_errors(synthetic_dir: Path, synthetic_ds: Dataset) -> None:
    d = ("--data-dir", str(synthetic_dir))
    name = str(synthetic_ds.artist_names[_top(synthetic_ds, 1)[0]])
    code, text = _run("recommend", "--rate", f"{name}x=4", *d)
    assert code == 1 and "did you mean" in text and name in text, text
    code, text = _run("recommend", *d)
    assert code == 2 and "either --user" in text
    code, text = _run("recommend", "--rate", f"{name}=9", *d)
    assert code == 2 and "0..5" in text
    code, text = _run("recommend", "--rate", "no level", *d)
    assert code == 2 and "Artist Name=LEVEL" in text
    code, text = _run("recommend", "--rate", f"{name}=3", "--rate", f"{name.upper()}=2", *d)
    assert code == 2 and "more than once" in text
    code, text = _run("recommend", "--user", "999999999", *d)
    assert code == 2 and "unknown user" in text
    code, text = _run("recommend", "--rate", f"{name}=3", "--k", "0", *d)
    assert code == 2 and "k must be" in text


def test_similar(synthetic_dir: Path, synthetic_ds: Dataset) -> None:
    idx = _top(synthetic_ds, 1)[0]
    name = str(synthetic_ds.artist_names[idx])
    code, text = _run("similar", name, "--k", "3", "--json", "--data-dir", str(synthetic_dir))
    assert code == 0, text
    recs = json.loads(text)
    assert len(recs) == 3 and int(synthetic_ds.artist_ids[idx]) not in [
        r["artist_id"] for r in recs
    ]
    code, text = _run("similar", name, "--measure", "l2", "--data-dir", str(synthetic_dir))
    assert code == 2 and "measure" in text
    code, text = _run("similar", "zzzz-nobody", "--data-dir", str(synthetic_dir))
    assert code == 1 and "no artist named" in text


def test_serve_builds_app(
    synthetic_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    seen: dict = {}

    def fake_run(app_, host: str, port: int, **kw: object) -> None:
        seen.update(app=app_, host=host, port=port)

    monkeypatch.setattr(uvicorn, "run", fake_run)
    db = tmp_path / "p.sqlite3"
    code, text = _run("serve", "--port", "8123", "--db", str(db), "--data-dir", str(synthetic_dir))
    assert code == 0, text
    assert seen["host"] == "127.0.0.1" and seen["port"] == 8123 and db.is_file()
    health = TestClient(seen["app"]).get("/health")
    assert health.status_code == 200 and health.json()["model"]
    code, text = _run(
        "serve", "--model", str(tmp_path / "missing.npz"), "--data-dir", str(synthetic_dir)
    )
    assert code == 1 and "not found" in text
