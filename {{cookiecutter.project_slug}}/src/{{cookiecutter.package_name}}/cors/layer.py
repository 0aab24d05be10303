"""The policies applied to every request, by one WSGI layer in front of Flask: the one authority.

The layer is what servers call: an app built from a class with `ServedThroughLayer` among its bases
(create_app's `App`) runs it in its `__call__`, and whatever is assigned to `app.wsgi_app`, now or
later (a middleware, werkzeug's DispatcherMiddleware mounting another app), runs inside it. `init_app`
refuses an app of any other class. Before the layer, and only for requests from TRUSTED_PROXIES,
Werkzeug's ProxyFix puts the client's scheme, host and address in place of the proxy's (proxies.py).

Flask-CORS decides which origins, methods and headers are allowed and writes the header values.
This module chooses what Flask-CORS is given and where it runs, because its defaults are unsafe
or slow for an API:

- Each policy's allowlist goes in as one compiled pattern anchored at both ends
  (origins.Allowlist). Plain strings would be compared one by one on every request, and a string
  holding any regex character would become a regex anchored at the start only.
- Its header builder is called from this layer rather than through `CORS(app)`, whose
  after-request step also unquotes the path, matches it against resource regexes and formats a
  debug message on every request. The policy with the longest prefix covering the path decides;
  a path no policy covers gets no CORS header. The path is the one the router dispatches
  (policy.canonical_path): the layer hands that path on to Flask, and refuses with a 400 one with a
  "." or ".." segment, so the policy that judges a request is always that of the route that runs.
- Before anything else, a request that could change state (a POST, say) from an origin the policy
  does not trust is refused with a 403 (writes.py): for a form post, CORS would only hide the answer.
- The layer answers preflights itself with an empty 204: no request context, no second URL match
  for Flask's automatic OPTIONS, and no before-request hook (authentication) ever sees one.
  Browsers send preflights without credentials by design.
- For other requests Flask-CORS's answer depends on the Origin (and a Private Network Access
  request header) alone, so it is decided once per Origin and remembered: the REMEMBERED_ORIGINS
  most recent, so a stream of made-up Origins costs no more than deciding each. The layer adds the
  headers as the response starts, so every covered response gets them, error responses included,
  and `Vary: Origin` goes on each one, allowed, refused or without an Origin, so no cache hands
  one origin's response to another. Flask-CORS adds it to some allowed responses only.
- An Origin the allowlist refuses is put to the policy's dynamic_origins, if it has one
  (policy.DynamicOrigins); a yes gets the same headers as a listed origin.
- Any Access-Control-* header the app sets itself (a view, an after_request hook, Flask-CORS's
  `CORS()` or `@cross_origin`) never reaches the client: in staging and production it is dropped
  and an ERROR names the route and the header, once; in development and testing the response
  becomes a 500 that names them, so the team's own tests fail before it ships.
- A request without an Origin gets no CORS headers (with always_send, Flask-CORS would give it the
  alphabetically first literal allowlist entry as Access-Control-Allow-Origin), and
  `Access-Control-Allow-Private-Network` is sent only when the policy allows private network access.
- A refused cross-origin request logs a WARNING (RefusalLog), so an operator sees a misconfigured
  front end without a browser, every time, remembered answer or not. Only refusals pay for it.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from flask import Flask
from flask_cors.core import ACL_RESPONSE_PRIVATE_NETWORK, get_cors_headers, serialize_options
from werkzeug.datastructures import EnvironHeaders

from ..logs import RefusalLog
from ..proxies import Network, behind_proxies
from .policy import (
    DEFAULT_POLICY,
    LONGEST_ORIGIN,
    REMEMBERED_ORIGINS,
    CorsPolicy,
    DynamicOrigins,
    canonical_path,
    longest_prefix,
)
from .writes import WriteProtection, own_origin

STATE_KEY = "cors"
VARY_ORIGIN = ("Vary", "Origin")
# Development and testing: a response carrying its own Access-Control-* header is replaced by this.
STRICT_ENVIRONMENTS = frozenset({"development", "testing"})
_ANY_ORIGIN = re.compile(r".*")

LOG = logging.getLogger(__name__)

WSGIApp = Callable[[dict, Callable], Iterable[bytes]]
# Flask-CORS's resolved options (its class is private), built once by flask_cors_options.
FlaskCorsOptions = Any
Headers = tuple[tuple[str, str], ...]


class CorsSettings(Protocol):
    """What the layer reads of the app's settings: settings.Settings has each of them."""

    @property
    def environment(self) -> str: ...

    @property
    def policies(self) -> tuple[CorsPolicy, ...]: ...

    @property
    def write_exempt_paths(self) -> tuple[str, ...]: ...

    @property
    def trusted_proxy_hops(self) -> int: ...

    @property
    def trusted_proxies(self) -> tuple[Network, ...]: ...


