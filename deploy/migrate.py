"""Migrations of every schema, and the per-process database roles that keep each service in its own schema."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import asyncpg
from alembic import command
from alembic.config import Config

from services.kernel.db import plain_url, role_for
from services.kernel.topology import ALL_SCHEMAS, GATEWAY_SCHEMA

log = logging.getLogger("fundtrack.migrate")
MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"

# What each process's role may do beyond SELECT and INSERT. Nothing may UPDATE or DELETE the audit trail (A2).
UPDATE_TABLES: dict[str, str] = {GATEWAY_SCHEMA: "idempotency_keys"}
DELETE_TABLES: dict[str, tuple[str, ...]] = {GATEWAY_SCHEMA: ("audit_inbox", "audit_outbox")}
DEFAULT_DELETE_TABLES = ("audit_outbox",)


def alembic_config(schema: str, url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR / schema))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


async def _can_create_roles(conn: asyncpg.Connection) -> bool:
    row = await conn.fetchrow("SELECT rolsuper OR rolcreaterole AS ok FROM pg_roles WHERE rolname = current_user")
    return bool(row and row["ok"])


async def _ensure_roles(url: str) -> bool:
    conn = await asyncpg.connect(plain_url(url))
    try:
        if not await _can_create_roles(conn):
            log.warning("the database user may not create roles: every process connects as that user")
            return False
        for schema in ALL_SCHEMAS:
            role = role_for(schema)
            await conn.execute(
                f"DO $$ BEGIN CREATE ROLE {role} NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$"
            )
            await conn.execute(f"GRANT {role} TO CURRENT_USER")
        return True
    finally:
        await conn.close()


async def _grant(url: str) -> None:
    conn = await asyncpg.connect(plain_url(url))
    try:
        async with conn.transaction():
            for schema in ALL_SCHEMAS:
                role = role_for(schema)
                await conn.execute(f'REVOKE ALL ON ALL TABLES IN SCHEMA "{schema}" FROM {role}')
                await conn.execute(f'GRANT USAGE ON SCHEMA "{schema}" TO {role}')
                await conn.execute(f'GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA "{schema}" TO {role}')
                await conn.execute(f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA "{schema}" TO {role}')
                if schema == GATEWAY_SCHEMA:
                    await conn.execute(f'GRANT UPDATE ON "{schema}".{UPDATE_TABLES[schema]} TO {role}')
                else:
                    await conn.execute(f'GRANT UPDATE ON ALL TABLES IN SCHEMA "{schema}" TO {role}')
                for table in DELETE_TABLES.get(schema, DEFAULT_DELETE_TABLES):
                    await conn.execute(f'GRANT DELETE ON "{schema}".{table} TO {role}')
    finally:
        await conn.close()


def migrate(url: str) -> bool:
    """Bring every schema to its head; return whether per-process roles are in use."""
    roles = asyncio.run(_ensure_roles(url))
    for schema in ALL_SCHEMAS:
        command.upgrade(alembic_config(schema, url), "heads")
    if roles:
        asyncio.run(_grant(url))
    return roles
