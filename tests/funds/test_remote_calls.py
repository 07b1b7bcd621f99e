"""No N+1 remote calls (issue #20): the paths that need something of every project they touch ask the projects
service one page of ids at a time (POST /internal/projects/lookup), so the number of calls does not grow with the
number of projects. Counted by the kernel's ServiceClient, against the suite's real projects service, on the funds
code the routes and the detector call (the input report and INPUT_OBLIGATION_FAILED: `judge`; the plan filing:
`file_plan`), with the funds schema's real tables."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import cast

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from services.funds import clients, input_obligations, plans
from services.funds.clients import Projects
from services.funds.plan_schemas import PlanCreate
from services.kernel import clock
from services.kernel.db import create_engine, session_factory
from services.kernel.errors import ServiceUnavailable
from services.kernel.http import ServiceClient
from services.kernel.identity import Principal
from tests.conftest import ServiceClients
from tests.funds.site import Site
from tests.funds.test_input_obligations import declare
from tests.projects.factory import project_in
from tests.stack import Stack, TestDatabase

YEAR = clock.today().year
LOOKUP = "POST /internal/projects/lookup"


@pytest.fixture
async def funds_session(database: TestDatabase, stack: Stack) -> AsyncIterator[AsyncSession]:
    engine = create_engine("funds", url=database.url, pool_size=1)
    try:
        async with session_factory(engine)() as session:
            yield session
            await session.rollback()
    finally:
        await engine.dispose()


@pytest.fixture
def projects_client(service_clients: ServiceClients) -> ServiceClient:
    """The projects service as the funds service reaches it."""
    return service_clients("projects", "funds")


async def _more_projects(site: Site, made: list[tuple[str, str]], up_to: int) -> None:
    """Approved projects of the county, one in two industry, each arranged 1,000 fen, until there are `up_to`."""
    while len(made) < up_to:
        category = "industry" if len(made) % 2 == 0 else "education"
        project_id = await project_in(site.pm, site.county, [site.households[0]["household_id"]], "approved",
                                      category=category)
        arranged = await site.world.fin_pilot.post("/funds/arrangements", json=site.arrangement(project_id, 1_000))
        assert arranged.status_code == 201, arranged.text
        made.append((project_id, category))


async def test_the_input_report_and_its_detector_ask_one_page_of_projects_whatever_their_number(
    site: Site, database: TestDatabase, funds_session: AsyncSession, projects_client: ServiceClient
) -> None:
    code = await declare(site.world.fin_province, site.county, "industry_share", share_bp=5_000, from_year=YEAR)
    # the city's own binds the county too: the industry share is asked once for both
    await declare(site.world.fin_province, site.world.city, "industry_share", share_bp=1_000, from_year=YEAR)
    principal = Principal(id="inspector", role="inspector", region_code="000000")
    engine = create_engine("funds", url=database.url, pool_size=1)

    @asynccontextmanager
    async def brief() -> AsyncIterator[AsyncSession]:
        async with session_factory(engine)() as reading:
            yield reading
            await reading.rollback()

    made: list[tuple[str, str]] = []
    calls: dict[int, list[int]] = {}
    try:
        for n in (1, 2, 6):
            await _more_projects(site, made, n)
            industry = sum(1_000 for _, category in made if category == "industry")
            calls[n] = []
            for region in (site.county, site.world.city):  # a county's report and its city's
                projects_client.calls.clear()
                report = await input_obligations.input_report(
                    funds_session, principal=principal, projects=Projects(projects_client), brief=brief,
                    region_code=region, fiscal_year=YEAR)
                await funds_session.rollback()
                shares = [i for i in report.items if i.key == site.world.source]
                if region == site.county:
                    [share] = [i for i in shares if i.code == code]
                    assert (share.status, share.actual_fen) == ("pass" if 2 * industry >= 1_000 * n else "fail",
                                                                industry), n
                else:  # the city's obligation, over its counties (other tests' counties may lie in it)
                    assert shares and all((i.actual_fen or 0) >= industry for i in shares), n
                calls[n].append(sum(projects_client.calls.values()))
            # the detector: every region an industry obligation binds, at once
            projects_client.calls.clear()
            by_region = await input_obligations.industry_by_region(
                funds_session, projects=Projects(projects_client), regions=[site.county, site.world.city, site.county],
                fiscal_year=YEAR)
            await funds_session.rollback()
            assert by_region[site.county][site.world.source] == (1_000 * n, industry)
            assert by_region[site.world.city][site.world.source][1] >= industry  # the city's other counties too
            calls[n].append(sum(projects_client.calls.values()))
            assert set(projects_client.calls) == {LOOKUP}
    finally:
        await engine.dispose()
    assert calls == {1: [1, 1, 1], 2: [1, 1, 1], 6: [1, 1, 1]}


async def test_a_plan_asks_one_page_of_projects_whatever_their_number(
    site: Site, funds_session: AsyncSession, projects_client: ServiceClient
) -> None:
    made: list[tuple[str, str]] = []
    principal = Principal(id="fin", role="finance", region_code=site.county)
    for n in (1, 5):
        await _more_projects(site, made, n)
        body = PlanCreate.model_validate({
            "county_code": site.county, "fiscal_year": YEAR,
            "sources": [{"fund_source": site.world.source, "amount_fen": 5_000_000}],
            "projects": [{"project_id": p, "amount_fen": 1_000} for p, _ in made]})
        projects_client.calls.clear()
        filed = await plans.file_plan(funds_session, principal=principal, projects=Projects(projects_client),
                                      body=body)
        assert {p.project_id for p in filed.versions[0].projects} == {p for p, _ in made}
        assert dict(projects_client.calls) == {LOOKUP: 1}, (n, projects_client.calls)
        await funds_session.rollback()  # filed again with one more project: nothing of this one kept


class _Lookup:
    """The projects service's lookup as funds asks it: counts the pages, answers every id absent, or fails."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.pages: list[int] = []

    async def request(self, method: str, path: str, *, json: dict[str, list[str]]) -> httpx.Response:
        assert (method, path) == ("POST", "/internal/projects/lookup")
        self.pages.append(len(json["project_ids"]))
        return httpx.Response(self.status, json={"items": [], "missing": json["project_ids"]})


async def test_ids_are_asked_a_page_of_a_thousand_at_a_time_once_each() -> None:
    service = _Lookup()
    ids = [f"prj_{i}" for i in range(2_500)]
    assert await Projects(cast(ServiceClient, service)).projects_in("430000", [*ids, *ids[:10]]) == {}
    assert service.pages == [clients.LOOKUP_PAGE, clients.LOOKUP_PAGE, 500]
    assert await Projects(cast(ServiceClient, service)).projects_in("430000", []) == {}
    assert service.pages == [clients.LOOKUP_PAGE, clients.LOOKUP_PAGE, 500]  # nothing asked for no id


@pytest.mark.parametrize("status", [422, 500])
async def test_a_lookup_not_answered_is_503(status: int) -> None:
    with pytest.raises(ServiceUnavailable) as caught:
        await Projects(cast(ServiceClient, _Lookup(status))).projects_in("430000", ["prj_1"])
    assert caught.value.status == 503
