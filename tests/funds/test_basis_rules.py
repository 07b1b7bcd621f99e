"""The rules of a payment's basis as pure functions (F11-F14), both sides of each, without a database."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from services.funds import basis_rules, codes
from services.funds.basis_rules import Standard
from services.funds.basis_schemas import PaymentBasis
from services.kernel.errors import Problem


def refused(fn: Any, *args: Any, **kwargs: Any) -> tuple[str, str | None, str | None] | None:
    try:
        fn(*args, **kwargs)
    except Problem as problem:
        return problem.code, problem.field, problem.rule
    return None


@pytest.mark.parametrize(("status", "contract_id", "stage", "expected"), [
    ("in_progress", None, None, None),
    ("in_progress", "ctr", "retention", None),
    ("accepted", "ctr", "retention", None),
    ("accepted", "ctr", "final", None),
    ("accepted", "ctr", "progress", (codes.PROJECT_NOT_IN_PROGRESS, "contract_stage", "F14")),
    ("accepted", "ctr", None, (codes.PROJECT_NOT_IN_PROGRESS, "project_id", "F14")),
    ("accepted", None, "final", (codes.PROJECT_NOT_IN_PROGRESS, "contract_stage", "F14")),
    ("completed", "ctr", "final", (codes.PROJECT_NOT_IN_PROGRESS, "contract_stage", "F14")),
    ("approved", "ctr", "final", (codes.PROJECT_NOT_IN_PROGRESS, "project_id", None)),
])
def test_f14_what_a_project_pays_by_its_status(status: str, contract_id: str | None, stage: str | None,
                                               expected: tuple[str, str, str | None] | None) -> None:
    project = {"status": status}
    assert refused(basis_rules.check_payable, project, project_id="p", contract_id=contract_id,
                   stage=stage) == expected


def test_f14_an_unknown_project_is_not_in_the_library() -> None:
    found = refused(basis_rules.check_payable, None, project_id="p", contract_id=None, stage=None)
    assert found is not None and found[0] == codes.PROJECT_NOT_IN_LIBRARY


@pytest.mark.parametrize(("kind", "contract_id", "stage", "basis", "expected"), [
    ("enterprise", "ctr", None, None, None),
    ("enterprise", None, None, None, (codes.CONTRACT_REQUIRED, "contract_id", "F11")),
    ("enterprise", "ctr", None, {"kind": "wages"}, ("VALIDATION_ERROR", "basis", None)),
    ("household", None, None, {"kind": "wages"}, None),
    ("household", None, None, {"kind": "dividend"}, None),
    ("household", None, None, {"kind": "subsidy", "category": "产业奖补"}, None),
    ("household", None, None, {"kind": "other", "reason": "低保兜底"}, None),
    ("household", None, None, None, (codes.BASIS_REQUIRED, "basis", "F12")),
    ("household", None, None, {"kind": "subsidy"}, (codes.BASIS_REQUIRED, "basis.category", "F12")),
    ("household", None, None, {"kind": "other"}, (codes.BASIS_REQUIRED, "basis.reason", "F12")),
    ("household", "ctr", None, {"kind": "wages"}, ("VALIDATION_ERROR", "contract_id", None)),
    ("household", None, "final", {"kind": "wages"}, ("VALIDATION_ERROR", "contract_stage", None)),
])
def test_f11_f12_what_a_payment_names(kind: str, contract_id: str | None, stage: str | None,
                                      basis: dict[str, str] | None, expected: Any) -> None:
    stated = PaymentBasis.model_validate(basis) if basis is not None else None
    assert refused(basis_rules.check_basis_named, payee_kind=kind, contract_id=contract_id, contract_stage=stage,
                   basis=stated) == expected


def test_f11_the_contract_is_the_projects_and_the_payee_its_contractor() -> None:
    contract = {"project_id": "p1", "contractor_uscc": "A"}
    assert refused(basis_rules.check_contract_of, contract, contract_id="c", project_id="p1", payee_id="A") is None
    assert refused(basis_rules.check_contract_of, contract, contract_id="c", project_id="p2", payee_id="A") == (
        codes.CONTRACT_NOT_FOUND, "contract_id", "F11")
    assert refused(basis_rules.check_contract_of, None, contract_id="c", project_id="p1", payee_id="A") == (
        codes.CONTRACT_NOT_FOUND, "contract_id", "F11")
    assert refused(basis_rules.check_contract_of, contract, contract_id="c", project_id="p1", payee_id="B") == (
        codes.CONTRACT_PAYEE_MISMATCH, "payee.id", "F11")


def test_f11_within_what_the_contract_leaves() -> None:
    assert refused(basis_rules.check_within_contract, contract_id="c", contract_fen=100, paid_fen=60,
                   amount_fen=40) is None
    assert refused(basis_rules.check_within_contract, contract_id="c", contract_fen=100, paid_fen=60,
                   amount_fen=41) == (codes.CONTRACT_EXCEEDED, "amount_fen", "F11")


def test_f13_the_standard_in_force_is_the_latest_effective_by_the_day() -> None:
    first = Standard(3_000, date(2018, 1, 1), "s1")
    later = Standard(5_000, date(2019, 6, 1), "s2")
    same_day = Standard(4_000, date(2019, 6, 1), "s3")  # published after s2, effective the same day
    versions = [first, later, same_day]
    assert basis_rules.standard_in_force(versions, date(2017, 12, 31)) is None
    assert basis_rules.standard_in_force(versions, date(2019, 5, 31)) == first
    assert basis_rules.standard_in_force(versions, date(2019, 6, 1)) == same_day
    assert basis_rules.standard_in_force([later, first], date(2020, 1, 1)) == later  # order published, not effective


def test_f13_within_the_standard() -> None:
    standard = Standard(3_000, date(2018, 1, 1), "s1")
    ok = refused(basis_rules.check_within_standard, standard, county_code="c", category="k", paid_fen=2_000,
                 amount_fen=1_000)
    assert ok is None
    assert refused(basis_rules.check_within_standard, standard, county_code="c", category="k", paid_fen=2_000,
                   amount_fen=1_001) == (codes.SUBSIDY_ABOVE_STANDARD, "amount_fen", "F13")
    assert refused(basis_rules.check_within_standard, None, county_code="c", category="k", paid_fen=0,
                   amount_fen=1) == (codes.SUBSIDY_STANDARD_MISSING, "basis.category", "F13")
