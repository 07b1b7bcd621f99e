"""Thin handlers of a project's contracts and the county's tender threshold (P8, P9; issue #17 point 2), and the
internal API funds pays a contract through (F11)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

from services.kernel.routers import internal_api_router, service_router
from services.kernel.types import CountyCode
from services.kernel.uow import PrincipalDep, SessionDep
from services.projects import contracts
from services.projects.contract_schemas import (
    ContractCreate,
    ContractInternal,
    ContractRead,
    TenderThresholdCreate,
    TenderThresholdRead,
    TenderThresholdsRead,
)

router = service_router("/projects", tags=["projects"])
internal_router = internal_api_router("/internal/projects")


@router.post("/tender-thresholds", status_code=201, response_model=TenderThresholdRead)
async def publish_threshold(
    body: TenderThresholdCreate, session: SessionDep, principal: PrincipalDep
) -> TenderThresholdRead:
    return await contracts.publish_threshold(session, principal, body)


@router.get("/tender-thresholds/{county_code}", response_model=TenderThresholdsRead)
async def get_thresholds(
    county_code: Annotated[CountyCode, Path()], session: SessionDep, principal: PrincipalDep
) -> TenderThresholdsRead:
    return await contracts.thresholds(session, principal, county_code)


@router.post("/{project_id}/contracts", status_code=201, response_model=ContractRead)
async def record_contract(
    project_id: str, body: ContractCreate, session: SessionDep, principal: PrincipalDep
) -> ContractRead:
    return await contracts.record_contract(session, principal, project_id, body)


@router.get("/{project_id}/contracts", response_model=list[ContractRead])
async def list_contracts(project_id: str, session: SessionDep, principal: PrincipalDep) -> list[ContractRead]:
    return await contracts.list_contracts(session, principal, project_id)


@internal_router.get("/{project_id}/contracts/{contract_id}", response_model=ContractInternal)
async def internal_contract(project_id: str, contract_id: str, session: SessionDep) -> ContractInternal:
    return await contracts.contract_internal(session, project_id, contract_id)
