"""The SSRF guard's address rules and URL parsing. Pure."""

from __future__ import annotations

import ipaddress

import pytest

from app.webhooks import ssrf


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "2002:7f00:1::1",
        "ff02::1",
        "::",
    ],
)
def test_non_public_addresses_are_refused(address: str) -> None:
    assert ssrf.refused_reason(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_pass(address: str) -> None:
    assert ssrf.refused_reason(ipaddress.ip_address(address)) is None


def test_production_takes_https_only_and_no_credentials() -> None:
    with pytest.raises(ssrf.TargetRefused, match="https"):
        ssrf.parse("http://hooks.example.com/", https_only=True)
    assert (
        ssrf.parse("https://hooks.example.com/x", https_only=True).hostname == "hooks.example.com"
    )
    with pytest.raises(ssrf.TargetRefused, match="credentials"):
        ssrf.parse("https://a:b@hooks.example.com/", https_only=True)
    with pytest.raises(ssrf.TargetRefused, match="port"):
        ssrf.parse("https://hooks.example.com:99999/", https_only=True)


async def test_the_connection_goes_to_the_checked_address() -> None:
    target = await ssrf.resolve(
        "http://127.0.0.1:8080/hooks?x=1", https_only=False, allow_private=True
    )
    assert target.connect_url == "http://127.0.0.1:8080/hooks?x=1"
    assert target.host_header == "127.0.0.1:8080"
    mapped = await ssrf.resolve("http://[::1]/h", https_only=False, allow_private=True)
    assert mapped.connect_url == "http://[::1]:80/h" and mapped.host_header == "[::1]"
