"""The default bake's layout, and every refused answer (the matrix of accepted answers is in test_options.py)."""

from __future__ import annotations

import click
import pytest

from conftest import bake


def test_default_bake_has_the_promised_layout(default_project):
    package = default_project / "src" / "my_api"
    for module in ("__init__", "api/__init__", "policies", "settings", "errors", "logs", "wsgi"):
        assert (package / f"{module}.py").is_file(), module
    for module in ("__init__", "origins", "policy", "layer", "cli"):
        assert (package / "cors" / f"{module}.py").is_file(), module
    for name in ("pyproject.toml", "README.md", ".env.example", ".gitignore", "gunicorn.conf.py", "tasks.py"):
        assert (default_project / name).is_file(), name
    assert "APP_ENV=development" in (default_project / ".env").read_text().splitlines()


def test_the_local_dotenv_has_a_secret_key_of_its_own(default_project):
    keys = [line for line in (default_project / ".env").read_text().splitlines() if line.startswith("SECRET_KEY=")]
    assert len(keys) == 1
    assert len(keys[0].removeprefix("SECRET_KEY=")) >= 32
    assert keys[0] not in (default_project / ".env.example").read_text()


def test_allow_credentials_answer_sets_the_default(cookies):
    for answer, default in ((True, "true"), (False, "false")):
        settings = (bake(cookies, allow_credentials=answer) / "src" / "my_api" / "settings.py").read_text()
        assert f'CREDENTIALS_DEFAULT = "{default}"' in settings


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
        {"auth": "session", "database": "none"},
        {"auth": "token", "database": "none"},
    ],
    ids=lambda answers: ",".join("=".join(map(str, item)) for item in answers.items()),
)
def test_refused_answer_stops_the_bake_and_leaves_nothing(cookies, tmp_path, answers):
    result = cookies.bake(extra_context=answers)
    assert isinstance(result.exception, click.ClickException)
    assert [path for path in (tmp_path / "cookies").rglob("*") if path.is_file()] == []


def test_quotes_and_backslashes_in_answers_are_named_as_they_are(cookies):
    result = cookies.bake(
        extra_context={"project_name": 'My "API"', "production_origins": "https://app.example.com\\'\""}
    )
    assert isinstance(result.exception, click.ClickException)
    message = result.exception.message
    assert "project_slug 'my-\"api\"'" in message
    assert "production_origins: " in message
