"""`python3 tasks.py playground`: a browser allowing and refusing calls to the API, side by side.

Development only. One process serves, on loopback, until Ctrl-C:

- the API, the project's own app, at http://127.0.0.1:5000, with CORS_ORIGINS set to the page's
  allowed origin; every other setting is the project's own (.env, then the environment). It gains one
  route, the page's JSON POST (ECHO_ROUTE), so that the page changes nothing in the API's data;
- the page at http://localhost:5001, the origin that policy allows, and the same page at
  http://localhost:5002, which it refuses: the same host on another port is another origin.

The page (playground_page/: plain HTML, CSS and JavaScript, nothing to build or download) calls
the API with the browser's own fetch() and shows what the browser let it read. Scripts never see
preflights, nor the headers of a blocked answer, so next to that real outcome the page shows the
server's account: the page's server asks the API app, through its test client, what a browser at
the page's origin gets, with the reasoning of `flask cors check` (advice.judge): the preflight and the
request as the app answered them, the verdict, and the fix.

The page's server is a second Flask app, not part of the API, and refuses to exist outside development.
"""

from __future__ import annotations

import argparse
import socket
import sys
import threading
from contextlib import ExitStack
from dataclasses import asdict, dataclass

from flask import Flask, jsonify, request
from werkzeug.exceptions import BadRequest
from werkzeug.serving import WSGIRequestHandler, make_server

from .. import create_app
from ..errors import register_error_handlers
from ..settings import SettingsError, load_settings
from .advice import judge
from .browser import BrowserRequest, format_exchange, script_headers
from .policy import METHODS
from .report import policy_report

API_HOST = "127.0.0.1"
# The pages' host name; the servers listen on API_HOST, where localhost resolves.
PAGE_HOST = "localhost"


# Where the page's JSON POST goes: a route the playground adds, under the default policy, to the API it serves.
# It answers the JSON sent and changes nothing, whatever the team's own routes do with a POST.
ECHO_ROUTE = "__playground__/echo"


@dataclass(frozen=True)
class Origins:
    """Where the playground serves: the API, and the page at the origin the policy allows and at one it refuses."""

    api: str
    allowed: str
    refused: str


def echo_path(api: Flask) -> str:
    """The path of the playground's echo route in `api`: ECHO_ROUTE under the default policy's prefix."""
    return api.extensions["settings"].policy().prefix + ECHO_ROUTE


def add_echo_route(api: Flask) -> Flask:
    """`api`, with POST echo_path(api), which answers the JSON body sent."""
    api.add_url_rule(
        echo_path(api), "playground_echo", lambda: jsonify(request.get_json(silent=True)), methods=["POST"]
    )
    return api


def page_app(api: Flask, origins: Origins) -> Flask:
    """The page's server: the page, the policy in force, and the API's own account of a request."""
    environment = api.extensions["settings"].environment
    if environment != "development":
        raise SettingsError(
            f"APP_ENV={environment}: the playground runs in development only (APP_ENV=development in .env)"
        )
    page = Flask(__name__, static_folder="playground_page", static_url_path="")
    register_error_handlers(page)

    @page.get("/")
    def index():
        return page.send_static_file("index.html")

    @page.get("/setup")
    def setup():
        """What the page shows before any request: the origins, the policies in force with their sources, and
        where its JSON POST goes."""
        policies = policy_report(api)["policies"]
        return jsonify(origins=asdict(origins), methods=METHODS, policies=policies, json_post=echo_path(api))

    @page.post("/explain")
    def explain():
        """What a browser at this page's origin gets for the request described by the JSON body."""
        asked = request.get_json(silent=True)
        if not isinstance(asked, dict):
            raise BadRequest('Send a JSON object such as {"method": "GET", "path": "/api/health"}.')
        browser_request = _browser_request(f"{request.scheme}://{request.host}", asked)
        verdict = judge(api, browser_request)
        preflight_count = 1 if browser_request.preflighted else 0
        return jsonify(
            request=asdict(browser_request) | {"preflighted": browser_request.preflighted},
            policy=verdict.policy and {"name": verdict.policy.name, "prefix": verdict.policy.prefix},
            exchanges=[
                {"kind": "preflight" if index < preflight_count else "request", "text": format_exchange(exchange)}
                for index, exchange in enumerate(verdict.exchanges)
            ],
            verdict="blocked" if verdict.blocked else "allowed",
            conclusion=verdict.conclusion(),
        )

    return page


