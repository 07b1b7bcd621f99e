"""Routes of the registry: the public ones under /registry (through the gateway) and the internal ones that the
projects, funds and loans services call (signed, never routed by the gateway)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Annotated

from fastapi import Path, Query, Request

from services.kernel.errors import NotInJurisdiction
from services.kernel.identity import Principal
from services.kernel.ids import new_id
from services.kernel.outbox import name_entities
from services.kernel.pagination import CursorQuery, LimitQuery, Page, decode_cursor, page_of
from services.kernel.regions import is_county
from services.kernel.routers import service_router
from services.kernel.scope import check_covers
from services.kernel.types import COUNTY_PATTERN, CountyCode, Day, check_day
from services.kernel.uow import PrincipalDep, SessionDep, streamed_body, unaudited
from services.registry import cadre, importer, problems, progress, repository, rules, service
from services.registry.schemas import (
    CadreExceptionCreate,
    CadreExceptionRead,
    ChangedRequest,
    ChangedResult,
    Eligibility,
    EligibilityRequest,
    EligibilityResult,
    HouseholdDetail,
    HouseholdId,
    HouseholdInternal,
    HouseholdRead,
    ImportProgress,
    ImportResult,
    IneligibleRequest,
    IneligibleResult,
    LookupRequest,
    LookupResult,
    RejectedLine,
    Status,
    StatusAt,
)

IMPORTER_ROLES = frozenset({"admin", "project_manager"})
INTERNAL_ROLES = frozenset({"service"})  # not admin: the internal API knows no jurisdiction (S1)
CSV_MEDIA_TYPES = frozenset({"text/csv", "application/csv", "text/plain"})

router = service_router("/registry", tags=["registry"])
internal = service_router("/internal", include_in_schema=False)


async def _effective_on(value: str | None, chunks: AsyncIterator[bytes]) -> date | None:
    """Read here rather than by FastAPI, so that a bad date still drains the streamed body before the 422."""
    if value is None:
        return None
    try:
        if len(value) != len("2014-01-01"):
            raise ValueError(value)
        return check_day(date.fromisoformat(value))
    except ValueError:
        await importer.drain(chunks)
        raise problems.bad_effective_on(value) from None


async def _import_county(value: str | None, principal: Principal, chunks: AsyncIterator[bytes]) -> str | None:
    """S12: the county an import is narrowed to, read here so that a refusal still drains the streamed body."""
    if value is None:
        return None
    if not (value.isascii() and value.isdigit() and is_county(value)):
        await importer.drain(chunks)
        raise problems.not_a_county(value)
    try:
        check_covers(principal, value, field="county", subject=f"county {value}")
    except NotInJurisdiction:
        await importer.drain(chunks)
        raise
    return value


# A roster's date: from rules.FIRST_EFFECTIVE_DATE (2014-01-01) on; not after today, which no pattern can say.
ROSTER_DAY_PATTERN = r"^(201[4-9]|20[2-9][0-9]|2[1-9][0-9]{2})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
# The file begins with its header line (anything else is 422 INVALID_HEADER); its lines are judged one by one.
CSV_SCHEMA = {"type": "string", "pattern": f"^\\ufeff?{','.join(rules.HEADER)}(\\r?\\n|$)"}
CSV_BODY = {"required": True, "content": {media: {"schema": CSV_SCHEMA} for media in sorted(CSV_MEDIA_TYPES)}}


@router.post("/households/import", openapi_extra={**streamed_body(), "requestBody": CSV_BODY})
async def import_households(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    effective_on: Annotated[
        str | None,
        Query(description="YYYY-MM-DD, from 2014-01-01 (建档立卡) to today; default today",
              json_schema_extra={"pattern": ROSTER_DAY_PATTERN, "format": "date"}),
    ] = None,
    county: Annotated[
        str | None,
        Query(description="the county this file is of (in your jurisdiction): lines of other counties are refused, "
              "and the import waits only for imports of this county (default: your whole jurisdiction)",
              json_schema_extra={"pattern": COUNTY_PATTERN}),
    ] = None,
) -> ImportResult:
    """Streams the CSV; bad lines are reported by number and code, good ones kept (re-imports update). The roster
    stands as of `effective_on` (default today): the status history of the households it changes is dated so."""
    chunks: AsyncIterator[bytes] = request.stream()
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if principal.role not in IMPORTER_ROLES or media_type not in CSV_MEDIA_TYPES:
        await importer.drain(chunks)
        if principal.role not in IMPORTER_ROLES:
            raise problems.may_not_import(principal.role)
        raise problems.not_csv(media_type)
    key = request.headers.get("idempotency-key")
    counter: progress.Progress | None = None
    if key is not None:  # how far it has read, for GET /registry/imports/{key}/progress (issue #19)
        counter = progress.Progress(request.app.state.engine, principal.id, key,
                                    progress.declared_length(request.headers))
        chunks = counter.counted(chunks)
    on = await _effective_on(effective_on, chunks)
    county = await _import_county(county, principal, chunks)
    import_id = new_id("imp")
    report = await importer.import_households(
        session, principal=principal, chunks=chunks, import_id=import_id, effective_on=on, county=county,
        read=counter,
    )
    name_entities(request, [import_id])
    return ImportResult(
        import_id=import_id,
        effective_on=report.effective_on,
        imported=report.imported,
        updated=report.updated,
        unchanged=report.unchanged,
        rejected=[RejectedLine(**item) for item in report.rejections.items],
        rejected_count=report.rejections.count,
        recorded_by_org=report.recorded_by_org,
        responsible_org=report.responsible_org,
    )


@router.get("/imports/{key}/progress")
async def import_progress(
    key: Annotated[str, Path(min_length=1, max_length=255, description="the import's Idempotency-Key")],
    session: SessionDep,
    principal: PrincipalDep,
) -> ImportProgress:
    """How far the caller's own import sent with this Idempotency-Key has read (lines, bytes, per cent of a declared
    length): 404 for a key the caller sent no import with, and for another principal's import."""
    row = await repository.progress_of(session, principal_id=principal.id, key=key)
    if row is None:
        raise problems.import_progress_not_found(key)
    return ImportProgress(
        key=key, lines=row.lines, bytes_read=row.bytes_read, total_bytes=row.total_bytes, done=row.done,
        percent=progress.percent(row.bytes_read, row.total_bytes, done=row.done),
        started_at=row.started_at, updated_at=row.updated_at,
    )


