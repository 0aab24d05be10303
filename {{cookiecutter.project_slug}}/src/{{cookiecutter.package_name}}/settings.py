"""Environment variables in, one typed and validated Settings object out.

This is the only module that reads the environment. A wrong value stops start-up with a
SettingsError naming the variable, quoting the value and saying what would be right, so a
misconfigured production API never starts with a CORS policy nobody meant.
"""

from __future__ import annotations

import difflib
import os
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import click

from .cors.origins import SEPARATORS, Allowlist, OriginError, normalise_origin, parse_allowlist
from .cors.policy import (
    DEFAULT_POLICY,
    HEADER_NAME,
    METHODS,
    PUBLIC_FIXED,
    SETTING_DEFAULTS,
    CorsPolicy,
    Policy,
    canonical_path,
{%- if cookiecutter.auth != "none" %}
    policy_for,
{%- endif %}
)
from .logs import LOG_FORMATS
from .policies import POLICIES
from .proxies import Network, parse_networks

ENVIRONMENTS = ("development", "testing", "staging", "production")
# Where the API is served over https to real users: cookies are Secure, and a SECRET_KEY is never made up.
DEPLOYED = ("staging", "production")
SAMESITE_VALUES = ("Lax", "Strict", "None")
# token_urlsafe(32) gives 43 characters; a short key can be guessed offline from one signed cookie.
SHORTEST_SECRET_KEY = 32
KEY_COMMAND = "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
{%- if cookiecutter.database == "postgresql" %}
# Where a developer works and tests run: a SQLite file beside pyproject.toml, nothing to install or start.
EMBEDDED_DATABASES = {"development": "sqlite:///development.sqlite3", "testing": "sqlite:///testing.sqlite3"}
DATABASE_EXAMPLE = "postgresql+psycopg://USER:PASSWORD@HOST:5432/NAME"
{%- endif %}

# Every variable read here besides the policies' own, with the text used when it is unset (.env.example
# documents each one, and the default policy's CORS_* variables; a test keeps the two in step).
# LOG_FORMAT's default depends on APP_ENV: see Settings.from_environ.
DEFAULTS: dict[str, str] = {
    "APP_ENV": "production",
    "PORT": "8000",
    "WEB_CONCURRENCY": "2",
    "GUNICORN_TIMEOUT": "30",
    "TRUSTED_PROXY_HOPS": "0",
    "TRUSTED_PROXIES": "",
    "LOG_FORMAT": "",
    "SECRET_KEY": "",
    "API_ORIGIN": "",
{%- if cookiecutter.auth != "none" %}
    # Signing in (auth/): seconds a sign-in lasts, and the failed attempts allowed per account and per client
    # address within the window, in seconds.
    "LOGIN_LIFETIME": "{{ '1209600' if cookiecutter.auth == 'session' else '900' }}",
    "LOGIN_ATTEMPTS_PER_ACCOUNT": "5",
    "LOGIN_ATTEMPTS_PER_ADDRESS": "50",
    "LOGIN_ATTEMPTS_WINDOW": "900",
{%- endif %}
    "SESSION_COOKIE_SAMESITE": "Lax",
    "CROSS_SITE_WRITE_EXEMPT_PATHS": "",
    "API_DOCS": "",
{%- if cookiecutter.database == "postgresql" %}
    "DATABASE_URL": "",
    "DATABASE_POOL_SIZE": "5",
    "DATABASE_MAX_OVERFLOW": "5",
    "DATABASE_POOL_TIMEOUT": "10",
    "TENANT_ORIGINS": "false",
{%- endif %}
}
# The default policy's credentials default is the template answer's; every other default is the policy's.
CREDENTIALS_DEFAULT = "{{ cookiecutter.__credentials }}"

