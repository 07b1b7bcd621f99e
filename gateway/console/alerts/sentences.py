"""An alert's facts in words: the sentence of its type (words `alerts.say.<TYPE>`), filled with the facts as a
person reads them (amounts in 元, days counted on China's calendar, growths in per cent), and the rule it cites.
A type with no sentence, or facts the sentence does not find, has none: the page shows the facts as a table."""

from __future__ import annotations

import string
from datetime import date
from decimal import Decimal
from typing import Any

from gateway.console import fmt
from gateway.console.messages import MESSAGES, translate

# The rule each alert type cites when its facts do not name one (docs/rules.md, /work/shared/DOMAIN.md).
RULES: dict[str, str] = {
    "IDLE_FUNDS": "F3", "LATE_PASS_DOWN": "F9", "GROWTH_BELOW_AVERAGE": "F2", "DUPLICATE_PAYMENT": "F8",
    "INELIGIBLE_PAYEE": "F10", "HOUSEHOLD_CONCENTRATION": "F19", "VILLAGE_CONCENTRATION": "F20",
    "INPUT_OBLIGATION_FAILED": "F17", "ID_ENUMERATION_SUSPECTED": "S6", "LOAN_OVERDUE": "L5",
    "LOAN_ENTERPRISE_USE": "L2a", "LOAN_NON_PRODUCTIVE_USE": "L2b", "LOAN_FUNDS_CONCENTRATION": "L2a",
    "INELIGIBLE_BORROWER": "L1", "RISK_FUND_DEPLETED": "L10", "UNRECORDED_RENEWAL": "L14",
    "NO_RETURN_TO_HOUSEHOLD": "L17", "LOAN_ABOVE_CREDIT_LINE": "L19", "PUBLIC_COMPLAINT": "O12",
    "CASE_OVERDUE": "O3", "REPEATED_MISUSE": "O9", "DUPLICATE_PROJECT": "P5", "ANNOUNCEMENT_BACKDATED": "P13",
    "CONTRACT_SPLITTING": "P9", "TARGETS_UNMET": "P10", "CADRE_EXCEPTION": "R1",
}
DAY_FACTS = ("since", "deadline")  # besides every `*_on`: a day whose distance from today the sentence may say


def rule_of(alert: dict[str, Any]) -> str | None:
    named = alert.get("facts", {}).get("rule")
    return str(named) if isinstance(named, str) and named else RULES.get(str(alert.get("type")))


def type_label(alert_type: str, lang: str) -> str:
    """The type's name in the person's language; an unknown type by its code."""
    key = f"alerts.kind.{alert_type}"
    return translate(key, lang) if key in MESSAGES else alert_type


def _day(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _percent(value: Any) -> str:
    try:
        return f"{(Decimal(str(value)) * 100).quantize(Decimal('0.1'))}%"
    except ArithmeticError:
        return str(value)


def words_of(facts: dict[str, Any], region: str, today: date) -> dict[str, str]:
    """The facts as text a sentence can take: `*_fen` in 元, `*_growth` in per cent, and `<day>_days` the days
    from each day fact to `today` (a day in China)."""
    out: dict[str, str] = {"region": region}
    for key, value in facts.items():
        if value is None or value == "":
            out[key] = "—"
        elif key.endswith("_fen") and isinstance(value, int):
            out[key] = fmt.yuan(value)
        elif key.endswith("_growth") and isinstance(value, (int, float, str)):
            out[key] = _percent(value)
        else:
            out[key] = str(value)
        if key.endswith("_on") or key in DAY_FACTS:
            day = _day(value)
            if day is not None:
                out[f"{key}_days"] = str((today - day).days)
    return out


def sentence(alert: dict[str, Any], lang: str, today: date | None = None) -> str | None:
    """The alert's sentence in `lang`, or None (no sentence for its type, or a fact it names is missing)."""
    key = f"alerts.say.{alert.get('type')}"
    if key not in MESSAGES:
        return None
    template = translate(key, lang)
    values = words_of(dict(alert.get("facts") or {}), str(alert.get("region_code", "")), today or fmt.today_in_china())
    names = {name for _, name, _, _ in string.Formatter().parse(template) if name}
    if not names <= values.keys():
        return None
    return template.format_map(values)
