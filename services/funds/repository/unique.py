"""What the repository raises when a unique index refuses a record (a document posted twice, a record reversed
twice): the verbs answer it with their own problem, and know no database exception."""

from __future__ import annotations

import asyncpg
from sqlalchemy.exc import IntegrityError

from services.kernel.rawsql import sqlstate_of


class Duplicate(Exception):
    """A unique index refused the insert; `detail` is the database's (it names the key that exists)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


UNIQUE_VIOLATION = asyncpg.UniqueViolationError.sqlstate  # 23505


def as_duplicate(exc: IntegrityError) -> Duplicate:
    """`Duplicate` when a unique index refused the insert; any other refusal (NOT NULL, CHECK, a foreign key: a bug,
    or a write of a version before a migration) is raised as it is, never answered as "already there" (a reversal
    without its county answered 409 ALREADY_REVERSED once funds_0022 had run)."""
    if sqlstate_of(exc) != UNIQUE_VIOLATION:
        raise exc
    return Duplicate(str(exc.orig))
