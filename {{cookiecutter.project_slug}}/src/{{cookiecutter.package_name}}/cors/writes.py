"""Cross-origin writes: a request that changes state is refused unless its origin is trusted.

CORS decides whether a page may read a response, not whether the request reaches the view. A form,
or a fetch() with a `text/plain` or `multipart/form-data` body, is sent without a preflight, with
the user's cookies when they are allowed: the view runs whatever CORS answers. So every request
with an unsafe method (anything but GET, HEAD and OPTIONS), under /api/ and outside it, is checked
by the CORS layer before Flask sees it, as Go's net/http.CrossOriginProtection does:

- `Sec-Fetch-Site: same-origin` or `none` (a typed-in address, a bookmark) passes;
- an Origin the policy covering the path allows (its allowlist, or its dynamic_origins) passes:
  the front ends CORS lets read are the ones trusted to write. A public policy trusts nobody
  (every origin may read it, none may write to it); a path no policy covers (a form route outside
  /api/) trusts the default policy's front ends, the site's own;
- any other `Sec-Fetch-Site` (cross-site, same-site) is refused;
- without `Sec-Fetch-Site` (a browser older than 2023), an Origin other than the request's own,
  `null` included, is refused;
- a request with neither header is not from a browser (curl, a webhook, a server): it passes.

Paths in CROSS_SITE_WRITE_EXEMPT_PATHS skip the check: an identity provider's form post callback
must accept a post from another site. A refusal is a 403 JSON error, with the CORS headers the
policy gives the Origin (so a page allowed to read can show why), logged as a WARNING like a CORS
refusal: escaped and throttled.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from ..logs import RefusalLog, printable
from .policy import CorsPolicy


class PolicyAnswers(Protocol):
    """What the write check asks of the policy covering a path (layer.PolicyAnswers answers it)."""

    @property
    def policy(self) -> CorsPolicy: ...

    def allows(self, origin: str) -> bool:
        """Whether the policy allows `origin`: its allowlist, or else its dynamic_origins."""

    def simple_request(self, environ: dict) -> tuple[tuple[str, str], ...]:
        """The CORS headers of an answer to the request in `environ`."""


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Sec-Fetch-Site values of a request the user made from the API's own pages, or by typing its address.
OWN_SITE = frozenset({"same-origin", "none"})
_DEFAULT_PORTS = {"http": ":80", "https": ":443"}

LOG = logging.getLogger(__name__)


def refusal(
    method: str, fetch_site: str | None, origin: str | None, own_origin: str, *, trusted: bool, exempt: bool
) -> str | None:
    """Why a request must be refused as a cross-origin write, or None to let it through.

    `fetch_site` and `origin` are the request's Sec-Fetch-Site and Origin (None when absent),
    `own_origin` the origin the client asked for (see `own_origin`), `trusted` whether the policy
    covering the path allows `origin`, `exempt` whether the path is in CROSS_SITE_WRITE_EXEMPT_PATHS.
    """
    if method in SAFE_METHODS or exempt or fetch_site in OWN_SITE or (origin and trusted):
        return None
    if fetch_site:
        return f"a page at another origin sent it (Sec-Fetch-Site: {printable(fetch_site, 20)})"
    if origin and origin != own_origin:
        return f"a page at another origin sent it (not {printable(own_origin)})"
    return None


def own_origin(environ: dict) -> str:
    """The origin the client asked for: scheme and Host, as a browser writes an Origin (no default port).

    Behind TRUSTED_PROXY_HOPS proxies, ProxyFix has already put the scheme and host the client used
    in place of the proxy's.
    """
    scheme = environ["wsgi.url_scheme"]
    host = environ.get("HTTP_HOST", "").lower().removesuffix(_DEFAULT_PORTS.get(scheme, ""))
    return f"{scheme}://{host}"


def is_exempt(path: str, exempt_paths: Iterable[str]) -> bool:
    """Whether `path` is one of `exempt_paths` or under one: "/auth/callback" covers "/auth/callback/saml",
    not "/auth/callback-admin"."""
    return any(path == prefix or path.startswith(prefix.rstrip("/") + "/") for prefix in exempt_paths)


def trusts(answers: PolicyAnswers | None, origin: str | None) -> bool:
    """Whether a policy trusts `origin` to write: it allows it, and is not public."""
    return bool(origin) and answers is not None and not answers.policy.public and answers.allows(origin)


@dataclass
class WriteProtection:
    """The check the CORS layer runs before Flask, and the WARNING line of each refusal (logs.RefusalLog)."""

    environment: str
    exempt_paths: tuple[str, ...] = ()
    # Who may write to a path no policy covers: the default policy's front ends.
    uncovered: PolicyAnswers | None = None
    refusals: RefusalLog = field(init=False)

    def __post_init__(self):
        self.refusals = RefusalLog(LOG, "Cross-origin write refused, origin", self.environment)

    def trusted_by(self, answers: PolicyAnswers | None) -> PolicyAnswers | None:
        """The policy that decides who may write to a path: the one covering it, else the default one."""
        return answers if answers is not None else self.uncovered

    def refuse(self, environ: dict, answers: PolicyAnswers | None, start_response: Callable) -> Iterable[bytes] | None:
        """Answer a refused cross-origin write with a 403 and return its body; None lets the request go on."""
        method = environ["REQUEST_METHOD"]
        if method in SAFE_METHODS:
            return None
        path = environ.get("PATH_INFO", "")
        origin = environ.get("HTTP_ORIGIN") or None
        fetch_site = environ.get("HTTP_SEC_FETCH_SITE") or None
        why = refusal(
            method,
            fetch_site,
            origin,
            own_origin(environ),
            trusted=trusts(self.trusted_by(answers), origin),
            exempt=is_exempt(path, self.exempt_paths),
        )
        if why is None:
            return None
        self.refusals.record(environ, sec_fetch_site=fetch_site or "(none)")
        shown = printable(origin or "(none)")
        body = json.dumps(
            {
                "error": {
                    "status": 403,
                    "title": "Forbidden",
                    "detail": f"Origin {shown} is not allowed to make changes here: {why}.",
                }
            }
        ).encode()
        cors = answers.simple_request(environ) if answers is not None and origin else ()
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body))), *cors, ("Vary", "Origin")]
        start_response("403 FORBIDDEN", headers)
        return [body]
