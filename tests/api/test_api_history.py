"""POST /history: multipart uploads of every export format, the JSON form, the route's own body
limit, errors, exclusions, saving the result as a profile, and work kept off the event loop."""

from __future__ import annotations

import asyncio
import json
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient

from artistrec import create_model
from artistrec.api import middleware
from artistrec.api.app import create_app
from artistrec.api.routers import history as history_router
from artistrec.data import Dataset
from artistrec.history import formats as fmt
from artistrec.history import samples
from artistrec.service import RecommenderService
from artistrec.store.profiles import ProfileStore


@pytest.fixture(scope="module")
def service(synthetic_ds: Dataset) -> RecommenderService:
    model = create_model("popularity").fit(synthetic_ds)
    return RecommenderService(synthetic_ds, models={"default": model, "popularity": model})


@pytest.fixture()
def client(service: RecommenderService, tmp_path: Path) -> TestClient:
    store = ProfileStore(tmp_path / "profiles.sqlite3")
    yield TestClient(create_app(service, store))
    store.close()


def popular(ds: Dataset, n: int) -> list[tuple[int, str]]:
    order = np.argsort(-ds.artist_listeners(), kind="stable")[:n]
    return [(int(ds.artist_ids[i]), str(ds.artist_names[i])) for i in order]


@pytest.fixture(scope="module")
def streams(synthetic_ds: Dataset) -> samples.Streams:
    names = [n for _, n in popular(synthetic_ds, 5)]
    return samples.generate_streams([*names, "Zz Not In The Catalogue"], 800, seed=7)


def upload(files: dict[str, bytes]) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("files", (name, data, "application/octet-stream")) for name, data in files.items()]


def assert_error(resp: httpx.Response, status: int, code: str, text: str = "") -> dict:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["error"] == code and text in body["message"], body
    return body


EXPORTS = {
    "spotify-extended": lambda s: {
        f"Streaming_History_Audio_{i}.json": b for i, b in enumerate(samples.spotify_extended(s, 3))
    },
    "spotify-account": lambda s: {"StreamingHistory0.json": samples.spotify_account(s)[0]},
    "lastfm-csv": lambda s: {"scrobbles.csv": samples.lastfm_csv(s, bom=True)},
    "lastfm-headerless": lambda s: {"scrobbles.csv": samples.lastfm_headerless(s)},
    "plays-table": lambda s: {"plays.csv": samples.plays_table(s.plays(), header=False)},
    "zip": lambda s: {"my_spotify_data.zip": samples.zipped(EXPORTS["spotify-extended"](s))},
}


@pytest.mark.parametrize("kind", list(EXPORTS))
def test_multipart_upload_of_every_format(
    client: TestClient, streams: samples.Streams, synthetic_ds: Dataset, kind: str
) -> None:
    files = EXPORTS[kind](streams)
    resp = client.post("/history", params={"k": 4}, files=upload(files))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    expected = streams.plays()
    assert body["read"]["plays"] == sum(expected.values())
    assert {f["format"] for f in body["read"]["files"]} == {
        "spotify-extended" if kind == "zip" else kind
    }
    if kind == "zip":  # Spotify's read-me PDF next to the files is listed, not an error
        [ignored] = body["read"]["ignored_files"]
        assert ignored["file"].endswith(".pdf")
    top = popular(synthetic_ds, 9)
    assert {r["artist_id"] for r in body["ratings"]} == {a for a, _ in top[:5]}
    assert body["unmatched"] == [
        {"name": "Zz Not In The Catalogue", "plays": expected["Zz Not In The Catalogue"]}
    ]
    # popularity would answer with the history's artists; every one of them is left out
    assert [r["artist_id"] for r in body["recommendations"]] == [a for a, _ in top[5:9]]
    assert body["model"] == "popularity"


