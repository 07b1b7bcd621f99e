"""垒大户 / 造盆景 (F19, F20; issue #17 point 12): money concentrated on a household or a village, flagged by the
scan through the gateway on both sides of the declared multiple and share; the village share's rule unit-tested."""

from __future__ import annotations

import pytest

from services.funds import codes
from services.funds.concentration import concentrated_villages
from services.kernel import clock
from tests.conftest import Api, scan_alerts
from tests.funds.site import Site
from tests.funds.test_detectors import alerts
from tests.projects.factory import import_households, project_in, village_of


async def test_f19_household_above_the_county_median_multiple(site: Site, admin: Api) -> None:
    rows = await import_households(admin, site.county, ["poor"] * 6)
    project_id = await site.project("in_progress")
    fin = site.world.fin_pilot
    assert (await fin.post("/funds/arrangements", json=site.arrangement(project_id, 200_000))).status_code == 201
    # six households paid 1,000 ×4, 5,000 and 5,001: the county's median is 1,000, the multiple 5 (default)
    for row, amount in zip(rows, (1_000, 1_000, 1_000, 1_000, 5_000, 5_001), strict=True):
        response = await fin.post("/funds/disbursements", json=site.payment(project_id, amount, household=row))
        assert response.status_code == 201, response.text
    today = clock.today()
    await scan_alerts(admin, today.isoformat())
    year = today.year
    [alert] = await alerts(admin, codes.HOUSEHOLD_CONCENTRATION, f"{rows[5]['household_id']}:{year}")
    assert alert["region_code"] == site.county
    assert {k: alert["facts"][k] for k in ("paid_fen", "county_median_fen", "households_paid", "multiple", "rule")} \
        == {"paid_fen": 5_001, "county_median_fen": 1_000, "households_paid": 6, "multiple": 5.0, "rule": codes.F19}
    for row in rows[:5]:  # 5,000 is not more than 5 × 1,000
        assert await alerts(admin, codes.HOUSEHOLD_CONCENTRATION, f"{row['household_id']}:{year}") == []


async def test_f19_too_few_households_for_a_median(site: Site, admin: Api) -> None:
    project_id = await site.project("in_progress")
    fin = site.world.fin_pilot
    assert (await fin.post("/funds/arrangements", json=site.arrangement(project_id, 200_000))).status_code == 201
    rows = await import_households(admin, site.county, ["poor"] * 3)
    for row, amount in zip(rows, (1_000, 1_000, 90_000), strict=True):
        assert (await fin.post("/funds/disbursements",
                               json=site.payment(project_id, amount, household=row))).status_code == 201
    await scan_alerts(admin, clock.today().isoformat())
    assert await alerts(admin, codes.HOUSEHOLD_CONCENTRATION, f"{rows[2]['household_id']}:{clock.today().year}") == []


async def test_f20_one_village_above_its_share_of_the_county(site: Site, admin: Api) -> None:
    fin = site.world.fin_pilot
    household = [site.households[0]["household_id"]]
    amounts = {1: 500_000, 2: 250_000, 3: 250_000}  # village 1: 50 % of the county's 1,000,000 (> 40 %)
    for n, amount in amounts.items():
        project_id = await project_in(site.pm, site.county, household, "in_progress", budget_fen=1_000_000,
                                      village_code=village_of(site.county, n))
        response = await fin.post("/funds/arrangements", json=site.arrangement(project_id, amount))
        assert response.status_code == 201, response.text
    await scan_alerts(admin, clock.today().isoformat())
    year = clock.today().year
    [alert] = await alerts(admin, codes.VILLAGE_CONCENTRATION, f"{village_of(site.county, 1)}:{year}")
    facts = alert["facts"]
    assert (facts["arranged_fen"], facts["county_arranged_fen"], facts["villages"]) == (500_000, 1_000_000, 3)
    assert (facts["share_percent"], facts["threshold_percent"], facts["rule"]) == (50.0, 40, codes.F20)
    for n in (2, 3):
        assert await alerts(admin, codes.VILLAGE_CONCENTRATION, f"{village_of(site.county, n)}:{year}") == []


def _rows(*fens: int, county: str = "430523") -> list[tuple[str, int, str, int]]:
    return [(county, 2018, f"prj_{i}", fen) for i, fen in enumerate(fens)]


@pytest.mark.parametrize(("fens", "flagged"), [
    ((41, 30, 29), ["v0"]),  # above 40 %
    ((40, 30, 30), []),  # exactly 40 % is not more than the share
    ((90, 10), []),  # two villages: too few to judge
])
def test_f20_village_share_both_sides(fens: tuple[int, ...], flagged: list[str]) -> None:
    villages: dict[str, str | None] = {f"prj_{i}": f"v{i}" for i in range(len(fens))}
    found = concentrated_villages(_rows(*fens), villages, share_percent=40)
    assert [v.village_code for v in found] == flagged


def test_f20_projects_of_one_village_add_up_and_unknown_ones_count_in_the_county() -> None:
    villages: dict[str, str | None] = {"prj_0": "v0", "prj_1": "v0", "prj_2": "v1", "prj_3": "v2", "prj_4": None}
    [found] = concentrated_villages(_rows(25, 20, 10, 10, 35), villages, share_percent=40)
    assert (found.village_code, found.arranged_fen, found.county_arranged_fen) == ("v0", 45, 100)
    assert found.project_ids == ("prj_0", "prj_1")
