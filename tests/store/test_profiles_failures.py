"""Store failures: a full disk, a file-size limit, a read-only database, a stopped or restarted
PostgreSQL server, a killed connection, a held lock. Each gives StoreUnavailableError (or a
clear StoreError at startup), loses no acknowledged write and half-writes nothing; the store
works again once the cause is gone."""

from __future__ import annotations

import errno
import json
import logging
import os
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pg_cluster
import pytest

from artistrec.store.profiles import (
    PostgresProfileStore,
    SQLiteProfileStore,
    StoreError,
    StoreUnavailableError,
    open_profile_store,
)


def _ratings(seq: int, n: int = 40) -> dict[int, int]:
    return {seq * 1000 + j: (seq + j) % 6 for j in range(n)}


# ---------------------------------------------------------------------------- SQLite: disk
@pytest.fixture()
def tiny_fs(tmp_path: Path) -> Iterator[Path]:
    """A 512 KiB tmpfs (needs Linux and the right to mount, e.g. root in CI)."""
    if not sys.platform.startswith("linux"):
        pytest.skip("mounting a tiny tmpfs needs Linux")
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    out = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(mnt)],
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        pytest.skip(f"cannot mount a tiny tmpfs here: {out.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def _fill(directory: Path) -> Path:
    """Write a file until the file system is full; returns it."""
    filler = directory / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        for size in (65536, 4096, 512, 1):
            while True:
                try:
                    os.write(fd, b"\0" * size)
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC
                    break
    finally:
        os.close(fd)
    return filler


def test_sqlite_disk_full_loses_nothing_and_recovers(tiny_fs: Path) -> None:
    s = SQLiteProfileStore(tiny_fs / "p.sqlite3")
    acked: dict[str, tuple[str, int]] = {}
    for seq in range(3):
        p, token = s.create(_ratings(seq))
        acked[p.id] = (token, seq)
    filler = _fill(tiny_fs)

    failure: StoreUnavailableError | None = None
    for seq in range(3, 300):  # some writes may still fit in free WAL pages
        pid = list(acked)[seq % len(acked)]
        token = acked[pid][0]
        try:
            if seq % 2:
                s.replace(pid, token, _ratings(seq))
                acked[pid] = (token, seq)
            else:
                p, t = s.create(_ratings(seq))
                acked[p.id] = (t, seq)
        except StoreUnavailableError as exc:
            failure = exc
            break
    assert failure is not None, "the full disk never failed a write"
    assert failure.reason == "disk_full" and "disk" in str(failure) and "full" in str(failure)
    assert failure.retry_after == 30  # not worth retrying within the second
    assert str(tiny_fs) not in str(failure)  # says what failed, not where

    # nothing acknowledged is lost, the failed write left no trace, reads still work
    assert s.ping() and s.count() == len(acked)
    for pid, (_, seq) in acked.items():
        assert s.get(pid).ratings == _ratings(seq)
    with pytest.raises(StoreUnavailableError) as probe:
        s.check_writable()
    assert probe.value.reason == "disk_full" and not s.ping(write=True)

    filler.unlink()  # space again: the same store object writes again
    s.check_writable()
    p, _ = s.create({1: 1})
    assert s.integrity_ok()
    s.close()
    reopened = SQLiteProfileStore(tiny_fs / "p.sqlite3")
    assert reopened.count() == len(acked) + 1 and reopened.get(p.id).ratings == {1: 1}
    reopened.close()


def test_sqlite_read_only_file_system_at_startup(tiny_fs: Path) -> None:
    s = SQLiteProfileStore(tiny_fs / "p.sqlite3")
    p, _ = s.create({5: 5})
    s.close()
    subprocess.run(["mount", "-o", "remount,ro", str(tiny_fs)], check=True)
    try:
        with pytest.raises(StoreError, match="cannot open profile database"):
            SQLiteProfileStore(tiny_fs / "p.sqlite3")
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(tiny_fs)], check=True)
    with SQLiteProfileStore(tiny_fs / "p.sqlite3") as again:
        assert again.get(p.id).ratings == {5: 5}


def test_sqlite_read_only_database_refuses_writes_only(tmp_path: Path) -> None:
    s = SQLiteProfileStore(tmp_path / "p.sqlite3")
    p, token = s.create({1: 1})
    s._conn.execute("PRAGMA query_only = ON")  # SQLite's own read-only switch
    with pytest.raises(StoreUnavailableError, match="read-only") as err:
        s.replace(p.id, token, {1: 2})
    assert err.value.reason == "read_only"
    assert not s.ping(write=True) and s.get(p.id).ratings == {1: 1}
    s._conn.execute("PRAGMA query_only = OFF")
    assert s.replace(p.id, token, {1: 2}).version == 2
    s.close()


