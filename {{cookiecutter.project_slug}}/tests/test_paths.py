"""The policy that judges a request is the policy of the route that runs, however the path is spelt.

Werkzeug's router reads a path's leading slashes as one and redirects a run of slashes inside it,
servers decode %2F into "/", and browsers resolve "." and ".." segments before sending. The CORS
layer judges the path the router will dispatch and hands that path on, or refuses the request: for
reads, preflights and every unsafe method. The API here has the team's policies and one of the
tests' own (write_target.py) on a prefix of its own, which trusts CONSOLE alone; FRONT_END is a
default-policy front end, and TENANT an origin the default policy's dynamic_origins allows.
"""

from __future__ import annotations

import dataclasses
from urllib.parse import unquote

import pytest
from flask import Flask

from {{ cookiecutter.package_name }}.cors.policy import DEFAULT_POLICY, canonical_path, longest_prefix, policy_for
from {{ cookiecutter.package_name }}.policies import POLICIES

import conftest
from write_target import TEST_ORIGINS, TEST_POLICY, build, declarations

API = "https://api.example.com"
FRONT_END = conftest.ALLOWED_ORIGINS[0]
CONSOLE = "https://console.example.org"
TENANT = "https://shop.tenant.example"
WRITE_METHODS = ["POST", "PUT", "PATCH", "DELETE"]


def tenant_origins(origin: str) -> bool:
    return origin == TENANT


def with_tenants(policies: tuple = POLICIES) -> tuple:
    """The team's policies, the default one also asking tenant_origins."""
    return tuple(
        dataclasses.replace(policy, dynamic_origins=tenant_origins) if policy.name == DEFAULT_POLICY else policy
        for policy in policies
    )


def build_api() -> tuple[Flask, list, str]:
    """The API in production with credentials on, the tests' own policy and tenants; its changes; the own route."""
    variables = {**conftest.CREDENTIALED_PRODUCTION, TEST_ORIGINS: CONSOLE}
    settings = conftest.settings_from(variables, declarations=declarations(with_tenants()))
    app, changes = build(settings)
    return app, changes, f"{settings.policy(TEST_POLICY).prefix}change"


@pytest.fixture(scope="module")
def module_api() -> tuple[Flask, list, str]:
    return build_api()


@pytest.fixture
def shared_api(module_api) -> tuple[Flask, list, str]:
    """build_api(), one for the module's tests that only send it requests, its changes emptied for each."""
    app, changes, path = module_api
    changes.clear()
    return app, changes, path


def spellings(path: str) -> dict[str, str]:
    """`path` ("/api/x/change") as a server may hand it to the app, each naming the same route for the router."""
    _, api, rest = path.split("/", 2)
    return {
        "as is": path,
        "leading //": "/" + path,
        "leading ///": "//" + path,
        "inner //": f"/{api}//{rest}",
        "every /": path.replace("/", "//"),
        "%2F": f"/{api}%2F{rest}",
        "leading %2F": f"/%2F{api}/{rest}",
    }


def dot_spellings(path: str) -> dict[str, str]:
    """`path` with "." and ".." segments a browser would have resolved."""
    _, api, rest = path.split("/", 2)
    return {
        "./": f"/{api}/./{rest}",
        "../": f"/{api}/public/../{rest}",
        "%2E%2E": f"/{api}/public/%2E%2E/{rest}",
        "trailing ..": f"{path}/x/..",
    }


def send(app: Flask, method: str, path: str, origin: str, **headers: str):
    """`method` `path` as a browser at `origin` sends it across sites (a form, a no-cors fetch, a fetch), and as
    a server hands it to the app: PATH_INFO percent-decoded, %2F included, slashes and dots as sent."""
    headers = {"Origin": origin, "Sec-Fetch-Site": "cross-site", **headers}
    body = {"data": "email=x", "content_type": "application/x-www-form-urlencoded"} if method in WRITE_METHODS else {}
    raw = {"PATH_INFO": unquote(path), "RAW_URI": path}
    return app.test_client().open("/", method=method, base_url=API, headers=headers, environ_overrides=raw, **body)


@pytest.mark.parametrize("method", WRITE_METHODS)
@pytest.mark.parametrize("origin", [FRONT_END, TENANT])
def test_a_write_from_another_policys_front_end_is_refused_however_the_path_is_spelt(shared_api, method, origin):
    app, changes, path = shared_api
    for spelling, sent in spellings(path).items():
        response = send(app, method, sent, origin)
        assert response.status_code == 403, spelling
        assert "Access-Control-Allow-Origin" not in response.headers, spelling
    assert changes == []


