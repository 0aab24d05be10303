"""Where browsers part from what a policy allows: cookies they keep from another site, preflights they re-ask.

A policy can allow credentials for an origin and still see no cookie from it. A page and an API on two
different sites (two registrable domains by the Public Suffix List: app.shop.com and api.shop-api.com)
make the API's cookies third-party cookies on that page: Safari never sends them, Firefox keeps them
apart per site (Total Cookie Protection) and sends none in its strict mode, Chrome sends them unless
its user blocks them; and a cookie that is not `SameSite=None` goes on no cross-site request at all.
Same-site front ends (app.shop.com and api.shop.com) are not affected. Browsers also cap how long they
cache a preflight, whatever Access-Control-Max-Age says.

These are warnings, not errors: start-up logs each one (create_app), and `flask cors check` and `probe`
say them next to the request they concern.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from .origins import public_suffix_list
from .policy import CorsPolicy

LOG = logging.getLogger(__name__)
# Chromium's cap on Access-Control-Max-Age, in seconds; Firefox caps at 86,400.
CHROMIUM_MAX_AGE = 7200
WHO_BLOCKS = (
    "Safari does not send them, Firefox keeps them to one site (and sends none in strict mode), and Chrome does "
    "not send them once its user blocks third-party cookies"
)


@dataclass(frozen=True)
class Caveat:
    """One thing browsers will do differently from what the policy says: the setting it concerns, and what."""

    variable: str
    message: str


def site(origin: str) -> str:
    """The origin's site as browsers count it for cookies: its scheme and registrable domain (app.shop.co.uk:
    https://shop.co.uk), or its host for an IP address or a name that is itself a public suffix."""
    scheme, _, authority = origin.partition("://")
    host = authority.rsplit(":", 1)[0] if not authority.endswith("]") else authority
    host = host.removeprefix("*.")
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        host = public_suffix_list().privatesuffix(host) or host
    return f"{scheme}://{host}"


def third_party_caveats(policies: Iterable[CorsPolicy], api_origin: str, samesite: str) -> list[Caveat]:
    """Per credentialed policy, the listed front ends on another site than `api_origin`: their calls carry
    no cookie of the API's in Safari, Firefox or a Chrome that blocks third-party cookies."""
    caveats = []
    for policy in policies:
        if policy.public or not policy.allow_credentials:
            continue
        listed = [*sorted(policy.allowlist.exact), *policy.allowlist.wildcards]
        others = [origin for origin in listed if site(origin) != site(api_origin)]
        if others:
            caveats.append(Caveat(policy.variable("ORIGINS"), third_party_message(others, api_origin, samesite)))
    return caveats


def third_party_message(origins: list[str], api_origin: str, samesite: str) -> str:
    same_site_not_none = (
        f" With SESSION_COOKIE_SAMESITE={samesite}, no browser sends the session cookie on their requests at all."
        if samesite != "None"
        else ""
    )
    return (
        f"{', '.join(origins)} {'is' if len(origins) == 1 else 'are'} on another site than the API at "
        f"{api_origin}: the API's cookies are third-party cookies there, and on credentialed calls from "
        f"{'it' if len(origins) == 1 else 'them'} {WHO_BLOCKS}.{same_site_not_none} Serve the API on a "
        f"subdomain of the front end's site, put both behind one origin, or log in with a token "
        "(an Authorization header) instead of a cookie"
    )


def max_age_caveats(policies: Iterable[CorsPolicy]) -> list[Caveat]:
    """A policy whose preflight cache time is above Chromium's cap: Chromium asks again after 2 hours."""
    return [
        Caveat(
            policy.variable("MAX_AGE"),
            f"{policy.max_age} seconds is above Chromium's cap of {CHROMIUM_MAX_AGE}: Chromium preflights again "
            f"after {CHROMIUM_MAX_AGE} s (Firefox after at most 86400). Set {policy.variable('MAX_AGE')}="
            f"{CHROMIUM_MAX_AGE} to say what browsers do",
        )
        for policy in policies
        if policy.max_age > CHROMIUM_MAX_AGE
    ]


def request_caveats(
    policy: CorsPolicy, origin: str, api_origin: str | None, samesite: str, *, preflighted: bool
) -> list[Caveat]:
    """The caveats of one request from a page at `origin` that the policy allows: its cookies, when the page
    is on another site than the API, and its preflight's cache time."""
    caveats = max_age_caveats([policy]) if preflighted else []
    if api_origin and policy.allow_credentials and not policy.public and site(origin) != site(api_origin):
        caveats.append(Caveat(policy.variable("ORIGINS"), third_party_message([origin], api_origin, samesite)))
    return caveats


def startup_caveats(
    policies: Iterable[CorsPolicy], api_origin: str | None, samesite: str, *, deployed: bool
) -> list[Caveat]:
    """Every caveat of the policies; where the API is deployed with credentials and no API_ORIGIN, one asking
    for it, since which front ends get cookies cannot be told without it."""
    policies = tuple(policies)
    caveats = max_age_caveats(policies)
    if api_origin:
        caveats += third_party_caveats(policies, api_origin, samesite)
    elif deployed and any(policy.allow_credentials and not policy.public for policy in policies):
        caveats.append(
            Caveat(
                "API_ORIGIN",
                "unset while credentials are on: set it to the origin browsers reach the API at "
                "(https://api.example.com), so that start-up names the front ends whose calls will carry "
                "no cookie (those on another site)",
            )
        )
    return caveats


def log_caveats(caveats: Iterable[Caveat]) -> None:
    for caveat in caveats:
        LOG.warning("%s: %s", caveat.variable, caveat.message)
