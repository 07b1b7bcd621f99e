"""GET /registry/households[/{id}] through the gateway: masking per role, jurisdiction, keyset pages."""

from __future__ import annotations

from services.kernel.errors import NOT_IN_JURISDICTION
from services.kernel.types import mask_account_no, mask_id_number
from tests.conftest import Api, MakePrincipal
from tests.registry.api import import_csv
from tests.registry.factory import csv_body, new_county, row


async def test_identity_number_is_full_for_admin_only(admin: Api, make_principal: MakePrincipal) -> None:
    county = new_county()
    household = row(county)
    assert (await import_csv(admin, csv_body(household))).json()["imported"] == 1
    path = f"/registry/households/{household.household_id}"
    full = await admin.get(path)
    assert full.status_code == 200, full.text
    assert full.json()["head_id_number"] == household.head_id_number
    assert full.json()["status_history"][0]["status"] == "poor"
    masked = mask_id_number(household.head_id_number)
    assert masked == household.head_id_number[:6] + "********" + household.head_id_number[-4:]
    for role in ("project_manager", "finance", "lender", "inspector"):
        api = await make_principal(role, county)
        one = await api.get(path)
        assert one.status_code == 200, (role, one.text)
        assert one.json()["head_id_number"] == masked
        listed = await api.get("/registry/households", params={"county": county})
        assert [h["head_id_number"] for h in listed.json()["items"]] == [masked]


async def test_card_account_is_full_for_admin_only(admin: Api, make_principal: MakePrincipal) -> None:
    """S7 (A5): the 一卡通 account is masked as the identity number is, by the same function, for the same roles."""
    county = new_county()
    household = row(county, card_account="6217001234567890123")
    assert (await import_csv(admin, csv_body(household))).json()["imported"] == 1
    path = f"/registry/households/{household.household_id}"
    assert (await admin.get(path)).json()["card_account"] == "6217001234567890123"
    listed = await admin.get("/registry/households", params={"county": county})
    assert [h["card_account"] for h in listed.json()["items"]] == ["6217001234567890123"]
    for role in ("project_manager", "finance", "lender", "inspector"):
        api = await make_principal(role, county)
        one = await api.get(path)
        assert one.json()["card_account"] == "621700*********0123", (role, one.text)
        listed = await api.get("/registry/households", params={"county": county})
        assert [h["card_account"] for h in listed.json()["items"]] == ["621700*********0123"], role


def test_account_masks_keep_the_issuer_of_a_card_number_and_the_last_four() -> None:
    assert mask_account_no("6217001234567890") == "621700******7890"
    assert mask_account_no("623000123456") == "********3456"  # shorter than a card number: the last four only
    assert mask_account_no("1234") == "****" and mask_account_no("") == ""


async def test_outside_jurisdiction_is_refused_and_filtered(admin: Api, make_principal: MakePrincipal) -> None:
    county, other = new_county(), new_county()
    household = row(county)
    assert (await import_csv(admin, csv_body(household, row(other)))).json()["imported"] == 2
    outsider = await make_principal("inspector", other)
    response = await outsider.get(f"/registry/households/{household.household_id}")
    assert response.status_code == 403 and response.json()["code"] == NOT_IN_JURISDICTION
    assert (await outsider.get("/registry/households", params={"county": county})).json()["items"] == []
    own = (await outsider.get("/registry/households", params={"county": other})).json()["items"]
    assert [h["county_code"] for h in own] == [other]
    province = await make_principal("inspector", county[:2] + "0000")
    assert (await province.get(f"/registry/households/{household.household_id}")).status_code == 200


async def test_list_pages_by_keyset_and_filters_status(admin: Api) -> None:
    county = new_county()
    rows = [row(county, status="poor") for _ in range(5)] + [row(county, status="exited") for _ in range(2)]
    assert (await import_csv(admin, csv_body(*rows))).json()["imported"] == 7
    seen: list[str] = []
    cursor = None
    while True:
        params = {"county": county, "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await admin.get("/registry/households", params=params)).json()
        seen += [h["household_id"] for h in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(r.household_id for r in rows)
    exited = (await admin.get("/registry/households", params={"county": county, "status": "exited"})).json()
    assert sorted(h["household_id"] for h in exited["items"]) == sorted(r.household_id for r in rows[5:])


async def test_bad_query_is_422_and_unknown_is_404(admin: Api) -> None:
    bad = ({"county": "430500"}, {"county": "43"}, {"status": "rich"}, {"limit": 0}, {"cursor": "bm90LWpzb24"},
           {"cursor": "W10="})
    for params in bad:
        response = await admin.get("/registry/households", params=params)
        assert response.status_code == 422, (params, response.text)
    assert (await admin.get("/registry/households/hh-does-not-exist")).status_code == 404
    assert (await admin.get("/registry/households/bad%20id")).status_code == 422


async def test_status_history_shows_the_registration_then_each_change(admin: Api) -> None:
    """Nothing changed yet: the history is the state the household was registered in, from its registration day
    (the record holds it). After a change: that same entry, then the change."""
    county = new_county()
    household = row(county, village_cadre="1")
    assert (await import_csv(admin, csv_body(household))).json()["imported"] == 1
    path = f"/registry/households/{household.household_id}"
    registered = (await admin.get(path)).json()
    entry = {"status": "poor", "village_cadre": True, "effective_on": registered["registered_on"]}
    assert registered["status_history"] == [entry]
    household.members = "7"  # not a status change: the history stays as it was
    assert (await import_csv(admin, csv_body(household))).json()["updated"] == 1
    assert (await admin.get(path)).json()["status_history"] == [entry]
    household.status, household.village_cadre = "exited", "0"
    assert (await import_csv(admin, csv_body(household))).json()["updated"] == 1
    changed = (await admin.get(path)).json()
    assert changed["status_history"] == [
        entry, {"status": "exited", "village_cadre": False, "effective_on": changed["updated_on"]}
    ]
