"""DUPLICATE_PAYMENT incremental (issue #20, docs/rules.md F8 incremental): a run following its scope's mark pairs
again only the groups (payee, project, amount) touched since, and the alerts it raises are those a full run raises,
step by step (tests/funds/incremental.py): a new repeat, a back-dated earlier payment, reversals recorded since or
dated after the mark's day, a payment dated after it coming into view; nothing changed, it reads no payment; a run
as of an earlier day, too many groups touched or a transaction counter behind the mark run in full."""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.funds import codes, detectors
from services.kernel import clock
from tests.funds.incremental import Runs
from tests.funds.site import Site

TODAY = clock.today()
WINDOW, IN_GROUPS, TOUCHED = "lag(id) OVER w", "unnest(", "AS xid8"  # what the statements of each kind say


def day(days_ago: int) -> date:
    return TODAY - timedelta(days=days_ago)


def runs_of(engine: AsyncEngine, site: Site) -> Runs:
    return Runs(engine, detectors.duplicate_payment, code=codes.DUPLICATE_PAYMENT, county=site.county,
                state=SimpleNamespace())


def ran(runs: Runs, what: str) -> bool:
    return any(what in statement for statement in runs.statements)


async def _funded_project(site: Site) -> str:
    project_id = await site.project("in_progress")
    arranged = await site.world.fin_pilot.post("/funds/arrangements", json=site.arrangement(project_id, 500_000))
    assert arranged.status_code == 201, arranged.text
    return project_id


async def _pay(site: Site, project_id: str, amount: int, paid_on: date) -> str:
    response = await site.world.fin_pilot.post("/funds/disbursements", json=site.payment(
        project_id, amount, paid_on=paid_on.isoformat()))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _reverse(site: Site, payment: str, reversed_on: date) -> None:
    response = await site.world.fin_pilot.post("/funds/reversals", json={
        "target_id": payment, "reason": "重复录入", "reversed_on": reversed_on.isoformat()})
    assert response.status_code == 201, response.text


async def test_incremental_runs_raise_what_full_runs_raise_step_by_step(site: Site, engine: AsyncEngine) -> None:
    project_id = await _funded_project(site)
    runs = runs_of(engine, site)
    # a group per amount, all paid to one household for one project
    a1 = await _pay(site, project_id, 1_000, day(60))
    b1 = await _pay(site, project_id, 1_100, day(40))
    c0, c1, c2 = [await _pay(site, project_id, 1_200, day(n)) for n in (70, 60, 45)]
    d0, d1 = [await _pay(site, project_id, 1_300, day(n)) for n in (70, 50)]
    e0, e1, e2 = [await _pay(site, project_id, 1_400, day(n)) for n in (70, 62, 55)]
    await _reverse(site, e1, day(10))  # recorded now, dated after the first run's day
    f0, f1 = await _pay(site, project_id, 1_500, day(30)), await _pay(site, project_id, 1_500, day(15))

    # no mark: a full run; f1 is paid after its day, e1's reversal dated after it
    assert set(await runs.both(day(20))) == {c1, c2, d1, e1, e2}
    assert ran(runs, WINDOW) and not ran(runs, TOUCHED)
    assert (await runs.mark() or ())[0] == day(20)

    # nothing changed: only the touched groups asked for (index ranges past the mark), none found, no payment paired
    # (the window not run); once the mark is past the payments: the first run's may not be, when another process's
    # transaction older than them was running as it began (D1: it reads them again, more work, never less)
    assert await runs.both(day(20)) == {}
    assert await runs.both(day(20)) == {}
    assert ran(runs, TOUCHED) and not ran(runs, WINDOW)

    # a new repeat recorded; a back-dated payment before b1 that makes b1 (recorded long ago) a repeat
    a2 = await _pay(site, project_id, 1_000, day(50))
    b0 = await _pay(site, project_id, 1_100, day(55))
    found = await runs.both(day(20))
    assert set(found) == {a2, b1}
    assert found[b1][0]["first_disbursement_id"] == b0 and found[b1][0]["days_apart"] == 15
    assert ran(runs, IN_GROUPS)  # the two groups' payments only

    # reversals recorded since the mark: c1's (c2 now repeats c0, 25 days apart), d0's (d1 repeats nothing: its
    # alert stays, no run closes one)
    await _reverse(site, c1, day(25))
    await _reverse(site, d0, day(25))
    found = await runs.both(day(20))
    assert set(found) == {c2}
    assert found[c2][0]["first_disbursement_id"] == c0 and found[c2][0]["days_apart"] == 25

    # the next days: f1 (paid after the mark's day) comes into view, e1's reversal (dated after it) takes effect
    found = await runs.both(TODAY)
    assert set(found) == {f1, e2}
    assert found[f1][0]["first_disbursement_id"] == f0
    assert found[e2][0]["first_disbursement_id"] == e0 and found[e2][0]["days_apart"] == 15
    assert (await runs.mark() or ())[0] == TODAY
    assert await runs.both(TODAY) == {} and not ran(runs, WINDOW)

    # a run as of an earlier day than the mark is a full one, and leaves the mark as it is
    kept = await runs.mark()
    earlier = await runs.run(day(20))
    assert ran(runs, WINDOW) and not ran(runs, TOUCHED)
    assert earlier == await runs.run(day(20), full=True)
    assert set(earlier) == {a2, b1, c2, e1, e2}
    assert await runs.mark() == kept
    assert a1 not in runs.incremental and d1 in runs.incremental


async def test_too_many_touched_groups_or_a_counter_behind_the_mark_make_a_full_run(
    site: Site, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    project_id = await _funded_project(site)
    runs = runs_of(engine, site)
    x1 = [await _pay(site, project_id, 2_000, day(n)) for n in (40, 30)][1]
    assert set(await runs.both(TODAY)) == {x1}

    y1 = [await _pay(site, project_id, 2_100, day(n)) for n in (40, 35)][1]
    monkeypatch.setattr(detectors, "DUPLICATE_TOUCHED_MAX", 1)
    assert set(await runs.both(TODAY)) == {y1}  # one group touched: within the cap
    assert ran(runs, IN_GROUPS)
    z1 = [await _pay(site, project_id, 2_200, day(n)) for n in (40, 35)][1]
    await _pay(site, project_id, 2_300, day(33))
    assert set(await runs.both(TODAY)) == {x1, y1, z1}  # two: every payment paired again
    assert ran(runs, TOUCHED) and ran(runs, WINDOW) and not ran(runs, IN_GROUPS)
    monkeypatch.undo()

    # the mark as another cluster's counter would leave it, ahead of this one: a payment recorded here has an id
    # below it, and only a full run finds it
    w1 = [await _pay(site, project_id, 2_400, day(n)) for n in (40, 39)][1]
    async with runs.sessions() as session:
        await session.execute(text("UPDATE detector_marks SET read_from = :ahead WHERE detector = :d AND "
                                   "region_prefix = :p"), {"ahead": 2**62, "d": codes.DUPLICATE_PAYMENT,
                                                           "p": site.county})
        await session.commit()
    assert w1 in await runs.run(TODAY)
    assert not ran(runs, TOUCHED)
    kept = await runs.mark()
    assert kept is not None and kept[1] < 2**62  # and the mark is this cluster's again
