"""Error codes (API.md "Loans") and alert types of the loans service, with the DOMAIN.md rule each one enforces."""

from __future__ import annotations

from datetime import timedelta

from services.kernel.errors import NOT_IN_JURISDICTION
from services.kernel.throttle import RefusalLimit, Window

# Origination (all 422)
BORROWER_NOT_REGISTERED = "BORROWER_NOT_REGISTERED"  # L1
BORROWER_NOT_ELIGIBLE = "BORROWER_NOT_ELIGIBLE"  # L1, L1a
LOAN_ENTERPRISE_USE = "LOAN_ENTERPRISE_USE"  # L2a, L3
LOAN_NON_PRODUCTIVE_PURPOSE = "LOAN_NON_PRODUCTIVE_PURPOSE"  # L2b
LOAN_RATE_ABOVE_BENCHMARK = "LOAN_RATE_ABOVE_BENCHMARK"  # L2c
LOAN_COLLATERAL_REQUIRED = "LOAN_COLLATERAL_REQUIRED"  # L2d
LOAN_PRODUCT_RENAMED = "LOAN_PRODUCT_RENAMED"  # L2e
LOAN_AMOUNT_OVER_CAP = "LOAN_AMOUNT_OVER_CAP"  # L4
LOAN_TERM_OVER_CAP = "LOAN_TERM_OVER_CAP"  # L4
LOAN_HOUSEHOLD_CAP = "LOAN_HOUSEHOLD_CAP"  # L4

# Servicing (this service's own additions to API.md)
REPAYMENT_OVER_OUTSTANDING = "REPAYMENT_OVER_OUTSTANDING"  # 422: more principal than is outstanding
REPAYMENT_BEFORE_ISSUE = "REPAYMENT_BEFORE_ISSUE"  # 422
EXTENSION_EXISTS = "EXTENSION_EXISTS"  # 409: one extension (展期) per loan, L5
EXTENSION_TOO_LONG = "EXTENSION_TOO_LONG"  # 422: at most 12 months beyond the original maturity, L5
EXTENSION_NOT_LATER = "EXTENSION_NOT_LATER"  # 422: the new maturity must lie after the original one
LOAN_REPAID = "LOAN_REPAID"  # 409: an extension of a loan with nothing outstanding
USAGE_BEFORE_ISSUE = "USAGE_BEFORE_ISSUE"  # 422

# Risk-compensation funds and compensation claims (issue #18 points 1 and 2)
RISK_FUND_CAPACITY_EXCEEDED = "RISK_FUND_CAPACITY_EXCEEDED"  # 422, L7: the bank's loans beyond deposit × leverage
RISK_FUND_EXISTS = "RISK_FUND_EXISTS"  # 409, L7: one fund per county and bank
NO_RISK_FUND = "NO_RISK_FUND"  # 422, L8: a claim on a loan whose county has no fund with its bank
CLAIM_NOT_OVERDUE = "CLAIM_NOT_OVERDUE"  # 422, L8: not overdue beyond the fund's threshold on the claim's date
LOAN_OF_ANOTHER_BRANCH = "LOAN_OF_ANOTHER_BRANCH"  # 403 L8/L9 (O13): a claim or recovery on another branch's loan
CLAIM_LOAN_MISUSED = "CLAIM_LOAN_MISUSED"  # 422, L8: an open LOAN_ENTERPRISE_USE or LOAN_NON_PRODUCTIVE_USE alert
CLAIM_OVER_OUTSTANDING = "CLAIM_OVER_OUTSTANDING"  # 422, L8: more than the principal outstanding not yet claimed
CLAIM_BEFORE_ISSUE = "CLAIM_BEFORE_ISSUE"  # 422: a claim, decision or recovery dated before what it follows
CLAIM_DECIDED = "CLAIM_DECIDED"  # 409, L9: a claim is decided once
CLAIM_SELF_APPROVAL = "CLAIM_SELF_APPROVAL"  # 403, L9: the one who recorded a claim does not decide it
CLAIM_NOT_APPROVED = "CLAIM_NOT_APPROVED"  # 409, L9: recoveries only after an approved compensation
RECOVERY_OVER_LOST = "RECOVERY_OVER_LOST"  # 422, L9: more recovered than the principal claimed lost