class CorsConflict(RuntimeError):
    """Something besides the policies would write CORS headers: a second CORS(), @cross_origin."""


class ServedThroughLayer:
    """A base for a Flask app class (before Flask, or a Flask subclass such as a schema library's, among its
    bases) whose every request, from any server or test client, goes through the CORS layer first.

    Flask's own `__call__` runs `self.wsgi_app`, which anyone may replace; this one runs what init_app
    built: ProxyFix for requests from TRUSTED_PROXIES, the CORS layer, then `self.wsgi_app` as it is at
    that moment. A middleware assigned to `app.wsgi_app` therefore sits inside the layer, its paths judged
    by the policies and any Access-Control-* header it sets refused like a view's.
    """

    # Set by init_app: what every request goes through.
    served_through_layer: WSGIApp

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        return self.served_through_layer(environ, start_response)


def init_app(app: Flask, settings: CorsSettings) -> None:
    """Apply the policies of `settings` to every request of `app`, whose class must be a ServedThroughLayer."""
    if STATE_KEY in app.extensions:
        raise CorsConflict("CORS is already configured on this app: a second policy would widen the first")
    if not isinstance(app, ServedThroughLayer):
        raise CorsConflict(
            f"{type(app).__name__} does not serve its requests through the CORS layer: build the app from a class "
            f"with ServedThroughLayer first among its bases, such as class App(ServedThroughLayer, "
            f"{type(app).__name__})"
        )
    state = app.extensions[STATE_KEY] = CorsState(settings.environment, settings.policies, settings.write_exempt_paths)
    app.served_through_layer = behind_proxies(state.wrap(app), settings.trusted_proxy_hops, settings.trusted_proxies)


def refuse_other_cors(app: Flask) -> None:
    """Refuse at start-up what would set CORS headers beside the policies: Flask-CORS's CORS() or @cross_origin."""
    for blueprint, hooks in app.after_request_funcs.items():
        for hook in hooks:
            if _is_flask_cors(hook):
                where = f"blueprint {blueprint!r}" if blueprint else "the app"
                raise CorsConflict(
                    f"Flask-CORS's CORS() is registered on {where}: the policies in policies.py are the only "
                    "source of Access-Control-* headers. Remove CORS() and declare a Policy instead"
                )
    for rule in app.url_map.iter_rules():
        if _is_flask_cors(app.view_functions.get(rule.endpoint)):
            raise CorsConflict(
                f"route {rule.rule} (view {rule.endpoint}) is wrapped by Flask-CORS's @cross_origin: the policies "
                "in policies.py are the only source of Access-Control-* headers. Remove the decorator and "
                "declare a Policy for its path instead"
            )


def _is_flask_cors(function: Callable | None) -> bool:
    code = getattr(function, "__code__", None)
    return code is not None and "flask_cors" in code.co_filename.replace("\\", "/").split("/")


def flask_cors_options(policy: CorsPolicy, *, any_origin: bool = False) -> FlaskCorsOptions:
    """Every option Flask-CORS reads, given explicitly: app.config and FLASK_CORS_* never leak in.

    `any_origin`: the options for an Origin the policy's dynamic_origins has already allowed.
    """
    allowlist = policy.allowlist
    return serialize_options(
        {
            "origins": [_ANY_ORIGIN] if any_origin else "*" if allowlist.any_origin else [allowlist.pattern],
            "send_wildcard": allowlist.any_origin,
            "supports_credentials": policy.allow_credentials,
            "methods": list(policy.allow_methods),
            "allow_headers": list(policy.allow_headers),
            "expose_headers": list(policy.expose_headers) or None,
            "max_age": str(policy.max_age),  # as text: Flask-CORS drops a header whose value is 0
            "allow_private_network": policy.allow_private_network,
            "vary_header": False,
            "always_send": False,
        }
    )


def cors_headers(options: FlaskCorsOptions, environ: dict) -> Headers:
    """The CORS response headers Flask-CORS decides on for the request in `environ`.

    None at all means the Origin is refused: an allowed one always gets Access-Control-Allow-Origin.
    """
    headers = get_cors_headers(options, EnvironHeaders(environ), environ["REQUEST_METHOD"])
    return tuple(
        (name, str(value))
        for name, value in headers.items()
        if name != ACL_RESPONSE_PRIVATE_NETWORK or options.allow_private_network
    )


