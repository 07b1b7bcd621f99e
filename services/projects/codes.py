"""Error codes, rule ids and alert types of the projects service, used by code and tests alike (API.md)."""

from __future__ import annotations

from services.kernel import organisations

# Rule codes (API.md "Projects")
ANNOUNCEMENT_TOO_SHORT = "ANNOUNCEMENT_TOO_SHORT"  # P1
ANNOUNCEMENT_EVIDENCE_REQUIRED = "ANNOUNCEMENT_EVIDENCE_REQUIRED"  # 422 P13: a back-dated 公示 names its evidence
OPEN_OBJECTIONS = "OPEN_OBJECTIONS"  # P1
NEGATIVE_LIST = "NEGATIVE_LIST"  # P4
NO_POOR_BENEFICIARIES = "NO_POOR_BENEFICIARIES"  # P3
NO_PERFORMANCE_TARGETS = "NO_PERFORMANCE_TARGETS"  # P7
INVALID_TRANSITION = "INVALID_TRANSITION"  # 409
NOT_ANNOUNCED = "NOT_ANNOUNCED"  # 409: an objection to a project that is not being announced
OBJECTION_RESOLVED = "OBJECTION_RESOLVED"  # 409: an objection is resolved once
SHARES_NOT_FOR_KIND = "SHARES_NOT_FOR_KIND"  # 422 P6: only income-generating assets are quantified as shares
SHARES_REQUIRED = "SHARES_REQUIRED"  # 422 P6: an income-generating asset names its shareholding households
SHAREHOLDER_NOT_BENEFICIARY = "SHAREHOLDER_NOT_BENEFICIARY"  # 422 P6: shares go to the project's beneficiaries
NO_SHARES = "NO_SHARES"  # 409 P6: a dividend of an asset without shares
DUPLICATE_SHAREHOLDER = "DUPLICATE_SHAREHOLDER"  # 422 P6
# 422 O13, field owner_org: the owner unit a project names is an organisation the gateway knows, whose region covers
# the project's county (the codes every service answers with about an organisation a body names)
UNKNOWN_ORGANISATION = organisations.UNKNOWN_ORGANISATION
ORGANISATION_REGION = organisations.ORGANISATION_REGION

# Alert types
DUPLICATE_PROJECT = "DUPLICATE_PROJECT"  # P5
ANNOUNCEMENT_BACKDATED = "ANNOUNCEMENT_BACKDATED"  # P13
P13 = "P13"  # issue #17 point 9: an announcement recorded after it was posted
BACKDATE_GRACE_DAYS = 3  # P13: recorded more than this many days after its start, an announcement is back-dated

# Rule ids of DOMAIN.md
P1, P2, P3, P4, P5, P6, P7 = "P1", "P2", "P3", "P4", "P5", "P6", "P7"
O13 = "O13"  # docs/rules.md: who recorded a fact and who answers for it (issue #16)

# S8: who may not lock P1 out. A key holder has at most this many open objections to one project (429
# OBJECTION_LIMIT beyond); the public is never refused by the project (the gateway limits each address), but only
# the first PUBLIC_BLOCKING public objections of a project block its approval until answered in writing: the later
# ones are recorded, published and answerable like any other, and do not block.
S8 = "S8"
OBJECTION_LIMIT = "OBJECTION_LIMIT"  # 429: a key holder's open objections to this project are at the limit
OPEN_OBJECTIONS_PER_PRINCIPAL = 3
PUBLIC_BLOCKING = 20

# Contracts (issue #17 point 2): P8 a project records its contracts, P9 direct awards split to evade tendering
P8, P9 = "P8", "P9"
DIRECT_AWARD_REASON_REQUIRED = "DIRECT_AWARD_REASON_REQUIRED"  # 422 P8, field direct_award_reason
CONTRACTS_OVER_BUDGET = "CONTRACTS_OVER_BUDGET"  # 422 P8 (F4), field amount_fen
PROJECT_NOT_CONTRACTING = "PROJECT_NOT_CONTRACTING"  # 422 P8: contracts of an approved or in-progress project only
CONTRACT_SPLITTING = "CONTRACT_SPLITTING"  # alert P9 (拆分规避招标)
CONTRACTING_STATUSES = frozenset({"approved", "in_progress"})
# P9: the tender threshold a county has not published one: 100万元, the lowest amount above which 《必须招标的工程项目
# 规定》 (国家发展改革委令第16号, 2018) makes tendering compulsory (services; works 400万元, goods 200万元)
DEFAULT_TENDER_THRESHOLD_FEN = 100_000_000
# Close-out (issue #17 point 3): results at acceptance, handover (确权) and the asset register
P10, P11, P12 = "P10", "P11", "P12"  # docs/rules.md "Close-out"
TARGET_RESULT_MISSING = "TARGET_RESULT_MISSING"  # 422 P10, field results: a performance target without its actual
TARGET_RESULT_UNKNOWN = "TARGET_RESULT_UNKNOWN"  # 422 P10, field results: a result for no target of the project
TARGETS_UNMET = "TARGETS_UNMET"  # alert P10: a project accepted with a performance target not met
ALREADY_HANDED_OVER = "ALREADY_HANDED_OVER"  # 409 P11: an asset is handed over once
HANDOVER_OWNER = "HANDOVER_OWNER"  # 422 P11, field owner_kind: a household asset belongs to households
HANDOVER_VALUE_MISMATCH = "HANDOVER_VALUE_MISMATCH"  # 422 P11, field value_fen: value not reconciled with paid
# P11: how far the value of a project's assets handed over may stand from what funds paid to the project, in basis
# points of what was paid (5 %: valuation rounding, small works paid from the village's own money)
HANDOVER_TOLERANCE_BP = 500
# Drafts (issue #19 point 3): a project is edited while it is a draft, each edit keeping the version before it
P14 = "P14"
NOT_A_DRAFT = "NOT_A_DRAFT"  # 409 P14: only a draft is edited
DIVIDEND_RECORDED_MEANWHILE = "DIVIDEND_RECORDED_MEANWHILE"  # 409 P12: two dividends of one asset at once
