"""Policies per path (policies.py), over HTTP: which policy answers which path, the public policy,
policies configured by their own variables, and origins decided at run time by a callable.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask import Flask, jsonify

from {{ cookiecutter.package_name }} import create_app
from {{ cookiecutter.package_name }}.cors import Policy
from {{ cookiecutter.package_name }}.cors import policy as policy_module
from {{ cookiecutter.package_name }}.cors.policy import DynamicOrigins, longest_prefix, start_up_notes
from {{ cookiecutter.package_name }}.policies import POLICIES
from {{ cookiecutter.package_name }}.settings import Settings, SettingsError

import conftest

ALLOWED = conftest.ALLOWED_ORIGINS[0]
REFUSED = "https://evil.example.net"
PRODUCTION = conftest.CREDENTIALED_PRODUCTION
PARTNER = "https://portal.partner.example"
# A policy of the kind a team adds, under a name no team would give its own.
PARTNERS = Policy("sample_partners", "/api/sample-partners/")
# policies.py's policies besides the default one, which some tests replace.
NOT_DEFAULT = tuple(declaration for declaration in POLICIES if declaration.name != "default")


def app_with(declarations: tuple[Policy, ...], **variables: str) -> Flask:
    """The app with `declarations` in place of policies.py's, and a route answering under every prefix."""
    app = create_app(conftest.settings_from({**PRODUCTION, **variables}, declarations=declarations))
    for declaration in declarations:
        path = f"{declaration.prefix}__tests__"
        app.add_url_rule(path, path, lambda: jsonify(status="ok"))
    return app


def get(app: Flask, path: str, origin: str):
    return app.test_client().get(path, headers={"Origin": origin})


def preflight(app: Flask, path: str, origin: str, method: str):
    return app.test_client().options(path, headers={"Origin": origin, "Access-Control-Request-Method": method})


# The public policy of the default bake


@pytest.mark.parametrize("origin", [ALLOWED, REFUSED, "null", "http://localhost:3000"])
def test_the_public_status_is_readable_from_any_origin_without_credentials(origin):
    app = create_app(conftest.settings_from(PRODUCTION))
    response = get(app, "/api/public/status", origin)
    assert response.status_code == 200
    assert conftest.cors_headers(response) == {"Access-Control-Allow-Origin": "*"}
    assert "origin" in conftest.vary(response)


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_a_write_preflight_to_the_public_policy_is_refused(method):
    """GET and HEAD only: the answer leaves the method out, so the browser never sends the write."""
    app = create_app(conftest.settings_from(PRODUCTION))
    response = preflight(app, "/api/public/status", REFUSED, method)
    assert response.headers["Access-Control-Allow-Origin"] == "*"  # the public policy answered
    assert method not in response.headers.get("Access-Control-Allow-Methods", "")
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_the_api_stays_as_restrictive_beside_the_public_policy():
    app = create_app(conftest.settings_from(PRODUCTION))
    assert conftest.cors_headers(get(app, "/api/health", REFUSED)) == {}
    assert get(app, "/api/health", ALLOWED).headers["Access-Control-Allow-Credentials"] == "true"


# Which policy answers


def test_the_longest_prefix_decides_and_a_prefix_ends_at_a_slash():
    app = create_app(conftest.settings_from(PRODUCTION))
    beside = "/api/public__tests__"  # begins as /api/public/ does, and is not under it
    app.add_url_rule(beside, "beside", lambda: "ok")
    assert get(app, "/api/public/status", REFUSED).headers["Access-Control-Allow-Origin"] == "*"
    assert conftest.cors_headers(get(app, beside, REFUSED)) == {}
    assert get(app, beside, ALLOWED).headers["Access-Control-Allow-Origin"] == ALLOWED


@pytest.mark.parametrize(
    ("path", "decides"),
    [
        ("/api/health", "/api/"),
        ("/api", "/api/"),
        ("/api/", "/api/"),
        ("/api/public/status", "/api/public/"),
        ("/api/public", "/api/public/"),
        ("/api/publicity", "/api/"),
        ("/api/public/a/b/c", "/api/public/"),
        ("/apiary", None),
        ("/", None),
        ("", None),
        ("/internal/api/", None),
    ],
)
def test_the_longest_covering_prefix_decides(path, decides):
    assert longest_prefix({"/api/", "/api/public/", "/api/public/a/x/"}, path) == decides


