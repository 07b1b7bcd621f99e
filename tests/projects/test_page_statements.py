"""Issue #14: a page of projects is read (history, announcement, objections) by the same prepared statements
whatever the page's size: the page's ids are one array (kernel/db.py `any_of`), not an IN list of a new text for
each size, prepared and cached on every pooled connection of the service."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import col

from services.kernel.db import create_engine, session_factory
from services.projects import service
from services.projects.models import Project
from tests.conftest import Api
from tests.platform.test_memory import statement_caches
from tests.projects.conftest import County
from tests.projects.factory import create, project_body, project_in
from tests.stack import TestDatabase

ANNOUNCED_HISTORY = ["create", "submit", "review", "announce"]


async def test_a_page_of_projects_is_read_by_the_same_statements_whatever_its_size(
    county: County, anonymous: Api, database: TestDatabase
) -> None:
    announced = {await project_in(county.pm, county.code, county.poor, "announced") for _ in range(2)}
    objected = min(announced)
    raised = await anonymous.post(f"/public/announcements/{objected}/objections", json={"text": "受益户名单有误"})
    assert raised.status_code == 201, raised.text
    drafts = {str((await create(county.pm, project_body(county.code, county.poor)))["id"]) for _ in range(6)}
    engine = create_engine("projects", url=database.url, pool_size=1)  # one connection: every statement on it
    try:
        async with session_factory(engine)() as session:
            query = select(Project).where(col(Project.county_code) == county.code).order_by(col(Project.id))
            projects = list((await session.execute(query)).scalars())
            assert {p.id for p in projects} == announced | drafts
            caches = []
            for size in range(1, len(projects) + 1):
                page = await service.read_projects(session, projects[:size])
                # each page reads its own projects' history and announcement, and only theirs
                assert [p.id for p in page] == [p.id for p in projects[:size]]
                for read in page:
                    assert [e.action for e in read.history] == (ANNOUNCED_HISTORY if read.id in announced
                                                                 else ["create"])
                    assert (read.announcement is not None) is (read.id in announced)
                    assert [o.id for o in read.objections] == ([raised.json()["id"]] if read.id == objected else [])
                caches.append(await statement_caches(session))
    finally:
        await engine.dispose()
    # the statements prepared on the connection (both caches): as many after pages of 8 sizes as after the first
    assert [c[1:] for c in caches] == [caches[0][1:]] * len(caches), caches
