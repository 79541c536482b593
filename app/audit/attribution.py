"""Whose chain an anchor on the ledger belongs to. Pure.

A memo holds the head hash and nothing else, so once an organization's rows are gone nothing
said which memo was theirs. Each anchor therefore also writes a `manage_data` operation on the
pool account: `acx-audit` = a 16-byte tag of the organization, then the anchored sequence
number (8 bytes, big-endian). The tag is a hash of the organization id, a pseudonym: an
organization (or its auditor) who knows its id finds its anchors on a public explorer; someone
who does not sees only that some tag was anchored.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from app.stellar.port import DataOperation

DATA_NAME = "acx-audit"
_TAG_BYTES = 16
_SEQ_BYTES = 8


@dataclass(frozen=True, slots=True)
class Attribution:
    tag: bytes
    seq: int


def tag_of(organization_id: str) -> bytes:
    return hashlib.sha256(f"apexchainx-audit:{organization_id}".encode()).digest()[:_TAG_BYTES]


def encode(organization_id: str, seq: int) -> bytes:
    return tag_of(organization_id) + seq.to_bytes(_SEQ_BYTES, "big")


def read(data: tuple[DataOperation, ...], pool: str) -> Attribution | None:
    """The attribution an anchor carries, only as the pool account wrote it (anyone may send a
    transaction that touches the pool with an `acx-audit` of their own account)."""
    for operation in data:
        value = operation.value
        if operation.source != pool or operation.name != DATA_NAME or value is None:
            continue
        if len(value) == _TAG_BYTES + _SEQ_BYTES:
            return Attribution(value[:_TAG_BYTES], int.from_bytes(value[_TAG_BYTES:], "big"))
    return None
