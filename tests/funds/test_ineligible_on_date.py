"""F10 judged on the payment date: the registry's status then, not now; a payment before the household was
registered is flagged (it was not a registered poor household when paid). Both sides through the gateway."""

from __future__ import annotations

from services.funds import codes
from tests.conftest import Api
from tests.funds.site import Site
from tests.funds.test_detectors import alerts, scan
from tests.registry.api import IMPORT
from tests.registry.factory import csv_body, row


async def _import_effective(admin: Api, body: bytes, effective_on: str) -> None:
    """Import the roster as it stood from `effective_on` (the import's ?effective_on=)."""
    response = await admin.post(IMPORT, content=body, params={"effective_on": effective_on},
                                headers={"content-type": "text/csv; charset=utf-8"})
    assert response.status_code == 200 and response.json()["rejected"] == [], response.text
    assert response.json()["effective_on"] == effective_on


async def test_ineligible_payee_as_of_the_payment_date(site: Site, admin: Api) -> None:
    w = site.world
    # Registered poor on 2018-01-01, found not poor from 2018-06-01 on (and still not poor today).
    household = row(site.county, card_account="6217000000000000888")
    await _import_effective(admin, csv_body(household), "2018-01-01")
    household.status = "not_poor"
    await _import_effective(admin, csv_body(household), "2018-06-01")
    project_id = await site.project("in_progress")
    assert (await w.fin_pilot.post("/funds/arrangements", json=site.arrangement(project_id, 100_000))
            ).status_code == 201
    payee = {"household_id": household.household_id, "head_name": household.head_name,
             "card_account": household.card_account}
    paid = {}
    for on in ("2017-12-31", "2018-01-01", "2018-05-31", "2018-06-01"):
        response = await w.fin_pilot.post("/funds/disbursements",
                                          json=site.payment(project_id, 1_000, household=payee, paid_on=on))
        assert response.status_code == 201, response.text  # recorded, not refused
        paid[on] = response.json()["id"]

    await scan(admin, "2018-12-31")
    [before] = await alerts(admin, codes.INELIGIBLE_PAYEE, paid["2017-12-31"])  # not yet registered
    assert before["facts"]["reason"] == "not_registered" and before["facts"]["status"] is None
    assert before["facts"]["paid_on"] == "2017-12-31" and before["region_code"] == site.county
    for on in ("2018-01-01", "2018-05-31"):  # poor on the day, though not poor now
        assert await alerts(admin, codes.INELIGIBLE_PAYEE, paid[on]) == [], on
    [after] = await alerts(admin, codes.INELIGIBLE_PAYEE, paid["2018-06-01"])
    assert after["facts"]["reason"] == "status_not_poor" and after["facts"]["status"] == "not_poor"
