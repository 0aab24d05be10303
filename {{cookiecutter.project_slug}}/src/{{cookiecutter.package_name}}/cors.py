"""Settings in, Flask-CORS out: the CORS policy of every route under /api/.

Flask-CORS decides which origins, methods and headers are allowed and writes the header values.
This module chooses what Flask-CORS is given and where it runs, because its defaults are unsafe
or slow for an API:

- The allowlist goes in as one compiled pattern anchored at both ends (origins.Allowlist). Plain
  strings would be compared one by one on every request, and a string holding any regex character
  would become a regex anchored at the start only.
- Its header builder is called from a small WSGI layer in front of Flask rather than through
  `CORS(app)`, whose after-request step also unquotes the path, matches it against resource regexes
  and formats a debug message on every request. Paths outside /api/ pass straight through.
- That layer answers preflights itself with an empty 204: no request context, no second URL match
  for Flask's automatic OPTIONS, and no before-request hook (authentication) ever sees one.
  Browsers send preflights without credentials by design.
- For other requests Flask-CORS's answer depends on the Origin (and a Private Network Access
  request header) alone, so it is decided once per Origin and remembered: the REMEMBERED_ORIGINS
  most recent, so a stream of made-up Origins costs no more than deciding each. The layer adds the
  headers as the response starts, so every response under /api/ gets them, error responses
  included, and `Vary: Origin` goes on each one, allowed, refused or without an Origin, so no
  cache hands one origin's response to another. Flask-CORS adds it to some allowed responses only.
- A request without an Origin gets no CORS headers (with always_send, Flask-CORS would give it the
  alphabetically first literal allowlist entry as Access-Control-Allow-Origin), and
  `Access-Control-Allow-Private-Network` is sent only when CORS_ALLOW_PRIVATE_NETWORK is true.
- A refused cross-origin request logs a WARNING (RefusalLog), so an operator sees a misconfigured
  front end without a browser, every time, remembered answer or not. Only refusals pay for it.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from flask_cors.core import ACL_RESPONSE_PRIVATE_NETWORK, get_cors_headers, serialize_options
from werkzeug.datastructures import EnvironHeaders

from .logs import Throttle, printable
from .settings import Settings

COVERED_PATH_PREFIX = "/api/"
REFUSALS_KEY = "cors_refusals"
VARY_ORIGIN = ("Vary", "Origin")
# How many Origins' answers to simple requests are kept: the front ends, with room for passing strangers.
REMEMBERED_ORIGINS = 1024
# scheme://, a host name of at most 253 characters, :port.
LONGEST_ORIGIN = len("https://") + 253 + len(":65535")

LOG = logging.getLogger(__name__)

WSGIApp = Callable[[dict, Callable], Iterable[bytes]]
# Flask-CORS's resolved options (its class is private), built once by flask_cors_options.
FlaskCorsOptions = Any


def init_app(app: Flask, settings: Settings) -> None:
    """Apply the policy that `settings` describe to every route under COVERED_PATH_PREFIX."""
    if REFUSALS_KEY in app.extensions:
        raise RuntimeError("CORS is already configured on this app: a second policy would widen the first")
    refusals = app.extensions[REFUSALS_KEY] = RefusalLog(settings.environment)
    app.wsgi_app = _cors_layer(app.wsgi_app, flask_cors_options(settings), refusals)


def flask_cors_options(settings: Settings) -> FlaskCorsOptions:
    """Every option Flask-CORS reads, given explicitly: app.config and FLASK_CORS_* never leak in."""
    allowlist = settings.allowlist
    return serialize_options(
        {
            "origins": "*" if allowlist.any_origin else [allowlist.pattern],
            "send_wildcard": allowlist.any_origin,
            "supports_credentials": settings.allow_credentials,
            "methods": list(settings.allow_methods),
            "allow_headers": list(settings.allow_headers),
            "expose_headers": list(settings.expose_headers) or None,
            "max_age": str(settings.max_age),  # as text: Flask-CORS drops a header whose value is 0
            "allow_private_network": settings.allow_private_network,
            "vary_header": False,
            "always_send": False,
        }
    )


def is_covered(environ: dict) -> bool:
    return environ.get("PATH_INFO", "").startswith(COVERED_PATH_PREFIX)


def cors_headers(options: FlaskCorsOptions, environ: dict) -> tuple[tuple[str, str], ...]:
    """The CORS response headers Flask-CORS decides on for the request in `environ`.

    None at all means the Origin is refused: an allowed one always gets Access-Control-Allow-Origin.
    """
    headers = get_cors_headers(options, EnvironHeaders(environ), environ["REQUEST_METHOD"])
    return tuple(
        (name, str(value))
        for name, value in headers.items()
        if name != ACL_RESPONSE_PRIVATE_NETWORK or options.allow_private_network
    )


@dataclass
class RefusalLog:
    """One WARNING line per refused cross-origin request: method, path, environment, Origin.

    The Origin and the path are the client's to choose, so they are escaped and cut (a CR/LF would
    forge a line), and the lines are throttled: at most one per Origin and 100 in all per minute,
    the next line saying how many were left out.
    """

    environment: str
    throttle: Throttle = field(default_factory=Throttle)

    def record(self, environ: dict) -> None:
        origin = environ["HTTP_ORIGIN"]
        # Browsers also send an Origin to the page's own site (on a POST, say): that is not cross-origin.
        if origin == f"{environ['wsgi.url_scheme']}://{environ.get('HTTP_HOST')}":
            return
        suppressed = self.throttle.admit(origin) if LOG.isEnabledFor(logging.WARNING) else None
        if suppressed is None:
            return
        fields = {
            "method": printable(environ["REQUEST_METHOD"]),
            "path": printable(environ.get("PATH_INFO", "")),
            "origin": printable(origin),
            "environment": self.environment,
            "suppressed": suppressed,
        }
        note = f" ({suppressed} more refusals since the last line were not logged)" if suppressed else ""
        message = 'CORS refused origin "%s": %s %s, APP_ENV=%s%s'
        LOG.warning(message, fields["origin"], fields["method"], fields["path"], self.environment, note, extra=fields)


def _cors_layer(wsgi_app: WSGIApp, options: FlaskCorsOptions, refusals: RefusalLog) -> WSGIApp:
    def simple_request_headers(origin: str, private_network: bool) -> tuple[tuple[str, str], ...]:
        """Flask-CORS's answer to a request that is not a preflight: it depends on the Origin and on
        whether the request asks for private network access, nothing else."""
        environ = {"REQUEST_METHOD": "GET", "HTTP_ORIGIN": origin}
        if private_network:
            environ["HTTP_ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK"] = "true"
        return cors_headers(options, environ)

    remembered_headers = functools.lru_cache(maxsize=REMEMBERED_ORIGINS)(simple_request_headers)

    def cors_layer(environ: dict, start_response: Callable) -> Iterable[bytes]:
        if not is_covered(environ):
            return wsgi_app(environ, start_response)
        origin = environ.get("HTTP_ORIGIN")
        if not origin:  # as Flask-CORS sees it, an empty Origin is none
            headers = ()
        elif environ["REQUEST_METHOD"] == "OPTIONS" and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in environ:
            headers = cors_headers(options, environ)
            if not headers:
                refusals.record(environ)
            start_response("204 No Content", [*headers, VARY_ORIGIN])
            return []
        else:
            # What the answer depends on, and no more, so that odd header values share one entry.
            private_network = options.allow_private_network and (
                environ.get("HTTP_ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK") == "true"
            )
            # Only an Origin a browser could send is remembered: a client's 8 KB header is decided and dropped.
            decide = remembered_headers if len(origin) <= LONGEST_ORIGIN else simple_request_headers
            headers = decide(origin, private_network)
            if not headers:
                refusals.record(environ)

        def start_response_with_cors(status: str, response_headers: list, exc_info: Any = None) -> Callable:
            return start_response(status, [*with_vary_origin(response_headers), *headers], exc_info)

        return wsgi_app(environ, start_response_with_cors)

    return cors_layer


def with_vary_origin(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """`headers` with Origin added to their Vary header, or a `Vary: Origin` when they have none."""
    for index, (name, value) in enumerate(headers):
        if name.lower() == "vary":
            if "origin" in (item.strip().lower() for item in value.split(",")):
                return headers
            return [*headers[:index], (name, f"{value}, Origin"), *headers[index + 1 :]]
    return [*headers, VARY_ORIGIN]
