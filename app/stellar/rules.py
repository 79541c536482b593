"""The ledger's rules, as the network applies them to a payment transaction. Pure.

The local ledger (and the Horizon stand-in of the test suite) use these to decide whether a
real stellar-sdk envelope applies: signature, sequence, time bounds, fee, then each payment's
destination, trustlines and balances, and `manage_data` (an audit anchor's attribution).
Result codes are Stellar's own (`tx_bad_seq`, `op_no_trust`, ...), so the code that reads
them cannot tell the local ledger from Horizon.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from stellar_sdk import Asset, DecoratedSignature, Keypair, TransactionEnvelope
from stellar_sdk.exceptions import BadSignatureError
from stellar_sdk.memo import HashMemo
from stellar_sdk.operation import ManageData, Payment

from app.stellar.network import to_stroops
from app.stellar.port import AccountTransaction, DataOperation, PaymentOperation


def asset_key(asset: Asset) -> str:
    return "native" if asset.is_native() else f"{asset.code}:{asset.issuer}"


@dataclass
class AccountState:
    account_id: str
    sequence: int
    native: int  # stroops of XLM
    # asset key -> [balance, limit] in stroops
    trustlines: dict[str, list[int]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Verdict:
    """`applied` with the accounts' new states, or the result codes that refused it."""

    applied: bool
    transaction_code: str
    operation_codes: tuple[str, ...] = ()
    accounts: dict[str, AccountState] = field(default_factory=dict)
    fee_charged: int = 0


def accounts_touched(envelope: TransactionEnvelope) -> list[str]:
    tx = envelope.transaction
    ids = [tx.source.account_id]
    for op in tx.operations:
        if op.source is not None:
            ids.append(op.source.account_id)
        if isinstance(op, Payment):
            ids.append(op.destination.account_id)
    return list(dict.fromkeys(ids))


def is_signature_of(
    envelope: TransactionEnvelope, account_id: str, decorated: DecoratedSignature
) -> bool:
    keypair = Keypair.from_public_key(account_id)
    if decorated.signature_hint != keypair.signature_hint():
        return False
    try:
        keypair.verify(envelope.hash(), decorated.signature)
    except BadSignatureError:
        return False
    return True


def signed_by(envelope: TransactionEnvelope, account_id: str) -> bool:
    return any(is_signature_of(envelope, account_id, d) for d in envelope.signatures)


def _refused(code: str, operations: tuple[str, ...] = ()) -> Verdict:
    return Verdict(applied=False, transaction_code=code, operation_codes=operations)


def _check_envelope(
    envelope: TransactionEnvelope, source: AccountState | None, now: int
) -> str | None:
    tx = envelope.transaction
    if source is None:
        return "tx_no_source_account"
    bounds = tx.preconditions.time_bounds if tx.preconditions else None
    if bounds is not None and bounds.min_time and now < bounds.min_time:
        return "tx_too_early"
    if bounds is not None and bounds.max_time and now > bounds.max_time:
        return "tx_too_late"
    if tx.sequence != source.sequence + 1:
        return "tx_bad_seq"
    if not tx.operations:
        return "tx_missing_operation"
    if tx.fee < 100 * len(tx.operations):
        return "tx_insufficient_fee"
    signers = {tx.source.account_id} | {
        op.source.account_id for op in tx.operations if op.source is not None
    }
    if not all(signed_by(envelope, signer) for signer in signers):
        return "tx_bad_auth"
    if source.native < tx.fee:
        return "tx_insufficient_balance"
    return None


def _pay(accounts: dict[str, AccountState], payer: str, op: Payment) -> str:
    if payer not in accounts:
        return "op_no_account"
    destination = accounts.get(op.destination.account_id)
    if destination is None:
        return "op_no_destination"
    amount = to_stroops(Decimal(op.amount))
    if amount <= 0:
        return "op_malformed"
    key = asset_key(op.asset)
    source = accounts[payer]
    if op.asset.is_native():
        if source.native - amount < 0:
            return "op_underfunded"
        source.native -= amount
        destination.native += amount
        return "op_success"
    issuer = op.asset.issuer
    if payer != issuer:
        line = source.trustlines.get(key)
        if line is None:
            return "op_src_no_trust"
        if line[0] < amount:
            return "op_underfunded"
    if destination.account_id != issuer:
        target = destination.trustlines.get(key)
        if target is None:
            return "op_no_trust"
        if target[0] + amount > target[1]:
            return "op_line_full"
    if payer != issuer:
        source.trustlines[key][0] -= amount
    if destination.account_id != issuer:
        destination.trustlines[key][0] += amount
    return "op_success"


def _manage_data(accounts: dict[str, AccountState], source: str) -> str:
    """Data entries are not modelled: a `manage_data` consumes the fee and the sequence only.
    The network also wants 0.5 XLM more reserve for a new entry (and refuses to delete one
    that does not exist); the audit anchors rewrite one entry, so the pool pays that once."""
    return "op_success" if source in accounts else "op_no_account"


