"""Error codes, rule ids and alert types of the oversight service (docs/rules.md "Oversight (O)")."""

from __future__ import annotations

from services.kernel import organisations

# Rule ids (docs/rules.md); O1 (a principal's organisation) is the gateway's
O2, O3, O4, O5, O6, O7, O8 = "O2", "O3", "O4", "O5", "O6", "O7", "O8"
O9, O10, O11, O12 = "O9", "O10", "O11", "O12"
E1 = "E1"  # evidence documents (services/kernel/evidence.py): a move cites only documents kept intact

# Codes
UNKNOWN_ALERT = "UNKNOWN_ALERT"  # 422 O2: an alert the owning service does not know
ALERT_OUTSIDE_CASE_REGION = "ALERT_OUTSIDE_CASE_REGION"  # 422 O2
ALERT_IN_CASE = "ALERT_IN_CASE"  # 409 O2: an alert is in one case only
NO_GROUNDS = "NO_GROUNDS"  # 422 O2: a case names alerts or a complaint
DEADLINE_IN_PAST = "DEADLINE_IN_PAST"  # 422 O3
INVALID_CASE_TRANSITION = "INVALID_CASE_TRANSITION"  # 409 O4
UNKNOWN_ORGANISATION = organisations.UNKNOWN_ORGANISATION  # 422 O5/O7 (shared: every service naming one)
ORGANISATION_OUTSIDE_CASE_REGION = "ORGANISATION_OUTSIDE_CASE_REGION"  # 422 O5
NOT_A_DISCIPLINE_COMMISSION = "NOT_A_DISCIPLINE_COMMISSION"  # 422 O7
COMMISSION_BELOW_CASE = "COMMISSION_BELOW_CASE"  # 422 O7: referral to a lower level
ACCOUNTABILITY_TOO_EARLY = "ACCOUNTABILITY_TOO_EARLY"  # 409 O8
UNKNOWN_REVERSAL = "UNKNOWN_REVERSAL"  # 422 O10: a reversal funds does not know
REVERSAL_OUTSIDE_CASE_REGION = "REVERSAL_OUTSIDE_CASE_REGION"  # 422 O10
REVERSAL_IN_CASE = "REVERSAL_IN_CASE"  # 409 O10: a reversal is the money recovered of one case only
UNKNOWN_COMPLAINT = "UNKNOWN_COMPLAINT"  # 422 O12: a case names a public complaint nobody made
COMPLAINT_OUTSIDE_CASE_REGION = "COMPLAINT_OUTSIDE_CASE_REGION"  # 422 O12
COMPLAINT_ALERT_MISMATCH = "COMPLAINT_ALERT_MISMATCH"  # 422 O12

# Alert types
CASE_OVERDUE = "CASE_OVERDUE"
REPEATED_MISUSE = "REPEATED_MISUSE"
PUBLIC_COMPLAINT = "PUBLIC_COMPLAINT"  # O12: a complaint (监督举报) the public made, for the inspectors of its region
