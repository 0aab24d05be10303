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
from collections.abc import Callable, Collection, Mapping
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
# Seconds a request waits for dynamic_origins' answer about its Origin while another request asks it.
DYNAMIC_WAIT_SECONDS = 5.0
# What dynamic_origins may raise that is not a failure to answer: the process being stopped.
STOPPING = (KeyboardInterrupt, SystemExit)
# A run of slashes in a path: Werkzeug's router reads it as one slash.
_SLASHES = re.compile(r"//+")
# What a policy prefix is made of: "/", or segments of URL path characters, each followed by "/".
_PREFIX = re.compile(r"/(?:[A-Za-z0-9._~!$&'()*+,;=:@-]+/)*")

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
        if not _PREFIX.fullmatch(self.prefix) or canonical_path(self.prefix) != self.prefix:
            raise ValueError(
                f"policy {self.name!r}: its prefix {self.prefix!r} must be a path as the router reads it: segments of "
                "letters, digits and -._~ (no '//', no '.' or '..' segment, nothing percent-encoded)"
            )
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


def canonical_path(path: str) -> str | None:
    """`path` as Werkzeug's router dispatches it, or None for a path no router reading agrees on.

    The router reads a path with its leading slashes as one ("//api/admin" runs the view of "/api/admin")
    and redirects one with a run of slashes inside to the path with one; the server has already decoded
    %2F into "/". So the CORS layer judges, and hands on to Flask, the path with one slash for each run:
    the policy that judges a request is the one of the route that runs. A "." or ".." segment (or its
    %2E form) gets None: browsers resolve them before sending, servers and proxies disagree on them, so
    only a hand-made request has one, and the layer refuses it. Linear in the path's length.
    """
    if path and path[0] != "/":
        path = "/" + path
    if "//" in path:
        path = _SLASHES.sub("/", path)
    if "/." in path and any(segment in (".", "..") for segment in path.split("/")):
        return None
    return path


def policy_for(policies: tuple[CorsPolicy, ...], path: str) -> CorsPolicy | None:
    """The policy with the longest prefix covering `path` as the router reads it, or None: no CORS header then."""
    by_prefix = {policy.prefix: policy for policy in policies}
    canonical = canonical_path(path)
    return None if canonical is None else by_prefix.get(longest_prefix(by_prefix, canonical))


def longest_prefix(prefixes: Collection[str], path: str, longest: int | None = None) -> str | None:
    """The longest of `prefixes` that covers `path`, or None.

    A prefix ends with "/" and covers the paths under it and itself without that slash ("/api/"
    covers "/api"). Only the first `longest` characters of the path are read (the length of the
    longest prefix; computed when not given), and the lookups follow their slashes from the end: the
    work is bounded by the declared prefixes, however long the path.
    """
    if longest is None:
        longest = max(map(len, prefixes), default=0)
    if len(path) < longest and path + "/" in prefixes:
        return path + "/"
    end = path.rfind("/", 0, longest)
    while end >= 0:
        if path[: end + 1] in prefixes:
            return path[: end + 1]
        end = path.rfind("/", 0, end)
    return None


class DynamicOrigins:
    """A policy's dynamic_origins callable, asked once per Origin every `ttl` seconds, failing closed.

    Only an Origin in the exact form a browser sends, and one that start-up would accept in an
    allowlist for the environment (so never `null`, never http or a local origin in staging or
    production), reaches the callable: it can widen the allowlist only within the same rules.

    One question per Origin at a time in a process: requests with the Origin being asked about wait
    for that answer (at most `wait` seconds, then they are refused), so a burst from a new front end
    makes one lookup, not one per request. An answer that is not a bool refuses the Origin, and so does
    any exception, BaseException included: gevent's and eventlet's Timeout, asyncio's CancelledError,
    gevent's GreenletExit. Only KeyboardInterrupt and SystemExit, which stop the process, go through.
    Each failure logs an ERROR, once per policy. At most REMEMBERED_ORIGINS answers are kept; the
    oldest goes first.
    """

    def __init__(
        self,
        policy: CorsPolicy,
        environment: str,
        clock: Callable[[], float] = time.monotonic,
        wait: float = DYNAMIC_WAIT_SECONDS,
    ):
        self.check = policy.declaration.dynamic_origins
        self.check_name = policy.declaration.dynamic_origins_name
        self.policy_name = policy.name
        self.ttl = policy.dynamic_ttl
        self.environment = environment
        self.clock = clock
        self.wait = wait
        self._answers: dict[str, tuple[bool, float]] = {}
        # The questions being asked, by Origin: what the requests with that Origin wait for.
        self._asking: dict[str, _Question] = {}
        self._lock = threading.Lock()
        self._failure_logged = False

    def allows(self, origin: str) -> bool:
        now = self.clock()
        remembered = self._answers.get(origin)
        if remembered is not None and remembered[1] > now:
            return remembered[0]
        if not self.is_candidate(origin):
            return False
        with self._lock:  # threaded servers (flask run, gunicorn --threads, gevent) ask at once
            question = self._asking.get(origin)
            asking = question is None
            if asking:
                question = self._asking[origin] = _Question()
        if not asking:
            return question.answered.wait(self.wait) and question.allowed
        try:
            question.allowed = self._ask(origin)
            with self._lock:
                self._answers.pop(origin, None)
                if len(self._answers) >= REMEMBERED_ORIGINS:
                    self._answers.pop(next(iter(self._answers)))
                self._answers[origin] = (question.allowed, now + self.ttl)
        finally:  # KeyboardInterrupt and SystemExit too: the waiting requests are refused, not left hanging
            with self._lock:
                del self._asking[origin]
            question.answered.set()
        return question.allowed

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
        except BaseException as error:  # a failing tenant lookup, a timeout, a cancellation: refused, never a 500
            if isinstance(error, STOPPING):
                raise
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


class _Question:
    """One dynamic_origins question in progress: its answer, once `answered` is set (False until then)."""

    __slots__ = ("allowed", "answered")

    def __init__(self):
        self.allowed = False
        self.answered = threading.Event()
