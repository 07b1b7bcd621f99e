"""Issue #12: every query of the projects service is in its repository.py, jurisdiction is refused through the kernel's
check_covers, columns are named with col(), and other services are reached through typed client dependencies."""

from __future__ import annotations

from tests.boundaries import violations


def test_the_projects_service_keeps_its_queries_in_its_repository() -> None:
    assert violations("projects") == []
