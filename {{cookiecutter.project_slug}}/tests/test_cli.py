"""`flask cors show` and `flask cors check`, through Flask's CLI runner, and the browser rules `check` applies.

Every app is built from explicit variables: a variable in the shell running pytest changes nothing here.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from unittest.mock import patch

import flask.cli
import pytest
from click.testing import CliRunner, Result
from flask.cli import FlaskGroup
from werkzeug.datastructures import Headers

from {{ cookiecutter.package_name }} import create_app
from {{ cookiecutter.package_name }}.cors import Policy
from {{ cookiecutter.package_name }}.cors.advice import suggest_fix
from {{ cookiecutter.package_name }}.cors.browser import Blocked, BrowserRequest, is_safelisted_header, preflight_check
from {{ cookiecutter.package_name }}.policies import POLICIES
from {{ cookiecutter.package_name }}.settings import CREDENTIALS_DEFAULT

import conftest

ALLOWED = "https://app.example.com"
WILDCARD = "https://*.preview.example.com"
PRODUCTION = {
    "APP_ENV": "production",
    "CORS_ORIGINS": f"{ALLOWED}, {WILDCARD}",
    "CORS_ALLOW_CREDENTIALS": CREDENTIALS_DEFAULT,
    "SECRET_KEY": conftest.SECRET_KEY,
}


def cors_command(*args: str, dotenv: dict[str, str] | None = None, **variables: str) -> Result:
    """Run `flask cors ARGS` on an app configured with PRODUCTION updated by `variables`, with the tests' own
    routes (conftest.add_test_routes)."""
    app = conftest.add_test_routes(create_app(conftest.settings_from({**PRODUCTION, **variables}, dotenv)))
    return app.test_cli_runner().invoke(args=["cors", *args])


def row(output: str, name: str) -> str:
    """The line of `flask cors show` for the setting `name`, without its indentation."""
    return next(line.strip() for line in output.splitlines() if line.strip().startswith(f"{name} "))


def routes_of(output: str, policy: str) -> str:
    """The routes `flask cors show` lists under `policy`."""
    section = output.split(f"Policy {policy!r} on ")[1].split("\nPolicy ")[0]
    return section.split("Routes:")[1]


# flask cors show


def test_show_prints_each_setting_with_its_value_and_source():
    result = cors_command("show", dotenv={"CORS_MAX_AGE": "60"})
    assert result.exit_code == 0
    assert row(result.output, "APP_ENV").split() == ["APP_ENV", "production", "environment", "variable"]
    assert ALLOWED in row(result.output, "CORS_ORIGINS")
    assert row(result.output, "CORS_MAX_AGE").split() == ["CORS_MAX_AGE", "60", ".env", "file"]
    assert row(result.output, "CORS_ALLOW_HEADERS").split()[1:] == ["Content-Type,", "Authorization", "default"]
    assert row(result.output, "CORS_EXPOSE_HEADERS").split()[1:] == ["none", "default"]
    # One allowed origin per line: the wildcard continues the CORS_ORIGINS row.
    assert any(line.split() == [WILDCARD] for line in result.output.splitlines())


def test_show_lists_each_policys_routes_and_no_other():
    app = conftest.add_test_routes(create_app(conftest.settings_from(PRODUCTION)))
    app.add_url_rule(f"{conftest.TEST_SITE}/metrics", "metrics", lambda: "")
    output = app.test_cli_runner().invoke(args=["cors", "show"]).output
    default, public = routes_of(output, "default"), routes_of(output, "public")
    assert "GET     /api/health" in default
    assert f"POST    {conftest.JSON_ROUTE}" in default
    assert "/api/public/status" not in default
    assert "GET     /api/public/status" in public
    assert "/internal" not in output


def test_show_says_plainly_that_a_public_policy_allows_every_origin():
    output = cors_command("show").output
    public = output.split("Policy 'public' on /api/public/")[1]
    assert (
        public.splitlines()[1].strip().startswith("public: every origin may read it (Access-Control-Allow-Origin: *)")
    )
    assert row(public, "CORS_PUBLIC_ALLOW_METHODS").split()[1:] == ["GET,", "HEAD", "default"]


def test_show_json_gives_each_policy_with_values_sources_and_routes():
    result = cors_command("show", "--json", CORS_EXPOSE_HEADERS="X-Total-Count")
    assert result.exit_code == 0
    report = json.loads(result.output)
    assert report["APP_ENV"] == {"value": "production", "source": "environment variable"}
    policies = {policy["name"]: policy for policy in report["policies"]}
    default, public = policies["default"], policies["public"]
    settings = default["settings"]
    assert (default["name"], default["prefix"], default["public"]) == ("default", "/api/", False)
    assert settings["CORS_ORIGINS"] == {"value": [ALLOWED, WILDCARD], "source": "environment variable"}
    assert settings["CORS_ALLOW_CREDENTIALS"] == {
        "value": CREDENTIALS_DEFAULT == "true",
        "source": "environment variable",
    }
    assert settings["CORS_MAX_AGE"] == {"value": 600, "source": "default"}
    assert settings["CORS_EXPOSE_HEADERS"]["value"] == ["X-Total-Count"]
    assert {"path": "/api/health", "methods": ["GET"]} in default["routes"]
    assert {"path": conftest.JSON_ROUTE, "methods": ["POST"]} in default["routes"]
    assert (public["name"], public["prefix"], public["public"]) == ("public", "/api/public/", True)
    assert public["settings"]["CORS_PUBLIC_ORIGINS"]["value"] == ["*"]
    assert public["settings"]["CORS_PUBLIC_ALLOW_CREDENTIALS"]["value"] is False
    assert {"path": "/api/public/status", "methods": ["GET"]} in public["routes"]


def test_show_in_development_reports_the_default_of_any_local_port():
    report = json.loads(cors_command("show", "--json", APP_ENV="development", CORS_ORIGINS="").output)
    (default,) = [policy for policy in report["policies"] if policy["name"] == "default"]
    assert "http://localhost:<any port>" in default["settings"]["CORS_ORIGINS"]["value"]


def test_a_value_the_flask_command_copied_from_dotenv_is_reported_as_from_dotenv():
    """`flask` loads .env into os.environ before the app reads it: equal values came from .env."""
    settings = conftest.settings_from({"APP_ENV": "testing", "CORS_ORIGINS": ALLOWED}, {"APP_ENV": "testing"})
    assert settings.sources["APP_ENV"] == ".env file"
    assert settings.sources["CORS_ORIGINS"] == "environment variable"


# flask cors check: allowed


def test_check_allowed_origin_exits_0_and_shows_the_deciding_header():
    result = cors_command("check", ALLOWED)
    assert result.exit_code == 0, result.output
    assert "> GET /api/health" in result.output
    assert f"< Access-Control-Allow-Origin: {ALLOWED}" in result.output
    assert f"Allowed by CORS: a page at {ALLOWED} can read the 200 OK answer to GET /api/health." in result.output
    assert "OPTIONS" not in result.output  # a simple request: no preflight


def test_check_allowed_names_the_status_of_an_error_the_route_answers():
    """CORS lets the page read a 405 as well as a 200: the verdict must not read as "the call works"."""
    result = cors_command("check", ALLOWED, "--method", "DELETE", "--path", conftest.JSON_ROUTE)
    assert result.exit_code == 0, result.output
    assert "< 405 METHOD NOT ALLOWED" in result.output
    verdict = f"can read the 405 METHOD NOT ALLOWED answer to DELETE {conftest.JSON_ROUTE}."
    assert f"Allowed by CORS: a page at {ALLOWED} {verdict}" in result.output


def test_check_sends_the_preflight_a_browser_sends_then_the_request():
    preview = "https://pr-7.preview.example.com"
    result = cors_command(
        "check", preview, "--method", "POST", "--path", conftest.JSON_ROUTE, "--header", "Content-Type"
    )
    assert result.exit_code == 0, result.output
    policy, preflight, request = result.output.split("\n\n")[:3]
    assert policy == "Policy: 'default' (/api/)"
    assert preflight.splitlines()[:4] == [
        f"> OPTIONS {conftest.JSON_ROUTE}",
        f"> Origin: {preview}",
        "> Access-Control-Request-Method: POST",
        "> Access-Control-Request-Headers: content-type",
    ]
    assert "< 204 No Content" in preflight
    assert request.splitlines()[0] == f"> POST {conftest.JSON_ROUTE}"
    assert "> Content-Type: application/json" in request
    assert "< 200 OK" in request


def test_check_with_credentials_allowed_shows_allow_credentials():
    result = cors_command("check", ALLOWED, "--credentials", CORS_ALLOW_CREDENTIALS="true")
    assert result.exit_code == 0, result.output
    assert "< Access-Control-Allow-Credentials: true" in result.output


@conftest.credentials_off
def test_check_a_script_sending_its_own_authorization_needs_no_credentials():
    """Authorization set by the script is a header like any other: CORS_ALLOW_HEADERS lets it through."""
    result = cors_command("check", ALLOWED, "--header", "Authorization: Bearer t", CORS_ALLOW_CREDENTIALS="false")
    assert result.exit_code == 0, result.output
    assert "< Access-Control-Allow-Credentials" not in result.output


def test_check_normalises_the_origin_as_a_browser_sends_it():
    result = cors_command("check", "HTTPS://App.Example.com:443/")
    assert result.exit_code == 0
    assert f"> Origin: {ALLOWED}\n" in result.output


# flask cors check: blocked, with the reason and the fix


def test_check_refused_origin_exits_1_with_the_whole_new_allowlist():
    result = cors_command("check", "https://new.example.com")
    assert result.exit_code == 1
    assert "< (no Access-Control-* header)" in result.output
    assert "Blocked: no Access-Control-Allow-Origin in the answer." in result.output
    assert f'CORS_ORIGINS="{ALLOWED}, {WILDCARD}, https://new.example.com"' in result.output


def test_check_refused_origin_in_development_warns_that_the_list_replaces_the_local_default():
    result = cors_command("check", "https://staging.example.com", APP_ENV="development", CORS_ORIGINS="")
    assert result.exit_code == 1
    assert 'CORS_ORIGINS="https://staging.example.com"' in result.output
    assert "replaces the default of any local port" in result.output


def test_check_method_not_allowed_stops_at_the_preflight():
    result = cors_command("check", ALLOWED, "--method", "PUT", CORS_ALLOW_METHODS="GET, POST")
    assert result.exit_code == 1
    assert "> Access-Control-Request-Method: PUT" in result.output
    assert "Blocked: PUT is not in Access-Control-Allow-Methods." in result.output
    assert "it never sends the PUT" in result.output
    assert "> PUT" not in result.output
    assert 'Fix: CORS_ALLOW_METHODS="GET, POST, PUT"' in result.output


def test_check_post_outside_allow_methods_blames_the_method_not_the_headers():
    """Flask-CORS leaves Access-Control-Allow-Headers off a preflight for a method it does not allow."""
    args = ("--method", "POST", "--path", conftest.JSON_ROUTE, "--header", "Content-Type")
    result = cors_command("check", ALLOWED, *args, CORS_ALLOW_METHODS="GET")
    assert result.exit_code == 1
    assert "< Access-Control-Allow-Headers" not in result.output
    assert (
        "Blocked: POST is not in CORS_ALLOW_METHODS, so the preflight answer leaves out "
        "Access-Control-Allow-Headers and the browser refuses Content-Type." in result.output
    )
    assert 'Fix: CORS_ALLOW_METHODS="GET, POST"' in result.output
    assert "CORS_ALLOW_HEADERS" not in result.output
    assert cors_command("check", ALLOWED, *args, CORS_ALLOW_METHODS="GET, POST").exit_code == 0


def test_a_fix_lists_each_name_once_whatever_its_case():
    settings = conftest.settings_from(PRODUCTION)
    blocked = Blocked("headers", "", ("content-type", "X-Trace"))
    fix = suggest_fix(settings.policy(), settings.environment, BrowserRequest(ALLOWED, "PUT"), blocked)
    assert fix == 'Fix: CORS_ALLOW_HEADERS="Content-Type, Authorization, X-Trace"'


def test_check_header_not_allowed_names_it_in_the_fix():
    result = cors_command("check", ALLOWED, "--header", "X-Request-Id: 42", "--header", "Authorization: Bearer t")
    assert result.exit_code == 1
    assert "> Access-Control-Request-Headers: authorization,x-request-id" in result.output
    assert "Blocked: X-Request-Id not in Access-Control-Allow-Headers." in result.output
    assert 'Fix: CORS_ALLOW_HEADERS="Content-Type, Authorization, X-Request-Id"' in result.output


@conftest.credentials_off
def test_check_credentials_not_allowed():
    result = cors_command("check", ALLOWED, "--credentials", CORS_ALLOW_CREDENTIALS="false")
    assert result.exit_code == 1
    assert "Blocked: credentials sent, but no Access-Control-Allow-Credentials: true." in result.output
    assert "Fix: CORS_ALLOW_CREDENTIALS=true (then a page at any origin 'default' allows" in result.output
    assert "cookies" in result.output
    assert "Authorization" not in result.output  # a script's own Authorization is CORS_ALLOW_HEADERS' business


@conftest.credentials_off
def test_check_wildcard_with_credentials():
    variables = {"APP_ENV": "development", "CORS_ORIGINS": "*", "CORS_ALLOW_CREDENTIALS": "false"}
    assert cors_command("check", "https://any.example.org", **variables).exit_code == 0
    result = cors_command("check", "https://any.example.org", "--credentials", **variables)
    assert result.exit_code == 1
    assert "< Access-Control-Allow-Origin: *" in result.output
    assert "Blocked: Access-Control-Allow-Origin is '*', refused with credentials." in result.output
    assert 'CORS_ORIGINS="https://any.example.org" CORS_ALLOW_CREDENTIALS=true' in result.output


def test_check_path_outside_the_covered_prefix():
    result = cors_command("check", ALLOWED, "--path", "/internal")
    assert result.exit_code == 1
    assert "Policy: none covers /internal" in result.output
    assert "no policy covers /internal: serve the route under a policy's prefix" in result.output


@pytest.mark.parametrize(
    ("origin", "why"),
    [
        ("http://app.example.com", "accepts https origins only"),
        ("http://localhost:5173", "is a local development origin"),
        ("https://127.0.0.1:8443", "is a local development origin"),
        ("null", "'null' is the origin of sandboxed frames"),
    ],
)
def test_check_origin_production_must_refuse_says_why_and_offers_no_fix(origin, why):
    result = cors_command("check", origin)
    assert result.exit_code == 1
    assert "Stays refused: " in result.output
    assert why in result.output
    assert "Fix" not in result.output


@pytest.mark.parametrize(
    "origin",
    ["https://preview.example.com", "https://a.pr-1.preview.example.com", "https://pr-1.preview.example.com:8443"],
)
def test_check_origin_beside_a_wildcard_says_what_it_covers_and_how_to_list_the_origin(origin):
    result = cors_command("check", origin)
    assert result.exit_code == 1
    covers = f"{WILDCARD} covers exactly one label in place of '*', with its scheme and port: not {origin}."
    assert covers in result.output
    fix = f'CORS_ORIGINS="{ALLOWED}, {WILDCARD}, {origin}"'
    assert f"Fix, if {origin} is a front end of yours: {fix}" in result.output
    # The fix is a value production starts with, and that lets the origin in.
    assert cors_command("check", origin, CORS_ORIGINS=fix.partition("=")[2].strip('"')).exit_code == 0


def test_check_reads_the_public_policy_for_its_path():
    result = cors_command("check", "https://evil.example.net", "--path", "/api/public/status")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Policy: 'public' (/api/public/)")
    assert "< Access-Control-Allow-Origin: *" in result.output


def test_check_credentials_on_the_public_policy_stay_refused():
    result = cors_command(
        "check", ALLOWED, "--path", "/api/public/status", "--credentials", CORS_ALLOW_CREDENTIALS="true"
    )
    assert result.exit_code == 1
    assert "Stays refused with credentials: 'public' is public, and never allows them." in result.output


def test_check_a_write_to_the_public_policy_is_blocked_at_the_preflight():
    result = cors_command("check", ALLOWED, "--path", "/api/public/status", "--method", "DELETE")
    assert result.exit_code == 1
    assert "Blocked: DELETE is not in Access-Control-Allow-Methods." in result.output
    assert "Stays refused: 'public' is public, and read-only: every origin may read it, none may write" in result.output


def test_check_blocks_two_allow_origin_values_and_blames_what_added_the_second():
    """As in production, where the CORS layer keeps the policy's own header: a proxy's comes on top."""
    app = create_app(conftest.settings_from(PRODUCTION))
    # In front of all the app serves, as a proxy is (app.wsgi_app is inside the CORS layer).
    served = app.served_through_layer

    def proxy_adding_its_own(environ, start_response):
        return served(
            environ,
            lambda status, headers, *rest: start_response(
                status, [*headers, ("Access-Control-Allow-Origin", "*")], *rest
            ),
        )

    app.served_through_layer = proxy_adding_its_own
    result = app.test_cli_runner().invoke(args=["cors", "check", ALLOWED])
    assert result.exit_code == 1
    assert (
        f"Blocked: 2 Access-Control-Allow-Origin headers ({ALLOWED}, *); browsers accept exactly one." in result.output
    )
    assert "Fix: something besides the policy adds Access-Control-Allow-Origin" in result.output
    assert "CORS_ORIGINS=" not in result.output


def test_check_never_offers_the_allowlist_in_force_as_the_fix():
    """An allowed origin blocked by something else: the fix is not the configuration already there."""
    app = create_app(conftest.settings_from({**PRODUCTION, "APP_ENV": "testing"}))
    app.add_url_rule(f"{conftest.TEST_API}/by-hand", "by_hand", lambda: ("", {"Access-Control-Allow-Origin": "*"}))
    result = app.test_cli_runner().invoke(args=["cors", "check", ALLOWED, "--path", f"{conftest.TEST_API}/by-hand"])
    assert result.exit_code == 1
    assert f"Not the policy: 'default' allows {ALLOWED}" in result.output
    assert "CORS_ORIGINS=" not in result.output


def test_check_and_show_account_for_dynamic_origins():
    def tenant_origins(origin: str) -> bool:
        return origin == "https://shop.tenant.example"

    declarations = (
        Policy("default", "/api/", dynamic_origins=tenant_origins),
        *(declaration for declaration in POLICIES if declaration.name != "default"),
    )
    app = create_app(conftest.settings_from(PRODUCTION, declarations=declarations))
    runner = app.test_cli_runner()
    assert runner.invoke(args=["cors", "check", "https://shop.tenant.example"]).exit_code == 0
    refused = runner.invoke(args=["cors", "check", "https://other.example"])
    assert refused.exit_code == 1
    assert "(or make test_check_and_show_account_for_dynamic_origins.<locals>.tenant_origins, the policy's" in (
        refused.output
    )
    report = json.loads(runner.invoke(args=["cors", "show", "--json"]).output)["policies"][0]  # default first
    assert report["dynamic_origins"].endswith("tenant_origins")
    assert report["settings"]["CORS_DYNAMIC_TTL"] == {"value": 60, "source": "default"}


# flask cors check: cross-origin writes


def test_check_allowed_origin_may_write():
    result = cors_command(
        "check", ALLOWED, "--method", "POST", "--path", conftest.JSON_ROUTE, "--header", "Content-Type"
    )
    assert result.exit_code == 0
    assert result.output.endswith(f"Allowed to write: the policy 'default' allows {ALLOWED}.\n")


def test_check_a_form_post_from_a_refused_origin_is_refused_before_the_view():
    """A text/plain POST needs no preflight: the browser sends it, and the API refuses it."""
    args = ("--method", "POST", "--path", conftest.JSON_ROUTE, "--header", "Content-Type:text/plain")
    result = cors_command("check", "https://evil.example.net", *args)
    assert result.exit_code == 1
    assert "< 403 FORBIDDEN" in result.output
    assert (
        "Refused as a cross-origin write (403, the view never runs): a page at https://evil.example.net sends it "
        "from another site, and the policy 'default' does not allow https://evil.example.net."
    ) in result.output


def test_check_a_write_to_the_public_policy_is_refused_though_cors_lets_the_page_read():
    args = ("--method", "POST", "--path", "/api/public/status", "--header", "Content-Type:text/plain")
    result = cors_command("check", ALLOWED, *args)
    assert result.exit_code == 1
    assert f"Allowed by CORS: a page at {ALLOWED} can read the 403 FORBIDDEN answer" in result.output
    assert "the policy 'public' is public: every origin may read it, none may write to it" in result.output


def test_check_an_exempt_path_accepts_the_write():
    args = ("--method", "POST", "--path", "/auth/callback/saml", "--header", "Content-Type:text/plain")
    result = cors_command(
        "check", "https://login.identity.example", *args, CROSS_SITE_WRITE_EXEMPT_PATHS="/auth/callback"
    )
    assert "Allowed to write: /auth/callback/saml is in CROSS_SITE_WRITE_EXEMPT_PATHS." in result.output


def test_check_a_read_says_nothing_about_writes():
    assert "write" not in cors_command("check", "https://evil.example.net").output


def test_show_reports_the_write_protection_and_its_exempt_paths():
    assert row(cors_command("show").output, "CROSS_SITE_WRITE_EXEMPT_PATHS").split()[1:] == ["none", "default"]
    result = cors_command("show", "--json", CROSS_SITE_WRITE_EXEMPT_PATHS="/auth/callback")
    exempt = json.loads(result.output)["cross_origin_writes"]["CROSS_SITE_WRITE_EXEMPT_PATHS"]
    assert exempt == {"value": ["/auth/callback"], "source": "environment variable"}


# flask cors check: usage and configuration errors exit with 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["app.example.com"], "has no scheme"),
        (["https://app.example.com/login"], "no path"),
        (["https://*.example.com"], "never a wildcard"),
        ([ALLOWED, "--method", "TRACE"], "'TRACE' is not one of"),
        ([ALLOWED, "--header", "Cookie"], "--credentials"),
        ([ALLOWED, "--header", "Sec-Fetch-Mode: cors"], "set by the browser"),
        ([ALLOWED, "--header", "X Y"], "not a header name"),
        ([ALLOWED, "--path", "api/health"], "a path starts with /"),
    ],
)
def test_check_usage_errors_exit_2(args, message):
    result = cors_command("check", *args)
    assert result.exit_code == 2
    assert message in result.output


@pytest.fixture
def bad_environment(clean_environ):
    """A process environment production refuses, and no .env file."""
    clean_environ.setenv("APP_ENV", "production")
    clean_environ.setenv("CORS_ORIGINS", "http://app.example.com")
    return clean_environ


@pytest.mark.parametrize("args", [["show"], ["check", ALLOWED]])
def test_a_configuration_error_is_reported_as_start_up_reports_it(bad_environment, args):
    flask_command = FlaskGroup(create_app=create_app, load_dotenv=False)
    result = CliRunner().invoke(flask_command, ["cors", *args])
    assert result.exit_code == 2
    assert result.output.startswith("Error: CORS_ORIGINS: 'http://app.example.com': APP_ENV=production")
    assert "Traceback" not in result.output


def test_the_flask_command_reports_a_configuration_error_in_one_line(bad_environment, capsys):
    """flask.cli.main is what the `flask` executable runs: its exit status and all it prints."""
    command = ["flask", "--app", "{{ cookiecutter.package_name }}", "cors", "check", ALLOWED]
    bad_environment.setattr(sys, "argv", command)
    with pytest.raises(SystemExit) as stop:
        flask.cli.main()
    assert stop.value.code == 2
    printed = capsys.readouterr()
    assert printed.out == ""
    assert printed.err.startswith("Error: CORS_ORIGINS: ")
    assert len(printed.err.strip().splitlines()) == 1


def test_for_a_deployment_the_flask_command_counts_none_of_the_dotenv_it_loaded(clean_environ, capsys):
    """The `flask` executable copies .env into the environment before the app loads: where the environment says
    APP_ENV=production, the development values of a checkout's .env must not count."""
    Path(".env").write_text("CORS_ORIGINS=http://localhost:3000\nCORS_MAX_AGE=60\n")
    clean_environ.setenv("APP_ENV", "production")
    clean_environ.setenv("CORS_ORIGINS", ALLOWED)
    clean_environ.setattr(sys, "argv", ["flask", "--app", "{{ cookiecutter.package_name }}", "cors", "show"])
    with patch.dict(os.environ), pytest.raises(SystemExit) as stop:  # os.environ as it was, after .env's copies
        flask.cli.main()
    assert stop.value.code == 0
    printed = capsys.readouterr().out
    assert row(printed, "CORS_MAX_AGE").split()[:3] == ["CORS_MAX_AGE", "600", "default"]
    assert row(printed, "CORS_ORIGINS").split()[1] == ALLOWED


