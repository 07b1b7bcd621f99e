"""What the repository raises when a unique index refuses a record (a document posted twice, a record reversed
twice): the verbs answer it with their own problem, and know no database exception."""

from __future__ import annotations


class Duplicate(Exception):
    """A unique index refused the insert; `detail` is the database's (it names the key that exists)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail
