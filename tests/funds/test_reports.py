"""Reports (F2 growth parity, county progress) and the A4 trace, through the gateway."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import asyncpg
import httpx
from sqlalchemy import text

from services.funds import reports
from services.kernel.db import create_engine, session_factory
from tests.conftest import Api, MakePrincipal
from tests.funds.site import Site
from tests.funds.world import World, new_source_code, put_source
from tests.stack import TestDatabase


async def _two_years(w: World, source: str, poor: tuple[int, int], rich: tuple[int, int]) -> None:
    for year, index in ((2017, 0), (2018, 1)):
        assert (await w.appropriate(poor[index] + rich[index], source=source, year=year,
                                    on=f"{year}-01-05")).status_code == 201
        for county, amounts in ((w.poor, poor), (w.rich, rich)):
            response = await w.allocate(amounts[index], to=county, source=source, year=year, on=f"{year}-02-01")
            assert response.status_code == 201, response.text


async def test_growth_report_f2(world: World, admin: Api) -> None:
    w = world
    below, above = new_source_code(), new_source_code()
    await put_source(admin, below, integrable=True)
    await put_source(admin, above, integrable=True)
    await _two_years(w, below, poor=(100_000, 105_000), rich=(100_000, 195_000))
    await _two_years(w, above, poor=(100_000, 200_000), rich=(100_000, 100_000))
    response = await w.fin_province.get("/funds/reports/growth", params={"province": w.province, "fiscal_year": 2018})
    assert response.status_code == 200, response.text
    items = {i["fund_source"]: i for i in response.json()["items"]}
    assert items[below] == {"fund_source": below, "fiscal_year": 2018, "poor_prev_fen": 100_000,
                            "poor_curr_fen": 105_000, "all_prev_fen": 200_000, "all_curr_fen": 300_000,
                            "poor_growth": 0.05, "average_growth": 0.5, "ok": False}
    assert items[above]["poor_growth"] == 1.0 and items[above]["average_growth"] == 0.5 and items[above]["ok"]
    assert w.source not in items  # nothing allocated to counties in this fund
    assert (await w.fin_city.get("/funds/reports/growth",
                                 params={"province": w.province, "fiscal_year": 2018})).status_code == 403


async def test_progress_and_trace_from_household_to_appropriation(site: Site, make_principal: MakePrincipal) -> None:
    w = site.world
    project_id = await site.project("in_progress")
    arranged = await w.fin_pilot.post("/funds/arrangements", json=site.arrangement(project_id, 400_000))
    paid = await w.fin_pilot.post("/funds/disbursements", json=site.payment(project_id, 150_000))
    assert arranged.status_code == paid.status_code == 201
    progress = await w.fin_pilot.get("/funds/reports/progress", params={"region": site.county})
    assert progress.status_code == 200, progress.text
    county = {i["county_code"]: i for i in progress.json()["items"]}[site.county]
    assert county["received_fen"] == 5_000_000 and county["arranged_fen"] == 400_000
    assert county["disbursed_fen"] == 150_000 and county["unarranged_fen"] == 4_600_000
    assert county["unpaid_fen"] == 250_000 and county["spending_rate"] == 0.03

    household = site.households[0]["household_id"]
    trace = await w.inspector.get("/funds/trace", params={"household_id": household})
    assert trace.status_code == 200, trace.text
    body = trace.json()
    assert [m["kind"] for m in body["movements"]] == ["disbursement"]
    assert body["movements"][0]["doc_no"] == paid.json()["voucher_no"]
    kinds = {h["kind"] for h in body["upstream"]}
    assert kinds == {"arrangement", "allocation", "appropriation"}
    appropriation = next(h for h in body["upstream"] if h["kind"] == "appropriation")
    assert appropriation["from"]["account"] == "budget" and appropriation["occurred_on"] == "2018-01-10"
    assert appropriation["doc_no"].startswith("湘财农指")

    by_project = (await w.inspector.get("/funds/trace", params={"project_id": project_id})).json()
    assert [h["kind"] for h in by_project["downstream"]] == ["disbursement"]
    assert [h["kind"] for h in by_project["movements"]] == ["arrangement"]
    allocation_id = next(h["record_id"] for h in body["upstream"] if h["kind"] == "allocation")
    by_allocation = (await w.inspector.get("/funds/trace", params={"allocation_id": allocation_id})).json()
    assert {h["kind"] for h in by_allocation["downstream"]} >= {"arrangement", "disbursement"}
    assert {h["kind"] for h in by_allocation["upstream"]} == {"appropriation"}
    elsewhere = await make_principal("inspector", "110000")
    assert (await elsewhere.get("/funds/trace", params={"project_id": project_id})).status_code == 403
    assert (await w.inspector.get("/funds/trace", params={"household_id": "hh-none"})).status_code == 404
    both = await w.inspector.get("/funds/trace", params={"household_id": household, "project_id": project_id})
    assert both.status_code == 422


# The definitions the progress report and F3/F9 are computed against (the queries they replaced, issue #20): sums
# and dates over every transfer (each read off its 'out' leg: its source, its other account the destination). The
# service answers from records, balances and per-account probes of the legs instead.
_TRANSFERS = """(SELECT transfer_id AS id, account_id AS source_account_id,
                        counter_account_id AS destination_account_id, amount_fen, kind, occurred_on, reverses_id
                 FROM funds.transfer_legs WHERE leg = 'out')"""
_PROGRESS_BY_DEFINITION = f"""
    WITH acc AS (
        SELECT id, region_code FROM funds.accounts WHERE region_code = $1 AND kind IN ('pool', 'fund', 'project')
    ), live AS (
        SELECT t.* FROM {_TRANSFERS} t WHERE t.kind IN ('allocation', 'arrangement', 'disbursement')
          AND NOT EXISTS (SELECT 1 FROM {_TRANSFERS} r WHERE r.reverses_id = t.id)
    )
    SELECT COALESCE(SUM(l.amount_fen) FILTER (WHERE l.kind = 'allocation' AND l.destination_account_id = acc.id), 0)
               AS received_fen,
           COALESCE(SUM(l.amount_fen) FILTER (WHERE l.kind = 'arrangement' AND l.destination_account_id = acc.id), 0)
               AS arranged_fen,
           COALESCE(SUM(l.amount_fen) FILTER (WHERE l.kind = 'disbursement' AND l.source_account_id = acc.id), 0)
               AS disbursed_fen
    FROM acc LEFT JOIN live l ON l.destination_account_id = acc.id OR l.source_account_id = acc.id
