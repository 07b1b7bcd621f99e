"""INELIGIBLE_PAYEE incremental (issue #20): a run following its scope's mark judges only the payments recorded
since, paid after the mark's as_of, or to a household whose standing changed since (asked of the registry), and the
alerts it raises are those a full run raises (tests/funds/incremental.py), against the suite's real registry."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.funds import clients, codes, detectors
from services.funds.repository.disbursements import insert_disbursement
from services.kernel import clock, marks
from services.kernel.db import session_factory
from services.kernel.errors import ServiceUnavailable
from services.kernel.http import ServiceClient
from tests.conftest import Api, ServiceClients
from tests.funds import incremental
from tests.funds.site import Site
from tests.registry.api import IMPORT
from tests.registry.factory import Row, csv_body, row

TODAY = clock.today()
CHANGED = "POST /internal/households/changed"
ELIGIBILITY = "POST /internal/households/eligibility"


def day(days_ago: int) -> date:
    return TODAY - timedelta(days=days_ago)


@pytest.fixture
def registry_client(service_clients: ServiceClients) -> ServiceClient:
    """The registry as the funds service reaches it."""
    return service_clients("registry", "funds")


class Runs(incremental.Runs):
    """INELIGIBLE_PAYEE over one county, asking the suite's registry through `client` (its calls counted afresh for
    each incremental run)."""

    def __init__(self, engine: AsyncEngine, client: ServiceClient, county: str) -> None:
        super().__init__(engine, detectors.ineligible_payee, code=codes.INELIGIBLE_PAYEE, county=county,
                         state=SimpleNamespace(clients={"registry": client}), between=client.calls.clear)
        self.client = client


async def _import(admin: Api, effective_on: date, *rows: Row) -> None:
    response = await admin.post(IMPORT, content=csv_body(*rows), params={"effective_on": effective_on.isoformat()},
                                headers={"content-type": "text/csv; charset=utf-8"})
    assert response.status_code == 200 and response.json()["rejected"] == [], response.text


async def _pay(site: Site, project_id: str, household: Row, paid_on: date) -> str:
    payee = {"household_id": household.household_id, "head_name": household.head_name,
             "card_account": household.card_account}
    response = await site.world.fin_pilot.post("/funds/disbursements", json=site.payment(
        project_id, 1_000, household=payee, paid_on=paid_on.isoformat()))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _funded_project(site: Site) -> str:
    project_id = await site.project("in_progress")
    arranged = await site.world.fin_pilot.post("/funds/arrangements", json=site.arrangement(project_id, 100_000))
    assert arranged.status_code == 201, arranged.text
    return project_id


async def test_incremental_runs_raise_what_full_runs_raise_and_ask_nothing_when_nothing_changed(
    site: Site, admin: Api, engine: AsyncEngine, registry_client: ServiceClient
) -> None:
    a, b, e = (row(site.county, card_account=f"621700000000000{n}") for n in ("1101", "1102", "1105"))
    c = row(site.county, village_cadre="1", card_account="6217000000001103")
    e.status = "not_poor"
    await _import(admin, day(100), a, b, c, e)
    project_id = await _funded_project(site)
    runs = Runs(engine, registry_client, site.county)
    paid_a1 = await _pay(site, project_id, a, day(60))
    paid_b1 = await _pay(site, project_id, b, day(40))
    paid_c1 = await _pay(site, project_id, c, day(30))
    paid_e = await _pay(site, project_id, e, day(5))  # recorded before the first run, paid after its as_of

    # the first run has no mark: a full one; it finds the cadre's payment, not E's (paid after it)
    assert set(await runs.both(day(20))) == {paid_c1}
    assert (await runs.mark() or ())[0] == day(20)

    # nothing changed since: the registry is asked what changed, and nothing else
    assert await runs.both(day(20)) == {}
    assert registry_client.calls == {CHANGED: 1}

    # a payment recorded late (paid before A's change), A and B found not poor back-dated, C's cadre excepted
    # back-dated (its payment's alert stays: no run closes one), a new payment to A
    paid_a2 = await _pay(site, project_id, a, day(70))
    a.status = b.status = "not_poor"
    await _import(admin, day(65), a)
    await _import(admin, day(45), b)
    excepted = await site.pm.post(f"/registry/households/{c.household_id}/cadre-exceptions", json={
        "approved_by": "县脱贫攻坚领导小组", "approved_on": day(35).isoformat(), "doc_no": "某县扶组〔2026〕7号"})
    assert excepted.status_code == 201, excepted.text
    paid_a3 = await _pay(site, project_id, a, day(10))
    found = await runs.both(TODAY)
    assert set(found) == {paid_a1, paid_b1, paid_e, paid_a3}
    assert {s: f["reason"] for s, (f, _) in found.items()} == dict.fromkeys(found, "status_not_poor")
    assert paid_a2 not in runs.incremental
    assert set(runs.incremental) == {paid_c1, paid_a1, paid_b1, paid_e, paid_a3}
    # only the changed households' payments and the new ones were asked about, not the county's every payment
    assert registry_client.calls[CHANGED] == 1 and registry_client.calls[ELIGIBILITY] == 1

    # and again nothing: only what changed is asked
    assert await runs.both(TODAY) == {}
    assert registry_client.calls == {CHANGED: 1}


async def test_a_payment_committed_after_a_run_that_began_before_it_is_judged_by_the_next(
    site: Site, admin: Api, engine: AsyncEngine, registry_client: ServiceClient
) -> None:
    e = row(site.county, status="not_poor", card_account="6217000000001201")
    await _import(admin, day(100), e)
    project_id = await _funded_project(site)
    runs = Runs(engine, registry_client, site.county)
    assert await runs.both(TODAY) == {}

    # recorded in a transaction that began (and wrote) before the run read, and committed after it; another payment
    # recorded (and committed) after it began, before the run: the run sees that one, not the first
    late = f"dsb-late-{uuid.uuid4().hex[:12]}"
    async with session_factory(engine)() as writing:
        await insert_disbursement(
            writing, id=late, project_id=project_id, county_code=site.county, amount_fen=1_000,
            voucher_no=f"凭证-{late}", payee_kind="household", payee_id=e.household_id, payee_name=e.head_name,
            payee_account_no=e.card_account, paid_on=day(3), created_by="test")
        committed = await _pay(site, project_id, e, day(2))
        assert set(await runs.both(TODAY)) == {committed}
        await writing.commit()
    found = await runs.both(TODAY)  # (and the other again: its transaction began after the late one's)
    assert late in found and found[late][0]["reason"] == "status_not_poor"
    assert set(runs.incremental) == {late, committed}


async def test_a_run_that_fails_leaves_the_mark_where_it_was(
    site: Site, admin: Api, engine: AsyncEngine, registry_client: ServiceClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    e = row(site.county, status="not_poor", card_account="6217000000001301")
    await _import(admin, day(100), e)
    project_id = await _funded_project(site)
    runs = Runs(engine, registry_client, site.county)
    await runs.run(day(1))
    kept = await runs.mark()
    assert kept is not None
    paid = await _pay(site, project_id, e, day(1))

    # the registry down before anything is asked; then failing when asked about the payments
    down = ServiceClient("registry", "http://127.0.0.1:9", caller="funds")
    try:
        runs.state = SimpleNamespace(clients={"registry": down})
        assert await runs.run(TODAY) == {}
    finally:
        await down.aclose()
    assert await runs.mark() == kept
    runs.state = SimpleNamespace(clients={"registry": registry_client})

    async def failing(self: clients.Registry, queries: Any) -> Any:
        raise ServiceUnavailable("the registry answered 503", service="registry")

    with monkeypatch.context() as patched:
        patched.setattr(clients.Registry, "household_eligibility", failing)
        assert await runs.run(TODAY) == {}
    assert await runs.mark() == kept

    # a run whose alerts are not committed (rolled back) leaves it too
    assert set(await runs.run(TODAY, commit=False)) == {paid}
    assert await runs.mark() == kept

    # so the next run still finds the payment
    assert set(await runs.both(TODAY)) == {paid}
    after = await runs.mark()
    assert after is not None and after != kept and after[0] == TODAY
    assert marks.follows(marks.Mark(as_of=after[0], read_from=after[1]), TODAY)


async def test_more_changed_households_than_the_cap_make_a_full_run(
    site: Site, admin: Api, engine: AsyncEngine, registry_client: ServiceClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    cadre, other = row(site.county, village_cadre="1", card_account="6217000000001401"), row(site.county)
    await _import(admin, day(100), cadre, other)
    project_id = await _funded_project(site)
    runs = Runs(engine, registry_client, site.county)
    paid = await _pay(site, project_id, cadre, day(5))
    assert set(await runs.both(TODAY)) == {paid}
    other.status = "not_poor"
    await _import(admin, day(50), other)  # one household changed, no payment of its own

    monkeypatch.setattr(detectors, "INELIGIBLE_CHANGED_MAX", 1)
    assert await runs.both(TODAY) == {}  # within the cap: only the changed household's payments (none)
    other.status = "returned"
    await _import(admin, day(40), other)
    monkeypatch.setattr(detectors, "INELIGIBLE_CHANGED_MAX", 0)
    assert set(await runs.both(TODAY)) == {paid}  # over it: every payment judged again, the cadre's found again


async def test_a_registry_that_cannot_say_what_changed_gets_full_runs_and_no_mark(
    site: Site, admin: Api, engine: AsyncEngine, registry_client: ServiceClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A registry not yet upgraded to POST /internal/households/changed (a rolling upgrade: 404, a failed call) still
    judges every payment (a full run needs only the eligibility), and no mark is kept from such a run."""
    e = row(site.county, status="not_poor", card_account="6217000000001501")
    await _import(admin, day(100), e)
    project_id = await _funded_project(site)
    paid = await _pay(site, project_id, e, day(3))
    runs = Runs(engine, registry_client, site.county)

    async def no_route(self: clients.Registry, since: int, *, most: int | None = None) -> Any:
        raise ServiceUnavailable("the registry answered 404", service="registry")

    with monkeypatch.context() as patched:
        patched.setattr(clients.Registry, "changed_households", no_route)
        assert set(await runs.run(TODAY)) == {paid}
        assert await runs.mark() is None
        assert set(await runs.run(TODAY)) == {paid}  # again in full: nothing was marked
    assert set(await runs.both(TODAY)) == {paid}  # the route back: a mark from then on
    assert await runs.mark() is not None


async def test_a_transaction_counter_behind_the_mark_makes_a_full_run(
    site: Site, admin: Api, engine: AsyncEngine, registry_client: ServiceClient
) -> None:
    """The funds database restored into another cluster whose transaction ids are behind the mark: a payment recorded
    there (back-dated, before the mark's day, to a household that did not change) has an id below the mark's, so an
    incremental run would never read it; the run sees the counter behind the mark and judges everything."""
    e = row(site.county, status="not_poor", card_account="6217000000001601")
    await _import(admin, day(100), e)
    project_id = await _funded_project(site)
    runs = Runs(engine, registry_client, site.county)
    assert await runs.both(TODAY) == {}
    paid = await _pay(site, project_id, e, day(10))
    async with runs.sessions() as session:  # the mark as another cluster's counter would leave it: ahead of this one
        await session.execute(text("UPDATE detector_marks SET read_from = :ahead WHERE detector = :d AND "
                                   "region_prefix = :p"), {"ahead": 2**62, "d": codes.INELIGIBLE_PAYEE,
                                                           "p": site.county})
        await session.commit()
    assert set(await runs.run(TODAY)) == {paid}
    kept = await runs.mark()
    assert kept is not None and kept[1] < 2**62  # and the mark is this cluster's again
