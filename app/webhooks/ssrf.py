"""Where a webhook may be delivered. The host is resolved once, every address it resolves
to is checked, and the connection is then made to that checked address, so a DNS answer
that changes between the check and the connection (rebinding) cannot redirect it."""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_AWS_METADATA_V6 = ipaddress.ip_network("fd00:ec2::254/128")


class TargetRefused(ValueError):
    pass


class Unresolved(TargetRefused):
    """The host name has no address (now): a delivery fails, a subscription may wait for it."""


def always_refused(address: IPAddress) -> str | None:
    """Refused even where private targets are allowed (development): link-local addresses
    are where clouds serve instance metadata and credentials (169.254.169.254,
    fd00:ec2::254), and the unspecified address reaches the host itself."""
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped or address.sixtofour
        if mapped is not None:
            return always_refused(mapped)
        if address in _AWS_METADATA_V6:
            return "cloud metadata"
    if address.is_link_local:
        return "link-local (cloud metadata)"
    if address.is_unspecified:
        return "unspecified"
    return None


def refused_reason(address: IPAddress) -> str | None:
    """None when `address` is a public unicast address."""
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped or address.sixtofour
        if mapped is not None:
            return refused_reason(mapped)
    checks = (
        (address.is_loopback, "loopback"),
        (address.is_link_local, "link-local (cloud metadata)"),
        (address.is_private, "private"),
        (isinstance(address, ipaddress.IPv4Address) and address in _CGNAT, "shared (CGNAT)"),
        (address.is_multicast, "multicast"),
        (address.is_reserved, "reserved"),
        (address.is_unspecified, "unspecified"),
        (not address.is_global, "not globally routable"),
    )
    return next((reason for hit, reason in checks if hit), None)


@dataclass(frozen=True, slots=True)
class Target:
    url: SplitResult
    host: str
    port: int
    address: IPAddress

    @property
    def connect_url(self) -> str:
        """The URL with the checked address in place of the host name."""
        host = f"[{self.address}]" if self.address.version == 6 else str(self.address)
        return self.url._replace(netloc=f"{host}:{self.port}").geturl()

    @property
    def host_header(self) -> str:
        default = 443 if self.url.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"


# The characters a URI may hold (RFC 3986); anything else must be percent-encoded.
_URI_CHARACTERS = re.compile(r"^(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})+$")


# Letters, digits, hyphens and dots (an international name goes in its xn-- form).
_HOST_NAME = re.compile(r"^[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.?$")


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def parse(url: str, *, https_only: bool) -> SplitResult:
    if not _URI_CHARACTERS.match(url):
        raise TargetRefused("the URL holds characters that must be percent-encoded")
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port
    except ValueError as exc:  # "http://[::1", a bad port, an invalid netloc
        what = "has an invalid port" if "port" in str(exc).lower() else "cannot be parsed"
        raise TargetRefused(f"the URL {what}") from exc
    if any(c in part for part in (parts.path, parts.query, parts.fragment) for c in "[]"):
        raise TargetRefused("the URL holds characters that must be percent-encoded")
    if "#" in parts.fragment:  # RFC 3986: the fragment is everything after the one `#`
        raise TargetRefused("the URL holds a second '#', which must be percent-encoded")
    allowed = ("https",) if https_only else ("http", "https")
    if parts.scheme not in allowed:
        raise TargetRefused(f"the URL scheme must be {' or '.join(allowed)}")
    if not host:
        raise TargetRefused("the URL has no host")
    if not _HOST_NAME.match(host) and not _is_address(host):
        raise TargetRefused("the URL's host is not a host name or an address")
    if parts.username or parts.password:
        raise TargetRefused("credentials in the URL are not accepted")
    if port == 0:
        raise TargetRefused("the URL has an invalid port")
    return parts


async def resolve(url: str, *, https_only: bool, allow_private: bool) -> Target:
    parts = parse(url, https_only=https_only)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        literal: IPAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [literal]
    else:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
        except (socket.gaierror, UnicodeError) as exc:
            raise Unresolved(f"the host {host!r} does not resolve") from exc
        addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    if not addresses:
        raise Unresolved(f"the host {host!r} does not resolve")
    check = always_refused if allow_private else refused_reason
    for address in addresses:
        reason = check(address)
        if reason is not None:
            raise TargetRefused(f"the URL points at a {reason} address ({address})")
    return Target(parts, host, port, addresses[0])
