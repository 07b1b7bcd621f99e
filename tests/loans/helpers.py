"""Valid identity numbers and credit codes for loan tests (kernel check characters), and unique test data."""

from __future__ import annotations

import random
import secrets
from datetime import date
from typing import Any

from services.kernel.types import id_number_check_char, uscc_check_char
from services.loans.codes import PRODUCT_NAME


def id_number(county: str, birth: date, seq: int | None = None) -> str:
    seq = random.randint(100, 999) if seq is None else seq
    first17 = f"{county}{birth:%Y%m%d}{seq:03d}"
    return first17 + id_number_check_char(first17)


def credit_code(kind: str = "1") -> str:
    """`9` + kind (`1` enterprise, `3` farmers' cooperative) + 15 random characters + the check character."""
    first17 = f"9{kind}" + "".join(random.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(15))
    return first17 + uscc_check_char(first17)


def random_county() -> str:
    """A county code unlikely to collide with other tests' (province 43…, never ending in 00)."""
    return f"43{random.randint(10, 99)}{random.randint(1, 99):02d}"


def household_id() -> str:
    return f"HH{secrets.token_hex(6).upper()}"


def loan_body(household: str, borrower: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "household_id": household,
        "borrower_id_number": borrower,
        "lender_name": "县农商银行",
        "product_name": PRODUCT_NAME,
        "amount_fen": 3_000_000,
        "term_months": 36,
        "annual_rate_bp": 475,
        "benchmark_rate_bp": 475,
        "fees_fen": 0,
        "collateral_required": False,
        "guarantee_required": False,
        "mode": "self",
        "purpose": "breeding",
        "disbursement_account": {"holder_id_number": borrower, "account_no": "6230001234"},
        "issued_on": "2018-03-01",
    }
    body.update(overrides)
    if body["mode"] == "cooperative" and "agreement" not in overrides:
        # L15: a cooperative-mode loan carries its entrustment agreement with the loan's cooperative
        cooperative = body.get("cooperative_uscc") or body["disbursement_account"].get("holder_uscc")
        if cooperative is not None:
            body["agreement"] = agreement(cooperative)
    if "benchmark_rate_bp" not in overrides and body["term_months"] <= 12:
        # L2c: the official benchmark of 2015-10-24..2019-08-19 is 4.35 % up to one year (4.75 % beyond).
        body["benchmark_rate_bp"] = 435
        body["annual_rate_bp"] = min(body["annual_rate_bp"], 435)
    return body


def agreement(cooperative_uscc: str, **overrides: Any) -> dict[str, Any]:
    """L15: an entrustment agreement signed before the helper's issue date."""
    return {"signed_on": "2018-02-20", "cooperative_uscc": cooperative_uscc, "return_terms": "每年按入股金额 8% 分红",
            "annual_return_fen": 240_000, "document_sha256": "ab" * 32, **overrides}
