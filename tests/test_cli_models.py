"""CLI commands train / recommend / similar / serve on the synthetic data."""

from __future__ import annotations

import json
import socket
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
    return result.exit_code, " ".join(result.output.replace("│", " ").split())


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
    assert code == 2 and "Invalid value for '--k'" in text and "1 to 500" in text


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
    port = _free_port()
    code, text = _run(
        "serve", "--port", str(port), "--db", str(db), "--data-dir", str(synthetic_dir)
    )
    assert code == 0, text
    assert seen["host"] == "127.0.0.1" and seen["port"] == port and db.is_file()
    health = TestClient(seen["app"]).get("/health")
    assert health.status_code == 200 and health.json()["model"]
    code, text = _run(
        "serve", "--artifact", str(tmp_path / "missing.npz"), "--data-dir", str(synthetic_dir)
    )
    assert code == 2 and "not found" in text


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_level_zero_means_not_interested(synthetic_dir: Path, synthetic_ds: Dataset) -> None:
    """Only level 0: said to be "not interested", left out, and the list is the popular one."""
    top = _top(synthetic_ds, 3)
    names = [str(synthetic_ds.artist_names[i]) for i in top]
    d = ("--data-dir", str(synthetic_dir))
    result = runner.invoke(app, ["recommend", "--rate", f"{names[0]}=0", "--k", "3", *d])
    assert result.exit_code == 0, result.output
    err = " ".join(result.stderr.split())
    assert f"level 0 = not interested: {names[0]} left out of the results" in err
    assert "nothing personal to recommend from" in err
    out = " ".join(result.stdout.split())
    assert "Most popular artists" in out and "Recommendations from 1 rating" not in out
    result = runner.invoke(app, ["recommend", "--rate", f"{names[0]}=0", "--json", *d])
    recs = json.loads(result.stdout)
    assert names[0] not in [r["name"] for r in recs]
    assert [r["name"] for r in recs[:2]] == names[1:3]  # the most popular of the rest
    # with a positive rating too, the zero is left out and the list is personal
    args = ["recommend", "--rate", f"{names[0]}=0", "--rate", f"{names[1]}=4", "--k", "3", *d]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "nothing personal" not in result.stderr
    assert "Recommendations from 1 rating(s)" in " ".join(result.stdout.split())


@pytest.mark.integration
@pytest.mark.timeout(600)
def test_seed_mf_recommends_like_its_ratings_on_the_real_data(real_ds: Dataset) -> None:
    """Issue 12.15: metal fans get rock and metal from seed-mf. Its former default, the plain
    variant, gave Grégory Lemarchal, an 8-bit band, De La Soul, ... (4 of 10 rock or metal,
    measured); the regularised default gives 10 of 10."""
    rate = ["--rate", "Metallica=5", "--rate", "Iron Maiden=4", "--rate", "Slayer=3"]
    result = runner.invoke(app, ["recommend", *rate, "--model", "seed-mf", "--json"])
    assert result.exit_code == 0, result.output
    recs = json.loads(result.stdout)
    heavy = [r["name"] for r in recs if any("rock" in t or "metal" in t for t in r["tags"])]
    assert len(recs) == 10 and len(heavy) >= 8, [(r["name"], r["tags"]) for r in recs]
