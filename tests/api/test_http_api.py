"""HTTP API: every endpoint and its error cases, on the synthetic data with the popularity model."""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from contextlib import closing
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from artistrec import create_model
from artistrec.api.app import create_app
from artistrec.data import Dataset
from artistrec.service import RecommenderService
from artistrec.store.artifacts import FORMAT, FORMAT_VERSION
from artistrec.store.profiles import ProfileStore

ADMIN = "s3cret-admin"


@pytest.fixture(scope="module")
def service(synthetic_ds: Dataset, tmp_path_factory: pytest.TempPathFactory) -> RecommenderService:
    path = tmp_path_factory.mktemp("model") / "pop.npz"
    create_model("popularity").fit(synthetic_ds).save(path)
    svc = RecommenderService(synthetic_ds, model_path=path, train_if_missing=False)
    svc.model()
    return svc


@pytest.fixture()
def store(tmp_path: Path) -> ProfileStore:
    s = ProfileStore(tmp_path / "profiles.sqlite3")
    yield s
    s.close()


@pytest.fixture()
def client(service: RecommenderService, store: ProfileStore) -> TestClient:
    return TestClient(create_app(service, store, admin_token=ADMIN))


def _ids(ds: Dataset, n: int) -> list[int]:
    order = np.argsort(-ds.artist_listeners(), kind="stable")[:n]
    return [int(x) for x in ds.artist_ids[order]]


def _assert_error(resp, status: int, field: str | None = None) -> dict:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    body = resp.json()
    assert isinstance(body["error"], str) and body["message"]
    if field is not None:
        assert any(field in f for f in body["fields"]), body
    return body


# ----------------------------------------------------------------------------- meta
def test_health_ready_openapi(client: TestClient, service: RecommenderService) -> None:
    h = client.get("/health").json()
    assert h["status"] == "ok" and h["model"] == "popularity"
    assert h["data_fingerprint"] == service.dataset.fingerprint and h["uptime_seconds"] >= 0
    ready = client.get("/ready")
    assert ready.json() == {"ready": True, "model_version": h["model_version"]}
    assert (
        ready.headers["x-model-version"] == h["model_version"] == client.app.state.watcher.version
    )
    spec = client.get("/openapi.json").json()
    assert "/recommendations" in spec["paths"] and "/profiles/{profile_id}" in spec["paths"]
    assert not any("get" in ops and p == "/profiles" for p, ops in spec["paths"].items())


def test_unknown_route_is_json_404(client: TestClient) -> None:
    _assert_error(client.get("/nope"), 404)
    _assert_error(client.delete("/health"), 405)


# ----------------------------------------------------------------------------- artists
def test_search_artists(client: TestClient, service: RecommenderService) -> None:
    hits = client.get("/artists", params={"limit": 3}).json()
    assert [h["id"] for h in hits] == _ids(service.dataset, 3)
    assert set(hits[0]) == {"id", "name", "listeners", "url"}
    name = hits[0]["name"]
    found = client.get("/artists", params={"q": name.upper()}).json()
    assert found and found[0]["name"] == name
    _assert_error(client.get("/artists", params={"limit": 0}), 422, "limit")
    _assert_error(client.get("/artists", params={"limit": "x"}), 422, "limit")
    _assert_error(client.get("/artists", params={"q": "a" * 201}), 422, "q")


def test_artist_detail(client: TestClient, service: RecommenderService) -> None:
    aid = _ids(service.dataset, 1)[0]
    body = client.get(f"/artists/{aid}").json()
    assert body["id"] == aid and body["listeners"] == max(service.dataset.artist_listeners())
    assert isinstance(body["tags"], list) and "index" not in body
    err = _assert_error(client.get("/artists/999999999"), 404)
    # no "did you mean" for an unknown id: artists with neighbouring ids are unrelated
    assert err["error"] == "unknown_artist" and err["suggestions"] == []
    _assert_error(client.get("/artists/abc"), 422, "artist_id")
    _assert_error(client.get(f"/artists/{2**70}"), 422, "artist_id")


