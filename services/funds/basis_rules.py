"""The basis of every payment as pure functions (issue #17 points 2 and 8): F11 an enterprise is paid against its
contract, within what it leaves; F12 a household is paid on a stated basis, never as a direct cash handout (seed 003
"原则上不直接发钱发物"); F13 a 奖补 stays within the county's published standard (seed 003 "分类制定资金补助标准");
F14 after completion only retention money and final payments (质保金, 尾款) against a contract, once accepted."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from services.funds import codes, problems, rules
from services.funds.basis_schemas import PaymentBasis


def check_payable(project: Mapping[str, Any] | None, *, project_id: str, contract_id: str | None,
                  stage: str | None) -> None:
    """F14: a project under implementation is paid; an accepted one only retention money or a final payment
    against a contract; any other (not yet started, completed awaiting acceptance, closed) nothing."""
    if project is not None and project["status"] in ("completed", "accepted"):
        if project["status"] == "accepted" and contract_id is not None and stage in codes.AFTER_ACCEPTANCE_STAGES:
            return
        raise problems.not_payable_after_acceptance(project_id, project["status"], stage)
    rules.check_project_in_progress(project, project_id=project_id)


def check_basis_named(*, payee_kind: str, contract_id: str | None, contract_stage: str | None,
                      basis: PaymentBasis | None) -> None:
    """F11: an enterprise names its contract (and no household basis); F12: a household names its basis (and no
    contract), a subsidy its category, `other` its reason."""
    if payee_kind == "enterprise":
        if contract_id is None:
            raise problems.contract_required()
        if basis is not None:
            raise problems.enterprise_basis()
        return
    if contract_id is not None:
        raise problems.household_contract("contract_id")
    if contract_stage is not None:
        raise problems.household_contract("contract_stage")
    if basis is None:
        raise problems.basis_required()
    if basis.kind == "subsidy" and basis.category is None:
        raise problems.basis_required("basis.category", "；奖补须指明补助类别 / a subsidy names its category")
    if basis.kind == "other" and not (basis.reason or "").strip():
        raise problems.basis_required("basis.reason", "；其他须说明理由 / other states its reason")


def check_contract_of(contract: Mapping[str, Any] | None, *, contract_id: str, project_id: str,
                      payee_id: str) -> None:
    """F11: the contract is one of this project's, and the payee is its contractor."""
    if contract is None or contract["project_id"] != project_id:
        raise problems.contract_not_found(contract_id, project_id)
    if contract["contractor_uscc"] != payee_id:
        raise problems.contract_payee_mismatch(contract_id)


def check_within_contract(*, contract_id: str, contract_fen: int, paid_fen: int, amount_fen: int) -> None:
    """F11: what a contract has paid (net of reversals) and this payment together stay within its amount."""
    if paid_fen + amount_fen > contract_fen:
        raise problems.contract_exceeded(contract_id=contract_id, contract_fen=contract_fen, paid_fen=paid_fen,
                                         amount_fen=amount_fen)


@dataclass(frozen=True)
class Standard:
    amount_fen: int
    effective_on: date
    id: str


def standard_in_force(versions: Iterable[Standard], on: date) -> Standard | None:
    """F13: the latest standard effective by `on` (versions in the order published: of two effective the same day,
    the later published), or None."""
    in_force: Standard | None = None
    for version in versions:
        if version.effective_on <= on and (in_force is None or version.effective_on >= in_force.effective_on):
            in_force = version
    return in_force


def check_within_standard(standard: Standard | None, *, county_code: str, category: str, paid_fen: int,
                          amount_fen: int) -> None:
    """F13: a household's 奖补 of a category in a calendar year stays within the standard in force on the day paid."""
    if standard is None:
        raise problems.subsidy_standard_missing(county_code, category)
    if paid_fen + amount_fen > standard.amount_fen:
        raise problems.subsidy_above_standard(category=category, standard_fen=standard.amount_fen, paid_fen=paid_fen,
                                              amount_fen=amount_fen)
