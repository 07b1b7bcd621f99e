"""The county's annual integration plan (统筹整合方案, issue #17 point 1, F15–F16): filed, adjusted (调整) as new
versions with a reason, reported (上报) to the city and province; the plan in force (the latest reported version)
holds the county's arrangements (F15). The projects service is asked about every planned project first, before
anything is written: if it is down the request is refused with 503 and nothing changes."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from services.funds import codes, plan_rules, problems, rules
from services.funds.clients import Project, Projects
from services.funds.models import Plan, PlanVersion
from services.funds.plan_schemas import (
    PlanAdjustment,
    PlanCreate,
    PlanLines,
    PlannedProject,
    PlannedSource,
    PlanRead,
    PlanReportCreate,
    PlanVersionRead,
)
from services.funds.reference import load_reference
from services.funds.repository import plans as repository
from services.funds.repository.unique import Duplicate
from services.kernel import clock
from services.kernel.errors import Problem
from services.kernel.identity import Principal
from services.kernel.ids import new_id
from services.kernel.scope import check_covers
from services.kernel.uow import BriefReads


def check_county_office(principal: Principal, county_code: str) -> None:
    """F16: a county's own offices file, adjust and report its plan; the city and province receive it."""
    check_covers(principal, county_code, field="county_code")
    if principal.region_code != county_code:
        raise problems.plan_filed_by_county(county_code)


def _check_once(names: Sequence[str], what: str, key: str) -> None:
    """A source or a project is planned once per version: the repeated one is named."""
    seen: set[str] = set()
    for index, name in enumerate(names):
        if name in seen:
            raise problems.planned_twice(name, f"{what}.{index}.{key}")
        seen.add(name)


async def _planned_projects(projects: Projects, *, county_code: str, body: PlanLines) -> dict[str, Project]:
    """The lines name sources and projects once each; the planned projects as the projects service answers them,
    asked before the request's first statement (ask first, then write: kernel/uow.py), one call per page of a
    thousand, not one per project (issue #20). Another county's project is answered as none at all (F4, A5)."""
    _check_once([s.fund_source for s in body.sources], "sources", "fund_source")
    _check_once([p.project_id for p in body.projects], "projects", "project_id")
    return await projects.projects_in(county_code, [p.project_id for p in body.projects])


async def _check_lines(session: AsyncSession, *, found: Mapping[str, Project], county_code: str,
                       body: PlanLines) -> None:
    """The lines name registered fund sources and projects of the county's library (F4, F5), and the projects'
    total is within the sources' (F16)."""
    for index, line in enumerate(body.projects):
        project = found.get(line.project_id)
        try:
            rules.check_project_in_library(project, county_code=county_code, project_id=line.project_id)
            assert project is not None
            rules.check_not_negative_list(project["category"], negative_list=project["negative_list"])
        except Problem as refusal:
            refusal.field = f"projects.{index}.project_id"
            raise
    plan_rules.check_balanced(sources=[s.amount_fen for s in body.sources],
                              projects=[p.amount_fen for p in body.projects])
    integrable, counties = await load_reference(session, sources=[s.fund_source for s in body.sources],
                                                counties=[county_code])
    if county_code not in counties:
        raise problems.unregistered_county(county_code, "county_code")
    for index, source in enumerate(body.sources):
        if source.fund_source not in integrable:
            raise problems.unknown_source(source.fund_source, field=f"sources.{index}.fund_source")


async def _arranged_by_project(session: AsyncSession, *, county_code: str, fiscal_year: int) -> dict[str, int]:
    arranged: dict[str, int] = defaultdict(int)
    for row in await repository.execution(session, county_code=county_code, fiscal_year=fiscal_year):
        if row.kind == "arrangement":
            arranged[row.project_id] += int(row.amount_fen)
    return dict(arranged)


async def _file_version(
    session: AsyncSession, *, principal: Principal, plan: Plan, version: int, body: PlanLines, reason: str | None
) -> None:
    """Write one version and its lines after F16's check against the year's arrangements so far."""
    arranged = await _arranged_by_project(session, county_code=plan.county_code, fiscal_year=plan.fiscal_year)
    plan_rules.check_covers_arranged([(p.project_id, p.amount_fen) for p in body.projects], arranged=arranged)
    lines = [{"kind": "source", "ref": s.fund_source, "amount_fen": s.amount_fen} for s in body.sources]
    lines += [{"kind": "project", "ref": p.project_id, "amount_fen": p.amount_fen} for p in body.projects]
    try:
        await repository.insert_version(
            session, lines=lines, county_code=plan.county_code, plan_id=plan.id, version=version, reason=reason,
            filed_on=body.filed_on or clock.today(), created_by=principal.id, recorded_by_org=principal.organisation,
        )
    except Duplicate as exc:
        raise problems.plan_filed_concurrently() from exc


