"""Every feature router, under the API prefix."""

from __future__ import annotations

from app.analytics.router import router as analytics_router
from app.api_keys.router import router as api_keys_router
from app.audit.router import router as audit_router
from app.auth.router import router as auth_router
from app.auth.sessions import router as sessions_router
from app.contracts.router import router as contracts_router
from app.disputes.router import router as disputes_router
from app.faults.gateway import router as fault_gateway_router
from app.faults.router import router as faults_router
from app.health.router import router as health_router
from app.incidents.router import router as incidents_router
from app.jobs.router import router as jobs_router
from app.lifecycle.import_router import router as outage_imports_router
from app.lifecycle.router import router as outages_router
from app.lifecycle.status_router import router as sla_status_router
from app.maintenance.router import router as maintenance_router
from app.overrides.router import router as overrides_router
from app.pauses.router import router as pauses_router
from app.payments.reconciliation_router import router as reconciliation_router
from app.payments.router import router as payments_router
from app.preferences.router import router as preferences_router
from app.sla.router import router as sla_router
from app.statements.router import router as statements_router
from app.stellar.router import router as stellar_router
from app.users.router import router as users_router
from app.wallets.router import router as wallets_router
from app.webhooks.router import router as webhooks_router

FEATURE_ROUTERS = (
    health_router,
    auth_router,
    sessions_router,
    preferences_router,
    users_router,
    api_keys_router,
    outage_imports_router,  # before the outages' /{outage_id}
    outages_router,
    sla_router,
    sla_status_router,
    disputes_router,
    overrides_router,
    pauses_router,
    maintenance_router,
    contracts_router,
    statements_router,
    faults_router,
    fault_gateway_router,
    incidents_router,
    reconciliation_router,
    payments_router,
    wallets_router,
    stellar_router,
    analytics_router,
    webhooks_router,
    audit_router,
    jobs_router,
)
