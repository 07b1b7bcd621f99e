"""The audit trail pages (issue #19 point 2) through the gateway, as people: a person's own earlier actions are named
in the trail they read; another province's are not; an entry shows its fields, hash and inclusion proof; the
verification and the latest checkpoint are on the page; the export link is GET /audit/export with the filters, which
the door answers for the session cookie; a filter the API refuses is shown next to its field."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from urllib.parse import unquote

import httpx
import pytest

from gateway.console import audit
from tests.conftest import Api, wait_for_audit
from tests.console.people import Person, make_person
from tests.stack import Stack

SEQ_LINK = re.compile(r'href="/console/audit/(\d+)\?request_id=([^"]*)"')


@pytest.fixture(scope="module")
async def inspector(admin: Api, stack: Stack) -> AsyncIterator[Person]:
    """An inspector of Hunan (430000), signed in once for the module."""
    person = await make_person(admin, stack.gateway_url, "inspector", "430000")
    yield person
    await person.aclose()


async def _act(person: Person) -> str:
    """An action of the person's, through a console page: a trace of a project that does not exist (the API's
    404 is recorded too). Returns the made-up id."""
    made_up = f"prj-{uuid.uuid4().hex[:12]}"
    answer = await person.client.get("/console/trace", params={"project_id": made_up})
    assert answer.status_code == 404, answer.text[:1000]
    return made_up


async def test_the_trail_names_the_persons_own_earlier_actions_and_not_another_provinces(
    admin: Api, stack: Stack, inspector: Person
) -> None:
    hunan = inspector
    guizhou = await make_person(admin, stack.gateway_url, "inspector", "520000")
    try:
        await _act(hunan)
        await _act(guizhou)
        await wait_for_audit(admin)
        mine = await hunan.client.get("/console/audit", params={"actor": hunan.principal_id})
        assert mine.status_code == 200, mine.text[:2000]
        assert "/funds/trace" in mine.text and "/console/trace" in mine.text  # the API call and the page
        assert hunan.principal_id in mine.text and guizhou.principal_id not in mine.text
        assert f'href="/console/audit?actor={hunan.principal_id}"' in mine.text  # "only my actions"
        # the verification and the latest signed checkpoint are on the page
        assert "完整性校验" in mine.text and ("哈希链与默克尔树校验通过" in mine.text or "校验失败" in mine.text)
        assert "最新签名检查点" in mine.text
        # another province's person: nothing of theirs, neither in the list nor as an entry
        theirs = await hunan.client.get("/console/audit", params={"actor": guizhou.principal_id})
        assert theirs.status_code == 200 and "暂无数据" in theirs.text and "/funds/trace" not in theirs.text
        own_list = await guizhou.client.get("/console/audit", params={"actor": guizhou.principal_id})
        seq = int(SEQ_LINK.findall(own_list.text)[0][0])
        assert (await guizhou.client.get(f"/console/audit/{seq}")).status_code in (200, 404)
        refused = await hunan.client.get(f"/console/audit/{seq}")
        assert refused.status_code == 404 and "/funds/trace" not in refused.text
    finally:
        await guizhou.aclose()


async def test_an_entry_shows_its_fields_hash_and_proof(admin: Api, stack: Stack, inspector: Person) -> None:
    person = inspector
    made_up = await _act(person)
    await wait_for_audit(admin)
    found = await person.api("GET", "/audit", params={"actor": person.principal_id, "path_prefix": "/funds/trace"})
    entry = found.json()["items"][0]
    # at once, before a checkpoint may hold it (one is signed every few seconds): its fields and hash all the same,
    # found by its request (the list links with it); the proof when a checkpoint holds it, else a word saying so
    early = await person.client.get(f"/console/audit/{entry['seq']}", params={"request_id": entry["request_id"]})
    assert early.status_code == 200 and entry["hash"] in early.text
    assert ('<ol class="proof">' in early.text) != ("尚未纳入已签名的检查点" in early.text)
    signed = await admin.post("/audit/checkpoints")
    assert signed.status_code == 201, signed.text
    listed = await person.client.get("/console/audit", params={"actor": person.principal_id})
    assert f'href="/console/audit/{entry["seq"]}?request_id=' in listed.text
    page = await person.client.get(f"/console/audit/{entry['seq']}")
    assert page.status_code == 200, page.text[:2000]
    text = page.text
    assert entry["hash"] in text and entry["prev_hash"] in text and entry["request_id"] in text
    assert made_up in text  # the query it was asked with
    assert "包含性证明" in text and '<ol class="proof">' in text and "叶子哈希" in text
    assert f'href="/audit/entries/{entry["seq"]}?checkpoint_size=' in text and 'href="/audit/public-key"' in text
    size = re.search(r'<strong class="checkpoint-size">(\d+)</strong>', text)
    assert size is not None and int(size.group(1)) >= entry["seq"]
    person.client.cookies.set("ft_lang", "en")
    try:
        english = await person.client.get(f"/console/audit/{entry['seq']}")
        assert english.status_code == 200 and "<h1>Audit entry #" in english.text and "Inclusion proof" in english.text
    finally:
        person.client.cookies.delete("ft_lang")


async def test_the_export_link_carries_the_filters_and_the_door_answers_it_for_the_cookie(
    admin: Api, stack: Stack, inspector: Person
) -> None:
    person = inspector
    await _act(person)
    await wait_for_audit(admin)
    page = await person.client.get("/console/audit", params={"actor": person.principal_id,
                                                               "path_prefix": "/funds/"})
    link = re.search(r'<a class="button" href="(/audit/export\?[^"]*)"', page.text)
    assert link is not None, page.text[:3000]
    href = unquote(link.group(1).replace("&amp;", "&"))
    assert f"actor={person.principal_id}" in href and "path_prefix=/funds/" in href
    # the browser follows it with the session cookie alone (a GET: no CSRF token needed)
    exported = await person.client.get(link.group(1).replace("&amp;", "&"))
    assert exported.status_code == 200, exported.text[:500]
    assert exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    rows = exported.text.splitlines()
    assert rows[0].startswith("seq,") and len(rows) >= 2
    assert all(person.principal_id in row and "/funds/" in row for row in rows[1:])
    assert "/console/trace" not in exported.text  # the filter applied
    # without a session, the door refuses the same link
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=30) as stranger:
        assert (await stranger.get(link.group(1).replace("&amp;", "&"))).status_code == 401


async def test_a_filter_the_api_refuses_is_shown_next_to_its_field(admin: Api, stack: Stack, inspector: Person) -> None:
    person = inspector
    day = await person.client.get("/console/audit", params={"since_day": "2026-13-45"})
    assert day.status_code == 422 and 'id="e-since_day"' in day.text and 'aria-invalid="true"' in day.text
    region = await person.client.get("/console/audit", params={"region": "43"})
    assert region.status_code == 422 and 'id="e-region"' in region.text, region.text[:3000]
    assert 'class="audit-export"' not in region.text  # no export of a refused filter
    window = await person.client.get("/console/audit", params={"since_day": "2026-01-01",
                                                                 "until_day": "2026-01-31"})
    assert window.status_code == 200
    assert "since=2026-01-01T00%3A00%3A00%2B08%3A00" in window.text  # a China day, in the export link
    assert "until=2026-02-01T00%3A00%3A00%2B08%3A00" in window.text  # the last day included


async def test_a_finance_officer_has_no_audit_pages_as_the_api_refuses_them(admin: Api, stack: Stack) -> None:
    person = await make_person(admin, stack.gateway_url, "finance", "430000")
    try:
        assert (await person.api("GET", "/audit")).status_code == 403
        home = await person.client.get("/console/")
        assert 'href="/console/audit"' not in home.text
        assert (await person.client.get("/console/audit")).status_code == 403
        assert (await person.client.get("/console/audit/1")).status_code == 403
    finally:
        await person.aclose()


async def test_the_trail_is_read_a_page_at_a_time(admin: Api, stack: Stack, inspector: Person) -> None:
    """More of the person's entries than a page holds: the page shows PAGE_LIMIT, its next link the older ones."""
    person = inspector
    for _ in range(audit.PAGE_LIMIT + 5):
        assert (await person.api("GET", "/audit/checkpoints", params={"limit": 1})).status_code == 200
    await wait_for_audit(admin)
    first = await person.client.get("/console/audit", params={"actor": person.principal_id})
    seqs = [int(seq) for seq, _ in SEQ_LINK.findall(first.text)]
    assert len(seqs) == audit.PAGE_LIMIT and seqs == sorted(seqs, reverse=True)
    link = re.search(r'<a rel="next" href="([^"]*)"', first.text)
    assert link is not None
    href = link.group(1).replace("&amp;", "&")
    assert f"actor={person.principal_id}" in href  # the filters kept
    second = await person.client.get(href)
    older = [int(seq) for seq, _ in SEQ_LINK.findall(second.text)]
    assert second.status_code == 200 and len(older) >= 5 and max(older) < min(seqs)
