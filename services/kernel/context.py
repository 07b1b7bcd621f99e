"""Per-request context readable anywhere (logs, outgoing calls): the request id, and whether the request holds a
database connection."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextvars import ContextVar

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")


def new_request_id() -> str:
    return uuid.uuid4().hex


def current_request_id() -> str:
    return request_id_var.get()


# Set by the unit of work for the request it runs (services/kernel/uow.py): tells whether the request's transaction
# holds a pooled connection, in the request's own task. Every call to another service checks it (kernel/http.py).
connection_check: ContextVar[Callable[[], bool] | None] = ContextVar("connection_check", default=None)


def holds_connection() -> bool:
    """True when the current request's transaction holds a pooled connection (no other request could have it)."""
    check = connection_check.get()
    return check is not None and check()