_BOOLEANS = {"true": True, "1": True, "yes": True, "on": True, "false": False, "0": False, "no": False, "off": False}
# What Kubernetes sets in every pod for a Service named cors or cors-<name>: CORS[_<NAME>]_SERVICE_HOST,
# _SERVICE_PORT[_<port name>], _PORT and _PORT_<port>_<protocol>[_PROTO|_PORT|_ADDR].
_SERVICE_LINK = re.compile(r"CORS_(?:\w+_)?(?:SERVICE_HOST|SERVICE_PORT(?:_\w+)?|PORT(?:_[0-9]+_(?:TCP|UDP|SCTP)\w*)?)")
# Other CORS libraries' setting names (Flask-CORS's config keys, django-cors-headers'), which this API
# would otherwise ignore without a word, each with the setting meant (None: what policies.py declares).
_FOREIGN_SETTINGS: dict[str, str | None] = {
    "ALLOWED_ORIGINS": "ORIGINS",
    "ALLOW_ORIGINS": "ORIGINS",
    "ORIGIN_WHITELIST": "ORIGINS",
    "ALLOWED_ORIGIN_REGEXES": "ORIGINS",
    "ALLOW_ALL_ORIGINS": "ORIGINS",
    "ORIGIN_ALLOW_ALL": "ORIGINS",
    "SUPPORTS_CREDENTIALS": "ALLOW_CREDENTIALS",
    "METHODS": "ALLOW_METHODS",
    "ALLOWED_METHODS": "ALLOW_METHODS",
    "ALLOWED_HEADERS": "ALLOW_HEADERS",
    "PREFLIGHT_MAX_AGE": "MAX_AGE",
    "RESOURCES": None,
    "URLS_REGEX": None,
    "SEND_WILDCARD": None,
    "ALWAYS_SEND": None,
}

SOURCE_ENVIRONMENT = "environment variable"
SOURCE_DOTENV = ".env file"
SOURCE_DEFAULT = "default"
SOURCE_GENERATED = "generated for this process"


{%- if cookiecutter.database == "postgresql" %}


@dataclass(frozen=True)
class DatabaseSettings:
    """The database URL and the connection pool of each process (db.py); connections are checked before use."""

    # A SQLAlchemy URL; it may hold a password. Only its scheme is checked here: gunicorn's master reads these
    # settings, and refuses a wrong value before any worker starts, without importing SQLAlchemy.
    url: str = field(repr=False)
    pool_size: int
    max_overflow: int
    # Seconds a request waits for a free connection before it fails.
    pool_timeout: int
{%- endif %}


class SettingsError(click.ClickException):
    """A variable with a value the API refuses to start with; the message says how to fix it.

    A ClickException, so `flask run` and `flask cors` print it as one error line, not a traceback.
    """

    exit_code = 2


{% if cookiecutter.auth != "none" -%}
# The paths of the sign-in routes (api/auth.py): the CORS policy covering them must fit how users sign in.
AUTH_PATH = "/api/auth/"


@dataclass(frozen=True)
class LoginSettings:
    """How signing in behaves: how long a sign-in lasts, and the guessing limits (auth/limits.py)."""

    lifetime: int
    attempts_per_account: int
    attempts_per_address: int
    attempts_window: int


