"""The generated project's uv.lock: made by `python3 tasks.py lock` at the template's root, rendered for
every answer, in agreement with the project's pyproject.toml, and pinning each package with hashes."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from conftest import ROOT, bake, load_module

UV = Path(sys.executable).parent / "uv"
RUNTIME_PACKAGES = {
    "flask",
    "flask-cors",
    "werkzeug",
    "gunicorn",
    "python-dotenv",
    "click",
    "jinja2",
    "itsdangerous",
    "markupsafe",
    "blinker",
    "idna",
    "publicsuffixlist",
}
# What the template's tests and the pre-generation hook's tests judge origins with, as the app does.
ORIGIN_LIBRARIES = ("idna", "publicsuffixlist")
PYTHON_VERSIONS = json.loads((ROOT / "cookiecutter.json").read_text())["python_version"]
STALE = "uv.lock does not agree with pyproject.toml: run `python3 tasks.py lock` at the template's root"


def locked_packages(project: Path) -> dict[str, dict]:
    """uv.lock's packages from the index, by name."""
    packages = tomllib.loads((project / "uv.lock").read_text())["package"]
    return {package["name"]: package for package in packages if "registry" in package["source"]}


def uv_lock_check(project: Path, python: str) -> subprocess.CompletedProcess:
    """uv's own check that the lock satisfies pyproject.toml, offline: it answers from the lock alone."""
    command = [UV, "lock", "--check", "--offline", "--no-python-downloads", "--python", python]
    return subprocess.run(command, cwd=project, capture_output=True, text=True)


def test_default_bake_lock_agrees_with_pyproject(default_project):
    check = uv_lock_check(default_project, sys.executable)
    assert check.returncode == 0, f"{STALE}\n{check.stderr}"


def test_lock_pins_every_package_with_sha256_hashes(default_project):
    packages = locked_packages(default_project)
    assert set(packages) >= RUNTIME_PACKAGES | {"pytest", "ruff", "playwright"}
    for name, package in packages.items():
        files = [*filter(None, [package.get("sdist")]), *package.get("wheels", [])]
        assert files and all(re.fullmatch(r"sha256:[0-9a-f]{64}", file.get("hash", "")) for file in files), name


@pytest.mark.parametrize("python_version", PYTHON_VERSIONS)
def test_lock_renders_the_project_name_and_python_version_of_the_answers(cookies, default_project, python_version):
    """One lock serves every answer: only the project's name and requires-python differ, as in pyproject.toml.
    uv checks it where a Python of that version is at hand (it needs one to read requires-python)."""
    project = bake(cookies, project_slug="billing", python_version=python_version)
    expected = (
        (default_project / "uv.lock")
        .read_text()
        .replace('\nname = "my-api"\n', '\nname = "billing"\n')
        .replace('requires-python = ">=3.11"', f'requires-python = ">={python_version}"')
    )
    assert (project / "uv.lock").read_text() == expected
    found = subprocess.run(
        [UV, "python", "find", "--no-python-downloads", python_version], capture_output=True, text=True
    )
    if found.returncode != 0:
        pytest.skip(f"no Python {python_version} here for uv lock --check")
    check = uv_lock_check(project, found.stdout.strip())
    assert check.returncode == 0, f"{STALE}\n{check.stderr}"


def test_a_bake_without_a_database_has_a_lock_of_its_own_that_agrees_with_its_pyproject(cookies, default_project):
    """database=none: no SQLAlchemy, Alembic or psycopg in pyproject.toml, nor in the lock the hook kept."""
    project = bake(cookies, database="none")
    check = uv_lock_check(project, sys.executable)
    assert check.returncode == 0, f"{STALE}\n{check.stderr}"
    database_packages = {"sqlalchemy", "alembic", "psycopg"}
    assert database_packages <= set(locked_packages(default_project))
    assert not database_packages & set(locked_packages(project))
    assert not list(project.glob("uv-*.lock")) and not list(default_project.glob("uv-*.lock"))


def test_a_stale_lock_fails_the_check(cookies):
    """The check the tests above rely on can fail: a dependency changed in pyproject.toml, not in the lock."""
    project = bake(cookies)
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text()
    pyproject.write_text(text.replace('"python-dotenv>=1.0"', '"python-dotenv>=1.0.1"'))
    assert pyproject.read_text() != text
    assert uv_lock_check(project, sys.executable).returncode != 0


