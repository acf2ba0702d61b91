"""The profile store behind real servers: two API instances sharing one PostgreSQL database, a
store outage (503 ``store_unavailable`` with ``Retry-After``, ``/ready`` failing, nothing lost,
recovery), and a full disk under SQLite."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pg_cluster
import pytest

from artistrec.data import Dataset


def _ids(ds: Dataset, n: int) -> list[int]:
    order = np.argsort(-ds.artist_listeners(), kind="stable")[:n]
    return [int(x) for x in ds.artist_ids[order]]


def test_two_instances_share_postgres_and_survive_an_outage(
    api_pg: pg_cluster.Cluster,
    pop_artifact: Path,
    synthetic_dir: Path,
    synthetic_ds: Dataset,
    live_server,
) -> None:
    url = api_pg.new_database("api")
    args = ["--model", str(pop_artifact), "--data-dir", str(synthetic_dir), "--db", url]
    a, b = live_server(*args), live_server(*args)
    ids = _ids(synthetic_ds, 4)
    assert httpx.get(f"{a.url}/ready", timeout=10).status_code == 200
    # written through A, read, changed and guarded through B
    created = httpx.post(
        f"{a.url}/profiles", json={"ratings": [{"artist_id": ids[0], "level": 4}]}, timeout=10
    )
    assert created.status_code == 201, created.text
    pid, token = created.json()["id"], created.json()["owner_token"]
    auth = {"Authorization": f"Bearer {token}"}
    got = httpx.get(f"{b.url}/profiles/{pid}", timeout=10)
    assert got.status_code == 200 and got.headers["etag"] == '"1"'
    put = httpx.put(
        f"{b.url}/profiles/{pid}",
        json={"ratings": [{"artist_id": ids[1], "level": 2}]},
        headers={**auth, "If-Match": '"1"'},
        timeout=10,
    )
    assert put.status_code == 200 and put.headers["etag"] == '"2"'
    stale = httpx.put(
        f"{a.url}/profiles/{pid}", json={"ratings": []}, headers={**auth, "If-Match": '"1"'}
    )
    assert stale.status_code == 412 and stale.json()["current_version"] == 2

    # the database goes away: clear 503s with Retry-After, liveness unaffected
    api_pg.stop()
    try:
        down = httpx.post(f"{a.url}/profiles", json={"ratings": []}, timeout=60)
        assert down.status_code == 503, down.text
        assert down.json()["error"] == "store_unavailable"
        assert int(down.headers["retry-after"]) >= 1
        ready = httpx.get(f"{a.url}/ready", timeout=60)
        assert ready.status_code == 503 and "retry-after" in ready.headers
        assert httpx.get(f"{a.url}/health", timeout=10).status_code == 200
        read = httpx.get(f"{b.url}/profiles/{pid}", timeout=60)
        assert read.status_code == 503 and read.json()["error"] == "store_unavailable"
    finally:
        api_pg.start()
    # back: both instances become ready again (a failure counts for its Retry-After), and
    # nothing was lost
    for server in (a, b):
        deadline = time.monotonic() + 60
        while httpx.get(f"{server.url}/ready", timeout=30).status_code != 200:
            assert time.monotonic() < deadline, "not ready again after the outage"
            time.sleep(0.5)
        profile = httpx.get(f"{server.url}/profiles/{pid}", timeout=30).json()
        assert profile["version"] == 2 and profile["ratings"][0]["artist_id"] == ids[1]
    ok = httpx.patch(
        f"{a.url}/profiles/{pid}",
        json={"display_name": "back"},
        headers={**auth, "If-Match": '"2"'},
        timeout=30,
    )
    assert ok.status_code == 200 and ok.json()["version"] == 3


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
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def test_disk_full_is_503_and_ready_fails_until_space_returns(
    tiny_fs: Path, pop_artifact: Path, synthetic_dir: Path, synthetic_ds: Dataset, live_server
) -> None:
    db = tiny_fs / "profiles.sqlite3"
    server = live_server(
        "--model", str(pop_artifact), "--data-dir", str(synthetic_dir), "--db", str(db)
    )
    ids = _ids(synthetic_ds, 300)
    body = {"ratings": [{"artist_id": a, "level": 1 + i % 5} for i, a in enumerate(ids)]}
    stored: list[str] = []
    for _ in range(3):
        resp = httpx.post(f"{server.url}/profiles", json=body, timeout=30)
        assert resp.status_code == 201, resp.text
        stored.append(resp.json()["id"])
    filler = tiny_fs / "filler"  # then fill the disk to the last byte
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        for size in (65536, 4096, 512, 1):  # down to the last byte
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError:
                pass
    finally:
        os.close(fd)
    for _ in range(50):  # a few writes may still fit in free pages of the database or its WAL
        full = httpx.post(f"{server.url}/profiles", json=body, timeout=30)
        if full.status_code != 201:
            break
        stored.append(full.json()["id"])
    assert full.status_code == 503, full.text
    assert full.json()["error"] == "store_unavailable" and full.json()["reason"] == "disk_full"
    assert int(full.headers["retry-after"]) >= 1
    ready = httpx.get(f"{server.url}/ready", timeout=30)
    assert ready.status_code == 503 and ready.json()["error"] == "store_unavailable"
    assert httpx.get(f"{server.url}/health", timeout=10).status_code == 200
    # reads still work and nothing answered was lost
    assert stored and httpx.get(f"{server.url}/profiles/{stored[0]}", timeout=10).status_code == 200
    filler.unlink()
    # space again: the next write succeeds, and readiness follows it at once
    again = httpx.post(f"{server.url}/profiles", json={"ratings": []}, timeout=30)
    assert again.status_code == 201, again.text
    assert httpx.get(f"{server.url}/ready", timeout=30).status_code == 200
    for pid in stored:
        assert httpx.get(f"{server.url}/profiles/{pid}", timeout=10).status_code == 200
