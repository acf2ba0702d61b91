"""`artistrec serve --db postgresql://...`: a clear one-line error for an unreachable server, and
an API whose profiles live in PostgreSQL where another process sees them."""

from __future__ import annotations

import socket
from pathlib import Path

import pg_cluster
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from artistrec.cli import app
from artistrec.store.profiles import open_profile_store

runner = CliRunner()


def test_serve_with_unreachable_postgres_fails_in_one_sentence(tmp_path: Path) -> None:
    pytest.importorskip("psycopg")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # the data directory does not exist: the store is opened (and fails) before any data loads
    result = runner.invoke(
        app,
        [
            "serve",
            "--db",
            f"postgresql://bob:Hunter2-secret@127.0.0.1:{port}/profiles",
            "--data-dir",
            str(tmp_path / "nowhere"),
        ],
    )
    text = " ".join(result.output.split())
    assert result.exit_code == 1, text
    assert f"cannot connect to PostgreSQL at 127.0.0.1:{port}: connection refused" in text
    assert "Traceback" not in text and "Hunter2-secret" not in text


def test_serve_keeps_profiles_in_postgres(
    pg_url: str, synthetic_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    seen: dict = {}
    monkeypatch.setattr(uvicorn, "run", lambda app_, **kw: seen.update(app=app_, **kw))
    result = runner.invoke(app, ["serve", "--db", pg_url, "--data-dir", str(synthetic_dir)])
    text = " ".join(result.output.split())
    assert result.exit_code == 0, text
    assert f"{pg_cluster.APP_USER}:***@127.0.0.1" in text and pg_cluster.APP_PASSWORD not in text
    with TestClient(seen["app"]) as client:
        made = client.post("/profiles", json={"ratings": [{"artist_id": 2, "level": 4}]})
        assert made.status_code == 201, made.text
        assert client.get("/ready").status_code == 200
    with open_profile_store(pg_url) as other:  # another instance of the API would see it
        assert other.get(made.json()["id"]).ratings == {2: 4}