{% endif -%}
@dataclass(frozen=True)
class Settings:
    """Everything the app and gunicorn are configured with, parsed and checked."""

    environment: str
    # One per policy declared in policies.py, in the order declared.
    policies: tuple[CorsPolicy, ...]
    port: int
    web_concurrency: int
    timeout: int
    # Proxies in front of the app whose X-Forwarded-* headers are believed; 0: the client connects directly.
    trusted_proxy_hops: int
    # "json" (one object per line, for log collectors) or "text" (for people): see logs.py.
    log_format: str
    # Signs Flask's session cookie. None only in staging and production without credentials: no session then.
    secret_key: str | None = field(repr=False)
    # The session cookie's SameSite attribute: Lax, Strict or None (None only where cookies are Secure).
    session_cookie_samesite: str
    # Where browsers reach the API (https://api.example.com): whether its cookies are third-party on a front end.
    api_origin: str | None
{%- if cookiecutter.auth != "none" %}
    login: LoginSettings
{%- endif %}
    # Path prefixes that accept writes from pages at any origin, such as an identity provider's callback.
    write_exempt_paths: tuple[str, ...]
    # The addresses and networks of the proxies whose X-Forwarded-* headers are believed (proxies.py);
    # empty: any peer, in development and testing only.
    trusted_proxies: tuple[Network, ...] = ()
    # Where each variable's value came from: SOURCE_ENVIRONMENT, SOURCE_DOTENV or SOURCE_DEFAULT
    # (for LOG_FORMAT, whose default depends on APP_ENV, "default for APP_ENV=<environment>").
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)
    # /api/openapi.json and the /api/docs page: on in development and staging, unless API_DOCS says otherwise.
    api_docs: bool = True
{%- if cookiecutter.database == "postgresql" %}
    database: DatabaseSettings | None = None
    # The default policy also allows the origins in the tenant table (tenants.py).
    tenant_origins: bool = False
{%- endif %}

    @property
    def secure_cookies(self) -> bool:
        """Cookies only over https: where the API is deployed. Locally it is served over http."""
        return self.environment in DEPLOYED

    def policy(self, name: str = DEFAULT_POLICY) -> CorsPolicy:
        return next(policy for policy in self.policies if policy.name == name)

    @classmethod
    def from_environ(
        cls,
        environ: Mapping[str, str],
        dotenv: Mapping[str, str | None] | None = None,
        declarations: tuple[Policy, ...] = POLICIES,
        serving: bool = True,
    ) -> Settings:
        """Build settings from environment variables, then a .env file's values, then the defaults.

        A real environment variable wins over the same name in .env, as it does for python-dotenv.
        One equal to the .env value is reported as from .env: the `flask` command copies .env into
        the environment before the app loads. `declarations` are the policies to read (policies.py's).
        `serving=False` is for commands that serve no request, such as `flask cors probe` run from a
        deploy machine with the deployment's APP_ENV and CORS_* only: what only a server needs, a
        SECRET_KEY, is not required then (one that is set is still checked).
        """
        dotenv = {name: value for name, value in (dotenv or {}).items() if value is not None}
        _check_declarations(declarations)
        _refuse_unknown_cors_variables([*environ, *dotenv], declarations)
        sources: dict[str, str] = {}

        def value(name: str, default: str) -> str:
            if name in environ and environ[name] != dotenv.get(name):
                sources[name] = SOURCE_ENVIRONMENT
                return environ[name]
            if name in dotenv:
                sources[name] = SOURCE_DOTENV
                return dotenv[name]
            sources[name] = SOURCE_DEFAULT
            return default

        values = {name: value(name, default) for name, default in DEFAULTS.items()}
        environment = _choice("APP_ENV", values["APP_ENV"], ENVIRONMENTS)
        policies = tuple(_read_policy(declaration, environment, value, sources) for declaration in declarations)
        if not values["LOG_FORMAT"]:
            # Log collectors where the API is deployed, a person reading a terminal elsewhere.
            values["LOG_FORMAT"] = "json" if environment in DEPLOYED else "text"
            sources["LOG_FORMAT"] = f"{SOURCE_DEFAULT} for APP_ENV={environment}"
        secret_key = _secret_key(values["SECRET_KEY"], environment, policies, serving)
        hops = _integer("TRUSTED_PROXY_HOPS", values["TRUSTED_PROXY_HOPS"], 0, 10)
        if secret_key and not values["SECRET_KEY"]:
            sources["SECRET_KEY"] = SOURCE_GENERATED
        return cls(
            environment=environment,
            policies=policies,
            port=_integer("PORT", values["PORT"], 1, 65535),
            web_concurrency=_integer("WEB_CONCURRENCY", values["WEB_CONCURRENCY"], 1, 64),
            timeout=_integer("GUNICORN_TIMEOUT", values["GUNICORN_TIMEOUT"], 1, 3600),
            trusted_proxy_hops=hops,
            trusted_proxies=_trusted_proxies(values["TRUSTED_PROXIES"], hops, environment),
            log_format=_choice("LOG_FORMAT", values["LOG_FORMAT"], LOG_FORMATS),
            secret_key=secret_key,
            session_cookie_samesite=_samesite(values["SESSION_COOKIE_SAMESITE"], environment),
            api_origin=_api_origin(values["API_ORIGIN"], environment),
{%- if cookiecutter.auth != "none" %}
            login=_login(values, policies),
{%- endif %}
            write_exempt_paths=_exempt_paths(values["CROSS_SITE_WRITE_EXEMPT_PATHS"]),
            sources=sources,
            api_docs=_boolean("API_DOCS", values["API_DOCS"] or str(environment in ("development", "staging"))),
{%- if cookiecutter.database == "postgresql" %}
            database=DatabaseSettings(
                url=_database_url(values["DATABASE_URL"], environment, serving),
                pool_size=_integer("DATABASE_POOL_SIZE", values["DATABASE_POOL_SIZE"], 1, 100),
                max_overflow=_integer("DATABASE_MAX_OVERFLOW", values["DATABASE_MAX_OVERFLOW"], 0, 100),
                pool_timeout=_integer("DATABASE_POOL_TIMEOUT", values["DATABASE_POOL_TIMEOUT"], 1, 300),
            ),
            tenant_origins=_boolean("TENANT_ORIGINS", values["TENANT_ORIGINS"]),
{%- endif %}
        )


