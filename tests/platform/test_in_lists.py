"""Issue #14, read on the source: an IN list of values is one statement text per length, prepared and cached on
every pooled connection, so a list whose length follows the data (a page's ids, a chunk, a caller's regions) is
written `any_of(column, values)` (services/kernel/db.py); so is NOT IN (`not_in`), and no text statement takes an
expanding bind parameter. What `.in_(…)` and `.not_in(…)` may still take in services/ and gateway/:
literal constants, a module's constant (UPPER_CASE), a query (a subquery is part of the statement's text, not its
values), and the few names below, each of a list whose length does not vary."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# (module, name): why its IN list keeps one text
FIXED = {
    ("services/funds/repository/accounts.py", "kinds"): "its two callers pass one kind ([kind], ['project'])",
    ("services/funds/repository/inputs.py", "years"): "always the year and the one before (input_obligations.judge)",
    ("services/kernel/alerts_store.py", "types"): "its caller passes a constant (loans' MISUSE_ALERTS)",
    ("services/loans/repository.py", "claims"): "a subquery (select of a fund's claims)",
    ("services/loans/repository.py", "rejected"): "a subquery (select of the county's rejected claims), NOT IN",
    ("services/oversight/repository.py", "visible"): "a subquery (select of the cases the caller sees)",
}


def _name(node: ast.expr) -> str:
    return node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""


def _fixed_text(argument: ast.expr) -> bool:
    if isinstance(argument, ast.Tuple | ast.List | ast.Set):
        return all(isinstance(e, ast.Constant) for e in argument.elts)
    if isinstance(argument, ast.Call):  # a query (select(...), a function building one), not a copy of the values
        return _name(argument.func) not in ("list", "set", "sorted", "tuple")
    return _name(argument).isupper()


_IN = ("in_", "not_in", "notin_")


def _expanding(node: ast.Call) -> bool:
    """`bindparam(…, expanding=True)`: SQLAlchemy's IN list of a text statement, one text per length too."""
    return _name(node.func) == "bindparam" and any(
        k.arg == "expanding" and isinstance(k.value, ast.Constant) and k.value.value is True for k in node.keywords)


def in_lists(module: str, source: str) -> list[str]:
    """`module:line name` of each `.in_(…)` or `.not_in(…)` whose list may vary in length, and of each expanding
    bind parameter."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and _expanding(node):
            found.append(f"{module}:{node.lineno} {ast.unparse(node)}")
            continue
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _IN
                and len(node.args) == 1):
            continue
        argument = node.args[0]
        if not _fixed_text(argument) and (module, _name(argument)) not in FIXED:
            found.append(f"{module}:{node.lineno} {ast.unparse(argument)}")
    return found


def test_no_in_list_follows_the_data() -> None:
    found = []
    for top in ("services", "gateway"):
        for path in sorted((ROOT / top).rglob("*.py")):
            found += in_lists(str(path.relative_to(ROOT)), path.read_text(encoding="utf-8"))
    assert found == [], "write these any_of(column, values) (services/kernel/db.py)"


def test_the_check_tells_a_list_of_the_data_from_constants() -> None:
    source = """
q.where(c.in_(ids), c.in_(list(page)), c.in_(sorted(set(counties))), c.in_([a, b]), c.in_(cfg.regions))
q.where(c.in_(("a", "b")), c.in_(["a"]), c.in_(KINDS), c.in_(codes.MISUSE), c.in_(select(t.c.id)), c.in_(kinds))
"""
    assert in_lists("services/funds/repository/accounts.py", source) == [
        "services/funds/repository/accounts.py:2 ids",
        "services/funds/repository/accounts.py:2 list(page)",
        "services/funds/repository/accounts.py:2 sorted(set(counties))",
        "services/funds/repository/accounts.py:2 [a, b]",
        "services/funds/repository/accounts.py:2 cfg.regions",
    ]
    assert in_lists("services/other.py", "q.where(c.in_(kinds))") == ["services/other.py:1 kinds"]
    assert in_lists("services/other.py", "q.where(c.not_in(ids), c.notin_(page), c.not_in(('a',)))") == [
        "services/other.py:1 ids", "services/other.py:1 page"]
    assert in_lists("services/other.py", "text(s).bindparams(bindparam('ids', expanding=True), bindparam('n'))") == [
        "services/other.py:1 bindparam('ids', expanding=True)"]
