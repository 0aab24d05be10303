"""A real Chromium against the real gunicorn: the CORS policy as a user's browser enforces it.

Opt-in, `pytest -m browser`. It needs the playwright package (the `browser` extra; no
`playwright install`: it drives the Chromium at CHROMIUM_PATH, default /usr/bin/chromium) and
openssl. Without them these tests are skipped with the reason, or fail when REQUIRE_BROWSER=1 (CI).

gunicorn serves the API on 127.0.0.1, configured by gunicorn.conf.py as in production. Chromium
opens pages at the front ends' own origins and calls the API with fetch(); each test asserts the
browser's verdict: the promise resolves and the body is readable, or it rejects with a TypeError.
The setup keeps that verdict the one a user's browser reaches:

- The pages come from a small https server on loopback with a throwaway self-signed certificate
  (accepted in the tests' browser contexts only; the page is still a secure context), and
  `--host-resolver-rules` sends the front ends' host names there. Page and API are then in the same
  address space, as a public front end and a public API are. A page fulfilled by Playwright
  (`page.route`) would not be: Chromium counts it as public and refuses its calls to loopback under
  Local Network Access, whatever the CORS headers; and while a route is active, Playwright answers
  every preflight itself, permissively, so gunicorn would never see one.
- The API is called at http://127.0.0.1:<port>. Loopback is potentially trustworthy, so an https
  page may call it without mixed-content blocking, as it calls an https API in production.
- Every other host name is unresolvable: the browser talks to loopback only.

Cross-origin writes: pages submit a real HTML form and a `no-cors` fetch (neither preflighted) to
tests/write_target.py, the API plus a route that changes state, served over https as in production:
from an https page to an http API, Chromium sends a form's Origin as `null`.
"""

from __future__ import annotations

import http.server
import json
import os
import shutil
import ssl
import subprocess
{%- if cookiecutter.auth != "none" %}
import sys
{%- endif %}
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

import pytest

{% if cookiecutter.auth != "none" -%}
from {{ cookiecutter.package_name }}.cors.caveats import site
{% endif -%}
from {{ cookiecutter.package_name }}.cors.origins import parse_allowlist
from {{ cookiecutter.package_name }}.settings import CREDENTIALS_DEFAULT

from conftest import (
    CHROMIUM,
{%- if cookiecutter.auth != "none" %}
    EMAIL,
{%- endif %}
    JSON_ROUTE,
{%- if cookiecutter.auth != "none" %}
    PASSWORD,
{%- endif %}
    PRODUCTION_ORIGINS,
    TEST_API,
    credentials_off,
    deployment,
    require_chromium,
    skip_or_fail,
)
from servers import Gunicorn, serve_with_gunicorn, trusting
from write_target import TEST_ORIGINS, own_prefix, under_gunicorn

pytestmark = pytest.mark.browser

PROJECT = Path(__file__).resolve().parent.parent

_allowlist = parse_allowlist(PRODUCTION_ORIGINS, environment="production")
# Every listed origin; a wildcard entry is visited at one of its subdomains.
FRONT_ENDS = [*sorted(_allowlist.exact), *(entry.replace("*", "pr-1") for entry in _allowlist.wildcards)]
STRANGER = "https://evil.example.net"
CREDENTIALS_BY_DEFAULT = CREDENTIALS_DEFAULT == "true"

PAYLOAD = {"order": 42}
# JSON and Authorization both make a request one that the browser preflights.
JSON_WITH_AUTHORIZATION = {
    "method": "POST",
    "headers": {"Content-Type": "application/json", "Authorization": "Bearer test-token"},
    "body": json.dumps(PAYLOAD),
}
# Each request a page makes: the API path and fetch()'s options.
REQUESTS = {
    "simple GET": ("/api/health", {}),
    "preflighted POST": (JSON_ROUTE, JSON_WITH_AUTHORIZATION),
    "credentialed POST": (JSON_ROUTE, {**JSON_WITH_AUTHORIZATION, "credentials": "include"}),
}
BLOCKED = "TypeError"
ALL_BLOCKED = dict.fromkeys(REQUESTS, BLOCKED)

# Run in the page: the parsed body when the browser lets the script read the response, otherwise
# the name of the error fetch() rejected with.
FETCH = """async ([url, options]) => {
    try {
        return await (await fetch(url, options)).json();
    } catch (error) {
        return error.name;
    }
}"""


