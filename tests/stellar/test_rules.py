"""The ledger rules the local ledger applies, on real stellar-sdk envelopes."""

from __future__ import annotations

import time
from decimal import Decimal

from stellar_sdk import Account, Asset, Keypair, TransactionBuilder, TransactionEnvelope

from app.stellar.network import to_stroops
from app.stellar.rules import AccountState, apply, asset_key

PASSPHRASE = "rules test network"
ISSUER = Keypair.random()
USDC = Asset("USDC", ISSUER.public_key)


def _accounts(
    payer: Keypair, payee: Keypair, *, payee_trusts: bool = True
) -> dict[str, AccountState]:
    key = asset_key(USDC)
    accounts = {
        payer.public_key: AccountState(
            payer.public_key, 100, to_stroops(Decimal(10)), {key: [to_stroops(Decimal(500)), 2**62]}
        ),
        payee.public_key: AccountState(payee.public_key, 7, to_stroops(Decimal(10))),
    }
    if payee_trusts:
        accounts[payee.public_key].trustlines[key] = [0, 2**62]
    return accounts


def _payment(
    payer: Keypair,
    payee: Keypair,
    amount: str,
    *,
    sequence: int = 100,
    max_time: int | None = None,
    signer: Keypair | None = None,
) -> TransactionEnvelope:
    envelope = (
        TransactionBuilder(Account(payer.public_key, sequence), PASSPHRASE, 100)
        .append_payment_op(payee.public_key, USDC, amount)
        .add_time_bounds(0, max_time if max_time is not None else int(time.time()) + 60)
        .build()
    )
    envelope.sign(signer or payer)
    return envelope


def test_a_valid_payment_moves_the_money_and_consumes_the_sequence() -> None:
    payer, payee = Keypair.random(), Keypair.random()
    verdict = apply(_payment(payer, payee, "125.5"), _accounts(payer, payee), int(time.time()))
    assert verdict.applied and verdict.transaction_code == "tx_success"
    key = asset_key(USDC)
    assert verdict.accounts[payee.public_key].trustlines[key][0] == to_stroops(Decimal("125.5"))
    assert verdict.accounts[payer.public_key].trustlines[key][0] == to_stroops(Decimal("374.5"))
    assert verdict.accounts[payer.public_key].sequence == 101
    assert verdict.accounts[payer.public_key].native == to_stroops(Decimal(10)) - 100


def test_refusals_before_applying_change_nothing() -> None:
    payer, payee = Keypair.random(), Keypair.random()
    now = int(time.time())
    cases = {
        "tx_bad_seq": _payment(payer, payee, "1", sequence=105),
        "tx_bad_auth": _payment(payer, payee, "1", signer=payee),
        "tx_too_late": _payment(payer, payee, "1", max_time=now - 10),
    }
    for code, envelope in cases.items():
        verdict = apply(envelope, _accounts(payer, payee), now)
        assert (verdict.applied, verdict.transaction_code, verdict.accounts) == (False, code, {})
    stranger = Keypair.random()
    verdict = apply(_payment(stranger, payee, "1"), _accounts(payer, payee), now)
    assert verdict.transaction_code == "tx_no_source_account"


def test_failed_operations_charge_the_fee_and_move_no_money() -> None:
    payer, payee = Keypair.random(), Keypair.random()
    now = int(time.time())
    no_trust = apply(_payment(payer, payee, "1"), _accounts(payer, payee, payee_trusts=False), now)
    assert no_trust.transaction_code == "tx_failed" and no_trust.operation_codes == ("op_no_trust",)
    assert no_trust.accounts[payer.public_key].sequence == 101
    assert no_trust.accounts[payer.public_key].trustlines[asset_key(USDC)][0] == to_stroops(
        Decimal(500)
    )
    underfunded = apply(_payment(payer, payee, "500.0000001"), _accounts(payer, payee), now)
    assert underfunded.operation_codes == ("op_underfunded",)
    missing = apply(_payment(payer, Keypair.random(), "1"), _accounts(payer, payee), now)
    assert missing.operation_codes == ("op_no_destination",)
