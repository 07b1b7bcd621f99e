"""An incremental detector (docs/rules.md D1) run beside a full one over one county, in process on the funds schema's
real tables, the scope being the test's own county (its mark is the test's alone): incremental runs committed (their
mark kept), full runs in a transaction rolled back (leaving no mark); what each raised kept as the alert store keeps
it (a later finding about a subject replaces its facts, none is closed), and the two stores compared."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.kernel.alerts import Detector, DetectorContext
from services.kernel.db import create_engine, session_factory
from tests.stack import Stack, TestDatabase

Found = dict[str, tuple[dict[str, Any], str | None]]  # subject → (facts, responsible_org)

@pytest.fixture
async def engine(database: TestDatabase, stack: Stack) -> AsyncIterator[AsyncEngine]:
    made = create_engine("funds", url=database.url, pool_size=2)
    try:
        yield made
    finally:
        await made.dispose()


class Runs:
    """`detector` (registered as `code`) over `county`; `between` is called between the full run and the incremental
    one of `both` (to reset a stand-in's counts). `statements`: those the last run sent (which it read by: a test's
    tables are too small to count the rows a run reads, the planner reading them whole where an index would serve;
    bench/province_funds.py counts them at a province's size)."""

    def __init__(self, engine: AsyncEngine, detector: Detector, *, code: str, county: str, state: Any,
                 between: Callable[[], None] = lambda: None) -> None:
        self.sessions = session_factory(engine)
        self.detector, self.code, self.county, self.state = detector, code, county, state
        self.between = between
        self.incremental: Found = {}
        self.full: Found = {}
        self.statements: list[str] = []
        event.listen(engine.sync_engine, "before_cursor_execute", self._record)

    def _record(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.statements.append(statement)

    async def run(self, as_of: date, *, full: bool = False, commit: bool = True) -> Found:
        async with self.sessions() as session:
            self.statements = []
            context = DetectorContext(session=session, as_of=as_of, state=self.state, region_prefix=self.county,
                                      full=full)
            drafts = await self.detector(context)
            ran = self.statements
            await (session.commit() if commit and not full else session.rollback())
        self.statements = ran
        return {d.subject_id: (d.facts, d.responsible_org) for d in drafts}

    async def both(self, as_of: date) -> Found:
        """A full run and an incremental one as of the same day, each into its store; the stores compared."""
        self.full.update(await self.run(as_of, full=True))
        self.between()
        found = await self.run(as_of)
        self.incremental.update(found)
        assert self.incremental == self.full
        return found

    async def mark(self) -> tuple[Any, ...] | None:
        async with self.sessions() as session:
            row = (await session.execute(text(
                "SELECT as_of, read_from, others FROM detector_marks WHERE detector = :d AND region_prefix = :p"),
                {"d": self.code, "p": self.county})).first()
        return None if row is None else tuple(row)
