"""What an allowed origin is, and how a request's Origin header is matched against the allowlist.

Pure functions, no Flask and no import from this package: the template's pre-generation hook loads
this file on its own to check an answer. settings.py parses CORS_ORIGINS with `parse_allowlist`,
and layer.py hands `Allowlist.pattern` to Flask-CORS. Every entry is normalised to the exact form a
browser sends (lowercase, no default port, no trailing slash or dot) or refused with a message that
quotes it and says how to fix it: an entry kept in any other form would silently never match.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from functools import cached_property

HTTPS_ONLY_ENVIRONMENTS = frozenset({"staging", "production"})
DEFAULT_PORTS = {"http": 80, "https": 443}
# The hosts front-end dev servers are opened on: development's default allows each on any port, http
# or https. Staging and production refuse these and every other loopback host (see _is_local).
LOCAL_HOSTS = ("localhost", "127.0.0.1", "[::1]")
# What separates the items of a list setting (CORS_ORIGINS, CORS_ALLOW_METHODS, ...): commas and/or whitespace.
SEPARATORS = re.compile(r"[\s,]+")

# Multi-label public suffixes under which anyone can register or create a name, from the Public Suffix
# List (publicsuffix.org): country second levels and shared-hosting domains. A wildcard directly under
# one (https://*.github.io) would allow strangers' sites, so staging and production refuse it; one a
# level deeper (https://*.my-team.github.io) is under a name somebody owns. A safety net for the common
# cases, not the whole list (some 10,000 rules and a dependency to keep current): single-label suffixes
# (https://*.com) are refused anyway, as a wildcard needs a domain of at least two labels.
PUBLIC_SUFFIXES = frozenset(
    suffix
    for group in (
        # Country second levels.
        "ac.uk co.uk gov.uk ltd.uk me.uk net.uk org.uk plc.uk",
        "asn.au com.au edu.au gov.au id.au net.au org.au ac.nz co.nz govt.nz net.nz org.nz",
        "ac.jp ad.jp co.jp ed.jp go.jp gr.jp lg.jp ne.jp or.jp ac.kr co.kr go.kr ne.kr or.kr",
        "com.cn edu.cn gov.cn net.cn org.cn com.hk edu.hk gov.hk idv.hk net.hk org.hk",
        "com.tw edu.tw gov.tw idv.tw net.tw org.tw com.sg edu.sg gov.sg net.sg org.sg",
        "ac.in co.in edu.in firm.in gen.in gov.in ind.in net.in org.in co.id or.id web.id",
        "com.my com.ph com.vn co.th com.pk ac.il co.il org.il com.sa com.eg com.ng co.ke",
        "ac.za co.za gov.za net.za org.za web.za com.tr edu.tr gen.tr gov.tr net.tr org.tr",
        "com.br edu.br gov.br net.br org.br com.mx edu.mx gob.mx net.mx org.mx",
        "com.ar edu.ar gob.ar net.ar org.ar com.co com.pe com.ua com.pl co.at or.at com.es com.gr",
        # Hosting where every customer gets a name under the provider's domain.
        "github.io gitlab.io bitbucket.io codeberg.page readthedocs.io",
        "herokuapp.com vercel.app now.sh netlify.app surge.sh onrender.com fly.dev railway.app up.railway.app",
        "pages.dev workers.dev trycloudflare.com deno.dev glitch.me repl.co replit.dev replit.app",
        "web.app firebaseapp.com appspot.com cloudfunctions.net a.run.app",
        "azurewebsites.net azurestaticapps.net cloudapp.net",
        "cloudfront.net s3.amazonaws.com elasticbeanstalk.com amplifyapp.com",
        "ngrok.io ngrok.app ngrok.dev ngrok-free.app",
        "blogspot.com pythonanywhere.com webflow.io wixsite.com myshopify.com",
    )
    for suffix in group.split()
)

# One DNS label, as browsers serialise it: lowercase letters, digits and inner hyphens.
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_LABEL_RE = re.compile(_LABEL)
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
    suffix = host.removeprefix("*.")
    if suffix != host and suffix in PUBLIC_SUFFIXES:
        raise OriginError(
            f"{entry!r}: anyone can register a name under {suffix}, so this wildcard would allow sites you do "
            f"not control: list exact origins, or a wildcard under a name you own, such as https://*.your-app.{suffix}"
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
    """Whether `host` is the user's own machine: LOCAL_HOSTS, a name under .localhost, any loopback address.

    Broader than the hosts development allows by default: no real user's front end is on any of them.
    """
    if host in LOCAL_HOSTS or host.endswith(".localhost"):
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
