"""A statement document as CSV and as a PDF a person signs: pure functions of the JSON
document, so each format is reproducible byte for byte from the stored document."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

from app.core.spreadsheet import spreadsheet_safe
from app.statements.pdf import Line, render

CSV_COLUMNS = (
    "line",
    "outage_id",
    "site_name",
    "severity",
    "detected_at",
    "resolved_at",
    "measured_mttr_minutes",
    "excluded_minutes",
    "mttr_minutes",
    "mttr_source",
    "override_id",
    "approved_by",
    "threshold_minutes",
    "status",
    "payment_type",
    "amount",
    "sla_result_id",
    "payment_id",
    "payment_status",
    "transaction_hash",
    "ledger",
)


def to_csv(document: dict[str, Any]) -> bytes:
    """One row per outage, correction, payment and total (`line` says which)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    rows: list[dict[str, Any]] = []
    for line in document["outages"]:
        override = line["override"] or {}
        rows.append(
            {
                **{k: line.get(k) for k in CSV_COLUMNS},
                "line": "outage",
                "override_id": override.get("override_id"),
                "approved_by": override.get("approved_by"),
            }
        )
    for adjustment in document["adjustments"]:
        rows.append(
            {
                "line": "correction",
                "outage_id": adjustment["outage_id"],
                "sla_result_id": adjustment["sla_result_id"],
                "amount": adjustment["difference"],
                "status": adjustment["trigger"],
            }
        )
    for payment in document["payments"]:
        rows.append(
            {
                "line": "payment",
                "outage_id": payment["outage_id"],
                "sla_result_id": payment["sla_result_id"],
                "payment_id": payment["payment_id"],
                "payment_type": payment["type"],
                "amount": payment["amount"],
                "payment_status": "confirmed",
                "transaction_hash": payment["transaction_hash"],
                "ledger": payment["ledger"],
            }
        )
    for name, value in document["totals"].items():
        rows.append({"line": f"total_{name}", "amount": value})
    for row in rows:
        if row.get("amount") is not None:
            row["amount"] = Decimal(row["amount"])  # a number: a negative is no formula
        writer.writerow({k: spreadsheet_safe(v) if v is not None else "" for k, v in row.items()})
    return out.getvalue().encode()


def _cell(value: Any, width: int) -> str:
    text = "-" if value is None else str(value)
    return (text if len(text) <= width else text[: width - 1] + "~").ljust(width)


def to_pdf(document: dict[str, Any], sha256: str) -> bytes:
    org, party, period = document["organization"], document["counterparty"], document["period"]
    totals = document["totals"]
    lines = [
        Line("SLA settlement statement", "F2", 16),
        Line(f"{org['name']}  and  {party['name']} ({party['kind']})", "F1", 11, gap=6),
        Line(f"Period {period['label']}: {period['starts_at']} to {period['ends_at']} (UTC)"),
        Line(f"Status: {document['status']}   Generated: {document['generated_at']}"),
        Line(f"Counterparty wallet: {party['wallet_address'] or 'the organization wallets'}"),
        Line(f"Amounts in {document['currency']['asset']}; + is paid to the counterparty."),
        Line("Outages settled", "F2", 11, gap=10),
        Line(
            "outage                          severity  measured excl  used  source     amount",
            "F3",
            7,
        ),
    ]
    for o in document["outages"]:
        source = "override" if o["mttr_source"] == "approved_override" else o["mttr_source"]
        lines.append(
            Line(
                f"{_cell(o['outage_id'], 32)}{_cell(o['severity'], 10)}"
                f"{_cell(o['measured_mttr_minutes'], 9)}{_cell(o['excluded_minutes'], 5)}"
                f"{_cell(o['mttr_minutes'], 6)}{_cell(source, 11)}{o['amount']}",
                "F3",
                7,
            )
        )
        if o["override"]:
            approval = o["override"]
            lines.append(
                Line(
                    f"    override {approval['override_id']} approved by "
                    f"{approval['approved_by']} at {approval['approved_at']}",
                    "F3",
                    7,
                )
            )
    if document["adjustments"]:
        lines.append(Line("Corrections of earlier periods", "F2", 11, gap=10))
        for a in document["adjustments"]:
            lines.append(
                Line(
                    f"{_cell(a['outage_id'], 32)}{_cell(a['trigger'], 12)}"
                    f"{a['previous_amount']} -> {a['amount']}  ({a['difference']})",
                    "F3",
                    7,
                )
            )
    lines.append(Line("Payments confirmed in the period", "F2", 11, gap=10))
    for p in document["payments"]:
        lines.append(
            Line(
                f"{_cell(p['payment_id'], 32)}{_cell(p['confirmed_at'], 22)}"
                f"{_cell(p['amount'], 16)}{p['transaction_hash'] or '-'}",
                "F3",
                7,
            )
        )
    lines += [
        Line("Totals", "F2", 11, gap=10),
        Line(
            f"Penalties {totals['penalties']}   Rewards {totals['rewards']}   "
            f"Corrections {totals['adjustments']}"
        ),
        Line(
            f"Net {totals['net']}   Paid in the period {totals['paid']}",
            "F2",
        ),
        Line(f"Document SHA-256: {sha256}", "F3", 7, gap=10),
        Line("Signed for the organization: ______________________  date: __________", gap=30),
        Line(f"Signed for {party['name']}: ______________________  date: __________", gap=24),
    ]
    title = f"Statement {party['name']} {period['label']}"
    return render(lines, title=title, footer=f"{title}  sha256 {sha256[:16]}...")