def _browser_request(origin: str, asked: dict) -> BrowserRequest:
    """The request the page describes ({method, path, headers: ["Name: value"], credentials}), or a 400."""
    method, path, headers = asked.get("method", "GET"), asked.get("path", "/api/health"), asked.get("headers", [])
    if method not in METHODS:
        raise BadRequest(f"method: {method!r} is not one of {', '.join(METHODS)}.")
    if not (isinstance(path, str) and path.startswith("/")):
        raise BadRequest(f"path: {path!r} does not start with /.")
    if not (isinstance(headers, list) and all(isinstance(header, str) for header in headers)):
        raise BadRequest('headers: a list of "Name: value" strings.')
    try:
        parsed = script_headers(header for header in headers if header.strip())
    except ValueError as error:
        raise BadRequest(f"headers: {error}.") from None
    return BrowserRequest(origin, method, path, parsed, credentials=asked.get("credentials") is True)


class QuietRequestHandler(WSGIRequestHandler):
    """The page's own requests, left out of the log, where the API's requests and refusals are what matter."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


def port_number(text: str) -> int:
    port = int(text)
    if not 0 <= port <= 65533:
        raise argparse.ArgumentTypeError(f"{port} is not a port from 0 to 65533 (the pages take the next two)")
    return port


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python3 tasks.py playground",
        description="Serve the API and a page where a browser calls it, from an allowed and a refused origin.",
    )
    parser.add_argument(
        "--port", type=port_number, default=5000, help="the API's port; the pages take the next two (0: any free ports)"
    )
    port = parser.parse_args(argv).port
    with ExitStack() as sockets:
        try:
            listening = [
                sockets.enter_context(socket.create_server((API_HOST, port + offset if port else 0)))
                for offset in range(3)
            ]
        except OSError as error:
            print(f"Error: ports {port} to {port + 2}: {error.strerror}; choose others with --port", file=sys.stderr)
            return 2
        return serve(listening)


def serve(listening: list[socket.socket]) -> int:
    """Serve the API on the first socket and the page on the other two, until Ctrl-C."""
    api_port, page_port, refused_port = (sock.getsockname()[1] for sock in listening)
    origins = Origins(
        api=f"http://{API_HOST}:{api_port}",
        allowed=f"http://{PAGE_HOST}:{page_port}",
        refused=f"http://{PAGE_HOST}:{refused_port}",
    )
    try:
        api = add_echo_route(create_app(load_settings(overrides={"CORS_ORIGINS": origins.allowed})))
        page = page_app(api, origins)
    except SettingsError as error:
        print(
            f"Error: {error.format_message()}\n(The playground runs with APP_ENV=development only, and sets "
            f"CORS_ORIGINS={origins.allowed}, its page's origin.)",
            file=sys.stderr,
        )
        return 2
    servers = [
        make_server(API_HOST, sock.getsockname()[1], app, threaded=True, request_handler=handler, fd=sock.fileno())
        for sock, app, handler in zip(
            listening, (api, page, page), (WSGIRequestHandler, QuietRequestHandler, QuietRequestHandler), strict=True
        )
    ]
    for server in servers[1:]:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    print(
        "CORS playground, for development only (Ctrl-C stops it)\n"
        f"  the API                          {origins.api}   with CORS_ORIGINS={origins.allowed}\n"
        f"  the page, at an allowed origin   {origins.allowed}/\n"
        f"  the page, at a refused origin    {origins.refused}/",
        flush=True,
    )
    servers[0].serve_forever()  # werkzeug's server returns on Ctrl-C; the pages' threads end with the process
    return 0


if __name__ == "__main__":
    sys.exit(main())
