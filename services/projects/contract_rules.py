"""The contract rules of a project as pure functions (P8, P9; issue #17 point 2, seed 003 "招投标…'五到县'")."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from services.projects import codes, problems


def check_contracting(status: str) -> None:
    """P8: contracts are signed for a project approved into the library or being built."""
    if status not in codes.CONTRACTING_STATUSES:
        raise problems.project_not_contracting(status)


def check_direct_award_reason(tender_method: str, reason: str | None) -> None:
    """P8: a direct award (直接委托) is the exception to tendering and says why."""
    if tender_method == "direct_award" and not (reason or "").strip():
        raise problems.direct_award_reason_required()


def check_within_budget(*, budget_fen: int, contracted_fen: int, amount_fen: int) -> None:
    """P8 (F4): a project's contracts together stay within its budget."""
    if contracted_fen + amount_fen > budget_fen:
        raise problems.contracts_over_budget(budget_fen=budget_fen, contracted_fen=contracted_fen,
                                             amount_fen=amount_fen)


@dataclass(frozen=True)
class Threshold:
    amount_fen: int
    effective_on: date | None  # None: the documented default
    id: str | None = None
    doc_no: str | None = None


def threshold_in_force(versions: Iterable[Threshold], on: date) -> Threshold:
    """P9: the county's latest threshold effective by `on` (versions in the order published: of two effective the
    same day, the later published), else the documented default."""
    in_force: Threshold | None = None
    for version in versions:
        effective = version.effective_on or on
        if effective <= on and (in_force is None or effective >= (in_force.effective_on or on)):
            in_force = version
    return in_force or Threshold(codes.DEFAULT_TENDER_THRESHOLD_FEN, None)


@dataclass(frozen=True)
class DirectAward:
    id: str
    amount_fen: int
    signed_on: date


def is_split(awards: Sequence[DirectAward], threshold_fen: int) -> bool:
    """P9 (拆分规避招标): several direct awards to one contractor on one project that together exceed the county's
    tender threshold (each of them may be below it)."""
    return len(awards) >= 2 and sum(a.amount_fen for a in awards) > threshold_fen
