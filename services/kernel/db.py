"""Database engines: one per process, bound to the process's own schema (search_path) and, where the server
allows it, its own role, so a service cannot read another service's tables even by mistake."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import ColumnElement, String, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.types import NullType, TypeEngine

from services.kernel.settings import database_url, get_settings


def role_for(schema: str) -> str:
    return f"fundtrack_{schema}"


def asyncpg_url(url: str) -> str:
    """Accept postgres://, postgresql:// or postgresql+asyncpg:// and return the SQLAlchemy asyncpg form."""
    parts = urlsplit(url)
    scheme = "postgresql+asyncpg"
    return urlunsplit((scheme, parts.netloc, parts.path, parts.query, parts.fragment))


def plain_url(url: str) -> str:
    """The libpq/asyncpg form (postgresql://), for raw asyncpg connections and pgbench."""
    parts = urlsplit(url)
    return urlunsplit(("postgresql", parts.netloc, parts.path, parts.query, parts.fragment))


def server_settings(schema: str, *, use_role: bool) -> dict[str, str]:
    cfg = get_settings()
    settings = {
        "search_path": schema,
        "application_name": f"fundtrack-{schema}",
        "timezone": "UTC",
        "statement_timeout": f"{int(cfg.db_statement_timeout_seconds * 1000)}",
        "lock_timeout": f"{int(cfg.db_lock_timeout_seconds * 1000)}",
        # No JIT compilation. Our statements are index probes, often correlated per row (per account, per loan), so
        # the planner costs them as if every probe read its whole range and compiles them: at a province's size
        # 200–450 ms of compiling to save nothing (funds' idle holdings 1.2 s → 0.8 s without it, loans' overdue
        # report 380 ms → 40 ms; bench/RESULTS.md). The nightly detectors lose nothing measurable: the province's
        # funds detectors took 33 s without it (DUPLICATE_PAYMENT's sort of 5 M payments 6.4 s; 10–13 s with it).
        "jit": "off",
    }
    if use_role:
        settings["role"] = role_for(schema)
    return settings


# Issue #14: what a process keeps per statement text is bounded whatever it is asked: SQLAlchemy's compiled
# statements (one LRU per engine), and on each pooled connection the statements SQLAlchemy's adapter prepared and
# those asyncpg prepared for kernel/rawsql (one LRU each). A statement whose text varied with its values would churn
# these caches, never grow them past their bounds (SQLAlchemy's LRUs prune at 1.5 times their size):
# tests/platform/test_memory.py holds them to it.
COMPILED_CACHE_SIZE = 500
PREPARED_CACHE_SIZE = 100  # per connection, for each of the two


def any_of(column: Any, values: Any) -> ColumnElement[bool]:
    """`column = ANY($n)`: one statement whatever the number of values. An IN list is a statement of a new text for
    each length, prepared and cached on every pooled connection (the caches fill with them and churn: issue #14).
    For a list whose length varies with the data (a page's ids, a chunk, a caller's regions); a list of constants
    may stay an IN list. The array is bound as the column's type (asyncpg needs its element type: BIGINT, DATE…),
    text unsized: a cast to VARCHAR(n)[] would cut a longer value to n characters, and so match another row's."""
    condition: ColumnElement[bool] = column == any_(bindparam(None, list(values), type_=ARRAY(_element_type(column))))
    return condition


def _element_type(column: Any) -> TypeEngine[Any]:
    kind: TypeEngine[Any] = column.type
    return String() if isinstance(kind, String | NullType) else kind


def create_engine(
    schema: str, *, url: str | None = None, pool_size: int | None = None, overflow: int | None = None
) -> AsyncEngine:
    cfg = get_settings()
    connect_args: dict[str, Any] = {
        "server_settings": server_settings(schema, use_role=cfg.db_roles),
        "statement_cache_size": PREPARED_CACHE_SIZE,  # asyncpg's own (rawsql)
        "prepared_statement_cache_size": PREPARED_CACHE_SIZE,  # SQLAlchemy's asyncpg adapter's
    }
    return create_async_engine(
        asyncpg_url(url or database_url()),
        pool_size=pool_size or cfg.db_pool_size,
        max_overflow=cfg.db_pool_overflow if overflow is None else overflow,
        pool_pre_ping=True,  # a connection the server cut (a restart, a terminated session) is replaced, not a 500
        query_cache_size=COMPILED_CACHE_SIZE,
        connect_args=connect_args,
    )


def long_statements_sql() -> str:
    """For a transaction declared long (an import, a scan, a report, the daily run): its own statement timeout."""
    return f"SET LOCAL statement_timeout = {int(get_settings().db_long_statement_timeout_seconds * 1000)}"


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