def load_settings(
    dotenv_path: str | None = ".env", overrides: Mapping[str, str] | None = None, serving: bool = True
) -> Settings:
    """Read the process environment and, for local development, the .env file at `dotenv_path`.

    Where the environment itself says APP_ENV=staging or production (not a copy of .env's), .env does not
    count: a `flask` command run for a deployment from a checkout (a probe, a migration) uses the deployment's
    variables only, never the development values a .env there holds. `overrides` win over both, as environment
    variables: the playground's own CORS_ORIGINS. `serving`: as for Settings.from_environ.
    """
    environ = {**os.environ, **(overrides or {})}
    if not (dotenv_path and os.path.isfile(dotenv_path)):
        return Settings.from_environ(environ, serving=serving)
    from dotenv import dotenv_values  # only where there is a .env: production starts without it

    dotenv = dotenv_values(dotenv_path)
    if environ.get("APP_ENV") in DEPLOYED and environ["APP_ENV"] != dotenv.get("APP_ENV"):
        return Settings.from_environ(_without_copies_of(dotenv, environ), serving=serving)
    return Settings.from_environ(environ, dotenv, serving=serving)


def _without_copies_of(dotenv: Mapping[str, str | None], environ: Mapping[str, str]) -> dict[str, str]:
    """`environ` without the values the `flask` command copied from .env before the app loaded (it does unless
    FLASK_SKIP_DOTENV=1): those equal to .env's, which count as .env's, as Settings.from_environ reports them."""
    return {name: value for name, value in environ.items() if name == "APP_ENV" or dotenv.get(name) != value}


def policy_defaults(declaration: Policy) -> dict[str, str]:
    """{variable: default} of a declared policy; the default policy's credentials follow the template answer."""
    defaults = declaration.variables()
    if declaration.name == DEFAULT_POLICY and "ALLOW_CREDENTIALS" not in declaration.defaults:
        defaults[declaration.variable("ALLOW_CREDENTIALS")] = CREDENTIALS_DEFAULT
    return defaults