def test_root_pins_its_test_requirements_with_hashes_and_the_template_s_uv():
    """requirements-dev.txt, what the root's .venv installs with --require-hashes, pins every line of
    requirements-dev.in, and the uv that writes the lock is the one generated projects read it with."""
    pinned = (ROOT / "requirements-dev.txt").read_text()
    # Each requirement: name==version, a marker maybe, then a backslash and its --hash lines.
    requirements = [line for line in pinned.splitlines() if line and not line.startswith((" ", "#"))]
    pins = [re.fullmatch(r"([a-z0-9._-]+)==[^ ;]+(?: ;.*)? \\", line) for line in requirements]
    assert all(pins), [line for line, pin in zip(requirements, pins, strict=True) if not pin]
    ranges = re.findall(r"^([a-z0-9][a-z0-9._-]*)", (ROOT / "requirements-dev.in").read_text(), re.MULTILINE)
    assert set(ranges) <= {pin[1] for pin in pins}
    uv_version = json.loads((ROOT / "cookiecutter.json").read_text())["_uv_version"]
    assert f"\nuv=={uv_version} \\\n" in pinned


def test_the_root_judges_origins_with_the_versions_the_app_locks(default_project):
    """The hook's tests run origins.py in the root's .venv: with the lock's idna and Public Suffix List, they
    refuse exactly what the app refuses. `python3 tasks.py lock` moves both together."""
    pinned = (ROOT / "requirements-dev.txt").read_text()
    locked = locked_packages(default_project)
    for name in ORIGIN_LIBRARIES:
        assert f"\n{name}=={locked[name]['version']} \\\n" in pinned, name


# pyproject.toml's dependencies, changed as a team changes them: whether uv.lock must be made again.
DEPENDENCY_CHANGES = {
    "none": ("", "", False),
    "added": ('"gunicorn>=23",', '"gunicorn>=23",\n    "requests>=2",', True),
    "range-changed": ('"python-dotenv>=1.0"', '"python-dotenv>=1.0.1"', True),
    "removed": ('    "gunicorn>=23",\n', "", True),
    "extras-changed": ('"gunicorn>=23"', '"gunicorn[gevent]>=23"', True),
    "added-to-the-dev-extra": ('"ruff>=0.6",', '"ruff>=0.6", "coverage>=7",', True),
    "spaced": ('"flask>=3.1,<4"', '"flask >= 3.1, < 4"', False),
    "reordered": ('"flask>=3.1,<4"', '"flask<4,>=3.1"', False),
    "spelt-otherwise": ('"flask-cors>=6.0.5,<7"', '"Flask_CORS>=6.0.5,<7"', False),
}


@pytest.mark.parametrize("change", DEPENDENCY_CHANGES)
def test_tasks_finds_a_stale_lock_where_uv_does(default_project, tmp_path, change):
    """tasks.py's own check, which runs before anything is installed and without uv, agrees with `uv lock
    --check`. (A change of environment markers alone is left to uv, which CI runs.)"""
    old, new, stale = DEPENDENCY_CHANGES[change]
    project = tmp_path / "project"
    project.mkdir()
    for name in ("pyproject.toml", "uv.lock", "README.md"):
        (project / name).write_text((default_project / name).read_text())
    pyproject = project / "pyproject.toml"
    assert old in pyproject.read_text()
    pyproject.write_text(pyproject.read_text().replace(old, new, 1))
    tasks = load_module("project_tasks", default_project / "tasks.py")
    assert (tasks.stale_lock_problem(project) is not None) == stale
    assert (uv_lock_check(project, sys.executable).returncode != 0) == stale


def test_a_stale_lock_stops_the_commands_before_installing_with_one_line_naming_lock(cookies):
    project = bake(cookies)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"gunicorn>=23",', '"gunicorn>=23",\n    "requests>=2",'))
    for command in ("test", "serve", "lint"):
        result = subprocess.run([sys.executable, "tasks.py", command], cwd=project, capture_output=True, text=True)
        assert (result.returncode, result.stdout) == (1, "")
        assert result.stderr == (
            "uv.lock is older than pyproject.toml's dependencies (requests): run `python3 tasks.py lock`, "
            "then commit uv.lock\n"
        )
    assert not (project / ".venv").exists()
