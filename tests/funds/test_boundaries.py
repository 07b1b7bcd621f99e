"""Issue #12's structure, held for funds as for the other services (tests/boundaries.py): every query in the
repository, no hand-written jurisdiction refusal, one way of naming columns, typed client dependencies."""

from __future__ import annotations

from tests.boundaries import violations


def test_funds_keeps_its_queries_and_seams_in_one_place() -> None:
    assert violations("funds") == []
