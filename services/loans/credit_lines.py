"""L19: credit evaluations (授信) recorded in bulk from a CSV a bank exports: one line a household, judged line by
line like the roster import (services/registry), but small (the whole body, at most the route's limit): bad lines
are reported by number and code, good ones recorded. The households are asked of the registry in one batch (on the
roster on the evaluation's date, L1's question) before the service takes a database connection."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel import clock
from services.kernel.errors import NOT_IN_JURISDICTION, VALIDATION_ERROR
from services.kernel.identity import Principal
from services.kernel.ids import new_id
from services.kernel.regions import is_county
from services.loans import codes, problems, repository
from services.loans.clients import Registry
from services.loans.models import CreditLine
from services.loans.records_schemas import CreditImportResult, CreditRejected

HEADER = codes.CREDIT_LINES_HEADER
HOUSEHOLD_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
GRADE = re.compile(r"^[A-Za-z0-9+\-]{1,16}$|^[\u4e00-\u9fff]{1,8}$")  # AAA, A+, 优秀…
MAX_LIMIT_FEN = codes.AMOUNT_CAP_FEN * 10  # a bank's line may exceed the loan cap; not a thousandfold


@dataclass(frozen=True)
class Line:
    number: int
    household_id: str
    county_code: str
    lender_name: str
    limit_fen: int
    evaluated_on: date
    grade: str


def _field_error(fields: list[str], today: date) -> str | None:
    """The first field of a line that is not what HEADER says, or None."""
    household_id, county, lender, limit, evaluated, grade = fields
    checks = (
        ("household_id", HOUSEHOLD_ID.match(household_id) is not None),
        ("county_code", county.isascii() and county.isdigit() and is_county(county)),
        ("lender_name", 0 < len(lender.strip()) <= 200 and lender.isprintable()),
        ("limit_fen", limit.isascii() and limit.isdigit() and len(limit) <= 12 and int(limit) <= MAX_LIMIT_FEN),
        ("evaluated_on", _day(evaluated, today) is not None),
        ("grade", GRADE.match(grade) is not None),
    )
    return next((name for name, good in checks if not good), None)


def _day(text: str, today: date) -> date | None:
    try:
        day = date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None
    return day if day is not None and date(2014, 1, 1) <= day <= today else None


def parse(body: bytes, principal: Principal) -> tuple[list[Line], list[CreditRejected]]:
    """The lines of the CSV, each judged on its own: its fields (VALIDATION_ERROR naming one), its county in the
    principal's jurisdiction (NOT_IN_JURISDICTION)."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise problems.credit_lines_header(["(not UTF-8)"]) from None
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error:  # a NUL character, a field over csv's limit: not a bank's export
        raise problems.credit_lines_header(["(not CSV)"]) from None
    if not rows or [c.strip() for c in rows[0]] != list(HEADER):
        raise problems.credit_lines_header(rows[0] if rows else [])
    today = clock.today()
    lines: list[Line] = []
    rejected: list[CreditRejected] = []
    for number, fields in enumerate(rows[1:], start=2):
        if not fields:
            continue
        fields = [f.strip() for f in fields]
        if len(fields) != len(HEADER):
            rejected.append(CreditRejected(line=number, code=VALIDATION_ERROR, field="line"))
            continue
        bad = _field_error(fields, today)
        if bad is not None:
            rejected.append(CreditRejected(line=number, code=VALIDATION_ERROR, field=bad))
        elif not principal.covers(fields[1]):
            rejected.append(CreditRejected(line=number, code=NOT_IN_JURISDICTION, field="county_code"))
        else:
            lines.append(Line(number, fields[0], fields[1], fields[2], int(fields[3]), date.fromisoformat(fields[4]),
                              fields[5]))
    return lines, rejected


async def on_roster(registry: Registry, lines: list[Line]) -> set[int]:
    """The numbers of the lines whose household is on the roster on its evaluation's date (one batched ask)."""
    if not lines:
        return set()
    answers = await registry.client.post_items(
        "/internal/households/eligibility",
        [{"household_id": line.household_id, "on": line.evaluated_on.isoformat()} for line in lines],
    )
    return {line.number for line, answer in zip(lines, answers, strict=True)
            if codes.REGISTRY_NOT_REGISTERED not in answer["reasons"]}


async def record(session: AsyncSession, principal: Principal, lines: list[Line], registered: set[int],
                 rejected: list[CreditRejected]) -> CreditImportResult:
    kept = [line for line in lines if line.number in registered]
    rejected += [CreditRejected(line=line.number, code=codes.BORROWER_NOT_REGISTERED, field="household_id")
                 for line in lines if line.number not in registered]
    await repository.add_all(session, [
        CreditLine(county_code=line.county_code, id=new_id("crl"), household_id=line.household_id,
                   lender_name=line.lender_name, limit_fen=line.limit_fen, evaluated_on=line.evaluated_on,
                   grade=line.grade, created_by=principal.id)
        for line in kept
    ])
    return CreditImportResult(imported=len(kept), rejected=sorted(rejected, key=lambda r: r.line))
