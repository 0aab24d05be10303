"""What a browser sends and what it does with the answer: the Fetch standard's rules, as pure functions.

A page's script asks fetch() for a request (BrowserRequest). The browser decides whether to ask
first with a preflight, sends what it would send (simulate, through any `Send`: the app's test
client for `flask cors check` and the playground, a deployment over HTTP for `flask cors probe`),
and reads each answer as it would (preflight_check, cors_check): the page reads the response, or
the browser blocks it for one of the reasons below. Nothing here knows about Flask or the policies.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from werkzeug.datastructures import Headers

from .policy import HEADER_NAME

# Fetch standard: what a page may send without the browser asking first with a preflight.
SAFELISTED_METHODS = frozenset({"GET", "HEAD", "POST"})
SAFELISTED_CONTENT_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data", "text/plain"})
_UNSAFE_VALUE_BYTE = re.compile(r'[\x00-\x08\x0a-\x1f"():<>?@\[\\\]{}\x7f]')
# Headers only the browser sets: a script's attempt is ignored, so `check` refuses them.
FORBIDDEN_HEADER = re.compile(
    r"accept-charset|accept-encoding|access-control-request-(?:headers|method)|connection|content-length|cookie2?"
    r"|date|dnt|expect|host|keep-alive|origin|referer|set-cookie|te|trailer|transfer-encoding|upgrade|via"
    r"|(?:proxy|sec)-.*",
    re.IGNORECASE,
)

# Why a browser blocks a response: the reasons `check` reports, each with its own fix.
NO_ALLOW_ORIGIN = "origin"
PREFLIGHT_STATUS = "status"
METHOD_NOT_ALLOWED = "method"
HEADERS_NOT_ALLOWED = "headers"
CREDENTIALS_NOT_ALLOWED = "credentials"
WILDCARD_WITH_CREDENTIALS = "wildcard"
SEVERAL_ALLOW_ORIGINS = "several"


@dataclass(frozen=True)
class BrowserRequest:
    """What a script on a page at `origin` asks fetch() for."""

    origin: str
    method: str = "GET"
    path: str = "/api/health"
    # The headers the script sets, by name as written, with their values.
    headers: dict[str, str] = field(default_factory=dict)
    # fetch()'s credentials: "include": the user's cookies, TLS client certificate and HTTP authentication
    # the browser keeps go along. An Authorization header the script sets itself is one of `headers`.
    credentials: bool = False

    @property
    def unsafe_headers(self) -> list[str]:
        """The header names the preflight must ask for: lowercase and sorted, as browsers send them.

        (Fetch's 1,024-byte cap on safelisted values in all cannot be reached with one value per name.)
        """
        return sorted({name.lower() for name, value in self.headers.items() if not is_safelisted_header(name, value)})

    @property
    def preflighted(self) -> bool:
        return self.method not in SAFELISTED_METHODS or bool(self.unsafe_headers)


@dataclass(frozen=True)
class Blocked:
    """Why a browser blocks the response: one of the reasons above, in words, and the headers at fault."""

    reason: str
    detail: str
    header_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Exchange:
    """One request the browser sends, and the status and headers of the answer."""

    method: str
    path: str
    request_headers: dict[str, str]
    status_code: int
    status: str
    response_headers: Headers


def is_safelisted_header(name: str, value: str) -> bool:
    """A header a page may set without causing a preflight (Fetch's "CORS-safelisted request-header")."""
    name = name.lower()
    if len(value) > 128:
        return False
    if name in ("accept-language", "content-language"):
        return re.fullmatch(r"[0-9A-Za-z *,.;=-]*", value) is not None
    if name == "range":
        return re.fullmatch(r"bytes=[0-9]+-[0-9]*", value) is not None
    if name not in ("accept", "content-type") or _UNSAFE_VALUE_BYTE.search(value):
        return False
    return name == "accept" or value.split(";")[0].strip().lower() in SAFELISTED_CONTENT_TYPES


def cors_check(headers: Headers, request: BrowserRequest) -> Blocked | None:
    """Fetch's CORS check: None when the browser lets the page read a response with these headers."""
    allow_origins = headers.getlist("Access-Control-Allow-Origin")
    if not allow_origins:
        return Blocked(NO_ALLOW_ORIGIN, "no Access-Control-Allow-Origin in the answer")
    if len(allow_origins) > 1:
        values = ", ".join(allow_origins)
        return Blocked(
            SEVERAL_ALLOW_ORIGINS,
            f"{len(allow_origins)} Access-Control-Allow-Origin headers ({values}); browsers accept exactly one",
        )
    allow_origin = allow_origins[0]
    if allow_origin == "*" and request.credentials:
        return Blocked(WILDCARD_WITH_CREDENTIALS, "Access-Control-Allow-Origin is '*', refused with credentials")
    if allow_origin not in ("*", request.origin):
        return Blocked(NO_ALLOW_ORIGIN, f"Access-Control-Allow-Origin is {allow_origin}, not {request.origin}")
    if request.credentials and headers.get("Access-Control-Allow-Credentials") != "true":
        return Blocked(CREDENTIALS_NOT_ALLOWED, "credentials sent, but no Access-Control-Allow-Credentials: true")
    return None


def preflight_check(status_code: int, headers: Headers, request: BrowserRequest) -> Blocked | None:
    """Fetch's CORS-preflight fetch: None when the answer to the OPTIONS lets the request go.

    A `*` in the allowed methods or headers counts only without credentials, and never for Authorization.
    """
    if not 200 <= status_code < 300:
        return Blocked(PREFLIGHT_STATUS, f"the preflight's status is {status_code}, not 2xx")
    blocked = cors_check(headers, request)
    if blocked:
        return blocked
    wildcard_counts = not request.credentials
    methods = _header_list(headers.get("Access-Control-Allow-Methods"))
    if request.method not in {*SAFELISTED_METHODS, *methods} and not (wildcard_counts and "*" in methods):
        return Blocked(METHOD_NOT_ALLOWED, f"{request.method} is not in Access-Control-Allow-Methods")
    allowed = {name.lower() for name in _header_list(headers.get("Access-Control-Allow-Headers"))}
    unsafe = request.unsafe_headers
    missing = tuple(
        name
        for name in request.headers
        if name.lower() in unsafe
        and name.lower() not in allowed
        and (name.lower() == "authorization" or not (wildcard_counts and "*" in allowed))
    )
    if missing:
        return Blocked(HEADERS_NOT_ALLOWED, f"{', '.join(missing)} not in Access-Control-Allow-Headers", missing)
    return None


def _header_list(value: str | None) -> list[str]:
    """The items of a comma-separated header value, such as Access-Control-Allow-Methods."""
    return [item.strip() for item in (value or "").split(",") if item.strip()]


# How `simulate` sends a request: (method, path, headers) -> the exchange. `check` sends to the app
# itself (in_process); `probe` also sends to a deployment over HTTP.
Send = Callable[[str, str, dict[str, str]], Exchange]


def simulate(send: Send, request: BrowserRequest) -> tuple[list[Exchange], Blocked | None]:
    """Send what the browser would, stopping where the browser would, and read each answer as it would."""
    exchanges = []
    if request.preflighted:
        asked = {"Origin": request.origin, "Access-Control-Request-Method": request.method}
        if request.unsafe_headers:
            asked["Access-Control-Request-Headers"] = ",".join(request.unsafe_headers)
        preflight = send("OPTIONS", request.path, asked)
        exchanges.append(preflight)
        blocked = preflight_check(preflight.status_code, preflight.response_headers, request)
        if blocked:
            return exchanges, blocked
    exchanges.append(send(request.method, request.path, {"Origin": request.origin, **request.headers}))
    return exchanges, cors_check(exchanges[-1].response_headers, request)


def request_body(method: str, headers: dict[str, str], json_body: bytes) -> bytes | None:
    """The body a request carries: `json_body` for a JSON request, so that the status is the route's
    answer to a real call; none for a preflight or another content type."""
    return json_body if "json" in headers.get("Content-Type", "") and method != "OPTIONS" else None


def script_headers(items: Iterable[str]) -> dict[str, str]:
    """NAME[:VALUE] items as {name: value}: Content-Type alone means application/json, another name alone
    gets the value x. ValueError for what is not a header name, or names a header only the browser sets."""
    headers = {}
    for item in items:
        name, colon, value = (part.strip() for part in item.partition(":"))
        if not HEADER_NAME.fullmatch(name):
            raise ValueError(f"{name!r} is not a header name")
        if FORBIDDEN_HEADER.fullmatch(name):
            raise ValueError(f"{name} is set by the browser, never by a script (cookies: --credentials)")
        headers[name] = value if colon else ("application/json" if name.lower() == "content-type" else "x")
    return headers


def format_exchange(exchange: Exchange) -> str:
    """The request and the answer's CORS headers, as `curl -v` shows them (> sent, < received)."""
    lines = [f"> {exchange.method} {exchange.path}", *(f"> {n}: {v}" for n, v in exchange.request_headers.items())]
    lines.append(f"< {exchange.status}")
    cors_headers = [(name, value) for name, value in exchange.response_headers if name.startswith("Access-Control-")]
    lines += [f"< {name}: {value}" for name, value in cors_headers] or ["< (no Access-Control-* header)"]
    lines += [f"< Vary: {value}" for value in exchange.response_headers.getlist("Vary")]
    return "\n".join(lines)
