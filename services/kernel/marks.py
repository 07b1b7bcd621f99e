"""How far a detector's last successful run over a scope got (issue #20: "incremental where it can be"), for a
detector whose finding about a fact does not change as days pass, so that a run needs to look only at what changed
since the last one. Every query of the detector_marks table is here.

A mark says: the run was as of `as_of`; it read every fact of this schema recorded by a transaction that started
before `read_to` (`reading_from`); and, per other service it asked what changed, that service's own time up to which
it was told (`others`). A later run of the same scope as of the same day or later reads the facts recorded from
`read_to - OVERLAP` on; any other run is a full one. The mark is written in the transaction of the run's alerts
(`keep_mark`): a run that fails, or whose alerts are not committed, leaves the mark where it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.models import DetectorMark
from services.kernel.settings import get_settings


@dataclass(frozen=True)
class Mark:
    as_of: date
    read_to: datetime
    others: dict[str, str] = field(default_factory=dict)  # service → its own time (ISO), up to which it was asked


# A recorded fact is stamped with its transaction's start (created_at, recorded_at: now()), and transactions commit
# out of order: a payment stamped 02:00:00 may commit at 02:00:30, after a run that began reading at 02:00:10 has
# taken its snapshot. So a run reads from the start of the oldest transaction open when it starts to read (any
# transaction its snapshot cannot see started then or later): what `reading_from` answers. PostgreSQL shows a role
# the start of its own sessions' transactions only (the writers of a service's tables are that service's role), so
# a transaction of another role writing them would be missed by that: OVERLAP covers it. Such a transaction is a
# request's (statements cut at db_statement_timeout_seconds, lock waits at db_lock_timeout_seconds) or a long one
# (imports, scans: db_long_statement_timeout_seconds a statement); the overlap is the long statement timeout and a
# lock wait, 15 minutes by default: a few minutes of payments read again by each daily run, nothing missed by a
# request's transaction however its statements add up.
def overlap() -> timedelta:
    settings = get_settings()
    return timedelta(seconds=settings.db_long_statement_timeout_seconds + settings.db_lock_timeout_seconds)


# The start of the oldest transaction open in this database that this role may see (its own), or of this one.
_READING_FROM = text(
    """
    SELECT least(now(), (SELECT min(a.xact_start) FROM pg_stat_activity a
                         WHERE a.datname = current_database() AND a.xact_start IS NOT NULL))
    """
)


async def reading_from(session: AsyncSession) -> datetime:
    """The time from which every fact that a statement run after this one cannot see is stamped (see OVERLAP): what
    a run that reads now records as its `read_to`, and what an internal route saying what changed answers."""
    value: datetime = (await session.execute(_READING_FROM)).scalar_one()
    return value


def read_since(mark_time: datetime) -> datetime:
    """From when a run reads again the facts recorded after a mark's time (its own, or another service's)."""
    return mark_time - overlap()


async def last_mark(session: AsyncSession, *, detector: str, region_prefix: str) -> Mark | None:
    row = await session.get(DetectorMark, (detector, region_prefix))
    if row is None:
        return None
    return Mark(as_of=row.as_of, read_to=row.read_to, others={str(k): str(v) for k, v in row.others.items()})


def follows(mark: Mark | None, as_of: date) -> bool:
    """Whether a run as of `as_of` can read only what changed since `mark`: there is one, as of that day or before
    (a run as of an earlier day is a full one, as is the first)."""
    return mark is not None and as_of >= mark.as_of


async def keep_mark(session: AsyncSession, *, detector: str, region_prefix: str, mark: Mark) -> None:
    """Record how far this run got, in the session's transaction (with its alerts). Concurrent runs of one scope
    (a scan asked for beside the daily run) leave the mark of the one that commits last; either is a true mark of a
    run that read everything up to it."""
    values: dict[str, Any] = {
        "detector": detector, "region_prefix": region_prefix, "as_of": mark.as_of, "read_to": mark.read_to,
        "others": dict(mark.others),
    }
    statement = insert(DetectorMark).values(**values)
    await session.execute(statement.on_conflict_do_update(
        index_elements=["detector", "region_prefix"],
        set_={"as_of": statement.excluded.as_of, "read_to": statement.excluded.read_to,
              "others": statement.excluded.others, "written_at": text("now()")},
    ))
