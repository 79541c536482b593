"""The client's address, for per-IP limits: one rule for the whole service.

The socket peer is the client, unless the peer is one of `TRUSTED_PROXIES` (CIDRs; none by
default). Then `X-Forwarded-For` (all its header lines, in order) is read from the right:
each trusted proxy appended the address it saw, so the rightmost hop that is not a trusted
proxy is the client; everything to its left is what the client claimed and may be forged.
uvicorn is always started with `--no-proxy-headers` (`app/serving.py`), so nothing rewrites
the peer before this.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import lru_cache

from starlette.datastructures import Headers
from starlette.types import Scope

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=16)
def _networks(cidrs: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in cidrs)


def _trusted(address: str, networks: Iterable[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_ip(scope: Scope, trusted_proxies: Iterable[str]) -> str:
    client = scope.get("client")
    peer = str(client[0]) if client else "unknown"
    networks = _networks(tuple(trusted_proxies))
    if not networks or not _trusted(peer, networks):
        return peer
    # Every header line, in order: a proxy may append a line of its own (HAProxy does)
    # rather than extend the last one, and the client's forged line then comes first.
    lines = Headers(scope=scope).getlist("x-forwarded-for")
    hops = [hop.strip() for line in lines for hop in line.split(",")]
    for hop in reversed(hops):
        if hop and not _trusted(hop, networks):
            return hop[:64]
    return peer
