"""What the county office's forms send: a form's fields read into the API's bodies (amounts in 元 → integer fen,
exactly), and a refusal the console makes itself before asking the API (an amount it cannot read) in the API's own
problem shape, so it shows next to its field like any other."""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.datastructures import FormData

from gateway.console.amounts import AmountError, fen_of_yuan
from gateway.console.messages import translate

CENT = Decimal("0.01")
TARGET_ROWS = 3  # performance targets a registration form offers (P7: at least one)
TARGET = ("indicator", "target")  # a target row's fields: indicator_0, target_0, …
EDIT_FIELDS = (  # the draft edit form's fields (P14), besides its target rows
    "village_code", "name", "category", "budget_yuan", "start_on", "end_on", "beneficiary_household_ids",
    "benefit_mechanism", "description", "responsible_unit",
)


class FormProblem(Exception):
    """A form field the console refuses before the API is asked (422, field named, nothing sent)."""

    def __init__(self, field: str, key: str, lang: str) -> None:
        super().__init__(key)
        self.problem: dict[str, Any] = {
            "status": 422, "code": "VALIDATION_ERROR", "field": field, "rule": None, "detail": translate(key, lang),
        }


def new_key() -> str:
    """The idempotency key a form carries from the moment it is rendered: sent twice, applied once."""
    return str(uuid.uuid4())


def text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def values_of(form: FormData) -> dict[str, str]:
    """The fields as sent, to fill the form again when it is refused."""
    return {key: value for key, value in form.multi_items() if isinstance(value, str) and key != "csrf_token"}


def yuan_to_fen(raw: str, field: str, lang: str) -> int:
    """'1,234.5' 元 → 123450 fen (gateway/console/amounts.py); anything else refused on `field`."""
    try:
        return fen_of_yuan(raw, zero_allowed=True)  # zero: the API's refusal says why (budget_fen > 0)
    except AmountError:
        raise FormProblem(field, _what_is_wrong(raw), lang) from None


def _what_is_wrong(raw: str) -> str:
    """A number with too many decimals or a sign, or no amount at all: the words that say which."""
    try:
        amount = Decimal(raw.replace(",", "").replace("，", "").strip())
        amount.quantize(CENT)
    except InvalidOperation:
        return "projects.money_invalid"
    return "projects.money_decimals" if amount.is_finite() else "projects.money_invalid"


def target_rows(form: FormData) -> int:
    """How many performance-target rows the form carried (at least TARGET_ROWS; an edit shows every target)."""
    rows = TARGET_ROWS
    while f"indicator_{rows}" in form or f"target_{rows}" in form:
        rows += 1
    return rows


def fen_to_yuan(fen: int) -> str:
    """123450 fen → '1234.50' (a form's value: no separators, read back exactly by yuan_to_fen)."""
    return f"{fen // 100}.{fen % 100:02d}"


def project_body(form: FormData, lang: str) -> dict[str, Any]:
    """POST /projects from the registration form (API.md "Projects"); optional texts left out when empty."""
    households = [line.strip() for line in text(form, "beneficiary_household_ids").replace(",", "\n").splitlines()]
    targets = [
        {"indicator": text(form, f"indicator_{i}"), "target": text(form, f"target_{i}")}
        for i in range(target_rows(form))
        if text(form, f"indicator_{i}") or text(form, f"target_{i}")
    ]
    body: dict[str, Any] = {
        "county_code": text(form, "county_code"),
        "village_code": text(form, "village_code"),
        "name": text(form, "name"),
        "category": text(form, "category"),
        "budget_fen": yuan_to_fen(text(form, "budget_yuan"), "budget_yuan", lang),
        "start_on": text(form, "start_on") or None,
        "end_on": text(form, "end_on") or None,
        "beneficiary_household_ids": [h for h in households if h],
        "benefit_mechanism": text(form, "benefit_mechanism"),
        "performance_targets": targets,
        "description": text(form, "description"),
    }
    if text(form, "responsible_unit"):
        body["responsible_unit"] = text(form, "responsible_unit")
    return body


def draft_values(project: dict[str, Any]) -> dict[str, str]:
    """The edit form's fields filled with the draft as the API shows it (budget in 元, one household a line)."""
    values = {
        "village_code": project["village_code"], "name": project["name"], "category": project["category"],
        "budget_yuan": fen_to_yuan(project["budget_fen"]), "start_on": project["start_on"],
        "end_on": project["end_on"], "beneficiary_household_ids": "\n".join(project["beneficiary_household_ids"]),
        "benefit_mechanism": project["benefit_mechanism"], "description": project["description"],
        "responsible_unit": project["responsible_unit"] or "",
    }
    for i, target in enumerate(project["performance_targets"]):
        values[f"indicator_{i}"], values[f"target_{i}"] = target["indicator"], target["target"]
    return values


def action_body(action: str, form: FormData, targets: list[dict[str, str]]) -> dict[str, Any] | None:
    """The body of one move (API.md "Projects"): only what that move takes."""
    if action == "review":
        return {"passed": text(form, "passed") == "true", "opinion": text(form, "opinion")}
    if action == "announce":
        days = text(form, "days")
        body: dict[str, Any] = {
            "start_on": text(form, "start_on") or None,
            "days": int(days) if days.lstrip("-").isdigit() else days,
            "scope": text(form, "scope"),
        }
        posted_by, photo = text(form, "evidence.posted_by"), text(form, "evidence.photo_sha256")
        if posted_by or photo:
            body["evidence"] = {"posted_by": posted_by, "photo_sha256": photo}
        return body
    if action == "accept":
        return {
            "report": text(form, "report"),
            "results": [
                {"indicator": t["indicator"], "actual": text(form, f"actual_{i}"),
                 "met": text(form, f"met_{i}") == "on"}
                for i, t in enumerate(targets)
            ],
        }
    if action in ("reject", "withdraw"):
        return {"reason": text(form, "reason")}
    if action in ("approve", "start", "complete"):
        return {"note": text(form, "note")}
    return None
