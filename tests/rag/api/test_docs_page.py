"""No page the server returns loads anything from another address: /docs comes with Swagger UI's
files from the installed package, and every HTML page names only the service's own paths."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from rag.api.main import create_app

# An absolute or scheme-relative URL in an attribute, a CSS url() or a script string.
OUTSIDE = re.compile(r"""(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}""", re.IGNORECASE)
LOCAL_REFERENCE = re.compile(r"""(?:src|href)=["']([^"']+)["']""")


def test_no_html_page_references_an_outside_address(make_service):
    service = make_service()
    app = create_app(service.settings, service, run_worker=False)
    with TestClient(app) as client:
        schema_paths = [p for p in app.openapi()["paths"] if "{" not in p]
        pages = {}
        for path in ["/", "/docs", *schema_paths]:
            response = client.get(path)
            if response.headers.get("content-type", "").startswith("text/html"):
                pages[path] = response.text
        assert {"/", "/docs"} <= set(pages)
        for path, html in pages.items():
            assert not OUTSIDE.findall(html), path
            for reference in LOCAL_REFERENCE.findall(html):
                if reference.startswith("#"):
                    continue  # a place on the page itself
                assert reference.startswith("/") and not reference.startswith("//"), reference
                assert client.get(reference).status_code == 200, reference
        assert client.get("/redoc").status_code == 404  # ReDoc would load a CDN and fonts
        assert client.get("/docs/assets/secret.key").status_code == 404
