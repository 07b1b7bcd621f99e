"""R1 on the funds side (F10, issue #17 point 11): a payment to a village cadre's household is INELIGIBLE_PAYEE,
unless the county approved an exception for it by the payment date; the funds detector asks the registry, which
holds the exception. Through the gateway."""

from __future__ import annotations

from services.funds import codes
from services.kernel import clock
from tests.conftest import Api
from tests.funds.site import Site
from tests.funds.test_detectors import alerts, scan
from tests.registry.api import import_csv
from tests.registry.factory import csv_body, row


async def test_a_payment_to_an_excepted_cadre_household_is_not_flagged(site: Site, admin: Api) -> None:
    w = site.world
    excepted = row(site.county, village_cadre="1", card_account="6217000000000000778")
    flagged = row(site.county, village_cadre="1", card_account="6217000000000000779")
    assert (await import_csv(admin, csv_body(excepted, flagged))).status_code == 200
    today = clock.today().isoformat()
    recorded = await site.pm.post(f"/registry/households/{excepted.household_id}/cadre-exceptions", json={
        "approved_by": "县脱贫攻坚领导小组", "approved_on": today, "doc_no": "某县扶组〔2018〕9号"})
    assert recorded.status_code == 201, recorded.text
    project_id = await site.project("in_progress")
    arranged = await w.fin_pilot.post("/funds/arrangements", json=site.arrangement(project_id, 100_000))
    assert arranged.status_code == 201, arranged.text
    paid = {}
    for household in (excepted, flagged):
        payee = {"household_id": household.household_id, "head_name": household.head_name,
                 "card_account": household.card_account}
        response = await w.fin_pilot.post("/funds/disbursements",
                                          json=site.payment(project_id, 1_000, household=payee, paid_on=today))
        assert response.status_code == 201, response.text
        paid[household.household_id] = response.json()["id"]
    await scan(admin, today)
    assert await alerts(admin, codes.INELIGIBLE_PAYEE, paid[excepted.household_id]) == []
    [alert] = await alerts(admin, codes.INELIGIBLE_PAYEE, paid[flagged.household_id])
    assert alert["facts"]["reason"] == "village_cadre"
