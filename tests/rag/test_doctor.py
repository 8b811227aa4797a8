"""`rag doctor`: what the service will use, each part checked, failures named; nothing written."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from ingest.file_workers import host_capacity, worker_count, worker_memory_mib
from rag.cli import app
from rag.config import ServerSettings, Settings, get_settings
from rag.db.migrate import upgrade
from rag.doctor import collect, embedding_backend_row, file_workers_row

runner = CliRunner()


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("RAG_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def rows_by_part(rows) -> dict[str, list]:
    parts: dict[str, list] = {}
    for row in rows:
        parts.setdefault(row.part, []).append(row)
    return parts


def test_reports_every_part_without_loading(env):
    settings = Settings()
    settings.data_dir.mkdir(parents=True)
    upgrade(settings.resolved_database_url)
    parts = rows_by_part(collect(settings, load=False))
    assert not [row for row in sum(parts.values(), []) if row.failed]
    assert parts["device"][0].what.startswith(("CPU", "cuda:"))
    assert parts["ingest"][0].what.endswith(" file workers")
    assert "retrieval.index_device" in parts["device"][-1].detail
    assert "(current)" in parts["database"][0].detail
    assert parts["database"][1].detail == "0 documents, 0 chunks"
    assert "no snapshot yet" in parts["index"][0].detail
    assert parts["embedding"][0].detail.startswith("/")  # the resolved path
    assert parts["embedding"][1].what == "backend onnx (int8)"
    assert parts["llm"][0].what == "backend llama_cpp"
    assert parts["llm"][1].detail.endswith("SmolLM2-135M-Instruct.Q4_1.gguf")


def test_a_missing_database_or_model_is_named_and_nothing_is_created(env):
    settings = Settings().model_copy(
        update={"llm": Settings().llm.model_copy(update={"model": str(env / "absent.gguf")})}
    )
    rows = collect(settings, load=False)
    failed = {row.part: row.detail for row in rows if row.failed}
    assert "run `rag db upgrade`" in failed["database"]
    assert "absent.gguf" in failed["llm"]
    assert not (env / "data").exists()


def test_an_unreachable_model_server_fails_the_load_check(env):
    settings = Settings().model_copy(
        update={
            "llm": Settings().llm.model_copy(
                update={
                    "backend": "openai_compatible",
                    "server": ServerSettings(base_url="http://127.0.0.1:9/v1", retries=0),
                }
            )
        }
    )
    llm_rows = [row for row in collect(settings, load=True) if row.part == "llm"]
    assert llm_rows[1].what == "server http://127.0.0.1:9/v1"
    assert llm_rows[-1].failed and "not reachable" in llm_rows[-1].detail


@pytest.mark.slow
def test_cli_loads_each_model_and_exits_zero(env):
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    result = runner.invoke(app, ["doctor"])
    assert result.exit_code == 0, result.output
    for check in ("loads and embeds", "loads and finds a name", "loads and generates"):
        assert check in result.output
    assert "all checks passed" in result.output


def test_cli_exits_one_when_a_check_fails(env):
    result = runner.invoke(app, ["doctor", "--no-load"])  # no `rag db upgrade` yet
    assert result.exit_code == 1
    database = next(line for line in result.output.splitlines() if "database" in line)
    assert "failed" in database
    assert "1 check(s) failed" in result.output


def test_a_configured_gpu_that_is_not_there_fails_its_row(env):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU: the setting would work")
    settings = Settings(retrieval={"index_device": "cuda"})
    placement = rows_by_part(collect(settings, load=False))["device"][-1]
    assert placement.failed
    assert "retrieval.index_device is cuda" in placement.detail


def test_an_os_error_is_reported_by_its_errno_without_the_file_name():
    from rag.doctor import _attempt

    def check() -> str:
        raise FileNotFoundError(2, "No such file or directory", "/srv/Priya Raman/model.gguf")

    row = _attempt("llm", "llm.model", check)
    assert row.failed
    assert row.detail == "FileNotFoundError: ENOENT: No such file or directory"


def flags(extra: str) -> frozenset[str]:
    return frozenset(f"fpu sse2 avx2 {extra}".split())


@pytest.mark.parametrize(
    ("extra", "flag", "speedup"),
    [
        ("avx512f avx512_vnni", "avx512_vnni", "~1.5x"),
        ("avx_vnni", "avx_vnni", "~1.5x"),
        ("avx512f avx512_vnni avx_vnni amx_int8", "amx_int8", "~2x"),  # AMX speaks for it
    ],
)
def test_onnx_on_a_cpu_with_int8_dot_products_is_told_where_openvino_pays(extra, flag, speedup):
    row = embedding_backend_row(Settings(embedding={"backend": "onnx"}), flags(extra))
    assert row.status == "ok" and row.what == "backend onnx (int8)"
    assert (
        f"this CPU has {flag}:" in row.detail and "embedding.backend auto or openvino" in row.detail
    )
    assert f"embeds {speedup} as fast here" in row.detail


def test_no_advice_without_int8_dot_products_or_away_from_onnx_int8():
    onnx = Settings(embedding={"backend": "onnx"})
    assert "openvino" not in embedding_backend_row(onnx, flags("avx512f")).detail
    for embedding in ({"backend": "openvino"}, {"backend": "onnx", "onnx_quantization": "none"}):
        row = embedding_backend_row(Settings(embedding=embedding), flags("avx512_vnni"))
        assert row.detail == "", embedding
    torch = embedding_backend_row(Settings(embedding={"backend": "torch"}), flags("avx512_vnni"))
    assert (torch.what, torch.detail) == ("backend torch", "")


def test_auto_says_which_runtime_it_takes_and_why(monkeypatch):
    from rag.embed import backend_choice

    monkeypatch.setattr(backend_choice, "openvino_installed", lambda: True)
    auto = Settings(embedding={"backend": "auto"})
    row = embedding_backend_row(auto, flags("avx512_vnni"))
    assert row.what == "backend auto → openvino (int8)"
    assert row.detail == "this CPU has avx512_vnni: ~1.5x as fast as onnx here"
    row = embedding_backend_row(auto, flags("avx512f"))
    assert row.what == "backend auto → onnx (int8)"
    assert row.detail.startswith("no VNNI or AMX on this CPU")
    # A store the onnx runtime filled keeps it on a CPU where openvino would be faster.
    row = embedding_backend_row(auto, flags("amx_int8"), stored='{"backend":"onnx-int8"}')
    assert row.what == "backend auto → onnx (int8)"
    assert row.detail.startswith("the runtime that made this store's vectors")
    monkeypatch.setattr(backend_choice, "openvino_installed", lambda: False)
    row = embedding_backend_row(auto, flags("amx_int8"))
    assert row.what == "backend auto → onnx (int8)"
    assert "with OpenVINO (pip install '.[openvino]') it would embed ~2x as fast" in row.detail


def test_the_file_workers_are_counted_and_the_reason_given():
    settings = Settings(ingest={"file_workers": "auto"})
    auto = file_workers_row(settings)
    assert auto.what == f"{worker_count(settings.ingest)} file workers"
    cpus, free_mib = host_capacity()
    assert auto.detail.startswith(f"auto: {cpus} CPUs usable")
    if free_mib is not None:  # Linux: what the memory holds is said
        each = worker_memory_mib(settings.ingest)
        assert "GiB free holds" in auto.detail and f"{each:g} MiB each" in auto.detail
    fixed = file_workers_row(Settings(ingest={"file_workers": 3}))
    assert (fixed.what, fixed.detail) == ("3 file workers", "ingest.file_workers")
