"""`flask cors show`, `check` and `probe`: the CORS policy in force, and what a browser makes of it.

`check` does not re-implement the policy. It sends the requests a browser would send to the app
itself, through Flask's test client (the same code that answers in production), and reads the
answers as a browser does, following the Fetch standard: that browser side is all this module
decides. The decisions are pure functions (the tests call them directly); the commands print.

`check` exits with 0 when a browser would let the page read the response, 1 when it would block
it (or when the write it sends would be refused as a cross-origin write), and 2 for a usage or
configuration error, so a deploy pipeline can run it as a smoke test.
`probe` sends the same browser requests to a deployment as well, and compares (probe.py).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from werkzeug.datastructures import Headers

from .. import logs
from . import layer, writes
from .origins import OriginError, normalise_origin, parse_allowlist
from .policy import HEADER_NAME, METHODS, CorsPolicy, policy_for

if TYPE_CHECKING:  # Flask imports its test client when `check` asks for one: no cost to every start-up.
    from flask.testing import FlaskClient

cors_commands = AppGroup("cors", help="The CORS policy in force, and what a browser at an origin would get.")

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


@dataclass(frozen=True)
class Verdict:
    """What a browser makes of the app's answers to a request, and, when it blocks, why and the fix."""

    request: BrowserRequest
    policy: CorsPolicy | None
    exchanges: list[Exchange]
    # None: the page reads the response.
    blocked: Blocked | None = None
    fix: str = ""
    # For a write the browser sends: whether the cross-origin write protection refuses it, and why (write_verdict).
    write_refused: bool = False
    write_note: str = ""

    def conclusion(self) -> list[str]:
        """What `check` says after the exchanges: allowed, or blocked with the reason and the fix."""
        origin, method, path = self.request.origin, self.request.method, self.request.path
        if self.blocked is None:
            # With the status: CORS lets the page read an error (a 405 from the route, say) just the same.
            status = self.exchanges[-1].status
            lines = [f"Allowed by CORS: a page at {origin} can read the {status} answer to {method} {path}."]
        else:
            lines = [f"Blocked: {self.blocked.detail}."]
            if len(self.exchanges) == 1 and self.request.preflighted:
                lines.append(f"The browser stops at the preflight: it never sends the {method}.")
            lines.append(self.fix)
        return [*lines, self.write_note] if self.write_note else lines


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


def diagnose(policy: CorsPolicy, request: BrowserRequest, blocked: Blocked) -> Blocked:
    """The block to report: the browser's reason, unless the setting at fault is another one.

    Flask-CORS answers a preflight for a method outside the allowed methods without
    Access-Control-Allow-Headers (and Max-Age). For GET, HEAD or POST the browser then blames the
    headers, yet listing them changes nothing: the method is what to add.
    """
    if blocked.reason == HEADERS_NOT_ALLOWED and request.method not in policy.allow_methods:
        names = ", ".join(blocked.header_names)
        return Blocked(
            METHOD_NOT_ALLOWED,
            f"{request.method} is not in {policy.variable('ALLOW_METHODS')}, so the preflight answer leaves out "
            f"Access-Control-Allow-Headers and the browser refuses {names}",
        )
    return blocked


def suggest_fix(policy: CorsPolicy | None, environment: str, request: BrowserRequest, blocked: Blocked) -> str:
    """The setting to change, with its whole new value, or why the request must stay blocked.

    Never the configuration already in force: when the policy allows what the browser refused, the
    answer was changed on its way, and that is what the fix names.
    """
    if policy is None:
        return (
            f"Fix: no policy covers {request.path}: serve the route under a policy's prefix, or declare a Policy "
            "for it in policies.py."
        )
    if blocked.reason == SEVERAL_ALLOW_ORIGINS:
        return (
            "Fix: something besides the policy adds Access-Control-Allow-Origin (a proxy, or code that sets it "
            "itself): remove it there; the policy's own header is enough."
        )
    if blocked.reason == NO_ALLOW_ORIGIN and policy.allowlist.allows(request.origin):
        return (
            f"Not the policy: {policy.name!r} allows {request.origin}, but the answer carries no matching "
            "Access-Control-Allow-Origin; see the answer's status and body above."
        )
    if blocked.reason == NO_ALLOW_ORIGIN:
        return _origin_fix(policy, environment, request.origin)
    if blocked.reason == PREFLIGHT_STATUS:
        return "Fix: a preflight must get a 2xx answer: see what answered it above."
    if policy.public and blocked.reason == METHOD_NOT_ALLOWED and request.method not in writes.SAFE_METHODS:
        return (
            f"Stays refused: {policy.name!r} is public, and read-only: every origin may read it, none may write "
            "to it (a cross-origin write gets a 403). Serve the route under a policy that lists its origins."
        )
    if policy.public and blocked.reason in (WILDCARD_WITH_CREDENTIALS, CREDENTIALS_NOT_ALLOWED):
        return (
            f"Stays refused with credentials: {policy.name!r} is public, and never allows them. Call it without "
            "credentials, or serve the route under a policy that lists its origins."
        )
    if blocked.reason == WILDCARD_WITH_CREDENTIALS:
        origins, credentials = policy.variable("ORIGINS"), policy.variable("ALLOW_CREDENTIALS")
        return f'Fix: list the origin instead of "*": {origins}="{request.origin}" {credentials}=true'
    if blocked.reason == CREDENTIALS_NOT_ALLOWED:
        return (
            f"Fix: {policy.variable('ALLOW_CREDENTIALS')}=true (then a page at any origin {policy.name!r} allows can "
            "call it with the user's cookies, TLS client certificate or browser-kept HTTP authentication)"
        )
    if blocked.reason == METHOD_NOT_ALLOWED:
        return f"Fix: {_assignment(policy.variable('ALLOW_METHODS'), [*policy.allow_methods, request.method])}"
    return f"Fix: {_assignment(policy.variable('ALLOW_HEADERS'), [*policy.allow_headers, *blocked.header_names])}"


def _origin_fix(policy: CorsPolicy, environment: str, origin: str) -> str:
    """The allowlist that adds `origin`, or why it stays refused: start-up would refuse that value."""
    allowlist = policy.allowlist
    listed = [*sorted(allowlist.exact), *allowlist.wildcards]
    variable = policy.variable("ORIGINS")
    try:  # start-up's own parsing decides
        parse_allowlist(", ".join([*listed, origin]), environment=environment)
    except OriginError as error:
        return f"Stays refused: {error}"
    lines = []
    host = _host(origin)
    for wildcard in allowlist.wildcards:
        domain = _host(wildcard).removeprefix("*.")
        if host == domain or host.endswith(f".{domain}"):
            lines.append(
                f"{wildcard} covers exactly one label in place of '*', with its scheme and port: not {origin}."
            )
            break
    lines.append(f"Fix, if {origin} is a front end of yours: {_assignment(variable, [*listed, origin])}")
    if allowlist.any_local:
        lines.append("(this replaces the default of any local port: list the local front ends you use as well)")
    dynamic = policy.declaration.dynamic_origins_name
    if dynamic is not None:
        lines.append(f"(or make {dynamic}, the policy's dynamic_origins, answer True for it)")
    return "\n".join(lines)


def _assignment(variable: str, items: list[str]) -> str:
    """VARIABLE="a, b", each item once: names differing in case only (content-type, Content-Type) are one."""
    unique: dict[str, str] = {}
    for item in items:
        unique.setdefault(item.lower(), item)
    return f'{variable}="{", ".join(unique.values())}"'


def _host(origin: str) -> str:
    """The host of scheme://host[:port], without the port."""
    authority = origin.partition("://")[2]
    return authority.rpartition(":")[0] if authority.rpartition(":")[2].isdigit() else authority


