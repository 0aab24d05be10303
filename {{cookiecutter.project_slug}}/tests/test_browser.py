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
"""

from __future__ import annotations

import http.server
import json
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

import pytest

from {{ cookiecutter.package_name }}.cors.origins import parse_allowlist
from {{ cookiecutter.package_name }}.settings import CREDENTIALS_DEFAULT

from conftest import CHROMIUM, PRODUCTION_ORIGINS, require_chromium, skip_or_fail
from servers import serve_with_gunicorn

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


def self_signed(folder: Path, openssl: str) -> ssl.SSLContext:
    key, certificate = folder / "key.pem", folder / "certificate.pem"
    command = [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=front-end.test"]
    subprocess.run([*command, "-keyout", str(key), "-out", str(certificate)], check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate, key)
    return context


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """Headless Chromium, the front ends' host names resolved to an https page server on loopback."""
    require_chromium()
    openssl = shutil.which("openssl")
    if openssl is None:
        skip_or_fail("openssl is missing: it makes the certificate of the test pages")
    from playwright.sync_api import sync_playwright

    tls = self_signed(tmp_path_factory.mktemp("tls"), openssl)
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
    settings = {"APP_ENV": "production", "CORS_ORIGINS": PRODUCTION_ORIGINS, "CORS_ALLOW_CREDENTIALS": credentials}
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
