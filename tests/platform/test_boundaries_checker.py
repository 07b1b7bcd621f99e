"""The checker of issue #12's structure (tests/boundaries.py) catches what it is for, shown on fake services written
under a temporary directory: a checker that let these through would pass every service's test_boundaries.py while
the structure it guards decayed."""

from __future__ import annotations

from pathlib import Path

from tests.boundaries import violations


def service(root: Path, files: dict[str, str]) -> Path:
    for name, source in files.items():
        path = root / "fake" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")
    return root


def found(tmp_path: Path, files: dict[str, str]) -> list[str]:
    return violations("fake", service(tmp_path, files))


def test_a_clean_service_passes(tmp_path: Path) -> None:
    assert found(tmp_path, {
        "rules.py": "def f(value: int) -> bool:\n    return value > 0\n",
        "repository.py": "from sqlalchemy import select, text\nQ = 'SELECT 1 FROM t WHERE a = $1'\n",
    }) == []


def test_modules_in_subpackages_are_read(tmp_path: Path) -> None:
    assert found(tmp_path, {"reports/daily.py": "async def f(session):\n    return await session.execute(1)\n"}) == [
        "fake/reports/daily.py:2 runs a query (execute): queries belong in the repository"
    ]


def test_a_repository_package_is_data_access(tmp_path: Path) -> None:
    assert found(tmp_path, {
        "repository/__init__.py": "",
        "repository/ledger.py": (
            "import asyncpg\nimport sqlalchemy as sa\nfrom services.kernel import rawsql\n"
            "Q = 'INSERT INTO t VALUES ($1)'\n"
            "async def f(session):\n    await rawsql.execute(session, Q)\n"
            "    return await session.execute(sa.text(Q))\n"
        ),
    }) == []


def test_a_features_repository_module_is_data_access_and_nothing_else_that_ends_alike(tmp_path: Path) -> None:
    query = "from sqlalchemy import select\nasync def f(session):\n    return await session.execute(select(1))\n"
    assert found(tmp_path, {"subsidy_repository.py": query, "repository_helpers.py": query}) == [
        "fake/repository_helpers.py:1 imports ['select'] from sqlalchemy: queries belong in the repository",
        "fake/repository_helpers.py:3 runs a query (execute): queries belong in the repository",
    ]


def test_module_imports_of_a_driver_are_seen(tmp_path: Path) -> None:
    assert found(tmp_path, {"service.py": "import sqlalchemy as sa\nimport asyncpg\nimport sqlmodel.sql\n"}) == [
        "fake/service.py:1 imports sqlalchemy: queries belong in the repository",
        "fake/service.py:2 imports asyncpg: queries belong in the repository",
        "fake/service.py:3 imports sqlmodel.sql: queries belong in the repository",
    ]


def test_rawsql_is_data_access_in_every_import_form(tmp_path: Path) -> None:
    assert found(tmp_path, {
        "a.py": "from services.kernel import clock, rawsql\n",
        "b.py": "from services.kernel.rawsql import fetch\n",
        "c.py": "import services.kernel.rawsql\n",
    }) == [
        "fake/a.py:1 imports rawsql: queries belong in the repository",
        "fake/b.py:1 imports ['fetch'] from services.kernel.rawsql: queries belong in the repository",
        "fake/c.py:1 imports services.kernel.rawsql: queries belong in the repository",
    ]


def test_exceptions_and_the_session_may_be_imported(tmp_path: Path) -> None:
    """Catching a driver's exception is not a query; a session handed on, a row read, neither."""
    assert found(tmp_path, {"importer.py": (
        "from asyncpg import UniqueViolationError\nfrom sqlalchemy.exc import IntegrityError\n"
        "from sqlalchemy.ext.asyncio import AsyncSession\nfrom sqlalchemy import Row\n"
    )}) == []
    assert found(tmp_path, {"importer.py": "from sqlalchemy import Row, select\n"}) == [
        "fake/importer.py:1 imports ['select'] from sqlalchemy: queries belong in the repository"
    ]


def test_sql_in_a_string_is_seen_whatever_runs_it(tmp_path: Path) -> None:
    assert found(tmp_path, {"trace.py": (
        '"""Reads SELECT ... FROM the ledger (a docstring is prose)."""\n'
        "A = '''SELECT id\\n FROM funds.ledger'''\n"
        "B = 'INSERT INTO funds.allocations VALUES (1)'\n"
        "C = 'UPDATE funds.pools SET balance = 0'\n"
        "D = 'DELETE FROM loans.loans'\n"
        "E = 'WHERE county = $1'\n"
        "F = 'Select the county from the list'\n"
    )}) == [f"fake/trace.py:{line} holds SQL in a string: queries belong in the repository" for line in (2, 3, 4, 5, 6)]


def test_rawsql_and_text_calls_are_seen(tmp_path: Path) -> None:
    assert found(tmp_path, {"reads.py": (
        "async def f(s, q):\n    await rawsql.fetch(s, q)\n    text(q)\n    sa.text(q)\n    s.text(q)\n"
    )}) == [
        "fake/reads.py:2 calls rawsql.fetch: queries belong in the repository",
        "fake/reads.py:3 builds SQL with text(): queries belong in the repository",
        "fake/reads.py:4 builds SQL with text(): queries belong in the repository",
    ]


def test_a_hand_written_refusal_is_seen_outside_problems(tmp_path: Path) -> None:
    refusal = "def f():\n    raise NotInJurisdiction('x', field='region', rule='P2')\n"
    assert found(tmp_path, {"problems.py": refusal, "rules.py": refusal}) == [
        "fake/rules.py:2 raises NotInJurisdiction by hand: kernel.scope.check_covers"
    ]


def test_the_seams_are_checked_in_every_module(tmp_path: Path) -> None:
    assert found(tmp_path, {
        "api.py": "def f(request):\n    return request.app.state.clients['registry']\n",
        "clients.py": "def f(request):\n    return request.app.state.clients['registry']\n",
        "sub/reads.py": "x = Loan.__table__  # type: ignore\n",
    }) == [
        "fake/api.py:2 reaches app.state.clients: take the client's typed dependency",
        "fake/sub/reads.py: a type: ignore",
        "fake/sub/reads.py:1 names columns through __table__: use col(Model.field)",
    ]


def test_a_problem_built_outside_problems_is_seen(tmp_path: Path) -> None:
    """A service's answers are read in one module: its rules raise problems.<name>(...)."""
    builder = "def f():\n    return RuleViolation('L4: too much', code='X', rule='L4')\n"
    assert found(tmp_path, {
        "problems.py": builder,
        "rules.py": builder + "def g():\n    raise problems.f()\n",
        "importer.py": "def h():\n    raise ValidationProblem('bad header', field='body')\n",
    }) == [
        "fake/importer.py:2 builds a ValidationProblem outside problems.py: add a builder there",
        "fake/rules.py:2 builds a RuleViolation outside problems.py: add a builder there",
    ]
