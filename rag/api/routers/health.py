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
    """Models and index are loaded (the app only starts serving once they are)."""
    return {"status": "ready", "index_size": service.index.size}