"""
_HOLDINGS_BY_DEFINITION = f"""
    WITH acc AS (
        SELECT id FROM funds.accounts WHERE kind = ANY(CAST(:kinds AS varchar[])) AND region_code LIKE :prefix
    ), moves AS (
        SELECT t.destination_account_id AS account_id, t.amount_fen AS delta, t.occurred_on, true AS inflow, t.id
        FROM {_TRANSFERS} t JOIN acc ON acc.id = t.destination_account_id WHERE t.occurred_on <= :as_of
        UNION ALL
        SELECT t.source_account_id, -t.amount_fen, t.occurred_on, false, t.id
        FROM {_TRANSFERS} t JOIN acc ON acc.id = t.source_account_id WHERE t.occurred_on <= :as_of
    ), flows AS (
        SELECT account_id, SUM(delta) AS balance, MAX(occurred_on) FILTER (WHERE NOT inflow) AS last_out
        FROM moves GROUP BY account_id
    )
    SELECT f.account_id AS id, f.balance, f.last_out,
           (SELECT MIN(m.occurred_on) FROM moves m WHERE m.account_id = f.account_id AND m.inflow
              AND (f.last_out IS NULL OR m.occurred_on > f.last_out)) AS first_in_after,
           (SELECT COALESCE(SUM(m.delta), 0) FROM moves m WHERE m.account_id = f.account_id AND m.inflow
              AND m.occurred_on > :recent_after) AS recent_in,
           (SELECT MAX(m.occurred_on) FROM moves m WHERE m.account_id = f.account_id AND m.inflow
              AND m.occurred_on <= :recent_after) AS last_old_in,
           (SELECT MIN(m.occurred_on) FROM moves m WHERE m.account_id = f.account_id AND m.inflow
              AND (SELECT COALESCE(SUM(n.delta), 0) FROM moves n WHERE n.account_id = m.account_id AND n.inflow
                   AND (n.occurred_on, n.id) > (m.occurred_on, m.id)) < f.balance) AS oldest_held
    FROM flows f WHERE f.balance > 0 ORDER BY f.account_id
