"""A Python client generated from /openapi.json with openapi-python-client (pinned in
tools/openapi-client, installed by `make contract-tools`), without a warning, drives the main
flow against a real server through its generated types only."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from tests import templates
from tests.helpers import make_app, sibling_database
from tests.live import ROOT, live_server

pytestmark = pytest.mark.live

GENERATOR = ROOT / "tools" / "openapi-client" / "venv" / "bin" / "openapi-python-client"
PACKAGE = "apexchainx_client"
PASSWORD = "Correct-Horse-42!"


@pytest.fixture(scope="module")
def client_package(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    assert GENERATOR.exists(), "run `make contract-tools` (the client generator's venv)"
    work = tmp_path_factory.mktemp("client")
    document, config = work / "openapi.json", work / "config.json"
    document.write_text(json.dumps(make_app().openapi()))
    config.write_text(
        json.dumps(
            {
                "project_name_override": "apexchainx-client",
                "package_name_override": PACKAGE,
                "post_hooks": [],
            }
        )
    )
    run = subprocess.run(
        [str(GENERATOR), "generate", "--path", str(document), "--config", str(config)],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    assert "warning" not in output.lower(), output
    sys.path.insert(0, str(work / "apexchainx-client"))
    try:
        yield PACKAGE
    finally:
        sys.path.remove(str(work / "apexchainx-client"))
        for name in [m for m in sys.modules if m.startswith(PACKAGE)]:
            del sys.modules[name]


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"{PACKAGE}.{name}")


def _api(name: str) -> Any:
    return _module(f"api.{name}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = templates.clone_postgres(sibling_database("client"))
    env = {
        "DATABASE_URL": url,
        "REDIS_URL": "",
        "RATE_LIMIT_ENABLED": "false",
        "ENVIRONMENT": "development",
        "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
        "SECRET_KEY": "generated-client-secret-key-0123456789-abcdefgh",
    }
    with live_server(env, log=tmp_path_factory.mktemp("server") / "log") as base:
        yield base


def test_the_main_flow_through_the_generated_client(client_package: str, server: str) -> None:
    models = _module("models")
    client_module = _module("client")
    anonymous = client_module.Client(base_url=server)
    email = f"client-{uuid.uuid4().hex[:8]}@example.com"

    user = _api("auth.register").sync(
        client=anonymous, body=models.RegisterRequest(email=email, password=PASSWORD)
    )
    assert isinstance(user, models.UserOut) and user.role == "owner"
    tokens = _api("auth.login").sync(
        client=anonymous, body=models.LoginRequest(email=email, password=PASSWORD)
    )
    assert isinstance(tokens, models.TokenPair)
    client = client_module.AuthenticatedClient(base_url=server, token=tokens.access_token)

    key = uuid.uuid4().hex
    body = models.OutageCreate(site_name="Cell Tower Alpha", severity=models.Severity.CRITICAL)
    created = _api("outages.create_outage").sync_detailed(
        client=client, body=body, idempotency_key=key
    )
    replayed = _api("outages.create_outage").sync_detailed(
        client=client, body=body, idempotency_key=key
    )
    assert created.status_code == 201 and replayed.status_code == 201
    outage = created.parsed
    assert isinstance(outage, models.OutageCreated) and replayed.parsed.id == outage.id
    assert outage.message == "Outage created successfully"

    page = _api("outages.list_outages").sync(client=client)
    assert isinstance(page, models.PageOutageOut)
    assert [o.id for o in page.results] == [outage.id]
    assert isinstance(page.results[0], models.OutageOut)

    resolved = _api("outages.resolve_outage").sync(
        outage.id, client=client, body=models.ResolveRequest()
    )
    assert isinstance(resolved, models.OutageDetail) and resolved.status == "resolved"
    assert resolved.mttr_source == "clock" and resolved.overrides == []
    result = _api("sla.get_sla_result").sync(outage.id, client=client)
    assert isinstance(result, models.SlaResultOut) and result.outcome == "reward"
    detail = _api("outages.get_outage").sync(outage.id, client=client)
    assert isinstance(detail.payment, models.PaymentOut)
    payment = _api("payments.get_payment").sync(detail.payment.id, client=client)
    assert isinstance(payment, models.PaymentDetail) and payment.amount == 1500.0

    fault = _api("faults.create_fault").sync(
        client=client,
        body=models.FaultCreate(
            resource_id="dev_1",
            microservice_id="nms",
            type_="link-down",
            severity=models.FaultSeverity.HIGH,
            message="Link down",
            cause="Fibre cut",
        ),
    )
    assert isinstance(fault, models.FaultOut) and fault.occurrences == 1
    incident = _api("incidents.create_incident").sync(
        client=client,
        body=models.IncidentCreate(title="Dropped calls", description="Calls drop in sector 4"),
    )
    assert isinstance(incident, models.IncidentCreated)
    hook = _api("webhooks.create_webhook").sync(
        client=client,
        body=models.WebhookCreate(
            url="http://127.0.0.1:9/hook",
            events=[models.WebhookCreateEventsItem.OUTAGE_RESOLVED],
            name="NMS",
        ),
    )
    assert isinstance(hook, models.WebhookWithSecret) and hook.secret.startswith("whsec_")
    chain = _api("audit.verify_audit_chain").sync(client=client)
    assert isinstance(chain, models.ChainReportOut) and chain.valid is True

    refused = _api("outages.resolve_outage").sync_detailed(
        outage.id, client=client, body=models.ResolveRequest(mttr_minutes=-1)
    )
    assert refused.status_code == 422
    assert isinstance(refused.parsed, models.ErrorEnvelope)
    assert refused.parsed.error.code == "VALIDATION_ERROR"
    assert refused.parsed.error.details["errors"][0]["loc"][-1] == "mttr_minutes"
