"""Property-based requests generated from the OpenAPI schema (schemathesis): whatever the
input, no route answers 500. Bounded to a few examples per operation so CI stays fast."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from rag.api.main import create_app
from tests.rag.api.conftest import _database_url, build_api, live_server

MAX_EXAMPLES = 20


@pytest.fixture(scope="module")
def base_url(tmp_path_factory, embedder, anonymizer, generator):
    """A real server on loopback over a store with documents in groups; an admin key."""
    tmp = tmp_path_factory.mktemp("schemathesis")
    url = _database_url("sqlite", tmp, "st")
    # The rate limit is off: the examples come fast.
    with (
        build_api(tmp, url, embedder, anonymizer, generator, requests_per_minute=0) as env,
        live_server(env.app) as base,
    ):
        yield base, env.keys["admin"]


# The schema as the app publishes it; building it needs no models or database.
schema = schemathesis.openapi.from_dict(create_app().openapi())


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_makes_a_server_error(case, base_url):
    url, admin_key = base_url
    # An admin key reaches every route.
    response = case.call(base_url=url, headers={"Authorization": f"Bearer {admin_key}"})
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:300]}"
    )
