"""The published OpenAPI document is exact (issue #14): who may call each operation, every problem it can answer,
its body limit, and types and patterns the system holds to, both ways (what the document allows is taken, what it
refuses is refused)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from gateway.contract import problem_statuses, route_of
from services.funds.schemas import AllocationCreate
from tests.conftest import Api, MakePrincipal

PROBLEM = {"$ref": "#/components/schemas/Problem"}


@pytest.fixture(scope="module")
async def document(anonymous: Api) -> dict[str, Any]:
    response = await anonymous.get("/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(m, p, op) for p, ops in document["paths"].items() for m, op in ops.items()]


def test_every_operation_says_who_and_every_problem_it_answers(document: dict[str, Any]) -> None:
    assert len(operations(document)) > 60
    for method, path, operation in operations(document):
        route = route_of(method, path)
        assert route is not None, (method, path)
        assert operation["security"] == ([] if route.public else [{"bearer": []}]), (method, path)
        assert operation["x-max-body-bytes"] == route.max_body
        for status in problem_statuses(route):
            response = operation["responses"][str(status)]
            assert response["content"] == {"application/problem+json": {"schema": PROBLEM}}, (method, path, status)
    assert "HTTPValidationError" not in str(document)
    assert document["components"]["schemas"]["Problem"]["required"] == ["type", "title", "status", "detail", "code"]


def test_the_routes_that_need_no_key_say_so_and_the_others_say_which(document: dict[str, Any]) -> None:
    paths = document["paths"]
    for public in ("/healthz", "/readyz", "/public/announcements"):
        assert paths[public]["get"]["security"] == []
        assert "401" not in paths[public]["get"]["responses"]
    assert paths["/loans"]["post"]["security"] == [{"bearer": []}]
    assert {"401", "403", "409", "413", "422", "503"} <= set(paths["/loans"]["post"]["responses"])
    assert "404" in paths["/loans/{loan_id}"]["get"]["responses"]
    assert "429" in paths["/public/announcements/{project_id}/objections"]["post"]["responses"]
    assert "415" in paths["/registry/households/import"]["post"]["responses"]
    assert paths["/registry/households/import"]["post"]["requestBody"]["x-max-body-bytes"] == 1024**3


def test_codes_ids_dates_and_text_have_their_patterns(document: dict[str, Any]) -> None:
    def parameter(path: str, name: str) -> dict[str, Any]:
        found = next(p for p in document["paths"][path]["get"]["parameters"] if p["name"] == name)
        schema: dict[str, Any] = found["schema"]
        return next((s for s in schema.get("anyOf", [schema]) if s.get("type") == "string"), schema)

    assert parameter("/loans/{loan_id}", "loan_id")["pattern"] == "^[A-Za-z0-9_.:-]{1,64}$"
    assert parameter("/registry/households", "county")["pattern"] == "^[0-9]{4}([0-9][1-9]|[1-9]0)$"
    assert parameter("/funds/reports/growth", "province")["pattern"] == "^([0-9][1-9]|[1-9]0)0000$"
    assert parameter("/loans/reports/overdue", "as_of")["pattern"].startswith("^(19[0-9]{2}|2[0-9]{3})-")
    assert parameter("/audit", "until")["format"] == "date-time" and "pattern" in parameter("/audit", "until")
    assert "\\x00" in parameter("/audit", "actor")["pattern"]


async def test_a_number_is_not_taken_for_a_date_a_time_or_a_truth(
    admin: Api, make_principal: MakePrincipal
) -> None:
    lender = await make_principal("lender", "430523")
    for caller, path, params, field in (
        (lender, "/loans/reports/overdue", {"as_of": "0"}, "as_of"),
        (admin, "/audit", {"until": "0.5"}, "until"),
        (admin, "/audit", {"since": "2026-01-01T00:00:00"}, "since"),  # no offset: which day is it?
        (admin, "/alerts", {"since": "1733300000"}, "since"),
    ):
        refused = await caller.get(path, params=params)
        assert refused.status_code == 422, (path, refused.text)
        assert refused.json()["field"] == field
    assert (await lender.get("/loans/reports/overdue", params={"as_of": "2020-01-31"})).status_code == 200
    assert (await admin.get("/audit", params={"until": "2026-01-01T00:00:00+08:00", "limit": 1})).status_code == 200
    scan = await admin.post("/alerts/scan", json={"as_of": 0})
    assert scan.status_code == 422 and scan.json()["field"] == "as_of"
    county = await admin.put("/funds/counties/430199", json={"name": "县", "poor": "true", "integration_pilot": 0})
    assert county.status_code == 422 and county.json()["field"] in ("poor", "integration_pilot")


def test_a_body_value_is_of_its_fields_json_type() -> None:
    base = {"fund_source": "A1", "fiscal_year": 2020, "from_region": "430000", "to_region": "430500",
            "amount_fen": 5, "doc_no": "x", "issued_on": "2020-01-01"}
    taken = AllocationCreate.model_validate({**base, "fiscal_year": 2020.0, "amount_fen": 5.0})
    assert (taken.fiscal_year, taken.amount_fen) == (2020, 5)  # a whole number, as JSON Schema reads 5.0
    for field, value in (("fiscal_year", "2020"), ("fiscal_year", 2020.5), ("amount_fen", True),
                         ("doc_no", 5), ("issued_on", 0), ("issued_on", "2020-01-01T00:00:00")):
        with pytest.raises(ValidationError) as caught:
            AllocationCreate.model_validate({**base, field: value})
        assert caught.value.errors()[0]["loc"] == (field,), (field, value)


async def test_a_method_a_path_does_not_take_is_405_with_allow(admin: Api) -> None:
    for method in ("OPTIONS", "GET"):
        refused = await admin.request(method, "/registry/households/import")
        assert refused.status_code == 405, refused.text
        assert refused.headers["allow"] == "POST"
    assert (await admin.request("PATCH", "/loans")).headers["allow"] == "GET, HEAD, POST"
    household = await admin.get("/registry/households/HH-nobody")
    assert household.status_code == 404  # a household's path is still a household's


async def test_an_id_in_a_path_that_is_not_one_is_422_naming_it(admin: Api, make_principal: MakePrincipal) -> None:
    lender = await make_principal("lender", "430523")
    refused = await lender.get("/loans/%E2%9C%93")
    assert refused.status_code == 422 and refused.json()["field"] == "loan_id"
    assert (await lender.get("/loans/loan_00000000000000000000000000")).status_code == 404


def test_no_two_services_name_a_schema_alike() -> None:
    """The gateway's document merges the services' schemas by name (gateway/ops.py merged_openapi): two services'
    schemas of one name and two shapes left one route documented with the other's body (funds' and loans'
    RecoveryCreate: schemathesis sent POST /funds/recoveries a compensation claim's recovery, and was refused)."""
    import importlib

    from services.kernel.topology import SERVICES

    seen: dict[str, tuple[str, dict[str, Any]]] = {}
    clashes = []
    for name, spec in SERVICES.items():
        module, attribute = spec.app.split(":")
        app = getattr(importlib.import_module(module), attribute)
        for schema_name, schema in app.openapi().get("components", {}).get("schemas", {}).items():
            first = seen.setdefault(schema_name, (name, schema))
            if first[1] != schema:
                clashes.append(f"{schema_name}: {first[0]} and {name}")
    assert clashes == []
