"""Profile-store fixtures: one throwaway PostgreSQL server per session, and ``store_target`` /
``store``, parametrised over both backends so the contract tests run against each."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pg_cluster
import pytest

from artistrec.store.profiles import ProfileStore, open_profile_store

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def pg() -> Iterator[pg_cluster.Cluster]:
    """A PostgreSQL server of this test session (skips when PostgreSQL is not installed)."""
    reason = pg_cluster.why_unavailable()
    if reason:
        pytest.skip(f"no PostgreSQL server for the tests: {reason}")
    cluster = pg_cluster.Cluster()
    yield cluster
    cluster.destroy()


@pytest.fixture(scope="session")
def pg_session_url(pg: pg_cluster.Cluster) -> str:
    return pg.new_database("contract")


@pytest.fixture()
def pg_url(pg: pg_cluster.Cluster, pg_session_url: str) -> str:
    """URL of an empty database (the session's, its schema dropped and recreated)."""
    if not pg.running():  # a test that stopped the server and failed before restarting it
        pg.start()
    dbname = pg_session_url.rsplit("/", 1)[1]
    pg.admin(
        f"DROP SCHEMA public CASCADE; CREATE SCHEMA public AUTHORIZATION {pg_cluster.APP_USER}",
        dbname=dbname,
    )
    return pg_session_url


@pytest.fixture(params=BACKENDS)
def store_target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where an empty store lives: a SQLite file path or a PostgreSQL URL."""
    if request.param == "sqlite":
        return str(tmp_path / "profiles.sqlite3")
    return request.getfixturevalue("pg_url")


@pytest.fixture()
def store(store_target: str) -> Iterator[ProfileStore]:
    s = open_profile_store(store_target)
    yield s
    s.close()
