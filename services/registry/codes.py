"""Error codes of the registry, used by code and tests alike."""

from __future__ import annotations

from services.kernel.errors import NOT_IN_JURISDICTION

# The whole file is refused (422).
INVALID_HEADER = "INVALID_HEADER"
UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"

INVALID_EFFECTIVE_DATE = "INVALID_EFFECTIVE_DATE"
# S12: two imports of different counties registered the same new household id at once; nothing was imported (409).
IMPORT_CONFLICT = "IMPORT_CONFLICT"

# One line is refused; the others are kept.
INVALID_ENCODING = "INVALID_ENCODING"
LINE_TOO_LONG = "LINE_TOO_LONG"
MALFORMED_LINE = "MALFORMED_LINE"
WRONG_FIELD_COUNT = "WRONG_FIELD_COUNT"
MISSING_FIELD = "MISSING_FIELD"
FIELD_TOO_LONG = "FIELD_TOO_LONG"
CONTROL_CHARACTER = "CONTROL_CHARACTER"
INVALID_HOUSEHOLD_ID = "INVALID_HOUSEHOLD_ID"
INVALID_ID_NUMBER = "INVALID_ID_NUMBER"
INVALID_REGION = "INVALID_REGION"
INVALID_STATUS = "INVALID_STATUS"
INVALID_MEMBERS = "INVALID_MEMBERS"
INVALID_CADRE_FLAG = "INVALID_CADRE_FLAG"
INVALID_CARD_ACCOUNT = "INVALID_CARD_ACCOUNT"
DUPLICATE_IN_FILE = "DUPLICATE_IN_FILE"
HISTORY_AFTER_EFFECTIVE_DATE = "HISTORY_AFTER_EFFECTIVE_DATE"
LINE_NOT_IN_JURISDICTION = NOT_IN_JURISDICTION

STATUSES = ("poor", "exited", "returned", "not_poor")

# Who may receive poverty support (L1 loans, P3 beneficiaries, F10 payees): the one definition, rules.ineligibility.
ELIGIBLE_STATUSES = ("poor", "exited", "returned")  # exited: 脱贫不脱政策; returned: 返贫
# Why a household is not eligible on a date, as the internal eligibility API answers (callers map them to their codes).
NOT_REGISTERED = "not_registered"  # not on the roster (建档立卡) on that date
NOT_POOR = "not_poor"  # status not_poor
VILLAGE_CADRE = "village_cadre"  # a sitting village cadre in the household (seed 002 §二.1)

# R1 (issue #17 point 11): the county's approved exception for a village cadre's household ("原则上不能识别纳入")
R1 = "R1"
NOT_A_CADRE_HOUSEHOLD = "NOT_A_CADRE_HOUSEHOLD"  # 422: an exception for a household with no village cadre
CADRE_EXCEPTION = "CADRE_EXCEPTION"  # the alert that shows inspectors each exception recorded
