from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Path, Query
from fastapi.responses import Response

from app.core.db import SessionDep
from app.core.errors import NotFound
from app.core.routing import APIRouter
from app.identity.dependencies import CurrentPrincipal
from app.statements import render, service
from app.statements.periods import PERIOD_PATTERN
from app.statements.schemas import StatementDocument, StatementOut, StatementVerification

router = APIRouter(tags=["Contracts"])

CounterpartyId = Annotated[str, Path(max_length=64, description="A counterparty (`cpy_...`).")]
PeriodLabel = Annotated[
    str,
    Path(
        pattern=PERIOD_PATTERN,
        description="A month (`2026-11`) or a quarter (`2026-Q4`), UTC.",
        examples=["2026-11"],
    ),
]
MEDIA = {"json": "application/json", "csv": "text/csv", "pdf": "application/pdf"}


@router.get(
    "/counterparties/{counterparty_id}/statements",
    response_model=list[StatementOut],
    summary="A counterparty's closed statements",
)
async def list_statements(
    counterparty_id: CounterpartyId, principal: CurrentPrincipal, session: SessionDep
) -> list[StatementOut]:
    """Newest period first: each frozen statement's SHA-256 and its anchor on the ledger."""
    return [
        StatementOut.model_validate(s) for s in await service.frozen_of(session, counterparty_id)
    ]


@router.get(
    "/counterparties/{counterparty_id}/statements/{period}",
    summary="A settlement statement (JSON, CSV or PDF)",
    responses={
        200: {
            "model": StatementDocument,
            "description": "The statement. Headers: `X-Statement-SHA256` (of the JSON "
            "document), `X-Statement-Status` (`open` or `closed`), `X-Statement-Anchor`.",
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/pdf": {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
async def get_statement(
    counterparty_id: CounterpartyId,
    period: PeriodLabel,
    principal: CurrentPrincipal,
    session: SessionDep,
    format: Annotated[Literal["json", "csv", "pdf"], Query()] = "json",
) -> Response:
    """Outages settled in the period under the counterparty's contracts (measured MTTR,
    exclusions, approved overrides, penalties, rewards), corrections of earlier periods,
    payments with their ledger hashes, and the net. While the period is open it is a draft.
    Once closed (STATEMENT_CLOSE_DELAY_HOURS after its end) it is frozen: every read returns
    the same bytes, and the JSON document's SHA-256 is anchored on the ledger (see
    `.../verify`). The CSV and the PDF (with signature lines for both parties) are rendered
    from the JSON document, byte for byte the same each time."""
    shown = await service.show(session, counterparty_id, period)
    if format == "json":
        body = shown.body
    elif format == "csv":
        body = render.to_csv(shown.document)
    else:
        body = render.to_pdf(shown.document, shown.sha256)
    anchor = shown.statement.anchor_tx_hash if shown.statement else None
    name = f"statement-{counterparty_id}-{period}.{format}"
    return Response(
        body,
        media_type=MEDIA[format],
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-Statement-SHA256": shown.sha256,
            "X-Statement-Status": shown.status,
            "X-Statement-Anchor": anchor or ("pending" if shown.statement else "none"),
            "ETag": f'"{shown.sha256}-{format}"',
            "Cache-Control": "private, no-cache",
        },
    )


@router.get(
    "/counterparties/{counterparty_id}/statements/{period}/verify",
    response_model=StatementVerification,
    summary="Check a closed statement against its anchor",
)
async def verify_statement(
    counterparty_id: CounterpartyId,
    period: PeriodLabel,
    principal: CurrentPrincipal,
    session: SessionDep,
) -> StatementVerification:
    """The stored document still hashes to its SHA-256, and the ledger holds the anchor
    transaction with that hash as its memo. 404 while the period is open."""
    shown = await service.show(session, counterparty_id, period)
    if shown.statement is None:
        raise NotFound("This period is still open: its statement is a draft, not anchored.")
    return StatementVerification(**await service.verify(session, shown.statement))
