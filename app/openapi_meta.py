"""What the OpenAPI document says about the API as a whole: stable operation ids, tags,
servers, contact and licence. Kept apart from the completion rules (app/openapi.py)."""

from __future__ import annotations

from typing import Any

# Operation ids are part of the contract (generated clients name their methods after them):
# the endpoint function's name, except where it says too little out of context. Never
# rename one without a deprecation.
OPERATION_IDS: dict[str, str] = {
    "me": "get_me",
    "refresh": "refresh_tokens",
    "list_keys": "list_api_keys",
    "create_key": "create_api_key",
    "revoke_key": "revoke_api_key",
    "add_rca": "add_outage_rca",
    "get_timeline": "get_outage_timeline",
    "get_config": "get_sla_config",
    "get_configs": "get_sla_configs",
    "address_balance": "get_address_balance",
    "liveness": "health_liveness",
    "readiness": "health_readiness",
    "payment_history": "get_payment_history",
    "bulk_recompute": "bulk_recompute_sla",
    "bulk_import_outages": "bulk_import_outages",
    "put_config": "put_sla_config",
    "calculate": "calculate_sla",
    "preview": "preview_sla",
    "latest": "get_sla_result",
    "recalculate": "recalculate_sla",
    "bulk_resolve": "bulk_resolve_disputes",
    "create_faults": "create_faults_batch",
    "top": "top_faults",
    "get_rules": "get_fault_rules",
    "put_rules": "put_fault_rules",
    "create_token": "create_fault_share_token",
    "revoke_token": "revoke_fault_share_token",
    "shared": "list_shared_faults",
    "comment": "comment_fault",
    "get_usage": "get_incident_usage",
    "process_sla": "process_sla_payment",
    "trigger": "trigger_payment",
    "execute_payment": "execute_sla_payment",
    "submit_signed": "submit_signed_payment",
    "balance": "get_wallet_balance",
    "mttr": "mttr_analytics",
    "event_types": "list_webhook_event_types",
    "rotate_secret": "rotate_webhook_secret",
    "send_test": "test_webhook",
    "list_deliveries": "list_webhook_deliveries",
    "get_delivery": "get_webhook_delivery",
    "redeliver": "redeliver_webhook_delivery",
    "list_audit": "list_audit_entries",
    "verify_audit": "verify_audit_chain",
    "health": "health",
    "live": "health_live",
    "ready": "health_ready",
}
# The same probes are served outside the versioned prefix, for load balancers.
UNVERSIONED_PREFIX = "root_"

TAGS: list[dict[str, str]] = [
    {"name": "Auth", "description": "Registration, sign-in, token refresh, passwords."},
    {"name": "Users", "description": "The organization's users and their roles."},
    {"name": "API keys", "description": "Keys for machine clients of the intake routes."},
    {"name": "Outages", "description": "Outages from detection to resolution, with RCA."},
    {"name": "SLA", "description": "Policies, SLA outcomes, recalculation and status."},
    {"name": "Disputes", "description": "Disputes of an SLA outcome and their resolution."},
    {
        "name": "Contracts",
        "description": "Counterparties and their SLA contracts: sites, dates, versioned terms.",
    },
    {
        "name": "Maintenance",
        "description": "Maintenance windows: faults open no outage, and time does not count.",
    },
    {"name": "Faults", "description": "Faults reported by machines: intake, batches, storms."},
    {"name": "Incidents", "description": "Incidents reported by people, and investigations."},
    {"name": "Payments", "description": "USDC rewards and penalties settled on Stellar."},
    {"name": "Wallets", "description": "The organization's Stellar wallets and balances."},
    {"name": "Analytics", "description": "MTTR, SLA and payment analytics."},
    {"name": "Webhooks", "description": "Signed event delivery to your endpoints."},
    {"name": "Audit", "description": "The tamper-evident audit trail and its verification."},
    {"name": "Jobs", "description": "Background work of the organization."},
    {"name": "Health", "description": "Liveness, readiness and metrics."},
]

CONTACT = {"name": "ApexChainX", "url": "https://apexchainx.invalid/support"}
LICENSE = {"name": "Proprietary", "url": "https://apexchainx.invalid/terms"}
SERVERS = [{"url": "/", "description": "This server"}]


def operation_id(name: str, path: str, prefix: str, taken: set[str]) -> str:
    wanted = OPERATION_IDS.get(name, name)
    if not path.startswith(prefix + "/"):
        wanted = UNVERSIONED_PREFIX + wanted
    if wanted in taken:
        raise ValueError(f"two operations would be named {wanted!r}")
    return wanted


def document_info(info: dict[str, Any]) -> dict[str, Any]:
    return {**info, "contact": CONTACT, "license": LICENSE}
