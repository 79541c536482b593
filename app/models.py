"""Every table, imported in one place for Alembic and the test suite."""

from app.audit.models import AuditAnchor, AuditChainHead
from app.contracts.models import Counterparty, SlaContract, SlaPolicy
from app.core.db import Base
from app.core.idempotency import IdempotencyKey
from app.disputes.models import Dispute
from app.faults.models import Fault, FaultComment, FaultRules, FaultShareToken
from app.identity.models import (
    ApiKey,
    Organization,
    PasswordReset,
    RefreshToken,
    TokenFamily,
    User,
)
from app.incidents.models import Incident, Investigation, MonthlyUsage
from app.jobs.models import Job
from app.journal.models import AuditLog, DomainEvent, TimelineEntry
from app.maintenance.models import MaintenanceWindow
from app.outages.models import Outage, RootCauseAnalysis
from app.overrides.models import MttrOverride
from app.pauses.models import ClockPause
from app.payments.models import Payment, PaymentAttempt, PayoutBatch, ReconciliationRun
from app.sla.models import SlaResult
from app.statements.models import Statement
from app.stellar.models import LedgerAccount, LedgerTransaction, LedgerTrustline
from app.wallets.models import BalanceCache, Wallet
from app.webhooks.models import Webhook, WebhookAttempt, WebhookDelivery

__all__ = [
    "ApiKey",
    "AuditAnchor",
    "AuditChainHead",
    "AuditLog",
    "BalanceCache",
    "Base",
    "ClockPause",
    "Counterparty",
    "Dispute",
    "DomainEvent",
    "Fault",
    "FaultComment",
    "FaultRules",
    "FaultShareToken",
    "IdempotencyKey",
    "Incident",
    "Investigation",
    "Job",
    "LedgerAccount",
    "LedgerTransaction",
    "LedgerTrustline",
    "MaintenanceWindow",
    "MonthlyUsage",
    "MttrOverride",
    "Organization",
    "Outage",
    "PasswordReset",
    "Payment",
    "PaymentAttempt",
    "PayoutBatch",
    "ReconciliationRun",
    "RefreshToken",
    "RootCauseAnalysis",
    "SlaContract",
    "SlaPolicy",
    "SlaResult",
    "Statement",
    "TimelineEntry",
    "TokenFamily",
    "User",
    "Wallet",
    "Webhook",
    "WebhookAttempt",
    "WebhookDelivery",
]