def test_similar(client: TestClient, service: RecommenderService) -> None:
    aid = _ids(service.dataset, 1)[0]
    body = client.get(f"/artists/{aid}/similar", params={"k": 4}).json()
    recs = body["recommendations"]
    assert len(recs) == 4 and aid not in [r["artist_id"] for r in recs]
    assert body["model"] == "popularity"
    _assert_error(client.get(f"/artists/{aid}/similar", params={"measure": "l1"}), 422, "measure")
    _assert_error(client.get(f"/artists/{aid}/similar", params={"k": 501}), 422, "k")
    _assert_error(client.get("/artists/999999999/similar"), 404)


# ----------------------------------------------------------------------------- recommendations
def test_recommendations_by_id_and_name(client: TestClient, service: RecommenderService) -> None:
    ids = _ids(service.dataset, 4)
    name = service.artist_info(ids[1])["name"]
    body = {
        "ratings": [{"artist_id": ids[0], "level": 4}, {"name": name.upper(), "level": 5}],
        "k": 5,
        "exclude": [ids[2]],
    }
    resp = client.post("/recommendations", json=body)
    assert resp.status_code == 200, resp.text
    recs = resp.json()["recommendations"]
    got = [r["artist_id"] for r in recs]
    assert len(got) == 5 and not set(got) & set(ids[:3])
    assert got[0] == ids[3]
    assert all(set(r) == {"artist_id", "name", "url", "score", "tags", "reason"} for r in recs)
    assert any(r["reason"].startswith("because you rated") for r in recs)


def test_costly_requests_are_served_off_the_event_loop(
    client: TestClient, service: RecommenderService, monkeypatch: pytest.MonkeyPatch
) -> None:
    import artistrec.api.routers.recommendations as api_app

    calls: list[str] = []
    real = api_app.run_cpu

    async def spy(fn, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        calls.append(fn.__name__)
        return await real(fn, *args, **kwargs)

    monkeypatch.setattr(api_app, "run_cpu", spy)
    n = api_app.INLINE_ITEMS + 1
    ids = _ids(service.dataset, n + 5)
    body = {"ratings": [{"artist_id": i, "level": 3} for i in ids[:n]], "k": 5}
    resp = client.post("/recommendations", json=body)
    assert resp.status_code == 200, resp.text
    got = [r["artist_id"] for r in resp.json()["recommendations"]]
    assert got == ids[n : n + 5]  # popularity model: the next most popular, none of the rated
    assert calls == ["_recommend_in_thread"]
    short = {"ratings": body["ratings"][:3], "k": 5}
    assert client.post("/recommendations", json=short).status_code == 200
    assert calls == ["_recommend_in_thread"]  # short lists of ids stay inline
    # names (a misspelt one searches for suggestions), large k and novelty go to the pool too
    name = service.artist_info(ids[0])["name"]
    for costly in (
        {"ratings": [{"name": name, "level": 3}]},
        {"k": api_app.INLINE_K + 1},
        {"novelty": 0.5},
    ):
        calls.clear()
        assert client.post("/recommendations", json=costly).status_code == 200
        assert calls == ["_recommend_in_thread"], costly
    # errors raised in the thread pool are still clean JSON 4xx
    bad = {"ratings": [*body["ratings"], {"artist_id": ids[0], "level": 2}]}
    _assert_error(client.post("/recommendations", json=bad), 422)


def test_recommendations_empty_is_popular(client: TestClient, service: RecommenderService) -> None:
    recs = client.post("/recommendations", json={"k": 3}).json()["recommendations"]
    assert [r["artist_id"] for r in recs] == _ids(service.dataset, 3)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"ratings": [{"artist_id": 1, "level": 6}]}, "level"),
        ({"ratings": [{"artist_id": 1, "level": -1}]}, "level"),
        ({"ratings": [{"artist_id": 1, "level": "high"}]}, "level"),
        ({"ratings": [{"level": 3}]}, "ratings"),
        ({"ratings": [{"artist_id": 1, "name": "x", "level": 3}]}, "ratings"),
        ({"k": 0}, "k"),
        ({"k": 501}, "k"),
        ({"novelty": 2}, "novelty"),
        ({"ratings": [{"artist_id": i, "level": 1} for i in range(1001)]}, "ratings"),
        ({"unexpected": 1}, "unexpected"),
        ({"model": "nope"}, "model"),
    ],
)
def test_recommendations_validation(client: TestClient, body: dict, field: str) -> None:
    _assert_error(client.post("/recommendations", json=body), 422, field)


