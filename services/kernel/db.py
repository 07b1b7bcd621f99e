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
    settings = {"search_path": schema, "application_name": f"fundtrack-{schema}", "timezone": "UTC"}
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
        pool_pre_ping=False,
        connect_args=connect_args,
    )


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
