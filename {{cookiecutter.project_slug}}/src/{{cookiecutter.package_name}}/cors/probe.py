"""`flask cors probe`: whether a deployment answers browsers as the app itself does.

CORS that works on a laptop breaks behind a reverse proxy, a load balancer, a CDN or an
authentication gateway: a second Access-Control-Allow-Origin, a header hidden, a cache that hands
one origin's answer to another, a preflight answered by something else. The probe sends the
deployment, over real HTTP, what a browser sends (a preflight when one is due, then the request,
as browser.simulate decides), from the origins given, another origin the policy allows and an unlisted
one; it sends the same requests to the app in process, configured by the same variables, and
compares the answers. Each difference is named with its likely cause and its fix.

Every request of one run carries the same unique query value (`cors-probe=...`): a cache in front
stores the run's answers under a URL no user asks for, so the probe sees the cache's effect on its
own requests without serving its answers to anyone else. Headers are read as raw lists, since a
duplicate is the fault to find; a redirect is never followed, as a browser never follows one on a
preflight; each request times out.
"""

from __future__ import annotations

import http.client
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from werkzeug.datastructures import Headers

from .browser import BrowserRequest, Exchange, Send, request_body, simulate
from .origins import Allowlist
from .policy import CorsPolicy

QUERY_NAME = "cors-probe"
# An origin no allowlist lists: .invalid is reserved and never resolves.
UNLISTED_ORIGIN = "https://probe-unlisted.invalid"
# A label standing in for a wildcard entry's "*", and a front end's dev server for any-local allowlists.
WILDCARD_LABEL = "cors-probe"
LOCAL_FRONT_END = "http://localhost:5173"
TIMEOUT_SECONDS = 5.0
# A JSON request's body: an ordinary document's size, so that a proxy's body limit below it shows.
JSON_BODY = json.dumps({"probe": "x" * 16_000}).encode()
# Response headers by which caches and CDNs say what they served.
CACHE_HEADERS = ("Age", "X-Cache", "X-Cache-Status", "CF-Cache-Status", "Via", "X-Served-By", "X-Varnish")
# Statuses a proxy produces itself: the body too large, the API unreachable or too slow.
PROXY_ERRORS = {
    413: "the body is over the proxy's size limit",
    502: "the proxy got no valid answer from the API",
    503: "the proxy has no API instance to send the request to",
    504: "the API did not answer the proxy in time",
}
PROXY_HEADER_CONFIG = (
    "nginx add_header, haproxy http-response add-header or set-header, Varnish set resp.http..., "
    "a CDN's or gateway's CORS setting"
)


class ProbeError(Exception):
    """The deployment could not be asked: a bad URL, no connection, a timeout, a broken answer."""


@dataclass(frozen=True)
class Problem:
    """A kind of difference: what it is in plain words, its likely cause, its fix."""

    title: str
    cause: str
    fix: str


