"""Issue #12's structure holds for the oversight service: queries in its repository, problems in problems.py,
jurisdiction through the kernel, other processes through typed clients."""

from __future__ import annotations

from tests.boundaries import violations


def test_the_oversight_service_keeps_its_queries_in_its_repository() -> None:
    assert violations("oversight") == []
