"""The code in docs/ works: the webhook receiver example verifies our signatures."""

from __future__ import annotations

import importlib.util
import json
import time
from pathlib import Path

import pytest

from app.webhooks import signing

ROOT = Path(__file__).resolve().parent.parent


def _receiver():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(
        "receiver", ROOT / "docs/examples/webhook_receiver.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_receiver_example_accepts_ours_and_refuses_forgeries() -> None:
    receiver = _receiver()
    old, new = signing.new_secret(), signing.new_secret()
    body = json.dumps({"id": "evt_1", "event": "outage.created", "data": {}}).encode()
    now = int(time.time())
    headers = {
        "webhook-id": "evt_1",
        "webhook-timestamp": str(now),
        "webhook-signature": signing.signature_header("evt_1", now, body, [new, old]),
    }
    assert receiver.verify(old, headers, body)["event"] == "outage.created"
    assert receiver.verify(new, headers, body)["event"] == "outage.created"
    with pytest.raises(ValueError, match="signature"):
        receiver.verify(signing.new_secret(), headers, body)
    with pytest.raises(ValueError, match="signature"):
        receiver.verify(old, headers, body.replace(b"created", b"deleted"))
    with pytest.raises(ValueError, match="timestamp"):
        receiver.verify(old, headers, body, now=now + 3600)