def test_json_entries_by_name_and_id(client: TestClient, synthetic_ds: Dataset) -> None:
    (a, name_a), (b, _), (c, _) = popular(synthetic_ds, 3)
    resp = client.post(
        "/history",
        params={"k": 2, "model": "popularity"},
        json=[{"name": name_a.upper(), "plays": 1500}, {"artist_id": b, "plays": 1}],
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert [(r["artist_id"], r["level"], r["match"]) for r in body["ratings"]] == [
        (a, 3, "folded"),
        (b, 1, "id"),
    ]
    assert body["recommendations"][0]["artist_id"] == c
    assert body["read"]["files"] == []


def test_the_answer_can_be_saved_as_a_profile(client: TestClient, synthetic_ds: Dataset) -> None:
    (a, name_a), (b, name_b) = popular(synthetic_ds, 2)
    files = {"plays.csv": samples.plays_table({name_a: 20_000, name_b: 3})}
    body = client.post("/history", files=upload(files)).json()
    assert body["profile"] == {
        "ratings": [{"artist_id": a, "level": 4}, {"artist_id": b, "level": 2}]
    }
    created = client.post("/profiles", json=body["profile"])
    assert created.status_code == 201, created.text
    stored = client.get(f"/profiles/{created.json()['id']}").json()
    assert {(r["artist_id"], r["level"]) for r in stored["ratings"]} == {(a, 4), (b, 2)}


def test_the_route_has_its_own_body_limit(
    service: RecommenderService, synthetic_ds: Dataset, tmp_path: Path, monkeypatch
) -> None:  # noqa: ANN001
    monkeypatch.setitem(history_router.BODY_LIMITS, "/history", 3 << 20)
    store = ProfileStore(tmp_path / "p.sqlite3")
    client = TestClient(create_app(service, store))
    (_, name), *_ = popular(synthetic_ds, 1)
    # 2 MiB: over the API's 1 MiB, under the route's 3 MiB
    table = samples.plays_table({name: 5}) + b"".join(
        f"Filler {i:07d},1\n".encode() for i in range(2 << 20 >> 4)
    )
    assert middleware.MAX_BODY < len(table) < 3 << 20
    ok = client.post("/history", params={"k": 1}, files=upload({"big.csv": table}))
    assert ok.status_code == 200, ok.text[:300]
    assert ok.json()["read"]["artists"] > 100_000
    # every other route keeps the 1 MiB limit
    too_big = client.post(
        "/recommendations",
        content=b"[" + b" " * (2 << 20) + b"]",
        headers={"content-type": "application/json"},
    )
    assert_error(too_big, 413, "body_too_large")
    # over the route's limit, by header or while streaming
    four = b"a,1\n" * (1 << 20)
    assert_error(client.post("/history", files=upload({"x.csv": four})), 413, "body_too_large")

    def chunks():  # no Content-Length: counted while streaming
        for _ in range(4):
            yield b"x" * (1 << 20)

    streamed = client.post(
        "/history", content=chunks(), headers={"content-type": "multipart/form-data; boundary=b"}
    )
    assert_error(streamed, 413, "body_too_large")
    store.close()


def test_a_file_over_the_import_limit_is_413(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fmt, "MAX_FILE_BYTES", 1000)
    resp = client.post("/history", files=upload({"big.csv": b"a,1\n" * 300}))
    body = assert_error(resp, 413, "history_too_large", "big.csv: the file is")
    assert body["fields"] == ["history"]


@pytest.mark.parametrize(
    ("files", "text"),
    [
        ({"notes.txt": b"hello\nworld\n"}, "Understood formats: Spotify extended"),
        ({"h.json": b'[{"ts": "2020", "ms_played": 1'}, "h.json: not valid JSON"),
        ({"h.json": b'{"a": 1}'}, "a JSON object, not a list"),
        ({"t.csv": b"artist,plays\nA,1\nB,lots\n"}, "line 3: the play count must be"),
        ({"doc.pdf": b"%PDF-1.4 binary"}, "PDF document"),
        ({"h.csv": b"artist,plays\n"}, "no plays were found"),
    ],
)
def test_unreadable_files_are_422_with_the_core_message(
    client: TestClient, files: dict[str, bytes], text: str
) -> None:
    body = assert_error(client.post("/history", files=upload(files)), 422, "invalid_history", text)
    assert body["fields"] == ["history"]


def test_request_errors(client: TestClient) -> None:
    assert_error(
        client.post("/history", content=b"a,1\n", headers={"content-type": "text/csv"}),
        415,
        "unsupported_media_type",
        "multipart/form-data",
    )
    assert_error(
        client.post(
            "/history", content=b'[{"name": "A",', headers={"content-type": "application/json"}
        ),
        400,
        "invalid_json",
        "line 1, column 15",
    )
    assert_error(client.post("/history", json={"name": "A"}), 422, "invalid_history", "a list")
    assert_error(
        client.post("/history", json=[{"name": "A", "plays": 1, "extra": 1}]),
        422,
        "invalid_history",
        "unknown field 'extra'",
    )
    assert_error(client.post("/history", json=[]), 422, "invalid_history", "no plays were given")
    assert_error(
        client.post("/history", json=[{"name": "A", "plays": "7"}]),
        422,
        "invalid_history",
        "entry 1",
    )
    body = assert_error(
        client.post("/history", json=[{"artist_id": 10**12, "plays": 1}]), 404, "unknown_artist"
    )
    assert body["suggestions"] == []
    assert_error(
        client.post("/history", files=[("file", ("a.csv", b"A,1\n", "text/csv"))]),
        422,
        "invalid_history",
        "unexpected form field 'file'",
    )
    assert_error(
        client.post(
            "/history", content=b"--b\r\n", headers={"content-type": "multipart/form-data"}
        ),
        400,
        "bad_multipart",
        "no boundary",
    )
    # k / model / novelty are checked before the history is read
    for params in ({"k": 0}, {"novelty": 2}, {"model": "nope"}):
        resp = client.post("/history", params=params, json=[{"name": "A", "plays": 1}])
        assert resp.status_code == 422 and resp.json()["fields"], resp.text


def test_nothing_touches_the_disk(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, synthetic_ds
) -> None:  # noqa: ANN001
    """A 3 MB upload is parsed in memory: Starlette's form parser would spool it to a file."""

    def no_files(*args, **kwargs):  # noqa: ANN002, ANN003
        raise AssertionError("a temporary file was created for an upload")

    import starlette.formparsers

    for name in ("SpooledTemporaryFile", "TemporaryFile", "NamedTemporaryFile", "mkstemp"):
        monkeypatch.setattr(tempfile, name, no_files)
    monkeypatch.setattr(starlette.formparsers, "SpooledTemporaryFile", no_files)
    (_, name), *_ = popular(synthetic_ds, 1)
    data = samples.plays_table({name: 3}) + b"Somebody,1\n" * (3 << 20 >> 4)
    resp = client.post("/history", params={"k": 1}, files=upload({"h.csv": data}))
    assert resp.status_code == 200, resp.text[:300]


def test_imports_run_off_the_event_loop_a_few_at_a_time(
    service: RecommenderService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    running = 0
    peak = 0
    lock = threading.Lock()
    on_loop: list[bool] = []

    def slow_import(*args, **kwargs):  # noqa: ANN002, ANN003
        nonlocal running, peak
        try:
            asyncio.get_running_loop()
            on_loop.append(True)
        except RuntimeError:
            on_loop.append(False)
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.3)
        with lock:
            running -= 1
        return {"ok": True}

    monkeypatch.setattr(service, "import_history", slow_import)
    store = ProfileStore(tmp_path / "p.sqlite3")
    app = create_app(service, store)

    async def main() -> list[int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            posts = [c.post("/history", json=[{"name": "A", "plays": 1}]) for _ in range(5)]
            results = await asyncio.gather(*posts)
            return [r.status_code for r in results]

    statuses = asyncio.run(main())
    store.close()
    assert statuses == [200] * 5
    assert on_loop == [False] * 5  # in worker threads
    assert peak == history_router.MAX_CONCURRENT_IMPORTS


def test_large_multipart_bodies_are_parsed_piece_by_piece(
    client: TestClient, synthetic_ds: Dataset
) -> None:
    """A 3 MB form is fed to the parser in 1 MiB pieces; files crossing a piece are whole."""
    (a, name), *_ = popular(synthetic_ds, 1)
    filler = b"".join(f"Nobody {i:06d},1\n".encode() for i in range(100_000))  # ~1.6 MB
    files = {"a.csv": filler + samples.plays_table({name: 7}, header=False), "b.csv": filler}
    body = client.post("/history", params={"k": 1}, files=upload(files)).json()
    assert [r["artist_id"] for r in body["ratings"]] == [a]
    assert body["ratings"][0]["plays"] == 7
    assert [f["rows"] for f in body["read"]["files"]] == [100_001, 100_000]


def test_openapi_documents_both_bodies_and_the_answer(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    op = spec["paths"]["/history"]["post"]
    content = op["requestBody"]["content"]
    assert content["multipart/form-data"]["schema"]["properties"]["files"]["items"] == {
        "type": "string",
        "format": "binary",
    }
    assert content["application/json"]["schema"]["type"] == "array"
    assert {"200", "400", "404", "413", "415", "422"} <= set(op["responses"])
    answer = spec["components"]["schemas"]["HistoryOut"]
    assert {"read", "ratings", "unmatched", "to_confirm", "profile", "recommendations"} <= set(
        answer["properties"]
    )
    assert "POST /profiles" in answer["properties"]["profile"]["description"]
    assert json.dumps(op)  # serialisable


@pytest.mark.integration
def test_real_catalogue_upload(real_ds: Dataset, tmp_path: Path) -> None:
    model = create_model("popularity").fit(real_ds)
    svc = RecommenderService(real_ds, models={"default": model})
    store = ProfileStore(tmp_path / "p.sqlite3")
    client = TestClient(create_app(svc, store))
    streams = samples.generate_streams(
        [
            "Britney Spears",
            "Lady Gaga",
            "rihanna",
            "Katy Perry",
            "Beyonce",
            "Emminen",
            "Qwxyzzt Plorb",
        ],
        3000,
        seed=3,
    )
    files = {
        "my_spotify_data.zip": samples.zipped(
            {"Streaming_History_Audio_0.json": samples.spotify_extended(streams)[0]}
        )
    }
    body = client.post("/history", params={"k": 10}, files=upload(files)).json()
    names = {r["name"] for r in body["ratings"]}
    assert names == {"Britney Spears", "Lady Gaga", "Rihanna", "Katy Perry", "Beyoncé"}
    assert [c["artist_name"] for c in body["to_confirm"]] == ["Eminem"]
    assert [u["name"] for u in body["unmatched"]] == ["Qwxyzzt Plorb"]
    recommended = {r["name"] for r in body["recommendations"]}
    assert len(recommended) == 10 and not recommended & (names | {"Eminem"})
    store.close()