async def file_plan(session: AsyncSession, *, principal: Principal, projects: Projects, body: PlanCreate) -> PlanRead:
    """F16: a county's plan for a year, version 1, a draft until it is reported."""
    check_county_office(principal, body.county_code)
    found = await _planned_projects(projects, county_code=body.county_code, body=body)
    await _check_lines(session, found=found, county_code=body.county_code, body=body)
    existing = await repository.plan_of_year(session, county_code=body.county_code, fiscal_year=body.fiscal_year)
    if existing is not None:
        raise problems.plan_exists(body.county_code, body.fiscal_year, existing.id)
    try:
        await repository.insert_plan(session, county_code=body.county_code, id=new_id("pln"),
                                     fiscal_year=body.fiscal_year, created_by=principal.id,
                                     recorded_by_org=principal.organisation)
    except Duplicate as exc:  # filed by another request at the same moment
        raise problems.plan_exists(body.county_code, body.fiscal_year, None) from exc
    plan = await repository.plan_of_year(session, county_code=body.county_code, fiscal_year=body.fiscal_year)
    assert plan is not None
    await _file_version(session, principal=principal, plan=plan, version=1, body=body, reason=None)
    return await read_plan(session, plan)


async def _own_plan(session: AsyncSession, *, principal: Principal, plan_id: str) -> Plan:
    plan = await repository.get_plan(session, plan_id)
    if plan is None:
        raise problems.no_plan(plan_id)
    check_covers(principal, plan.county_code, subject=f"plan {plan_id}")
    return plan


async def adjust(
    session: AsyncSession, *, principal: Principal, projects: Projects, brief: BriefReads, plan_id: str,
    body: PlanAdjustment,
) -> PlanRead:
    """F16: an adjustment is a new version with its reason; the versions before it are kept, and the one in force
    stays in force until the adjustment is reported. The plan's county is read briefly, the projects service asked,
    then the request's transaction starts."""
    async with brief() as reading:
        county_code = (await _own_plan(reading, principal=principal, plan_id=plan_id)).county_code
    check_county_office(principal, county_code)
    found = await _planned_projects(projects, county_code=county_code, body=body)
    plan = await _own_plan(session, principal=principal, plan_id=plan_id)
    await _check_lines(session, found=found, county_code=plan.county_code, body=body)
    latest = len(await repository.versions(session, county_code=plan.county_code, plan_id=plan.id))
    await _file_version(session, principal=principal, plan=plan, version=latest + 1, body=body, reason=body.reason)
    return await read_plan(session, plan)


async def report(session: AsyncSession, *, principal: Principal, plan_id: str, body: PlanReportCreate) -> PlanRead:
    """F16: the latest version is reported to the city and province, once; from then on it is the plan in force."""
    plan = await _own_plan(session, principal=principal, plan_id=plan_id)
    check_county_office(principal, plan.county_code)
    # the plan's year exclusive, before anything is read: no arrangement of the year under way (each holds it shared
    # from its F15 check to its commit), and one that waits for this report is judged on what it puts in force
    await repository.hold_plan_year(session, county_code=plan.county_code, fiscal_year=plan.fiscal_year, shared=False)
    found = await repository.versions(session, county_code=plan.county_code, plan_id=plan.id)
    reported = {int(v[0].version) for v in found if v[1] is not None}
    plan_rules.check_reportable(version=body.version, latest=len(found), reported=body.version in reported)
    await _check_still_covers(session, plan=plan, version=body.version)
    try:
        await repository.insert_report(session, county_code=plan.county_code, plan_id=plan.id, version=body.version,
                                       reported_on=body.reported_on or clock.today(), created_by=principal.id,
                                       recorded_by_org=principal.organisation)
    except Duplicate as exc:
        raise problems.plan_already_reported(body.version) from exc
    return await read_plan(session, plan)