TWO_ALLOW_ORIGINS = Problem(
    "Access-Control-Allow-Origin twice",
    f"something in front of the app adds its own on top of the app's ({PROXY_HEADER_CONFIG}).",
    "remove it there: browsers refuse a response with two values, and the app's own header is the right one.",
)
ALLOW_ORIGIN_ADDED = Problem(
    "Access-Control-Allow-Origin where the app sends none",
    f"something in front of the app sets it ({PROXY_HEADER_CONFIG}).",
    "remove it there: the app sends it to the origins its policy allows, and to no other.",
)
ALLOW_ORIGIN_MISSING = Problem(
    "Access-Control-Allow-Origin missing where the app sends it",
    "the proxy strips or hides the app's headers (nginx proxy_hide_header, haproxy http-response "
    "del-header, a CDN's response header policy).",
    "pass the app's Access-Control-* headers through unchanged.",
)
CACHE_IGNORES_ORIGIN = Problem(
    "One origin's answer served to another",
    "a cache keys its copies by URL alone and ignores Origin (nginx proxy_ignore_headers Vary, a Varnish "
    "VCL that hides Vary or a vcl_hash without Origin, a CDN whose cache key leaves Origin out).",
    "make the cache honour Vary: Origin, or put Origin in its cache key, or do not cache the API.",
)
VARY_REMOVED = Problem(
    "Vary: Origin removed",
    "the proxy drops or replaces the app's Vary header (nginx proxy_hide_header Vary, a CDN or Varnish rewriting it).",
    "pass Vary through: it is what keeps every cache on the way, the browser's own included, from "
    "serving one origin's answer to another.",
)
REDIRECT = Problem(
    "A redirect",
    "the proxy redirects the URL (http to https, a trailing slash, a login page): browsers never follow "
    "a redirect on a preflight, and a cross-origin redirect turns the request's Origin into null.",
    "call the final URL from the page (the API's https address, its exact path), or exempt the API's "
    "paths from the redirect.",
)
AUTHENTICATION = Problem(
    "An authentication proxy or gateway answers instead of the app",
    "authentication in front of the API (nginx auth_basic or auth_request, oauth2-proxy, an API gateway's "
    "authoriser) refuses the request before the app sees it, and its refusal carries no CORS headers, so "
    "the page sees a CORS error, not the 401; on a preflight it always refuses, as browsers never send "
    "credentials there.",
    "have the API authenticate requests itself, or at least let OPTIONS requests through to it "
    "unauthenticated (it answers preflights before any authentication).",
)
PREFLIGHT_REFUSED = Problem(
    "The preflight refused before it reaches the app",
    "something in front does not pass OPTIONS to the API: a location serving files (405), nginx "
    "limit_except, a gateway route without OPTIONS.",
    "pass OPTIONS requests for the API's paths to the API.",
)
PREFLIGHT_ANSWERED = Problem(
    "The preflight answered by something else",
    "the proxy or gateway answers preflights itself (nginx `if ($request_method = OPTIONS) { return 204; }`, "
    "a gateway's CORS setting), with methods or headers that are not the policy's.",
    "pass OPTIONS requests to the API and remove the proxy's own CORS answer: the policy is the one authority.",
)
PROXY_ERROR = Problem(
    "An error from the proxy itself, without CORS headers",
    "the proxy answers with its own error page, which carries no CORS headers: the page's script sees a "
    "CORS error, not the status.",
    "413: raise the proxy's body limit (nginx client_max_body_size, default 1m) to the largest body the "
    "API accepts; 502, 503, 504: make the API reachable from the proxy (address, port, timeouts such as "
    "nginx proxy_read_timeout).",
)
HEADER_CHANGED = Problem(
    "An Access-Control-* header that differs from the app's",
    f"something in front of the app rewrites or adds it ({PROXY_HEADER_CONFIG}).",
    "remove the proxy's CORS configuration: the policy is the one authority.",
)
STATUS_CHANGED = Problem(
    "A status the app does not answer",
    "something in front of the app answers instead of it.",
    "find what answers (the body and the Server header tell), and pass the request to the API.",
)


@dataclass(frozen=True)
class Difference:
    """Where the deployment's answer differs from the app's: the request, the origin, what differs."""

    problem: Problem
    origin: str
    method: str
    detail: str


@dataclass(frozen=True)
class OriginResult:
    """What a browser at `origin` gets from the app, and through the deployment."""

    origin: str
    app: list[Exchange]
    app_blocked: str | None
    deployment: list[Exchange]
    deployment_blocked: str | None


def probe_origins(policy: CorsPolicy | None, given: Iterable[str]) -> list[str]:
    """The given origins, another origin the policy allows (two when none is given), and an unlisted one."""
    origins = list(dict.fromkeys(given))
    wanted = len(origins) + (1 if origins else 2)
    for origin in listed_examples(policy.allowlist) if policy else []:
        if len(origins) >= wanted:
            break
        if origin not in origins:
            origins.append(origin)
    return [*origins, UNLISTED_ORIGIN] if UNLISTED_ORIGIN not in origins else origins


def listed_examples(allowlist: Allowlist) -> list[str]:
    """Origins the allowlist allows: its exact entries, each wildcard with a label in place of '*', a local port."""
    wildcards = [wildcard.replace("*", WILDCARD_LABEL, 1) for wildcard in allowlist.wildcards]
    return [*sorted(allowlist.exact), *wildcards, *([LOCAL_FRONT_END] if allowlist.any_local else [])]


def with_unique_query(path: str) -> str:
    """`path` with a cache-busting query value of its own: one per run, shared by the run's requests."""
    return f"{path}{'&' if '?' in path else '?'}{QUERY_NAME}={secrets.token_hex(8)}"


def over_http(base_url: str, timeout: float = TIMEOUT_SECONDS) -> Send:
    """Send each request to the deployment at `base_url` (http or https, an optional path prefix),
    one connection per request, following no redirect; ProbeError when it cannot be asked."""
    parts = urlsplit(base_url)
    try:
        port = parts.port
    except ValueError:  # not a number, or out of range
        port = -1
    usable = parts.scheme in ("http", "https") and parts.hostname and port != -1 and not parts.username
    if not usable or parts.query or parts.fragment:
        raise ProbeError(f"{base_url!r} is not a base URL such as https://api.example.com or http://127.0.0.1:8000")
    prefix = parts.path.rstrip("/")
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection

    def send(method: str, path: str, headers: dict[str, str]) -> Exchange:
        connection = connection_class(parts.hostname, port, timeout=timeout)
        try:
            connection.request(method, prefix + path, body=request_body(method, headers, JSON_BODY), headers=headers)
            response = connection.getresponse()
            response.read()
        except (OSError, http.client.HTTPException) as error:  # timeouts and TLS errors are OSErrors
            raise ProbeError(f"{method} {base_url}{path}: {error or type(error).__name__}") from None
        finally:
            connection.close()
        status = f"{response.status} {response.reason}"
        return Exchange(method, prefix + path, headers, response.status, status, Headers(response.getheaders()))

    return send


