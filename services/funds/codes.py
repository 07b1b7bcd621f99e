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
NOT_REVERSIBLE = "NOT_REVERSIBLE"  # 422: a record corrected by its own flow (a risk fund's, a claim's, a dividend's)
PAYEE_NOT_IN_COUNTY = "PAYEE_NOT_IN_COUNTY"  # S9, 422: a household payee not on the project's county's roster
RISK_MOVE_CONFLICT = "RISK_MOVE_CONFLICT"  # 409 (internal, issue #18): a risk-fund move id already moved otherwise
CLAIM_VOIDED = "CLAIM_VOIDED"  # 409 (internal, issue #18, L9/L13): a claim voided (rejected) is never paid
CLAIM_ALREADY_PAID = "CLAIM_ALREADY_PAID"  # 409 (internal, issue #18, L9/L13): a claim paid is not voided

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

# The basis of every payment (issue #17 points 2 and 8; seed 003 "招投标…'五到县'", "原则上不直接发钱发物",
# "分类制定资金补助标准"): F11 an enterprise is paid against its contract, F12 a household on a stated basis, F13 a
# 奖补 within the county's published standard, F14 retention and final payments after acceptance
F11, F12, F13, F14 = "F11", "F12", "F13", "F14"
CONTRACT_REQUIRED = "CONTRACT_REQUIRED"  # 422 F11, field contract_id
CONTRACT_NOT_FOUND = "CONTRACT_NOT_FOUND"  # 422 F11, field contract_id: no such contract of the project
CONTRACT_PAYEE_MISMATCH = "CONTRACT_PAYEE_MISMATCH"  # 422 F11, field payee.id: not the contract's contractor
CONTRACT_EXCEEDED = "CONTRACT_EXCEEDED"  # 422 F11, field amount_fen: beyond what the contract leaves
BASIS_REQUIRED = "BASIS_REQUIRED"  # 422 F12, field basis (basis.category, basis.reason): no direct cash handout
SUBSIDY_STANDARD_MISSING = "SUBSIDY_STANDARD_MISSING"  # 422 F13, field basis.category: no standard in force
SUBSIDY_ABOVE_STANDARD = "SUBSIDY_ABOVE_STANDARD"  # 422 F13, field amount_fen
BASIS_KINDS = ("contract", "wages", "subsidy", "dividend", "other")
CONTRACT_STAGES = ("progress", "retention", "final")  # 进度款, 质保金, 尾款
AFTER_ACCEPTANCE_STAGES = frozenset({"retention", "final"})  # F14
# Concentration (issue #17 point 12, 垒大户 / 造盆景, DOMAIN P5 read for money): the multiple and the share are settings
# (FUNDTRACK_CONCENTRATION_MULTIPLE, default 5; FUNDTRACK_VILLAGE_SHARE_PERCENT, default 40)
# F21 (issue #17 point 10): a provincial fund source belongs to its province
F21 = "F21"
SOURCE_OUTSIDE_PROVINCE = "SOURCE_OUTSIDE_PROVINCE"  # 422 F21, field region_code
F19, F20 = "F19", "F20"  # docs/rules.md "Concentration"
HOUSEHOLD_CONCENTRATION = "HOUSEHOLD_CONCENTRATION"  # alert F19
VILLAGE_CONCENTRATION = "VILLAGE_CONCENTRATION"  # alert F20
# a median of fewer households, a share among fewer villages, says nothing yet (the first payments of a year)
CONCENTRATION_MIN_HOUSEHOLDS = 5
CONCENTRATION_MIN_VILLAGES = 3

# P12 (issue #17 point 3): an asset's dividend paid through the ledger (projects asks, POST /internal/dividends)
P12 = "P12"
ASSET_INCOME = "ASSET_INCOME"  # the fund source of an asset's income account (an external `budget` account)
DIVIDEND_KIND = "dividend"  # the transfers' kind
DIVIDEND_PAYEE_INELIGIBLE = "DIVIDEND_PAYEE_INELIGIBLE"  # 422 F10: a shareholder not eligible on the day paid
DIVIDEND_CONFLICT = "DIVIDEND_CONFLICT"  # 409: this dividend was paid already, with other amounts
# Issue #17: the county's integration plan (F15, F16) and the input obligations (F17, F18)
NOT_IN_PLAN = "NOT_IN_PLAN"  # F15, 422: an arrangement outside the plan in force, or beyond its amount
PLAN_EXISTS = "PLAN_EXISTS"  # F16, 409: one plan per county and year; adjust it instead
PLAN_UNBALANCED = "PLAN_UNBALANCED"  # F16, 422: the planned projects exceed the planned sources
PLAN_BELOW_ARRANGED = "PLAN_BELOW_ARRANGED"  # F16, 422: a version plans a project below what the year arranged
PLAN_VERSION_SUPERSEDED = "PLAN_VERSION_SUPERSEDED"  # F16, 409: only the latest version is reported
PLAN_ALREADY_REPORTED = "PLAN_ALREADY_REPORTED"  # F16, 409: a version is reported once
INPUT_OBLIGATION_FAILED = "INPUT_OBLIGATION_FAILED"  # F17/F18 alert: a declared input obligation not met

PLAN_REQUIRED = "county_plan"  # F15: the obligation kind that requires a pilot county's plan (reference data)
PLAN_LINES_MAX = 1000  # lines of one kind in a plan version
