"""The public announcements (公示, P1): readable without a key, and showing only what a 公示 must show.

Beneficiaries appear as a count; household ids, names and identity numbers never leave through this module.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel import clock
from services.kernel.pagination import Page, decode_cursor, page_of
from services.kernel.scope import public_prefix
from services.projects import problems, repository, rules
from services.projects.schemas import PublicAnnouncement, PublicPeriod, PublicProject, PublicStep


def how_to_object(project_id: str, ends_on: str) -> str:
    return (
        f"对公示内容有异议的，可在公示期内（至 {ends_on} 前）通过 POST /public/announcements/{project_id}/objections "
        f'提交书面异议 {{"text": "…"}}，无需账号 / to object, POST {{"text": "…"}} to '
        f"/public/announcements/{project_id}/objections (no key needed) during the announcement (before {ends_on})"
    )


def _public(row: repository.Record) -> PublicAnnouncement:
    (pid, name, county, village, content, category, budget, sources, p_start, p_end, unit, beneficiaries,
     mechanism, targets, status, _seq, a_start, days, scope, open_objections, recorded_at) = tuple(row)
    ends_on = rules.announcement_ends_on(a_start, days)
    return PublicAnnouncement(
        project_id=pid, name=name, county_code=county, village_code=village, content=content, category=category,
        budget_fen=budget, fund_sources=sources, project_start_on=p_start, project_end_on=p_end,
        announcement=PublicPeriod(
            start_on=a_start, days=days, ends_on=ends_on, scope=scope, current=a_start <= clock.today() < ends_on,
            recorded_on=recorded_at.astimezone(clock.CHINA).date() if recorded_at is not None else None,  # P13
        ),
        responsible_unit=unit or None, beneficiary_households=int(beneficiaries or 0), benefit_mechanism=mechanism,
        performance_targets=[{"indicator": t["indicator"], "target": t["target"]} for t in targets],
        status=status, objections_open=int(open_objections or 0),
        how_to_object=how_to_object(pid, ends_on.isoformat()),
    )


async def list_announcements(
    session: AsyncSession, *, county: str | None, cursor: str | None, limit: int
) -> Page[PublicAnnouncement]:
    """Current and past announcements, newest first (keyset on the announcement's sequence)."""
    key = decode_cursor(cursor, 1)
    if key is not None and not isinstance(key[0], int):
        raise problems.bad_cursor()
    # the public page knows no principal: a county asked for narrows it, none shows the whole country
    rows = await repository.announcement_page(
        session, prefix=public_prefix(county), before_seq=None if key is None else int(key[0]),
        limit=limit,
    )
    page = page_of(rows, limit, lambda row: [int(row[15])])
    return Page(items=[_public(row) for row in page.items], next_cursor=page.next_cursor)


async def get_announcement(session: AsyncSession, project_id: str) -> PublicAnnouncement:
    row = await repository.public_announcement(session, project_id)
    if row is None:
        raise problems.announcement_not_found(project_id)
    return _public(row)


async def public_project(session: AsyncSession, project_id: str, money: tuple[int, int]) -> PublicProject:
    """U2: a project the public may see is one that was announced (公示, P1): from its announcement on, its money,
    status and history are public; before it (a draft, a project in review, one rejected or withdrawn before its
    announcement) it is the county's working file, and answered 404 as an unknown one. `money` (arranged, paid) was
    asked of funds before this reads anything."""
    row = await repository.public_announcement(session, project_id)
    if row is None:
        raise problems.project_not_public(project_id)
    announced = _public(row)
    arranged_fen, paid_fen = money
    steps = await repository.events_of(session, [project_id])
    return PublicProject(
        project_id=announced.project_id, name=announced.name, county_code=announced.county_code,
        village_code=announced.village_code, category=announced.category, budget_fen=announced.budget_fen,
        arranged_fen=arranged_fen, paid_fen=paid_fen, status=announced.status,
        beneficiary_households=announced.beneficiary_households, responsible_unit=announced.responsible_unit,
        announcement=announced.announcement, objections_open=announced.objections_open,
        history=[PublicStep(action=e.action, status=e.to_status, at=e.at) for e in steps if e.at is not None],
    )