# The browser's rules, as pure functions


@pytest.mark.parametrize(
    ("method", "headers", "preflighted"),
    [
        ("GET", {}, False),
        ("HEAD", {}, False),
        ("POST", {"Content-Type": "text/plain;charset=UTF-8"}, False),
        ("POST", {"Content-Type": "multipart/form-data; boundary=x"}, False),
        ("POST", {"Content-Type": "application/json"}, True),
        ("POST", {"Content-Type": "text/plain; x=(y)"}, True),
        ("PUT", {}, True),
        ("DELETE", {}, True),
        ("GET", {"Accept": "application/json", "Content-Language": "en-GB"}, False),
        ("GET", {"Accept-Language": "en-GB,en;q=0.9"}, False),
        ("GET", {"Accept-Language": "en(GB)"}, True),
        ("GET", {"Range": "bytes=0-99"}, False),
        ("GET", {"Range": "bytes=-99"}, True),
        ("GET", {"Accept": "x" * 129}, True),
        ("GET", {"Authorization": "Bearer t"}, True),
        ("GET", {"X-Request-Id": "1"}, True),
    ],
)
def test_when_a_browser_sends_a_preflight(method, headers, preflighted):
    """Fetch: a method other than GET, HEAD, POST, or a header outside the CORS-safelisted ones."""
    assert BrowserRequest(ALLOWED, method, headers=headers).preflighted is preflighted