def _run(accounts: dict[str, AccountState], payer: str, op: Payment | ManageData) -> str:
    if isinstance(op, Payment):
        return _pay(accounts, payer, op)
    return _manage_data(accounts, payer)


def apply(envelope: TransactionEnvelope, accounts: dict[str, AccountState], now: int) -> Verdict:
    """Applies the transaction to copies of `accounts` (every account it touches, those that
    exist). Like the network, a transaction refused before its operations run changes nothing
    and consumes no sequence; one whose operations fail consumes the fee and the sequence."""
    tx = envelope.transaction
    payer_id = tx.source.account_id
    code = _check_envelope(envelope, accounts.get(payer_id), now)
    if code is not None:
        return _refused(code)
    unsupported = [op for op in tx.operations if not isinstance(op, Payment | ManageData)]
    if unsupported:
        return _refused("tx_failed", tuple("op_not_supported" for _ in tx.operations))
    working = copy.deepcopy(accounts)
    charged = copy.deepcopy(accounts)
    for state in (working, charged):
        state[payer_id].sequence = tx.sequence
        state[payer_id].native -= tx.fee
    results = []
    for op in tx.operations:
        assert isinstance(op, Payment | ManageData)
        payer = op.source.account_id if op.source is not None else payer_id
        results.append(_run(working, payer, op))
    if any(result != "op_success" for result in results):
        # Atomic: no payment of a failed transaction moves money; the fee is still charged.
        return Verdict(
            applied=False,
            transaction_code="tx_failed",
            operation_codes=tuple(results),
            accounts=charged,
            fee_charged=tx.fee,
        )
    return Verdict(
        applied=True,
        transaction_code="tx_success",
        operation_codes=tuple(results),
        accounts=working,
        fee_charged=tx.fee,
    )


def _envelope(envelope_xdr: str | None, passphrase: str) -> TransactionEnvelope | None:
    if not envelope_xdr:
        return None
    try:
        return TransactionEnvelope.from_xdr(envelope_xdr, passphrase)
    except Exception:
        return None


def payments_of(envelope_xdr: str | None, passphrase: str) -> tuple[PaymentOperation, ...]:
    """The payment operations of a transaction envelope, in order (none when unreadable)."""
    envelope = _envelope(envelope_xdr, passphrase)
    if envelope is None:
        return ()
    transaction = envelope.transaction
    found = []
    for operation in transaction.operations:
        if not isinstance(operation, Payment):
            continue
        asset = operation.asset
        native = asset.is_native()
        found.append(
            PaymentOperation(
                source=(operation.source or transaction.source).account_id,
                destination=operation.destination.account_id,
                amount=Decimal(operation.amount),
                asset_code=None if native else asset.code,
                asset_issuer=None if native else asset.issuer,
            )
        )
    return tuple(found)


def _memo_hash(envelope: TransactionEnvelope | None) -> str | None:
    memo = envelope.transaction.memo if envelope is not None else None
    return memo.memo_hash.hex() if isinstance(memo, HashMemo) else None


def _data(envelope: TransactionEnvelope | None) -> tuple[DataOperation, ...]:
    if envelope is None:
        return ()
    transaction = envelope.transaction
    return tuple(
        DataOperation(
            (operation.source or transaction.source).account_id,
            operation.data_name,
            operation.data_value,
        )
        for operation in transaction.operations
        if isinstance(operation, ManageData)
    )


def memo_hash_of(envelope_xdr: str | None, passphrase: str) -> str | None:
    """The hash memo of a transaction envelope, in hex (None without one, or unreadable)."""
    return _memo_hash(_envelope(envelope_xdr, passphrase))


def data_of(envelope_xdr: str | None, passphrase: str) -> tuple[DataOperation, ...]:
    """The `manage_data` operations of a transaction envelope (none when unreadable)."""
    return _data(_envelope(envelope_xdr, passphrase))


def source_of(envelope_xdr: str | None, passphrase: str) -> str | None:
    envelope = _envelope(envelope_xdr, passphrase)
    return envelope.transaction.source.account_id if envelope is not None else None


def account_transaction(
    *,
    tx_hash: str,
    source: str,
    successful: bool,
    ledger: int | None,
    created_at: datetime,
    envelope_xdr: str | None,
    passphrase: str,
) -> AccountTransaction:
    """A history record with its memo and `manage_data` operations, the envelope read once
    (a verifier reads thousands)."""
    envelope = _envelope(envelope_xdr, passphrase)
    return AccountTransaction(
        hash=tx_hash,
        source=source,
        successful=successful,
        ledger=ledger,
        created_at=created_at,
        memo_hash=_memo_hash(envelope),
        data=_data(envelope),
    )
