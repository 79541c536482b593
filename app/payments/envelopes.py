"""Payment envelopes: built once per attempt, compared when a payer signs one. Pure."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from stellar_sdk import (
    Account,
    TransactionBuilder,
    TransactionEnvelope,
)
from stellar_sdk.memo import HashMemo

from app.stellar.network import NetworkConfig
from app.stellar.rules import is_signature_of, signed_by


@dataclass(frozen=True, slots=True)
class BuiltEnvelope:
    xdr: str
    hash: str
    valid_until: datetime


def build_payment(
    network: NetworkConfig,
    *,
    payment_id: str,
    source: str,
    sequence: int,
    destination: str,
    amount: Decimal,
    now: datetime,
    valid_seconds: int,
) -> TransactionEnvelope:
    """The memo is the hash of the payment id, so a transaction found on the ledger names the
    payment it settles."""
    max_time = int(now.timestamp()) + valid_seconds
    return (
        TransactionBuilder(Account(source, sequence), network.passphrase, network.base_fee)
        .append_payment_op(destination, network.usdc, f"{amount:.7f}")
        .add_memo(HashMemo(hashlib.sha256(payment_id.encode()).digest()))
        .add_time_bounds(0, max_time)
        .build()
    )


def build_batch(
    network: NetworkConfig,
    *,
    batch_id: str,
    source: str,
    sequence: int,
    payments: list[tuple[str, Decimal]],
    now: datetime,
    valid_seconds: int,
) -> TransactionEnvelope:
    """One payment operation per (destination, amount), in the members' order: operation i
    pays member i. The memo is the hash of the batch id."""
    builder = TransactionBuilder(Account(source, sequence), network.passphrase, network.base_fee)
    for destination, amount in payments:
        builder.append_payment_op(destination, network.usdc, f"{amount:.7f}")
    return (
        builder.add_memo(HashMemo(hashlib.sha256(batch_id.encode()).digest()))
        .add_time_bounds(0, int(now.timestamp()) + valid_seconds)
        .build()
    )


def describe(envelope: TransactionEnvelope) -> BuiltEnvelope:
    bounds = envelope.transaction.preconditions
    max_time = bounds.time_bounds.max_time if bounds and bounds.time_bounds else 0
    return BuiltEnvelope(
        envelope.to_xdr(), envelope.hash_hex(), datetime.fromtimestamp(max_time, UTC)
    )


class EnvelopeRefused(ValueError):
    pass


def check_signed(
    signed_xdr: str, *, network: NetworkConfig, issued_hash: str, payer: str
) -> TransactionEnvelope:
    """The envelope must be the very transaction issued (same hash: same source, sequence,
    operations, memo and time bounds) and carry the payer's valid signature."""
    try:
        envelope = TransactionEnvelope.from_xdr(signed_xdr, network.passphrase)
        tx_hash = envelope.hash_hex()
    except Exception as exc:
        raise EnvelopeRefused("signed_xdr is not a Stellar transaction envelope") from exc
    if tx_hash != issued_hash:
        raise EnvelopeRefused("signed_xdr is not the transaction that was issued for this payment")
    if not signed_by(envelope, payer):
        raise EnvelopeRefused("signed_xdr carries no valid signature of the paying account")
    # Only the payer's signature is kept: the network refuses extra ones (tx_bad_auth_extra).
    envelope.signatures = [s for s in envelope.signatures if is_signature_of(envelope, payer, s)]
    return envelope
