"""A project's contracts (P8) and the county's tender threshold (P9); issue #17 point 2, seed 003 ("招投标…'五到县'").

Funds pays an enterprise against one of these contracts (F11): it asks `contract_internal` over the internal API.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel import clock
from services.kernel.identity import Principal
from services.kernel.ids import new_id
from services.kernel.scope import check_covers
from services.projects import contract_rules, problems, repository
from services.projects.contract_rules import Threshold
from services.projects.contract_schemas import (
    ContractCreate,
    ContractInternal,
    ContractRead,
    TenderThresholdCreate,
    TenderThresholdRead,
    TenderThresholdsRead,
)
from services.projects.models import Contract, TenderThreshold


def _read(contract: Contract) -> ContractRead:
    return ContractRead.model_validate(contract, from_attributes=True)


async def record_contract(
    session: AsyncSession, principal: Principal, project_id: str, body: ContractCreate
) -> ContractRead:
    """P8: the project's row is locked first, so two contracts recorded at once cannot both pass its budget."""
    project = await repository.get_project(session, principal, project_id, for_update=True)
    contract_rules.check_contracting(project.status)
    contract_rules.check_direct_award_reason(body.tender_method, body.direct_award_reason)
    contracted = await repository.contracted_fen(session, county_code=project.county_code,
                                                          project_id=project.id)
    contract_rules.check_within_budget(budget_fen=project.budget_fen, contracted_fen=contracted,
                                       amount_fen=body.amount_fen)
    contract = Contract(
        county_code=project.county_code, id=new_id("ctr"), project_id=project.id, contract_no=body.contract_no,
        contractor_uscc=body.contractor_uscc, contractor_name=body.contractor_name, amount_fen=body.amount_fen,
        tender_method=body.tender_method,
        direct_award_reason=body.direct_award_reason if body.tender_method == "direct_award" else None,
        signed_on=body.signed_on, principal_id=principal.id,
    )
    await repository.add_contract(session, contract)
    return _read(contract)


async def list_contracts(session: AsyncSession, principal: Principal, project_id: str) -> list[ContractRead]:
    project = await repository.get_project(session, principal, project_id)
    found = await repository.contracts_of(session, county_code=project.county_code, project_id=project.id)
    return [_read(c) for c in found]


async def contract_internal(session: AsyncSession, project_id: str, contract_id: str) -> ContractInternal:
    contract = await repository.find_contract(session, project_id=project_id, contract_id=contract_id)
    if contract is None:
        raise problems.contract_not_found(project_id, contract_id)
    return ContractInternal(id=contract.id, project_id=contract.project_id, county_code=contract.county_code,
                            contractor_uscc=contract.contractor_uscc, amount_fen=contract.amount_fen)


def _threshold_read(county_code: str, threshold: Threshold) -> TenderThresholdRead:
    return TenderThresholdRead(id=threshold.id, county_code=county_code, amount_fen=threshold.amount_fen,
                               effective_on=threshold.effective_on, doc_no=threshold.doc_no,
                               default=threshold.id is None)


def _version(row: TenderThreshold) -> Threshold:
    return Threshold(row.amount_fen, row.effective_on, id=row.id, doc_no=row.doc_no)


async def publish_threshold(
    session: AsyncSession, principal: Principal, body: TenderThresholdCreate
) -> TenderThresholdRead:
    """P9: a county's tender threshold, published as a new version (the earlier ones are kept)."""
    check_covers(principal, body.county_code, field="county_code")
    row = TenderThreshold(county_code=body.county_code, id=new_id("tth"), amount_fen=body.amount_fen,
                          effective_on=body.effective_on, doc_no=body.doc_no, principal_id=principal.id)
    await repository.add(session, row)
    return _threshold_read(body.county_code, _version(row))


async def thresholds(session: AsyncSession, principal: Principal, county_code: str) -> TenderThresholdsRead:
    check_covers(principal, county_code, field="county_code")
    versions = [_version(r) for r in await repository.thresholds_of(session, [county_code])]
    in_force = contract_rules.threshold_in_force(versions, clock.today())
    return TenderThresholdsRead(in_force=_threshold_read(county_code, in_force),
                                versions=[_threshold_read(county_code, v) for v in reversed(versions)])
