"""Request and response shapes of issue #18's loan records (docs/api.md "Loans": renewals, returns, product names,
credit lines); the agreement and partners a loan carries are part of LoanCreate (schemas.py)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, Field

from services.kernel.evidence import Sha256
from services.kernel.types import CreditCode, Fen, FenOrZero, Happened, Input, ShortText, Text

ProvinceCode = Annotated[str, Field(pattern=r"^[1-9][0-9]0000$", description="a province's code (PP0000)")]


class AgreementCreate(Input):
    """L15: the household's entrustment agreement (委托协议) with the cooperative managing a cooperative-mode loan."""

    signed_on: Happened
    cooperative_uscc: CreditCode
    return_terms: Text
    annual_return_fen: FenOrZero | None = None
    document_sha256: Sha256


class AgreementRead(BaseModel):
    signed_on: date
    cooperative_uscc: str
    return_terms: str
    annual_return_fen: int | None
    document_sha256: str


class RenewalRead(BaseModel):
    id: str
    old_loan_id: str
    new_loan_id: str
    household_id: str
    renewed_on: date


class ReturnCreate(Input):
    amount_fen: Fen
    paid_on: Happened


class ReturnRead(BaseModel):
    id: str
    loan_id: str
    household_id: str
    cooperative_uscc: str
    amount_fen: int
    paid_on: date


class ProductNameCreate(Input):
    province_code: ProvinceCode
    name: ShortText


class ProductNameRead(BaseModel):
    province_code: str
    name: str


class ProductNames(BaseModel):
    province_code: str
    names: list[str]


class CreditRejected(BaseModel):
    line: int
    code: str
    field: str | None = None


class CreditImportResult(BaseModel):
    imported: int
    rejected: list[CreditRejected]


class LoanRecords(BaseModel):
    """GET /loans/{id}/records: what issue #18 recorded around a loan."""

    loan_id: str
    renews_loan_id: str | None  # L14: the loan this one renewed
    renewed_by_loan_id: str | None  # L14: the loan that renewed this one
    agreement: AgreementRead | None  # L15
    partners: list[str]  # L16
    returns: list[ReturnRead]  # L17
