"""Issue #12's structure of a service, checked on its source: every query in its data access, one way to refuse a
jurisdiction, clients through typed dependencies. Used by each service's tests (test_boundaries.py) and tested on
fake service directories itself (tests/platform/test_boundaries_checker.py).

What counts as data access: `models.py` (the tables), `repository.py`, and every module of a `repository/` package
(funds splits its queries by entity) or named `<feature>_repository.py` (a feature's own queries beside the
service's repository, as loans' subsidy settlement keeps them: `subsidy_repository.py`). Every other module of
the service, at any depth, may not:

- import sqlalchemy, sqlmodel, asyncpg or the kernel's `rawsql`, in either form (`import sqlalchemy as sa` as well
  as `from sqlalchemy import select`). Two kinds of names pass: the session a module hands on and the row type it
  reads (AsyncSession, Row), and exception classes (…Error, …Violation, …Exception): catching a driver's exception
  is not a query;
- hold SQL as a string (SELECT … FROM, INSERT INTO, UPDATE … SET, DELETE FROM, or `$1` placeholders) or call
  `rawsql.*` / `text(...)`; docstrings are prose, not queries;
- run a query on a session or connection.

A service's problems (the kernel's Problem classes) are built in its `problems.py` only: the rules and the service
raise `problems.<name>(...)`, so a service's answers are read in one module.

`NotInJurisdiction` is raised through the kernel (`scope.check_covers`) everywhere but in `problems.py`, which
builds the refusals of rules that are not "the principal must cover this region": S1, a county's set from above
(registry), and P2, the approving county (projects).
"""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

from services.kernel import errors

SERVICES = Path(__file__).resolve().parent.parent / "services"
DATA_ACCESS = frozenset({"models.py", "repository.py"})
DATA_ACCESS_PACKAGE = "repository"
DATA_ACCESS_SUFFIX = "_repository.py"  # a feature's repository module (loans' subsidy_repository.py)
DRIVERS = frozenset({"sqlalchemy", "sqlmodel", "asyncpg"})
RAWSQL = "services.kernel.rawsql"
# Names of a driver a module outside the data access may import: the session it passes on, a row type it reads.
PASSED_ON = frozenset({"AsyncSession", "Row"})
EXCEPTION_SUFFIXES = ("Error", "Violation", "Exception")
QUERY_METHODS = frozenset(
    {"execute", "scalar", "scalars", "get", "fetch", "fetchrow", "fetchval", "copy_to_table", "flush", "refresh"}
)
# The kernel's problem classes, built by a service in its problems.py only.
PROBLEMS = frozenset(
    name for name, value in vars(errors).items()
    if inspect.isclass(value) and issubclass(value, errors.Problem) and value.__module__ == errors.__name__
)
SQL = re.compile(
    r"\bSELECT\b[\s\S]*\bFROM\b|\bINSERT\s+INTO\b|\bUPDATE\s+\w+(\.\w+)?\s+SET\b|\bDELETE\s+FROM\b|\$\d+\b"
)


def _receiver(node: ast.expr) -> str:
    return node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""


def is_data_access(relative: Path) -> bool:
    return (relative.name in DATA_ACCESS or relative.name.endswith(DATA_ACCESS_SUFFIX)
            or DATA_ACCESS_PACKAGE in relative.parts[:-1])


def _is_driver(module: str) -> bool:
    return module.split(".")[0] in DRIVERS or module == RAWSQL or module.startswith(RAWSQL + ".")


def _passes(name: str) -> bool:
    return name in PASSED_ON or name.endswith(EXCEPTION_SUFFIXES)


def _docstrings(tree: ast.Module) -> set[int]:
    """The ids of the docstring constants of the module, its classes and its functions."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _data_access_findings(node: ast.AST, line: str, docstrings: set[int]) -> list[str]:
    """What only the data access may do, found in `node` of a module outside it."""
    where = "queries belong in the repository"
    if isinstance(node, ast.Import):
        return [f"{line} imports {alias.name}: {where}" for alias in node.names if _is_driver(alias.name)]
    if isinstance(node, ast.ImportFrom) and node.module:
        if _is_driver(node.module):
            extra = sorted(alias.name for alias in node.names if not _passes(alias.name))
            return [f"{line} imports {extra} from {node.module}: {where}"] if extra else []
        if node.module == "services.kernel" and any(alias.name == "rawsql" for alias in node.names):
            return [f"{line} imports rawsql: {where}"]
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
        if SQL.search(node.value):
            return [f"{line} holds SQL in a string: {where}"]
    if not isinstance(node, ast.Call):
        return []
    called = node.func
    if isinstance(called, ast.Attribute) and isinstance(called.value, ast.Name) and called.value.id == "rawsql":
        return [f"{line} calls rawsql.{called.attr}: {where}"]
    if (isinstance(called, ast.Name) and called.id == "text") or (
        isinstance(called, ast.Attribute) and called.attr == "text" and _receiver(called.value) in {"sa", "sqlalchemy"}
    ):
        return [f"{line} builds SQL with text(): {where}"]
    if isinstance(called, ast.Attribute) and called.attr in QUERY_METHODS and (
        _receiver(called.value) in {"session", "conn", "connection"}
    ):
        return [f"{line} runs a query ({called.attr}): {where}"]
    return []


def _seam_findings(node: ast.AST, line: str, relative: Path) -> list[str]:
    """The seams every module keeps: columns by col(), clients by dependency, refusals through the kernel."""
    if isinstance(node, ast.Attribute) and node.attr == "__table__":
        return [f"{line} names columns through __table__: use col(Model.field)"]
    if isinstance(node, ast.Attribute) and node.attr == "clients" and _receiver(node.value) == "state" and (
        relative.name != "clients.py"
    ):
        return [f"{line} reaches app.state.clients: take the client's typed dependency"]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "NotInJurisdiction" and (
        relative.name != "problems.py"
    ):
        return [f"{line} raises NotInJurisdiction by hand: kernel.scope.check_covers"]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in PROBLEMS - {
        "NotInJurisdiction"
    } and relative.name != "problems.py":
        return [f"{line} builds a {node.func.id} outside problems.py: add a builder there"]
    return []


def violations(service: str, root: Path = SERVICES) -> list[str]:
    """Where a module of `service` (under `root`, the services' directory) breaks the structure, as `file:line what`."""
    found: list[str] = []
    base = root / service
    for path in sorted(base.rglob("*.py")):
        relative = path.relative_to(base)
        source = path.read_text(encoding="utf-8")
        where = f"{service}/{relative.as_posix()}"
        if relative.name != "models.py" and "# type: ignore" in source:
            found.append(f"{where}: a type: ignore")
        tree = ast.parse(source)
        docstrings = _docstrings(tree)
        data_access = is_data_access(relative)
        for node in ast.walk(tree):
            line = f"{where}:{getattr(node, 'lineno', 0)}"
            found += _seam_findings(node, line, relative)
            if not data_access:
                found += _data_access_findings(node, line, docstrings)
    return sorted(found, key=_position)


def _position(finding: str) -> tuple[str, int]:
    """A finding's file and line, to list findings in reading order (ast.walk visits breadth first)."""
    where = finding.split(" ", 1)[0].rstrip(":")
    file, _, line = where.partition(":")
    return file, int(line) if line.isdigit() else 0
