"""What an allowed origin is, and how a request's Origin header is matched against the allowlist.

Pure functions, no Flask and no import from this package: the template's pre-generation hook loads
this file on its own to check an answer. The two libraries it needs, idna (international names) and
publicsuffixlist (wildcards), are imported where they are used, so the hook can say which one
cookiecutter's Python lacks. settings.py parses CORS_ORIGINS with `parse_allowlist`,
and layer.py hands `Allowlist.pattern` to Flask-CORS. Every entry is normalised to the exact form a
browser sends (lowercase, no default port, no trailing slash or dot) or refused with a message that
quotes it and says how to fix it: an entry kept in any other form would silently never match.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from functools import cache, cached_property

HTTPS_ONLY_ENVIRONMENTS = frozenset({"staging", "production"})
DEFAULT_PORTS = {"http": 80, "https": 443}
# The hosts front-end dev servers are opened on: development's default allows each on any port, http
# or https. Staging and production refuse these and every other loopback host (see _is_local).
LOCAL_HOSTS = ("localhost", "127.0.0.1", "[::1]")
# What separates the items of a list setting (CORS_ORIGINS, CORS_ALLOW_METHODS, ...): commas and/or whitespace.
SEPARATORS = re.compile(r"[\s,]+")

# A name in place of a wildcard's "*" that a browser sees as a site of its own (a public suffix, or a
# domain registered directly under one: https://*.github.io, https://*.co.uk, https://*.kawasaki.jp)
# would let strangers' sites in, so staging and production refuse such a wildcard. Whether it is one is
# read from the Public Suffix List, ICANN and private sections with their wildcard and exception rules,
# as shipped by the publicsuffixlist package (released monthly; uv.lock pins it, Dependabot moves it).
# Any one label stands for them all: a rule naming one label under a domain someone owns changes nothing.
_PROBE_LABEL = "a"
# One DNS label, as browsers serialise it: lowercase letters, digits and inner hyphens.
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_LABEL_RE = re.compile(_LABEL)
# The last label of a host the WHATWG URL parser reads as an IPv4 address (0x7f.1, 127.1, 2130706433).
_NUMBER_LABEL = re.compile(r"[0-9]+|0[xX][0-9a-fA-F]*")
# "This network" (0.0.0.0/8): browsers send requests for these addresses to the machine itself.
_THIS_NETWORK = ipaddress.IPv4Network("0.0.0.0/8")
_LOCAL_ANY_PORT = r"https?://(?:" + "|".join(map(re.escape, LOCAL_HOSTS)) + r")(?::[0-9]{1,5})?"
_QUOTES = ('"', "'")


class OriginError(ValueError):
    """An allowlist entry that cannot be trusted; the message quotes it and says what would do."""


@dataclass(frozen=True)
class Allowlist:
    """The origins a browser may call the API from, each in the form a browser sends it."""

    exact: frozenset[str] = frozenset()
    # Each "scheme://*.domain[:port]": exactly one label in place of the "*".
    wildcards: tuple[str, ...] = ()
    # Any port on LOCAL_HOSTS, http or https: development's default.
    any_local: bool = False
    # "*": every origin. Development only, never together with credentials.
    any_origin: bool = False

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        """One compiled pattern, anchored at both ends, that matches exactly the listed origins.

        Exact origins are laid out as a character trie, so a match reads the Origin once whatever
        the length of the list; a flat list (or a flat regex alternation) is tried entry by entry.
        `any_origin` is not in it: layer.py gives Flask-CORS "*" instead.
        """
        alternatives = [_trie_regex(sorted(self.exact))] if self.exact else []
        for wildcard in self.wildcards:
            scheme, rest = wildcard.split("://*", 1)
            alternatives.append(re.escape(scheme + "://") + _LABEL + re.escape(rest))
        if self.any_local:
            alternatives.append(_LOCAL_ANY_PORT)
        if not alternatives:
            return re.compile(r"(?!)")  # an empty allowlist matches nothing
        return re.compile("(?:" + "|".join(alternatives) + r")\Z", re.IGNORECASE | re.ASCII)

    def allows(self, origin: str) -> bool:
        """Whether a browser at `origin` may read the API's responses.

        The decision Flask-CORS makes with `pattern` (or "*"), as one call for tests and for trying an
        origin in a Python shell; the app itself never calls it.
        """
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
    entries = [entry for entry in SEPARATORS.split(value or "") if entry]
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
    """Return `entry` as a browser would send it, or raise OriginError saying what is wrong.

    The most telling mistake is reported first: a quoted or run-together value before its scheme,
    a local origin before its http scheme (whose fix, https, would be refused as local too).
    """
    if entry.startswith(_QUOTES) or entry.endswith(_QUOTES):
        raise OriginError(
            f"{entry!r}: remove the quotes; where no shell reads the value (a Docker --env-file, for one) "
            "they stay part of it"
        )
    if ";" in entry or entry.count("://") > 1:
        raise OriginError(f"{entry!r} runs origins together: separate origins with commas or spaces")
    if entry.lower() == "null":
        raise OriginError(
            "'null' is the origin of sandboxed frames, file:// pages and redirects, which any "
            "site can produce: remove it"
        )
    https_only = environment in HTTPS_ONLY_ENVIRONMENTS
    scheme, separator, rest = entry.partition("://")
    scheme = scheme.lower()
    if not separator:
        raise OriginError(f"{entry!r} has no scheme: write https://{entry.strip('/')}")
    if scheme not in DEFAULT_PORTS:
        raise OriginError(f"{entry!r}: an origin starts with {'https://' if https_only else 'https:// or http://'}")

    authority = rest.removesuffix("/")
    if any(mark in authority for mark in "/?#"):
        cut = min(authority.find(mark) for mark in "/?#" if mark in authority)
        fixed = f"{'https' if https_only else scheme}://{authority[:cut]}"
        raise OriginError(f"{entry!r}: an origin has no path, query or fragment: write {fixed}")
    if "@" in authority:
        raise OriginError(f"{entry!r}: an origin has no user name or password before '@'")

    host, port = _split_port(entry, authority)
    host = _normalise_host(entry, host)
    origin = f"{scheme}://{host}" if port in (None, DEFAULT_PORTS[scheme]) else f"{scheme}://{host}:{port}"
    if not https_only:
        return origin
    if _is_local(host):
        raise OriginError(
            f"{entry!r} is a local development origin: APP_ENV={environment} serves real users, "
            "so list their front ends; use APP_ENV=development on your own machine"
        )
    domain = host.removeprefix("*.")
    problem = wildcard_problem(domain) if domain != host else None
    if problem:
        raise OriginError(
            f"{entry!r}: {problem} (Public Suffix List): this wildcard would allow sites you do not control. List "
            "exact origins, or a wildcard under a name you own, such as https://*.your-app.example.com"
        )
    if scheme == "http":
        raise OriginError(f"{entry!r}: APP_ENV={environment} accepts https origins only: write https{origin[4:]}")
    return origin


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
    """The host as a browser serialises it, or OriginError when a browser would not accept it.

    Lowercase, no trailing dot; international names in punycode as browsers convert them (UTS #46,
    non-transitional, with the idna package: faß.de is xn--fa-hia.de, where Python's own codec
    would give fass.de, another domain); IPv4 addresses as the URL parser rewrites them (0x7f.1 is
    127.0.0.1) and IPv6 ones in their shortest form.
    """
    host = host.removesuffix(".")
    if host.startswith("[") and host.endswith("]"):
        return f"[{_ipv6(entry, host[1:-1])}]"
    if not host.isascii() or "xn--" in host.lower():
        host = _to_ascii(entry, host)
    host = host.lower()
    labels = host.split(".")
    if "*" in host:
        _check_wildcard(entry, labels)
        labels = labels[1:]
    elif _NUMBER_LABEL.fullmatch(labels[-1]):
        return _ipv4(entry, labels)
    if len(host) > 253 or not all(_LABEL_RE.fullmatch(label) for label in labels):
        raise OriginError(
            f"{entry!r}: {host!r} is not a valid host name (letters, digits and inner hyphens, separated by dots)"
        )
    return host


def _to_ascii(entry: str, host: str) -> str:
    """An international host name (or one with punycode labels) as browsers convert it; a wildcard's "*." kept."""
    import idna  # only for international names: most allowlists never load its tables

    wildcard, dot, name = host.rpartition("*.")
    try:
        return wildcard + dot + idna.encode(name, uts46=True, transitional=False).decode("ascii")
    except UnicodeError as error:  # idna.IDNAError is one
        raise OriginError(f"{entry!r}: {name!r} is not a host name browsers accept ({error})") from None


