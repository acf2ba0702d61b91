"""A short, bounded schemathesis run: no generated request may produce a 5xx or a non-JSON error."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings

from artistrec import create_model
from artistrec.api.app import create_app
from artistrec.data import Dataset
from artistrec.service import RecommenderService
from artistrec.store.profiles import ProfileStore

schemathesis = pytest.importorskip("schemathesis")


@pytest.fixture(scope="module")
def api_schema(synthetic_ds: Dataset, tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("fuzz")
    path = tmp / "pop.npz"
    create_model("popularity").fit(synthetic_ds).save(path)
    svc = RecommenderService(synthetic_ds, model_path=path, train_if_missing=False)
    svc.model()
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
    max_examples=6,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_errors(case) -> None:
    response = case.call()
    assert response.status_code < 500, (case.method, case.path, response.text[:500])
    if response.status_code >= 400:
        body = response.json()
        assert isinstance(body.get("error"), str) and isinstance(body.get("message"), str)