class PolicyAnswers:
    """One policy's answers: Flask-CORS's static decision, then dynamic_origins for what it refuses."""

    def __init__(self, policy: CorsPolicy, environment: str, *, dynamic: bool = True):
        """`dynamic=False`: the allowlist alone, dynamic_origins never asked."""
        self.policy = policy
        self.options = flask_cors_options(policy)
        self.dynamic = DynamicOrigins(policy, environment) if dynamic and policy.declaration.dynamic_origins else None
        self.dynamic_options = flask_cors_options(policy, any_origin=True) if self.dynamic else None
        self.remembered = functools.lru_cache(maxsize=REMEMBERED_ORIGINS)(self.simple_request_headers)

    def allows(self, origin: str) -> bool:
        """Whether the policy allows `origin`: its allowlist, or else its dynamic_origins."""
        return self.policy.allowlist.allows(origin) or (self.dynamic is not None and self.dynamic.allows(origin))

    def allowed_options(self, origin: str) -> FlaskCorsOptions:
        """The options that answer `origin`: the static ones, or the dynamic ones once dynamic_origins said yes."""
        if self.dynamic is None or self.policy.allowlist.allows(origin) or not self.dynamic.allows(origin):
            return self.options
        return self.dynamic_options

    def preflight(self, environ: dict) -> Headers:
        return cors_headers(self.allowed_options(environ["HTTP_ORIGIN"]), environ)

    def simple_request(self, environ: dict) -> Headers:
        origin = environ["HTTP_ORIGIN"]
        # What the answer depends on, and no more, so that odd header values share one entry.
        private_network = self.policy.allow_private_network and (
            environ.get("HTTP_ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK") == "true"
        )
        # Only an Origin a browser could send is remembered: a client's 8 KB header is decided and dropped.
        decide = self.remembered if len(origin) <= LONGEST_ORIGIN else self.simple_request_headers
        headers = decide(origin, private_network)
        if headers or self.dynamic is None or not self.dynamic.allows(origin):
            return headers
        return decide(origin, private_network, dynamic=True)

    def simple_request_headers(self, origin: str, private_network: bool, dynamic: bool = False) -> Headers:
        """Flask-CORS's answer to a request that is not a preflight: it depends on the Origin, on
        whether the request asks for private network access and, for an Origin the allowlist refuses,
        on whether dynamic_origins allowed it; nothing else."""
        environ = {"REQUEST_METHOD": "GET", "HTTP_ORIGIN": origin}
        if private_network:
            environ["HTTP_ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK"] = "true"
        return cors_headers(self.dynamic_options if dynamic else self.options, environ)