def test_a_prefix_covers_itself_without_its_last_slash():
    """A blueprint's @blueprint.get("") answers at /api/sample-partners: the policy of /api/sample-partners/
    covers it."""
    app = app_with((*POLICIES, PARTNERS), CORS_SAMPLE_PARTNERS_ORIGINS=PARTNER)
    app.add_url_rule("/api/sample-partners", "partners_index", lambda: "ok")
    response = get(app, "/api/sample-partners", PARTNER)
    assert response.headers["Access-Control-Allow-Origin"] == PARTNER
    assert "origin" in conftest.vary(response)


def test_a_path_outside_every_policy_gets_no_cors_header_and_no_vary():
    app = create_app(conftest.settings_from(PRODUCTION))
    path = f"{conftest.TEST_SITE}/metrics"
    app.add_url_rule(path, "metrics", lambda: "ok")
    for response in (get(app, path, ALLOWED), preflight(app, path, ALLOWED, "PUT")):
        assert conftest.cors_headers(response) == {}
        assert "origin" not in conftest.vary(response)


# A policy of its own variables


def test_a_named_policy_reads_its_own_variables():
    app = app_with(
        (*POLICIES, PARTNERS), CORS_SAMPLE_PARTNERS_ORIGINS=PARTNER, CORS_SAMPLE_PARTNERS_ALLOW_METHODS="GET"
    )
    partners = get(app, "/api/sample-partners/__tests__", PARTNER)
    assert conftest.cors_headers(partners) == {"Access-Control-Allow-Origin": PARTNER}  # credentials: its own default
    assert conftest.cors_headers(get(app, "/api/sample-partners/__tests__", ALLOWED)) == {}
    assert conftest.cors_headers(get(app, "/api/health", PARTNER)) == {}
    assert "PUT" not in preflight(app, "/api/sample-partners/__tests__", PARTNER, "PUT").headers.get(
        "Access-Control-Allow-Methods", ""
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "CORS_SAMPLE_PARTNERS_ORIGINS: an allowlist is required when APP_ENV=production"),
        ("*", "CORS_SAMPLE_PARTNERS_ORIGINS: '*' would let every site on the web call the API"),
        (
            "http://portal.partner.example",
            "CORS_SAMPLE_PARTNERS_ORIGINS: 'http://portal.partner.example': APP_ENV=production",
        ),
        ("null", "CORS_SAMPLE_PARTNERS_ORIGINS: 'null' is the origin of sandboxed frames"),
        (
            "https://*.github.io",
            "CORS_SAMPLE_PARTNERS_ORIGINS: 'https://*.github.io': anyone can register a name under",
        ),
    ],
)
def test_a_named_policy_meets_every_production_rule(value, message):
    variables = {} if value is None else {"CORS_SAMPLE_PARTNERS_ORIGINS": value}
    with pytest.raises(SettingsError) as error:
        Settings.from_environ(
            {**conftest.other_allowlists(), **PRODUCTION, **variables}, declarations=(*POLICIES, PARTNERS)
        )
    assert error.value.message.startswith(message)


def test_a_misspelt_variable_of_a_named_policy_is_refused_with_its_name():
    with pytest.raises(SettingsError, match="did you mean CORS_SAMPLE_PARTNERS_ORIGINS"):
        conftest.settings_from(
            {**PRODUCTION, "CORS_SAMPLE_PARTNER_ORIGINS": PARTNER}, declarations=(*POLICIES, PARTNERS)
        )


@pytest.mark.parametrize(
    ("declarations", "message"),
    [
        ((Policy("partners", "/api/"),), "policies.py declares no policy named 'default'"),
        ((*POLICIES, Policy("other", "/api/")), "policies.py declares two policies with the prefix '/api/'"),
        ((*POLICIES, Policy("public", "/api/open/")), "policies.py declares two policies with the name 'public'"),
    ],
)
def test_policies_py_is_checked_at_start_up(declarations, message):
    with pytest.raises(SettingsError, match=message):
        conftest.settings_from(PRODUCTION, declarations=declarations)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"name": "Partners", "prefix": "/api/p/"}, "use lowercase letters"),
        ({"name": "partners", "prefix": "/api/p"}, "must start and end with '/'"),
        ({"name": "partners", "prefix": "/api/p/", "defaults": {"ORIGIN": "x"}}, "no setting named ORIGIN"),
        ({"name": "open", "prefix": "/o/", "public": True, "dynamic_origins": bool}, "is public"),
        ({"name": "open", "prefix": "/o/", "public": True, "defaults": {"ALLOW_CREDENTIALS": "true"}}, "is public"),
    ],
)
def test_a_policy_declaration_that_cannot_work_is_refused(arguments, message):
    with pytest.raises(ValueError, match=message):
        Policy(**arguments)


