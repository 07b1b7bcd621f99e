"""Issue #12's structure of a service, checked on its source: every query in its repository, one way to refuse a
jurisdiction, clients through typed dependencies. Used by each service's tests (test_boundaries.py)."""

from __future__ import annotations

import ast
from pathlib import Path

SERVICES = Path(__file__).resolve().parent.parent / "services"
# The modules that may speak SQL: the tables (models.py) and every query of the service (repository.py).
DATA_ACCESS = frozenset({"models.py", "repository.py"})
# Names of sqlalchemy a module outside the data access may import: the session it passes on, a row type it reads.
PASSED_ON = frozenset({"AsyncSession", "Row"})
QUERY_METHODS = frozenset(
    {"execute", "scalar", "scalars", "get", "fetch", "fetchrow", "fetchval", "copy_to_table", "flush", "refresh"}
)


def _receiver(node: ast.expr) -> str:
    return node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""


def violations(service: str) -> list[str]:
    """Where a module of `service` breaks the structure, as `file:line what`."""
    found: list[str] = []
    for path in sorted((SERVICES / service).glob("*.py")):
        source = path.read_text(encoding="utf-8")
        where = f"{service}/{path.name}"
        if path.name != "models.py" and "# type: ignore" in source:
            found.append(f"{where}: a type: ignore")
        for node in ast.walk(ast.parse(source)):
            line = f"{where}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.ImportFrom) and path.name not in DATA_ACCESS and node.module and (
                node.module.split(".")[0] in {"sqlalchemy", "sqlmodel", "asyncpg"}
            ):
                extra = {alias.name for alias in node.names} - PASSED_ON
                if extra:
                    found.append(f"{line} imports {sorted(extra)} from {node.module}: queries belong in repository.py")
            if isinstance(node, ast.Attribute) and node.attr == "__table__":
                found.append(f"{line} names columns through __table__: use col(Model.field)")
            if isinstance(node, ast.Attribute) and node.attr == "clients" and _receiver(node.value) == "state" and (
                path.name != "clients.py"
            ):
                found.append(f"{line} reaches app.state.clients: take the client's typed dependency")
            if not isinstance(node, ast.Call):
                continue
            called = node.func
            if isinstance(called, ast.Name) and called.id == "NotInJurisdiction" and path.name != "problems.py":
                found.append(f"{line} raises NotInJurisdiction by hand: kernel.scope.check_covers")
            if (
                isinstance(called, ast.Attribute) and called.attr in QUERY_METHODS and path.name not in DATA_ACCESS
                and _receiver(called.value) in {"session", "conn", "connection"}
            ):
                found.append(f"{line} runs a query ({called.attr}): queries belong in repository.py")
    return found
