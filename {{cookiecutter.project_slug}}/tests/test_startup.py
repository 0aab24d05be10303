"""Start-up as it happens for real: create_app(), the WSGI module, `flask run` and gunicorn.conf.py.

A bad configuration stops each of them with one line that names the variable: never a traceback,
never an app serving a policy nobody meant. These tests read the process environment, emptied of
this API's variables, from a working directory without a .env file (the clean_environ fixture).
"""

from __future__ import annotations

import importlib
import os
import runpy
import sys
from types import SimpleNamespace

import flask.cli
import pytest
from click.testing import CliRunner
from flask import Flask

from {{ cookiecutter.package_name }} import create_app
from {{ cookiecutter.package_name }}.settings import SettingsError

import conftest

PACKAGE = "{{ cookiecutter.package_name }}"
PRODUCTION = {"APP_ENV": "production", "CORS_ORIGINS": "https://app.example.com", "SECRET_KEY": conftest.SECRET_KEY}
# What a deploy machine holds for `flask cors`: APP_ENV and the CORS_* variables, credentials on, no SECRET_KEY.
POLICY_ONLY = {"APP_ENV": "production", "CORS_ORIGINS": "https://app.example.com", "CORS_ALLOW_CREDENTIALS": "true"}

BAD_ENVIRONMENTS = [
    pytest.param({}, "CORS_ORIGINS", id="nothing-set"),
    pytest.param({"APP_ENV": "prod"}, "APP_ENV", id="unknown-environment"),
    pytest.param({**PRODUCTION, "CORS_ORIGINS": "*"}, "CORS_ORIGINS", id="star-in-production"),
    pytest.param({**PRODUCTION, "CORS_ORIGINS": "http://app.example.com"}, "CORS_ORIGINS", id="http-in-production"),
    pytest.param(
        {"APP_ENV": "development", "CORS_ORIGINS": "*", "CORS_ALLOW_CREDENTIALS": "true"},
        "CORS_ALLOW_CREDENTIALS",
        id="star-with-credentials",
    ),
    pytest.param({**PRODUCTION, "CORS_ORIGINS": "https://*.github.io"}, "CORS_ORIGINS", id="public-suffix-wildcard"),
    pytest.param({**PRODUCTION, "CORS_ALLOW_METHODS": ""}, "CORS_ALLOW_METHODS", id="no-methods"),
    pytest.param({**PRODUCTION, "CORS_ORIGIN": "https://app.example.com"}, "CORS_ORIGIN", id="misspelt-variable"),
    pytest.param({**PRODUCTION, "WEB_CONCURRENCY": "0"}, "WEB_CONCURRENCY", id="no-workers"),
    pytest.param(POLICY_ONLY, "SECRET_KEY", id="credentials-without-secret-key"),
]


@pytest.fixture
def set_environ(clean_environ):
    """Set variables of the process environment for one test: set_environ(APP_ENV="testing")."""

    def set_variables(**variables: str) -> None:
        for name, value in variables.items():
            clean_environ.setenv(name, value)

    return set_variables


@pytest.mark.parametrize(("variables", "named"), BAD_ENVIRONMENTS)
def test_create_app_refuses_a_bad_environment(set_environ, variables, named):
    set_environ(**variables)
    with pytest.raises(SettingsError) as refusal:
        create_app()
    assert named in refusal.value.message


def test_under_the_flask_command_create_app_reads_a_local_dotenv_and_the_environment_wins(set_environ, tmp_path):
    (tmp_path / ".env").write_text("APP_ENV=development\n")
    set_environ(FLASK_RUN_FROM_CLI="true")  # what `flask` sets for every command it runs
    assert create_app().extensions["settings"].environment == "development"
    set_environ(APP_ENV="production")
    with pytest.raises(SettingsError, match="APP_ENV=production"):
        create_app()


def test_a_server_calling_create_app_ignores_a_dotenv_file(clean_environ, tmp_path):
    """gunicorn '{{ cookiecutter.package_name }}:create_app()': a .env left on a server must not turn production into development."""
    (tmp_path / ".env").write_text("APP_ENV=development\n")
    with pytest.raises(SettingsError, match="APP_ENV=production"):
        create_app()


@pytest.fixture
def import_wsgi(monkeypatch):
    """Import the WSGI module afresh, as a gunicorn worker does, and forget it after the test."""
    module_name = f"{PACKAGE}.wsgi"
    monkeypatch.delitem(sys.modules, module_name, raising=False)
    yield lambda: importlib.import_module(module_name)
    sys.modules.pop(module_name, None)


@pytest.mark.parametrize(("variables", "named"), BAD_ENVIRONMENTS)
def test_the_wsgi_module_refuses_a_bad_environment(set_environ, import_wsgi, variables, named):
    set_environ(**variables)
    with pytest.raises(SettingsError) as refusal:
        import_wsgi()
    assert named in refusal.value.message


def test_the_wsgi_module_starts_beside_kubernetes_service_links(set_environ, import_wsgi):
    """Kubernetes sets these in every pod of a namespace with a Service named cors-proxy."""
    set_environ(**PRODUCTION, CORS_PROXY_SERVICE_HOST="10.0.0.11", CORS_PROXY_PORT_80_TCP="tcp://10.0.0.11:80")
    assert import_wsgi().app.extensions["settings"].environment == "production"


