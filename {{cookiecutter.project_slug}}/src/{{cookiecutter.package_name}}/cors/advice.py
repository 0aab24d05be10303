"""What a browser at an origin gets from this app, and what to change so that a refused request is allowed.

`judge` puts a BrowserRequest to the app itself, through Flask's test client (the same code that
answers in production), reads the answers with the browser's rules (browser.py), and, when the
browser would block the response, names the setting to change with its whole new value, or why the
request must stay refused. `flask cors check` prints the Verdict; the playground shows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import Flask

from .. import logs
from . import layer, writes
from .browser import (
    CREDENTIALS_NOT_ALLOWED,
    HEADERS_NOT_ALLOWED,
    METHOD_NOT_ALLOWED,
    NO_ALLOW_ORIGIN,
    PREFLIGHT_STATUS,
    SEVERAL_ALLOW_ORIGINS,
    WILDCARD_WITH_CREDENTIALS,
    Blocked,
    BrowserRequest,
    Exchange,
    Send,
    request_body,
    simulate,
)
from .origins import OriginError, parse_allowlist
from .policy import CorsPolicy, policy_for

if TYPE_CHECKING:  # Flask imports its test client when `check` asks for one: no cost to every start-up.
    from flask.testing import FlaskClient


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


# The environ of the commands' own requests: questions, not refusals an operator should find in the log.
QUESTION = {logs.QUESTION: True}


def in_process(client: FlaskClient, json_body: bytes = b"{}") -> Send:
    """Send each request to the app itself, through Flask's test client, marked as a question."""

    def send(method: str, path: str, headers: dict[str, str]) -> Exchange:
        body = request_body(method, headers, json_body)
        response = client.open(path, method=method, headers=headers, data=body, environ_overrides=QUESTION)
        return Exchange(method, path, headers, response.status_code, response.status, response.headers)

    return send


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