def _ipv4(entry: str, labels: list[str]) -> str:
    """The dotted form of a host the WHATWG URL parser reads as IPv4: up to four numbers, each decimal, octal
    (a leading 0) or hexadecimal (0x), the last one filling the bytes left; anything else no browser opens."""
    numbers = []
    for label in labels:
        if label[:2] == "0x":
            digits, base = label[2:] or "0", 16
        else:
            digits, base = label, 8 if len(label) > 1 and label[0] == "0" else 10
        try:
            numbers.append(int(digits, base))
        except ValueError:
            numbers = []
            break
    if not numbers or len(numbers) > 4 or any(number > 255 for number in numbers[:-1]):
        raise OriginError(f"{entry!r}: {'.'.join(labels)} is not an IPv4 address a browser accepts")
    if numbers[-1] >= 256 ** (5 - len(numbers)):
        raise OriginError(f"{entry!r}: {'.'.join(labels)} is not an IPv4 address a browser accepts")
    value = numbers[-1] + sum(number << (8 * (3 - index)) for index, number in enumerate(numbers[:-1]))
    return str(ipaddress.IPv4Address(value))


def _ipv6(entry: str, text: str) -> str:
    """An IPv6 address as browsers write it: lowercase hexadecimal groups, the longest run of two or more zero
    groups (the first of equal ones) as "::", never a dotted IPv4 tail; no zone (%eth0), which no origin has."""
    try:
        address = ipaddress.IPv6Address(text)
    except ValueError:
        address = None
    if address is None or address.scope_id:
        raise OriginError(f"{entry!r}: [{text}] is not an IPv6 address a browser accepts")
    groups = [f"{int.from_bytes(address.packed[index : index + 2], 'big'):x}" for index in range(0, 16, 2)]
    longest, start, run = 0, 0, 0
    for index, group in enumerate(groups):
        run = run + 1 if group == "0" else 0
        if run > longest:
            longest, start = run, index + 1 - run
    if longest < 2:
        return ":".join(groups)
    return ":".join(groups[:start]) + "::" + ":".join(groups[start + longest :])


