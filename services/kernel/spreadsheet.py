"""S10: CSV that a person opens in a spreadsheet. A cell of text that begins with `=`, `+`, `-`, `@`, a tab or a
carriage return is read by Excel, WPS and LibreOffice as a formula (`=HYPERLINK(...)` planted by a keyless caller
through a request id or a path); such a cell is written with a leading single quote (OWASP "CSV injection"), which
the spreadsheet shows as text. Every CSV the system writes for people goes through `spreadsheet_row`.

A number the system holds (an `int`: a sequence number, a status, money in fen) is written as a number, a negative
one included: it is ours, not caller text. Text that only looks like a number ("-123" from a path) is neutralised
like any other text."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any, Protocol

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


class _Writable(Protocol):
    def write(self, text: str, /) -> Any: ...


def spreadsheet_cell(value: object) -> str | int:
    """One cell: an int stays a number; None is empty; anything else is text, neutralised if it could be a formula."""
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def spreadsheet_row(values: Iterable[object]) -> list[str | int]:
    return [spreadsheet_cell(v) for v in values]


class SpreadsheetWriter:
    """csv.writer whose every row is made safe to open in a spreadsheet."""

    def __init__(self, out: _Writable) -> None:
        self._writer = csv.writer(out)

    def writerow(self, values: Iterable[object]) -> None:
        self._writer.writerow(spreadsheet_row(values))
