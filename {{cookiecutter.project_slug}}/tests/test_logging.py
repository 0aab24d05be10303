"""Logs: one escaped, throttled WARNING per refused cross-origin request, and LOG_FORMAT (JSON lines or text)."""

from __future__ import annotations

import json
import logging
import runpy
import sys

import flask.cli
import pytest
from gunicorn.config import Config
from gunicorn.glogging import Logger

from {{ cookiecutter.package_name }} import create_app, logs
from {{ cookiecutter.package_name }}.cors import layer
from {{ cookiecutter.package_name }}.logs import TEXT_FORMAT, JsonFormatter, Throttle, printable
from {{ cookiecutter.package_name }}.settings import SettingsError

import conftest

ALLOWED = "https://app.example.com"
REFUSED = "https://evil.example.net"
PRODUCTION = {"APP_ENV": "production", "CORS_ORIGINS": ALLOWED, "SECRET_KEY": conftest.SECRET_KEY}


class Clock:
    """A clock the test moves by hand: `clock.now += 60`."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def restore_logging():
    """Put back the root logger's level and the handler logs.configure() installed: these tests replace them."""
    root = logging.getLogger()
    ours, level = [handler for handler in root.handlers if handler.name == logs.HANDLER_NAME], root.level
    yield
    for handler in [handler for handler in root.handlers if handler.name == logs.HANDLER_NAME]:
        root.removeHandler(handler)
    for handler in ours:
        root.addHandler(handler)
    root.setLevel(level)


@pytest.fixture
def app(restore_logging):
    return conftest.add_test_routes(create_app(conftest.settings_from(PRODUCTION)))


@pytest.fixture
def clock(app) -> Clock:
    """The clock of `app`'s refusal log."""
    clock = Clock()
    app.extensions[layer.STATE_KEY].refusals.throttle = Throttle(clock=clock)
    return clock


def refusals(caplog) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == layer.LOG.name]


# What is logged, and what is not


def test_a_refused_request_logs_one_warning_with_method_path_environment_and_origin(app, caplog):
    app.test_client().get("/api/health", headers={"Origin": REFUSED})
    (record,) = refusals(caplog)
    assert record.levelno == logging.WARNING
    assert record.getMessage() == f'CORS refused origin "{REFUSED}": GET /api/health, APP_ENV=production'
    fields = (record.method, record.path, record.environment, record.origin, record.suppressed)
    assert fields == ("GET", "/api/health", "production", REFUSED, 0)


def test_a_refused_preflight_logs_one_warning(app, caplog):
    preflight = {"Origin": REFUSED, "Access-Control-Request-Method": "PUT"}
    assert app.test_client().options(conftest.JSON_ROUTE, headers=preflight).status_code == 204
    (record,) = refusals(caplog)
    assert (record.method, record.path) == ("OPTIONS", conftest.JSON_ROUTE)


@pytest.mark.parametrize(
    ("method", "path", "headers"),
    [
        ("GET", "/api/health", {"Origin": ALLOWED}),
        ("OPTIONS", conftest.JSON_ROUTE, {"Origin": ALLOWED, "Access-Control-Request-Method": "POST"}),
        ("GET", "/api/health", {}),  # curl, a server, a crawler
        ("POST", conftest.JSON_ROUTE, {"Origin": "http://localhost"}),  # the API's own origin in the test client
        ("GET", "/elsewhere", {"Origin": REFUSED}),  # outside /api/: no CORS decision at all
    ],
    ids=["allowed", "allowed-preflight", "no-origin", "same-origin", "not-covered"],
)
def test_nothing_else_is_logged(app, caplog, method, path, headers):
    app.test_client().open(path, method=method, headers=headers)
    assert refusals(caplog) == []


def test_an_allowed_request_never_reaches_the_refusal_log(app):
    class Untouchable:
        def admit(self, key):
            raise AssertionError("an allowed request paid for the refusal log")

    app.extensions[layer.STATE_KEY].refusals.throttle = Untouchable()
    client = app.test_client()
    assert client.get("/api/health", headers={"Origin": ALLOWED}).status_code == 200
    preflight = client.options("/api/health", headers={"Origin": ALLOWED, "Access-Control-Request-Method": "GET"})
    assert preflight.status_code == 204


# A client's values cannot forge, split or bloat a line


