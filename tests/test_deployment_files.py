"""Dockerfile, .dockerignore and docker-compose.yml agree with each other and with the code.

No Docker engine is needed: the files are read as text and checked against the repository."""

import json
import os
import posixpath
import re
import shlex
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel
from typer.testing import CliRunner

from rag.cli import app
from rag.config import Settings

REPO = Path(__file__).resolve().parents[1]
APP_DIR = "/app"  # the Dockerfile's WORKDIR, where the image keeps the repository's layout
SERVICES = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order: continuation lines joined, heredoc bodies skipped."""
    instructions, pending, heredoc_end = [], "", None
    for line in (REPO / "Dockerfile").read_text().splitlines():
        if heredoc_end is not None:
            heredoc_end = None if line.strip() == heredoc_end else heredoc_end
            continue
        if not line.strip() or line.lstrip().startswith("#"):  # also inside continuations
            continue
        pending += line.rstrip().removesuffix("\\") + " "
        if line.rstrip().endswith("\\"):
            continue
        keyword, _, arguments = pending.strip().partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        if match := re.search(r"<<-?['\"]?(\w+)", arguments):
            heredoc_end = match.group(1)
        pending = ""
    return instructions


INSTRUCTIONS = dockerfile_instructions()
RUNTIME = INSTRUCTIONS[max(i for i, (k, _) in enumerate(INSTRUCTIONS) if k == "FROM") :]


def copies(instructions) -> list[tuple[str, str]]:
    """(source, destination) of each COPY/ADD from the build context (not --from a stage)."""
    found = []
    for keyword, arguments in instructions:
        words = shlex.split(arguments) if keyword in ("COPY", "ADD") else []
        if words and not any(w.startswith("--from") for w in words):
            paths = [w for w in words if not w.startswith("--")]
            found += [(source, paths[-1]) for source in paths[:-1]]
    return found


def as_list(value) -> list[str]:
    return shlex.split(value) if isinstance(value, str) else list(value or [])


def as_dict(value) -> dict[str, str]:
    """Compose allows a mapping or a list of KEY=VALUE for environment and build args."""
    pairs = value.items() if isinstance(value, dict) else (i.split("=", 1) for i in value or [])
    return {key: str(item) for key, item in pairs}


def test_every_build_arg_of_a_service_is_declared_in_the_dockerfile():
    declared = {re.split(r"[= ]", a)[0] for k, a in INSTRUCTIONS if k == "ARG"}
    for name, service in SERVICES.items():
        build = service.get("build")
        if build is None:
            continue
        build = {"context": build} if isinstance(build, str) else build
        assert (REPO / build["context"]).resolve() == REPO, name  # Dockerfile's context
        assert set(as_dict(build.get("args"))) <= declared, name


def test_every_copied_path_exists_and_keeps_the_repository_layout_under_app():
    workdir = [a for k, a in RUNTIME if k == "WORKDIR"]
    assert workdir == [APP_DIR]  # RAG_CONFIG=/app/configs/... and REPO_ROOT rely on it
    for source, _ in copies(INSTRUCTIONS):
        assert (REPO / source).exists(), source
    for source, destination in copies(RUNTIME):
        destination = posixpath.join(APP_DIR, destination)
        into_folder = (REPO / source).is_file() and destination.endswith("/")
        target = posixpath.join(destination, source) if into_folder else destination
        assert posixpath.normpath(target) == posixpath.join(APP_DIR, source), source


def is_ignored(path: str, patterns: list[str]) -> bool:
    """Docker's rules: * and ? stay within a path segment, ** spans any number, and the last
    pattern that matches the path or one of its parent folders decides (! re-includes)."""
    wildcard = {"**/": "(.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}
    parents = [path.rsplit("/", n)[0] for n in range(path.count("/") + 1)]
    ignored = False
    for pattern in patterns:
        glob = posixpath.normpath(pattern.removeprefix("!").lstrip("/"))
        parts = re.split(r"(\*\*/|\*\*|\*|\?|\[[^]]*\])", glob)
        regex = "".join(p if p[:1] == "[" else wildcard.get(p, re.escape(p)) for p in parts)
        if any(re.fullmatch(regex, parent) for parent in parents):
            ignored = not pattern.startswith("!")
    return ignored


def test_dockerignore_keeps_every_file_the_dockerfile_copies():
    lines = (REPO / ".dockerignore").read_text().splitlines()
    patterns = [p.strip() for p in lines if p.strip() and not p.startswith("#")]
    assert is_ignored("rag/__pycache__/cli.cpython-311.pyc", patterns)  # the matcher works
    sources = [source for source, _ in copies(INSTRUCTIONS)]
    assert {"rag", "ingest", "migrations", "configs"} <= set(sources)  # the loop has work
    for source in sources:
        files = [REPO / source] if (REPO / source).is_file() else (REPO / source).rglob("*")
        for file in files:
            relative = file.relative_to(REPO).as_posix()
            if file.is_file() and "__pycache__" not in file.parts:
                assert not is_ignored(relative, patterns), relative


def _unknown_keys(model: type[BaseModel], values: dict, where: str = "") -> list[str]:
    """YAML keys no setting reads (nested sections would ignore them silently)."""
    unknown = []
    for key, value in values.items():
        field = model.model_fields.get(key)
        if field is None:
            unknown.append(where + key)
        elif isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            unknown += _unknown_keys(field.annotation, value or {}, f"{where}{key}.")
    return unknown


ENVIRONMENTS = [as_dict(service.get("environment")) for service in SERVICES.values()]
RAG_CONFIGS = {env["RAG_CONFIG"]: env for env in ENVIRONMENTS if "RAG_CONFIG" in env}


@pytest.mark.parametrize("config", sorted(RAG_CONFIGS))
def test_rag_config_of_a_service_exists_and_loads(config, monkeypatch):
    assert config.startswith(APP_DIR + "/")
    path = REPO / config.removeprefix(APP_DIR + "/")
    assert path.is_file(), config
    for name in [n for n in os.environ if n.startswith("RAG_")]:
        monkeypatch.delenv(name)
    for name, value in RAG_CONFIGS[config].items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("RAG_CONFIG", str(path))
    settings = Settings()  # the service's environment supplies what the file leaves empty
    assert settings.resolved_database_url.startswith("postgresql")
    assert _unknown_keys(Settings, yaml.safe_load(path.read_text())) == []


COMMANDS = {
    name: as_list(service["command"])
    for name, service in SERVICES.items()
    if as_list(service.get("command"))[:1] == ["rag"]
}
COMMANDS["Dockerfile CMD"] = json.loads(next(a for k, a in RUNTIME if k == "CMD"))


def test_the_image_and_a_compose_service_run_the_server():
    # So that the port checks below run on both sides.
    assert COMMANDS["Dockerfile CMD"][:2] == ["rag", "serve"]
    assert [name for name in SERVICES if COMMANDS.get(name, [None, None])[1] == "serve"]


@pytest.mark.parametrize("service", sorted(COMMANDS))
def test_rag_command_names_a_real_subcommand_and_options(service):
    # --help is handled before the other options run, after unknown ones are refused.
    command = COMMANDS[service]
    result = CliRunner().invoke(app, [*command[1:], "--help"])
    assert result.exit_code == 0, result.output
    if command[1] == "serve":  # it listens on the port that is published, exposed, checked
        port = command[command.index("--port") + 1]
        if service in SERVICES:
            published = SERVICES[service].get("ports", [])
            assert all(str(p).rsplit(":", 1)[-1] == port for p in published), published
        else:
            assert [a for k, a in RUNTIME if k == "EXPOSE"] == [port]
            assert f"127.0.0.1:{port}/healthz" in dict(RUNTIME)["HEALTHCHECK"]
