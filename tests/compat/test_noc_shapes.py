"""The compatibility surface's pure renames."""

from app.compat.noc import shapes


def test_role_events_name_the_owner_admin_and_leave_the_rest() -> None:
    changed = b'event: role_changed\ndata: {"role":"owner","previous":"engineer"}\n\n'
    assert shapes.event_roles_renamed(changed) == (
        b'event: role_changed\ndata: {"role":"admin","previous":"engineer"}\n\n'
    )
    ready = b'retry: 5000\nevent: ready\ndata: {"session_id":"s","role":"owner"}\n\n'
    assert b'"role":"admin"' in shapes.event_roles_renamed(ready)
    beat = b'event: heartbeat\ndata: {"timestamp":1}\n\n'
    assert shapes.event_roles_renamed(beat) == beat


def test_a_signed_amount_is_negative_for_a_penalty_and_absent_without_an_outcome() -> None:
    assert shapes.signed({"payment_type": "penalty", "penalty_amount": 1000.0}) == -1000.0
    assert shapes.signed({"payment_type": "reward", "reward_amount": 750.0}) == 750.0
    assert shapes.signed({"payment_type": None}) is None and shapes.signed(None) is None


def test_the_frontends_import_template_becomes_an_import_record() -> None:
    record = shapes.import_record(
        {"service_id": "svc-1", "start_time": "2026-12-01T10:00:00Z", "end_time": ""}
    )
    assert record == {
        "site_id": "svc-1",
        "site_name": "svc-1",
        "detected_at": "2026-12-01T10:00:00Z",
        "resolved_at": "",
        "severity": "medium",
    }
