"""The FAISS vector index: a cache derived from SQL, kept current from the change log."""

from rag.index.vector_index import VectorIndex

__all__ = ["VectorIndex"]
