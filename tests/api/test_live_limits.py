"""Requests that never finish, too many at once, and concurrent writers, against a real
``artistrec serve`` process over real connections (synthetic data, popularity model)."""

from __future__ import annotations

import json
import socket
import threading
import time

import httpx
import numpy as np
from api_live import connect, http

from artistrec.data import Dataset


def _read_all(sock: socket.socket, timeout: float) -> bytes:
    """Everything the server sends until it closes the connection (or ``timeout``)."""
    sock.settimeout(timeout)
    out = b""
    try:
        while chunk := sock.recv(65536):
            out += chunk
    except TimeoutError:
        return out + b"<still open>"
    except ConnectionResetError:
        pass
    return out


def test_half_sent_requests_time_out(pop_args: list[str], live_server) -> None:
    server = live_server(
        *pop_args, "--header-timeout", "1", "--body-timeout", "1", "--max-connections", "200",
    )  # fmt: skip
    started = time.monotonic()
    silent = [connect(server.url) for _ in range(20)]  # connect, send nothing
    half_head = [connect(server.url) for _ in range(40)]
    for s in half_head:
        s.sendall(b"POST /recommendations HTTP/1.1\r\nHost: t\r\nContent-Ty")
    half_body = [connect(server.url) for _ in range(20)]
    for s in half_body:
        s.sendall(
            b"POST /recommendations HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            b'Content-Length: 100\r\n\r\n{"k": '
        )
    # meanwhile the server answers everybody else at once
    assert httpx.get(f"{server.url}/health", timeout=5).status_code == 200
    answers = [_read_all(s, timeout=15) for s in silent + half_head + half_body]
    elapsed = time.monotonic() - started
    for s in silent + half_head + half_body:
        s.close()
    assert all(b"<still open>" not in a for a in answers), answers[:3]
    assert all(a.startswith(b"HTTP/1.1 408") for a in answers), {a[:40] for a in answers}
    assert b"request body did not arrive" in answers[-1] and b"headers did not" in answers[0]
    assert elapsed < 10, elapsed  # ~1 s deadlines, not forever
    # a keep-alive connection that stalls in its second request is cut as well
    with connect(server.url) as s:
        assert http(s, "GET", "/health")[0] == 200
        s.sendall(b"GET /heal")
        assert _read_all(s, timeout=15).startswith(b"HTTP/1.1 408")


def test_concurrency_and_connection_limits(pop_args: list[str], live_server) -> None:
    server = live_server(
        *pop_args, "--max-inflight", "3", "--max-connections", "30", "--body-timeout", "3",
    )  # fmt: skip
    # three requests in progress (their bodies not sent yet) fill the in-flight limit
    holders = [connect(server.url) for _ in range(3)]
    for s in holders:
        s.sendall(
            b"POST /recommendations HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            b'Content-Length: 9\r\n\r\n{"k":'
        )
    time.sleep(0.3)
    resp = httpx.get(f"{server.url}/health", timeout=5)
    assert resp.status_code == 503 and resp.headers["retry-after"] == "1"
    assert resp.json()["error"] == "overloaded"
    for s in holders:  # finishing them frees the slots
        s.sendall(b" 2} ")  # the last 4 of the 9 bytes declared
    for s in holders:
        assert _first_status(s) == 200
        s.close()
    assert httpx.get(f"{server.url}/health", timeout=5).status_code == 200
    # connections beyond --max-connections are refused with 503 and closed
    conns = [connect(server.url) for _ in range(30)]
    time.sleep(0.3)
    extra = connect(server.url)
    refused = _read_all(extra, timeout=10)
    assert refused.startswith(b"HTTP/1.1 503") and b"too many open connections" in refused
    for s in [*conns, extra]:
        s.close()
    time.sleep(0.3)
    assert httpx.get(f"{server.url}/health", timeout=5).status_code == 200


def _first_status(sock: socket.socket) -> int:
    sock.settimeout(10)
    head = b""
    while b"\r\n" not in head:
        head += sock.recv(4096)
    return int(head.split(b" ", 2)[1])


def test_concurrent_get_then_put_with_if_match_loses_no_update(
    pop_args: list[str], synthetic_ds: Dataset, live_server
) -> None:
    server = live_server(*pop_args)
    order = np.argsort(-synthetic_ds.artist_listeners(), kind="stable")
    ids = [int(a) for a in synthetic_ds.artist_ids[order[:80]]]
    created = httpx.post(f"{server.url}/profiles", json={"ratings": []}, timeout=10).json()
    pid, token = created["id"], created["owner_token"]
    auth = f"Authorization: Bearer {token}\r\n"
    conflicts = []

    def writer(n: int) -> None:
        # GET, add my artists, PUT with If-Match; on 412 read again and retry
        with connect(server.url) as sock:
            for j in range(10):
                mine = ids[n * 10 + j]
                while True:
                    status, raw = http(sock, "GET", f"/profiles/{pid}")
                    profile = json.loads(raw)
                    ratings = [
                        {"artist_id": r["artist_id"], "level": r["level"]}
                        for r in profile["ratings"]
                    ]
                    body = json.dumps({"ratings": [*ratings, {"artist_id": mine, "level": 3}]})
                    status, raw = http(
                        sock, "PUT", f"/profiles/{pid}", body.encode(),
                        headers=auth + f'If-Match: "{profile["version"]}"\r\n',
                    )  # fmt: skip
                    if status == 200:
                        break
                    assert status == 412, raw
                    conflicts.append(n)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    final = httpx.get(f"{server.url}/profiles/{pid}", timeout=10).json()
    assert sorted(r["artist_id"] for r in final["ratings"]) == sorted(ids)  # all 80 kept
    assert final["version"] == 81
    assert conflicts, "the writers never raced: the test proved nothing"
