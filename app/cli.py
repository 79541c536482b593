"""The `apexchainx` command: run, migrate, administer and seed the service.

apexchainx serve | worker | beat | migrate | create-admin | reset-password | seed-demo | reconcile |
export
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import select

from app.config import get_settings
from app.core.spreadsheet import spreadsheet_safe
from app.serving import uvicorn_command

cli = typer.Typer(help="ApexChainX: outages, SLA and payouts.", no_args_is_help=True)
QUEUES = "default,sla,payouts,webhooks,investigations"


def _run(args: list[str]) -> None:
    raise typer.Exit(subprocess.call(args))  # noqa: S603 (our own interpreter and arguments)


@cli.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    migrate_first: Annotated[bool, typer.Option("--migrate/--no-migrate")] = True,
) -> None:
    """Run the API (uvicorn). In-flight requests get 20 s to finish on shutdown. The client
    address comes from the socket, or from X-Forwarded-For through TRUSTED_PROXIES only."""
    if migrate_first:
        _migrate()
    command = uvicorn_command(host, port, workers)
    # The process becomes uvicorn: signals from a supervisor reach the server itself.
    os.execv(command[0], command)  # noqa: S606 (our own interpreter and arguments)


@cli.command()
def worker(queues: str = QUEUES, concurrency: int = 2) -> None:
    """Run a Celery worker (JOBS_EXECUTOR=celery)."""
    _run(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "app.worker",
            "worker",
            "-Q",
            queues,
            "--concurrency",
            str(concurrency),
            "--loglevel",
            "INFO",
        ]
    )


@cli.command()
def beat() -> None:
    """Run Celery beat: re-dispatch lost jobs and run the periodic sweeps."""
    _run([sys.executable, "-m", "celery", "-A", "app.worker", "beat", "--loglevel", "INFO"])


def _migrate() -> None:
    root = Path(__file__).resolve().parent.parent
    code = subprocess.call([sys.executable, "-m", "alembic", "upgrade", "head"], cwd=root)
    if code:
        raise typer.Exit(code)


@cli.command()
def migrate() -> None:
    """Apply the database migrations (alembic upgrade head)."""
    _migrate()


@cli.command("create-admin")
def create_admin(
    email: str,
    organization: Annotated[str, typer.Option(help="Name of the new organization")] = "ApexChainX",
    password: Annotated[str | None, typer.Option(envvar="APEXCHAINX_ADMIN_PASSWORD")] = None,
) -> None:
    """Create an organization and its owner. The password comes from the option, the
    APEXCHAINX_ADMIN_PASSWORD variable, or a prompt; it is never printed."""
    secret = password or typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    asyncio.run(_create_admin(email, organization, secret))


async def _create_admin(email: str, organization: str, password: str) -> None:
    from pydantic import ValidationError

    from app.auth.schemas import RegisterRequest
    from app.auth.service import register
    from app.background import open_database
    from app.core.errors import AppError

    database = open_database(get_settings())
    try:
        data = RegisterRequest(email=email, password=password, organization_name=organization)
        async with database.sessionmaker() as session:
            await register(session, data)
            await session.commit()
    except ValidationError as exc:
        # Field and reason only: the input (a password) is never echoed.
        for error in exc.errors():
            typer.echo(f"refused: {'.'.join(map(str, error['loc']))}: {error['msg']}", err=True)
        raise typer.Exit(2) from None
    except AppError as exc:
        typer.echo(f"refused: {exc.message}", err=True)
        raise typer.Exit(2) from None
    finally:
        await database.dispose()
    typer.echo(f"created the owner {email} of a new organization '{organization}'")


@cli.command("reset-password")
def reset_password(
    email: str,
    organization: Annotated[
        str | None, typer.Option(help="The organization id, when the email has several accounts")
    ] = None,
) -> None:
    """Issue a one-time password reset token for a user (printed, or mailed when SMTP_URL is
    set). The user sets a new password with it at POST /auth/password/reset."""
    asyncio.run(_reset_password(email.strip().lower(), organization))


async def _reset_password(email: str, organization: str | None) -> None:
    from app.auth.accounts import issue_reset
    from app.background import open_database
    from app.core.actors import Actor
    from app.core.errors import AppError
    from app.core.tenancy import system_session
    from app.identity.models import User
    from app.identity.roles import Role

    database = open_database(get_settings())
    try:
        async with system_session(database, "reset a password from the command line") as session:
            query = select(User).where(User.email == email)
            if organization:
                query = query.where(User.organization_id == organization)
            users = list((await session.execute(query)).scalars())
            if len(users) != 1:
                found = ", ".join(u.organization_id for u in users) or "none"
                typer.echo(
                    f"refused: {len(users)} accounts match (organizations: {found})", err=True
                )
                raise typer.Exit(2)
            actor = Actor("system", "cli")
            try:
                issued = await issue_reset(session, database.settings, users[0], actor, Role.owner)
            except AppError as exc:
                typer.echo(f"refused: {exc.message}", err=True)
                raise typer.Exit(2) from None
            await session.commit()
    finally:
        await database.dispose()
    if issued.token is None:
        typer.echo(f"a reset token was mailed to {email}; it works until {issued.expires_at}")
    else:
        typer.echo(f"reset token (works once, until {issued.expires_at}): {issued.token}")


@cli.command("seed-demo")
def seed_demo(days: int = 30) -> None:
    """The demo organization with a month of outages, faults, SLA results and payments."""
    asyncio.run(_seed_demo(days))


async def _seed_demo(days: int) -> None:
    from app.background import open_database, register_background_work
    from app.demo import announce, demo_organization, seed_demo_approver
    from app.demo import seed_demo as seed_organization
    from app.demo_data import seed_demo_data
    from app.jobs.executor import InlineExecutor

    register_background_work()
    settings = get_settings()
    database = open_database(settings)
    try:
        credentials = await seed_organization(database)
        approver = await seed_demo_approver(database)
        count = await seed_demo_data(database, await demo_organization(database), days=days)
        ran = await InlineExecutor(database, poll_interval=1, lease_seconds=60).drain()
        typer.echo(f"{count} outages created, {ran} background jobs run (payouts and more)")
        announce(credentials, database, approver)
    finally:
        await database.dispose()


@cli.command()
def reconcile(
    organization_id: Annotated[
        str | None, typer.Argument(help="One organization; every one with payments if absent")
    ] = None,
) -> None:
    """Compare payments with the ledger (by hash, amount, destination, source, asset) and
    print what disagrees, as JSON. Exits 1 when anything does; nothing is changed."""
    runs = asyncio.run(_reconcile(organization_id))
    json.dump(runs, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")
    if any(run["mismatch_count"] for run in runs):
        raise typer.Exit(1)


async def _reconcile(organization_id: str | None) -> list[dict[str, object]]:
    from app.background import open_database, register_background_work
    from app.logging import configure_logging
    from app.payments import reconcile as reconciliation

    configure_logging(get_settings(), stream=sys.stderr)  # standard output is the report
    register_background_work()
    database = open_database(get_settings())
    try:
        if organization_id is None:
            found = await reconciliation.reconcile_all(database, trigger="cli")
        else:
            found = [await reconciliation.reconcile_one(database, organization_id, trigger="cli")]
        return [{"organization_id": r.organization_id, **reconciliation.summary(r)} for r in found]
    finally:
        await database.dispose()


@cli.command()
def export(
    organization_id: str,
    what: Annotated[str, typer.Option(help="outages, sla-results, payments or faults")] = "outages",
    fmt: Annotated[str, typer.Option("--format", help="csv or json")] = "csv",
    output: Annotated[Path | None, typer.Option(help="File; standard output when absent")] = None,
) -> None:
    """Export one organization's records."""
    rows = asyncio.run(_rows(organization_id, what))
    stream = output.open("w", newline="") if output else sys.stdout
    try:
        if fmt == "json":
            json.dump(rows, stream, indent=2, default=str)
            stream.write("\n")
        else:
            writer = csv.DictWriter(stream, fieldnames=list(rows[0]) if rows else ["id"])
            writer.writeheader()
            writer.writerows({k: spreadsheet_safe(v) for k, v in row.items()} for row in rows)
    finally:
        if output:
            stream.close()


async def _rows(organization_id: str, what: str) -> list[dict[str, object]]:
    from app.background import open_database
    from app.core.tenancy import tenant_session
    from app.faults.models import Fault
    from app.outages.models import Outage
    from app.payments.models import Payment
    from app.sla.models import SlaResult

    models = {"outages": Outage, "sla-results": SlaResult, "payments": Payment, "faults": Fault}
    if what not in models:
        raise typer.BadParameter(f"choose one of {', '.join(models)}")
    model = models[what]
    database = open_database(get_settings())
    table = model.__table__
    columns = [c for c in table.columns if c.key not in {"search_vector"} and "secret" not in c.key]
    try:
        async with tenant_session(database, organization_id) as session:
            rows = await session.execute(
                select(*columns)
                .where(table.c.organization_id == organization_id)  # explicit: a Core query
                .order_by(table.c.id)
            )
            return [dict(row._mapping) for row in rows]
    finally:
        await database.dispose()


def main() -> None:
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    cli()