def _check_wildcard(entry: str, labels: list[str]) -> None:
    """A wildcard stands for one whole leftmost label under a domain of at least two labels."""
    if labels[0] != "*" or "*" in labels[1:] or len(labels) < 3 or _NUMBER_LABEL.fullmatch(labels[-1]):
        raise OriginError(
            f"{entry!r}: a wildcard must be the whole leftmost label under a domain you own, "
            "as in https://*.example.com (one label: it matches pr-1.example.com, "
            "not example.com, not a.b.example.com)"
        )


def _is_local(host: str) -> bool:
    """Whether `host` is the user's own machine, however spelt: LOCAL_HOSTS, a name under .localhost, a loopback
    address (127.0.0.0/8, [::1]), an unspecified one (0.0.0.0/8, [::]), or one of these mapped into IPv6
    ([::ffff:7f00:1]).

    Broader than the hosts development allows by default: no real user's front end is on any of them.
    """
    if host in LOCAL_HOSTS or host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback or address.is_unspecified or address in _THIS_NETWORK


def wildcard_problem(domain: str) -> str | None:
    """Why a wildcard directly under `domain` would allow sites nobody in the team controls, or None.

    The Public Suffix List decides, as browsers' own rules for cookies and sites do: a name in place of
    the "*" must be under a registered domain, neither a public suffix (a.kawasaki.jp, under the rule
    *.kawasaki.jp) nor a domain anyone can register (a.co.uk, a.github.io). An IP address is not a domain.
    """
    candidate = f"{_PROBE_LABEL}.{domain}"
    registered = public_suffix_list().privatesuffix(candidate)
    if registered is None:
        return f"every name under {domain} is itself a public suffix"
    if registered == candidate:
        return f"anyone can register a name under {domain}"
    return None


@cache
def public_suffix_list():
    """The Public Suffix List shipped with the publicsuffixlist package, read once (some 60 ms), and only where
    needed: to check a wildcard, or whose front ends share the API's site (caveats.py)."""
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList()


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
