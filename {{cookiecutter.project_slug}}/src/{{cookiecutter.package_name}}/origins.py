"""What an allowed origin is, and how a request's Origin header is matched against the allowlist.

Pure functions, no Flask. settings.py parses CORS_ORIGINS with `parse_allowlist`, and cors.py
hands `Allowlist.pattern` to Flask-CORS. Every entry is normalised to the exact form a browser
sends (lowercase, no default port, no trailing slash or dot) or refused with a message that quotes
it and says how to fix it: an entry kept in any other form would silently never match.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from functools import cached_property

HTTPS_ONLY_ENVIRONMENTS = frozenset({"staging", "production"})
DEFAULT_PORTS = {"http": 80, "https": 443}
LOCAL_HOSTS = ("localhost", "127.0.0.1", "[::1]")

# One DNS label, as browsers serialise it: lowercase letters, digits and inner hyphens.
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_LABEL_RE = re.compile(_LABEL)
_LOCAL_ANY_PORT = r"https?://(?:localhost|127\.0\.0\.1|\[::1\])(?::[0-9]{1,5})?"
_SEPARATORS = re.compile(r"[\s,]+")


class OriginError(ValueError):
    """An allowlist entry that cannot be trusted; the message quotes it and says what would do."""


@dataclass(frozen=True)
class Allowlist:
    """The origins a browser may call the API from, each in the form a browser sends it."""

    exact: frozenset[str] = frozenset()
    # Each "scheme://*.domain[:port]": exactly one label in place of the "*".
    wildcards: tuple[str, ...] = ()
    # Any port on localhost, 127.0.0.1 or [::1], http or https: development's default.
    any_local: bool = False
    # "*": every origin. Development only, never together with credentials.
    any_origin: bool = False

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        """One compiled pattern, anchored at both ends, that matches exactly the allowed origins.

        Exact origins are laid out as a character trie, so a match reads the Origin once whatever
        the length of the list; a flat list (or a flat regex alternation) is tried entry by entry.
        """
        alternatives = [_trie_regex(sorted(self.exact))] if self.exact else []
        for wildcard in self.wildcards:
            scheme, rest = wildcard.split("://*", 1)
            alternatives.append(re.escape(scheme + "://") + _LABEL + re.escape(rest))
        if self.any_local or self.any_origin:
            alternatives.append(_LOCAL_ANY_PORT if self.any_local else ".*")
        if not alternatives:
            return re.compile(r"(?!)")  # an empty allowlist matches nothing
        return re.compile("(?:" + "|".join(alternatives) + r")\Z", re.IGNORECASE | re.ASCII)

    def allows(self, origin: str) -> bool:
        """Whether a browser at `origin` may read the API's responses."""
        return self.any_origin or self.pattern.match(origin) is not None

    def describe(self) -> list[str]:
        """The entries as a person would write them, for messages and `flask cors show`."""
        if self.any_origin:
            return ["*"]
        local = [f"{scheme}://{host}:<any port>" for host in LOCAL_HOSTS for scheme in DEFAULT_PORTS]
        return sorted(self.exact) + list(self.wildcards) + (local if self.any_local else [])


def parse_allowlist(value: str | None, *, environment: str) -> Allowlist:
    """Parse a comma- and/or whitespace-separated allowlist for `environment`.

    development: unset or empty means any local port; "*" means every origin.
    testing: entries required; http allowed. staging and production: entries required, https only.
    """
    entries = [entry for entry in _SEPARATORS.split(value or "") if entry]
    if not entries:
        if environment == "development":
            return Allowlist(any_local=True)
        raise OriginError(
            f"an allowlist is required when APP_ENV={environment}: list the origins of your "
            "front ends, for example https://app.example.com"
        )
    if "*" in entries:
        if environment != "development":
            raise OriginError(
                f"'*' would let every site on the web call the API; APP_ENV={environment} needs "
                "the exact origins of your front ends, for example https://app.example.com"
            )
        if len(entries) > 1:
            raise OriginError("'*' already allows every origin: use it alone or list origins")
        return Allowlist(any_origin=True)

    normalised = [normalise_origin(entry, environment=environment) for entry in entries]
    return Allowlist(
        exact=frozenset(origin for origin in normalised if "://*." not in origin),
        wildcards=tuple(dict.fromkeys(origin for origin in normalised if "://*." in origin)),
    )


