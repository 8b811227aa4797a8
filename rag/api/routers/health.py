"""Health checks: no key needed."""

from fastapi import APIRouter

from rag.api.deps import ServiceDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(service: ServiceDep) -> dict:
    """Models and index are loaded (the app only starts serving once they are), and the index
    has replayed the change log up to now. No counts here: this route needs no key, and the
    size of the corpus is the admin's business (GET /metrics)."""
    service.catch_up_index()
    return {"status": "ready"}
