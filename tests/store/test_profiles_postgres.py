"""PostgreSQL specifics: URLs and password masking, migrations, instances starting together,
privileges, and a COMMIT whose outcome is unknown."""

from __future__ import annotations

import threading

import pg_cluster
import pytest

from artistrec.store.profiles import (
    SCHEMA_VERSION,
    PostgresProfileStore,
    ProfileStore,
    StoreError,
    StoreUnavailableError,
    hash_token,
    open_profile_store,
    redact_url,
)
from artistrec.store.profiles.postgres import _passwords, _scrub

#: The PostgreSQL spelling of schema version 1 (what a v1 store would have created).
SCHEMA_V1 = """
CREATE TABLE schema_version (version INTEGER NOT NULL);
CREATE TABLE profiles (
    id TEXT PRIMARY KEY, display_name TEXT, token_hash TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL, updated_at DOUBLE PRECISION NOT NULL
);
CREATE TABLE ratings (
    profile_id TEXT NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
    artist_id BIGINT NOT NULL,
    level SMALLINT NOT NULL CHECK (level BETWEEN 0 AND 5),
    PRIMARY KEY (profile_id, artist_id)
);
INSERT INTO schema_version VALUES (1)
"""


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://bob:pw@db:5433/p", "postgresql://bob:***@db:5433/p"),
        ("postgres://bob:p%40ss%3Aw@db/p", "postgres://bob:***@db/p"),
        ("postgresql://bob@db/p", "postgresql://bob@db/p"),
        ("postgresql://db/p", "postgresql://db/p"),
        ("postgresql:///p?host=/run/pg", "postgresql:///p?host=/run/pg"),
        (
            "postgresql://bob@db/p?sslmode=require&password=x%26y",
            "postgresql://bob@db/p?sslmode=require&password=***",
        ),
        ("postgresql://bob:pw@h1:5432,h2:5433/p", "postgresql://bob:***@h1:5432,h2:5433/p"),
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_scrub_removes_every_spelling_of_the_password() -> None:
    url = "postgresql://bob:p%40ss@db/p?password=other"
    text = "failed for p%40ss, p@ss and other"
    assert _scrub(text, _passwords(url)) == "failed for ***, *** and ***"


def test_bad_url_says_why_without_the_password() -> None:
    pytest.importorskip("psycopg")
    with pytest.raises(StoreError) as err:
        open_profile_store("postgresql://bob:Secret-77@db/p?nosuchoption=1")
    msg = str(err.value)
    assert msg.startswith("invalid PostgreSQL URL postgresql://bob:***@db/p?nosuchoption=1: ")
    assert "nosuchoption" in msg.split(": ", 1)[1] and "Secret-77" not in msg
    with pytest.raises(StoreError) as err:
        open_profile_store("postgresql://bob:Secret-77@db:notaport/p")
    assert str(err.value).startswith("cannot connect to PostgreSQL at db:notaport: ")
    assert "Secret-77" not in str(err.value)


def test_profile_store_of_a_url_and_reopening_from_path(pg_url: str) -> None:
    s = ProfileStore(pg_url)  # what existing call sites do with --db / $ARTISTREC_DB
    assert isinstance(s, PostgresProfileStore) and s.url == pg_url
    assert pg_cluster.APP_PASSWORD not in s.location and pg_cluster.APP_PASSWORD not in repr(s)
    p, _ = s.create({1: 1})
    # a worker process reopens the store from str(store.path), as the API server does
    with ProfileStore(str(s.path)) as again:
        assert again.get(p.id) == p
    s.close()


def test_migrates_a_version_1_database(pg: pg_cluster.Cluster, pg_url: str) -> None:
    with pg_cluster.connect(pg_url, autocommit=True) as c:
        for statement in SCHEMA_V1.split(";"):
            c.execute(statement)
        c.execute(
            "INSERT INTO profiles VALUES ('old', 'name', %s, 1700000000.0, 1700000100.0)",
            (hash_token("tok"),),
        )
        c.execute("INSERT INTO ratings VALUES ('old', 289, 5), ('old', 72, 0)")
    with open_profile_store(pg_url) as s:
        assert s.schema_version == SCHEMA_VERSION == 2
        p = s.get("old")
        assert p.version == 1 and p.ratings == {72: 0, 289: 5} and p.updated_at == 1700000100.0
        assert s.replace("old", "tok", {289: 4}, if_version=1).version == 2
        s.check_writable()
    with pg_cluster.connect(pg_url) as c:
        versions = [r[0] for r in c.execute("SELECT version FROM schema_version ORDER BY 1")]
    assert versions == [1, 2]


def test_instances_starting_together_migrate_once(pg_url: str) -> None:
    stores: list[ProfileStore] = []
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def open_one() -> None:
        try:
            start.wait()
            stores.append(open_profile_store(pg_url))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert not errors and len(stores) == 6
        with pg_cluster.connect(pg_url) as c:
            versions = [r[0] for r in c.execute("SELECT version FROM schema_version ORDER BY 1")]
        assert versions == list(range(1, SCHEMA_VERSION + 1))
    finally:
        for s in stores:
            s.close()


def test_newer_schema_is_refused(pg_url: str) -> None:
    open_profile_store(pg_url).close()
    with pg_cluster.connect(pg_url, autocommit=True) as c:
        c.execute("INSERT INTO schema_version VALUES (999)")
    with pytest.raises(StoreError, match="newer than this artistrec"):
        open_profile_store(pg_url)


def test_user_without_create_privilege_is_told(pg: pg_cluster.Cluster) -> None:
    pg.admin("DROP DATABASE IF EXISTS owned_by_postgres")
    pg.admin("CREATE DATABASE owned_by_postgres")  # PUBLIC may not CREATE in public (PG 15+)
    pg.admin(f"GRANT CONNECT ON DATABASE owned_by_postgres TO {pg_cluster.APP_USER}")
    with pytest.raises(StoreError, match="cannot prepare the profile tables in .*permission"):
        open_profile_store(pg.url("owned_by_postgres"))


def test_connection_lost_during_commit_is_not_retried(pg: pg_cluster.Cluster, pg_url: str) -> None:
    with PostgresProfileStore(pg_url) as s:
        calls: list[int] = []

        def write_then_lose_the_connection(tx) -> None:  # type: ignore[no-untyped-def]
            calls.append(1)
            tx.run("INSERT INTO heartbeat (id, beat_at, beats) VALUES (1, 0, 1)")
            pid = tx.rows("SELECT pg_backend_pid()")[0][0]
            pg.admin(f"SELECT pg_terminate_backend({int(pid)}, 10000)")

        with pytest.raises(StoreUnavailableError, match="may or may not") as err:
            s._execute(write_then_lose_the_connection, write=True, action="save the profile")
        assert err.value.reason == "commit_unknown" and len(calls) == 1  # not run twice
        assert s.ping(write=True)  # the pool replaced the connection
