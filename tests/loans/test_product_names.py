"""L2e as L18 reads it, through the gateway: the product is sold under its national name (扶贫小额信贷) anywhere, or
under an official name of the household's province: the seeds' own (甘肃 精准扶贫专项贷款, 四川 扶贫小额贷款) and
those a province's admin registers; any other name is LOAN_PRODUCT_RENAMED."""

from __future__ import annotations

import random
import uuid

from services.loans import codes
from tests.conftest import Api, MakePrincipal
from tests.loans.conftest import Seed
from tests.loans.helpers import loan_body

GANSU, SICHUAN = "精准扶贫专项贷款", "扶贫小额贷款"


def county_of(province: str) -> str:
    return f"{province}{random.randint(10, 99)}{random.randint(1, 99):02d}"


async def test_the_seeds_names_are_official_in_their_province_only(make_principal: MakePrincipal, seed: Seed) -> None:
    gansu = county_of("62")
    lender = await make_principal("lender", gansu)
    h = await seed(in_county=gansu)
    made = await lender.post("/loans", json=loan_body(h.household_id, h.head_id_number, amount_fen=100,
                                                      product_name=GANSU))
    assert made.status_code == 201 and made.json()["product_name"] == GANSU, made.text
    national = await lender.post("/loans", json=loan_body(h.household_id, h.head_id_number, amount_fen=100))
    assert national.status_code == 201, national.text
    sichuan_name = await lender.post("/loans", json=loan_body(h.household_id, h.head_id_number, amount_fen=100,
                                                              product_name=SICHUAN))
    assert sichuan_name.status_code == 422, sichuan_name.text
    problem = sichuan_name.json()
    assert (problem["code"], problem["rule"], problem["field"]) == (codes.LOAN_PRODUCT_RENAMED, "L2e", "product_name")
    assert problem["official_names"] == [codes.PRODUCT_NAME, GANSU]


async def test_a_province_registers_its_names(admin: Api, make_principal: MakePrincipal, lender: Api, seed: Seed,
                                              county: str) -> None:
    province = county[:2] + "0000"
    name = f"扶贫贷{uuid.uuid4().hex[:6]}"
    h = await seed()
    body = loan_body(h.household_id, h.head_id_number, amount_fen=100, product_name=name)
    assert (await lender.post("/loans", json=body)).json()["code"] == codes.LOAN_PRODUCT_RENAMED
    # a county's admin does not name its province's product; the province's admin does, once
    county_admin = await make_principal("admin", county)
    outside = await county_admin.post("/loans/product-names", json={"province_code": province, "name": name})
    assert outside.status_code == 403 and outside.json()["code"] == "NOT_IN_JURISDICTION", outside.text
    province_admin = await make_principal("admin", province)
    made = await province_admin.post("/loans/product-names", json={"province_code": province, "name": name})
    assert made.status_code == 201 and made.json() == {"province_code": province, "name": name}, made.text
    again = await province_admin.post("/loans/product-names", json={"province_code": province, "name": name})
    assert again.status_code == 409 and again.json()["code"] == codes.PRODUCT_NAME_EXISTS
    national = await admin.post("/loans/product-names", json={"province_code": province, "name": codes.PRODUCT_NAME})
    assert national.status_code == 409
    listed = await lender.get("/loans/product-names", params={"province": province})
    assert listed.status_code == 200 and name in listed.json()["names"], listed.text
    assert (await lender.post("/loans", json=body)).status_code == 201
    # the name is its province's: a Gansu household's loan may not bear it
    gansu = county_of("62")
    g = await seed(in_county=gansu)
    gansu_lender = await make_principal("lender", gansu)
    elsewhere = await gansu_lender.post("/loans", json=loan_body(g.household_id, g.head_id_number, amount_fen=100,
                                                                 product_name=name))
    assert elsewhere.json()["code"] == codes.LOAN_PRODUCT_RENAMED


async def test_product_names_input(admin: Api, lender: Api) -> None:
    for body, field in (({"province_code": "440100", "name": "贷"}, "province_code"),
                        ({"province_code": "440000", "name": ""}, "name")):
        refused = await admin.post("/loans/product-names", json=body)
        assert refused.status_code == 422 and refused.json()["field"] == field, refused.text
    not_admin = await lender.post("/loans/product-names", json={"province_code": "440000", "name": "贷"})
    assert not_admin.status_code == 403
    listed = await lender.get("/loans/product-names", params={"province": "510000"})
    assert listed.json()["names"][:2] == [codes.PRODUCT_NAME, SICHUAN]