# Alert types
ALERT_LOAN_OVERDUE = "LOAN_OVERDUE"  # L5
ALERT_LOAN_ENTERPRISE_USE = "LOAN_ENTERPRISE_USE"  # L2a, L3
ALERT_LOAN_NON_PRODUCTIVE_USE = "LOAN_NON_PRODUCTIVE_USE"  # L2b
ALERT_LOAN_FUNDS_CONCENTRATION = "LOAN_FUNDS_CONCENTRATION"  # L2a (户贷企用, covert)
ALERT_INELIGIBLE_BORROWER = "INELIGIBLE_BORROWER"  # L1, F10
ALERT_RISK_FUND_DEPLETED = "RISK_FUND_DEPLETED"  # L10: net claims paid beyond the declared share of the deposit
ALERT_ID_ENUMERATION_SUSPECTED = "ID_ENUMERATION_SUSPECTED"  # S6 (A5): a principal's borrower refusals at the limit

# S6 (A5): refusals about the borrower (unknown, ineligible, not the head, another county's household) are counted
# per principal; 30 of them within 10 minutes, or 100 within a day, raise ID_ENUMERATION_SUSPECTED on the principal,
# and its further POST /loans are 429 RATE_LIMITED, unjudged, until they age out. Enumerating the ~2,000 numbers that
# fit a masked one then takes weeks, and is alerted on within the first hundred guesses.
BORROWER_REFUSALS = frozenset({BORROWER_NOT_REGISTERED, BORROWER_NOT_ELIGIBLE, NOT_IN_JURISDICTION})
BORROWER_CHECKS = RefusalLimit(
    kind="loan_borrower", windows=(Window(30, timedelta(minutes=10)), Window(100, timedelta(days=1))),
    alert_type=ALERT_ID_ENUMERATION_SUSPECTED, rule="S6", what_zh="借款人核验", what_en="borrower checks",
)

# L1: the registry decides who may borrow (its internal eligibility API); the reasons it gives
REGISTRY_NOT_REGISTERED = "not_registered"
REGISTRY_NOT_POOR = "not_poor"
REGISTRY_VILLAGE_CADRE = "village_cadre"

# Numbers of DOMAIN.md (L4, L5, L2e)
PRODUCT_NAME = "扶贫小额信贷"
AMOUNT_CAP_FEN = 5_000_000
TERM_CAP_MONTHS = 36
EXTENSION_CAP_MONTHS = 12
MIN_AGE, MAX_AGE = 18, 65
CONCENTRATION_HOUSEHOLDS = 5
CONCENTRATION_WINDOW_DAYS = 90
# L7 (issue #18): the leverage multiples (放大倍数) an agreement may declare; seeds and practice: 5 to 10
LEVERAGE_MIN, LEVERAGE_MAX = 1, 20

PRODUCTIVE_PURPOSES = (
    "planting", "breeding", "processing", "commerce", "rural_tourism", "services", "other_productive",
)
NON_PRODUCTIVE_PURPOSES = ("housing", "wedding_funeral", "consumption", "debt_repayment", "enterprise_investment")
MODES = ("self", "partnership", "cooperative")
RECIPIENT_KINDS = ("household", "cooperative", "enterprise")
BUCKETS = ("1-30", "31-90", "91-180", "180+")