@router.get("/households")
async def list_households(
    session: SessionDep,
    principal: PrincipalDep,
    county: Annotated[CountyCode | None, Query()] = None,
    status: Annotated[Status | None, Query()] = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Page[HouseholdRead]:
    """Only households inside the caller's jurisdiction are listed."""
    after = decode_cursor(cursor, 1)
    rows = await repository.household_page(
        session, principal=principal, county=county, status=status, limit=limit,
        after=str(after[0]) if after else None,
    )
    items = [service.read_of(row, principal=principal) for row in rows]
    return page_of(items, limit, lambda item: [item.household_id])


@router.get("/households/{household_id}")
async def get_household(household_id: HouseholdId, session: SessionDep, principal: PrincipalDep) -> HouseholdDetail:
    household = await repository.get_household(session, principal, household_id)
    history = await repository.history_of(session, household_id)
    exceptions = await cadre.of_household(session, household_id)
    return service.detail_of(household, history, principal=principal, exceptions=exceptions)


@router.post("/households/{household_id}/cadre-exceptions", status_code=201)
async def record_cadre_exception(
    household_id: HouseholdId, body: CadreExceptionCreate, session: SessionDep, principal: PrincipalDep
) -> CadreExceptionRead:
    """R1: the county's approved exception for a household with a sitting village cadre."""
    if principal.role not in IMPORTER_ROLES:
        raise problems.may_not_record_exceptions(principal.role)
    return await cadre.record(session, principal=principal, household_id=household_id, body=body)


@router.get("/cadre-exceptions")
async def list_cadre_exceptions(
    session: SessionDep,
    principal: PrincipalDep,
    county: Annotated[CountyCode | None, Query()] = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Page[CadreExceptionRead]:
    """R1: the exceptions of the counties in the caller's jurisdiction (of `county` when asked), by id."""
    after = decode_cursor(cursor, 1)
    return await cadre.listed(session, principal=principal, county=county, after=str(after[0]) if after else None,
                              limit=limit)


def _require_internal(principal: Principal) -> None:
    if principal.role not in INTERNAL_ROLES:
        raise problems.internal_only()


@internal.get("/households/{household_id}")
async def internal_household(
    household_id: HouseholdId, session: SessionDep, principal: PrincipalDep
) -> HouseholdInternal:
    _require_internal(principal)
    household = await repository.find_household(session, household_id)
    if household is None:
        raise problems.household_not_found(household_id)
    return service.internal_of(household)


@internal.post("/households/lookup", openapi_extra=unaudited(reads_only=True))
async def internal_lookup(body: LookupRequest, session: SessionDep, principal: PrincipalDep) -> LookupResult:
    _require_internal(principal)
    found = {h.household_id: h for h in await repository.lookup(session, body.household_ids)}
    wanted = list(dict.fromkeys(body.household_ids))
    return LookupResult(
        items=[service.internal_of(found[i]) for i in wanted if i in found],
        missing=[i for i in wanted if i not in found],
    )


@internal.get("/households/{household_id}/status-at")
async def internal_status_at(
    household_id: HouseholdId, on: Annotated[date, Query()], session: SessionDep, principal: PrincipalDep
) -> StatusAt:
    _require_internal(principal)
    status = await service.status_at(session, household_id=household_id, on=on)
    if status is None:
        raise problems.not_registered_on(household_id, on)
    return status


@internal.get("/households/{household_id}/eligibility")
async def internal_eligibility(
    household_id: HouseholdId,
    session: SessionDep,
    principal: PrincipalDep,
    on: Annotated[Day | None, Query(description="YYYY-MM-DD; default the current roster")] = None,
) -> Eligibility:
    """L1, P3, F10: whether the household may receive poverty support on `on`, and why not. Always 200: a household
    not on the roster that day is `not_registered`, a reason like the others."""
    _require_internal(principal)
    [answer] = await service.eligibility(session, queries=[(household_id, on)])
    return answer


@internal.post("/households/eligibility", openapi_extra=unaudited(reads_only=True))
async def internal_eligibilities(
    body: EligibilityRequest, session: SessionDep, principal: PrincipalDep
) -> EligibilityResult:
    """The same for up to 1000 (household, date) pairs at once (the F10 and INELIGIBLE_BORROWER scans), in order."""
    _require_internal(principal)
    queries = [(item.household_id, item.on) for item in body.items]
    return EligibilityResult(items=await service.eligibility(session, queries=queries))


@internal.post("/households/ineligible", openapi_extra=unaudited(reads_only=True))
async def internal_ineligible(
    body: IneligibleRequest, session: SessionDep, principal: PrincipalDep
) -> IneligibleResult:
    """The households on the roster on `on` that are not eligible then (not_poor, village cadre), a page at a time
    by household id (the INELIGIBLE_BORROWER scan: a few calls instead of one per thousand borrowing households)."""
    _require_internal(principal)
    items, next_after = await service.ineligible(session, on=body.on, after=body.after, limit=body.limit)
    return IneligibleResult(items=items, next_after=next_after)


@internal.post("/households/changed", openapi_extra=unaudited(reads_only=True))
async def internal_changed(body: ChangedRequest, session: SessionDep, principal: PrincipalDep) -> ChangedResult:
    """The households whose standing on some day may have changed since the registry's transaction `since` (a
    status or cadre change, a cadre exception, a registration recorded then, back-dated or not), a page by household
    id: what F10's incremental run asks, to judge again only their payments; with the transaction to ask from next."""
    _require_internal(principal)
    items, next_after, read_from = await service.changed(session, since=body.since, after=body.after,
                                                         limit=body.limit)
    return ChangedResult(items=items, next_after=next_after, read_from=read_from)
