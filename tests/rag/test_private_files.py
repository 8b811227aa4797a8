"""The data folder and the service's files in it are owner-only: 0700 folders, 0600 files."""

from __future__ import annotations

import stat

from rag.service import RagService


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_data_folder_and_the_services_files_become_owner_only(settings, embedder, anonymizer):
    data = settings.data_dir
    (data / "index").mkdir(parents=True)
    (data / "uploads" / "abc").mkdir(parents=True)
    files = [data / "rag.db", data / "index" / "faiss.index", data / "uploads" / "abc" / "a.txt"]
    for path in [*files, data / "notes-of-the-admin.txt"]:
        path.write_text("x")
        path.chmod(0o644)
    for folder in (data, data / "index", data / "uploads", data / "uploads" / "abc"):
        folder.chmod(0o755)

    service = RagService(settings, embedder=embedder, anonymizer=anonymizer)
    service.engine.dispose()

    for folder in (data, data / "index", data / "uploads", data / "uploads" / "abc"):
        assert _mode(folder) == 0o700, folder
    for path in files:
        assert _mode(path) == 0o600, path
    assert _mode(data / "notes-of-the-admin.txt") == 0o644  # not the service's: left alone


def test_a_saved_index_snapshot_is_owner_only(make_indexed_service):
    service = make_indexed_service({"a.txt": "Lunch\n\nThe canteen serves lunch at noon.\n"})
    service.index.save()
    snapshot = service.settings.index_dir
    assert _mode(snapshot) == 0o700
    assert {_mode(path) for path in snapshot.iterdir()} == {0o600}
