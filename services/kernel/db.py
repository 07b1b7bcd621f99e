"""Database engines: one per process, bound to the process's own schema (search_path) and, where the server
allows it, its own role, so a service cannot read another service's tables even by mistake."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

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
    }
    if use_role:
        settings["role"] = role_for(schema)
    return settings


def create_engine(schema: str, *, url: str | None = None, pool_size: int | None = None) -> AsyncEngine:
    cfg = get_settings()
    connect_args: dict[str, Any] = {"server_settings": server_settings(schema, use_role=cfg.db_roles)}
    return create_async_engine(
        asyncpg_url(url or database_url()),
        pool_size=pool_size or cfg.db_pool_size,
        max_overflow=cfg.db_pool_overflow,
        pool_pre_ping=True,  # a connection the server cut (a restart, a terminated session) is replaced, not a 500
        connect_args=connect_args,
    )


def long_statements_sql() -> str:
    """For a transaction declared long (an import, a scan, a report, the daily run): its own statement timeout."""
    return f"SET LOCAL statement_timeout = {int(get_settings().db_long_statement_timeout_seconds * 1000)}"


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