def _header_list(value: str | None) -> list[str]:
    """The items of a comma-separated header value, such as Access-Control-Allow-Methods."""
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def judge(app: Flask, request: BrowserRequest) -> Verdict:
    """Put `request` to `app` as a browser would, through its test client, and read the answers as it does."""
    state: layer.CorsState = app.extensions[layer.STATE_KEY]
    policy = policy_for(state.policies, request.path)
    exchanges, blocked = simulate(in_process(app.test_client()), request)
    # A write the browser sends (no preflight, or one it passed) meets the cross-origin write protection.
    writes_checked = exchanges[-1].method == request.method
    write_refused, write_note = write_verdict(state, request) if writes_checked else (False, "")
    if blocked is None:
        return Verdict(request, policy, exchanges, write_refused=write_refused, write_note=write_note)
    blocked = diagnose(policy, request, blocked) if policy else blocked
    fix = suggest_fix(policy, state.environment, request, blocked)
    return Verdict(request, policy, exchanges, blocked, fix, write_refused, write_note)


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


# The environ of the commands' own requests: questions, not refusals an operator should find in the log.
QUESTION = {logs.QUESTION: True}


def in_process(client: FlaskClient, json_body: bytes = b"{}") -> Send:
    """Send each request to the app itself, through Flask's test client, marked as a question."""

    def send(method: str, path: str, headers: dict[str, str]) -> Exchange:
        body = request_body(method, headers, json_body)
        response = client.open(path, method=method, headers=headers, data=body, environ_overrides=QUESTION)
        return Exchange(method, path, headers, response.status_code, response.status, response.headers)

    return send


