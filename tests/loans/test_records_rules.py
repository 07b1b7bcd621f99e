"""records_rules (L14–L19) without a database: each rule on both sides."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from services.kernel.errors import Problem
from services.loans import codes, records_rules
from services.loans.records_rules import AgreementTerms, OldLoan
from services.loans.rules import Eligibility


def refused(code: str, check: Callable[..., Any], *args: Any, **kwargs: Any) -> Problem:
    with pytest.raises(Problem) as raised:
        check(*args, **kwargs)
    assert raised.value.code == code, raised.value.detail
    return raised.value


OLD = OldLoan(loan_id="loan_1", household_id="HH1", issued_on=date(2018, 3, 1), amount_fen=1_000, renewed=False)


def test_renewal() -> None:
    records_rules.check_renewal(OLD, household_id="HH1", issued_on=date(2019, 3, 1), repaid_by_issue_fen=1_000)
    refused(codes.RENEWAL_EXISTS, records_rules.check_renewal, OldLoan(**{**OLD.__dict__, "renewed": True}),
            household_id="HH1", issued_on=date(2019, 3, 1), repaid_by_issue_fen=1_000)
    refused(codes.RENEWAL_OTHER_HOUSEHOLD, records_rules.check_renewal, OLD, household_id="HH2",
            issued_on=date(2019, 3, 1), repaid_by_issue_fen=1_000)
    refused(codes.RENEWAL_NOT_LATER, records_rules.check_renewal, OLD, household_id="HH1",
            issued_on=date(2018, 3, 1), repaid_by_issue_fen=1_000)
    owing = refused(codes.RENEWAL_OLD_LOAN_OUTSTANDING, records_rules.check_renewal, OLD, household_id="HH1",
                    issued_on=date(2019, 3, 1), repaid_by_issue_fen=999)
    assert owing.extra["outstanding_fen"] == 1


def test_extension_date() -> None:
    records_rules.check_extension_date(date(2018, 3, 1), date(2018, 3, 1))
    refused(codes.EXTENSION_BEFORE_ISSUE, records_rules.check_extension_date, date(2018, 3, 1), date(2018, 2, 28))


def test_agreement() -> None:
    terms = AgreementTerms(date(2018, 3, 1), "93X")
    records_rules.check_agreement("cooperative", terms, cooperative_uscc="93X", issued_on=date(2018, 3, 1))
    records_rules.check_agreement("self", None, cooperative_uscc=None, issued_on=date(2018, 3, 1))
    cases = ((None, "agreement"), (AgreementTerms(date(2018, 3, 1), "93Y"), "agreement.cooperative_uscc"),
             (AgreementTerms(date(2018, 3, 2), "93X"), "agreement.signed_on"))
    for agreement, field in cases:
        problem = refused(codes.LOAN_AGREEMENT_MISSING, records_rules.check_agreement, "cooperative", agreement,
                          cooperative_uscc="93X", issued_on=date(2018, 3, 1))
        assert (problem.field, problem.rule) == (field, "L15")


def test_partners() -> None:
    records_rules.check_partners_named("partnership", ["HH2"], "HH1")
    records_rules.check_partners_named("self", [], "HH1")
    refused(codes.LOAN_PARTNERS_MISSING, records_rules.check_partners_named, "partnership", [], "HH1")
    assert refused(codes.LOAN_PARTNERS_MISSING, records_rules.check_partners_named, "partnership", ["HH2", "HH1"],
                   "HH1").field == "partners.1"
    on = Eligibility("HH2", (), "poor", False)
    exited_elsewhere = Eligibility("HH3", ("not_poor",), "exited", False)  # on the roster: a partner need not be poor
    records_rules.check_partners_registered(["HH2", "HH3"], {"HH2": on, "HH3": exited_elsewhere}, date(2018, 3, 1))
    absent = Eligibility("HH4", (codes.REGISTRY_NOT_REGISTERED,), None, None)
    assert refused(codes.PARTNER_NOT_REGISTERED, records_rules.check_partners_registered, ["HH2", "HH4"],
                   {"HH2": on, "HH4": absent}, date(2018, 3, 1)).field == "partners.1"


def test_return_and_its_window() -> None:
    records_rules.check_return("cooperative", issued_on=date(2018, 3, 1), paid_on=date(2018, 3, 1))
    refused(codes.LOAN_NOT_COOPERATIVE, records_rules.check_return, "self", issued_on=date(2018, 3, 1),
            paid_on=date(2019, 3, 1))
    refused(codes.RETURN_BEFORE_ISSUE, records_rules.check_return, "cooperative", issued_on=date(2018, 3, 1),
            paid_on=date(2018, 2, 28))
    assert records_rules.no_return_since(date(2019, 3, 2)) == date(2018, 3, 2)
    assert records_rules.no_return_since(date(2020, 2, 29)) == date(2019, 2, 28)


def test_product_names() -> None:
    gansu = records_rules.official_names("620000", ())
    assert gansu == (codes.PRODUCT_NAME, "精准扶贫专项贷款")
    records_rules.check_product_name("精准扶贫专项贷款", gansu)
    refused(codes.LOAN_PRODUCT_RENAMED, records_rules.check_product_name, "扶贫小额贷款", gansu)
    registered = records_rules.official_names("440000", ["粤扶贷", codes.PRODUCT_NAME])
    assert registered == (codes.PRODUCT_NAME, "粤扶贷")
    assert records_rules.province_of("620102") == "620000"
