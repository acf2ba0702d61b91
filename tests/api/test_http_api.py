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
    assert client.get("/ready").json() == {"ready": True}
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


def test_long_rating_lists_are_served_off_the_event_loop(
    client: TestClient, service: RecommenderService, monkeypatch: pytest.MonkeyPatch
) -> None:
    import artistrec.api.routers.recommendations as api_app

    calls: list[str] = []
    real = api_app.run_in_threadpool

    async def spy(fn, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        calls.append(fn.__name__)
        return await real(fn, *args, **kwargs)

    monkeypatch.setattr(api_app, "run_in_threadpool", spy)
    n = api_app.INLINE_RATINGS + 1
    ids = _ids(service.dataset, n + 5)
    body = {"ratings": [{"artist_id": i, "level": 3} for i in ids[:n]], "k": 5}
    resp = client.post("/recommendations", json=body)
    assert resp.status_code == 200, resp.text
    got = [r["artist_id"] for r in resp.json()["recommendations"]]
    assert got == ids[n : n + 5]  # popularity model: the next most popular, none of the rated
    assert calls == ["_recommend_for"]
    short = {"ratings": body["ratings"][:3], "k": 5}
    assert client.post("/recommendations", json=short).status_code == 200
    assert calls == ["_recommend_for"]  # short lists stay inline
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


def test_lone_surrogate_name_rejected(client: TestClient) -> None:
    raw = b'{"ratings": [{"name": "\\ud800", "level": 3}]}'
    resp = client.post(
        "/recommendations", content=raw, headers={"content-type": "application/json"}
    )
    _assert_error(resp, 422, "name")
    resp = client.post(
        "/profiles",
        content=b'{"display_name": "\\udfff"}',
        headers={"content-type": "application/json"},
    )
    _assert_error(resp, 422, "display_name")


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
    _assert_error(
        client.post(
            "/recommendations", content=b"{not json", headers={"content-type": "application/json"}
        ),
        422,
    )
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