def _read_policy(
    declaration: Policy, environment: str, value: Callable[[str, str], str], sources: dict[str, str]
) -> CorsPolicy:
    """One declared policy's variables, read with `value(name, default)` and checked."""
    variables = policy_defaults(declaration)
    values = {name: value(name, default) for name, default in variables.items()}
    setting = {suffix: values.get(declaration.variable(suffix), "") for suffix in SETTING_DEFAULTS}
    origins_variable = declaration.variable("ORIGINS")
    credentials_variable = declaration.variable("ALLOW_CREDENTIALS")
    if declaration.public:
        allowlist, allow_credentials = Allowlist(any_origin=True), False
    else:
        try:
            allowlist = parse_allowlist(setting["ORIGINS"], environment=environment)
        except OriginError as error:
            raise SettingsError(f"{origins_variable}: {error}") from None
        allow_credentials = _boolean(credentials_variable, setting["ALLOW_CREDENTIALS"])
        if allow_credentials and allowlist.any_origin:
            raise SettingsError(
                f"{origins_variable}='*' cannot be combined with {credentials_variable}=true: browsers "
                f"refuse credentials from a wildcard. List the origins, or set {credentials_variable}=false"
            )
    return CorsPolicy(
        declaration=declaration,
        allowlist=allowlist,
        allow_credentials=allow_credentials,
        allow_methods=_methods(declaration.variable("ALLOW_METHODS"), setting["ALLOW_METHODS"]),
        allow_headers=_header_names(declaration.variable("ALLOW_HEADERS"), setting["ALLOW_HEADERS"]),
        expose_headers=_header_names(declaration.variable("EXPOSE_HEADERS"), setting["EXPOSE_HEADERS"]),
        max_age=_integer(declaration.variable("MAX_AGE"), setting["MAX_AGE"], 0, 86400),
        allow_private_network=_boolean(declaration.variable("ALLOW_PRIVATE_NETWORK"), setting["ALLOW_PRIVATE_NETWORK"]),
        # A public policy has no dynamic origins, and reads no DYNAMIC_TTL.
        dynamic_ttl=0
        if declaration.public
        else _integer(declaration.variable("DYNAMIC_TTL"), setting["DYNAMIC_TTL"], 0, 86400),
        sources={name: sources[name] for name in variables},
    )


def _check_declarations(declarations: tuple[Policy, ...]) -> None:
    """The default policy is declared, and no two policies share a name or a prefix."""
    names = [declaration.name for declaration in declarations]
    prefixes = [declaration.prefix for declaration in declarations]
    if DEFAULT_POLICY not in names:
        raise SettingsError(
            f"policies.py declares no policy named {DEFAULT_POLICY!r}: it is the one CORS_ORIGINS configures"
        )
    for kind, items in (("name", names), ("prefix", prefixes)):
        repeated = sorted({item for item in items if items.count(item) > 1})
        if repeated:
            raise SettingsError(f"policies.py declares two policies with the {kind} {repeated[0]!r}")


def _refuse_unknown_cors_variables(names: list[str], declarations: tuple[Policy, ...]) -> None:
    """A misspelt setting would be ignored without a word, the policy left unchanged: refuse it.

    Refused: another library's name for a setting (CORS_SUPPORTS_CREDENTIALS, CORS_ALLOWED_ORIGINS),
    a near miss of a setting's name (CORS_ORIGIN, CORS_ALLOW_METHOD, CORS_PARTNER_ORIGINS), and a
    setting a public policy fixes in code (CORS_PUBLIC_ORIGINS). Other CORS_ names belong to other
    programs, such as Kubernetes' service links (_SERVICE_LINK): refusing them would stop every pod of
    a namespace that has a Service named cors-<something>.
    """
    settings = [name for declaration in declarations for name in declaration.variables()]
    for name in names:
        if not name.startswith("CORS_") or name in settings or _SERVICE_LINK.fullmatch(name):
            continue
        for declaration in declarations:
            prefix = declaration.variable("")
            suffix = name.removeprefix(prefix) if name.startswith(prefix) else None
            if declaration.public and _FOREIGN_SETTINGS.get(suffix, suffix) in PUBLIC_FIXED:
                raise SettingsError(
                    f"{name}: the policy {declaration.name!r} is public (policies.py): every origin may read "
                    f"{declaration.prefix}, with Access-Control-Allow-Origin: * and never with credentials. Remove "
                    f"{name}, or declare a policy that is not public to list origins"
                )
            if suffix in _FOREIGN_SETTINGS:
                meant = _FOREIGN_SETTINGS[suffix]
                fix = f"use {declaration.variable(meant)}" if meant else "declare paths and policies in policies.py"
                raise SettingsError(f"{name} is another CORS library's setting, ignored by this API: {fix}")
        close = difflib.get_close_matches(name, settings, n=1, cutoff=0.8)
        if close:
            raise SettingsError(f"{name} is not a setting of this API: did you mean {close[0]}?")