def readable(*, credentials: bool) -> dict[str, object]:
    """What an allowed page reads: every body, the credentialed one only when credentials are on."""
    return {
        "simple GET": {"status": "ok"},
        "preflighted POST": PAYLOAD,
        "credentialed POST": PAYLOAD if credentials else BLOCKED,
    }


def verdicts(browser, origin: str, api: str) -> dict[str, object]:
    """Open a page at `origin` and make each of REQUESTS to `api`, in a fresh browser context: no
    preflight answer or cookie is carried over from another test."""
    context = browser.new_context(ignore_https_errors=True)
    try:
        page = context.new_page()
        page.goto(f"{origin}/")
        return {name: page.evaluate(FETCH, [api + path, options]) for name, (path, options) in REQUESTS.items()}
    finally:
        context.close()


class FrontEnd(http.server.BaseHTTPRequestHandler):
    """An empty HTML page at every path: the document whose origin the calls come from."""

    def do_GET(self) -> None:
        body = b"<!doctype html><title>Front end</title>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        """Keep the test output quiet."""


@contextmanager
def serve_pages(tls: ssl.SSLContext | None = None) -> Iterator[int]:
    """Serve FrontEnd on a free loopback port, over https when `tls` is given; yield the port."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FrontEnd)
    if tls:
        # The handshake then happens in each connection's thread: an idle one cannot stall the others.
        server.socket = tls.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    """A throwaway self-signed certificate and its key: the test pages' and the API's https."""
    openssl = shutil.which("openssl")
    if openssl is None:
        skip_or_fail("openssl is missing: it makes the certificate of the test pages")
    folder = tmp_path_factory.mktemp("tls")
    key, certificate = folder / "key.pem", folder / "certificate.pem"
    command = [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=front-end.test"]
    subprocess.run([*command, "-keyout", str(key), "-out", str(certificate)], check=True, capture_output=True)
    return certificate, key


@pytest.fixture(scope="module")
def playwright():
    """The one Playwright driver of the module's browsers (it runs an event loop: a second at once cannot)."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(certificate, playwright):
    """Headless Chromium, the front ends' host names resolved to an https page server on loopback."""
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(*certificate)
    with serve_pages(tls) as port:
        hosts = sorted({urlsplit(origin).hostname for origin in [*FRONT_ENDS, STRANGER]})
        rules = [f"MAP {host} 127.0.0.1:{port}" for host in hosts]
        rules += ["MAP * ~NOTFOUND", "EXCLUDE localhost", "EXCLUDE 127.0.0.1"]
        # Playwright itself adds --headless, --no-sandbox, a fresh profile and no background networking.
        args = [f"--host-resolver-rules={', '.join(rules)}"]
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
        yield chromium
        chromium.close()


class Api(NamedTuple):
    url: str
    credentials: bool


@pytest.fixture(
    scope="module",
    params=[pytest.param(False, marks=credentials_off), True],
    ids=["credentials-off", "credentials-on"],
)
def production(request) -> Iterator[Api]:
    """The API in production, allowing its production front ends (PRODUCTION_ORIGINS), with the tests' own
    routes (write_target.py)."""
    credentials = "true" if request.param else "false"
    settings = deployment(
        {"APP_ENV": "production", "CORS_ORIGINS": PRODUCTION_ORIGINS, "CORS_ALLOW_CREDENTIALS": credentials}
    )
    with under_gunicorn(PROJECT, {**settings, TEST_ORIGINS: STRANGER}) as server:
        yield Api(server.url, request.param)


@pytest.fixture(scope="module")
def development() -> Iterator[str]:
    """The API in development with its defaults: any local front end, credentials as the template answer set them."""
    with under_gunicorn(PROJECT, {"APP_ENV": "development"}) as server:
        yield server.url


@pytest.fixture(scope="module")
def local_front_end() -> Iterator[str]:
    """A front end's development server, such as http://localhost:5173."""
    with serve_pages() as port:
        yield f"http://localhost:{port}"


@pytest.mark.parametrize("front_end", FRONT_ENDS)
def test_production_front_end_reads_the_api(browser, production, front_end):
    assert verdicts(browser, front_end, production.url) == readable(credentials=production.credentials)


def test_production_refuses_every_other_origin(browser, production):
    assert verdicts(browser, STRANGER, production.url) == ALL_BLOCKED


def test_development_local_front_end_reads_the_api(browser, development, local_front_end):
    assert verdicts(browser, local_front_end, development) == readable(credentials=CREDENTIALS_BY_DEFAULT)


# A page submits a form, and makes a no-cors fetch (no preflight, an opaque answer), with the user's cookies.
SUBMIT_FORM = """(url) => {
    const form = Object.assign(document.createElement("form"), {method: "POST", action: url});
    form.append(Object.assign(document.createElement("input"), {name: "email", value: "attacker@evil.example.net"}));
    document.body.append(form);
    form.submit();
}"""
NO_CORS_FETCH = """(url) => {
    fetch(url, {method: "POST", mode: "no-cors", credentials: "include", body: "email=attacker@evil.example.net"});
}"""
WRITES = {"form": SUBMIT_FORM, "no-cors fetch": NO_CORS_FETCH}
# The session cookie each one carries from another site: Chromium blocks third-party cookies on a page's own
# requests (fetch) but not on a top-level navigation (the form).
COOKIE_SENT = {"form": "ada", "no-cors fetch": None}


@pytest.fixture(scope="module")
def production_with_state(certificate) -> Iterator[Gunicorn]:
    """tests/write_target.py in production with credentials on, over https as in production (a form posted
    from an https page to an http API carries `Origin: null`): the API and one route that changes state."""
    settings = deployment(
        {
            "APP_ENV": "production",
            "CORS_ORIGINS": PRODUCTION_ORIGINS,
            "CORS_ALLOW_CREDENTIALS": "true",
            # The tests' own policy (write_target.py) trusts STRANGER alone.
            TEST_ORIGINS: STRANGER,
            "WEB_CONCURRENCY": "1",
        }
    )
    with under_gunicorn(PROJECT, settings, tls=certificate) as server:
        yield server


def server_changes(server: Gunicorn) -> list[str | None]:
    """The changes the server recorded, each with the session cookie that came along."""
    request = f"{server.url}{TEST_API}/changes"
    with urllib.request.urlopen(request, timeout=5, context=trusting(server.certificate)) as response:  # noqa: S310
        return json.load(response)["changes"]


def write_from(browser, origin: str, api: str, script: str, path: str = f"{TEST_API}/changes") -> int:
    """Have a page at `origin`, whose user has a session cookie for the API, run `script` to POST to
    `path`; the status the API answered."""
    context = browser.new_context(ignore_https_errors=True)
    try:
        # SameSite=None: the browser sends it from any site, as for a front end on another site.
        cookie = {"name": "session", "value": "ada", "url": api, "sameSite": "None", "secure": True}
        context.add_cookies([cookie])
        page = context.new_page()
        page.goto(f"{origin}/")
        url = f"{api}{path}"
        with page.expect_response(lambda response: response.url == url and response.request.method == "POST") as sent:
            page.evaluate(script, url)
        return sent.value.status
    finally:
        context.close()


@pytest.mark.parametrize("write", WRITES)
def test_a_listed_front_end_changes_state_with_the_user_s_cookies(browser, production_with_state, write):
    before = server_changes(production_with_state)
    assert write_from(browser, FRONT_ENDS[0], production_with_state.url, WRITES[write]) == 200
    assert server_changes(production_with_state) == [*before, COOKIE_SENT[write]]


@pytest.mark.parametrize("write", WRITES)
def test_a_refused_origin_cannot_change_anything_with_the_user_s_cookies(browser, production_with_state, write):
    before = server_changes(production_with_state)
    assert write_from(browser, STRANGER, production_with_state.url, WRITES[write]) == 403
    assert server_changes(production_with_state) == before


def test_a_path_the_browser_sends_with_a_double_slash_is_judged_by_the_policy_of_its_route(
    browser, production_with_state
):
    """Chromium keeps "//" in a path; Werkzeug's router dispatches "//api/..." to the route of "/api/...". A
    front end of the default policy cannot write there, the front end of the route's own policy can."""
    route = f"{own_prefix()}change"
    before = server_changes(production_with_state)
    front_end = write_from(browser, FRONT_ENDS[0], production_with_state.url, NO_CORS_FETCH, f"/{route}")
    assert front_end == 403
    assert server_changes(production_with_state) == before
    assert write_from(browser, STRANGER, production_with_state.url, NO_CORS_FETCH, f"/{route}") == 200
    assert server_changes(production_with_state) == [*before, f"POST {route}"]


# A front end on the API's own site, and one on another site, both allowed with credentials.
COOKIE_API = "https://api.example.com"
COOKIE_FRONT_ENDS = {"same site": "https://app.example.com", "another site": "https://shop.example.org"}
SIGN_IN_AND_ASK = """async (url) => {
    const options = {credentials: "include"};
    const post = {...options, method: "POST", headers: {"Content-Type": "application/json"}, body: "{}"};
    const signedIn = (await (await fetch(url, post)).json()).user;
    return [signedIn, (await (await fetch(url, options)).json()).user];
}"""


@pytest.fixture(scope="module")
def cookie_api(certificate) -> Iterator[Gunicorn]:
    """tests/session_target.py at https://api.example.com, in production, credentials on for both front ends,
    and the session cookie SameSite=None: only the third-party cookie rule can keep it from a page. One worker:
    its start-up (and its warning) is over once it answers, and every sign-in reaches the same process."""
    settings = deployment(
        {
            "APP_ENV": "production",
            "CORS_ORIGINS": ", ".join(COOKIE_FRONT_ENDS.values()),
            "CORS_ALLOW_CREDENTIALS": "true",
            "SESSION_COOKIE_SAMESITE": "None",
            "API_ORIGIN": COOKIE_API,
            "WEB_CONCURRENCY": "1",
            "PYTHONPATH": os.pathsep.join([str(PROJECT / "src"), str(PROJECT / "tests")]),
        }
    )
    with serve_with_gunicorn(PROJECT, settings, "session_target:app", tls=certificate) as server:
        yield server


# Chromium's cookie setting (the profile's cookie_controls_mode): third-party cookies allowed, as Chrome has them
# by default, or blocked, as Safari has them for everyone and a Chrome user may choose.
THIRD_PARTY_COOKIES = {"allowed": 0, "blocked": 1}


@pytest.fixture(scope="module", params=THIRD_PARTY_COOKIES)
def cookie_browser(request, certificate, cookie_api, playwright, tmp_path_factory):
    """Headless Chromium with a profile whose third-party cookies are allowed or blocked (the param): the front
    ends' host names resolve to the page server, the API's to gunicorn. Yields (the param, the context)."""
    profile = tmp_path_factory.mktemp("profile")
    (profile / "Default").mkdir()
    preferences = {"profile": {"cookie_controls_mode": THIRD_PARTY_COOKIES[request.param]}}
    (profile / "Default" / "Preferences").write_text(json.dumps(preferences))
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(*certificate)
    with serve_pages(tls) as port:
        rules = [f"MAP {urlsplit(origin).hostname} 127.0.0.1:{port}" for origin in COOKIE_FRONT_ENDS.values()]
        rules += [f"MAP {urlsplit(COOKIE_API).hostname} {urlsplit(cookie_api.url).netloc}", "MAP * ~NOTFOUND"]
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            args=[f"--host-resolver-rules={', '.join(rules)}"],
            ignore_https_errors=True,
        )
        yield request.param, context
        context.close()