def run_probe(
    deployment: Send, app: Send, origins: list[str], request: BrowserRequest
) -> tuple[list[OriginResult], list[Difference]]:
    """For each origin, the browser's exchanges with the app and with the deployment, and their differences.

    The origins the app allows go first, so that a cache which ignores Origin has stored an allowed
    answer when the next origin asks, and hands it over where the app would not.
    """
    app_runs = {origin: simulate(app, replace(request, origin=origin)) for origin in origins}
    ordered = sorted(origins, key=lambda origin: app_runs[origin][1] is not None)
    results, differences = [], []
    answered: list[list[str]] = []  # the Access-Control-Allow-Origin values the app gave the earlier origins
    for origin in ordered:
        app_exchanges, app_blocked = app_runs[origin]
        deployed, deployed_blocked = simulate(deployment, replace(request, origin=origin))
        results.append(
            OriginResult(
                origin,
                app_exchanges,
                app_blocked and app_blocked.detail,
                deployed,
                deployed_blocked and deployed_blocked.detail,
            )
        )
        for ours, theirs in zip(app_exchanges, deployed, strict=False):
            differences += compare(origin, ours, theirs, answered)
        answered.append(_allow_origins(app_exchanges[-1]))
    return results, differences


def compare(origin: str, app: Exchange, deployed: Exchange, earlier: list[list[str]]) -> list[Difference]:
    """The differences between the app's answer and the deployment's to the same request.

    `earlier`: the Access-Control-Allow-Origin values the app gave the origins probed before this one;
    the deployment repeating one of them, where the app answers otherwise, is a cache's doing.
    """
    preflight = app.method == "OPTIONS"

    def difference(problem: Problem, detail: str) -> Difference:
        return Difference(problem, origin, deployed.method, detail)

    if deployed.status_code != app.status_code:
        return [difference(_status_problem(deployed, preflight), _status_detail(app, deployed))]
    differences = []
    ours, theirs = _allow_origins(app), _allow_origins(deployed)
    if ours != theirs:
        shown = f"{_values(theirs)}, where the app sends {_values(ours)}{_cache_evidence(deployed)}"
        if len(theirs) > 1:
            problem = TWO_ALLOW_ORIGINS
        elif theirs and theirs in earlier and not preflight:
            problem = CACHE_IGNORES_ORIGIN
        elif not theirs:
            problem = ALLOW_ORIGIN_MISSING
        else:
            problem = ALLOW_ORIGIN_ADDED if not ours else HEADER_CHANGED
        differences.append(difference(problem, f"Access-Control-Allow-Origin: {shown}"))
    if not differences or differences[0].problem is not CACHE_IGNORES_ORIGIN:
        for name in _cors_header_names(app, deployed) - {"access-control-allow-origin"}:
            ours_values, theirs_values = app.response_headers.getlist(name), deployed.response_headers.getlist(name)
            if ours_values != theirs_values:
                problem = PREFLIGHT_ANSWERED if preflight else HEADER_CHANGED
                detail = f"{_header_name(name)}: {_values(theirs_values)}, where the app sends {_values(ours_values)}"
                differences.append(difference(problem, detail))
    if _varies_by_origin(app) and not _varies_by_origin(deployed):
        vary = ", ".join(deployed.response_headers.getlist("Vary")) or "none"
        differences.append(difference(VARY_REMOVED, f"Vary: {vary}, where the app sends Vary: Origin"))
    return differences


def _status_problem(deployed: Exchange, preflight: bool) -> Problem:
    status, headers = deployed.status_code, deployed.response_headers
    if 300 <= status < 400:
        return REDIRECT
    if status in (401, 403, 407) or "WWW-Authenticate" in headers:
        return AUTHENTICATION
    if status in PROXY_ERRORS and not _allow_origins(deployed):
        return PROXY_ERROR
    if preflight and 400 <= status < 500:
        return PREFLIGHT_REFUSED
    return STATUS_CHANGED


