"""The outages feature's hot SQL: what creating an outage reads inside its own insert.

The reads are built once per number of sites an outage names (its id and its name: one or
two), of bound parameters (app/core/together.py), so the statement is compiled and prepared
once and a request only binds its values.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, String

from app.contracts import policies
from app.contracts import service as contracts
from app.core.db import UTCDateTime, json_array_contains
from app.core.together import Read, Reads
from app.webhooks.fanout import subscriptions_exist


def _contract_read(sites: int) -> Read:
    def read(parameter: Any) -> Select[Any]:
        return contracts.in_force_statement(
            parameter("org", String()),
            [parameter(f"site{index}", String()) for index in range(sites)],
            parameter("at", UTCDateTime()),
            has_site=json_array_contains,
        )

    return read


def _threshold_read(sites: int) -> Read:
    chooser = _contract_read(sites)

    def read(parameter: Any) -> Select[Any]:
        contract = chooser(parameter).scalar_subquery()
        return policies.threshold_statement(contract, parameter("severity", String()))

    return read


def _subscribed_read(parameter: Any) -> Select[Any]:
    return subscriptions_exist(parameter("org", String()))


_READS = {
    sites: (_threshold_read(sites), _subscribed_read, _contract_read(sites)) for sites in (0, 1, 2)
}


def creation_reads(values: dict[str, Any]) -> Reads:
    """Read with a new outage's insert: its severity's current threshold, whether its
    organization has an active webhook, and the contract in force for its site (index 2)."""
    sites = values["sla_sites"]
    return Reads(
        _READS[len(sites)],
        {
            "org": values["organization_id"],
            "at": values["detected_at"],
            "severity": values["severity"],
            **{f"site{index}": site for index, site in enumerate(sites)},
        },
    )
