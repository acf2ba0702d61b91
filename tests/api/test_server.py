"""Serving setup: the worker-process app factory, one BLAS thread per process, ``--workers``."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from fastapi.testclient import TestClient
from threadpoolctl import threadpool_info, threadpool_limits

from artistrec import create_model
from artistrec.api import server
from artistrec.data import Dataset
from artistrec.service import RecommenderService
from artistrec.store.profiles import ProfileStore


def test_app_from_env_serves_the_given_model_with_one_blas_thread(
    synthetic_dir: Path, synthetic_ds: Dataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = tmp_path / "pop.npz"
    create_model("popularity").fit(synthetic_ds).save(model)
    monkeypatch.setenv(server.ENV_DATA_DIR, str(synthetic_dir))
    monkeypatch.setenv(server.ENV_MODEL, str(model))
    monkeypatch.setenv(server.ENV_DB, str(tmp_path / "p.sqlite3"))
    with threadpool_limits(limits=2):  # restores this process's pools afterwards
        app = server.app_from_env()
        assert all(p["num_threads"] == 1 for p in threadpool_info())
    client = TestClient(app)
    assert client.get("/health").json()["model"] == "popularity"
    order = np.argsort(-synthetic_ds.artist_listeners(), kind="stable")
    rated = int(synthetic_ds.artist_ids[order[0]])
    resp = client.post("/recommendations", json={"ratings": [{"artist_id": rated, "level": 3}]})
    assert resp.status_code == 200, resp.text
    recs = resp.json()["recommendations"]
    assert len(recs) == 10 and rated not in {r["artist_id"] for r in recs}
    assert (tmp_path / "p.sqlite3").is_file()


def test_run_with_workers_hands_uvicorn_the_factory(
    synthetic_ds: Dataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    seen: dict = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(app=app, **kw))
    names = (server.ENV_DB, server.ENV_DATA_DIR, server.ENV_MODEL, server.ENV_LIMITS)
    for var in (*names, "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.setenv(var, "x")  # recorded, so monkeypatch restores what run() sets
        monkeypatch.delenv(var)
    svc = RecommenderService(synthetic_ds, models={"default": create_model("popularity")})
    store = ProfileStore(tmp_path / "p.sqlite3")
    limits = server.ServerLimits(header_timeout=3.0, max_inflight=7)
    with threadpool_limits(limits=2):
        # the supervisor gets no service: each worker loads its own
        server.run(None, store, port=8124, workers=2, data_dir=tmp_path / "data", limits=limits)
        with pytest.raises(ValueError, match="workers"):
            server.run(svc, store, workers=0)
    assert seen["app"] == server.FACTORY and seen["factory"] is True
    assert seen["workers"] == 2 and seen["port"] == 8124 and seen["loop"] == "asyncio"
    from uvicorn.importer import import_from_string

    assert import_from_string(seen["http"]) is server.GuardedHTTPProtocol
    assert server.ServerLimits.from_env() == limits  # what the workers will read
    assert os.environ[server.ENV_DB] == str(tmp_path / "p.sqlite3")
    assert os.environ[server.ENV_DATA_DIR] == str(tmp_path / "data")
    assert os.environ["OPENBLAS_NUM_THREADS"] == "1"
    assert server.ENV_MODEL not in os.environ  # no --model: the workers use the cache


def test_http_protocol_turns_off_nagle(monkeypatch: pytest.MonkeyPatch) -> None:
    # without TCP_NODELAY each keep-alive answer waited for a 40 ms delayed ACK (measured)
    monkeypatch.setattr(server.HttpToolsProtocol, "connection_made", lambda self, t: None)
    monkeypatch.setattr(server.GuardedHTTPProtocol, "_arm", lambda self, s, p: None)
    with socket.create_server(("127.0.0.1", 0)) as srv:
        with socket.create_connection(srv.getsockname()[:2]):
            conn, _ = srv.accept()
            with conn:
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 0)
                proto = server.GuardedHTTPProtocol.__new__(server.GuardedHTTPProtocol)
                proto.connections = set()
                proto.connection_made(SimpleNamespace(get_extra_info={"socket": conn}.get))
                assert conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