@dataclass
class CorsState:
    """What the layer applies, kept on app.extensions["cors"] for the `flask cors` commands and tests."""

    environment: str
    policies: tuple[CorsPolicy, ...]
    # Paths that accept cross-origin writes from any origin (CROSS_SITE_WRITE_EXEMPT_PATHS).
    write_exempt_paths: tuple[str, ...] = ()
    refusals: RefusalLog = field(init=False)
    writes: WriteProtection = field(init=False)
    answers: dict[str, PolicyAnswers] = field(init=False)
    # (route, header) pairs already reported in staging and production.
    reported_conflicts: set[tuple[str, str]] = field(default_factory=set)

    def __post_init__(self):
        self.refusals = RefusalLog(LOG, "CORS refused origin", self.environment)
        self.answers = {policy.name: PolicyAnswers(policy, self.environment) for policy in self.policies}
        # Who may write to a path no policy covers: the default policy's listed front ends, never its dynamic ones.
        default = next((policy for policy in self.policies if policy.name == DEFAULT_POLICY), None)
        uncovered = PolicyAnswers(default, self.environment, dynamic=False) if default else None
        self.writes = WriteProtection(self.environment, self.write_exempt_paths, uncovered)
        self._by_prefix = {answers.policy.prefix: answers for answers in self.answers.values()}
        self._longest_prefix = max(map(len, self._by_prefix), default=0)

    def answers_for(self, path: str) -> PolicyAnswers | None:
        """The answers of the policy covering `path` as the router reads it (policy.canonical_path)."""
        canonical = canonical_path(path)
        if canonical is None:
            return None
        return self._by_prefix.get(longest_prefix(self._by_prefix, canonical, self._longest_prefix))

    def wrap(self, app: Flask) -> WSGIApp:
        """The layer, in front of whatever `app.wsgi_app` is at each request."""
        strict = self.environment in STRICT_ENVIRONMENTS
        by_prefix, longest = self._by_prefix, self._longest_prefix

        def cors_layer(environ: dict, start_response: Callable) -> Iterable[bytes]:
            path = environ.get("PATH_INFO", "")
            if "//" in path or "/." in path or path[:1] != "/":  # else canonical_path(path) is path
                canonical = canonical_path(path)
                if canonical is None:
                    start_response("400 BAD REQUEST", [*_json_headers(_DOT_SEGMENT_ERROR), VARY_ORIGIN])
                    return [_DOT_SEGMENT_ERROR]
                environ["PATH_INFO"] = path = canonical  # the router dispatches exactly the path judged here
            answers = by_prefix.get(longest_prefix(by_prefix, path, longest))
            refused = self.writes.refuse(environ, answers, start_response)
            if refused is not None:
                return refused
            origin = environ.get("HTTP_ORIGIN")
            headers: Headers = ()
            if answers is not None and origin:  # as Flask-CORS sees it, an empty Origin is none
                if environ["REQUEST_METHOD"] == "OPTIONS" and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in environ:
                    headers = answers.preflight(environ)
                    if not headers and origin != own_origin(environ):
                        self.refusals.record(environ)
                    start_response("204 No Content", [*headers, VARY_ORIGIN])
                    return []
                headers = answers.simple_request(environ)
                # Browsers also send an Origin to the page's own site (on a POST, say): not cross-origin.
                if not headers and origin != own_origin(environ):
                    self.refusals.record(environ)
            conflict: list[bytes] = []

            def start_response_with_cors(status: str, response_headers: list, exc_info: Any = None) -> Callable:
                own = [name for name, _ in response_headers if name[:15].lower() == "access-control-"]
                if own:
                    response_headers = [item for item in response_headers if item[0] not in own]
                    message = self.report_conflict(environ, own[0])
                    if strict:
                        conflict[:] = [json.dumps(_conflict_error(message)).encode()]
                        status, response_headers = (
                            "500 INTERNAL SERVER ERROR",
                            [
                                ("Content-Type", "application/json"),
                                ("Content-Length", str(len(conflict[0]))),
                            ],
                        )
                        exc_info = None
                if answers is not None:
                    # A refused response carries no CORS header: a test of an allowed origin fails on it too.
                    cors = () if conflict else headers
                    response_headers = [*with_vary_origin(response_headers), *cors]
                return start_response(status, response_headers, exc_info)

            body = app.wsgi_app(environ, start_response_with_cors)
            if not conflict:
                return body
            if hasattr(body, "close"):
                body.close()
            return conflict

        return cors_layer

    def report_conflict(self, environ: dict, header: str) -> str:
        """Log, once per route and header, that the app set `header` itself; return the message."""
        request = environ.get("werkzeug.request")
        rule = getattr(request, "url_rule", None)
        # A path no route matched is the client's to choose: named by its kind, so the reports stay few.
        where = f"route {rule.rule} (view {rule.endpoint})" if rule is not None else "a response without a route"
        route = rule.rule if rule is not None else ""
        message = (
            f"{where} set {header} itself; the policies in policies.py are the only source of "
            "Access-Control-* headers: remove it from the view, hook or extension, or declare a Policy"
        )
        if (route, header) not in self.reported_conflicts:
            self.reported_conflicts.add((route, header))
            LOG.error(
                "%s (the header was %s)", message, "refused" if self.environment in STRICT_ENVIRONMENTS else "dropped"
            )
        return message


def _json_headers(body: bytes) -> list[tuple[str, str]]:
    return [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]


_DOT_SEGMENT_ERROR = json.dumps(
    {
        "error": {
            "status": 400,
            "title": "Bad Request",
            "detail": "The path has a '.' or '..' segment, which browsers resolve before sending: request the path "
            "it stands for.",
        }
    }
).encode()


def _conflict_error(message: str) -> dict:
    return {"error": {"status": 500, "title": "CORS header set outside the policies", "detail": message}}


def with_vary_origin(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """`headers` with Origin added to their Vary header, or a `Vary: Origin` when they have none."""
    for index, (name, value) in enumerate(headers):
        if name.lower() == "vary":
            if "origin" in (item.strip().lower() for item in value.split(",")):
                return headers
            return [*headers[:index], (name, f"{value}, Origin"), *headers[index + 1 :]]
    return [*headers, VARY_ORIGIN]