def _secret_key(value: str, environment: str, policies: tuple[CorsPolicy, ...], serving: bool) -> str | None:
    """SECRET_KEY, which signs the session cookie; never quoted in a message, as it is a secret.

    Required in staging and production when a policy allows credentials: a front end calling with
    cookies needs a session every worker and every restart can read. In development and testing a
    missing one is made up for the process (sessions last until a restart; the project's own .env
    has one). In staging and production without credentials a missing one stays missing: Flask then
    refuses to use a session, where a made-up key would differ between workers without a word.
    Not `serving` (a command that answers no request), a missing one is not required.
    """
    if not value:
        credentials = [policy.variable("ALLOW_CREDENTIALS") for policy in policies if policy.allow_credentials]
        if environment in DEPLOYED and credentials and serving:
            raise SettingsError(
                f"SECRET_KEY is required when APP_ENV={environment} and {credentials[0]}=true: it signs the "
                f"session cookie of the front ends calling with credentials. Set it to a random value of "
                f"{SHORTEST_SECRET_KEY} characters or more, the same in every instance: {KEY_COMMAND}"
            )
{%- if cookiecutter.auth == "token" %}
        if environment in DEPLOYED and serving:
            raise SettingsError(
                f"SECRET_KEY is required when APP_ENV={environment}: it signs the sign-in tokens. Set it to a random "
                f"value of {SHORTEST_SECRET_KEY} characters or more, the same in every instance: {KEY_COMMAND}"
            )
{%- endif %}
        return None if environment in DEPLOYED else secrets.token_urlsafe(32)
    if len(value) < SHORTEST_SECRET_KEY:
        raise SettingsError(
            f"SECRET_KEY is {len(value)} characters long (its value is not shown: it is a secret): a short key can "
            f"be guessed from one signed cookie. Use a random value of {SHORTEST_SECRET_KEY} characters or more: "
            f"{KEY_COMMAND}"
        )
    return value


def _trusted_proxies(value: str, hops: int, environment: str) -> tuple[Network, ...]:
    """The proxies' addresses or networks: required with TRUSTED_PROXY_HOPS in staging and production, where a
    client reaching the app around the proxy would otherwise choose the scheme and host the write check trusts."""
    try:
        networks = parse_networks(_items(value))
    except ValueError as error:
        raise SettingsError(
            f"TRUSTED_PROXIES: {error}: list the proxies' IP addresses or networks, such as 10.0.0.0/8 or 127.0.0.1"
        ) from None
    if networks and not hops:
        raise SettingsError(
            "TRUSTED_PROXIES is set but TRUSTED_PROXY_HOPS=0 believes no proxy: set TRUSTED_PROXY_HOPS to the number "
            "of proxies in front of the app, or remove TRUSTED_PROXIES"
        )
    if hops and not networks and environment in DEPLOYED:
        raise SettingsError(
            f"TRUSTED_PROXY_HOPS={hops} needs TRUSTED_PROXIES when APP_ENV={environment}: without it, a client that "
            "reaches the app around the proxy chooses the scheme and host it is judged by. Set TRUSTED_PROXIES to the "
            "address or network the proxy connects from (the ingress controller's pods, say 10.0.0.0/8; 127.0.0.1 "
            "for a proxy on the same machine)"
        )
    return networks
{%- if cookiecutter.database == "postgresql" %}


def database_required(where: str) -> SettingsError:
    """The refusal of a missing DATABASE_URL `where` it is needed."""
    return SettingsError(
        f"DATABASE_URL is required {where}: set it to the PostgreSQL database, {DATABASE_EXAMPLE} (from a "
        "secret: it holds a password)"
    )


