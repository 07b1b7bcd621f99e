"""Thin handlers of the oversight API (docs/api.md "Oversight"): cases from alert to accountability."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from services.kernel.evidence import EvidenceRef, EvidenceStore, StoredEvidence
from services.kernel.evidence_api import evidence_router
from services.kernel.evidence_config import get_evidence_store
from services.kernel.pagination import DEFAULT_LIMIT, CursorQuery, LimitQuery, Page
from services.kernel.routers import service_router
from services.kernel.types import AnyRegionCode, Day, RegionCode
from services.kernel.uow import (
    BriefReadsDep,
    PrincipalDep,
    SessionDep,
    UnitOfWorkRoute,
    brief_session,
    get_session,
    principal_of,
)
from services.oversight import service
from services.oversight.clients import LookupsDep
from services.oversight.schemas import (
    AccountabilityIn,
    AssignIn,
    CaseOpen,
    CaseRead,
    ComplaintIn,
    ComplaintRead,
    ComplaintReceipt,
    DecisionIn,
    RectificationIn,
    ReferIn,
    Report,
)

RegionQuery = Annotated[AnyRegionCode | None, Query(description="a region code inside the caller's jurisdiction")]

router = service_router("/oversight/cases", tags=["oversight"])
report_router = service_router("/oversight", tags=["oversight"])
complaints_router = service_router("/oversight/complaints", tags=["oversight"])
public_router = service_router("/public/complaints", tags=["public complaints"])


async def evidence_store() -> EvidenceStore:
    return get_evidence_store()


EvidenceDep = Annotated[EvidenceStore, Depends(evidence_store)]


async def _may_upload(request: Request) -> None:
    """Read before the document arrives, in a session given back at once (the upload's own connection is taken only
    once its body is whole: kernel/evidence_api.py)."""
    async with brief_session(request) as session:
        await service.may_upload(session, principal_of(request))


async def _describe(request: Request, sha256: str) -> EvidenceRef | None:
    return await service.cited_document(get_session(request), principal_of(request), sha256)


async def _record_upload(request: Request, stored: StoredEvidence) -> None:
    await service.record_upload(get_session(request), principal_of(request), stored.sha256)


def documents_router() -> APIRouter:
    """E1: the documents cases cite, uploaded before the move that cites them (and recorded as its uploader's) and
    read by whom sees such a case."""
    return evidence_router(get_evidence_store(), describe=_describe, authorize_upload=_may_upload,
                           record_upload=_record_upload,
                           prefix="/oversight/evidence", route_class=UnitOfWorkRoute, tags=["oversight"])


@router.post("", status_code=201, response_model=CaseRead)
async def open_case(body: CaseOpen, session: SessionDep, principal: PrincipalDep, lookups: LookupsDep) -> CaseRead:
    return await service.open_case(session, principal, body, lookups)


@router.get("", response_model=Page[CaseRead])
async def list_cases(
    session: SessionDep,
    principal: PrincipalDep,
    region: RegionQuery = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = DEFAULT_LIMIT,
) -> Page[CaseRead]:
    return await service.list_cases(session, principal, region=region, cursor=cursor, limit=limit)


@router.get("/{case_id}", response_model=CaseRead)
async def get_case(case_id: str, session: SessionDep, principal: PrincipalDep) -> CaseRead:
    return await service.get_case(session, principal, case_id)


@router.post("/{case_id}/assign", response_model=CaseRead)
async def assign(
    case_id: str, body: AssignIn, session: SessionDep, principal: PrincipalDep, lookups: LookupsDep
) -> CaseRead:
    return await service.assign(session, principal, case_id, body, lookups)


@router.post("/{case_id}/rectifications", response_model=CaseRead)
async def submit(
    case_id: str, body: RectificationIn, session: SessionDep, principal: PrincipalDep, store: EvidenceDep,
    lookups: LookupsDep, brief: BriefReadsDep,
) -> CaseRead:
    return await service.submit(session, principal, case_id, body, store, lookups, brief)


@router.post("/{case_id}/return", response_model=CaseRead)
async def return_(case_id: str, body: DecisionIn, session: SessionDep, principal: PrincipalDep) -> CaseRead:
    return await service.decide(session, principal, case_id, "return", body)


@router.post("/{case_id}/accept", response_model=CaseRead)
async def accept(case_id: str, body: DecisionIn, session: SessionDep, principal: PrincipalDep) -> CaseRead:
    return await service.decide(session, principal, case_id, "accept", body)


@router.post("/{case_id}/close", response_model=CaseRead)
async def close(case_id: str, body: DecisionIn, session: SessionDep, principal: PrincipalDep) -> CaseRead:
    return await service.decide(session, principal, case_id, "close", body)


@router.post("/{case_id}/refer", response_model=CaseRead)
async def refer(
    case_id: str, body: ReferIn, session: SessionDep, principal: PrincipalDep, lookups: LookupsDep,
    store: EvidenceDep, brief: BriefReadsDep,
) -> CaseRead:
    return await service.refer(session, principal, case_id, body, lookups, store, brief)


@router.post("/{case_id}/accountability", status_code=201, response_model=CaseRead)
async def accountability(
    case_id: str, body: AccountabilityIn, session: SessionDep, principal: PrincipalDep, store: EvidenceDep,
    brief: BriefReadsDep,
) -> CaseRead:
    return await service.record_accountability(session, principal, case_id, body, store, brief)


@report_router.get("/report", response_model=Report)
async def get_report(
    session: SessionDep,
    principal: PrincipalDep,
    start: Annotated[Day, Query(alias="from", description="the first day cases were opened on (in China)")],
    end: Annotated[Day, Query(alias="to", description="the last day; figures stand at its end")],
    region: Annotated[RegionCode | None, Query(description="a region the caller covers; default its own")] = None,
) -> Report:
    """O11: an inspection office's figures, by responsible organisation."""
    return await service.report(session, principal, region=region, start=start, end=end)
@public_router.post("", status_code=201, response_model=ComplaintReceipt)
async def complain(body: ComplaintIn, session: SessionDep) -> ComplaintReceipt:
    """O12: 监督举报, no key needed; the answer is its reference, never its contact."""
    return await service.receive_complaint(session, body)


@complaints_router.get("/{complaint_id}", response_model=ComplaintRead)
async def get_complaint(complaint_id: str, session: SessionDep, principal: PrincipalDep) -> ComplaintRead:
    return await service.get_complaint(session, principal, complaint_id)
