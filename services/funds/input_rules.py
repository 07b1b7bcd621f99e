"""The input obligations as pure rules (issue #17 point 4, docs/rules.md F17–F18): how much a region had to put into
targeted poverty work, and whether it did. Shares are in basis points; what is required is rounded up to the fen."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["pass", "fail", "no_figures"]
BP = 10_000


@dataclass(frozen=True)
class Judgement:
    status: Status
    required_fen: int | None
    actual_fen: int | None
    facts: dict[str, Any] = field(default_factory=dict)


def share_of(amount_fen: int, share_bp: int) -> int:
    """`share_bp` of an amount, rounded up: 15 % of 10.01 fen is 2 fen, never 1."""
    return -(-amount_fen * share_bp // BP)


def revenue_increment(*, share_bp: int, revenue_prev: int | None, revenue_curr: int | None,
                      appropriated_fen: int) -> Judgement:
    """F17 (seeds 003, 004): the region's own special poverty budget of the year (its appropriations, net of
    reversals) is at least `share_bp` of the increase of its declared revenue over the year before. Without both
    years' figures it cannot be judged (`no_figures`); a revenue that did not grow requires nothing."""
    if revenue_prev is None or revenue_curr is None:
        return Judgement("no_figures", None, appropriated_fen,
                         {"revenue_prev_fen": revenue_prev, "revenue_curr_fen": revenue_curr})
    increment = max(0, revenue_curr - revenue_prev)
    required = share_of(increment, share_bp)
    return Judgement("pass" if appropriated_fen >= required else "fail", required, appropriated_fen,
                     {"revenue_prev_fen": revenue_prev, "revenue_curr_fen": revenue_curr, "increment_fen": increment})


def recovered_idle(*, share_bp: int, recovered_fen: int, to_poverty_fen: int) -> Judgement:
    """F17 (seed 003): of the idle money the region recovered in the year (清理回收存量资金), at least `share_bp`
    went to targeted poverty work. Nothing recovered requires nothing."""
    required = share_of(recovered_fen, share_bp)
    return Judgement("pass" if to_poverty_fen >= required else "fail", required, to_poverty_fen,
                     {"recovered_fen": recovered_fen})


def year_on_year_growth(*, appropriated_prev: int, appropriated_curr: int) -> Judgement:
    """F18 (seed 002, 逐年增长): the region's special poverty budget grows every year: more than the year before
    (nothing in both years is no growth)."""
    ok = appropriated_curr > appropriated_prev
    return Judgement("pass" if ok else "fail", appropriated_prev + 1, appropriated_curr,
                     {"appropriated_prev_fen": appropriated_prev})


def industry_share(*, share_bp: int, arranged_fen: int, industry_fen: int) -> Judgement:
    """F18 (seed 000): of each fund's money arranged to projects in the region in the year, at least `share_bp` went
    to industry projects (产业发展). A fund that arranged nothing requires nothing."""
    required = share_of(arranged_fen, share_bp)
    return Judgement("pass" if industry_fen >= required else "fail", required, industry_fen,
                     {"arranged_fen": arranged_fen})
