"""The composition root of background work: every job handler and periodic sweep of every
feature, registered in one place for both executors (inline and Celery)."""

from __future__ import annotations

from app.config import Settings
from app.core.db import Database
from app.jobs.sweeps import Sweep, register_sweep


def open_database(settings: Settings) -> Database:
    """A database whose sessions run every hook of the platform, with its reactions declared:
    what a command or a script opens (the app and the worker install the same)."""
    install_reactions()
    database = Database(settings)
    install_session_hooks(database)
    return database


def install_session_hooks(database: Database) -> None:
    """Hooks every session of this instance runs: the journal (its rows written with the
    transaction, app/journal/journal.py), the audit chainers (the rows a commit wrote linked
    right after it) and the webhook fan-out (deliveries and their jobs join the transaction
    that published the events), in that order at each commit."""
    from app.audit.chaining import install_chaining
    from app.journal.journal import install_journal
    from app.webhooks.fanout import install_fanout

    install_journal(database.session_class)
    database.chainers = install_chaining(database)
    install_fanout(database)


def install_reactions() -> None:
    """What follows from each kind of change (app/reactions.py)."""
    from app import reactions

    reactions.install()


def register_background_work() -> None:
    # Every table, so a worker process resolves foreign keys across features; importing a
    # feature's tasks module registers its job handlers.
    import app.models  # noqa: F401
    from app.audit.anchors import anchor_due
    from app.audit.chaining import chain_everything
    from app.config import get_settings
    from app.faults import service as faults
    from app.faults import storm
    from app.incidents import tasks as incident_tasks  # noqa: F401
    from app.payments import reconcile
    from app.payments import tasks as payment_tasks  # noqa: F401
    from app.sla import clock, contract, tasks  # noqa: F401
    from app.statements import service as statements
    from app.statements import tasks as statement_tasks  # noqa: F401
    from app.webhooks import tasks as webhook_tasks  # noqa: F401

    register_sweep(Sweep("sla_clock", 30, clock.sweep))
    register_sweep(Sweep("chain_audit_rows", 5, chain_everything))
    register_sweep(
        Sweep("anchor_audit_chains", get_settings().audit_anchor_interval_seconds, anchor_due)
    )
    register_sweep(Sweep("purge_expired_faults", 3600, faults.purge_expired))
    register_sweep(Sweep("fault_storm_summaries", 60, storm.sweep))
    register_sweep(
        Sweep("reconcile_payments", get_settings().reconcile_every_seconds, reconcile.sweep)
    )
    register_sweep(Sweep("close_statements", 3600, statements.close_due))
