"""P13 back-dated announcements (issue #17 point 9): a 公示 posted on the village board and recorded afterwards is
allowed, but one recorded more than 3 days after its start needs evidence of the posting, raises
ANNOUNCEMENT_BACKDATED for inspectors, and the public page shows both the stated and the recorded dates."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from services.kernel import clock
from services.projects import codes
from tests.conftest import Api, MakePrincipal, scan_alerts
from tests.projects.conftest import County
from tests.projects.factory import act, project_in

EVIDENCE = {"posted_by": "村委会文书 李四", "photo_sha256": "ab" * 32}


def announce_body(days_back: int, **extra: Any) -> dict[str, Any]:
    start = clock.today() - timedelta(days=days_back)
    return {"start_on": start.isoformat(), "days": 10, "scope": "village", **extra}


async def _backdated_alerts(inspector: Api, project_id: str) -> list[dict[str, Any]]:
    await scan_alerts(inspector, clock.today().isoformat())
    response = await inspector.get("/alerts", params={"type": codes.ANNOUNCEMENT_BACKDATED, "limit": 500})
    assert response.status_code == 200, response.text
    return [a for a in response.json()["items"] if a["subject"]["id"] == project_id]


async def test_recorded_more_than_3_days_late_needs_evidence(county: County, anonymous: Api) -> None:
    project_id = await project_in(county.pm, county.code, county.poor, "reviewed")
    refused = await act(county.pm, project_id, "announce", announce_body(4))
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == codes.ANNOUNCEMENT_EVIDENCE_REQUIRED and refused.json()["field"] == "evidence"
    assert refused.json()["rule"] == "P13"
    assert (await county.pm.get(f"/projects/{project_id}")).json()["status"] == "reviewed"  # nothing changed
    assert (await anonymous.get(f"/public/projects/{project_id}")).status_code == 404  # not announced
    for bad, field in (({"posted_by": "李四", "photo_sha256": "xyz"}, "evidence.photo_sha256"),
                       ({"posted_by": "", "photo_sha256": "ab" * 32}, "evidence.posted_by"),
                       ({"photo_sha256": "ab" * 32}, "evidence.posted_by")):
        response = await act(county.pm, project_id, "announce", announce_body(4, evidence=bad))
        assert response.status_code == 422 and response.json()["field"] == field, response.text


async def test_a_backdated_announcement_with_evidence_is_public_with_both_dates_and_alerted(
    county: County, anonymous: Api, make_principal: MakePrincipal
) -> None:
    project_id = await project_in(county.pm, county.code, county.poor, "reviewed")
    allowed = await act(county.pm, project_id, "announce", announce_body(6, evidence=EVIDENCE))
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["announcement"]["evidence"] == EVIDENCE
    page = (await anonymous.get(f"/public/projects/{project_id}")).json()
    stated, recorded = clock.today() - timedelta(days=6), clock.today()
    assert page["announcement"]["start_on"] == stated.isoformat()
    assert page["announcement"]["recorded_on"] == recorded.isoformat()
    inspector = await make_principal("inspector", county.code)
    [alert] = await _backdated_alerts(inspector, project_id)
    assert alert["region_code"] == county.code and alert["subject"]["kind"] == "project"
    facts = alert["facts"]
    assert (facts["start_on"], facts["recorded_on"], facts["days_late"]) == (stated.isoformat(),
                                                                              recorded.isoformat(), 6)
    assert (facts["posted_by"], facts["photo_sha256"]) == (EVIDENCE["posted_by"], EVIDENCE["photo_sha256"])


async def test_recorded_within_3_days_needs_no_evidence_and_raises_nothing(
    county: County, anonymous: Api, make_principal: MakePrincipal
) -> None:
    project_id = await project_in(county.pm, county.code, county.poor, "reviewed")
    allowed = await act(county.pm, project_id, "announce", announce_body(3))
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["announcement"]["evidence"] is None
    page = (await anonymous.get(f"/public/projects/{project_id}")).json()
    assert page["announcement"]["recorded_on"] == clock.today().isoformat()
    inspector = await make_principal("inspector", county.code)
    assert await _backdated_alerts(inspector, project_id) == []
