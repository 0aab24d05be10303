"""Environment variables in, one typed and validated Settings object out.

This is the only module that reads the environment. A wrong value stops start-up with a
SettingsError naming the variable, quoting the value and saying what would be right, so a
misconfigured production API never starts with a CORS policy nobody meant.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import click

from .logs import LOG_FORMATS
from .origins import SEPARATORS, Allowlist, OriginError, parse_allowlist

ENVIRONMENTS = ("development", "testing", "staging", "production")

# Every variable read here, with the text used when it is unset (.env.example documents each one;
# a test keeps the two in step). No CORS_ORIGINS default outside development: see parse_allowlist.
# LOG_FORMAT's default depends on APP_ENV: see Settings.from_environ.
DEFAULTS: dict[str, str] = {
    "APP_ENV": "production",
    "CORS_ORIGINS": "",
    "CORS_ALLOW_CREDENTIALS": "{{ 'true' if cookiecutter.allow_credentials else 'false' }}",
    "CORS_ALLOW_METHODS": "GET, HEAD, POST, PUT, PATCH, DELETE",
    "CORS_ALLOW_HEADERS": "Content-Type, Authorization",
    "CORS_EXPOSE_HEADERS": "",
    "CORS_MAX_AGE": "600",
    "CORS_ALLOW_PRIVATE_NETWORK": "false",
    "PORT": "8000",
    "WEB_CONCURRENCY": "2",
    "GUNICORN_TIMEOUT": "30",
    "TRUSTED_PROXY_HOPS": "0",
    "LOG_FORMAT": "",
}

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
_BOOLEANS = {"true": True, "1": True, "yes": True, "on": True, "false": False, "0": False, "no": False, "off": False}
# Header names as they survive the way to the app: letters, digits, hyphens. gunicorn and nginx drop a
# header with an underscore by default (in WSGI, X_Api_Key and X-Api-Key would be the same variable).
HEADER_NAME = re.compile(r"[A-Za-z0-9-]+")
# What Kubernetes sets in every pod for a Service named cors or cors-<name>: CORS[_<NAME>]_SERVICE_HOST,
# _SERVICE_PORT[_<port name>], _PORT and _PORT_<port>_<protocol>[_PROTO|_PORT|_ADDR].
_SERVICE_LINK = re.compile(r"CORS_(?:\w+_)?(?:SERVICE_HOST|SERVICE_PORT(?:_\w+)?|PORT(?:_[0-9]+_(?:TCP|UDP|SCTP)\w*)?)")

SOURCE_ENVIRONMENT = "environment variable"
SOURCE_DOTENV = ".env file"
SOURCE_DEFAULT = "default"


class SettingsError(click.ClickException):
    """A variable with a value the API refuses to start with; the message says how to fix it.

    A ClickException, so `flask run` and `flask cors` print it as one error line, not a traceback.
    """

    exit_code = 2


@dataclass(frozen=True)
class Settings:
    """Everything the app and gunicorn are configured with, parsed and checked."""

    environment: str
    allowlist: Allowlist
    allow_credentials: bool
    allow_methods: tuple[str, ...]
    allow_headers: tuple[str, ...]
    expose_headers: tuple[str, ...]
    max_age: int
    allow_private_network: bool
    port: int
    web_concurrency: int
    timeout: int
    # Proxies in front of the app whose X-Forwarded-* headers are believed; 0: the client connects directly.
    trusted_proxy_hops: int
    # "json" (one object per line, for log collectors) or "text" (for people): see logs.py.
    log_format: str
    # Where each variable's value came from: SOURCE_ENVIRONMENT, SOURCE_DOTENV or SOURCE_DEFAULT
    # (for LOG_FORMAT, whose default depends on APP_ENV, "default for APP_ENV=<environment>").
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str], dotenv: Mapping[str, str | None] | None = None) -> Settings:
        """Build settings from environment variables, then a .env file's values, then DEFAULTS.

        A real environment variable wins over the same name in .env, as it does for python-dotenv.
        One equal to the .env value is reported as from .env: the `flask` command copies .env into
        the environment before the app loads.
        """
        dotenv = {name: value for name, value in (dotenv or {}).items() if value is not None}
        _refuse_misspelt_cors_variables([*environ, *dotenv])
        values: dict[str, str] = {}
        sources: dict[str, str] = {}
        for name, default in DEFAULTS.items():
            if name in environ and environ[name] != dotenv.get(name):
                values[name], sources[name] = environ[name], SOURCE_ENVIRONMENT
            elif name in dotenv:
                values[name], sources[name] = dotenv[name], SOURCE_DOTENV
            else:
                values[name], sources[name] = default, SOURCE_DEFAULT

        environment = _choice("APP_ENV", values["APP_ENV"], ENVIRONMENTS)
        try:
            allowlist = parse_allowlist(values["CORS_ORIGINS"], environment=environment)
        except OriginError as error:
            raise SettingsError(f"CORS_ORIGINS: {error}") from None
        allow_credentials = _boolean("CORS_ALLOW_CREDENTIALS", values["CORS_ALLOW_CREDENTIALS"])
        if allow_credentials and allowlist.any_origin:
            raise SettingsError(
                "CORS_ORIGINS='*' cannot be combined with CORS_ALLOW_CREDENTIALS=true: browsers "
                "refuse credentials from a wildcard. List the origins, or set CORS_ALLOW_CREDENTIALS=false"
            )
        if not values["LOG_FORMAT"]:
            # Log collectors where the API is deployed, a person reading a terminal elsewhere.
            values["LOG_FORMAT"] = "json" if environment in ("staging", "production") else "text"
            sources["LOG_FORMAT"] = f"{SOURCE_DEFAULT} for APP_ENV={environment}"
        return cls(
            environment=environment,
            allowlist=allowlist,
            allow_credentials=allow_credentials,
            allow_methods=_methods("CORS_ALLOW_METHODS", values["CORS_ALLOW_METHODS"]),
            allow_headers=_header_names("CORS_ALLOW_HEADERS", values["CORS_ALLOW_HEADERS"]),
            expose_headers=_header_names("CORS_EXPOSE_HEADERS", values["CORS_EXPOSE_HEADERS"]),
            max_age=_integer("CORS_MAX_AGE", values["CORS_MAX_AGE"], 0, 86400),
            allow_private_network=_boolean("CORS_ALLOW_PRIVATE_NETWORK", values["CORS_ALLOW_PRIVATE_NETWORK"]),
            port=_integer("PORT", values["PORT"], 1, 65535),
            web_concurrency=_integer("WEB_CONCURRENCY", values["WEB_CONCURRENCY"], 1, 64),
            timeout=_integer("GUNICORN_TIMEOUT", values["GUNICORN_TIMEOUT"], 1, 3600),
            trusted_proxy_hops=_integer("TRUSTED_PROXY_HOPS", values["TRUSTED_PROXY_HOPS"], 0, 10),
            log_format=_choice("LOG_FORMAT", values["LOG_FORMAT"], LOG_FORMATS),
            sources=sources,
        )


def load_settings(dotenv_path: str | None = ".env") -> Settings:
    """Read the process environment and, for local development, the .env file at `dotenv_path`."""
    if not (dotenv_path and os.path.isfile(dotenv_path)):
        return Settings.from_environ(os.environ)
    from dotenv import dotenv_values  # only where there is a .env: production starts without it

    dotenv = dotenv_values(dotenv_path)
    return Settings.from_environ(os.environ, dotenv)


def _refuse_misspelt_cors_variables(names: list[str]) -> None:
    """A misspelt setting would be ignored without a word, the policy left unchanged: refuse it.

    Only a near miss of a setting's name is refused (CORS_ORIGIN, CORS_ALLOW_METHOD). Other CORS_
    names belong to other programs, such as Kubernetes' service links (_SERVICE_LINK): refusing
    them would stop every pod of a namespace that has a Service named cors-<something>.
    """
    settings = [setting for setting in DEFAULTS if setting.startswith("CORS_")]
    for name in names:
        if name.startswith("CORS_") and name not in DEFAULTS and not _SERVICE_LINK.fullmatch(name):
            close = difflib.get_close_matches(name, settings, n=1, cutoff=0.8)
            if close:
                raise SettingsError(f"{name} is not a setting of this API: did you mean {close[0]}?")


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
            f"or leave it unset for the default {DEFAULTS[name]}"
        )
    for method in methods:
        if method not in METHODS:
            raise SettingsError(f"{name}: {method!r} is not one of {', '.join(METHODS)}")
    return tuple(methods)
