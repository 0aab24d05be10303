"""Forwarded headers believed from the proxies only: Werkzeug's ProxyFix for requests whose peer is one.

Behind TRUSTED_PROXY_HOPS proxies the client's address, scheme and host are in X-Forwarded-For,
-Proto and -Host, which anyone can send. Only a request whose peer (REMOTE_ADDR: the connection's
other end) is in TRUSTED_PROXIES, a proxy's own address, gets them applied; any other peer reached the
app around the proxy, and its headers are ignored, as gunicorn's forwarded_allow_ips ignores them
(gunicorn.conf.py). A peer without an IP address (a Unix socket) is trusted, as gunicorn trusts it:
only processes on the same machine can connect to one. With no TRUSTED_PROXIES (development and
testing only; staging and production refuse it) every peer is believed.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Callable, Iterable

from werkzeug.middleware.proxy_fix import ProxyFix

WSGIApp = Callable[[dict, Callable], Iterable[bytes]]
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
# How many peers' verdicts are remembered: a few proxies and, around them, a stream of strangers.
REMEMBERED_PEERS = 256


def behind_proxies(wsgi_app: WSGIApp, hops: int, networks: tuple[Network, ...]) -> WSGIApp:
    """`wsgi_app` as it must run behind `hops` proxies whose addresses are in `networks` (any when empty)."""
    if not hops:
        return wsgi_app
    fixed = ProxyFix(wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    if not networks:
        return fixed

    @functools.lru_cache(maxsize=REMEMBERED_PEERS)
    def is_proxy(peer: str) -> bool:
        try:
            address = ipaddress.ip_address(peer.partition("%")[0])
        except ValueError:
            return not peer  # no IP address: a Unix socket
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in network for network in networks)

    def from_proxies_only(environ: dict, start_response: Callable) -> Iterable[bytes]:
        if is_proxy(environ.get("REMOTE_ADDR") or ""):
            return fixed(environ, start_response)
        return wsgi_app(environ, start_response)

    return from_proxies_only


def parse_networks(items: Iterable[str]) -> tuple[Network, ...]:
    """Addresses and networks ("10.0.0.7", "10.0.0.0/8", "fd00::/8"); ValueError names the first that is neither."""
    return tuple(ipaddress.ip_network(item, strict=False) for item in items)