def test_lone_surrogate_and_nul_rejected(client: TestClient) -> None:
    raw = b'{"ratings": [{"name": "\\ud800", "level": 3}]}'
    resp = client.post(
        "/recommendations", content=raw, headers={"content-type": "application/json"}
    )
    assert "not valid JSON" in _assert_error(resp, 400)["message"]
    resp = client.post(
        "/profiles",
        content=b'{"display_name": "\\udfff"}',
        headers={"content-type": "application/json"},
    )
    assert _assert_error(resp, 400)["error"] == "invalid_json"
    _assert_error(client.post("/profiles", json={"display_name": "a\x00b"}), 422, "display_name")
    nul = {"ratings": [{"name": "a\x00b", "level": 1}]}
    _assert_error(client.post("/recommendations", json=nul), 422, "ratings.0.name")


def test_recommendations_duplicates_and_unknown(
    client: TestClient, service: RecommenderService
) -> None:
    aid = _ids(service.dataset, 1)[0]
    name = service.artist_info(aid)["name"]
    dup = {"ratings": [{"artist_id": aid, "level": 3}, {"name": name, "level": 2}]}
    body = _assert_error(client.post("/recommendations", json=dup), 422, "ratings")
    assert "more than once" in body["message"]
    unknown = {"ratings": [{"name": name + "x", "level": 3}]}
    err = _assert_error(client.post("/recommendations", json=unknown), 404)
    assert name in err["suggestions"] and err["query"] == name + "x"
    err = _assert_error(
        client.post("/recommendations", json={"ratings": [{"artist_id": 999999999, "level": 3}]}),
        404,
    )
    assert err["query"] == 999999999 and err["suggestions"] == []
    _assert_error(client.post("/recommendations", json={"exclude": [999999999]}), 404)


def test_bad_bodies(client: TestClient) -> None:
    err = _assert_error(
        client.post(
            "/recommendations", content=b"{not json", headers={"content-type": "application/json"}
        ),
        400,
    )
    assert err == {
        "error": "invalid_json",
        "message": "request body is not valid JSON: object keys must be strings at byte 1",
    }
    _assert_error(client.post("/recommendations", json=[1, 2]), 422)
    big = b'{"ratings": [], "pad": "' + b"x" * (1 << 20) + b'"}'
    _assert_error(
        client.post("/recommendations", content=big, headers={"content-type": "application/json"}),
        413,
    )

    def chunks():  # no Content-Length: the limit applies while streaming
        yield b'{"pad": "'
        for _ in range(20):
            yield b"x" * 100_000
        yield b'"}'

    _assert_error(
        client.post(
            "/recommendations", content=chunks(), headers={"content-type": "application/json"}
        ),
        413,
    )


def test_user_recommendations(client: TestClient, service: RecommenderService) -> None:
    ds = service.dataset
    uid = int(ds.user_ids[0])
    recs = client.get(f"/users/{uid}/recommendations", params={"k": 5}).json()["recommendations"]
    seen = set(ds.artist_ids[ds.interactions.getrow(0).indices].tolist())
    assert len(recs) == 5 and not seen & {r["artist_id"] for r in recs}
    _assert_error(client.get("/users/999999999/recommendations"), 404)
    _assert_error(client.get(f"/users/{uid}/recommendations", params={"k": 0}), 422, "k")


# ----------------------------------------------------------------------------- profiles
def _create(client: TestClient, ratings: list[dict], name: str | None = "me") -> dict:
    resp = client.post("/profiles", json={"ratings": ratings, "display_name": name})
    assert resp.status_code == 201, resp.text
    return resp.json()


