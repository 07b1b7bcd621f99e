"""What the door learns about one request (who, which route, the body's digest, the outcome), and the audit entry
it makes of it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from services.kernel.context import new_request_id
from services.kernel.identity import Principal
from services.kernel.types import escape_control_characters

ANONYMOUS = Principal(id="anonymous", role="none", region_code="", name="no valid key")


@dataclass
class Exchange:
    """What the door learns about one request, for the audit entry and the metrics."""

    method: str
    path: str
    query: str
    request_id: str
    principal: Principal = ANONYMOUS
    route: str = "unmatched"
    params: dict[str, str] = field(default_factory=dict)
    body_digest: Any = field(default_factory=hashlib.sha256)
    status: int = 0
    code: str = ""
    response_id: str | None = None
    audited: bool = True

    def entry(self) -> dict[str, Any]:
        ids = list(self.params.values())
        if self.response_id and self.response_id not in ids:
            ids.append(self.response_id)
        # A path like /loans/%00 decodes to a NUL, which PostgreSQL text cannot hold: the entry keeps its escape, so
        # the probe is recorded and the batch it shares with other requests' entries is not refused.
        return {
            "at": datetime.now(UTC),
            "principal_id": self.principal.id,
            "role": self.principal.role,
            "region_code": self.principal.region_code,
            "method": self.method,
            "path": escape_control_characters(self.path),
            "query": escape_control_characters(self.query),
            "entity_ids": [escape_control_characters(i) for i in ids],
            "body_sha256": self.body_digest.hexdigest(),
            "status": self.status,
            "code": self.code,
            "request_id": self.request_id,
            "origin": "gateway",
            "origin_id": None,
        }


def request_id_of(headers: dict[str, str]) -> str:
    given = headers.get("x-request-id", "")
    if 0 < len(given) <= 128 and given.isascii() and given.isprintable():
        return given
    return new_request_id()
