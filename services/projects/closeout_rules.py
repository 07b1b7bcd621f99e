"""The close-out rules (docs/rules.md P10, P11) as pure functions: each target's result at acceptance, and the
handover (资产移交/确权) reconciled with what was paid. Nothing here touches the database or the network."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from services.projects import codes, problems


@dataclass(frozen=True)
class TargetResult:
    position: int
    indicator: str
    target: str
    actual: str
    met: bool


def target_results(
    targets: Sequence[Mapping[str, str]], actuals: Mapping[str, tuple[str, bool]]
) -> list[TargetResult]:
    """P10: every performance target (P7) of the project carries its actual value and whether it was met
    (`actuals`: indicator → (actual, met)); a target without one, or a result naming no target, is refused."""
    indicators = [t["indicator"] for t in targets]
    missing = [i for i in indicators if i not in actuals]
    if missing:
        raise problems.target_result_missing(missing)
    unknown = [i for i in actuals if i not in indicators]
    if unknown:
        raise problems.target_result_unknown(unknown)
    return [
        TargetResult(position=n, indicator=t["indicator"], target=t["target"], actual=actuals[t["indicator"]][0],
                     met=actuals[t["indicator"]][1])
        for n, t in enumerate(targets)
    ]


def unmet(results: Sequence[TargetResult]) -> list[TargetResult]:
    """P10: the targets the acceptance found not met (TARGETS_UNMET names them)."""
    return [r for r in results if not r.met]


def check_owner(asset_kind: str, owner_kind: str) -> None:
    """P11: an asset built for households (到户资产) belongs to those households, not to the village collective."""
    if asset_kind == "household" and owner_kind != "households":
        raise problems.household_asset_owner(owner_kind)


def handover_tolerance(paid_fen: int, tolerance_bp: int = codes.HANDOVER_TOLERANCE_BP) -> int:
    """P11: how far, in fen, the project's assets handed over may stand from what was paid to it."""
    return paid_fen * tolerance_bp // 10_000


def check_handover_value(*, value_fen: int, handed_before_fen: int, paid_fen: int, last: bool) -> int:
    """P11: the value of a project's assets handed over, this one included, never exceeds what funds paid to the
    project by more than the tolerance (an asset worth more than was paid for it is overstated: 虚增); and once the
    last asset recorded is handed over it is not below it by more than the tolerance either (money paid that is in
    no asset handed over: 资产流失). Answers the value handed over so far, this one included."""
    total = handed_before_fen + value_fen
    slack = handover_tolerance(paid_fen)
    if total > paid_fen + slack or (last and total < paid_fen - slack):
        raise problems.handover_value_mismatch(total_fen=total, paid_fen=paid_fen, tolerance_fen=slack, last=last)
    return total


def dividend_id(asset_id: str, recorded: int) -> str:
    """P12: the id of an asset's next dividend, from the asset and the number of its dividends recorded before it:
    asked of funds again after a failure (nothing recorded here), it is the same dividend, which funds pays once."""
    return "div_" + hashlib.sha256(f"{asset_id}:{recorded}".encode()).hexdigest()[:32]
