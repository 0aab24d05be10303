"""Baking helpers shared by the template's tests."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_DIR = ROOT / "{{cookiecutter.project_slug}}"
# What a deployed default bake needs besides its allowlist: a PostgreSQL URL. Nothing listens on port 9 (discard): the
# routes these tests ask never open a connection.
DEPLOYED_DATABASE = {"DATABASE_URL": "postgresql+psycopg://api@127.0.0.1:9/api"}
JINJA_LEFTOVER = re.compile(r"(?<!\$)\{\{|\{%")  # ${{ ... }}, a GitHub Actions expression, is meant to stay


def load_module(name: str, path: Path) -> ModuleType:
    """The Python file at `path` as module `name`: hooks and helpers that are files, not packages."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while it executes
    spec.loader.exec_module(module)
    return module


# The generated tests' servers.py (plain Python, no Jinja): one way to run gunicorn for both suites.
servers = load_module("servers", TEMPLATE_DIR / "tests" / "servers.py")
free_port, start_gunicorn, serve_with_gunicorn = servers.free_port, servers.start_gunicorn, servers.serve_with_gunicorn


def bake(cookies, **answers) -> Path:
    """Bake the template with `answers` on top of the defaults; fail the test if baking fails."""
    result = cookies.bake(extra_context=answers)
    assert result.exception is None, result.exception
    assert result.exit_code == 0
    return Path(result.project_path)


def run(project: Path, *command: str, env: dict[str, str] | None = None, **kwargs) -> subprocess.CompletedProcess:
    """Run `command` in a baked project, its src/ importable without installing it."""
    environment = {**os.environ, "PYTHONPATH": str(project / "src"), **(env or {})}
    return subprocess.run(command, cwd=project, env=environment, capture_output=True, text=True, **kwargs)


def jinja_leftovers(project: Path) -> list[str]:
    """The baked text files that still hold a Jinja tag: a variable or block the template failed to render.

    A binary file, such as the README's picture, is copied as it is, and its bytes may spell anything.
    """
    leftovers = []
    for path in project.rglob("*"):
        try:
            text = path.read_text() if path.is_file() else ""
        except UnicodeDecodeError:
            continue
        if JINJA_LEFTOVER.search(text):
            leftovers.append(path.relative_to(project).as_posix())
    return leftovers


def assert_opt_in_tests_pass(project: Path, marker: str) -> None:
    """The baked project's `pytest -m marker` passes; where it skipped them all (a tool missing, outside
    CI), this test is skipped with its reason. Some skipped beside others passing is an answer's doing: a
    rule that the answer rules out, proved by other bakes."""
    result = run_project_suite(project, "-m", marker)
    assert result.returncode == 0, result.stdout + result.stderr
    if not re.search(r"\b\d+ passed", result.stdout):
        skipped = re.search(r"^SKIPPED \[\d+\] \S+: (.*)$", result.stdout, re.MULTILINE)
        pytest.skip(f"the baked project skipped its {marker} tests: {skipped[1] if skipped else result.stdout}")


def run_project_suite(project: Path, *arguments: str) -> subprocess.CompletedProcess:
    """The baked project's pytest, as in its own environment: without the template's pytest plugins."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *arguments]
    return run(project, *command, env={"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"})


@pytest.fixture(scope="session")
def default_project(cookies_session) -> Path:
    """The default bake, shared by the tests that only read it or run it."""
    return bake(cookies_session)
