"""Every route the app has, the team's included, answers as the policy that covers it says.

This test walks `app.url_map`: a route added to api.py (or any blueprint) is covered without a test
of its own. For each route and method under a policy it sends what a browser sends, from an allowed
origin, a refused one, without an Origin, and as a preflight, and compares the answer with the
policy's settings. A route that sets an Access-Control-* header itself fails here, named: in testing
the CORS layer answers it with a 500 that says which route set which header.

A route with path arguments gets sample values; where none of SAMPLES fits its converter, add the
route's endpoint to ENDPOINT_SAMPLES.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from flask import Flask
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Rule

from {{ cookiecutter.package_name }} import create_app
from {{ cookiecutter.package_name }}.cors.policy import CorsPolicy, policy_for
from {{ cookiecutter.package_name }}.policies import POLICIES
from {{ cookiecutter.package_name }}.settings import Settings

import conftest

ALLOWED = conftest.ALLOWED_ORIGINS[0]
REFUSED = "https://refused.example.net"
# Tried in turn for each path argument, until the built path matches the route again.
SAMPLES = (1, "sample", uuid.UUID(int=1), 1.5)
# {endpoint: {argument: value}} for routes whose converters take none of SAMPLES.
ENDPOINT_SAMPLES: dict[str, dict[str, object]] = {}


def conformance_app() -> Flask:
    """The app in testing, every policy given the production origins and credentials where it can have them."""
    variables = {"APP_ENV": "testing", "SECRET_KEY": conftest.SECRET_KEY}
    for declaration in POLICIES:
        if not declaration.public:
            variables[declaration.variable("ORIGINS")] = conftest.PRODUCTION_CORS_ORIGINS
            variables[declaration.variable("ALLOW_CREDENTIALS")] = "true"
    return create_app(Settings.from_environ(variables))


def sample_path(app: Flask, rule: Rule, method: str) -> str:
    """A path that `rule` answers for `method`, with sample values for its arguments."""
    adapter = app.url_map.bind("localhost")
    for sample in SAMPLES:
        values = ENDPOINT_SAMPLES.get(rule.endpoint) or dict.fromkeys(rule.arguments, sample)
        path = adapter.build(rule.endpoint, values, method=method)
        try:
            if adapter.match(path, method=method)[0] == rule.endpoint:
                return path
        except HTTPException:
            continue
    pytest.fail(f"no sample value fits route {rule.rule}: add its endpoint {rule.endpoint!r} to ENDPOINT_SAMPLES")


def covered_requests() -> Iterator[tuple[str, str, str]]:
    """(method, path, route) for every method of every route that a policy covers."""
    app = conformance_app()
    policies = app.extensions["settings"].policies
    for rule in sorted(app.url_map.iter_rules(), key=lambda rule: (rule.rule, rule.endpoint)):
        if policy_for(policies, rule.rule) is None:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, sample_path(app, rule, method), rule.rule


COVERED = list(covered_requests())


def expected_simple(policy: CorsPolicy, origin: str) -> dict[str, str]:
    """The Access-Control-* headers `policy` gives a request that is not a preflight from an origin it allows."""
    expected = {"Access-Control-Allow-Origin": "*" if policy.public else origin}
    if policy.allow_credentials:
        expected["Access-Control-Allow-Credentials"] = "true"
    if policy.expose_headers:
        expected["Access-Control-Expose-Headers"] = ", ".join(policy.expose_headers)
    return expected


@pytest.fixture(scope="module")
def app() -> Flask:
    return conformance_app()


def test_the_routes_under_policies_are_walked():
    """The example routes at least: an empty walk would prove nothing."""
    assert {route for _, _, route in COVERED} >= {"/api/health", "/api/echo", "/api/public/status"}


@pytest.mark.parametrize(("method", "path", "route"), COVERED, ids=[f"{m} {p}" for m, p, _ in COVERED])
def test_every_covered_route_answers_as_its_policy_says(app, method, path, route):
    policy = policy_for(app.extensions["settings"].policies, path)
    client = app.test_client()

    def send(headers: dict[str, str]):
        response = client.open(path, method=method, headers=headers)
        where = f"{method} {path} (route {route}, policy {policy.name!r}), answered {response.status}"
        return response, f"{where}: {response.get_data(as_text=True)[:400]}"

    allowed, context = send({"Origin": ALLOWED})
    assert conftest.cors_headers(allowed) == expected_simple(policy, ALLOWED), context
    assert "origin" in conftest.vary(allowed), context

    refused, context = send({"Origin": REFUSED})
    expected = expected_simple(policy, REFUSED) if policy.public else {}
    assert conftest.cors_headers(refused) == expected, context
    assert "origin" in conftest.vary(refused), context

    without_origin, context = send({})
    assert conftest.cors_headers(without_origin) == {}, context
    assert "origin" in conftest.vary(without_origin), context

    asked = {"Origin": ALLOWED, "Access-Control-Request-Method": method}
    preflight = client.options(path, headers=asked)
    methods = {item.strip() for item in preflight.headers.get("Access-Control-Allow-Methods", "").split(",")}
    assert preflight.status_code == 204, f"preflight of {method} {path}"
    assert preflight.headers["Access-Control-Allow-Origin"] == ("*" if policy.public else ALLOWED)
    assert (method in methods) == (method in policy.allow_methods), f"preflight of {method} {path}: {methods}"
