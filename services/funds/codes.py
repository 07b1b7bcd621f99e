"""Error codes and alert types of the funds service (API.md "Funds"), used by code and tests alike."""

from __future__ import annotations

from datetime import timedelta

from services.kernel.throttle import RefusalLimit, Window

# Rule codes (API.md)
BLOCK_GRANT_DESIGNATED_PROJECT = "BLOCK_GRANT_DESIGNATED_PROJECT"  # F1, 422
BLOCK_GRANT_UNRELATED_TASK = "BLOCK_GRANT_UNRELATED_TASK"  # F1, 422
INSUFFICIENT_FUNDS = "INSUFFICIENT_FUNDS"  # 409
ALLOCATION_DIRECTION = "ALLOCATION_DIRECTION"  # 422
PROJECT_NOT_IN_LIBRARY = "PROJECT_NOT_IN_LIBRARY"  # F4, 422
OVER_PROJECT_BUDGET = "OVER_PROJECT_BUDGET"  # F4, 422
OVER_ARRANGED = "OVER_ARRANGED"  # 422
NEGATIVE_LIST = "NEGATIVE_LIST"  # F5, 422
PAYEE_NOT_HOUSEHOLD_ACCOUNT = "PAYEE_NOT_HOUSEHOLD_ACCOUNT"  # F6, 422
DUPLICATE_DOCUMENT = "DUPLICATE_DOCUMENT"  # 409

# Codes of this service beyond API.md
UNKNOWN_FUND_SOURCE = "UNKNOWN_FUND_SOURCE"  # 422: the fund source is not in the reference data
COUNTY_NOT_REGISTERED = "COUNTY_NOT_REGISTERED"  # 422: register a county (poor, pilot) first
PROJECT_NOT_IN_PROGRESS = "PROJECT_NOT_IN_PROGRESS"  # 422: payments only to a project under implementation
ALREADY_REVERSED = "ALREADY_REVERSED"  # 409: a record is reversed at most once
REVERSAL_NOT_REVERSIBLE = "REVERSAL_NOT_REVERSIBLE"  # 422: a compensating entry is not itself reversed
NOT_REVERSIBLE = "NOT_REVERSIBLE"  # 404-like: no record with that id
PAYEE_NOT_IN_COUNTY = "PAYEE_NOT_IN_COUNTY"  # S9, 422: a household payee not on the project's county's roster
RISK_MOVE_CONFLICT = "RISK_MOVE_CONFLICT"  # 409 (internal, issue #18): a risk-fund move id already moved otherwise

# Alert types
IDLE_FUNDS = "IDLE_FUNDS"  # F3
GROWTH_BELOW_AVERAGE = "GROWTH_BELOW_AVERAGE"  # F2
LATE_PASS_DOWN = "LATE_PASS_DOWN"  # F9
DUPLICATE_PAYMENT = "DUPLICATE_PAYMENT"  # F8/F10
INELIGIBLE_PAYEE = "INELIGIBLE_PAYEE"  # F10
ID_ENUMERATION_SUSPECTED = "ID_ENUMERATION_SUSPECTED"  # S6 (A5): a principal's payee refusals at the limit

# S6 (A5): a household's 一卡通 account is shown masked; refusals of household payees (not of the county, not its
# account) are counted per principal, and 30 of them within 10 minutes, or 100 within a day, raise
# ID_ENUMERATION_SUSPECTED and make the principal's further household payments 429 RATE_LIMITED, unjudged, until they
# age out.
PAYEE_REFUSALS = frozenset({PAYEE_NOT_HOUSEHOLD_ACCOUNT, PAYEE_NOT_IN_COUNTY})
PAYEE_CHECKS = RefusalLimit(
    kind="household_payee", windows=(Window(30, timedelta(minutes=10)), Window(100, timedelta(days=1))),
    alert_type=ID_ENUMERATION_SUSPECTED, rule="S6", what_zh="农户收款核验", what_en="household payee checks",
)

LIBRARY_STATUSES = frozenset({"approved", "in_progress"})  # F4: approved into the library (入库) or being built

# F10: the registry decides who may receive (its internal eligibility API); the reasons it gives that F10 names
REGISTRY_NOT_REGISTERED = "not_registered"
REGISTRY_VILLAGE_CADRE = "village_cadre"

LATE_PASS_DOWN_DAYS = 30  # F9 (国办发〔2016〕22号)
DUPLICATE_PAYMENT_DAYS = 30
