"""The body limit, over a real socket: declared, chunked and lying clients all get 413."""

import socket
from collections.abc import Iterator
from urllib.parse import urlparse

import httpx
import pytest

from tests.live import live_server

pytestmark = pytest.mark.live

LIMIT = 10_485_760
MESSAGE = "Request body too large. Maximum allowed size is 10485760 bytes."


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with live_server({"RATE_LIMIT_ENABLED": "false"}) as base:
        yield base


def _raw(base: str, head: bytes, chunks: list[bytes]) -> bytes:
    url = urlparse(base)
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(head)
        try:
            for chunk in chunks:
                sock.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed: what we want
        sock.settimeout(10)
        data = b""
        while True:
            try:
                part = sock.recv(65536)
            except ConnectionResetError:
                break
            if not part:
                break
            data += part
            if b"\r\n\r\n" in data and b"}}" in data:
                break
        return data


def test_a_declared_oversized_body_is_refused_before_it_is_read(server: str) -> None:
    head = (
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {LIMIT + 1}\r\n\r\n".encode()
    )
    response = _raw(server, head, [])  # send no body at all: the answer must not wait for it
    assert response.startswith(b"HTTP/1.1 413")
    assert MESSAGE.encode() in response
    assert b"PAYLOAD_TOO_LARGE" in response


def test_a_chunked_body_over_the_limit_is_cut_off(server: str) -> None:
    head = (
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    block = b"x" * 1_048_576
    chunk = f"{len(block):x}\r\n".encode() + block + b"\r\n"
    response = _raw(server, head, [chunk] * 11 + [b"0\r\n\r\n"])
    assert response.startswith(b"HTTP/1.1 413")
    assert MESSAGE.encode() in response


def test_a_body_at_the_limit_is_read_normally(server: str) -> None:
    start, end = b'{"email": "a@b.co", "password": "', b'"}'
    body = start + b"x" * (LIMIT - len(start) - len(end)) + end
    assert len(body) == LIMIT
    response = httpx.post(
        server + "/api/v1/auth/login", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422  # reached validation (password too long), not 413
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"


def test_a_multipart_upload_over_the_limit_gets_the_upload_message(server: str) -> None:
    head = (
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: multipart/form-data; boundary=zz\r\n"
        # the file may be 10 MB; the form's framing gets 64 KiB on top
        + f"Content-Length: {LIMIT + 64 * 1024 + 1}\r\n\r\n".encode()
    )
    response = _raw(server, head, [])
    assert response.startswith(b"HTTP/1.1 413")
    assert b"File exceeds 10 MB limit" in response
