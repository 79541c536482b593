"""Every table, imported in one place for Alembic and the test suite."""

from app.audit.models import AuditChainHead, AuditLog
from app.auth.models import ApiKey, Organization, RefreshToken, TokenFamily, User
from app.core.idempotency import IdempotencyKey
from app.db import Base
from app.disputes.models import Dispute
from app.events.models import DomainEvent
from app.jobs.models import Job
from app.outages.models import Outage, RootCauseAnalysis, TimelineEntry
from app.sla.models import SlaPolicy, SlaResult

__all__ = [
    "ApiKey",
    "AuditChainHead",
    "AuditLog",
    "Base",
    "Dispute",
    "DomainEvent",
    "IdempotencyKey",
    "Job",
    "Organization",
    "Outage",
    "RefreshToken",
    "RootCauseAnalysis",
    "SlaPolicy",
    "SlaResult",
    "TimelineEntry",
    "TokenFamily",
    "User",
]