async def _check_still_covers(session: AsyncSession, *, plan: Plan, version: int) -> None:
    """F16 at the report (its plan's year held): the version about to be in force still covers what the year
    arranged, arrangements made under the version in force since it was filed included."""
    planned = await repository.planned(session, county_code=plan.county_code, plan_id=plan.id, version=version,
                                       kind="project")
    arranged = await _arranged_by_project(session, county_code=plan.county_code, fiscal_year=plan.fiscal_year)
    plan_rules.check_covers_arranged(sorted(planned.items()), arranged=arranged)


async def get_plan(session: AsyncSession, *, principal: Principal, plan_id: str) -> PlanRead:
    return await read_plan(session, await _own_plan(session, principal=principal, plan_id=plan_id))


async def list_plans(session: AsyncSession, *, prefix: str, fiscal_year: int | None) -> list[PlanRead]:
    return [await read_plan(session, p) for p in await repository.list_plans(session, prefix=prefix,
                                                                            fiscal_year=fiscal_year)]


async def read_plan(session: AsyncSession, plan: Plan) -> PlanRead:
    found = await repository.versions(session, county_code=plan.county_code, plan_id=plan.id)
    by_version: dict[int, tuple[list[PlannedSource], list[PlannedProject]]] = defaultdict(lambda: ([], []))
    for line in await repository.lines(session, county_code=plan.county_code, plan_id=plan.id):
        sources, projects = by_version[line.version]
        if line.kind == "source":
            sources.append(PlannedSource(fund_source=line.ref, amount_fen=line.amount_fen))
        else:
            projects.append(PlannedProject(project_id=line.ref, amount_fen=line.amount_fen))
    versions = [_version(row[0], row[1], *by_version[int(row[0].version)]) for row in found]
    reported = [v.version for v in versions if v.reported_on is not None]
    in_force = max(reported) if reported else None
    state = "draft" if in_force is None else "reported" if in_force == len(versions) else "adjusted"
    return PlanRead(id=plan.id, county_code=plan.county_code, fiscal_year=plan.fiscal_year, state=state,
                    version_in_force=in_force, versions=versions)


def _version(row: PlanVersion, reported_on: date | None, sources: list[PlannedSource],
             projects: list[PlannedProject]) -> PlanVersionRead:
    return PlanVersionRead(
        version=row.version, reason=row.reason, filed_on=row.filed_on, reported_on=reported_on, sources=sources,
        projects=projects, sources_fen=sum(s.amount_fen for s in sources),
        projects_fen=sum(p.amount_fen for p in projects), recorded_by_org=row.recorded_by_org,
    )


def _ancestors(county_code: str) -> list[str]:
    """The county and the regions above it, as obligations are declared for them (000000 the country)."""
    return [county_code, county_code[:4] + "00", county_code[:2] + "0000", "000000"]


async def check_arrangement(session: AsyncSession, *, county_code: str, project_id: str, on: date,
                            amount_fen: int) -> None:
    """F15 at an arrangement (called with the project's ledger row locked, so the year's arrangements to it cannot
    change under the check, and holding the plan's year shared until it commits, so the plan in force cannot change
    under it either): within the plan in force for the county and the arrangement's year (its date's)."""
    year = on.year
    await repository.hold_plan_year(session, county_code=county_code, fiscal_year=year, shared=True)
    _, counties = await load_reference(session, sources=[], counties=[county_code])
    pilot = bool(counties.get(county_code, {}).get("integration_pilot"))
    declared = pilot and await repository.obligation_declared(
        session, kind=codes.PLAN_REQUIRED, regions=_ancestors(county_code), level="county", year=year)
    in_force = await repository.version_in_force(session, county_code=county_code, fiscal_year=year)
    plan = None
    arranged = 0
    if in_force is not None:
        plan_id, version = in_force
        planned = await repository.planned(session, county_code=county_code, plan_id=plan_id, version=version,
                                           kind="project")
        plan = plan_rules.PlanInForce(plan_id, version, planned)
        rows = await repository.execution(session, county_code=county_code, fiscal_year=year, project_id=project_id)
        arranged = sum(int(r.amount_fen) for r in rows if r.kind == "arrangement")
    plan_rules.check_in_plan(plan, required=plan_rules.plan_required(pilot=pilot, declared=declared),
                             county_code=county_code, year=year, project_id=project_id, arranged_fen=arranged,
                             amount_fen=amount_fen)
