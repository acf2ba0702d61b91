"""Fixtures of the API tests: real ``artistrec serve`` processes on loopback ports, model
artifacts, and a throwaway PostgreSQL server (the store tests' ``pg_cluster``)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from artistrec import create_model
from artistrec.data import Dataset

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "store"))
import pg_cluster  # noqa: E402
from api_live import LiveServer  # noqa: E402


@pytest.fixture()
def live_server(tmp_path: Path) -> Iterator:
    """``live_server(*args, env=...)`` starts a server and returns it once /health answers;
    every server started is stopped at the end of the test."""
    started: list[LiveServer] = []

    def start(*args: str, env: dict[str, str] | None = None, ready: bool = True) -> LiveServer:
        full_env = {**os.environ, "ARTISTREC_CACHE_DIR": str(tmp_path / "cache"), **(env or {})}
        server = LiveServer(list(args), full_env, tmp_path / f"server-{len(started)}.log")
        started.append(server)
        if ready:
            server.wait_ready()
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def pop_artifact(synthetic_ds: Dataset, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A popularity model of the synthetic data, saved (a server loads it in no time)."""
    path = tmp_path_factory.mktemp("artifacts") / "pop.npz"
    create_model("popularity").fit(synthetic_ds).save(path)
    return path


@pytest.fixture(scope="session")
def api_pg() -> Iterator[pg_cluster.Cluster]:
    """A PostgreSQL server for the API tests (skips when PostgreSQL is not installed)."""
    reason = pg_cluster.why_unavailable()
    if reason:
        pytest.skip(f"no PostgreSQL server for the tests: {reason}")
    cluster = pg_cluster.Cluster()
    yield cluster
    cluster.destroy()


@pytest.fixture()
def pop_args(pop_artifact: Path, synthetic_dir: Path, tmp_path: Path) -> list[str]:
    """``serve`` options for the synthetic data, its popularity model and a fresh SQLite file."""
    db = tmp_path / "profiles.sqlite3"
    return ["--model", str(pop_artifact), "--data-dir", str(synthetic_dir), "--db", str(db)]
