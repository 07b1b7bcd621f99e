"""How an entry of the trail is written out: as JSON in an API answer (`entry_json`), as a CSV row for people and
as a lossless JSON Lines record for verifiers (the export's pages, gateway/export_pages.py). A row is anything that
reads its columns as attributes (a SQLAlchemy row, or an asyncpg record in `Fields`)."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from typing import Any

from gateway.models import AUDIT_FIELDS, utc
from services.kernel.spreadsheet import SpreadsheetWriter


def entry_json(row: Any) -> dict[str, Any]:
    return {
        "seq": row.seq,
        "at": utc(row.at),
        "principal_id": row.principal_id,
        "role": row.role,
        "region_code": row.region_code,
        "method": row.method,
        "path": row.path,
        "query": row.query,
        "status": row.status,
        "code": row.code or None,
        "request_id": row.request_id,
        "entity_ids": list(row.entity_ids),
        "body_sha256": row.body_sha256,
        "origin": row.origin,
        "prev_hash": row.prev_hash,
        "hash": row.hash,
    }


EXPORT_COLUMNS = (
    "seq",
    "at",
    "principal_id",
    "role",
    "region_code",
    "method",
    "path",
    "query",
    "status",
    "code",
    "request_id",
    "entity_ids",
    "body_sha256",
    "origin",
    "prev_hash",
    "hash",
)


def export_record(row: Any) -> dict[str, Any]:
    """An entry as the trail holds it, lossless: every field its chain link and its Merkle leaf are hashes of
    (`code` "" stays "", origin_id included), `at` in the hashed form, with seq, prev_hash and hash. The line of a
    JSON Lines export, and what `fundtrack audit verify-export` rebuilds the root from."""
    m = row._mapping  # a SQLAlchemy row's mapping, or the asyncpg record itself (Fields)
    record: dict[str, Any] = {"seq": m["seq"]}
    record.update({k: m[k] for k in AUDIT_FIELDS})
    record["at"] = utc(m["at"])
    record["entity_ids"] = list(m["entity_ids"])
    record["prev_hash"] = m["prev_hash"]
    record["hash"] = m["hash"]
    return record


def csv_lines(chunk: Sequence[Any]) -> str:
    buffer = io.StringIO()
    writer = SpreadsheetWriter(buffer)
    for r in chunk:
        e = entry_json(r)
        e["entity_ids"] = " ".join(e["entity_ids"])
        writer.writerow(e[c] for c in EXPORT_COLUMNS)
    return buffer.getvalue()


def jsonl_lines(chunk: Sequence[Any]) -> str:
    return "".join(json.dumps(export_record(r), ensure_ascii=False, separators=(",", ":")) + "\n" for r in chunk)




class Fields:
    """An asyncpg record read as a SQLAlchemy row is: its columns as attributes, and itself as `_mapping`."""

    __slots__ = ("_mapping",)

    def __init__(self, record: Any) -> None:
        self._mapping = record

    def __getattr__(self, name: str) -> Any:
        return self._mapping[name]