def test_the_preflight_asks_for_unsafe_headers_lowercase_and_sorted():
    headers = {"X-Trace": "1", "Accept": "text/html", "Authorization": "Bearer t"}
    assert BrowserRequest(ALLOWED, headers=headers).unsafe_headers == ["authorization", "x-trace"]
    assert is_safelisted_header("accept", "text/html")


def answer(**headers: str) -> Headers:
    """A preflight answer allowing ALLOWED, with `headers` (underscores for hyphens in their names)."""
    return Headers({"Access-Control-Allow-Origin": ALLOWED, **{n.replace("_", "-"): v for n, v in headers.items()}})


def test_a_wildcard_in_the_preflight_answer_counts_only_without_credentials():
    wildcards = answer(Access_Control_Allow_Methods="*", Access_Control_Allow_Headers="*")
    assert preflight_check(204, wildcards, BrowserRequest(ALLOWED, "PUT", headers={"X-Trace": "1"})) is None
    wildcards.add("Access-Control-Allow-Credentials", "true")
    with_credentials = BrowserRequest(ALLOWED, "PUT", headers={"X-Trace": "1"}, credentials=True)
    assert preflight_check(204, wildcards, with_credentials).reason == "method"


def test_authorization_is_never_covered_by_a_wildcard():
    wildcard = answer(Access_Control_Allow_Headers="*")
    blocked = preflight_check(204, wildcard, BrowserRequest(ALLOWED, headers={"Authorization": "Bearer t"}))
    assert (blocked.reason, blocked.header_names) == ("headers", ("Authorization",))


def test_a_preflight_answer_must_be_2xx():
    assert preflight_check(404, answer(), BrowserRequest(ALLOWED, "PUT")).reason == "status"
