"""Baking helpers shared by the template's tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


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


def run_project_suite(project: Path) -> subprocess.CompletedProcess:
    return run(project, sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider")


@pytest.fixture(scope="session")
def default_project(cookies_session) -> Path:
    """The default bake, shared by the tests that only read it or run it."""
    return bake(cookies_session)
