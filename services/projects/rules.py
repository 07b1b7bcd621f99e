"""The rules of the county project library (DOMAIN.md P1–P7) as pure functions, and the lifecycle's state machine.

Each rule raises the problem the API answers with; nothing here touches the database or the network.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import Final, Literal, get_args

from services.kernel.identity import Principal
from services.kernel.regions import covers
from services.projects import codes, problems

# The lifecycle (DOMAIN.md "Projects"): status → {action: next status}. The one table of allowed moves.
TRANSITIONS: Final[Mapping[str, Mapping[str, str]]] = {
    "draft": {"submit": "submitted", "withdraw": "withdrawn"},
    "submitted": {"review": "reviewed", "reject": "rejected", "withdraw": "withdrawn"},
    "reviewed": {"announce": "announced", "reject": "rejected", "withdraw": "withdrawn"},
    "announced": {"approve": "approved", "reject": "rejected", "withdraw": "withdrawn"},
    "approved": {"start": "in_progress"},
    "in_progress": {"complete": "completed"},
    "completed": {"accept": "accepted"},
    "accepted": {},
    "rejected": {},
    "withdrawn": {},
}
STATUSES: Final = tuple(TRANSITIONS)
ACTIONS: Final = ("submit", "review", "announce", "approve", "start", "complete", "accept", "reject", "withdraw")
# A review that does not pass rejects the project (API.md: `{passed: false}` → rejected).
REVIEW_FAILED_STATUS: Final = "rejected"

PositiveCategory = Literal[
    "industry",
    "employment",
    "infrastructure",
    "relocation_followup",
    "education",
    "health",
    "housing",
    "social_security",
    "other",
]
# F5 / P4: what poverty funds may never pay for.
NegativeCategory = Literal[
    "administrative_costs",
    "vehicles_equipment",
    "wages_allowances",
    "enterprise_losses",
    "office_building",
    "debt_repayment",
    "large_construction",
    "urban_infrastructure",
    "image_project",
]
Category = Literal[PositiveCategory, NegativeCategory]
POSITIVE_CATEGORIES: Final[tuple[str, ...]] = get_args(PositiveCategory)
NEGATIVE_CATEGORIES: Final[tuple[str, ...]] = get_args(NegativeCategory)
CATEGORIES: Final[tuple[str, ...]] = POSITIVE_CATEGORIES + NEGATIVE_CATEGORIES
# P3: the registry decides who is a poor household (its eligibility API); of its reasons, those that make a
# beneficiary not a registered poor (or exited, returned) household. API.md's P3 is about the status only.
P3_REFUSED_REASONS: Final = frozenset({"not_registered", "not_poor"})
MIN_ANNOUNCEMENT_DAYS: Final = 10
DUPLICATE_NAME_THRESHOLD: Final = 0.8
NAME_SUFFIXES: Final = ("建设项目", "建设工程", "项目", "工程", "建设")


def allowed_actions(status: str) -> list[str]:
    return sorted(TRANSITIONS.get(status, {}))


def next_status(status: str, action: str) -> str:
    """The status `action` moves a project in `status` to; 409 INVALID_TRANSITION for any move not in the table."""
    target = TRANSITIONS.get(status, {}).get(action)
    if target is None:
        allowed = allowed_actions(status)
        raise problems.invalid_transition(status, action, allowed)
    return target


def check_is_draft(status: str) -> None:
    """P14: only a draft is edited; from submission on, what was submitted is what is reviewed and announced."""
    if status != "draft":
        raise problems.not_a_draft(status)


def on_negative_list(category: str) -> bool:
    """F5/P4: is this category one poverty funds may never pay for (负面清单)?"""
    return category in NEGATIVE_CATEGORIES


def check_category_not_on_negative_list(category: str) -> None:
    """P4 (F5): a project whose category is on the negative list cannot enter the library."""
    if on_negative_list(category):
        raise problems.negative_list(category)


def check_has_performance_targets(targets: Sequence[object]) -> None:
    """P7: a project without performance targets (绩效目标) cannot enter the library."""
    if not targets:
        raise problems.no_performance_targets()


def ineligible_beneficiaries(
    beneficiary_ids: Sequence[str], registry_reasons: Mapping[str, Sequence[str]]
) -> list[str]:
    """P3: the beneficiaries that are not registered households with status poor, exited or returned, as the
    registry judged them (`registry_reasons`: its reasons per household; a household it did not answer for is not
    registered)."""
    return [
        h for h in beneficiary_ids
        if P3_REFUSED_REASONS.intersection(registry_reasons.get(h, ["not_registered"]))
    ]


def reasons_in_county(
    registry_reasons: Mapping[str, Sequence[str]], counties: Mapping[str, str], county_code: str
) -> dict[str, list[str]]:
    """P3 within the project's county (A5): a household of another county is answered as one not on the roster, so
    that a project names its own county's households and submitting one tells nothing of another county's."""
    return {
        household_id: list(reasons) if counties.get(household_id) == county_code else ["not_registered"]
        for household_id, reasons in registry_reasons.items()
    }


def check_poor_beneficiaries(beneficiary_ids: Sequence[str], registry_reasons: Mapping[str, Sequence[str]]) -> None:
    """P3 benefit linkage: at least one beneficiary, and every one a registered poor (or exited, returned) household."""
    if not beneficiary_ids:
        raise problems.no_beneficiaries()
    bad = ineligible_beneficiaries(beneficiary_ids, registry_reasons)
    if bad:
        raise problems.ineligible_beneficiaries(bad)


def check_announcement_days(days: int) -> None:
    """P1: an announcement (公示) lasts at least 10 days."""
    if days < MIN_ANNOUNCEMENT_DAYS:
        raise problems.announcement_too_short(days, MIN_ANNOUNCEMENT_DAYS)


def days_backdated(start_on: date, recorded_on: date) -> int:
    """P13: how many days after its stated start an announcement was recorded (0 when recorded by then)."""
    return max(0, (recorded_on - start_on).days)


def is_backdated(start_on: date, recorded_on: date) -> bool:
    """P13: an announcement recorded more than 3 days after its start (posted on the village board, recorded later)."""
    return days_backdated(start_on, recorded_on) > codes.BACKDATE_GRACE_DAYS


def check_backdated_evidence(start_on: date, recorded_on: date, *, has_evidence: bool) -> None:
    """P13: a back-dated announcement is allowed with evidence of its posting (who posted it, a photo's hash)."""
    if is_backdated(start_on, recorded_on) and not has_evidence:
        raise problems.announcement_evidence_required(days_backdated(start_on, recorded_on))


def announcement_ends_on(start_on: date, days: int) -> date:
    """The first day after the announcement period: a period of `days` days starting on `start_on`."""
    return start_on + timedelta(days=days)


def check_announcement_ended(start_on: date, days: int, today: date) -> None:
    """P1: a project is approved only after its announcement period has run (start + days ≤ today)."""
    ends_on = announcement_ends_on(start_on, days)
    if ends_on > today:
        raise problems.announcement_running(ends_on)


def check_no_open_objections(open_objection_ids: Sequence[str]) -> None:
    """P1: objections raised during the announcement are resolved before approval."""
    if open_objection_ids:
        raise problems.open_objections(open_objection_ids)


def check_may_approve(principal: Principal, county_code: str) -> None:
    """P2 (审批权下放到县, seed 001): approval is the county's. Only a project manager whose jurisdiction IS the
    project's county approves it: not another county's, and not a city's or province's above it."""
    if principal.role != "project_manager" or principal.region_code != county_code:
        raise problems.not_the_approving_county()


def check_shares(kind: str, shareholders: Sequence[str], beneficiary_household_ids: Iterable[str]) -> None:
    """P6: income-generating assets are quantified as shares to the project's beneficiary households only."""
    if kind != "income_generating":
        if shareholders:
            raise problems.shares_not_for_kind(kind)
        return
    if not shareholders:
        raise problems.shares_required()
    beneficiaries = set(beneficiary_household_ids)
    strangers = [h for h in shareholders if h not in beneficiaries]
    if strangers:
        raise problems.shareholders_not_beneficiaries(strangers)


def split_by_shares(amount_fen: int, shares: Mapping[str, int]) -> dict[str, int]:
    """P6: split a dividend by shares to the fen with the largest-remainder method; the total is kept exactly.

    Each household first gets floor(amount × shares / total); the fen left over go one each to the largest
    remainders, ties broken by household id (ascending), so the split is deterministic.
    """
    total = sum(shares.values())
    if total <= 0 or any(s <= 0 for s in shares.values()):
        raise ValueError("shares must be positive")
    base = {h: amount_fen * s // total for h, s in shares.items()}
    left = amount_fen - sum(base.values())
    order = sorted(shares, key=lambda h: (-(amount_fen * shares[h] % total), h))
    for household in order[:left]:
        base[household] += 1
    return base


def normalise_name(name: str) -> str:
    """P5: a project name without spaces, punctuation, symbols and common suffixes (项目, 工程, 建设), for comparing."""
    text = unicodedata.normalize("NFKC", name).lower()
    text = "".join(c for c in text if not unicodedata.category(c).startswith(("P", "S", "Z", "C")))
    stripped = True
    while stripped:
        stripped = False
        for suffix in NAME_SUFFIXES:
            if text.endswith(suffix) and len(text) > len(suffix):
                text = text[: -len(suffix)]
                stripped = True
    return text


def name_similarity(a: str, b: str) -> float:
    """P5: difflib's ratio of the normalised names (1.0 = the same name)."""
    return difflib.SequenceMatcher(None, normalise_name(a), normalise_name(b), autojunk=False).ratio()


def periods_overlap(a: tuple[date, date], b: tuple[date, date]) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


def distinct(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def check_owner_org(owner_org: str, found: Mapping[str, object] | None, county_code: str) -> str:
    """O13: the owner unit a project names (`owner_org`) is an organisation the gateway knows (`found`, its answer;
    None: it does not know it), whose region is the project's county or a region above it on its line: the county's
    city, its province or the centre. Not a township's or another county's: an owner unit answers for a whole
    project, which lies in one county. Answers the organisation's id."""
    if found is None:
        raise problems.unknown_owner_org(owner_org)
    region_code = str(found["region_code"])
    if not covers(region_code, county_code):
        raise problems.owner_org_outside_county(owner_org, region_code, county_code)
    return owner_org


def responsible_org(*, recorded_by_org: str | None, owner_org: str | None = None) -> str | None:
    """O13 (issue #16): the project's owner unit answers for it: the organisation the project names as its owner
    unit (`owner_org`, checked by `check_owner_org`) when it names one; else the organisation that recorded it, the
    project manager's (县扶贫办, 行业部门), whose key registers its projects. (`responsible_unit`, the owner unit as
    text that the announcement publishes, is not an organisation and decides nothing.)"""
    return owner_org or recorded_by_org


def pair_responsible_org(first: str | None, second: str | None) -> str | None:
    """O13 for a pair of projects (DUPLICATE_PROJECT): the organisation answering for both when it is one; else the
    one answering for the later project (the one that duplicates the earlier), or the earlier's if it has none."""
    return second or first
