"""The composition root of background work: every job handler and periodic sweep of every
feature, registered in one place for both executors (inline and Celery)."""

from __future__ import annotations

from app.jobs.sweeps import Sweep, register_sweep


def register_background_work() -> None:
    # Every table, so a worker process resolves foreign keys across features; importing a
    # feature's tasks module registers its job handlers.
    import app.models  # noqa: F401
    from app.payments import tasks as payment_tasks  # noqa: F401
    from app.sla import clock, contract, tasks  # noqa: F401

    register_sweep(Sweep("sla_clock", 30, clock.sweep))