def test_profile_lifecycle(client: TestClient, service: RecommenderService, store) -> None:
    ids = _ids(service.dataset, 5)
    created = _create(
        client, [{"artist_id": ids[0], "level": 5}, {"artist_id": ids[1], "level": 2}]
    )
    pid, token = created["id"], created["owner_token"]
    assert uuid.UUID(pid) and len(token) >= 32
    auth = {"Authorization": f"Bearer {token}"}
    got = client.get(f"/profiles/{pid}").json()
    assert got["display_name"] == "me"
    assert {(r["artist_id"], r["level"]) for r in got["ratings"]} == {(ids[0], 5), (ids[1], 2)}
    assert all(r["name"] for r in got["ratings"])
    # the token is never stored in clear
    with closing(sqlite3.connect(store.path)) as db:  # what is on disk, as any reader sees it
        row = db.execute("SELECT token_hash FROM profiles").fetchone()[0]
    assert token not in row and len(row) == 64

    recs = client.get(f"/profiles/{pid}/recommendations", params={"k": 3}).json()
    assert not {r["artist_id"] for r in recs["recommendations"]} & {ids[0], ids[1]}

    put = client.put(
        f"/profiles/{pid}",
        json={"ratings": [{"artist_id": ids[2], "level": 3}], "display_name": "new"},
        headers=auth,
    )
    assert put.status_code == 200, put.text
    assert [r["artist_id"] for r in put.json()["ratings"]] == [ids[2]]
    assert put.json()["display_name"] == "new"

    patch = client.patch(
        f"/profiles/{pid}",
        json={"ratings": [{"artist_id": ids[3], "level": 1}], "remove": [ids[2]]},
        headers=auth,
    )
    assert patch.status_code == 200, patch.text
    assert [(r["artist_id"], r["level"]) for r in patch.json()["ratings"]] == [(ids[3], 1)]
    assert patch.json()["display_name"] == "new"  # untouched when not sent

    assert client.delete(f"/profiles/{pid}", headers=auth).status_code == 204
    _assert_error(client.get(f"/profiles/{pid}"), 404)
    _assert_error(client.get(f"/profiles/{pid}/recommendations"), 404)


def test_profile_auth(client: TestClient, service: RecommenderService) -> None:
    ids = _ids(service.dataset, 2)
    pid = _create(client, [{"artist_id": ids[0], "level": 3}])["id"]
    other = _create(client, [])["owner_token"]
    body = {"ratings": [{"artist_id": ids[1], "level": 3}]}
    _assert_error(client.put(f"/profiles/{pid}", json=body), 401)
    _assert_error(
        client.put(f"/profiles/{pid}", json=body, headers={"Authorization": "Basic x"}), 401
    )
    wrong = {"Authorization": f"Bearer {other}"}
    _assert_error(client.put(f"/profiles/{pid}", json=body, headers=wrong), 403)
    _assert_error(client.patch(f"/profiles/{pid}", json=body, headers=wrong), 403)
    _assert_error(client.delete(f"/profiles/{pid}", headers=wrong), 403)
    # nothing changed
    assert [r["artist_id"] for r in client.get(f"/profiles/{pid}").json()["ratings"]] == [ids[0]]


def test_profile_errors(client: TestClient, service: RecommenderService) -> None:
    _assert_error(client.get("/profiles/not-a-uuid"), 422, "profile_id")
    _assert_error(client.get(f"/profiles/{uuid.uuid4()}"), 404)
    _assert_error(
        client.post("/profiles", json={"ratings": [{"artist_id": 999999999, "level": 2}]}), 404
    )
    _assert_error(client.post("/profiles", json={"display_name": "x" * 101}), 422, "display_name")
    aid = _ids(service.dataset, 1)[0]
    dup = {"ratings": [{"artist_id": aid, "level": 2}, {"artist_id": aid, "level": 3}]}
    _assert_error(client.post("/profiles", json=dup), 422, "ratings")
    created = _create(client, [{"artist_id": aid, "level": 2}])
    auth = {"Authorization": f"Bearer {created['owner_token']}"}
    both = {"ratings": [{"artist_id": aid, "level": 2}], "remove": [aid]}
    _assert_error(client.patch(f"/profiles/{created['id']}", json=both, headers=auth), 422)
    _assert_error(client.put(f"/profiles/{uuid.uuid4()}", json={}, headers=auth), 404)
    # no endpoint lists profiles
    assert client.get("/profiles").status_code in (404, 405)


