"""Every table, imported in one place for Alembic and the test suite."""

from app.audit.models import AuditChainHead, AuditLog
from app.auth.models import ApiKey, Organization, RefreshToken, TokenFamily, User
from app.core.idempotency import IdempotencyKey
from app.db import Base
from app.jobs.models import Job

__all__ = [
    "ApiKey",
    "AuditChainHead",
    "AuditLog",
    "Base",
    "IdempotencyKey",
    "Job",
    "Organization",
    "RefreshToken",
    "TokenFamily",
    "User",
]