# Subsidy settlement (issue #18 point 3): rates declared per county and period (L11), a bank's claims (L12),
# finance's decision and the payment through the funds ledger (L13)
SUBSIDY_RATE_OVERLAP = "SUBSIDY_RATE_OVERLAP"  # 409 L11: a county's period already has a declared rate
SUBSIDY_RATE_NOT_DECLARED = "SUBSIDY_RATE_NOT_DECLARED"  # 422 L11: no one declared rate covers the claimed period
SUBSIDY_PERIOD_TOO_LONG = "SUBSIDY_PERIOD_TOO_LONG"  # 422 L12: a claim covers at most a year
SUBSIDY_PERIOD_NOT_OVER = "SUBSIDY_PERIOD_NOT_OVER"  # 422 L12: a period is claimed once it has ended
SUBSIDY_ALREADY_CLAIMED = "SUBSIDY_ALREADY_CLAIMED"  # 409 L12: a loan's period overlaps one claimed before
SUBSIDY_NOTHING_TO_CLAIM = "SUBSIDY_NOTHING_TO_CLAIM"  # 422 L12: the bank has no loan in the county then
SUBSIDY_CLAIM_DECIDED = "SUBSIDY_CLAIM_DECIDED"  # 409 L13: a claim is decided once
SUBSIDY_SAME_PERSON = "SUBSIDY_SAME_PERSON"  # 403 L13: checked, then approved by another person, neither the submitter
SUBSIDY_NOT_CHECKED = "SUBSIDY_NOT_CHECKED"  # 409 L13: approved only once checked
SUBSIDY_PAID_TO = ("bank", "household")
SUBSIDY_MISUSE_ALERTS = (ALERT_LOAN_ENTERPRISE_USE, ALERT_LOAN_NON_PRODUCTIVE_USE)
SUBSIDY_MAX_PERIOD_DAYS = 366

# Issue #18 points 4–7 (rules L14–L19, docs/rules.md "Loan records")
RENEWAL_EXISTS = "RENEWAL_EXISTS"  # 409: L14, a loan is renewed at most once (RENEWAL_LIMIT)
RENEWAL_OLD_LOAN_OUTSTANDING = "RENEWAL_OLD_LOAN_OUTSTANDING"  # 422: L14, not fully repaid by the new issue date
RENEWAL_OTHER_HOUSEHOLD = "RENEWAL_OTHER_HOUSEHOLD"  # 422: L14, a renewal is lent to the old loan's household
RENEWAL_NOT_LATER = "RENEWAL_NOT_LATER"  # 422: L14, the new loan is issued after the old one
EXTENSION_BEFORE_ISSUE = "EXTENSION_BEFORE_ISSUE"  # 422: L14, an extension agreed before the loan was issued
LOAN_AGREEMENT_MISSING = "LOAN_AGREEMENT_MISSING"  # 422: L15, a cooperative-mode loan without its agreement
LOAN_PARTNERS_MISSING = "LOAN_PARTNERS_MISSING"  # 422: L16, a partnership-mode loan naming no partner
PARTNER_NOT_REGISTERED = "PARTNER_NOT_REGISTERED"  # 422: L16, a partner household not on the roster
LOAN_NOT_COOPERATIVE = "LOAN_NOT_COOPERATIVE"  # 422: L17, a return recorded on a loan of another mode
RETURN_BEFORE_ISSUE = "RETURN_BEFORE_ISSUE"  # 422: L17
PRODUCT_NAME_EXISTS = "PRODUCT_NAME_EXISTS"  # 409: L18, the province has registered this name already
ALERT_UNRECORDED_RENEWAL = "UNRECORDED_RENEWAL"  # L14 (借新还旧 hidden)
ALERT_NO_RETURN_TO_HOUSEHOLD = "NO_RETURN_TO_HOUSEHOLD"  # L17
ALERT_LOAN_ABOVE_CREDIT_LINE = "LOAN_ABOVE_CREDIT_LINE"  # L19

# Declared limits and windows (L14, L17)
RENEWAL_LIMIT = 1  # renewals of one loan (the unique key of loan_renewals)
EXTENSION_LIMIT = 1  # extensions of one loan (L5; the unique key of loan_extensions)
RENEWAL_WINDOW_DAYS = 30  # a new loan this close to an old one's full repayment is a renewal, recorded or not
NO_RETURN_MONTHS = 12  # a cooperative-mode household paid nothing for this long
MAX_PARTNERS = 20
CREDIT_LINES_HEADER = ("household_id", "county_code", "lender_name", "limit_fen", "evaluated_on", "grade")  # L19

# L18: the official names of the seeds, valid in their province without registering them; 扶贫小额信贷 everywhere
SEED_PRODUCT_NAMES: dict[str, tuple[str, ...]] = {
    "620000": ("精准扶贫专项贷款",),  # 甘肃, seed 002 §10
    "510000": ("扶贫小额贷款",),  # 四川, seed 001
}