def _database_url(value: str, environment: str, serving: bool) -> str:
    """A SQLite file in development and testing unless set; PostgreSQL through psycopg 3, required, where deployed.
    Not `serving` (a command that answers no request), a missing one is "": db.py refuses it if a command uses it.

    The value is never quoted back: it may hold a password.
    """
    if not value:
        if environment in DEPLOYED:
            if serving:
                raise database_required(f"when APP_ENV={environment}")
            return ""
        value = EMBEDDED_DATABASES[environment]
    scheme, separator, _ = value.partition("://")
    if not separator:
        raise SettingsError(f"DATABASE_URL is not a database URL: write {DATABASE_EXAMPLE}")
    if scheme.partition("+")[0] in ("postgres", "postgresql") and scheme != "postgresql+psycopg":
        raise SettingsError(
            f"DATABASE_URL uses the driver {scheme!r}: this API talks to PostgreSQL through psycopg 3, "
            f"write {DATABASE_EXAMPLE}"
        )
    if scheme == "sqlite" and environment in DEPLOYED:
        raise SettingsError(
            f"DATABASE_URL is a SQLite database, for development and testing only: when APP_ENV={environment} "
            f"use PostgreSQL, {DATABASE_EXAMPLE}"
        )
    if scheme not in ("sqlite", "postgresql+psycopg"):
        raise SettingsError(f"DATABASE_URL: {scheme!r} is not supported: write {DATABASE_EXAMPLE}")
    return value
{%- endif %}


def _samesite(value: str, environment: str) -> str:
    """Lax, Strict or None; None only where cookies are Secure, as browsers drop a SameSite=None cookie otherwise."""
    samesite = _choice("SESSION_COOKIE_SAMESITE", value, SAMESITE_VALUES)
    if samesite == "None" and environment not in DEPLOYED:
        raise SettingsError(
            f"SESSION_COOKIE_SAMESITE='None' needs Secure cookies, and APP_ENV={environment} serves http: browsers "
            "would drop the cookie. Use Lax: a front end at http://localhost:<port> calling the API at "
            "http://localhost:<port> is on the same site"
        )
    return samesite


def _api_origin(value: str, environment: str) -> str | None:
    """API_ORIGIN as a browser spells it, or None when unset; one origin, no wildcard."""
    if not value:
        return None
    try:
        origin = normalise_origin(value, environment=environment)
    except OriginError as error:
        raise SettingsError(f"API_ORIGIN: {error}") from None
    if "*" in origin:
        raise SettingsError(f"API_ORIGIN={value}: the API's own origin, one host without a wildcard")
    return origin


{% if cookiecutter.auth != "none" -%}
def _login(values: Mapping[str, str], policies: tuple[CorsPolicy, ...]) -> LoginSettings:
    """The sign-in settings, once the CORS policy of the sign-in routes is known to fit them: {% if cookiecutter.auth == "session" %}a session
    cookie goes only on credentialed requests, so that policy must allow credentials{% else %}a token goes in the
    Authorization header, so that policy must allow the header{% endif %}."""
    policy = policy_for(policies, AUTH_PATH)
{%- if cookiecutter.auth == "session" %}
    if policy is None or not policy.allow_credentials:
        variable = policy.variable("ALLOW_CREDENTIALS") if policy else "CORS_ALLOW_CREDENTIALS"
        raise SettingsError(
            f"{variable}=false, yet users sign in with a session cookie, which browsers send on credentialed "
            f"requests only: set {variable}=true (the policy of {AUTH_PATH}), or sign in with tokens instead"
        )
{%- else %}
    if policy is None or "authorization" not in {name.lower() for name in policy.allow_headers}:
        variable = policy.variable("ALLOW_HEADERS") if policy else "CORS_ALLOW_HEADERS"
        listed = [*policy.allow_headers, "Authorization"] if policy else ["Authorization"]
        raise SettingsError(
            f"{variable} leaves out Authorization, the header that carries the sign-in token, so browsers would "
            f'refuse every signed-in call from a front end: set {variable}="{", ".join(listed)}"'
        )
{%- endif %}
    return LoginSettings(
        lifetime=_integer("LOGIN_LIFETIME", values["LOGIN_LIFETIME"], 60, 31_536_000),
        attempts_per_account=_integer("LOGIN_ATTEMPTS_PER_ACCOUNT", values["LOGIN_ATTEMPTS_PER_ACCOUNT"], 1, 1000),
        attempts_per_address=_integer("LOGIN_ATTEMPTS_PER_ADDRESS", values["LOGIN_ATTEMPTS_PER_ADDRESS"], 1, 100_000),
        attempts_window=_integer("LOGIN_ATTEMPTS_WINDOW", values["LOGIN_ATTEMPTS_WINDOW"], 1, 86_400),
    )


