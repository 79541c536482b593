"""Every event type the platform emits (and a webhook may subscribe to)."""

from __future__ import annotations

from typing import Final

EVENT_TYPES: Final = (
    "outage.created",
    "outage.updated",
    "outage.escalated",
    "outage.assigned",
    "outage.resolved",
    "sla.calculated",
    "sla.at_risk",
    "sla.violated",
    "sla.override_requested",
    "sla.override_decided",
    "payment.completed",
    "payment.failed",
    "dispute.created",
    "dispute.resolved",
    "fault.created",
    "fault.resolved",
    "fault.storm",
    "incident.created",
    "incident.triaged",
    "incident.updated",
    "incident.resolved",
    "incident.closed",
    "investigation.completed",
)