def sign_in_and_ask(context, origin: str) -> list[str | None]:
    """Sign in from a page at `origin` with a credentialed fetch, then ask the API whose session the next
    credentialed fetch carries: [the user the sign-in answered, the user the API then sees]."""
    page = context.new_page()
    try:
        page.goto(f"{origin}/")
        return page.evaluate(SIGN_IN_AND_ASK, f"{COOKIE_API}{TEST_API}/session")
    finally:
        page.close()


def test_the_third_party_cookie_warning_names_the_front_end_browsers_keep_the_cookie_from(cookie_browser, cookie_api):
    """Start-up warns about the front end on another site, and only about it. Where third-party cookies are
    blocked, its sign-in leaves no cookie the next call carries, as the warning says; where they are allowed
    it works; the same-site front end stays signed in either way."""
    warnings = [line for line in cookie_api.log().splitlines() if "is on another site than the API" in line]
    assert len(warnings) == cookie_api.log().count("Booting worker") == 1
    assert all(COOKIE_FRONT_ENDS["another site"] in line for line in warnings)
    assert not any(COOKIE_FRONT_ENDS["same site"] + " " in line for line in warnings)
    third_party_cookies, context = cookie_browser
    context.clear_cookies()
    assert sign_in_and_ask(context, COOKIE_FRONT_ENDS["same site"]) == ["ada", "ada"]
    # The API signed the user in and the page read its answer (CORS allowed it); the cookie came back or not.
    expected = "ada" if third_party_cookies == "allowed" else None
    assert sign_in_and_ask(context, COOKIE_FRONT_ENDS["another site"]) == ["ada", expected]
{%- if cookiecutter.auth != "none" %}


