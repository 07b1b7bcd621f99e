"""D1: how far a detector's last successful run over a scope got (issue #20: "incremental where it can be"), for a
detector whose finding about a fact does not change as days pass, so that a run needs to look only at what changed
since the last one. Every query of the detector_marks table is here.

What was recorded since is told by the transaction that recorded it (`schema.recorded_xid_column`), not by a time.
Transactions commit out of order: a payment stamped 02:00:00 (its transaction's start, `now()`) may commit at
02:00:30, after a run that began reading at 02:00:10 took its snapshot, and a run reading "from 02:00:10" next time
would never judge it. Nothing bounds how long a writing transaction lasts: the statement timeouts (settings.py,
db.py: 20 s a statement, 900 s a long one) bound each statement, not a transaction of many statements, nor the wait
for another service between them, nor a roster import, which lasts as long as its upload (body_timeout_seconds, an
hour) and its merges; and PostgreSQL shows a service's role (SET ROLE after a shared login) the start of no other
session's transaction, so the oldest open one cannot be asked for either. A time less a fixed overlap would miss a
transaction that outlived the overlap. The transaction id is exact: every row a snapshot cannot see was written by a
transaction at or after the snapshot's xmin (the oldest still running when it was taken), so a run that keeps its
snapshot's xmin (`reading_from`, taken before it reads) and reads next time the rows whose xid is at or after it
misses nothing, whenever they commit, and reads again only what was running or began after its snapshot. (The xmin
is the server's: a long transaction open anywhere on it, a roster import, holds a mark back while it runs, and the
next run reads again what was recorded since it began: more work, never less.)

A mark: the run was as of `as_of`; it read everything recorded by transactions before `read_from`; and, per other
service it asked what changed, that service's own such xid (`others`). A later run of the same scope as of the same
day or later (`follows`) reads only what was recorded from them on; any other run is a full one. The mark is written
in the transaction of the run's alerts (`keep_mark`): a run that fails, or whose alerts are not committed, leaves
the mark where it was. `begin` and `finish` are how a detector's run uses all this (every incremental detector
alike): `Run.since` is the mark it follows, None for a full run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.alerts import DetectorContext
from services.kernel.models import DetectorMark

log = logging.getLogger("fundtrack.detectors")


@dataclass(frozen=True)
class Mark:
    as_of: date
    read_from: int  # the oldest transaction of this database the run's reading could not see
    others: dict[str, int] = field(default_factory=dict)  # service → the same, of that service's database


# The xmin of a snapshot taken now: a statement run after this one (READ COMMITTED: a snapshot each) cannot see a row
# of a transaction older than it. xid8 is 64 bits, an epoch and a 32-bit id: it never wraps round.
_READING_FROM = text("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")


async def reading_from(session: AsyncSession) -> int:
    """From which transaction a run that reads after this call reads again next time; what an internal route saying
    what changed answers, for its caller to ask from next time."""
    value: int = (await session.execute(_READING_FROM)).scalar_one()
    return value


async def last_mark(session: AsyncSession, *, detector: str, region_prefix: str) -> Mark | None:
    row = await session.get(DetectorMark, (detector, region_prefix))
    if row is None:
        return None
    return Mark(as_of=row.as_of, read_from=row.read_from, others={str(k): int(v) for k, v in row.others.items()})


def follows(mark: Mark | None, as_of: date) -> bool:
    """Whether a run as of `as_of` can read only what changed since `mark`: there is one, as of that day or before
    (a run as of an earlier day is a full one, as is the first)."""
    return mark is not None and as_of >= mark.as_of


async def keep_mark(session: AsyncSession, *, detector: str, region_prefix: str, mark: Mark) -> None:
    """Record how far this run got, in the session's transaction (with its alerts). Concurrent runs of one scope
    (a scan asked for beside the daily run) leave the mark of the one that commits last; either is a true mark of a
    run that read everything before it."""
    values: dict[str, Any] = {
        "detector": detector, "region_prefix": region_prefix, "as_of": mark.as_of, "read_from": mark.read_from,
        "others": dict(mark.others),
    }
    statement = insert(DetectorMark).values(**values)
    await session.execute(statement.on_conflict_do_update(
        index_elements=["detector", "region_prefix"],
        set_={"as_of": statement.excluded.as_of, "read_from": statement.excluded.read_from,
              "others": statement.excluded.others, "written_at": text("now()")},
    ))


@dataclass(frozen=True)
class Run:
    """One run of a detector over a scope: the mark it found (`kept`), the mark it follows (`since`: None, a full
    run) and its own transaction to read from next time (`read_from`, taken before it reads anything)."""

    detector: str
    region_prefix: str
    as_of: date
    read_from: int
    kept: Mark | None
    since: Mark | None


async def begin(ctx: DetectorContext, detector: str) -> Run:
    """D1: a run following the scope's mark, or a full one: asked for (`ctx.full`), no mark, as of an earlier day
    than the mark, or the database's transaction counter behind the mark (a database restored into, or replicated to,
    another cluster, whose new rows have smaller ids than the mark's: nothing recorded since could be told apart)."""
    kept = await last_mark(ctx.session, detector=detector, region_prefix=ctx.region_prefix)
    read_from = await reading_from(ctx.session)  # before the run reads: what its reading misses is after it
    since = None if ctx.full or not follows(kept, ctx.as_of) else kept
    if since is not None and read_from < since.read_from:
        log.warning("transaction ids behind %s's mark: a full run for as_of %s", detector, ctx.as_of)
        since = None
    return Run(detector=detector, region_prefix=ctx.region_prefix, as_of=ctx.as_of, read_from=read_from, kept=kept,
               since=since)


async def finish(session: AsyncSession, run: Run, *, others: dict[str, int] | None = None) -> None:
    """Keep the mark of a run that read everything it had to, with its alerts; a run as of an earlier day than the
    kept mark (a full one asked for) leaves that later mark as it is."""
    if run.kept is None or run.as_of >= run.kept.as_of:
        await keep_mark(session, detector=run.detector, region_prefix=run.region_prefix,
                        mark=Mark(as_of=run.as_of, read_from=run.read_from, others=dict(others or {})))
