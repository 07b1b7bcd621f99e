"""Thin handlers of issue #18's loan records (docs/api.md "Loans"): renewals, returns to households, the provinces'
product names, credit lines. Included before api.router, so `/loans/product-names` is not read as a loan id."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request
from pydantic import BaseModel

from services.kernel import clock
from services.kernel.outbox import name_entities
from services.kernel.routers import service_router
from services.kernel.uow import PrincipalDep, SessionDep
from services.loans import credit_lines, reads, records_service
from services.loans.clients import RegistryDep
from services.loans.problems import not_csv
from services.loans.records_schemas import (
    CreditImportResult,
    LoanRecords,
    ProductNameCreate,
    ProductNameRead,
    ProductNames,
    ProvinceCode,
    RenewalRead,
    ReturnCreate,
    ReturnRead,
)
from services.loans.schemas import LoanCreate, LoanDetail

router = service_router("/loans", tags=["loans"])

CSV_MEDIA_TYPES = frozenset({"text/csv", "application/csv", "text/plain"})
CSV_SCHEMA = {"type": "string", "pattern": f"^\\ufeff?{','.join(credit_lines.HEADER)}(\\r?\\n|$)"}
CSV_BODY = {"required": True, "content": {media: {"schema": CSV_SCHEMA} for media in sorted(CSV_MEDIA_TYPES)}}


class RenewalCreated(BaseModel):
    renewal: RenewalRead
    loan: LoanDetail


@router.get("/product-names", response_model=ProductNames)
async def get_product_names(
    session: SessionDep, province: Annotated[ProvinceCode, Query(description="a province's code (PP0000)")]
) -> ProductNames:
    names = await records_service.product_names(session, province)
    return ProductNames(province_code=province, names=list(names))


@router.post("/product-names", status_code=201, response_model=ProductNameRead)
async def create_product_name(body: ProductNameCreate, session: SessionDep, principal: PrincipalDep) -> ProductNameRead:
    name = await records_service.register_product_name(session, principal, body)
    return ProductNameRead(province_code=name.province_code, name=name.name)


@router.post("/credit-lines/import", response_model=CreditImportResult, openapi_extra={"requestBody": CSV_BODY})
async def import_credit_lines(
    request: Request, session: SessionDep, principal: PrincipalDep, registry: RegistryDep
) -> CreditImportResult:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in CSV_MEDIA_TYPES:
        raise not_csv(media_type)
    lines, rejected = credit_lines.parse(await request.body(), principal)
    registered = await credit_lines.on_roster(registry, lines)
    return await credit_lines.record(session, principal, lines, registered, rejected)


@router.post("/{loan_id}/renewals", status_code=201, response_model=RenewalCreated)
async def create_renewal(
    loan_id: str, body: LoanCreate, request: Request, session: SessionDep, principal: PrincipalDep,
    registry: RegistryDep,
) -> RenewalCreated:
    renewal, loan = await records_service.renew(session, registry, principal, loan_id, body)
    name_entities(request, [loan.household_id])
    return RenewalCreated(renewal=RenewalRead.model_validate(renewal, from_attributes=True),
                          loan=await reads.loan_detail(session, principal, loan.id, clock.today()))


@router.post("/{loan_id}/returns", status_code=201, response_model=ReturnRead)
async def create_return(loan_id: str, body: ReturnCreate, session: SessionDep, principal: PrincipalDep) -> ReturnRead:
    paid = await records_service.record_return(session, principal, loan_id, body)
    return ReturnRead.model_validate(paid, from_attributes=True)


@router.get("/{loan_id}/records", response_model=LoanRecords)
async def get_loan_records(loan_id: str, session: SessionDep, principal: PrincipalDep) -> LoanRecords:
    return await records_service.records(session, principal, loan_id)
