"""The basis of every payment (F11-F14; issue #17 points 2 and 8), as the disbursement (spending.py) applies it, and
the counties' subsidy standards (分类补助标准, F13).

A payment is judged in three steps: `check_named` before anything is locked (what the body says, and F14 on the
project's status), `check_left` once the project's accounts are locked (what the contract, or the household's
subsidy category this year, leaves: a lock per contract and per household and category makes two concurrent
payments wait for each other, so both cannot pass), and `record` with the payment.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from services.funds import basis_rules
from services.funds.basis_rules import Standard
from services.funds.basis_schemas import PaymentBasisRead, SubsidyStandardCreate, SubsidyStandardRead
from services.funds.clients import Contract, Project, Projects
from services.funds.models import SubsidyStandard
from services.funds.repository import bases
from services.funds.schemas import DisbursementCreate
from services.kernel.identity import Principal
from services.kernel.ids import new_id
from services.kernel.scope import check_covers, scope_prefix


async def fetch_contract(projects: Projects, body: DisbursementCreate) -> Contract | None:
    """The contract an enterprise payment names, asked of the projects service before anything is locked."""
    if body.payee.kind != "enterprise" or body.contract_id is None:
        return None
    return await projects.get_contract(body.project_id, body.contract_id)


def check_named(body: DisbursementCreate, project: Project | None, contract: Contract | None) -> None:
    """F14 on the project's status, then F11/F12 on what the body names, and the contract's own facts (F11)."""
    basis_rules.check_payable(project, project_id=body.project_id, contract_id=body.contract_id,
                              stage=body.contract_stage)
    basis_rules.check_basis_named(payee_kind=body.payee.kind, contract_id=body.contract_id,
                                  contract_stage=body.contract_stage, basis=body.basis)
    if body.contract_id is not None:
        basis_rules.check_contract_of(contract, contract_id=body.contract_id, project_id=body.project_id,
                                      payee_id=body.payee.id)


async def _standard(session: AsyncSession, *, county_code: str, category: str, on: date) -> Standard | None:
    rows = await bases.standards(session, county_code=county_code, category=category)
    return basis_rules.standard_in_force((Standard(r.amount_fen, r.effective_on, r.id) for r in rows), on)


async def check_left(session: AsyncSession, body: DisbursementCreate, *, county_code: str,
                     contract: Contract | None, on: date) -> None:
    """F11: within what the contract leaves; F13: within the household's standard for the year."""
    if contract is not None:
        await bases.lock(session, f"contract:{contract['county_code']}:{contract['id']}")
        paid = await bases.contract_paid(session, county_code=county_code, contract_id=contract["id"])
        basis_rules.check_within_contract(contract_id=contract["id"], contract_fen=int(contract["amount_fen"]),
                                          paid_fen=paid, amount_fen=body.amount_fen)
    basis = body.basis
    if basis is not None and basis.kind == "subsidy" and basis.category is not None:
        await bases.lock(session, f"subsidy:{county_code}:{body.payee.id}:{basis.category}")
        standard = await _standard(session, county_code=county_code, category=basis.category, on=on)
        paid = await bases.subsidy_paid(session, county_code=county_code, payee_id=body.payee.id,
                                        category=basis.category, year=on.year)
        basis_rules.check_within_standard(standard, county_code=county_code, category=basis.category,
                                          paid_fen=paid, amount_fen=body.amount_fen)


def stage_of(body: DisbursementCreate) -> str | None:
    """The stage of a contract payment (progress unless it says retention or final, F14); None for a household."""
    return (body.contract_stage or "progress") if body.contract_id is not None else None


async def record(session: AsyncSession, body: DisbursementCreate, *, disbursement_id: str, county_code: str,
                 on: date) -> PaymentBasisRead:
    """The payment's basis, recorded with it (what F11 and F13 sum next time)."""
    basis = body.basis
    kind = "contract" if body.contract_id is not None else (basis.kind if basis is not None else "other")
    category = basis.category if basis is not None and basis.kind == "subsidy" else None
    reason = basis.reason if basis is not None else None
    await bases.insert_basis(
        session, county_code=county_code, disbursement_id=disbursement_id, project_id=body.project_id,
        payee_id=body.payee.id, amount_fen=body.amount_fen, paid_on=on, basis_kind=kind,
        contract_id=body.contract_id,
        contract_stage=stage_of(body),
        subsidy_category=category, reason=reason,
    )
    return PaymentBasisRead(kind=kind, category=category, reason=reason)


def _read_standard(r: SubsidyStandard) -> SubsidyStandardRead:
    return SubsidyStandardRead(id=r.id, county_code=r.county_code, category=r.category, amount_fen=r.amount_fen,
                               effective_on=r.effective_on, doc_no=r.doc_no)


async def publish_standard(
    session: AsyncSession, *, principal: Principal, body: SubsidyStandardCreate
) -> SubsidyStandardRead:
    """F13: the county publishes a standard (a new version; the earlier ones are kept)."""
    check_covers(principal, body.county_code, field="county_code")
    row = SubsidyStandard(county_code=body.county_code, id=new_id("sst"), category=body.category,
                          amount_fen=body.amount_fen, effective_on=body.effective_on, doc_no=body.doc_no,
                          created_by=principal.id)
    await bases.insert_standard(session, row)
    return _read_standard(row)


async def list_standards(
    session: AsyncSession, *, principal: Principal, county: str | None
) -> list[SubsidyStandardRead]:
    """Every version published under the caller's jurisdiction (and `county`), newest first."""
    prefix = scope_prefix(principal, county, field="county")
    return [_read_standard(r) for r in await bases.standards_within(session, prefix=prefix)]
