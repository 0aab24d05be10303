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
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

import pytest

from {{ cookiecutter.package_name }}.cors.origins import parse_allowlist
from {{ cookiecutter.package_name }}.settings import CREDENTIALS_DEFAULT

from conftest import CHROMIUM, PRODUCTION_ORIGINS, TEST_API, deployment, require_chromium, skip_or_fail
from servers import Gunicorn, serve_with_gunicorn, trusting

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
    "preflighted POST": ("/api/echo", JSON_WITH_AUTHORIZATION),
    "credentialed POST": ("/api/echo", {**JSON_WITH_AUTHORIZATION, "credentials": "include"}),
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
def browser(certificate):
    """Headless Chromium, the front ends' host names resolved to an https page server on loopback."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(*certificate)
    with serve_pages(tls) as port, sync_playwright() as playwright:
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


@pytest.fixture(scope="module", params=[False, True], ids=["credentials-off", "credentials-on"])
def production(request) -> Iterator[Api]:
    """The API in production, allowing its production front ends (PRODUCTION_ORIGINS)."""
    credentials = "true" if request.param else "false"
    settings = deployment(
        {"APP_ENV": "production", "CORS_ORIGINS": PRODUCTION_ORIGINS, "CORS_ALLOW_CREDENTIALS": credentials}
    )
    with serve_with_gunicorn(PROJECT, settings) as server:
        yield Api(server.url, request.param)


@pytest.fixture(scope="module")
def development() -> Iterator[str]:
    """The API in development with its defaults: any local front end, credentials as the template answer set them."""
    with serve_with_gunicorn(PROJECT, {"APP_ENV": "development"}) as server:
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
            "WEB_CONCURRENCY": "1",
            "PYTHONPATH": os.pathsep.join([str(PROJECT / "src"), str(PROJECT / "tests")]),
        }
    )
    with serve_with_gunicorn(PROJECT, settings, "write_target:app", tls=certificate) as server:
        yield server


def server_changes(server: Gunicorn) -> list[str | None]:
    """The changes the server recorded, each with the session cookie that came along."""
    request = f"{server.url}{TEST_API}/changes"
    with urllib.request.urlopen(request, timeout=5, context=trusting(server.certificate)) as response:  # noqa: S310
        return json.load(response)["changes"]


def write_from(browser, origin: str, api: str, script: str) -> int:
    """Have a page at `origin`, whose user has a session cookie for the API, run `script` to POST to
    TEST_API/changes; the status the API answered."""
    context = browser.new_context(ignore_https_errors=True)
    try:
        # SameSite=None: the browser sends it from any site, as for a front end on another site.
        cookie = {"name": "session", "value": "ada", "url": api, "sameSite": "None", "secure": True}
        context.add_cookies([cookie])
        page = context.new_page()
        page.goto(f"{origin}/")
        url = f"{api}{TEST_API}/changes"
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