# Dynamic origins


class Tenants:
    """A tenant table: the custom domains it knows, and how often it was asked."""

    def __init__(self, *domains: str, answer: object = None, error: Exception | None = None):
        self.domains, self.answer, self.error = set(domains), answer, error
        self.asked: list[str] = []

    def __call__(self, origin: str) -> bool:
        self.asked.append(origin)
        if self.error:
            raise self.error
        return self.answer if self.answer is not None else origin in self.domains


def dynamic_app(tenants: Tenants, **variables: str) -> Flask:
    declarations = (Policy("default", "/api/", dynamic_origins=tenants), *NOT_DEFAULT)
    return create_app(conftest.settings_from({**PRODUCTION, **variables}, declarations=declarations))


TENANT = "https://shop.tenant-one.example"


def test_a_dynamic_origin_gets_what_a_listed_one_gets():
    tenants = Tenants(TENANT)
    app = dynamic_app(tenants)
    simple, asked = get(app, "/api/health", TENANT), preflight(app, conftest.JSON_ROUTE, TENANT, "POST")
    assert conftest.cors_headers(simple) == {
        "Access-Control-Allow-Origin": TENANT,
        "Access-Control-Allow-Credentials": "true",
    }
    assert asked.headers["Access-Control-Allow-Origin"] == TENANT
    assert "POST" in asked.headers["Access-Control-Allow-Methods"]
    assert conftest.cors_headers(get(app, "/api/health", REFUSED)) == {}


def test_the_callable_is_asked_only_about_origins_the_allowlist_refuses():
    tenants = Tenants(TENANT)
    app = dynamic_app(tenants)
    get(app, "/api/health", ALLOWED)
    assert tenants.asked == []


def test_an_answer_is_remembered_for_the_ttl():
    tenants = Tenants(TENANT)
    app = dynamic_app(tenants, CORS_DYNAMIC_TTL="60")
    for _ in range(3):
        get(app, "/api/health", TENANT)
        get(app, "/api/health", REFUSED)
    assert sorted(tenants.asked) == [REFUSED, TENANT]


def test_an_answer_is_asked_again_after_the_ttl():
    now = [0.0]
    tenants = Tenants(TENANT)
    policy = conftest.settings_from(PRODUCTION, declarations=(Policy("default", "/api/", dynamic_origins=tenants),))
    dynamic = DynamicOrigins(policy.policy(), "production", clock=lambda: now[0])
    assert dynamic.allows(TENANT)
    tenants.domains.clear()  # the tenant leaves
    now[0] = 59.0
    assert dynamic.allows(TENANT)
    now[0] = 60.0
    assert not dynamic.allows(TENANT)


@pytest.mark.parametrize(
    "origin",
    [
        "http://shop.tenant-one.example",  # http in production
        "null",
        "http://localhost:3000",
        "https://127.0.0.1",
        "HTTPS://SHOP.TENANT-ONE.EXAMPLE",  # not as a browser serialises it
        "https://shop.tenant-one.example:443",
        "https://shop.tenant-one.example/",
        "https://*.tenant-one.example",
        # This machine, however spelt: never a real user's front end.
        "https://[::ffff:7f00:1]",
        "https://[::]",
        "https://0.0.0.0",
        "https://0x7f.0.0.1",
        "https://127.1",
        "https://2130706433",
        "https://app.localhost",
    ],
)
def test_the_callable_cannot_allow_what_start_up_forbids(origin):
    tenants = Tenants(answer=True)
    app = dynamic_app(tenants)
    assert conftest.cors_headers(get(app, "/api/health", origin)) == {}
    assert tenants.asked == []


@pytest.mark.parametrize(
    ("tenants", "logged"),
    [
        (
            Tenants(error=ConnectionError("tenant db down\nFAKE LINE")),
            "raised ConnectionError: tenant db down\\nFAKE LINE",
        ),
        (Tenants(answer="yes"), "returned str 'yes', not True or False"),
    ],
    ids=["exception", "not-a-bool"],
)
def test_a_failing_callable_refuses_and_logs_one_error(tenants, logged, caplog):
    app = dynamic_app(tenants, CORS_DYNAMIC_TTL="0")
    for _ in range(3):
        response = get(app, "/api/health", TENANT)
        assert response.status_code == 200
        assert conftest.cors_headers(response) == {}
    errors = [record for record in caplog.records if record.levelno == logging.ERROR]
    assert len(errors) == 1
    assert logged in errors[0].getMessage()
    assert len(tenants.asked) == 3


