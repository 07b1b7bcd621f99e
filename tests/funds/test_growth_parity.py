"""F2 growth parity over every way money of the province reaches its counties: straight from the province, and
through a city (counted once, as received by the county). Central money sent straight to a county is the centre's
distribution, not the province's, and is left out. Report and detector, both sides, through the gateway."""

from __future__ import annotations

from services.funds import codes
from tests.conftest import Api
from tests.funds.test_detectors import alerts, scan
from tests.funds.world import World, new_source_code, put_source


async def _year(w: World, source: str, year: int, *, direct_poor: int, via_city: dict[str, int],
                central_direct: int) -> None:
    """One fiscal year: the province gives `direct_poor` to the poor county itself and passes the rest to the city,
    which splits it between counties; the centre also sends `central_direct` straight to the poor county."""
    on = f"{year}-02-01"
    total = direct_poor + sum(via_city.values())
    assert (await w.appropriate(total, source=source, year=year, on=f"{year}-01-05")).status_code == 201
    if direct_poor:
        assert (await w.allocate(direct_poor, to=w.poor, source=source, year=year, on=on)).status_code == 201
    passed = await w.allocate(sum(via_city.values()), to=w.city, source=source, year=year, on=on)
    assert passed.status_code == 201, passed.text
    for county, amount in via_city.items():
        response = await w.allocate(amount, w.fin_city, frm=w.city, to=county, source=source, year=year,
                                    on=f"{year}-02-10")
        assert response.status_code == 201, response.text
    assert (await w.appropriate(central_direct, region="000000", source=source, year=year,
                                on=f"{year}-01-05")).status_code == 201
    response = await w.allocate(central_direct, w.central, frm="000000", to=w.poor, source=source, year=year, on=on)
    assert response.status_code == 201, response.text


async def _growth(w: World, source: str) -> dict[str, object]:
    response = await w.inspector.get("/funds/reports/growth", params={"province": w.province, "fiscal_year": 2018})
    assert response.status_code == 200, response.text
    [item] = [i for i in response.json()["items"] if i["fund_source"] == source]
    return dict(item)


async def test_growth_counts_city_hop_once_and_not_central_direct(world: World, admin: Api) -> None:
    w = world
    met, missed = new_source_code(), new_source_code()
    for source in (met, missed):
        await put_source(admin, source, integrable=True)
        await _year(w, source, 2017, direct_poor=0, via_city={w.poor: 100_000, w.rich: 100_000},
                    central_direct=500_000)
    # Met: poor counties 100,000 → 50,000 direct + 150,000 via the city = 200,000 (+100%); all 200,000 → 300,000.
    await _year(w, met, 2018, direct_poor=50_000, via_city={w.poor: 150_000, w.rich: 100_000},
                central_direct=5_000_000)
    # Missed: poor counties 100,000 → 105,000 via the city (+5%); all 200,000 → 300,000 (+50%). The centre's
    # 5,000,000 straight to the poor county would have hidden the shortfall had it been counted.
    await _year(w, missed, 2018, direct_poor=0, via_city={w.poor: 105_000, w.rich: 195_000},
                central_direct=5_000_000)

    # Counted once: the province → city hop (300,000 in 2018) is not added to what the counties received.
    assert await _growth(w, met) == {
        "fund_source": met, "fiscal_year": 2018, "poor_prev_fen": 100_000, "poor_curr_fen": 200_000,
        "all_prev_fen": 200_000, "all_curr_fen": 300_000, "poor_growth": 1.0, "average_growth": 0.5, "ok": True}
    assert await _growth(w, missed) == {
        "fund_source": missed, "fiscal_year": 2018, "poor_prev_fen": 100_000, "poor_curr_fen": 105_000,
        "all_prev_fen": 200_000, "all_curr_fen": 300_000, "poor_growth": 0.05, "average_growth": 0.5, "ok": False}

    await scan(admin, "2018-12-31")
    assert await alerts(admin, codes.GROWTH_BELOW_AVERAGE, f"{w.province}:{met}:2018") == []
    [alert] = await alerts(admin, codes.GROWTH_BELOW_AVERAGE, f"{w.province}:{missed}:2018")
    assert alert["region_code"] == w.province
    facts = alert["facts"]
    assert (facts["poor_growth"], facts["average_growth"], facts["ok"]) == (0.05, 0.5, False)
    assert (facts["poor_prev_fen"], facts["poor_curr_fen"], facts["all_prev_fen"], facts["all_curr_fen"]) == (
        100_000, 105_000, 200_000, 300_000)


async def test_growth_city_hop_held_by_the_city_is_not_yet_given(world: World, admin: Api) -> None:
    """Money the province passed to a city that has not reached a county is not counted until the county gets it."""
    w = world
    source = new_source_code()
    await put_source(admin, source, integrable=True)
    await _year(w, source, 2017, direct_poor=100_000, via_city={w.rich: 100_000}, central_direct=1)
    await _year(w, source, 2018, direct_poor=100_000, via_city={w.rich: 100_000}, central_direct=1)
    assert (await w.appropriate(400_000, source=source, year=2018, on="2018-01-05")).status_code == 201
    extra = await w.allocate(400_000, to=w.city, source=source, year=2018, on="2018-03-01")
    assert extra.status_code == 201, extra.text
    before = await _growth(w, source)
    assert (before["poor_curr_fen"], before["all_curr_fen"], before["ok"]) == (100_000, 200_000, True)
    passed = await w.allocate(400_000, w.fin_city, frm=w.city, to=w.poor, source=source, year=2018,
                              on="2018-03-05")
    assert passed.status_code == 201, passed.text
    after = await _growth(w, source)
    assert (after["poor_curr_fen"], after["all_curr_fen"], after["poor_growth"], after["ok"]) == (
        500_000, 600_000, 4.0, True)