def _status_detail(app: Exchange, deployed: Exchange) -> str:
    detail = f"{deployed.status}, where the app answers {app.status}"
    location = deployed.response_headers.get("Location")
    if location:
        detail += f"; Location: {location}"
    if deployed.status_code in PROXY_ERRORS:
        detail += f" ({PROXY_ERRORS[deployed.status_code]})"
    if not _allow_origins(deployed) and _allow_origins(app):
        detail += "; no Access-Control-Allow-Origin"
    return detail + _cache_evidence(deployed)


def _allow_origins(exchange: Exchange) -> list[str]:
    return exchange.response_headers.getlist("Access-Control-Allow-Origin")


def _cors_header_names(*exchanges: Exchange) -> set[str]:
    return {name.lower() for exchange in exchanges for name, _ in exchange.response_headers if _is_cors(name)}


def _is_cors(name: str) -> bool:
    return name.lower().startswith("access-control-")


def _header_name(lowercase: str) -> str:
    return "-".join(part.capitalize() for part in lowercase.split("-"))


def _values(values: list[str]) -> str:
    return " and ".join(values) if values else "none"


def _varies_by_origin(exchange: Exchange) -> bool:
    items = (item.strip().lower() for value in exchange.response_headers.getlist("Vary") for item in value.split(","))
    return "origin" in items or "*" in items


def cache_evidence(exchange: Exchange) -> list[str]:
    """The headers by which a cache or CDN on the way says what it served, as "Name: value"."""
    return [f"{name}: {value}" for name in CACHE_HEADERS for value in exchange.response_headers.getlist(name)]


def _cache_evidence(exchange: Exchange) -> str:
    evidence = cache_evidence(exchange)
    return f" ({', '.join(evidence)})" if evidence else ""


def report(
    url: str, request: BrowserRequest, results: list[OriginResult], differences: list[Difference], seconds: float
) -> dict:
    """The probe as data, for `--json`."""
    return {
        "url": url,
        "method": request.method,
        "path": request.path,
        "as_app_answers": not differences,
        "origins": [
            {
                "origin": result.origin,
                "app": {"blocked": result.app_blocked, "exchanges": [_exchange(e) for e in result.app]},
                "deployment": {
                    "blocked": result.deployment_blocked,
                    "exchanges": [_exchange(e) for e in result.deployment],
                },
            }
            for result in results
        ],
        "differences": [
            {
                "problem": difference.problem.title,
                "origin": difference.origin,
                "method": difference.method,
                "detail": difference.detail,
                "cause": difference.problem.cause,
                "fix": difference.problem.fix,
            }
            for difference in differences
        ],
        "seconds": round(seconds, 3),
    }


def _exchange(exchange: Exchange) -> dict:
    return {
        "method": exchange.method,
        "path": exchange.path,
        "request_headers": exchange.request_headers,
        "status": exchange.status_code,
        # Raw, in order, duplicates kept: a second Access-Control-Allow-Origin is what to see.
        "response_headers": [[name, value] for name, value in exchange.response_headers],
    }


def format_report(results: list[OriginResult], differences: list[Difference]) -> str:
    """Per origin, the browser's verdict from the app and through the deployment; then each kind of
    difference with where it showed, its likely cause and its fix; then any cache evidence."""
    width = max(len(result.origin) for result in results)
    lines = []
    for result in results:
        app, deployment = _verdict(result.app_blocked), _verdict(result.deployment_blocked)
        if app == deployment:
            verdict = f"{app} by the app and through the deployment"
        else:
            verdict = f"{app} by the app, {deployment} through the deployment"
            if result.deployment_blocked:
                verdict += f": {result.deployment_blocked}"
        lines.append(f"{result.origin:<{width}}  {verdict}")
    problems = list(dict.fromkeys(difference.problem for difference in differences))
    for problem in problems:
        lines += ["", f"{problem.title}:"]
        lines += [
            f"  {difference.method} from {difference.origin}: {difference.detail}"
            for difference in differences
            if difference.problem is problem
        ]
        lines += [f"  Likely cause: {problem.cause}", f"  Fix: {problem.fix}"]
    evidence = [
        f"  {exchange.method} from {result.origin}: {', '.join(cache_evidence(exchange))}"
        for result in results
        for exchange in result.deployment
        if cache_evidence(exchange)
    ]
    if evidence:
        lines += ["", "Cache evidence:", *evidence]
    lines.append("")
    if differences:
        count = f"{len(differences)} difference{'s' if len(differences) > 1 else ''}"
        lines.append(f"The deployment does not answer as the app does: {count}.")
    else:
        lines.append("The deployment answers as the app does.")
    return "\n".join(lines)


def _verdict(blocked: str | None) -> str:
    return "blocked" if blocked else "allowed"
