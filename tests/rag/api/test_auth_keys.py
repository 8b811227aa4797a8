"""Keys and roles over the API: 401 without or with a revoked key, 403 for a reader on admin
routes, keys made and revoked by admins (the key shown once, only its hash stored), the
per-key rate limit, and the error shape."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from rag.db.models import ApiKey

ADMIN_ROUTES = [
    ("GET", "/v1/keys"),
    ("POST", "/v1/keys"),
    ("DELETE", "/v1/keys/1"),
    ("GET", "/metrics"),
]
READER_ROUTES = [
    ("POST", "/v1/query", {"question": "When is lunch?"}),
    ("POST", "/v1/search", {"question": "When is lunch?"}),
    (
        "POST",
        "/v1/chat/completions",
        {"model": "x", "messages": [{"role": "user", "content": "?"}]},
    ),
    ("GET", "/v1/models", None),
    ("GET", "/v1/documents", None),
]


def _is_error(response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] == status and body["code"] == code and body["message"]
    assert "Traceback" not in response.text


@pytest.mark.parametrize(
    "method,path,body", READER_ROUTES + [(m, p, None) for m, p in ADMIN_ROUTES]
)
def test_every_route_needs_a_key(api_env, method, path, body):
    r = api_env.client.request(method, path, json=body)
    _is_error(r, 401, "unauthorized")
    assert r.headers["WWW-Authenticate"] == "Bearer"
    r = api_env.client.request(method, path, json=body, headers={"Authorization": "Bearer nope"})
    _is_error(r, 401, "unauthorized")


def test_health_checks_need_no_key(api_env):
    assert api_env.client.get("/healthz").status_code == 200
    assert api_env.client.get("/readyz").status_code == 200


@pytest.mark.parametrize("method,path", ADMIN_ROUTES)
def test_a_reader_on_an_admin_route_gets_403(api_env, method, path):
    body = {"name": "x"} if method == "POST" else None
    r = api_env.client.request(method, path, json=body, headers=api_env.headers("hr-bot"))
    _is_error(r, 403, "forbidden")


def test_admin_makes_lists_and_revokes_keys(api_env):
    admin = api_env.headers("admin")
    client = api_env.client
    made = client.post(
        "/v1/keys",
        json={"name": "wiki-bot", "role": "reader", "groups": ["eng", "all"]},
        headers=admin,
    )
    assert made.status_code == 201, made.text
    secret = made.json()["key"]
    assert secret.startswith("rag_") and made.json()["groups"] == ["eng", "all"]
    # The key works, is listed without its secret, and SQL holds only its hash.
    assert (
        client.get("/v1/models", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    )
    listing = client.get("/v1/keys", headers=admin)
    assert "wiki-bot" in listing.text and secret not in listing.text
    with api_env.service.session_factory() as session:
        record = session.scalar(select(ApiKey).where(ApiKey.name == "wiki-bot"))
        assert record.key_hash != secret and secret not in record.key_hash
    # A second key of that name is a conflict.
    again = client.post("/v1/keys", json={"name": "wiki-bot"}, headers=admin)
    _is_error(again, 409, "conflict")
    # Revoked: 401 from then on.
    revoked = client.delete(f"/v1/keys/{made.json()['id']}", headers=admin)
    assert revoked.status_code == 200 and revoked.json()["revoked"] is True
    r = client.get("/v1/models", headers={"Authorization": f"Bearer {secret}"})
    _is_error(r, 401, "unauthorized")
    _is_error(client.delete("/v1/keys/987654", headers=admin), 404, "not_found")


def test_bad_key_requests_are_specific_422s(api_env):
    admin = api_env.headers("admin")
    r = api_env.client.post("/v1/keys", json={"name": "x", "role": "owner"}, headers=admin)
    _is_error(r, 422, "invalid_request")
    assert "role" in r.json()["message"]
    r = api_env.client.post("/v1/keys", json={"name": "y", "groups": ["a,b"]}, headers=admin)
    _is_error(r, 422, "invalid_request")
    assert "comma" in r.json()["message"]
    r = api_env.client.delete("/v1/keys/99999999999", headers=admin)
    _is_error(r, 422, "invalid_request")


def test_validation_errors_have_the_one_error_shape(api_env):
    headers = api_env.headers("lobby")
    r = api_env.client.post("/v1/query", json={"question": ""}, headers=headers)
    _is_error(r, 422, "invalid_request")
    assert "question" in r.json()["message"]
    r = api_env.client.post("/v1/query", content=b"{not json", headers=headers)
    _is_error(r, 422, "invalid_request")
    long = "x" * (api_env.service.settings.api.max_question_chars + 1)
    r = api_env.client.post("/v1/search", json={"question": long}, headers=headers)
    _is_error(r, 422, "invalid_request")
    assert "longer than" in r.json()["message"]
    _is_error(api_env.client.get("/v1/nowhere", headers=headers), 404, "not_found")


def test_requests_per_minute_per_key(make_api):
    with make_api(requests_per_minute=3) as env:
        lobby, hr = env.headers("lobby"), env.headers("hr-bot")
        for _ in range(3):
            assert env.client.get("/v1/models", headers=lobby).status_code == 200
        r = env.client.get("/v1/models", headers=lobby)
        _is_error(r, 429, "too_many_requests")
        assert int(r.headers["Retry-After"]) >= 1
        # Another key has its own allowance.
        assert env.client.get("/v1/models", headers=hr).status_code == 200