# Signing in from a page, {% if cookiecutter.auth == "session" %}with the session cookie{% else %}with a token in the Authorization header{% endif %}: the API at api.<the first front end's site>, so
# that the front end is on its site (a cookie of the API's is then not a third-party one).
SIGN_IN_API = "https://api." + site(FRONT_ENDS[0]).partition("://")[2]
SIGN_IN = """async ([api, email, password, token]) => {
    const credentials = {{ '"include"' if cookiecutter.auth == "session" else '"omit"' }};
    try {
        if (!token) {
            const login = await fetch(api + "/api/auth/login", {
                method: "POST", credentials, headers: {"Content-Type": "application/json"},
                body: JSON.stringify({email, password}),
            });
            token = (await login.json()).access_token;
        }
        const headers = token ? {"Authorization": "Bearer " + token} : {};
        return (await (await fetch(api + "/api/auth/me", {credentials, headers})).json()).email;
    } catch (error) {
        return error.name;
    }
}"""


@pytest.fixture(scope="module")
def sign_in_api(certificate, postgres_url) -> Iterator[Gunicorn]:
    """The API in production on PostgreSQL, migrated and with one account, made by the commands a deploy runs."""
    settings = deployment({"APP_ENV": "production", "CORS_ORIGINS": PRODUCTION_ORIGINS, "DATABASE_URL": postgres_url})
    environ = {**os.environ, **settings, "PYTHONPATH": str(PROJECT / "src")}
    flask = [sys.executable, "-m", "flask", "--app", "{{ cookiecutter.package_name }}"]
    for command, typed in ((["db", "upgrade", "head"], ""), (["users", "create", EMAIL], f"{PASSWORD}\n{PASSWORD}\n")):
        done = subprocess.run([*flask, *command], input=typed, env=environ, cwd=PROJECT, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
    try:
        with serve_with_gunicorn(PROJECT, settings, tls=certificate) as server:
            yield server
    finally:
        subprocess.run([*flask, "db", "downgrade", "base"], env=environ, cwd=PROJECT, capture_output=True)


@pytest.fixture(scope="module")
def sign_in_browser(certificate, playwright, sign_in_api):
    """Headless Chromium: the front ends' host names resolve to the page server, the API's to gunicorn."""
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(*certificate)
    with serve_pages(tls) as port:
        rules = [f"MAP {urlsplit(origin).hostname} 127.0.0.1:{port}" for origin in [*FRONT_ENDS, STRANGER]]
        rules += [f"MAP {urlsplit(SIGN_IN_API).hostname} {urlsplit(sign_in_api.url).netloc}", "MAP * ~NOTFOUND"]
        args = [f"--host-resolver-rules={', '.join(rules)}"]
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
        yield chromium
        chromium.close()


def sign_in_from(browser, origin: str, token: str = "") -> str:
    """What a page at `origin` reads of /api/auth/me after signing in (or with `token`): the email, or the error."""
    context = browser.new_context(ignore_https_errors=True)
    try:
        page = context.new_page()
        page.goto(f"{origin}/")
        return page.evaluate(SIGN_IN, [SIGN_IN_API, EMAIL, PASSWORD, token])
    finally:
        context.close()


def test_a_listed_front_end_signs_in_and_calls_a_route_that_needs_a_user(sign_in_browser):
    assert sign_in_from(sign_in_browser, FRONT_ENDS[0]) == EMAIL


def test_a_refused_origin_can_neither_sign_in_nor_call_as_the_user(sign_in_browser, sign_in_api):
    assert sign_in_from(sign_in_browser, STRANGER) == BLOCKED
{%- if cookiecutter.auth == "token" %}
    # Even with a valid token in hand, its calls are refused at the preflight for Authorization.
    login = urllib.request.Request(  # noqa: S310 (loopback)
        f"{sign_in_api.url}/api/auth/login",
        json.dumps({"email": EMAIL, "password": PASSWORD}).encode(),
        {"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(login, timeout=5, context=trusting(sign_in_api.certificate)) as response:  # noqa: S310 (loopback)
        token = json.load(response)["access_token"]
    assert sign_in_from(sign_in_browser, STRANGER, token) == BLOCKED
    assert sign_in_from(sign_in_browser, FRONT_ENDS[0], token) == EMAIL
{%- endif %}
{%- endif %}
