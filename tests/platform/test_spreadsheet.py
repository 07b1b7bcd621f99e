"""S10: the one neutraliser of every CSV the system writes for people (services/kernel/spreadsheet.py)."""

import csv
import io

import pytest

from services.kernel.spreadsheet import SpreadsheetWriter, spreadsheet_cell


@pytest.mark.parametrize(
    "text", ["=HYPERLINK(\"http://x\",\"y\")", "+1+1", "-2+3", "-123", "@SUM(A1)", "\tcmd", "\r=1"]
)
def test_text_that_a_spreadsheet_would_run_is_written_as_text(text: str) -> None:
    assert spreadsheet_cell(text) == "'" + text


@pytest.mark.parametrize("text", ["/loans/ln_1", "hello = world", "430523", "", "a-b", "'quoted"])
def test_other_text_is_written_as_it_is(text: str) -> None:
    assert spreadsheet_cell(text) == text


def test_numbers_the_system_holds_stay_numbers_negative_ones_included() -> None:
    assert spreadsheet_cell(-123) == -123  # fen or a sequence number: ours, not caller text
    assert spreadsheet_cell(0) == 0
    assert spreadsheet_cell(None) == ""
    assert spreadsheet_cell(True) == "True"  # a bool is not a number in a spreadsheet


def test_the_writer_neutralises_every_cell_of_every_row() -> None:
    out = io.StringIO()
    writer = SpreadsheetWriter(out)
    writer.writerow(["-5", -5, "=1+1", None, "ok"])
    assert next(csv.reader(io.StringIO(out.getvalue()))) == ["'-5", "-5", "'=1+1", "", "ok"]