class Timeout(BaseException):
    """As gevent's and eventlet's Timeout: a BaseException, so that `except Exception` lets it through."""


@pytest.mark.parametrize("error", [Timeout("5 seconds"), asyncio.CancelledError(), ConnectionError("down")])
def test_any_exception_the_callable_raises_refuses_the_origin(error, caplog):
    app = dynamic_app(Tenants(TENANT, error=error))
    response = get(app, "/api/health", TENANT)
    assert response.status_code == 200
    assert conftest.cors_headers(response) == {}
    errors = [record.getMessage() for record in caplog.records if record.levelno == logging.ERROR]
    assert f"raised {type(error).__name__}" in errors[0]


@pytest.mark.parametrize("stop", [KeyboardInterrupt, SystemExit])
def test_stopping_the_process_goes_through_and_leaves_no_request_waiting(stop):
    settings = conftest.settings_from(PRODUCTION, declarations=(Policy("default", "/api/", dynamic_origins=Tenants()),))
    dynamic = DynamicOrigins(settings.policy(), "production")
    dynamic.check = Tenants(error=stop())
    with pytest.raises(stop):
        dynamic.allows(TENANT)
    assert dynamic._asking == {}


class SlowTenants(Tenants):
    """A tenant table that answers once `release` is set."""

    def __init__(self, *domains: str):
        super().__init__(*domains)
        self.release = threading.Event()

    def __call__(self, origin: str) -> bool:
        self.release.wait(10)
        return super().__call__(origin)


def test_concurrent_requests_from_a_new_origin_make_one_lookup():
    """The README's promise, one lookup per origin per TTL, under a threaded server: the others wait for it."""
    tenants = SlowTenants(TENANT)
    app = dynamic_app(tenants)
    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = [pool.submit(get, app, "/api/health", TENANT) for _ in range(8)]
        time.sleep(0.05)  # every request waiting, or about to ask: one lookup either way
        tenants.release.set()
        allowed = [response.result().headers.get("Access-Control-Allow-Origin") for response in responses]
    assert allowed == [TENANT] * 8
    assert tenants.asked == [TENANT]


def test_a_request_waiting_too_long_for_the_lookup_is_refused():
    tenants = SlowTenants(TENANT)
    settings = conftest.settings_from(PRODUCTION, declarations=(Policy("default", "/api/", dynamic_origins=tenants),))
    dynamic = DynamicOrigins(settings.policy(), "production", wait=0.05)
    with ThreadPoolExecutor(max_workers=1) as pool:
        first = pool.submit(dynamic.allows, TENANT)
        while not dynamic._asking:
            time.sleep(0.01)
        assert dynamic.allows(TENANT) is False  # the wait is over before the answer
        tenants.release.set()
        assert first.result() is True
    assert dynamic.allows(TENANT) is True
    assert tenants.asked == [TENANT]


def test_start_up_notes_name_a_dynamic_policy():
    def tenant_origins(origin: str) -> bool:
        return False

    declarations = (Policy("default", "/api/", dynamic_origins=tenant_origins), *NOT_DEFAULT)
    notes = start_up_notes(conftest.settings_from(PRODUCTION, declarations=declarations).policies)
    assert notes[0] == (
        "CORS policy 'default' on /api/ also allows the origins "
        "test_start_up_notes_name_a_dynamic_policy.<locals>.tenant_origins accepts, each answer kept 60 s"
    )


def test_at_most_remembered_origins_answers_are_kept(monkeypatch):
    """A stream of made-up Origins cannot grow the memory: the oldest answer goes first."""
    monkeypatch.setattr(policy_module, "REMEMBERED_ORIGINS", 3)
    settings = Settings.from_environ(PRODUCTION, declarations=(Policy("default", "/api/", dynamic_origins=Tenants()),))
    dynamic = DynamicOrigins(settings.policy(), "production")
    for number in range(10):
        dynamic.allows(f"https://stranger-{number}.example")
    assert list(dynamic._answers) == [f"https://stranger-{number}.example" for number in (7, 8, 9)]


def test_an_empty_dynamic_ttl_is_refused_as_any_number_is():
    with pytest.raises(SettingsError, match="CORS_DYNAMIC_TTL='' must be a whole number from 0 to 86400"):
        conftest.settings_from({**PRODUCTION, "CORS_DYNAMIC_TTL": ""})
