"""GET /metrics: Prometheus text with requests per route, retrieval and generation time, the
generation queue, the index size and jobs by state (from SQL); admin keys only."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from rag.db.models import Job
from rag.db.session import transaction


def _samples(text: str) -> dict[tuple[str, tuple], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_metrics_report_routes_timings_queue_index_and_jobs(api_env):
    client, admin = api_env.client, api_env.headers("admin")
    with transaction(api_env.service.session_factory) as session:
        session.add_all([Job(kind="scan", status="queued"), Job(kind="scan", status="failed")])
    client.post("/v1/search", json={"question": "canteen lunch"}, headers=admin)
    client.post("/v1/query", json={"question": "When is lunch served?"}, headers=admin)
    client.get("/v1/keys/12345", headers=admin)  # a 405: ids never become labels

    r = client.get("/metrics", headers=admin)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    samples = _samples(r.text)

    search = (("method", "POST"), ("route", "/v1/search"), ("status", "200"))
    assert samples[("rag_http_requests_total", search)] >= 1
    timed = (("method", "POST"), ("route", "/v1/query"))
    assert samples[("rag_http_request_duration_seconds_count", timed)] >= 1
    assert samples[("rag_retrieval_seconds_count", ())] >= 2
    assert samples[("rag_generation_seconds_count", ())] >= 1
    assert samples[("rag_generation_queue_depth", ())] == 0
    assert samples[("rag_generations_running", ())] == 0
    assert samples[("rag_index_vectors", ())] == api_env.service.index.size > 0
    assert samples[("rag_jobs", (("state", "queued"),))] >= 1
    assert samples[("rag_jobs", (("state", "failed"),))] >= 1
    assert "12345" not in r.text


def test_metrics_need_an_admin_key(api_env):
    assert api_env.client.get("/metrics").status_code == 401
    assert api_env.client.get("/metrics", headers=api_env.headers("hr-bot")).status_code == 403


def test_a_made_up_http_method_is_counted_as_other(api_env):
    """Methods come from unauthenticated clients: they must not make new series."""
    client, admin = api_env.client, api_env.headers("admin")
    for method in ("BREW", "PROPFIND-X1", "PROPFIND-X2"):
        client.request(method, "/v1/search")

    samples = _samples(client.get("/metrics", headers=admin).text)

    methods = {dict(labels)["method"] for name, labels in samples if "method" in dict(labels)}
    assert "other" in methods and not methods & {"BREW", "PROPFIND-X1", "PROPFIND-X2"}