# ----------------------------------------------------------------------------- admin
def test_admin_reload(store: ProfileStore, synthetic_ds: Dataset, tmp_path: Path) -> None:
    path = tmp_path / "model.npz"
    create_model("popularity").fit(synthetic_ds).save(path)
    service = RecommenderService(synthetic_ds, model_path=path, train_if_missing=False)
    service.model()
    disabled = TestClient(create_app(service, store, admin_token=None))
    _assert_error(disabled.post("/admin/reload", headers={"Authorization": "Bearer x"}), 404)
    client = TestClient(create_app(service, store, admin_token=ADMIN))
    _assert_error(client.post("/admin/reload"), 401)
    _assert_error(client.post("/admin/reload", headers={"Authorization": "Bearer nope"}), 403)

    # write a different model to the artifact path, reload while requests are in flight
    create_model("popularity", by="plays").fit(synthetic_ds).save(service.model_path)
    errors: list[int] = []
    stop = threading.Event()

    def hammer() -> None:
        while not stop.is_set():
            r = client.post("/recommendations", json={"k": 5})
            if r.status_code != 200:
                errors.append(r.status_code)

    threads = [threading.Thread(target=hammer) for _ in range(2)]
    for t in threads:
        t.start()
    resp = client.post("/admin/reload", headers={"Authorization": f"Bearer {ADMIN}"})
    stop.set()
    for t in threads:
        t.join()
    assert resp.status_code == 200, resp.text
    assert not errors
    assert service.model().get_params() == {"by": "plays"}
    assert client.get("/health").json()["model_params"] == {"by": "plays"}

    service.model_path.write_bytes(b"corrupt")
    bad = client.post("/admin/reload", headers={"Authorization": f"Bearer {ADMIN}"})
    _assert_error(bad, 409)
    assert service.model().get_params() == {"by": "plays"}  # the old model keeps serving

    # an artifact smuggling a pickled object array is refused (np.load(allow_pickle=False))
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "model": "popularity",
        "params": {},
        "data_fingerprint": synthetic_ds.fingerprint,
        "arrays": {"m.item_scores": "dense"},
    }
    with open(service.model_path, "wb") as fh:
        np.savez(
            fh,
            __meta__=np.asarray(json.dumps(meta)),
            **{"m.item_scores": np.array([{"evil": 1}], dtype=object)},
        )
    bad = client.post("/admin/reload", headers={"Authorization": f"Bearer {ADMIN}"})
    assert "pickle" in _assert_error(bad, 409)["message"].lower()
    assert service.model().get_params() == {"by": "plays"}


# ----------------------------------------------------------------------------- strict input
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"ratings": [{"artist_id": 1, "level": "5"}]}, "ratings.0.level"),
        ({"ratings": [{"artist_id": 1, "level": True}]}, "ratings.0.level"),
        ({"ratings": [{"artist_id": 289.0, "level": 1}]}, "ratings.0.artist_id"),
        ({"ratings": [{"artist_id": 1, "level": 1.0}]}, "ratings.0.level"),
        ({"k": "10"}, "k"),
        ({"novelty": "0.5"}, "novelty"),
        ({"exclude": [1.5]}, "exclude.0"),
        ({"ratings": [{"artist_id": None, "name": "x", "level": 1}]}, "ratings.0.artist_id"),
        ({"ratings": [{"artist_id": 1, "level": 1, "extra": 1}]}, "ratings.0.extra"),
    ],
)
def test_strict_types(client: TestClient, body: dict, field: str) -> None:
    err = _assert_error(client.post("/recommendations", json=body), 422, field)
    assert err["fields"] == [field] and len(err["detail"]) == 1