{% endif -%}
def _exempt_paths(value: str) -> tuple[str, ...]:
    """Path prefixes, each starting with '/'; '/' alone, which would turn the protection off, is refused."""
    paths = tuple(_items(value))
    for path in paths:
        if not path.startswith("/") or any(char in path for char in "?#*"):
            raise SettingsError(
                f"CROSS_SITE_WRITE_EXEMPT_PATHS: {path!r} is not a path: write one starting with '/', without a "
                "query or wildcard, such as /auth/callback (it covers the paths under it too)"
            )
        if not path.strip("/"):  # "/", "//": every path
            raise SettingsError(
                "CROSS_SITE_WRITE_EXEMPT_PATHS: '/' exempts every path and turns the protection off: list only "
                "the paths that must accept posts from other sites, such as /auth/callback"
            )
        if canonical_path(path) != path:
            raise SettingsError(
                f"CROSS_SITE_WRITE_EXEMPT_PATHS: {path!r} is not a path as the router reads it: write it with single "
                "slashes and no '.' or '..' segment, such as /auth/callback"
            )
    return paths


def _choice(name: str, value: str, choices: tuple[str, ...]) -> str:
    """Exactly one of `choices`: a near miss such as "prod" must not quietly pick a policy.

    The refusal names the choice most likely meant: the one the value begins, or else the closest.
    """
    if value in choices:
        return value
    typed = value.strip().lower()
    meant = [choice for choice in choices if typed and choice.startswith(typed)]
    meant = meant or difflib.get_close_matches(typed, choices, n=1)
    hint = f": did you mean {meant[0]}?" if meant else ""
    raise SettingsError(f"{name}={value!r} is not one of {', '.join(choices)}{hint}")


def _boolean(name: str, value: str) -> bool:
    try:
        return _BOOLEANS[value.strip().lower()]
    except KeyError:
        raise SettingsError(f"{name}={value!r} is not a boolean: use true or false") from None


def _integer(name: str, value: str, minimum: int, maximum: int) -> int:
    text = value.strip()
    if not (text.isascii() and text.isdigit() and minimum <= int(text) <= maximum):
        raise SettingsError(f"{name}={value!r} must be a whole number from {minimum} to {maximum}")
    return int(text)


def _items(value: str) -> list[str]:
    return list(dict.fromkeys(item for item in SEPARATORS.split(value) if item))


def _header_names(name: str, value: str) -> tuple[str, ...]:
    """Header names, listed one by one: '*' is refused, as browsers ignore it with credentials."""
    headers = tuple(_items(value))
    for header in headers:
        if not HEADER_NAME.fullmatch(header):
            raise SettingsError(
                f"{name}: {header!r} is not a header name a server passes on; list names of letters, digits "
                "and hyphens, such as Content-Type, Authorization"
            )
    return headers


def _methods(name: str, value: str) -> tuple[str, ...]:
    """One or more of METHODS, each once.

    None at all is refused: every preflight would be. (An empty CORS_ALLOW_HEADERS is a policy,
    no request header beyond the safelisted ones; an empty list of methods is a mistake.)
    """
    methods = list(dict.fromkeys(method.upper() for method in _items(value)))
    if not methods:
        raise SettingsError(
            f"{name}={value!r} lists no method, so every preflight would be refused: list methods, "
            f"or leave it unset for the default {SETTING_DEFAULTS['ALLOW_METHODS']}"
        )
    for method in methods:
        if method not in METHODS:
            raise SettingsError(f"{name}: {method!r} is not one of {', '.join(METHODS)}")
    return tuple(methods)
