"""Stellar result codes mapped to the API's `STELLAR_*` error codes."""

from __future__ import annotations

from app.core.errors import AppError
from app.stellar.port import Submission

INSUFFICIENT_BALANCE = "STELLAR_INSUFFICIENT_BALANCE"
NO_TRUSTLINE = "STELLAR_NO_TRUSTLINE"
TRANSACTION_FAILED = "STELLAR_TRANSACTION_FAILED"
CONTRACT_ERROR = "STELLAR_CONTRACT_ERROR"
TIMEOUT = "STELLAR_TIMEOUT"

_BY_RESULT_CODE = {
    "op_underfunded": INSUFFICIENT_BALANCE,
    "op_low_reserve": INSUFFICIENT_BALANCE,
    "tx_insufficient_balance": INSUFFICIENT_BALANCE,
    "tx_no_source_account": INSUFFICIENT_BALANCE,
    "op_no_account": INSUFFICIENT_BALANCE,
    "op_no_trust": NO_TRUSTLINE,
    "op_src_no_trust": NO_TRUSTLINE,
    "op_not_authorized": NO_TRUSTLINE,
    "op_src_not_authorized": NO_TRUSTLINE,
    "op_no_issuer": NO_TRUSTLINE,
    "tx_too_late": TIMEOUT,
}

_MESSAGES = {
    INSUFFICIENT_BALANCE: "The paying account has not enough XLM or USDC (fund the account).",
    NO_TRUSTLINE: "An account has no USDC trustline (create the trustline).",
    TRANSACTION_FAILED: "The transaction failed on the network (see the result codes).",
    TIMEOUT: "The transaction was not confirmed in time (it may be resubmitted).",
    CONTRACT_ERROR: "The smart contract call failed (review the contract parameters).",
}


# Which account or line is at fault, for the one who has to fix it (`failure_reason`,
# `details.reason`): the code says what kind of failure it is, the reason what to fix.
_REASONS = {
    "op_no_destination": "destination_account_missing",
    "op_no_trust": "destination_trustline_missing",
    "op_not_authorized": "destination_trustline_not_authorized",
    "op_src_no_trust": "source_trustline_missing",
    "op_src_not_authorized": "source_trustline_not_authorized",
    "op_underfunded": "source_usdc_insufficient",
    "op_low_reserve": "source_xlm_reserve_insufficient",
    "tx_insufficient_balance": "source_xlm_insufficient",
    "tx_no_source_account": "source_account_missing",
    "op_no_account": "source_account_missing",
    "op_no_issuer": "asset_issuer_missing",
    "tx_too_late": "envelope_expired",
}
SOURCE_ACCOUNT_MISSING = "source_account_missing"
_REASON_MESSAGES = {
    "destination_account_missing": "The receiving account does not exist on the ledger: "
    "create it with XLM and add the USDC trustline (on the local ledger: "
    "POST /wallets/{entity_id}/fund), then retry.",
    "destination_trustline_missing": "The receiving account has no USDC trustline: add it "
    "(on the local ledger: POST /wallets/{entity_id}/fund), then retry.",
    SOURCE_ACCOUNT_MISSING: "The paying account does not exist on the ledger: create it with "
    "XLM and USDC (on the local ledger: POST /wallets/{entity_id}/fund), then retry.",
}


def failure_reason(submission: Submission | None) -> str | None:
    if submission is None:
        return None
    for code in (*submission.operation_codes, submission.transaction_code):
        if code in _REASONS:
            return _REASONS[code]
    return None


def failure_code(submission: Submission) -> str:
    for code in (*submission.operation_codes, submission.transaction_code):
        if code in _BY_RESULT_CODE:
            return _BY_RESULT_CODE[code]
    return TRANSACTION_FAILED


def failure_message(
    code: str, submission: Submission | None = None, reason: str | None = None
) -> str:
    reason = reason or failure_reason(submission)
    message = _REASON_MESSAGES.get(reason or "") or _MESSAGES.get(code, "The payment failed.")
    if submission is not None:
        codes = ", ".join((submission.transaction_code, *submission.operation_codes))
        message = f"{message} Result codes: {codes}."
    return message


class StellarTimeout(AppError):
    status_code = 504
    code = TIMEOUT