@pytest.mark.parametrize(
    ("value", "logged"),
    [
        ("https://a.example.com\r\nCRITICAL forged line", "https://a.example.com\\r\\nCRITICAL forged line"),
        ("https://\x1b[2J\x1b[31ma.example.com", "https://\\x1b[2J\\x1b[31ma.example.com"),
        ('https://a.example.com" admin="yes', 'https://a.example.com\\" admin=\\"yes'),
        ("https://a\\nb", "https://a\\\\nb"),
        ("https://a\x00\x7f\x85\u2028b", "https://a\\x00\\x7f\\x85\\u2028b"),
        ("https://café.example", "https://café.example"),
    ],
)
def test_printable_escapes_what_could_forge_or_hide_a_line(value, logged):
    assert printable(value) == logged


def test_printable_cuts_a_long_value_and_says_so():
    assert printable("a" * 10_000) == "a" * 200 + "...(+9800 characters)"
    assert printable("\n" * 10_000, limit=3) == "\\n\\n\\n...(+9997 characters)"


def test_a_forged_origin_and_path_stay_on_one_line_in_both_formats(app, caplog):
    origin = "https://evil.example.net\r\n2025-01-01 WARNING forged\x1b[2K"
    app.test_client().get("/api/x%0D%0Ay", environ_overrides={"HTTP_ORIGIN": origin + "x" * 5000})
    (record,) = refusals(caplog)
    assert record.path == "/api/x\\r\\ny"
    assert record.origin.startswith("https://evil.example.net\\r\\n2025-01-01 WARNING forged\\x1b[2K")
    assert record.origin.endswith("characters)")
    for formatter in (logging.Formatter(TEXT_FORMAT), JsonFormatter()):
        line = formatter.format(record)
        assert "\n" not in line and "\r" not in line and "\x1b" not in line
        assert len(line) < 1000


# The flood bound


def test_one_origin_logs_once_per_interval_and_the_next_line_counts_the_rest(app, clock, caplog):
    client = app.test_client()
    for _ in range(50):
        client.get("/api/health", headers={"Origin": REFUSED})
    assert len(refusals(caplog)) == 1
    clock.now += 59
    client.get("/api/health", headers={"Origin": REFUSED})
    assert len(refusals(caplog)) == 1
    clock.now += 1
    client.get("/api/health", headers={"Origin": REFUSED})
    second = refusals(caplog)[1]
    assert second.suppressed == 50
    assert second.getMessage().endswith("(50 more refusals since the last line were not logged)")


def test_varying_the_origin_is_bounded_too(app, clock, caplog):
    client = app.test_client()
    for number in range(300):
        client.get("/api/health", headers={"Origin": f"https://{number}.evil.example.net"})
    assert len(refusals(caplog)) == 100
    clock.now += 60
    client.get("/api/health", headers={"Origin": "https://0.evil.example.net"})
    assert refusals(caplog)[-1].suppressed == 200


def test_throttle_admits_each_key_once_and_max_keys_in_all_per_interval():
    """admit() returns None for an event left out, or how many were left out since the last one admitted."""
    clock = Clock()
    throttle = Throttle(interval=10, max_keys=2, clock=clock)
    assert [throttle.admit(key) for key in "aabcab"] == [0, None, 1, None, None, None]
    clock.now += 9.9
    assert throttle.admit("c") is None
    clock.now += 0.1  # a new interval: the keys of the last one are forgotten
    assert [throttle.admit(key) for key in "cab"] == [4, 0, None]


def test_a_disabled_logger_leaves_the_throttle_untouched(app, clock, caplog):
    layer.LOG.disabled = True
    try:
        app.test_client().get("/api/health", headers={"Origin": REFUSED})
    finally:
        layer.LOG.disabled = False
    app.test_client().get("/api/health", headers={"Origin": REFUSED})
    (record,) = refusals(caplog)
    assert record.suppressed == 0


@pytest.mark.parametrize(
    "arguments", [[], ["--method", "POST", "--path", conftest.JSON_ROUTE, "--header", "Content-Type:text/plain"]]
)
def test_flask_cors_check_does_not_log_its_own_requests(app, caplog, arguments):
    """Neither as CORS refusals nor as refused cross-origin writes; a real request right after is logged."""
    result = app.test_cli_runner().invoke(args=["cors", "check", REFUSED, *arguments])
    assert result.exit_code == 1
    assert [record for record in caplog.records if record.levelno >= logging.WARNING] == []
    app.test_client().get("/api/health", headers={"Origin": REFUSED})
    assert len(refusals(caplog)) == 1


# LOG_FORMAT


