"""Verifying the chain while rows are appended. Each test failed before its fix."""

from typing import Any

from app.audit import service as audit
from app.core.actors import SYSTEM
from app.core.tenancy import system_session
from app.journal import journal
from app.journal.entries import Change
from tests.helpers import (
    Api,
)


async def test_verify_ignores_rows_appended_after_it_read_the_head(app: Any, api: Api) -> None:
    owner = await api.owner()
    database = app.state.database
    async with system_session(database, "test inspection") as reader:
        original = reader.execute

        async def execute_then_append(*args: Any, **kwargs: Any) -> Any:
            result = await original(*args, **kwargs)
            if not getattr(execute_then_append, "done", False):
                execute_then_append.done = True  # type: ignore[attr-defined]
                async with system_session(database, "test inspection") as writer:
                    journal.record(writer, Change(owner.organization_id, SYSTEM, "probe"))
                    await writer.commit()
            return result

        reader.execute = execute_then_append  # type: ignore[method-assign]
        report = await audit.verify(reader, owner.organization_id, app.state.settings)
    assert report.valid, report.reason