FSIZE_WRITER = textwrap.dedent(
    r"""
    import json, resource, signal, sys
    from artistrec.store.profiles import SQLiteProfileStore, StoreUnavailableError
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # get EFBIG instead of being killed
    s = SQLiteProfileStore(sys.argv[1])
    p, token = s.create({})
    def ratings(seq):
        return {seq * 1000 + j: (seq + j) % 6 for j in range(200)}
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (256 * 1024, hard))
    last, failure = None, None
    for seq in range(1, 2000):
        try:
            s.replace(p.id, token, ratings(seq))
            last = seq
        except StoreUnavailableError as exc:
            failure = {"reason": exc.reason, "message": str(exc), "seq": seq}
            break
    resource.setrlimit(resource.RLIMIT_FSIZE, (hard, hard))
    after = s.replace(p.id, token, ratings(9999)).version
    print(json.dumps({"id": p.id, "last": last, "failure": failure, "after": after}))
    """
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_FSIZE semantics")
def test_sqlite_file_size_limit(tmp_path: Path) -> None:
    """A write that cannot grow the file (EFBIG, no privileges needed) is refused whole."""
    db = tmp_path / "p.sqlite3"
    out = subprocess.run(
        [sys.executable, "-c", FSIZE_WRITER, str(db)], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    r = json.loads(out.stdout)
    assert r["failure"] is not None and r["last"] is not None
    assert r["failure"]["reason"] in ("io_error", "disk_full")
    assert r["failure"]["message"].startswith("cannot save the profile: ")
    with SQLiteProfileStore(db) as s:
        assert s.integrity_ok()
        got = s.get(r["id"])
        # the last acknowledged write, then the one after the limit was lifted
        assert got.version == r["after"] == r["last"] + 2
        assert got.ratings == {9999 * 1000 + j: (9999 + j) % 6 for j in range(200)}


# ---------------------------------------------------------------------------- PostgreSQL
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_server_is_one_clear_sentence() -> None:
    pytest.importorskip("psycopg")
    port = _free_port()
    with pytest.raises(StoreError) as err:
        open_profile_store(f"postgresql://bob:hunter2-secret@127.0.0.1:{port}/profiles")
    assert str(err.value) == f"cannot connect to PostgreSQL at 127.0.0.1:{port}: connection refused"
    assert err.value.__cause__ is None and err.value.__suppress_context__
    assert not isinstance(err.value, StoreUnavailableError)


def test_wrong_password_and_missing_database(pg: pg_cluster.Cluster, pg_url: str) -> None:
    bad = pg_url.replace(pg_cluster.APP_PASSWORD, "not-the-Password-42")
    with pytest.raises(StoreError) as err:
        open_profile_store(bad)
    msg = str(err.value)
    assert msg.startswith(f"cannot connect to PostgreSQL at 127.0.0.1:{pg.port}: password")
    assert "not-the-Password-42" not in msg and pg_cluster.APP_PASSWORD not in msg
    with pytest.raises(StoreError, match='database "no_such_db" does not exist'):
        open_profile_store(pg.url("no_such_db"))


def _app_backends(pg: pg_cluster.Cluster) -> None:
    pg.admin(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        f" WHERE usename = '{pg_cluster.APP_USER}'"
    )


def test_killed_connections_are_replaced_transparently(pg: pg_cluster.Cluster, pg_url: str) -> None:
    with PostgresProfileStore(pg_url, min_size=2, max_size=4) as s:
        p, token = s.create({1: 1})
        s.get(p.id)
        _app_backends(pg)  # e.g. a failover or an idle-connection reaper
        assert s.get(p.id).ratings == {1: 1}  # read retried on a fresh connection
        _app_backends(pg)
        assert s.replace(p.id, token, {1: 2}).version == 2  # write retried before COMMIT
        assert s.get(p.id).version == 2


def test_server_stopped_mid_test_then_back(
    pg: pg_cluster.Cluster, pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    s = PostgresProfileStore(pg_url, pool_timeout=1.0, connect_timeout=2)
    try:
        acked = {}
        for seq in range(3):
            p, token = s.create(_ratings(seq))
            acked[p.id] = (token, seq)
        pg.stop("fast")
        try:
            for op in (
                lambda: s.get(next(iter(acked))),
                lambda: s.create({9: 5}),
                lambda: s.replace(p.id, token, {}),
                s.check_writable,
            ):
                with pytest.raises(StoreUnavailableError) as err:
                    op()
                assert err.value.reason in ("unreachable", "connection_lost", "server_shutdown")
                assert f"127.0.0.1:{pg.port}" in str(err.value)
                assert pg_cluster.APP_PASSWORD not in str(err.value)
            assert not s.ping() and not s.ping(write=True)
        finally:
            pg.start()
        # the same store object works again without waiting out a back-off (a few requests
        # at most); nothing acknowledged was lost or half-written
        for _ in range(5):
            try:
                assert s.count() == len(acked)
                break
            except StoreUnavailableError:
                continue
        assert s.count() == len(acked)
        for pid, (_, seq) in acked.items():
            assert s.get(pid).ratings == _ratings(seq)
        s.check_writable()
        assert s.replace(p.id, token, {1: 1}).version == 2
    finally:
        s.close()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert pg_cluster.APP_PASSWORD not in logged and pg_cluster.APP_PASSWORD not in caplog.text


def test_read_only_database_refuses_writes_only(pg: pg_cluster.Cluster, pg_url: str) -> None:
    dbname = pg_url.rsplit("/", 1)[1]
    with PostgresProfileStore(pg_url) as s:
        p, token = s.create({1: 1})
        pg.admin(f"ALTER DATABASE {dbname} SET default_transaction_read_only = on")
        try:
            _app_backends(pg)  # new sessions pick the setting up, as after a failover
            with pytest.raises(StoreUnavailableError, match="accepts no writes") as err:
                s.replace(p.id, token, {1: 2})
            assert err.value.reason == "read_only"
            assert not s.ping(write=True) and s.ping()
            assert s.get(p.id).ratings == {1: 1} and s.get(p.id).version == 1
        finally:
            pg.admin(f"ALTER DATABASE {dbname} RESET default_transaction_read_only")
            _app_backends(pg)
        assert s.replace(p.id, token, {1: 2}).version == 2


def test_lock_held_beyond_the_timeout(pg_url: str) -> None:
    with PostgresProfileStore(pg_url, lock_timeout=0.3) as s:
        p, token = s.create({1: 1})
        with pg_cluster.connect(pg_url) as other:  # another writer holds the row
            other.execute("SELECT 1 FROM profiles WHERE id = %s FOR UPDATE", (p.id,))
            with pytest.raises(StoreUnavailableError, match="locked") as err:
                s.update(p.id, token, set_ratings={2: 2})
            assert err.value.reason == "locked"
            assert s.get(p.id).ratings == {1: 1}  # readers are not blocked
        assert s.update(p.id, token, set_ratings={2: 2}).ratings == {1: 1, 2: 2}


def test_postgres_disk_full_loses_nothing_and_recovers(pg: pg_cluster.Cluster, pg_url: str) -> None:
    """The profile tables on a 1 MiB tablespace (a tmpfs) fill up: DiskFull becomes
    StoreUnavailableError('disk_full'), and moving the tables back makes writes work again."""
    if not sys.platform.startswith("linux"):
        pytest.skip("mounting a tiny tmpfs needs Linux")
    import pwd

    mnt = pg.root / "tiny"  # inside the server's own directory, which its user can reach
    mnt.mkdir()
    owner = pwd.getpwnam("postgres") if os.geteuid() == 0 else pwd.getpwuid(os.geteuid())
    out = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size=1m,uid={owner.pw_uid},gid={owner.pw_gid}"]
        + ["tmpfs", str(mnt)],
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        pytest.skip(f"cannot mount a tiny tmpfs here: {out.stderr.strip()}")
    dbname = pg_url.rsplit("/", 1)[1]
    moved = ("TABLE profiles", "TABLE ratings", "INDEX profiles_pkey", "INDEX ratings_pkey")
    try:
        pg.admin(f"CREATE TABLESPACE tiny OWNER {pg_cluster.APP_USER} LOCATION '{mnt}'")
        with PostgresProfileStore(pg_url) as s:
            for what in moved:
                pg.admin(f"ALTER {what} SET TABLESPACE tiny", dbname=dbname)
            acked: dict[str, tuple[str, int]] = {}
            failure: StoreUnavailableError | None = None
            for seq in range(200):
                try:
                    p, token = s.create(_ratings(seq, 1000))
                except StoreUnavailableError as exc:
                    failure = exc
                    break
                acked[p.id] = (token, seq)
            assert failure is not None, "the full tablespace never failed a write"
            assert failure.reason == "disk_full" and acked
            assert str(failure).startswith("cannot create the profile: the disk of PostgreSQL")
            assert s.count() == len(acked)  # the failed create left nothing behind
            for pid, (_, seq) in acked.items():
                assert s.get(pid).ratings == _ratings(seq, 1000)
            for what in moved:  # room again
                pg.admin(f"ALTER {what} SET TABLESPACE pg_default", dbname=dbname)
            p, _ = s.create(_ratings(999, 1000))
            assert s.count() == len(acked) + 1 and s.integrity_ok()
    finally:
        for what in moved:
            try:
                pg.admin(f"ALTER {what} SET TABLESPACE pg_default", dbname=dbname)
            except Exception:  # best effort: the tablespace must be empty to drop it
                pass
        try:
            pg.admin("DROP TABLESPACE IF EXISTS tiny")
        finally:
            subprocess.run(["umount", "-l", str(mnt)], capture_output=True)