def test_non_json_content_types_are_415(client: TestClient) -> None:
    for ctype in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data", None):
        headers = {"content-type": ctype} if ctype else {}
        resp = client.post("/recommendations", content=b'{"k": 3}', headers=headers)
        assert _assert_error(resp, 415)["error"] == "unsupported_media_type"
    ok = client.post(
        "/recommendations",
        content=b'{"k": 3}',
        headers={"content-type": "application/json; charset=utf-8"},
    )
    assert ok.status_code == 200, ok.text


def test_unknown_keys_rejected_early_with_a_small_error(client: TestClient) -> None:
    # 74,000 unknown keys (the issue's 742 KB body) answer with one problem, not 74,000
    body = "{" + ",".join(f'"k{i}":0' for i in range(74_000)) + "}"
    assert len(body) < 1 << 20
    resp = client.post(
        "/recommendations", content=body.encode(), headers={"content-type": "application/json"}
    )
    err = _assert_error(resp, 422, "k0")
    assert len(resp.content) < 500 and err["detail"][0]["message"] == "unknown field 'k0'"
    # the same inside a rating
    bad = {"ratings": [{"artist_id": 1, "level": 1, **{f"x{i}": i for i in range(5000)}}]}
    assert len(_assert_error(client.post("/recommendations", json=bad), 422)["detail"]) == 1


def test_query_errors_are_capped(client: TestClient, service: RecommenderService) -> None:
    aid = _ids(service.dataset, 1)[0]
    params = {"k": "x", "measure": "nope", "model": "nope"}
    err = _assert_error(client.get(f"/artists/{aid}/similar", params=params), 422)
    assert set(err["fields"]) == {"k", "measure", "model"}
    from artistrec.api.errors import MAX_LISTED, clean_validation_errors

    many = [{"loc": ("query", f"f{i}"), "msg": "bad"} for i in range(1000)]
    assert len(clean_validation_errors(many)) == MAX_LISTED


# ----------------------------------------------------------------------------- conditional writes
def test_profile_etags_and_preconditions(client: TestClient, service: RecommenderService) -> None:
    ids = _ids(service.dataset, 4)
    resp = client.post("/profiles", json={"ratings": [{"artist_id": ids[0], "level": 3}]})
    assert resp.status_code == 201 and resp.headers["etag"] == '"1"'
    pid, token = resp.json()["id"], resp.json()["owner_token"]
    assert resp.headers["location"] == f"/profiles/{pid}"
    auth = {"Authorization": f"Bearer {token}"}
    got = client.get(f"/profiles/{pid}")
    assert got.headers["etag"] == '"1"' and got.json()["version"] == 1
    assert "GMT" in got.headers["last-modified"]
    assert client.get(f"/profiles/{pid}", headers={"If-None-Match": '"1"'}).status_code == 304
    assert client.get(f"/profiles/{pid}", headers={"If-None-Match": '"2"'}).status_code == 200

    body = {"ratings": [{"artist_id": ids[1], "level": 4}]}
    ok = client.put(f"/profiles/{pid}", json=body, headers={**auth, "If-Match": '"1"'})
    assert ok.status_code == 200 and ok.headers["etag"] == '"2"' and ok.json()["version"] == 2
    # a writer still holding version 1 loses, nothing is written, and learns the current version
    stale = client.put(
        f"/profiles/{pid}", json={"ratings": []}, headers={**auth, "If-Match": '"1"'}
    )
    err = _assert_error(stale, 412)
    assert err["current_version"] == 2 and stale.headers["etag"] == '"2"'
    for tag in ('W/"2"', '"abc"', "garbage"):  # weak or foreign tags never match If-Match
        _assert_error(
            client.put(f"/profiles/{pid}", json=body, headers={**auth, "If-Match": tag}), 412
        )
    assert client.get(f"/profiles/{pid}").json()["ratings"][0]["artist_id"] == ids[1]
    # several tags and "*"
    patch = {"ratings": [{"artist_id": ids[2], "level": 1}]}
    r = client.patch(f"/profiles/{pid}", json=patch, headers={**auth, "If-Match": '"7", "2"'})
    assert r.status_code == 200 and r.headers["etag"] == '"3"'
    r = client.patch(
        f"/profiles/{pid}", json={"display_name": "x"}, headers={**auth, "If-Match": "*"}
    )
    assert r.status_code == 200 and r.json()["display_name"] == "x"
    # If-Unmodified-Since: a date before the last change fails, a later one passes
    _assert_error(
        client.patch(
            f"/profiles/{pid}",
            json={"display_name": "y"},
            headers={**auth, "If-Unmodified-Since": "Sat, 01 Jan 2000 00:00:00 GMT"},
        ),
        412,
    )
    r = client.patch(
        f"/profiles/{pid}",
        json={"display_name": "y"},
        headers={**auth, "If-Unmodified-Since": "Fri, 01 Jan 2100 00:00:00 GMT"},
    )
    assert r.status_code == 200 and r.json()["display_name"] == "y"
    # a date that is no HTTP-date is ignored (RFC 9110), and If-Match wins over it
    r = client.patch(
        f"/profiles/{pid}",
        json={"display_name": None},
        headers={**auth, "If-Unmodified-Since": "yesterday"},
    )
    assert r.status_code == 200 and r.json()["display_name"] is None
    version = r.json()["version"]
    # DELETE honours If-Match too; 404 before 412 for a profile that is not there
    _assert_error(client.delete(f"/profiles/{pid}", headers={**auth, "If-Match": '"1"'}), 412)
    ok = client.delete(f"/profiles/{pid}", headers={**auth, "If-Match": f'"{version}"'})
    assert ok.status_code == 204
    _assert_error(
        client.put(f"/profiles/{pid}", json=body, headers={**auth, "If-Match": '"1"'}), 404
    )