"""


async def _spent_with_corrections(site: Site) -> tuple[list[httpx.Response], list[httpx.Response]]:
    """Two projects of the site's county: arranged three times, paid four times, one payment and one arrangement
    reversed, on dates through 2018."""
    w = site.world
    first, second = await site.project("in_progress"), await site.project("in_progress")
    arranged = [await w.fin_pilot.post("/funds/arrangements", json=site.arrangement(p, amount, arranged_on=on))
                for p, amount, on in ((first, 300_000, "2018-03-01"), (second, 200_000, "2018-03-05"),
                                      (second, 50_000, "2018-06-01"))]
    paid = [await w.fin_pilot.post("/funds/disbursements", json=site.payment(p, amount, paid_on=on))
            for p, amount, on in ((first, 70_000, "2018-04-01"), (first, 30_000, "2018-04-02"),
                                  (first, 20_000, "2018-08-01"), (second, 60_000, "2018-05-01"))]
    assert all(r.status_code == 201 for r in arranged + paid), [r.text for r in arranged + paid]
    for target in (paid[1], arranged[2]):
        undone = await w.fin_pilot.post("/funds/reversals", json={"target_id": target.json()["id"], "reason": "错录"})
        assert undone.status_code == 201, undone.text
    return arranged, paid


async def test_progress_equals_its_definition_over_the_transfers(site: Site, db: asyncpg.Pool) -> None:
    """The report's disbursed figure is arranged − unpaid (a project account only receives arrangements and only
    pays disbursements); with payments and arrangements reversed, it is still the sum of the unreversed payments."""
    await _spent_with_corrections(site)
    response = await site.world.fin_pilot.get("/funds/reports/progress", params={"region": site.county})
    assert response.status_code == 200, response.text
    [county] = response.json()["items"]
    expected = dict(await db.fetchrow(_PROGRESS_BY_DEFINITION, site.county) or {})
    assert {k: county[k] for k in expected} == expected
    assert county["arranged_fen"] == 500_000 and county["disbursed_fen"] == 150_000  # 30,000 and 50,000 reversed
    assert county["unpaid_fen"] == 350_000 and county["received_fen"] == 5_000_000


async def test_holdings_equal_their_definition_on_every_date(site: Site, database: TestDatabase) -> None:
    """F3/F9's figures (balance on a date, last outflow, first inflow since, recent inflows, last older inflow)
    read per account by index equal the sums and dates over all the moves, on dates before, between and after
    them (a balance on a past date is today's less what moved since)."""
    await _spent_with_corrections(site)
    engine = create_engine("funds", url=database.url, pool_size=1)
    try:
        async with session_factory(engine)() as session:
            for day in ("2018-01-01", "2018-03-02", "2018-04-01", "2018-04-03", "2018-05-01", "2018-06-15",
                        "2018-08-01", "2019-01-01"):
                as_of = date.fromisoformat(day)
                for window in (0, 30):
                    kinds = ["pool", "project"] if window == 0 else ["pool", "project", "fund", "treasury"]
                    found = await reports.holdings(session, kinds=kinds, as_of=as_of, window_days=window,
                                                   prefix=site.county)
                    recent_after = as_of - timedelta(days=window + 1)
                    raw = await session.execute(text(_HOLDINGS_BY_DEFINITION), {
                        "kinds": kinds, "prefix": site.county + "%", "as_of": as_of, "recent_after": recent_after})
                    expected = [(r.id, int(r.balance), r.first_in_after or r.last_out, int(r.recent_in),
                                 r.last_old_in, r.oldest_held) for r in raw]
                    got = [(h.account_id, h.balance_fen, h.since, h.recent_in_fen, h.last_old_in, h.oldest_held)
                           for h in found]
                    assert got == expected, (day, window)
                    assert got or as_of < date(2018, 2, 1)
                for days in (0, 20, 60):  # F3 (first in, first out): what came in more than `days` ago is idle
                    idle = await reports.idle_holdings(session, kinds=reports.IDLE_KINDS, as_of=as_of, days=days,
                                                       prefix=site.county)
                    raw = await session.execute(text(_HOLDINGS_BY_DEFINITION), {
                        "kinds": reports.IDLE_KINDS, "prefix": site.county + "%", "as_of": as_of,
                        "recent_after": as_of - timedelta(days=days + 1)})
                    by_definition = [(r.id, int(r.balance) - int(r.recent_in), r.oldest_held) for r in raw
                                     if int(r.balance) > int(r.recent_in)]
                    assert [(h.account_id, reports.idle_fen(h), h.oldest_held) for h in idle] == by_definition, (
                        day, days)
                    # the progress report reads only F3's two figures per account (its own lighter query): the
                    # same idle sum, on days before outflows that happened later too (balances moved back)
                    report = await reports.progress(session, prefix=site.county, as_of=as_of, idle_days=days)
                    assert {i["county_code"]: i["idle_fen"] for i in report} == {
                        site.county: sum(fen for _, fen, _ in by_definition)}, (day, days)
    finally:
        await engine.dispose()


async def test_trace_pages_add_up_to_the_whole_walk(site: Site) -> None:
    """A page holds at most `limit` hops; following next_cursor gives every hop of the walk once, in the order one
    large page gives them, and the last page's next_cursor is null. A cursor the API did not write is 422."""
    w = site.world
    arranged, paid = await _spent_with_corrections(site)
    project_id = arranged[0].json()["project_id"]
    for params in ({"project_id": project_id}, {"household_id": site.households[0]["household_id"]}):
        whole = await w.inspector.get("/funds/trace", params=params)
        assert whole.status_code == 200, whole.text
        assert whole.json()["next_cursor"] is None
        parts: dict[str, list[Any]] = {"upstream": [], "movements": [], "downstream": []}
        cursor, pages = None, 0
        while True:
            page = await w.inspector.get("/funds/trace", params={**params, "limit": 2,
                                                                 **({"cursor": cursor} if cursor else {})})
            assert page.status_code == 200, page.text
            body = page.json()
            assert sum(len(body[k]) for k in parts) <= 2
            for k in parts:
                parts[k] += body[k]
            pages += 1
            cursor = body["next_cursor"]
            if cursor is None:
                break
        assert {k: [h["transfer_id"] for h in v] for k, v in parts.items()} == {
            k: [h["transfer_id"] for h in whole.json()[k]] for k in parts}
        assert pages >= sum(len(v) for v in parts.values()) // 2 > 1
    bad = await w.inspector.get("/funds/trace", params={"project_id": project_id, "cursor": "WzEsMiwzXQ=="})
    assert bad.status_code == 422 and bad.json()["field"] == "cursor"
