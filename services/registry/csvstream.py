"""A CSV body read as a stream: physical lines numbered from 1 (the header is line 1), never the whole file in
memory; a line longer than MAX_LINE_BYTES is cut off and reported instead of growing a buffer without bound."""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator

from services.registry import codes

MAX_LINE_BYTES = 4096
BOM = "\ufeff"

# A line is its number and either its text or the (code, detail) that makes it unreadable.
Line = tuple[int, str | tuple[str, str]]

TOO_LONG = (codes.LINE_TOO_LONG, f"行超过 {MAX_LINE_BYTES} 字节 / the line is longer than {MAX_LINE_BYTES} bytes")
NOT_UTF8 = (codes.INVALID_ENCODING, "该行不是 UTF-8 / the line is not valid UTF-8")


def _decoded(raw: bytes) -> str | tuple[str, str]:
    if len(raw) > MAX_LINE_BYTES:
        return TOO_LONG
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return NOT_UTF8


async def physical_lines(chunks: AsyncIterator[bytes]) -> AsyncIterator[list[Line]]:
    """The lines of the body, one batch per chunk received; a last line without a newline counts too."""
    pending = b""
    overflowed = False  # the current line already passed MAX_LINE_BYTES and is being skipped
    number = 0
    async for chunk in chunks:
        if not chunk:
            continue
        parts = (pending + chunk).split(b"\n")
        pending = parts.pop()
        batch: list[Line] = []
        for raw in parts:
            number += 1
            batch.append((number, TOO_LONG if overflowed else _decoded(raw)))
            overflowed = False
        if len(pending) > MAX_LINE_BYTES:
            pending, overflowed = b"", True
        if batch:
            yield batch
    if pending or overflowed:
        yield [(number + 1, TOO_LONG if overflowed else _decoded(pending))]


def split_fields(text: str) -> list[str] | tuple[str, str]:
    """The comma-separated fields of one line, trimmed; quoted fields ("…,…") are read as CSV, on this line only."""
    text = text.rstrip("\r")
    if '"' not in text:
        fields = text.split(",")
        return [field.strip() for field in fields] if " " in text or "\t" in text else fields
    try:
        rows = list(csv.reader([text], strict=True))
    except csv.Error as exc:
        return codes.MALFORMED_LINE, f"CSV 格式错误 / malformed CSV line: {exc}"
    if len(rows) != 1:
        return codes.MALFORMED_LINE, "CSV 格式错误 / malformed CSV line"
    return [field.strip() for field in rows[0]]


def staging_record(number: int, fields: list[str], *, plain: bool) -> str:
    """An accepted line as one CSV record for COPY into the staging table: its number first, the identity number
    upper-case. A line read without the CSV module (`plain`: no quote in it) has no comma or quote in a field and
    goes as it is; any other, or a field holding a carriage return, is written with every field quoted."""
    id_number = fields[1]
    if id_number[-1] == "x":
        fields = [fields[0], id_number.upper(), *fields[2:]]
    text = ",".join(fields)
    if plain and "\r" not in text:
        return f"{number},{text}\n"
    quoted = '","'.join(field.replace('"', '""') for field in fields)
    return f'{number},"{quoted}"\n'
