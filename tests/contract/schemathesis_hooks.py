"""What schemathesis is taught about this API (loaded through SCHEMATHESIS_HOOKS by
tests/contract/test_schemathesis.py).

- The custom formats the document declares: a Stellar public key (its checksum is beyond
  JSON Schema) and a password of the policy (its character classes are described).
- Idempotency keys: a valid key is made unique per request. A key reused with another body is
  refused by design (422, as the IETF draft says), which a fuzzer drawing keys at random would
  report as a valid request refused; invalid keys are left as generated, so their refusal is
  still checked.
- Object-level authorization: every successful read of a resource by id, repeated with the
  token of a user of another organization, must be 404 (FUZZ_OTHER_TOKEN).
"""

from __future__ import annotations

import os
import re
import secrets
import uuid
from typing import Any

import httpx
import schemathesis
from hypothesis import strategies as st
from stellar_sdk import Keypair

from app.core.idempotency import KEY_PATTERN

IDEMPOTENCY_HEADERS = ("Idempotency-Key", "X-Idempotency-Key")
# Reads by id of what no organization owns: a share token's view, any Stellar account's
# public balances.
PUBLIC_READS = (
    "/api/v1/faults/shared",
    "/api/v1/wallets/address/",
    "/api/v1/wallets/{address}/balance",  # the seed's path of the same public read
)

schemathesis.openapi.format("stellar-public-key", st.builds(lambda: Keypair.random().public_key))
schemathesis.openapi.format("password", st.builds(lambda: "Aa1!" + secrets.token_urlsafe(12)))


@schemathesis.auth()
class Bearer:
    """The fuzzing user's token (FUZZ_TOKEN): set through schemathesis' auth, so that its
    checks of a missing Authorization header really send none."""

    def get(self, case: Any, ctx: Any) -> str:
        return os.environ["FUZZ_TOKEN"]

    def set(self, case: Any, data: str, ctx: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@schemathesis.hook
def before_call(ctx: Any, case: Any, **kwargs: Any) -> None:
    fresh = uuid.uuid4().hex
    for name in IDEMPOTENCY_HEADERS:
        value = (case.headers or {}).get(name)
        if isinstance(value, str) and re.fullmatch(KEY_PATTERN, value):
            case.headers[name] = fresh


@schemathesis.check
def other_organization_cannot_read(ctx: Any, response: Any, case: Any) -> bool | None:
    other = os.environ.get("FUZZ_OTHER_TOKEN")
    if not other or case.method.upper() != "GET" or "{" not in case.path:
        return None
    if not 200 <= response.status_code < 300 or case.path.startswith(PUBLIC_READS):
        return None
    url = response.request.url
    answer = httpx.get(url, headers={"Authorization": f"Bearer {other}"}, timeout=30)
    if answer.status_code != 404:
        raise AssertionError(
            f"another organization read {case.path} with {answer.status_code}, not 404"
        )
    return None