def _browser_origin(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """ORIGIN as a browser sends it (lowercase, no default port, no trailing slash), or a usage error."""
    if value == "null":
        return value
    try:
        origin = normalise_origin(value, environment="development")
    except OriginError as error:
        raise click.BadParameter(str(error)) from None
    if "*" in origin:
        raise click.BadParameter("a browser sends one origin, never a wildcard")
    return origin


def _browser_origins(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> list[str]:
    return [_browser_origin(ctx, param, value) for value in values]


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


def _script_headers(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, str]:
    """The --header options as {name: value}; a header only the browser may set is a usage error."""
    try:
        return script_headers(values)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


def page_request_options(command: Callable) -> Callable:
    """The options of `check` and `probe` that say what the page's script asks fetch() for."""
    options = [
        click.option("--path", default="/api/health", show_default=True, help="The path the page calls."),
        click.option("--method", default="GET", show_default=True, type=click.Choice(METHODS)),
        click.option(
            "--header",
            "headers",
            multiple=True,
            callback=_script_headers,
            metavar="NAME[:VALUE]",
            help="A header the page's script sets (repeat for more). Content-Type alone means application/json.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@cors_commands.command("check")
@click.argument("origin", callback=_browser_origin)
@page_request_options
@click.option(
    "--credentials",
    is_flag=True,
    help="The page calls with credentials: 'include' (the user's cookies, TLS client certificate, browser-kept "
    "HTTP authentication). An Authorization header the script sets itself is a --header.",
)
@click.pass_context
def check(ctx: click.Context, origin: str, path: str, method: str, headers: dict[str, str], credentials: bool):
    """What a browser at ORIGIN would get.

    Sends the app the preflight (when a browser would send one) and the request, reads the answers as
    the browser does, and says how to fix a block. Exit status: 0 allowed, 1 blocked (by CORS, or a
    cross-origin write refused), 2 usage error.
    """
    if not path.startswith("/"):
        raise click.BadParameter("a path starts with /", param_hint="--path")
    verdict = judge(current_app, BrowserRequest(origin, method, path, headers, credentials))
    policy = verdict.policy
    click.echo(f"Policy: {policy.name!r} ({policy.prefix})\n" if policy else f"Policy: none covers {path}\n")
    for exchange in verdict.exchanges:
        click.echo(format_exchange(exchange) + "\n")
    click.echo("\n".join(verdict.conclusion()))
    if verdict.blocked or verdict.write_refused:
        ctx.exit(1)


def write_verdict(state: layer.CorsState, request: BrowserRequest) -> tuple[bool, str]:
    """Whether the cross-origin write protection refuses `request` from a page on another site, and a line
    saying why; (False, "") for a method that changes nothing."""
    if request.method in writes.SAFE_METHODS:
        return False, ""
    if writes.is_exempt(request.path, state.writes.exempt_paths):
        return False, f"Allowed to write: {request.path} is in CROSS_SITE_WRITE_EXEMPT_PATHS."
    answers = state.writes.trusted_by(state.answers_for(request.path))
    if writes.trusts(answers, request.origin):
        return False, f"Allowed to write: the policy {answers.policy.name!r} allows {request.origin}."
    if answers is None:
        untrusted = f"no policy covers {request.path}, so only the API's own pages may write to it"
    elif answers.policy.public:
        untrusted = f"the policy {answers.policy.name!r} is public: every origin may read it, none may write to it"
    else:
        untrusted = f"the policy {answers.policy.name!r} does not allow {request.origin}"
    return True, (
        f"Refused as a cross-origin write (403, the view never runs): a page at {request.origin} sends it from "
        f"another site, and {untrusted}. A path that must accept posts from other sites, such as an identity "
        "provider's callback, goes in CROSS_SITE_WRITE_EXEMPT_PATHS."
    )


@cors_commands.command("probe")
@click.argument("url")
@click.option(
    "--origin",
    "origins",
    multiple=True,
    callback=_browser_origins,
    help="A front end's origin (repeat for more). Another origin the policy allows and an unlisted one are added.",
)
@page_request_options
@click.option("--credentials", is_flag=True, help="The page calls with credentials: 'include'.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object, for a deploy pipeline.")
@click.pass_context
def probe(
    ctx: click.Context,
    url: str,
    origins: list[str],
    path: str,
    method: str,
    headers: dict[str, str],
    credentials: bool,
    as_json: bool,
):
    """Whether the deployment at URL answers browsers as this app does.

    Sends URL, over HTTP, what browsers at the origins would send, and the same requests to this app,
    configured by this command's environment: run it with the deployment's APP_ENV and CORS_*
    variables. Each difference is named with its likely cause and fix (cors/probe.py). Exit status:
    0 the same answers, 1 a difference, 2 a usage error or a deployment that cannot be reached.
    """
    from . import probe as probing  # it builds on this module's browser rules: imported when it runs

    if not path.startswith("/"):
        raise click.BadParameter("a path starts with /", param_hint="--path")
    state: layer.CorsState = current_app.extensions[layer.STATE_KEY]
    policy = policy_for(state.policies, path)
    # What the page asks for; run_probe sends it from each origin.
    request = BrowserRequest("", method, probing.with_unique_query(path), headers, credentials)
    try:
        deployment = probing.over_http(url)
        start = time.monotonic()
        app = in_process(current_app.test_client(), probing.JSON_BODY)
        results, differences = probing.run_probe(deployment, app, probing.probe_origins(policy, origins), request)
        seconds = time.monotonic() - start
    except probing.ProbeError as error:
        click.echo(f"Error: {error}", err=True)
        ctx.exit(2)
    if as_json:
        click.echo(json.dumps(probing.report(url, request, results, differences, seconds), indent=2))
    else:
        click.echo(f"Policy: {policy.name!r} ({policy.prefix})" if policy else f"Policy: none covers {path}")
        click.echo(f"{method} {path} from {len(results)} origins, to {url} and to the app itself\n")
        click.echo(probing.format_report(results, differences))
    ctx.exit(1 if differences else 0)


def format_exchange(exchange: Exchange) -> str:
    """The request and the answer's CORS headers, as `curl -v` shows them (> sent, < received)."""
    lines = [f"> {exchange.method} {exchange.path}", *(f"> {n}: {v}" for n, v in exchange.request_headers.items())]
    lines.append(f"< {exchange.status}")
    cors_headers = [(name, value) for name, value in exchange.response_headers if name.startswith("Access-Control-")]
    lines += [f"< {name}: {value}" for name, value in cors_headers] or ["< (no Access-Control-* header)"]
    lines += [f"< Vary: {value}" for value in exchange.response_headers.getlist("Vary")]
    return "\n".join(lines)


@cors_commands.command("show")
@click.option("--json", "as_json", is_flag=True, help="One JSON object, for scripts.")
def show(as_json: bool):
    """The CORS policies in force.

    For each policy (policies.py): its prefix, each setting with its value and where the value
    came from, and the routes it decides for.
    """
    report = policy_report(current_app)
    click.echo(json.dumps(report, indent=2) if as_json else format_policies(report))


def policy_report(app: Flask) -> dict:
    """The environment and each policy's settings, sources and routes, as data."""
    state: layer.CorsState = app.extensions[layer.STATE_KEY]
    routes = sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule)
    policies = []
    for policy in state.policies:
        values = {
            "ORIGINS": policy.allowlist.describe(),
            "ALLOW_CREDENTIALS": policy.allow_credentials,
            "ALLOW_METHODS": list(policy.allow_methods),
            "ALLOW_HEADERS": list(policy.allow_headers),
            "EXPOSE_HEADERS": list(policy.expose_headers),
            "MAX_AGE": policy.max_age,
            "ALLOW_PRIVATE_NETWORK": policy.allow_private_network,
        }
        dynamic = policy.declaration.dynamic_origins_name
        if dynamic is not None:
            values["DYNAMIC_TTL"] = policy.dynamic_ttl
        settings = {}
        for setting, value in values.items():
            variable = policy.variable(setting)
            source = policy.sources.get(variable, "policies.py (public)")
            settings[variable] = {"value": value, "source": source}
        policies.append(
            {
                "name": policy.name,
                "prefix": policy.prefix,
                "public": policy.public,
                "dynamic_origins": dynamic,
                "settings": settings,
                "routes": [
                    {"path": rule.rule, "methods": sorted(rule.methods - {"HEAD", "OPTIONS"})}
                    for rule in routes
                    if policy_for(state.policies, rule.rule) is policy
                ],
            }
        )
    sources = app.extensions["settings"].sources
    return {
        "APP_ENV": {"value": state.environment, "source": sources["APP_ENV"]},
        "policies": policies,
        "cross_origin_writes": {
            "refused": "any method but GET, HEAD and OPTIONS from pages at origins the path's policy does not allow",
            "CROSS_SITE_WRITE_EXEMPT_PATHS": {
                "value": list(state.writes.exempt_paths),
                "source": sources["CROSS_SITE_WRITE_EXEMPT_PATHS"],
            },
        },
    }


def format_policies(report: dict) -> str:
    """Per policy: a line saying what it is, a table of its settings (origins one per line), its routes."""
    lines = [f"APP_ENV  {report['APP_ENV']['value']}  {report['APP_ENV']['source']}"]
    for policy in report["policies"]:
        lines += ["", f"Policy {policy['name']!r} on {policy['prefix']}"]
        if policy["public"]:
            lines.append("  public: every origin may read it (Access-Control-Allow-Origin: *), never with credentials")
        if policy["dynamic_origins"]:
            lines.append(f"  dynamic origins: {policy['dynamic_origins']}, asked about origins not listed below")
        rows = [("setting", "value", "from")]
        for name, setting in policy["settings"].items():
            value = setting["value"]
            shown = value if name.endswith("_ORIGINS") else [_text(value)]
            rows += [(name, shown[0], setting["source"]), *(("", line, "") for line in shown[1:])]
        widths = [max(len(row[column]) for row in rows) for column in (0, 1)]
        lines += [f"  {name:<{widths[0]}}  {value:<{widths[1]}}  {source}".rstrip() for name, value, source in rows]
        lines.append("  Routes:")
        lines += [f"    {' '.join(route['methods']):<7} {route['path']}" for route in policy["routes"]] or ["    none"]
    protection = report["cross_origin_writes"]
    exempt = protection["CROSS_SITE_WRITE_EXEMPT_PATHS"]
    lines += [
        "",
        f"Cross-origin writes: refused (403) for {protection['refused']}; a public policy allows none",
        f"  CROSS_SITE_WRITE_EXEMPT_PATHS  {_text(exempt['value'])}  {exempt['source']}",
    ]
    return "\n".join(lines)


def _text(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return ", ".join(value) or "none"
    return str(value)