@pytest.mark.parametrize(
    ("environment", "log_format"),
    [("development", "text"), ("testing", "text"), ("staging", "json"), ("production", "json")],
)
def test_log_format_defaults_to_json_where_the_api_is_deployed(environment, log_format):
    settings = conftest.settings_from({**PRODUCTION, "APP_ENV": environment})
    assert settings.log_format == log_format
    assert settings.sources["LOG_FORMAT"] == f"default for APP_ENV={environment}"


def test_log_format_can_be_chosen_and_is_checked():
    settings = conftest.settings_from({**PRODUCTION, "LOG_FORMAT": "text"})
    assert (settings.log_format, settings.sources["LOG_FORMAT"]) == ("text", "environment variable")
    with pytest.raises(SettingsError, match="LOG_FORMAT='xml' is not one of json, text"):
        conftest.settings_from({**PRODUCTION, "LOG_FORMAT": "xml"})


def test_json_lines_carry_time_level_logger_message_fields_and_traceback():
    logger = logging.getLogger("test")
    record = logger.makeRecord("test", logging.WARNING, __file__, 1, "two\nlines %s", ("x",), None, extra={"n": 1})
    entry = json.loads(JsonFormatter().format(record))
    assert entry.pop("time").endswith("+00:00")
    assert entry == {"level": "WARNING", "logger": "test", "message": "two\nlines x", "n": 1}
    try:
        raise ValueError("boom")
    except ValueError:
        failure = logger.makeRecord("test", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    line = JsonFormatter().format(failure)
    assert "\n" not in line
    assert "ValueError: boom" in json.loads(line)["exception"]


def test_create_app_logs_refusals_as_json_lines_on_stdout_in_production(restore_logging, capsys):
    app = create_app(conftest.settings_from(PRODUCTION))
    app.test_client().get("/api/health", headers={"Origin": REFUSED})
    (line,) = [line for line in capsys.readouterr().out.splitlines() if "CORS refused" in line]
    entry = json.loads(line)
    assert {name: entry[name] for name in ("level", "origin", "environment")} == {
        "level": "WARNING",
        "origin": REFUSED,
        "environment": "production",
    }


def test_under_the_flask_command_log_lines_go_to_stderr_and_stdout_is_the_output(
    clean_environ, restore_logging, capsys
):
    """A script reads `flask cors show --json` from stdout: no log line may land in it."""
    for name, value in PRODUCTION.items():
        clean_environ.setenv(name, value)
    clean_environ.setattr(sys, "argv", ["flask", "--app", "{{ cookiecutter.package_name }}", "cors", "show", "--json"])
    with pytest.raises(SystemExit) as stop:
        flask.cli.main()
    assert stop.value.code == 0
    logging.getLogger("{{ cookiecutter.package_name }}").warning("a line logged while the command ran")
    printed = capsys.readouterr()
    assert json.loads(printed.out)["APP_ENV"]["value"] == "production"
    assert "a line logged while the command ran" in printed.err


def test_create_app_configures_logging_once_however_often_it_is_called(restore_logging, caplog):
    for log_format in ("json", "text", "text"):
        create_app(conftest.settings_from({**PRODUCTION, "LOG_FORMAT": log_format}))
    root = logging.getLogger()
    (ours,) = [handler for handler in root.handlers if handler.name == logs.HANDLER_NAME]
    assert not isinstance(ours.formatter, JsonFormatter)
    assert caplog.handler in root.handlers  # other handlers are left in place


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_gunicorn_error_and_access_lines_follow_log_format(monkeypatch, restore_logging, capsys, log_format):
    """gunicorn's master reads gunicorn.conf.py, then sets its loggers up from the file's settings."""
    for name, value in conftest.deployment({**PRODUCTION, "LOG_FORMAT": log_format}).items():
        monkeypatch.setenv(name, value)
    conf = runpy.run_path(str(conftest.GUNICORN_CONF))
    config = Config()
    for name in ("accesslog", "errorlog", "logconfig_dict"):
        config.set(name, conf[name])
    Logger(config).info("Booting worker with pid: 42")
    access = {"h": "203.0.113.7", "r": "GET /api/health", "s": "200"}
    logging.getLogger("gunicorn.access").info('%(h)s "%(r)s" %(s)s', access)
    output = capsys.readouterr()
    assert output.err == ""
    error_line, access_line = output.out.splitlines()
    if log_format == "json":
        assert json.loads(error_line)["logger"] == "gunicorn.error"
        assert json.loads(access_line)["message"] == '203.0.113.7 "GET /api/health" 200'
    else:
        assert error_line.endswith("INFO gunicorn.error: Booting worker with pid: 42")
        assert access_line.endswith('INFO gunicorn.access: 203.0.113.7 "GET /api/health" 200')
