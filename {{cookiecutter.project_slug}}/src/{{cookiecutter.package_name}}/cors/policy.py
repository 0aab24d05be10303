"""A CORS policy: the paths it covers, who may call them, and with what.

`Policy` is what policies.py declares in code (name, path prefix, public or not, an optional
dynamic-origins callable); settings.py reads each one's variables and builds the `CorsPolicy` the
WSGI layer and the `flask cors` commands use. Nothing here reads the environment.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Container, Mapping
from dataclasses import dataclass, field

from ..logs import printable
from .origins import Allowlist, OriginError, normalise_origin

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
# Header names as they survive the way to the app: letters, digits, hyphens. gunicorn and nginx drop a
# header with an underscore by default (in WSGI, X_Api_Key and X-Api-Key would be the same variable).
HEADER_NAME = re.compile(r"[A-Za-z0-9-]+")
DEFAULT_POLICY = "default"
_POLICY_NAME = re.compile(r"[a-z][a-z0-9_]*")
# scheme://, a host name of at most 253 characters, :port: the longest Origin a browser sends.
LONGEST_ORIGIN = len("https://") + 253 + len(":65535")
# How many Origins' answers a policy keeps: the front ends, with room for passing strangers.
REMEMBERED_ORIGINS = 1024

# Each setting of a policy: the variable's name after CORS_ (or CORS_<NAME>_), and its built-in default.
SETTING_DEFAULTS: dict[str, str] = {
    "ORIGINS": "",
    "ALLOW_CREDENTIALS": "false",
    "ALLOW_METHODS": ", ".join(METHODS),
    "ALLOW_HEADERS": "Content-Type, Authorization",
    "EXPOSE_HEADERS": "",
    "MAX_AGE": "600",
    "ALLOW_PRIVATE_NETWORK": "false",
    "DYNAMIC_TTL": "60",
}
# What a public policy fixes in code: every origin, never credentials, nothing dynamic.
PUBLIC_FIXED = ("ORIGINS", "ALLOW_CREDENTIALS", "DYNAMIC_TTL")

LOG = logging.getLogger(__name__)

DynamicOriginCheck = Callable[[str], bool]


@dataclass(frozen=True)
class Policy:
    """A policy as declared in policies.py.

    `prefix` covers itself without its last slash too ("/api/" covers "/api"); the longest prefix
    that covers a path decides. A `public` policy answers every origin with `*` and never allows
    credentials. `dynamic_origins(origin) -> bool` is asked about Origins the static allowlist
    refuses. `defaults` replace SETTING_DEFAULTS for this policy's variables, by suffix
    ({"ALLOW_METHODS": "GET, HEAD"}); its environment variables still win.
    """

    name: str
    prefix: str
    public: bool = False
    dynamic_origins: DynamicOriginCheck | None = None
    defaults: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self):
        if not _POLICY_NAME.fullmatch(self.name):
            raise ValueError(f"policy name {self.name!r}: use lowercase letters, digits and underscores")
        if not (self.prefix.startswith("/") and self.prefix.endswith("/")):
            raise ValueError(f"policy {self.name!r}: its prefix {self.prefix!r} must start and end with '/'")
        unknown = set(self.defaults) - set(SETTING_DEFAULTS)
        if unknown:
            raise ValueError(f"policy {self.name!r}: no setting named {', '.join(sorted(unknown))}")
        if self.public and (self.dynamic_origins or set(self.defaults) & set(PUBLIC_FIXED)):
            raise ValueError(f"policy {self.name!r} is public: every origin, no credentials, no dynamic origins")

    @property
    def dynamic_origins_name(self) -> str | None:
        """How messages name the dynamic_origins callable: its qualified name, as in a traceback."""
        check = self.dynamic_origins
        return None if check is None else getattr(check, "__qualname__", repr(check))

    def variable(self, setting: str) -> str:
        """The environment variable of `setting`: CORS_ORIGINS for the default policy, CORS_<NAME>_ORIGINS else."""
        return f"CORS_{setting}" if self.name == DEFAULT_POLICY else f"CORS_{self.name.upper()}_{setting}"

    def variables(self) -> dict[str, str]:
        """{variable: default} for every setting this policy reads from the environment."""
        settings = [setting for setting in SETTING_DEFAULTS if not (self.public and setting in PUBLIC_FIXED)]
        return {self.variable(setting): self.defaults.get(setting, SETTING_DEFAULTS[setting]) for setting in settings}


@dataclass(frozen=True)
class CorsPolicy:
    """A declared policy with its settings read and checked: what the CORS layer applies."""

    declaration: Policy
    allowlist: Allowlist
    allow_credentials: bool
    allow_methods: tuple[str, ...]
    allow_headers: tuple[str, ...]
    expose_headers: tuple[str, ...]
    max_age: int
    allow_private_network: bool
    # Seconds a dynamic_origins answer is remembered per Origin.
    dynamic_ttl: int
    # Where each variable's value came from, by variable name (see settings.py).
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)

    @property
    def name(self) -> str:
        return self.declaration.name

    @property
    def prefix(self) -> str:
        return self.declaration.prefix

    @property
    def public(self) -> bool:
        return self.declaration.public

    def variable(self, setting: str) -> str:
        return self.declaration.variable(setting)


def start_up_notes(policies: tuple[CorsPolicy, ...]) -> list[str]:
    """What an operator should read when the server starts: each policy that goes beyond a list of origins."""
    notes = []
    for policy in policies:
        if policy.public:
            notes.append(
                f"CORS policy {policy.name!r} on {policy.prefix} is public: every origin may read it "
                "(Access-Control-Allow-Origin: *), never with credentials"
            )
        elif policy.declaration.dynamic_origins is not None:
            notes.append(
                f"CORS policy {policy.name!r} on {policy.prefix} also allows the origins "
                f"{policy.declaration.dynamic_origins_name} accepts, each answer kept {policy.dynamic_ttl} s"
            )
    return notes


def policy_for(policies: tuple[CorsPolicy, ...], path: str) -> CorsPolicy | None:
    """The policy with the longest prefix covering `path`, or None: then no CORS header at all."""
    by_prefix = {policy.prefix: policy for policy in policies}
    return by_prefix.get(longest_prefix(by_prefix, path))


def longest_prefix(prefixes: Container[str], path: str) -> str | None:
    """The longest of `prefixes` that covers `path`, or None.

    A prefix ends with "/" and covers the paths under it and itself without that slash ("/api/"
    covers "/api"). The lookups follow the slashes of the path, from its end: as many as the path
    has segments, however many prefixes there are.
    """
    if path + "/" in prefixes:
        return path + "/"
    end = path.rfind("/")
    while end >= 0:
        if path[: end + 1] in prefixes:
            return path[: end + 1]
        end = path.rfind("/", 0, end)
    return None


class DynamicOrigins:
    """A policy's dynamic_origins callable, asked once per Origin every `ttl` seconds, failing closed.

    Only an Origin in the exact form a browser sends, and one that start-up would accept in an
    allowlist for the environment (so never `null`, never http or a local origin in staging or
    production), reaches the callable: it can widen the allowlist only within the same rules. An
    exception or an answer that is not a bool refuses the Origin and logs an ERROR, once per policy.
    At most REMEMBERED_ORIGINS answers are kept; the oldest goes first.
    """

    def __init__(self, policy: CorsPolicy, environment: str, clock: Callable[[], float] = time.monotonic):
        self.check = policy.declaration.dynamic_origins
        self.check_name = policy.declaration.dynamic_origins_name
        self.policy_name = policy.name
        self.ttl = policy.dynamic_ttl
        self.environment = environment
        self.clock = clock
        self._answers: dict[str, tuple[bool, float]] = {}
        self._lock = threading.Lock()
        self._failure_logged = False

    def allows(self, origin: str) -> bool:
        now = self.clock()
        remembered = self._answers.get(origin)
        if remembered is not None and remembered[1] > now:
            return remembered[0]
        if not self.is_candidate(origin):
            return False
        allowed = self._ask(origin)
        with self._lock:  # threaded servers (flask run, gunicorn --threads) may evict at once
            self._answers.pop(origin, None)
            if len(self._answers) >= REMEMBERED_ORIGINS:
                self._answers.pop(next(iter(self._answers)))
            self._answers[origin] = (allowed, now + self.ttl)
        return allowed

    def is_candidate(self, origin: str) -> bool:
        """Whether `origin` is one the callable may allow: a browser's serialised origin start-up would accept."""
        if len(origin) > LONGEST_ORIGIN or "*" in origin:
            return False
        try:
            return normalise_origin(origin, environment=self.environment) == origin
        except OriginError:
            return False

    def _ask(self, origin: str) -> bool:
        try:
            answer = self.check(origin)
        except Exception as error:  # a failing tenant lookup must refuse, not answer 500
            return self._failed(f"raised {type(error).__name__}: {printable(str(error))}")
        if not isinstance(answer, bool):
            return self._failed(f"returned {type(answer).__name__} {printable(repr(answer))}, not True or False")
        return answer

    def _failed(self, what: str) -> bool:
        if not self._failure_logged:
            self._failure_logged = True
            name = self.check_name
            LOG.error(
                "CORS policy %r: dynamic_origins %s %s; its Origins are refused until it answers True or False "
                "(logged once)",
                self.policy_name,
                name,
                what,
            )
        return False
