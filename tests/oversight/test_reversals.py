"""Rule O10: the reversals (冲正) a rectification names are asked of the funds service before anything is written
(its internal API answers where each answers and how much it moved back): an unknown one is 422 naming
`reversal_ids.N`, one of another county refused the same way, and the case is left as it was; the money recovered
is the reversals' sum when the rectification gives none."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from dataclasses import dataclass

import httpx

from services.kernel.identity import Principal, sign
from tests.conftest import Api, MakePrincipal
from tests.funds.site import Site as FundsSite
from tests.funds.site import make_site
from tests.oversight.conftest import member, ok, organisation, refused
from tests.stack import Stack


@dataclass
class Scene:
    funds: FundsSite
    inspector: Api
    cashier: Api
    bureau: str


async def _reversal(funds: FundsSite, amount: int) -> str:
    """An arrangement of `amount` to a project of the county, reversed: the reversal's id."""
    fin = funds.world.fin_pilot
    project_id = await funds.project("in_progress")
    arranged = ok(await fin.post("/funds/arrangements", json=funds.arrangement(project_id, amount)), 201)
    return str(ok(await fin.post("/funds/reversals", json={"target_id": arranged["id"], "reason": "误安排"}),
                  201)["id"])


async def _scene(admin: Api, make_principal: MakePrincipal, http: httpx.AsyncClient) -> Scene:
    funds = await make_site(admin, make_principal)
    bureau = await organisation(admin, "finance_bureau", funds.county)
    return Scene(funds, await make_principal("inspector", funds.county),
                 await member(admin, http, "finance", funds.county, bureau), bureau)


async def _assigned_case(scene: Scene) -> str:
    case = ok(await scene.inspector.post("/oversight/cases", json={
        "region_code": scene.funds.county, "title": "虚报冒领", "complaint_ref": f"信访-{uuid.uuid4().hex[:8]}"}),
        201)
    ok(await scene.inspector.post(f"/oversight/cases/{case['id']}/assign", json={"organisation_id": scene.bureau}))
    return str(case["id"])


async def test_a_rectifications_reversals_are_checked_with_funds(
    admin: Api, make_principal: MakePrincipal, http: httpx.AsyncClient
) -> None:
    scene = await _scene(admin, make_principal, http)
    elsewhere = await make_site(admin, make_principal)
    ours, theirs = await _reversal(scene.funds, 40_000), await _reversal(elsewhere, 7_000)
    case_id = await _assigned_case(scene)
    path = f"/oversight/cases/{case_id}/rectifications"

    unknown = await scene.cashier.post(path, json={"note": "已冲正", "reversal_ids": [ours, "rev_nothing"]})
    refused(unknown, 422, "UNKNOWN_REVERSAL", rule="O10", field="reversal_ids.1")
    other_county = await scene.cashier.post(path, json={"note": "已冲正", "reversal_ids": [theirs]})
    refused(other_county, 422, "REVERSAL_OUTSIDE_CASE_REGION", rule="O10", field="reversal_ids.0")
    twice = await scene.cashier.post(path, json={"note": "已冲正", "reversal_ids": [ours, ours]})
    refused(twice, 422, "VALIDATION_ERROR", field="reversal_ids.1")
    unchanged = ok(await scene.inspector.get(f"/oversight/cases/{case_id}"))
    assert unchanged["state"] == "assigned" and len(unchanged["events"]) == 2  # nothing written

    answered = ok(await scene.cashier.post(path, json={"note": "已冲正", "reversal_ids": [ours]}))
    assert answered["state"] == "rectification_submitted"
    assert answered["events"][-1]["reversal_ids"] == [ours]
    assert answered["events"][-1]["money_recovered_fen"] == 40_000  # the reversal's sum, none given


async def test_money_recovered_given_is_kept_as_given(
    admin: Api, make_principal: MakePrincipal, http: httpx.AsyncClient
) -> None:
    scene = await _scene(admin, make_principal, http)
    ours = await _reversal(scene.funds, 12_000)
    case_id = await _assigned_case(scene)
    answered = ok(await scene.cashier.post(f"/oversight/cases/{case_id}/rectifications", json={
        "note": "冲正并收回现金", "reversal_ids": [ours], "money_recovered_fen": 15_000}))
    assert answered["events"][-1]["money_recovered_fen"] == 15_000


async def _internal(stack: Stack, path: str, principal: Principal) -> httpx.Response:
    headers = sign(stack.secret, method="GET", path=path, query="", request_id=uuid.uuid4().hex, principal=principal,
                   body_sha256=hashlib.sha256(b"").hexdigest(), audience="funds")
    async with httpx.AsyncClient(base_url=stack.service_urls["funds"]) as client:
        return await client.get(path, headers=headers)


async def test_funds_answers_a_reversal_to_services_only(
    admin: Api, make_principal: MakePrincipal, stack: Stack
) -> None:
    funds = await make_site(admin, make_principal)
    reversal_id = await _reversal(funds, 9_000)
    service = Principal(id="service:oversight", role="service", region_code="000000", name="oversight")
    found = ok(await _internal(stack, f"/internal/reversals/{reversal_id}", service))
    assert found["id"] == reversal_id and found["target_kind"] == "arrangement"
    assert found["region_code"] == funds.county and found["amount_fen"] == 9_000
    assert (await _internal(stack, "/internal/reversals/rev_nothing", service)).status_code == 404
    inspector = Principal(id="someone", role="inspector", region_code="000000")
    assert (await _internal(stack, f"/internal/reversals/{reversal_id}", inspector)).status_code == 404


async def test_a_reversal_is_named_again_by_its_own_case_and_by_one_of_two_at_once(
    admin: Api, make_principal: MakePrincipal, http: httpx.AsyncClient
) -> None:
    """O10, one reversal one case: the case whose rectification was returned names its reversal again (allowed);
    two other cases naming one reversal at once: one is taken, the other is 409 REVERSAL_IN_CASE and unchanged."""
    scene = await _scene(admin, make_principal, http)
    reversal = await _reversal(scene.funds, 40_000)
    case_id = await _assigned_case(scene)
    body = {"note": "已冲正", "reversal_ids": [reversal]}
    ok(await scene.cashier.post(f"/oversight/cases/{case_id}/rectifications", json=body))
    ok(await scene.inspector.post(f"/oversight/cases/{case_id}/return", json={"note": "材料不全"}))
    again = ok(await scene.cashier.post(f"/oversight/cases/{case_id}/rectifications", json=body))
    assert again["state"] == "rectification_submitted"

    other = await _reversal(scene.funds, 9_000)
    first, second = await _assigned_case(scene), await _assigned_case(scene)
    answers = await asyncio.gather(*(
        scene.cashier.post(f"/oversight/cases/{c}/rectifications", json={"note": "同时", "reversal_ids": [other]})
        for c in (first, second)))
    assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
    [lost] = [a.json() for a in answers if a.status_code == 409]
    assert lost["code"] == "REVERSAL_IN_CASE" and lost["field"] == "reversal_ids.0"
    [won] = [a.json()["id"] for a in answers if a.status_code == 200]
    loser = second if won == first else first
    assert lost["case_id"] == won  # the 409 names the case that took the reversal
    assert ok(await scene.inspector.get(f"/oversight/cases/{loser}"))["state"] == "assigned"