@pytest.mark.parametrize("method", WRITE_METHODS)
def test_the_routes_own_front_end_writes_through_every_spelling_judged_by_its_policy(shared_api, method):
    app, changes, path = shared_api
    for spelling, sent in spellings(path).items():
        response = send(app, method, sent, CONSOLE)
        assert response.status_code == 200, spelling
        assert response.headers["Access-Control-Allow-Origin"] == CONSOLE, spelling
    assert changes == [f"{method} {path}"] * len(spellings(path))


@pytest.mark.parametrize("method", ["GET", *WRITE_METHODS])
def test_a_path_with_dot_segments_is_refused_before_any_view(shared_api, method):
    app, changes, path = shared_api
    for spelling, sent in dot_spellings(path).items():
        response = send(app, method, sent, CONSOLE)
        assert response.status_code == 400, spelling
        assert response.json["error"]["detail"].startswith("The path has a '.' or '..' segment"), spelling
        assert "origin" in conftest.vary(response)
    assert changes == []


@pytest.mark.parametrize(("origin", "allowed"), [(CONSOLE, True), (FRONT_END, False), (TENANT, False)])
def test_reads_and_preflights_are_answered_by_the_routes_policy_however_the_path_is_spelt(shared_api, origin, allowed):
    app, _, path = shared_api
    for spelling, sent in spellings(path).items():
        read = send(app, "GET", sent, origin)
        preflight = send(app, "OPTIONS", sent, origin, **{"Access-Control-Request-Method": "DELETE"})
        assert (read.status_code, preflight.status_code) == (200, 204), spelling
        for response in (read, preflight):
            assert response.headers.get("Access-Control-Allow-Origin") == (origin if allowed else None), spelling


def test_the_default_policys_front_ends_and_tenants_keep_its_own_paths(shared_api):
    app, changes, _ = shared_api
    for origin in (FRONT_END, TENANT):
        for sent in spellings(f"{conftest.TEST_API}/changes").values():
            assert send(app, "POST", sent, origin).status_code == 200
    assert len(changes) == 2 * len(spellings(f"{conftest.TEST_API}/changes"))


def test_dynamic_origins_are_never_trusted_to_write_where_no_policy_covers_the_path():
    """A path no policy covers trusts the default policy's listed front ends only, never whom its function allows."""
    app, changes, _ = build_api()  # its own: a route is added
    path = conftest.unrouted_path(app, "/")
    if policy_for(app.extensions["settings"].policies, path) is not None:
        pytest.skip(f"a policy of the team's covers {path}")
    app.add_url_rule(path, "uncovered", lambda: (changes.append(path), "")[1], methods=["POST"])
    assert send(app, "POST", path, TENANT).status_code == 403
    assert send(app, "POST", "/" + path, TENANT).status_code == 403
    assert changes == []
    assert send(app, "POST", path, FRONT_END).status_code == 200
    assert changes == [path]


@pytest.mark.parametrize(
    ("path", "canonical"),
    [
        ("/api/x", "/api/x"),
        ("//api/x", "/api/x"),
        ("/api///x//", "/api/x/"),
        ("api/x", "/api/x"),
        ("", ""),
        ("/", "/"),
        ("/.well-known/x", "/.well-known/x"),
        ("/api/x..y/.z", "/api/x..y/.z"),
        ("/api/./x", None),
        ("/api/../x", None),
        ("/api/x/..", None),
        ("//api//.//x", None),
    ],
)
def test_canonical_path_is_the_routers_reading(path, canonical):
    assert canonical_path(path) == canonical


class CountingPrefixes(set):
    """A set of prefixes that records the length of each string it is asked about."""

    def __init__(self, prefixes):
        super().__init__(prefixes)
        self.asked: list[int] = []

    def __contains__(self, item) -> bool:
        self.asked.append(len(item))
        return super().__contains__(item)


@pytest.mark.parametrize("path", ["/a" * 32_768, "/api/" + "x" * 65_536, "/api/v1/" + "/".join(["s"] * 30_000)])
def test_finding_a_paths_policy_reads_no_further_than_the_longest_prefix(path):
    """However long the path, the lookups are a handful of strings no longer than the longest declared prefix:
    the work is bounded by the declarations, so a long path costs only its reading (linear)."""
    prefixes = CountingPrefixes({"/api/", "/api/public/", "/api/v1/admin/"})
    longest_prefix(prefixes, path)
    assert prefixes.asked
    assert max(prefixes.asked) <= len("/api/v1/admin/")
    assert len(prefixes.asked) <= len("/api/v1/admin/")