def test_the_wsgi_module_ignores_a_dotenv_file(clean_environ, import_wsgi, tmp_path):
    """A .env file left on a server must not turn production into development."""
    (tmp_path / ".env").write_text("APP_ENV=development\n")
    with pytest.raises(SettingsError, match="APP_ENV=production"):
        import_wsgi()


def test_the_wsgi_module_serves_the_configured_app(set_environ, import_wsgi):
    set_environ(**PRODUCTION)
    app = import_wsgi().app
    assert isinstance(app, Flask)
    assert app.extensions["settings"].environment == "production"


@pytest.fixture
def started_servers(clean_environ) -> list[Flask]:
    """Make `flask run` record the app it would serve instead of starting a server.

    FLASK_* variables of the shell are removed, and flask's own .env loading is turned off: it
    would write into os.environ for the rest of the session.
    """
    for name in list(os.environ):
        if name.startswith("FLASK_"):
            clean_environ.delenv(name)
    clean_environ.setenv("FLASK_SKIP_DOTENV", "1")
    started: list[Flask] = []
    clean_environ.setattr(flask.cli, "run_simple", lambda host, port, app, **options: started.append(app))
    return started


def flask_command(*args: str):
    return CliRunner().invoke(flask.cli.cli, ["--app", PACKAGE, *args])


def flask_run():
    return flask_command("run")


@pytest.mark.parametrize(("variables", "named"), BAD_ENVIRONMENTS)
def test_flask_run_reports_a_bad_environment_as_one_error_line(started_servers, set_environ, variables, named):
    set_environ(**variables)
    result = flask_run()
    assert result.exit_code == 2
    assert result.output.startswith("Error: ")
    assert named in result.output
    assert "Traceback" not in result.output
    assert started_servers == []


def test_flask_run_serves_the_configured_app(started_servers, set_environ):
    set_environ(APP_ENV="development")
    result = flask_run()
    assert result.exit_code == 0, result.output
    [app] = started_servers
    assert app.extensions["settings"].environment == "development"


@pytest.mark.parametrize(
    ("variables", "named"),
    [({}, "CORS_ORIGINS"), ({**PRODUCTION, "PORT": "http"}, "PORT"), (POLICY_ONLY, "SECRET_KEY")],
    ids=["nothing-set", "bad-port", "credentials-without-secret-key"],
)
def test_gunicorn_conf_stops_gunicorn_with_status_2_and_the_error(set_environ, capsys, variables, named):
    """gunicorn's master runs this file before it starts a worker: one error line and exit status 2."""
    set_environ(**variables)
    with pytest.raises(SystemExit) as stop:
        runpy.run_path(str(conftest.GUNICORN_CONF))
    assert stop.value.code == 2
    errors = capsys.readouterr().err
    assert errors.startswith(f"Error: {named}")
    assert errors.count("\n") == 1


def test_gunicorn_conf_ignores_a_dotenv_file(clean_environ, tmp_path, capsys):
    (tmp_path / ".env").write_text("APP_ENV=development\n")
    with pytest.raises(SystemExit) as stop:
        runpy.run_path(str(conftest.GUNICORN_CONF))
    assert stop.value.code == 2
    assert "APP_ENV=production" in capsys.readouterr().err


def test_gunicorn_says_at_start_up_which_policy_is_public(set_environ):
    set_environ(**PRODUCTION)
    conf = runpy.run_path(str(conftest.GUNICORN_CONF))
    logged = []
    server = SimpleNamespace(log=SimpleNamespace(info=logged.append))
    conf["when_ready"](server)
    assert (
        "CORS policy 'public' on /api/public/ is public: every origin may read it (Access-Control-Allow-Origin: *), "
        "never with credentials"
    ) in logged


def test_gunicorn_conf_takes_its_settings_from_the_environment(set_environ):
    set_environ(**PRODUCTION, PORT="9000", WEB_CONCURRENCY="4", GUNICORN_TIMEOUT="60")
    conf = runpy.run_path(str(conftest.GUNICORN_CONF))
    assert conf["bind"] == "0.0.0.0:9000"
    assert (conf["workers"], conf["timeout"], conf["graceful_timeout"]) == (4, 60, 60)
    assert (conf["accesslog"], conf["errorlog"]) == ("-", "-")


@pytest.mark.parametrize("command", [["cors", "show"], ["cors", "check", "https://app.example.com"]])
def test_the_cors_commands_need_only_app_env_and_the_policies_settings(started_servers, set_environ, command):
    """Run where the deployment's APP_ENV and CORS_* are, with no SECRET_KEY: no request is served, no session
    signed. (`flask cors probe` the same: test_probe.py.) gunicorn, the WSGI module and `flask run` still
    refuse to start without it (BAD_ENVIRONMENTS)."""
    set_environ(**POLICY_ONLY)
    result = flask_command(*command)
    assert result.exit_code == 0, result.output
    assert "https://app.example.com" in result.output
