"""Bakes of the template: the default one, one per non-default answer, and every refused answer."""

from __future__ import annotations

import json
import re
import sys

import pytest
from cookiecutter.exceptions import FailedHookException

from conftest import ROOT, bake, run, run_project_suite

DEFAULTS = json.loads((ROOT / "cookiecutter.json").read_text())
# GitHub Actions expressions, ${{ ... }}, are meant to stay: the template keeps them raw.
JINJA_LEFTOVER = re.compile(r"(?<!\$)\{\{|\{%")


def test_default_bake_has_the_promised_layout(default_project):
    package = default_project / "src" / "my_api"
    for module in ("__init__", "settings", "origins", "cors", "api", "errors", "wsgi"):
        assert (package / f"{module}.py").is_file(), module
    for name in ("pyproject.toml", "README.md", ".env.example", ".gitignore", "gunicorn.conf.py", "tasks.py"):
        assert (default_project / name).is_file(), name
    assert "APP_ENV=development" in (default_project / ".env").read_text().splitlines()


def test_default_bake_leaves_no_jinja_in_any_file(default_project):
    leftovers = [
        str(path.relative_to(default_project))
        for path in default_project.rglob("*")
        if path.is_file() and JINJA_LEFTOVER.search(path.read_text(errors="replace"))
    ]
    assert leftovers == []


def test_default_bake_passes_its_own_ruff_and_pytest(default_project):
    for command in (["check", "."], ["format", "--check", "."]):
        lint = run(default_project, sys.executable, "-m", "ruff", *command)
        assert lint.returncode == 0, lint.stdout + lint.stderr
    suite = run_project_suite(default_project)
    assert suite.returncode == 0, suite.stdout + suite.stderr
    assert " passed" in suite.stdout


NON_DEFAULT_ANSWERS = [
    {"project_name": "Orders Service", "description": "Takes orders.", "author_name": "Ada", "author_email": "a@b.org"},
    {"project_slug": "orders", "package_name": "orders_core"},
    {"production_origins": "https://shop.example.org, https://admin.example.org:8443 https://*.pr.example.org"},
    {"allow_credentials": True},
    *({"python_version": version} for version in DEFAULTS["python_version"][1:]),
]


@pytest.mark.parametrize("answers", NON_DEFAULT_ANSWERS, ids=lambda answers: ",".join(answers))
def test_non_default_answer_bakes_a_passing_project(cookies, answers):
    project = bake(cookies, **answers)
    text = "\n".join(path.read_text() for path in project.rglob("*") if path.is_file() and path.suffix != ".pyc")
    assert not JINJA_LEFTOVER.search(text)
    for value in answers.values():
        if isinstance(value, str):
            assert value.split(",")[0] in text
    lint = run(project, sys.executable, "-m", "ruff", "check", ".")
    assert lint.returncode == 0, lint.stdout
    suite = run_project_suite(project)
    assert suite.returncode == 0, suite.stdout + suite.stderr


def test_allow_credentials_answer_sets_the_default(cookies):
    for answer, default in ((True, "true"), (False, "false")):
        settings = (bake(cookies, allow_credentials=answer) / "src" / "my_api" / "settings.py").read_text()
        assert f'"CORS_ALLOW_CREDENTIALS": "{default}"' in settings


@pytest.mark.parametrize(
    "answers",
    [
        {"project_slug": "My API"},
        {"project_slug": "my_api"},
        {"package_name": "my-api"},
        {"package_name": "class"},
        {"package_name": "flask"},
        {"package_name": "json"},
        {"production_origins": ""},
        {"production_origins": "*"},
        {"production_origins": "null"},
        {"production_origins": "http://app.example.com"},
        {"production_origins": "https://*.com"},
        {"production_origins": "https://app.example.com/login"},
        {"production_origins": "https://app.example.com, https://user@admin.example.com"},
    ],
    ids=lambda answers: "=".join(map(str, next(iter(answers.items())))),
)
def test_refused_answer_fails_the_hook_and_leaves_nothing(cookies, tmp_path, answers):
    result = cookies.bake(extra_context=answers)
    assert isinstance(result.exception, FailedHookException)
    (output_dir,) = (tmp_path / "cookies").iterdir()
    assert list(output_dir.iterdir()) == []
