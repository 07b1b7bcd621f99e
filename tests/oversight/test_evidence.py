"""Issue #16 point 3 (E1 with O6), through the gateway: the bureau uploads its evidence, cites it in its
rectification, and the inspector reads back the very bytes; a move citing a document never uploaded (or one of
another size or type) is refused naming the field and writes nothing; a caller who sees no case citing a document
cannot read it; an upload over the store's limit is 413, one whose bytes are not its type 415, and only inspectors
and members of an organisation that has a case upload at all."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

from gateway.policy import EVIDENCE_BODY
from services.kernel import clock
from tests.conftest import Api, MakePrincipal
from tests.oversight.conftest import COUNTY, OTHER_COUNTY, PDF, Site, document, ok, pdf, refused, upload

MIB = 1024 * 1024


async def _events(db: asyncpg.Pool, case_id: str) -> int:
    count: int = await db.fetchval("SELECT count(*) FROM oversight.case_events WHERE case_id = $1", case_id)
    return count


async def test_the_bureau_uploads_cites_and_the_inspector_reads_the_same_bytes(site: Site) -> None:
    case = await site.assigned()
    data = pdf("整改报告")
    answer = await upload(site.cashier, data, name="某县财政局整改报告.pdf")
    stored = ok(answer, 201)
    sha256 = hashlib.sha256(data).hexdigest()
    assert stored == {"sha256": sha256, "name": "某县财政局整改报告.pdf", "media_type": PDF, "size": len(data),
                      "created": True}
    # the same bytes again are kept once
    assert ok(await upload(site.cashier, data, name="副本.pdf"))["created"] is False
    # not cited yet: nobody reads it, the uploader neither
    refused(await site.inspector.get(f"/oversight/evidence/{sha256}"), 404, "NOT_FOUND")
    refused(await site.cashier.get(f"/oversight/evidence/{sha256}"), 404, "NOT_FOUND")

    ref = {k: stored[k] for k in ("sha256", "name", "media_type", "size")}
    submitted = ok(await site.cashier.post(f"/oversight/cases/{case['id']}/rectifications",
                                           json={"note": "已整改", "documents": [ref]}))
    assert submitted["events"][-1]["documents"] == [ref]

    for reader in (site.inspector, site.cashier, site.city_inspector):
        read = await reader.get(f"/oversight/evidence/{sha256}")
        assert read.status_code == 200, read.text
        assert read.content == data and hashlib.sha256(read.content).hexdigest() == sha256
        assert read.headers["content-type"] == PDF and read.headers["etag"] == f'"{sha256}"'
        assert read.headers["x-content-type-options"] == "nosniff"
        assert "filename*=UTF-8''" in read.headers["content-disposition"]

    # another county's inspector and bureau, and an organisation with no case, see no case citing it
    for stranger in (site.other_inspector, site.other_cashier, site.outsider):
        refused(await stranger.get(f"/oversight/evidence/{sha256}"), 404, "NOT_FOUND", field="sha256")
    refused(await site.inspector.get("/oversight/evidence/NOT-A-HASH"), 422, "VALIDATION_ERROR", field="sha256")


async def test_a_move_citing_a_document_not_kept_as_named_is_refused_and_writes_nothing(
    site: Site, db: asyncpg.Pool
) -> None:
    case = await site.assigned()
    path = f"/oversight/cases/{case['id']}/rectifications"
    doc = await document(site.cashier)
    before = await _events(db, case["id"])
    never = {**doc, "sha256": hashlib.sha256(b"never uploaded").hexdigest()}
    refused(await site.cashier.post(path, json={"note": "x", "documents": [doc, never]}), 422, "UNKNOWN_EVIDENCE",
            field="documents.1.sha256", rule="E1")
    refused(await site.cashier.post(path, json={"note": "x", "documents": [{**doc, "size": doc["size"] + 1}]}), 422,
            "VALIDATION_ERROR", field="documents.0.size", rule="E1")
    refused(await site.cashier.post(path, json={"note": "x", "documents": [{**doc, "media_type": "image/png"}]}),
            422, "VALIDATION_ERROR", field="documents.0.media_type", rule="E1")
    # a type the store never keeps is refused by the document's schema already (its pattern lists the accepted ones)
    refused(await site.cashier.post(path, json={"note": "x", "documents": [{**doc, "media_type": "video/mp4"}]}),
            422, "VALIDATION_ERROR", field="documents.0.media_type")
    assert await _events(db, case["id"]) == before
    assert ok(await site.inspector.get(f"/oversight/cases/{case['id']}"))["state"] == "assigned"
    # the same move citing what was uploaded goes through
    assert ok(await site.cashier.post(path, json={"note": "已整改", "documents": [doc]}))["state"] == (
        "rectification_submitted")


async def test_referral_and_accountability_cite_only_kept_documents(site: Site, db: asyncpg.Pool) -> None:
    case = await site.submitted()
    path = f"/oversight/cases/{case['id']}"
    doc = await document(site.inspector, "移送函.pdf")
    never = {**doc, "sha256": hashlib.sha256(b"no such letter").hexdigest()}
    before = await _events(db, case["id"])
    refused(await site.inspector.post(f"{path}/refer", json={
        "organisation_id": site.county_commission, "note": "移送", "documents": [never]}), 422, "UNKNOWN_EVIDENCE",
        field="documents.0.sha256")
    assert await _events(db, case["id"]) == before
    ok(await site.inspector.post(f"{path}/refer", json={
        "organisation_id": site.county_commission, "note": "移送", "documents": [doc]}))
    measure = {"person_name": "李某", "person_post": "村支书", "measure": "诫勉谈话",
               "decided_on": clock.today().isoformat(), "decision_number": "纪〔2026〕9号"}
    refused(await site.inspector.post(f"{path}/accountability", json={**measure, "documents": [doc, never]}), 422,
            "UNKNOWN_EVIDENCE", field="documents.1.sha256")
    assert await db.fetchval("SELECT count(*) FROM oversight.case_accountability WHERE case_id = $1",
                             case["id"]) == 0
    decision = await document(site.inspector, "处理决定.pdf")
    recorded = ok(await site.inspector.post(f"{path}/accountability",
                                            json={**measure, "documents": [doc, decision]}), 201)
    assert recorded["accountability"][0]["documents"] == [doc, decision]
    # cited by an accountability record only, it is read by whom sees the case
    assert (await site.cashier.get(f"/oversight/evidence/{decision['sha256']}")).content.startswith(b"%PDF")
    refused(await site.other_inspector.get(f"/oversight/evidence/{decision['sha256']}"), 404, "NOT_FOUND")


async def _over(limit: int) -> AsyncIterator[bytes]:
    yield b"%PDF-1.7\n"
    left = limit + 1 - len(b"%PDF-1.7\n")
    while left > 0:
        part = min(left, MIB)
        yield b"0" * part
        left -= part


async def test_uploads_over_the_limit_of_another_type_or_by_others_are_refused(
    site: Site, admin: Api, make_principal: MakePrincipal
) -> None:
    await site.assigned()  # the bureau has a case
    over = await site.cashier.post("/oversight/evidence", params={"name": "大.pdf"}, content=_over(EVIDENCE_BODY),
                                   headers={"content-type": PDF})
    refused(over, 413, "PAYLOAD_TOO_LARGE")
    assert over.json()["limit_bytes"] == EVIDENCE_BODY
    refused(await upload(site.cashier, pdf(), media_type="image/png"), 415, "UNSUPPORTED_MEDIA_TYPE")
    refused(await upload(site.cashier, b"MZ\x90\x00 not a document", media_type="application/x-msdownload"), 415,
            "UNSUPPORTED_MEDIA_TYPE")
    refused(await upload(site.cashier, pdf(), name=""), 422, "VALIDATION_ERROR", field="name")
    # who uploads: an inspector, a member of an organisation with a case; not one without, not an admin
    ok(await upload(site.inspector, pdf()), 201)
    ok(await upload(site.cashier, pdf()), 201)
    refused(await upload(site.outsider, pdf()), 403, "NOT_IN_JURISDICTION", rule="O6")
    lender = await make_principal("lender", COUNTY)
    refused(await upload(lender, pdf()), 403, "NOT_IN_JURISDICTION")
    refused(await upload(admin, pdf()), 403, "FORBIDDEN")


def _problem(answer: httpx.Response, sha256: str) -> tuple[int, str, str, str, str]:
    """A refusal as a caller sees it, the hash it names replaced: what two refusals must share to tell nothing."""
    body = answer.json()
    return (answer.status_code, body.get("code"), body.get("field"), body.get("rule"),
            str(body.get("detail")).replace(sha256, "<sha256>"))


async def test_a_bureau_cites_only_what_its_organisation_uploaded(site: Site, db: asyncpg.Pool) -> None:
    ours = await site.submitted()
    ref = ours["events"][-1]["documents"][0]  # uploaded by our bureau, cited by our case
    theirs = ok(await site.other_inspector.post("/oversight/cases", json={
        "region_code": OTHER_COUNTY, "title": "另案", "complaint_ref": f"信访-{uuid.uuid4().hex[:8]}"}), 201)
    ok(await site.other_inspector.post(f"/oversight/cases/{theirs['id']}/assign",
                                       json={"organisation_id": site.other_bureau}))
    path = f"/oversight/cases/{theirs['id']}/rectifications"
    before = await _events(db, theirs["id"])
    never = hashlib.sha256(uuid.uuid4().bytes).hexdigest()
    for wrong in ({}, {"size": 1}, {"media_type": "image/png"}):  # whatever else it gets right or wrong
        cited = await site.other_cashier.post(path, json={"note": "引用", "documents": [{**ref, **wrong}]})
        unknown = await site.other_cashier.post(path, json={"note": "引用", "documents": [
            {**ref, **wrong, "sha256": never}]})
        assert _problem(cited, ref["sha256"]) == _problem(unknown, never), cited.text
        assert _problem(cited, ref["sha256"])[:4] == (422, "UNKNOWN_EVIDENCE", "documents.0.sha256", "E1")
    assert await _events(db, theirs["id"]) == before
    refused(await site.other_cashier.get(f"/oversight/evidence/{ref['sha256']}"), 404, "NOT_FOUND")
    # refused in the documents' order: its own document of the wrong size first, ours first
    own = await document(site.other_cashier, "自己的.pdf")
    refused(await site.other_cashier.post(path, json={"note": "x", "documents": [{**own, "size": 1}, ref]}), 422,
            "VALIDATION_ERROR", field="documents.0.size")
    refused(await site.other_cashier.post(path, json={"note": "x", "documents": [ref, {**own, "size": 1}]}), 422,
            "UNKNOWN_EVIDENCE", field="documents.0.sha256")
    refused(await site.other_cashier.post(path, json={"note": "x", "documents": [own, ref]}), 422,
            "UNKNOWN_EVIDENCE", field="documents.1.sha256")
    assert await _events(db, theirs["id"]) == before
    # once the other bureau uploads the same bytes itself (kept once), it may cite them too
    data = (await site.inspector.get(f"/oversight/evidence/{ref['sha256']}")).content
    assert ok(await upload(site.other_cashier, data, name="自传.pdf"))["created"] is False
    assert ok(await site.other_cashier.post(path, json={"note": "自传", "documents": [ref]}))["state"] == (
        "rectification_submitted")
    uploaders = await db.fetch("SELECT organisation_id FROM oversight.evidence_uploads WHERE sha256 = $1",
                               ref["sha256"])
    assert {r["organisation_id"] for r in uploaders} == {site.bureau, site.other_bureau}


async def test_an_inspector_cites_what_a_case_it_sees_cites_and_nothing_else(site: Site) -> None:
    case = await site.submitted()  # its rectification cites a document the bureau uploaded
    ref = case["events"][-1]["documents"][0]
    stranger = ok(await site.other_inspector.post("/oversight/cases", json={
        "region_code": OTHER_COUNTY, "title": "另案", "complaint_ref": f"信访-{uuid.uuid4().hex[:8]}"}), 201)
    never = hashlib.sha256(uuid.uuid4().bytes).hexdigest()
    refer = {"organisation_id": site.other_commission, "note": "移送"}
    cited = await site.other_inspector.post(f"/oversight/cases/{stranger['id']}/refer",
                                            json={**refer, "documents": [ref]})
    unknown = await site.other_inspector.post(f"/oversight/cases/{stranger['id']}/refer",
                                              json={**refer, "documents": [{**ref, "sha256": never}]})
    assert _problem(cited, ref["sha256"]) == _problem(unknown, never), cited.text
    assert cited.status_code == 422 and cited.json()["code"] == "UNKNOWN_EVIDENCE"
    # the county's inspector sees the case that cites it: it may cite it in its referral
    referred = ok(await site.inspector.post(f"/oversight/cases/{case['id']}/refer", json={
        "organisation_id": site.county_commission, "note": "移送", "documents": [ref]}))
    assert referred["events"][-1]["documents"] == [ref]


async def test_an_upload_is_recorded_once_as_its_uploaders_and_a_refused_one_not_at_all(
    site: Site, db: asyncpg.Pool
) -> None:
    await site.assigned()
    data = pdf("约谈记录")
    sha256 = hashlib.sha256(data).hexdigest()
    key = {"content-type": PDF, "idempotency-key": f"up-{uuid.uuid4().hex}"}
    refused(await site.cashier.post("/oversight/evidence", params={"name": "x.png"}, content=data,
                                    headers={**key, "content-type": "image/png"}), 415, "UNSUPPORTED_MEDIA_TYPE")
    query = "SELECT organisation_id, principal_id FROM oversight.evidence_uploads WHERE sha256 = $1"
    assert await db.fetch(query, sha256) == []
    for _ in range(2):  # the same key again is the first answer replayed: recorded once
        ok(await site.cashier.post("/oversight/evidence", params={"name": "约谈记录.pdf"}, content=data,
                                   headers={**key, "idempotency-key": key["idempotency-key"] + "-pdf"}), 201)
    assert [tuple(r) for r in await db.fetch(query, sha256)] == [(site.bureau, site.cashier.principal_id)]
    with pytest.raises(asyncpg.InsufficientPrivilegeError):  # append-only: who uploaded is never rewritten
        await db.execute("UPDATE oversight.evidence_uploads SET organisation_id = $2 WHERE sha256 = $1",
                         sha256, site.other_bureau)