def test_preconditions_are_in_the_openapi(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    put = spec["paths"]["/profiles/{profile_id}"]["put"]
    headers = {p["name"].lower() for p in put["parameters"] if p["in"] == "header"}
    assert {"if-match", "if-unmodified-since"} <= headers
    assert "412" in put["responses"] and "ETag" in put["responses"]["200"]["headers"]
    assert "412" in spec["paths"]["/profiles/{profile_id}"]["delete"]["responses"]
    rating = spec["components"]["schemas"]["RatingIn"]
    assert rating["oneOf"] == [{"required": ["artist_id"]}, {"required": ["name"]}]
    assert rating["additionalProperties"] is False
    body = spec["components"]["schemas"]["RecommendRequest"]
    assert "hybrid" in body["properties"]["model"]["enum"]


# ----------------------------------------------------------------------------- protocol details
def test_405_names_the_allowed_methods(client: TestClient) -> None:
    resp = client.delete("/health")
    _assert_error(resp, 405)
    assert set(resp.headers["allow"].replace(" ", "").split(",")) >= {"GET"}


def test_every_answer_names_the_model_version(client: TestClient) -> None:
    version = client.app.state.watcher.version
    assert len(version) == 16 and int(version, 16) >= 0
    for resp in (
        client.get("/health"),
        client.post("/recommendations", json={"k": 2}),
        client.get("/nope"),
        client.post("/recommendations", json={"k": 0}),
    ):
        assert resp.headers["x-model-version"] == version, resp.url


def test_docs_work_offline(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert "cdn" not in page.text.lower() and "https://" not in page.text
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"):
        assert f"/docs/assets/{asset}" in page.text
        resp = client.get(f"/docs/assets/{asset}")
        assert resp.status_code == 200 and len(resp.content) > 100, asset
    assert "SwaggerUIBundle" in client.get("/docs/assets/swagger-ui-bundle.js").text
    _assert_error(client.get("/docs/assets/..%2Fpyproject.toml"), 404)
    _assert_error(client.get("/docs/assets/index.html"), 404)
    assert client.get("/redoc").status_code == 404
