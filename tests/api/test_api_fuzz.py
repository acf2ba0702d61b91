"""A bounded schemathesis run with EVERY built-in check: the OpenAPI document must match what the
API does (status codes, content types, headers, response bodies, which inputs it accepts and
which it refuses, 405 with ``Allow``), and no generated request may produce a 5xx."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings

from artistrec import available_models, create_model
from artistrec.api.app import create_app
from artistrec.data import Dataset
from artistrec.service import RecommenderService
from artistrec.store.profiles import ProfileStore

schemathesis = pytest.importorskip("schemathesis")
from schemathesis.checks import CHECKS, load_all_checks  # noqa: E402

load_all_checks()
#: every check schemathesis has (``--checks all``), by name so a missing one fails loudly
ALL_CHECKS = [CHECKS.get_by_names([name])[0] for name in CHECKS.get_all_names()]


@pytest.fixture(scope="module")
def api_schema(synthetic_ds: Dataset, tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("fuzz")
    path = tmp / "pop.npz"
    create_model("popularity").fit(synthetic_ds).save(path)
    # every model name the schema offers can be served; they are trained here, once, so that
    # no fuzzed request waits for a first-use training (two-tower's takes longer than the
    # client's 10 s read timeout)
    svc = RecommenderService(synthetic_ds, model_path=path)
    for name in available_models():
        svc.model(name)
    store = ProfileStore(tmp / "profiles.sqlite3")
    app = create_app(svc, store, admin_token="fuzz-admin")
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    # valid AND invalid inputs: the validation paths must answer 4xx, never 5xx
    schema.config.generation.update(
        modes=[schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE],
        deterministic=True,
    )
    yield schema
    store.close()


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_openapi_matches_behaviour(case) -> None:
    response = case.call()
    if _names_an_artist_twice(case, response) or _not_a_history_file(case, response):
        return  # rules about content JSON Schema cannot say (see below)
    case.validate_response(response, checks=ALL_CHECKS)
    assert response.status_code < 500, (case.method, case.path, response.text[:500])
    if response.status_code >= 400:
        body = response.json()
        assert isinstance(body.get("error"), str) and isinstance(body.get("message"), str)


def _names_an_artist_twice(case, response) -> bool:  # noqa: ANN001
    """A schema-valid body that rates one artist twice with different levels: refused with 422
    (documented in the schema's description; ``uniqueItems`` covers identical ratings only,
    since JSON Schema cannot require items unique by one key)."""
    ratings = case.body.get("ratings") if isinstance(case.body, dict) else None
    if not isinstance(ratings, list):
        return False
    ids = [
        r["artist_id"] for r in ratings if isinstance(r, dict) and type(r.get("artist_id")) is int
    ]
    return (
        response.status_code == 422
        and len(ids) != len(set(ids))
        and "more than once" in response.json().get("message", "")
    )


def _not_a_history_file(case, response) -> bool:  # noqa: ANN001
    """A schema-valid upload to ``POST /history`` whose file is no listening history: the
    schema can only say "binary" (``format: binary``), not which bytes form an export, so a
    generated file is refused as ``invalid_history`` (422, naming the formats understood)."""
    return (
        case.path == "/history"
        and "multipart/form-data" in str(case.media_type)
        and response.status_code == 422
        and response.json().get("error") == "invalid_history"
    )
