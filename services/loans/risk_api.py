"""Thin handlers of the risk-compensation funds and compensation claims (issue #18, L7–L10): parse, call the
service (risk_funds.py, claims.py), answer (the unit of work commits)."""

from __future__ import annotations

from services.kernel.routers import service_router
from services.kernel.uow import BriefReadsDep, PrincipalDep, SessionDep
from services.loans import claims, risk_funds
from services.loans.clients import FundsDep
from services.loans.risk_schemas import (
    ClaimCreate,
    ClaimRead,
    CompensationRecoveryCreate,
    CompensationRecoveryRead,
    DecisionCreate,
    RiskFundCreate,
    RiskFundRead,
)

router = service_router("/loans", tags=["loans"])


@router.post("/risk-funds", status_code=201, response_model=RiskFundRead)
async def create_risk_fund(
    body: RiskFundCreate, session: SessionDep, principal: PrincipalDep, brief: BriefReadsDep, funds: FundsDep
) -> RiskFundRead:
    return await risk_funds.establish(session, brief, funds, principal, body)


@router.get("/risk-funds/{fund_id}", response_model=RiskFundRead)
async def get_risk_fund(fund_id: str, session: SessionDep, principal: PrincipalDep) -> RiskFundRead:
    return await risk_funds.read_fund(session, principal, fund_id)


@router.post("/{loan_id}/compensation-claims", status_code=201, response_model=ClaimRead)
async def create_claim(loan_id: str, body: ClaimCreate, session: SessionDep, principal: PrincipalDep) -> ClaimRead:
    return await claims.claim(session, principal, loan_id, body)


@router.get("/compensation-claims/{claim_id}", response_model=ClaimRead)
async def get_claim(claim_id: str, session: SessionDep, principal: PrincipalDep) -> ClaimRead:
    return await claims.read_claim(session, principal, claim_id)


@router.post("/compensation-claims/{claim_id}/approve", status_code=201, response_model=ClaimRead)
async def approve_claim(
    claim_id: str, body: DecisionCreate, session: SessionDep, principal: PrincipalDep, brief: BriefReadsDep,
    funds: FundsDep,
) -> ClaimRead:
    return await claims.decide(session, brief, funds, principal, claim_id, body, approve=True)


@router.post("/compensation-claims/{claim_id}/reject", status_code=201, response_model=ClaimRead)
async def reject_claim(
    claim_id: str, body: DecisionCreate, session: SessionDep, principal: PrincipalDep, brief: BriefReadsDep,
    funds: FundsDep,
) -> ClaimRead:
    return await claims.decide(session, brief, funds, principal, claim_id, body, approve=False)


@router.post("/compensation-claims/{claim_id}/recoveries", status_code=201,
             response_model=CompensationRecoveryRead)
async def create_recovery(
    claim_id: str, body: CompensationRecoveryCreate, session: SessionDep, principal: PrincipalDep, brief: BriefReadsDep,
    funds: FundsDep,
) -> CompensationRecoveryRead:
    return await claims.recover(session, brief, funds, principal, claim_id, body)
