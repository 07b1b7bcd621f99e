"""S3: region codes (and identity numbers) are ASCII digits only. `\\d` and str.isdigit() take full-width
(`４３０５２３`) and other Unicode digits; such a code starts with no prefix of ASCII digits, so the record it names
would be outside every regional principal's jurisdiction. Refused as 422 VALIDATION_ERROR naming the field."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from services.kernel.types import (
    AnyRegionCode,
    CountyCode,
    RegionCode,
    VillageCode,
    check_id_number,
    id_number_check_char,
)
from tests.conftest import Api, MakePrincipal
from tests.projects.factory import project_body

FULL_WIDTH = "４３０５２３"  # U+FF14…: full-width digits
ARABIC_INDIC = "٤٣٠٥٢٣"  # U+0664…
DEVANAGARI = "४३०५२३"
UNICODE_DIGITS = (FULL_WIDTH, ARABIC_INDIC, DEVANAGARI)


@pytest.mark.parametrize("digits", UNICODE_DIGITS)
@pytest.mark.parametrize(
    ("kind", "ascii_value", "suffix"),
    [(RegionCode, "430523", ""), (CountyCode, "430523", ""), (VillageCode, "430523", "101001"),
     (AnyRegionCode, "430523", ""), (AnyRegionCode, "430523", "101001")],
)
def test_region_types_take_ascii_digits_only(kind: Any, ascii_value: str, suffix: str, digits: str) -> None:
    adapter: TypeAdapter[str] = TypeAdapter(kind)
    assert adapter.validate_python(ascii_value + suffix) == ascii_value + suffix
    with pytest.raises(ValidationError):
        adapter.validate_python(digits + suffix)


def test_identity_numbers_take_ascii_digits_only() -> None:
    valid = "43052319800101001" + id_number_check_char("43052319800101001")
    assert check_id_number(valid) == valid
    wide = "".join(chr(ord(c) - ord("0") + 0xFF10) if c.isdigit() else c for c in valid)
    with pytest.raises(ValueError, match="18"):
        check_id_number(wide)


def _refused(response: Any, field: str) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert (body["code"], body["field"]) == ("VALIDATION_ERROR", field), body


async def test_no_principal_with_a_full_width_region(admin: Api) -> None:
    for digits in UNICODE_DIGITS:
        body = {"name": "全角", "role": "inspector", "region_code": digits}
        _refused(await admin.post("/admin/principals", json=body), "region_code")
    ok = await admin.post("/admin/principals", json={"name": "半角", "role": "inspector", "region_code": "430523"})
    assert ok.status_code == 201


async def test_no_county_with_a_full_width_code(admin: Api) -> None:
    county = {"name": "全角县", "poor": True, "integration_pilot": True}
    _refused(await admin.put(f"/funds/counties/{FULL_WIDTH}", json=county), "code")
    assert (await admin.put("/funds/counties/439931", json=county)).status_code == 200


async def test_no_appropriation_in_a_full_width_region(make_principal: MakePrincipal) -> None:
    finance = await make_principal("finance", "000000")
    body = {"fund_source": "S3TEST", "fiscal_year": 2018, "region_code": FULL_WIDTH[:2] + "００００",
            "amount_fen": 100, "doc_no": "湘财农〔2018〕1号", "appropriated_on": "2018-01-10"}
    _refused(await finance.post("/funds/appropriations", json=body), "region_code")


async def test_no_project_in_a_full_width_county(make_principal: MakePrincipal) -> None:
    pm = await make_principal("project_manager", "000000")
    _refused(await pm.post("/projects", json=project_body(FULL_WIDTH, ["hh-1"])), "county_code")
    village = FULL_WIDTH + "１０１００１"
    _refused(await pm.post("/projects", json=project_body("430523", ["hh-1"], village_code=village)), "village_code")


@pytest.mark.parametrize(
    ("role", "path", "param"),
    [
        ("lender", "/loans", "county"),
        ("inspector", "/loans/reports/overdue", "county"),
        ("inspector", "/projects", "county"),
        ("inspector", "/registry/households", "county"),
        ("inspector", "/funds/balances", "region"),
        ("inspector", "/alerts", "region"),
        ("inspector", "/audit", "region"),
    ],
)
async def test_no_filter_by_a_full_width_region(make_principal: MakePrincipal, role: str, path: str, param: str
                                                ) -> None:
    caller = await make_principal(role, "000000")
    _refused(await caller.get(path, params={param: FULL_WIDTH}), param)
    assert (await caller.get(path, params={param: "430523"})).status_code == 200
