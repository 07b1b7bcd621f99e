"""Text PostgreSQL cannot hold (a NUL, a lone surrogate) and dates outside the years the system does arithmetic on
are malformed input: a 422 naming the field, never a 500, nothing recorded but the audit entry, and never a failure
of other requests' audit entries (found by fuzzing through the gateway)."""

import asyncio
import uuid

import asyncpg

from tests.conftest import Api, MakePrincipal, wait_for_audit


def _is_validation_problem(response: object, field: str) -> None:
    assert response.status_code == 422, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"].startswith("application/problem+json")  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body["code"] == "VALIDATION_ERROR" and body["field"] == field, body


async def test_a_nul_in_body_text_is_refused_and_records_nothing(admin: Api, db: asyncpg.Pool) -> None:
    code = "TC" + uuid.uuid4().hex[:8].upper()
    for name in ("资金\x00", "a\x1b[31m", "\ud800"):
        refused = await admin.put(
            f"/funds/sources/{code}",
            content=f'{{"name": {_json_string(name)}, "level": "central", "integrable": true}}'.encode(),
            headers={"content-type": "application/json"},
        )
        _is_validation_problem(refused, "name")
    assert (await admin.get(f"/funds/sources/{code}")).status_code == 404
    # the gateway's own bodies, and a nested list of text
    before = await db.fetchval("SELECT count(*) FROM gateway.principals")
    refused = await admin.post("/admin/principals", json={"name": "a\x00b", "role": "finance", "region_code": "430000"})
    _is_validation_problem(refused, "name")
    assert await db.fetchval("SELECT count(*) FROM gateway.principals") == before
    # text with line breaks, tabs and any printable character is fine
    allowed = await admin.put(
        f"/funds/sources/{code}", json={"name": "资金\t第一行\n第二行 🀄", "level": "central", "integrable": True}
    )
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["name"] == "资金\t第一行\n第二行 🀄"


def _json_string(value: str) -> str:
    """A JSON string literal with every non-ASCII character escaped (a lone surrogate cannot be encoded as UTF-8)."""
    return '"' + "".join(c if " " <= c < "\x7f" and c not in '"\\' else f"\\u{ord(c):04x}" for c in value) + '"'


async def test_a_nul_in_a_path_or_query_is_refused_recorded_and_harms_no_other_request(
    admin: Api, make_principal: MakePrincipal
) -> None:
    lender = await make_principal("lender", "430523")
    tag = uuid.uuid4().hex
    probes = [
        (lender, f"/loans/{tag}%00", "loan_id"),
        (admin, "/audit?actor=%00", "actor"),
        (lender, "/loans?household_id=a%00b", "household_id"),
    ]
    # The door writes the entries of concurrent requests in one batch: a probe's entry must not sink the others'.
    innocent = [admin.get("/funds/sources", headers={"x-request-id": f"{tag}-ok-{i}"}) for i in range(20)]
    answers = await asyncio.gather(
        *(api.get(path, headers={"x-request-id": f"{tag}-probe-{i}"}) for i, (api, path, _) in enumerate(probes)),
        *innocent,
    )
    for (_, _, field), response in zip(probes, answers, strict=False):
        _is_validation_problem(response, field)
    assert [r.status_code for r in answers[len(probes) :]] == [200] * len(innocent)
    await wait_for_audit(admin)
    entries = (await admin.get("/audit", params={"request_id": f"{tag}-probe-0"})).json()["items"]
    assert [(e["path"], e["status"], e["code"]) for e in entries] == [(f"/loans/{tag}%00", 422, "VALIDATION_ERROR")]


async def test_dates_outside_the_supported_years_are_refused(admin: Api, make_principal: MakePrincipal) -> None:
    inspector = await make_principal("inspector", "000000")
    lender = await make_principal("lender", "430523")
    for as_of in ("0001-01-01", "9999-12-31"):
        _is_validation_problem(await inspector.post("/alerts/scan", json={"as_of": as_of}), "as_of")
        _is_validation_problem(
            await lender.get("/loans/reports/overdue", params={"as_of": as_of, "county": "430523"}), "as_of"
        )
        _is_validation_problem(
            await inspector.get("/funds/reports/progress", params={"region": "430523", "as_of": as_of}), "as_of"
        )
    ok = await lender.get("/loans/reports/overdue", params={"as_of": "2019-06-01", "county": "430523"})
    assert ok.status_code == 200, ok.text
    ok = await inspector.get("/funds/reports/progress", params={"region": "430523", "as_of": "2019-06-01"})
    assert ok.status_code == 200, ok.text
