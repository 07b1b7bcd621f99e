"""A subsidy claim as the form finance offices exchange (issue #18 point 3): CSV and an Excel workbook, one row per
loan with its figures and excluded days, then the total. Every cell goes through kernel/spreadsheet (S10): a
borrower's name or a lender's that looks like a formula is written as text, in the workbook as in the CSV (openpyxl
takes a string beginning with `=` for a formula). The claim's loans are read a chunk at a time (LINES_CHUNK)."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any

from openpyxl import Workbook
from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.spreadsheet import SpreadsheetWriter, spreadsheet_row
from services.loans import subsidy_repository as repository
from services.loans.models import SubsidyClaim, SubsidyClaimLine

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

HEADER = (
    "贷款编号 loan_id", "农户编号 household_id", "借款人 borrower_name", "天数 days", "贴息天数 subsidised_days",
    "逾期天数 overdue_days", "违规使用天数 misuse_days", "扣除区间 excluded", "本金×天数 principal_fen_days",
    "贴息（分）subsidy_fen",
)


def summary(claim: SubsidyClaim) -> list[tuple[object, ...]]:
    """The claim's own rows above the loans: who claims what, for which county and period, at which rate."""
    return [
        ("贴息申报 subsidy claim", claim.id),
        ("县 county_code", claim.county_code),
        ("银行 lender_name", claim.lender_name),
        ("期间 period", f"{claim.period_from.isoformat()}..{claim.period_to.isoformat()}"),
        ("年贴息率（基点）rate_bp", claim.rate_bp),
        ("支付对象 paid_to", claim.paid_to),
        (),
    ]


def excluded_text(stretches: Iterable[dict[str, Any]]) -> str:
    """`overdue 2018-04-02..2018-05-01 (29 days)`, the stretches joined by `; ` (each `to` day not counted)."""
    return "; ".join(f"{s['reason']} {s['from']}..{s['to']} ({s['days']} days)" for s in stretches)


def line_row(line: SubsidyClaimLine) -> tuple[object, ...]:
    return (line.loan_id, line.household_id, line.borrower_name, line.days, line.subsidised_days, line.overdue_days,
            line.misuse_days, excluded_text(line.excluded), line.principal_fen_days, line.subsidy_fen)


def total_row(claim: SubsidyClaim) -> tuple[object, ...]:
    return ("合计 total", f"{claim.loans} loans", "", "", "", "", "", "", "", claim.subsidy_fen)


async def _rows(session: AsyncSession, claim: SubsidyClaim) -> list[Sequence[object]]:
    rows: list[Sequence[object]] = [*summary(claim), HEADER]
    async for chunk in repository.all_lines(session, claim):
        rows += [line_row(line) for line in chunk]
    rows.append(total_row(claim))
    return rows


def csv_of(rows: Iterable[Sequence[object]]) -> bytes:
    buffer = io.StringIO()
    writer = SpreadsheetWriter(buffer)
    for row in rows:
        writer.writerow(row)
    return ("\ufeff" + buffer.getvalue()).encode()  # the BOM: Excel and WPS then read the Chinese as UTF-8


def workbook_of(rows: Iterable[Sequence[object]]) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title="贴息申报")
    for row in rows:
        sheet.append(spreadsheet_row(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


async def as_csv(session: AsyncSession, claim: SubsidyClaim) -> bytes:
    return csv_of(await _rows(session, claim))


async def as_xlsx(session: AsyncSession, claim: SubsidyClaim) -> bytes:
    return workbook_of(await _rows(session, claim))