def normalise_origin(entry: str, *, environment: str) -> str:
    """Return `entry` as a browser would send it, or raise OriginError saying what is wrong."""
    if entry.lower() == "null":
        raise OriginError(
            "'null' is the origin of sandboxed frames, file:// pages and redirects, which any "
            "site can produce: remove it"
        )
    scheme, separator, rest = entry.partition("://")
    scheme = scheme.lower()
    if not separator:
        raise OriginError(f"{entry!r} has no scheme: write https://{entry.strip('/')}")
    if scheme not in DEFAULT_PORTS:
        raise OriginError(f"{entry!r}: an origin starts with https:// (or http:// outside production)")
    if scheme == "http" and environment in HTTPS_ONLY_ENVIRONMENTS:
        raise OriginError(f"{entry!r}: APP_ENV={environment} accepts https origins only: write https://{rest}")

    authority = rest[:-1] if rest.endswith("/") else rest
    if any(mark in authority for mark in "/?#"):
        cut = min(authority.find(mark) for mark in "/?#" if mark in authority)
        raise OriginError(f"{entry!r}: an origin has no path, query or fragment: write {scheme}://{authority[:cut]}")
    if "@" in authority:
        raise OriginError(f"{entry!r}: an origin has no user name or password before '@'")

    host, port = _split_port(entry, authority)
    host = _normalise_host(entry, host)
    if environment in HTTPS_ONLY_ENVIRONMENTS and _is_local(host):
        raise OriginError(
            f"{entry!r} is a local development origin: APP_ENV={environment} serves real users, "
            "so list their front ends; use APP_ENV=development on your own machine"
        )
    if port is None or port == DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def _split_port(entry: str, authority: str) -> tuple[str, int | None]:
    """Split "host[:port]" (the host possibly a bracketed IPv6 address) and check the port."""
    if authority.startswith("["):
        host, bracket, after = authority.partition("]")
        host += bracket
        if after and not after.startswith(":"):
            raise OriginError(f"{entry!r}: {authority!r} is not a valid host")
        colon, port_text = after[:1], after[1:]
    else:
        host, colon, port_text = authority.partition(":")
    if not colon:
        return host, None
    if not (port_text.isascii() and port_text.isdigit() and 0 < int(port_text) < 65536):
        raise OriginError(f"{entry!r}: the port must be a number from 1 to 65535 (or no ':' at all)")
    return host, int(port_text)


def _normalise_host(entry: str, host: str) -> str:
    """Lowercase the host, drop a trailing dot, and check it is a name, an IP address or a wildcard."""
    host = host.lower().removesuffix(".")
    if host.startswith("[") and host.endswith("]"):
        try:
            return f"[{ipaddress.IPv6Address(host[1:-1]).compressed}]"
        except ValueError:
            raise OriginError(f"{entry!r}: {host} is not an IPv6 address") from None
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise OriginError(f"{entry!r}: {host!r} is not a valid host name") from None
    labels = host.split(".")
    if all(label.isdigit() for label in labels):
        try:
            return str(ipaddress.IPv4Address(host))
        except ValueError:
            raise OriginError(f"{entry!r}: {host} is not an IPv4 address") from None
    if "*" in host:
        _check_wildcard(entry, labels)
        labels = labels[1:]
    if len(host) > 253 or not all(_LABEL_RE.fullmatch(label) for label in labels):
        raise OriginError(
            f"{entry!r}: {host!r} is not a valid host name (letters, digits and inner hyphens, separated by dots)"
        )
    return host


def _check_wildcard(entry: str, labels: list[str]) -> None:
    """A wildcard stands for one whole leftmost label under a domain of at least two labels."""
    if labels[0] != "*" or "*" in labels[1:] or len(labels) < 3 or labels[-1].isdigit():
        raise OriginError(
            f"{entry!r}: a wildcard must be the whole leftmost label under a domain you own, "
            "as in https://*.example.com (one label: it matches pr-1.example.com, "
            "not example.com, not a.b.example.com)"
        )


def _is_local(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _trie_regex(words: list[str]) -> str:
    """A regex for exactly `words`, nested by shared prefix (one branch per next character)."""
    trie: dict[str, dict] = {}
    for word in words:
        node = trie
        for character in word:
            node = node.setdefault(character, {})
        node[""] = {}

    def render(node: dict[str, dict]) -> str:
        branches = [re.escape(character) + render(child) for character, child in node.items() if character]
        if not branches:
            return ""
        if len(branches) == 1 and "" not in node:
            return branches[0]
        return "(?:" + "|".join(branches) + (")?" if "" in node else ")")

    return render(trie)
