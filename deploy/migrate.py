"""Migrations of every schema, and the database roles of least privilege (S4).

- The models are the schema (migrations.schemas): a fresh schema is created from its models and stamped at its
  head revision, in one transaction; an existing one is upgraded to its head and then compared with its models, and
  refused (`SchemaDrift`, one line per difference) if they differ (deploy/drift.py).

- `fundtrack_owner` (NOLOGIN) owns every schema and table: migrations run as it (`SET ROLE` from the DATABASE_URL
  user, who must be a superuser or hold CREATEROLE). No process connects as it, and no login role is a member of it.
- `fundtrack_<process>` (gateway, funds, projects, loans, registry, oversight) are LOGIN roles, one per process, with no
  superuser, CREATEROLE, CREATEDB, replication or BYPASSRLS attribute and no membership of any role (so `SET ROLE`
  to another role fails), and only the grants their process needs on their own schema. Their passwords are given
  in FUNDTRACK_DB_PASSWORD_<PROCESS> (production) or generated once and kept under FUNDTRACK_DATA_DIR; each process
  is given a DATABASE_URL that carries its own role and password only (`process_urls`).
- Nobody may UPDATE or DELETE an audit entry before it is chained: the outboxes and their acknowledgements are
  append-only (trigger, and no grant); the gateway may delete a door entry from its inbox only once it is chained
  (trigger, gateway/models.py).

A DATABASE_URL user that may not create roles keeps the old way (every process connects as that user): said loudly,
and `role_report` tells `fundtrack doctor` what that user may do.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg
from alembic import command
from alembic.config import Config

from deploy.drift import SchemaDrift, differences
from deploy.secrets import kept_secret
from migrations.schemas import CREATE_FROM_MODELS
from services.kernel.db import plain_url, role_for
from services.kernel.topology import ALL_SCHEMAS, GATEWAY_SCHEMA

log = logging.getLogger("fundtrack.migrate")
MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
OWNER_ROLE = "fundtrack_owner"
OWNER_OPTION = "fundtrack_owner_role"

# What each process's role may do beyond SELECT and INSERT on its own schema. Nothing may UPDATE or DELETE the
# audit trail, an outbox or an acknowledgement (A2, S4); the gateway's DELETE on its inbox is allowed by its trigger
# for chained entries only; `signed_nonces` are forgotten ~1.7 hours after their signature (S5, kernel/nonces.py).
APPEND_ONLY_KERNEL_TABLES = ("audit_outbox", "audit_outbox_acks")
# Tables of a service schema its role never updates, though the service updates others there: alert history,
# S6's refusals (funds, loans only), the nonces it has seen (S5; forgotten by DELETE), and the migrations' own
# bookmark (an outside probe could `UPDATE loans.alembic_version`, and rewrite who acknowledged an alert).
INSERT_ONLY_TABLES = ("refusals", "alert_events", "signed_nonces", "alembic_version")
# The public's rate counter (S16) is an ephemeral counter, not a record: counted up, and forgotten by DELETE.
UPDATE_TABLES: dict[str, tuple[str, ...]] = {GATEWAY_SCHEMA: ("idempotency_keys", "public_post_counts")}
# The registry's import progress (issue #19) is a gauge, not a record: rows a day old are forgotten by DELETE.
DELETE_TABLES: dict[str, tuple[str, ...]] = {
    GATEWAY_SCHEMA: ("audit_inbox", "signed_nonces", "public_post_counts"),
    "registry": ("signed_nonces", "import_progress"),
}
DEFAULT_DELETE_TABLES = ("signed_nonces",)
# Attributes a login role must not have, and that `ALTER ROLE` takes away again on every migrate.
NO_POWERS = "NOSUPERUSER NOCREATEROLE NOCREATEDB NOREPLICATION NOBYPASSRLS NOINHERIT"
# "tuple concurrently updated": two migrations of databases on one server change the same (cluster-wide) role.
ROLE_RACE_SQLSTATE = "XX000"


async def _versioned(url: str) -> set[str]:
    """The schemas that have an Alembic bookmark (the others are made from their models)."""
    conn = await asyncpg.connect(plain_url(url))
    try:
        rows = await conn.fetch(  # the catalog, not information_schema: it shows tables whatever the user's grants
            "SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relname = 'alembic_version' AND n.nspname = ANY($1::text[])",
            list(ALL_SCHEMAS),
        )
        return {r["nspname"] for r in rows}
    finally:
        await conn.close()


def _migrate_schemas(url: str, owner: str | None) -> None:
    """Create each fresh schema from its models and stamp it; upgrade each existing one, then refuse the database
    if one of those differs from its models."""
    versioned = asyncio.run(_versioned(url))
    for schema in ALL_SCHEMAS:
        cfg = alembic_config(schema, url, owner=owner)
        if schema in versioned:
            command.upgrade(cfg, "heads")
        else:
            cfg.attributes[CREATE_FROM_MODELS] = True
            command.stamp(cfg, "heads")
    drift = differences(url, tuple(s for s in ALL_SCHEMAS if s in versioned))
    if drift:
        raise SchemaDrift(drift)


def alembic_config(schema: str, url: str, *, owner: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR / schema))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if owner:
        cfg.set_main_option(OWNER_OPTION, owner)
    return cfg


def password_variable(process: str) -> str:
    return f"FUNDTRACK_DB_PASSWORD_{process.upper()}"


def passwords(data_dir: Path) -> dict[str, str]:
    """Each process's database password: from FUNDTRACK_DB_PASSWORD_<PROCESS>, else generated once (mode 600)."""
    return {p: kept_secret(data_dir, f"db_password_{p}", password_variable(p)) for p in ALL_SCHEMAS}


def url_as(url: str, user: str, password: str) -> str:
    """`url` (DATABASE_URL's server and database) with another user and password."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def process_urls(url: str, secrets_by_process: Mapping[str, str]) -> dict[str, str]:
    return {p: url_as(url, role_for(p), secrets_by_process[p]) for p in ALL_SCHEMAS}


async def role_report(conn: asyncpg.Connection) -> dict[str, Any]:
    """What the connecting role may do (for `fundtrack doctor`): its attributes, and the roles it is a member of
    (directly or not), i.e. the roles it may `SET ROLE` to or inherit from."""
    row = await conn.fetchrow(
        "SELECT current_user AS role, rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls, rolinherit "
        "FROM pg_roles WHERE rolname = current_user"
    )
    members = await conn.fetch(
        "SELECT r.rolname FROM pg_roles r WHERE r.rolname <> current_user "
        "AND pg_has_role(current_user, r.oid, 'MEMBER') ORDER BY r.rolname"
    )
    report: dict[str, Any] = dict(row) if row else {"role": None}
    report["member_of"] = [m["rolname"] for m in members]
    return report


async def _can_create_roles(conn: asyncpg.Connection) -> bool:
    row = await conn.fetchrow("SELECT rolsuper OR rolcreaterole AS ok FROM pg_roles WHERE rolname = current_user")
    return bool(row and row["ok"])


async def _with_retry(conn: asyncpg.Connection, sql: str) -> None:
    for attempt in range(5):
        try:
            await conn.execute(sql)
            return
        except asyncpg.PostgresError as exc:
            if exc.sqlstate != ROLE_RACE_SQLSTATE or attempt == 4:
                raise
            await asyncio.sleep(0.05 * (attempt + 1))


async def _ensure_role(conn: asyncpg.Connection, role: str, attributes: str) -> None:
    await _with_retry(
        conn, f"DO $$ BEGIN CREATE ROLE {role} {attributes}; EXCEPTION WHEN duplicate_object THEN NULL; END $$"
    )
    await _with_retry(conn, f"ALTER ROLE {role} {attributes}")


async def _drop_memberships(conn: asyncpg.Connection, role: str) -> None:
    """A login role is a member of no role (an older FundTrack made none, but an operator might have)."""
    granted = await conn.fetch(
        "SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
        "JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = $1",
        role,
    )
    for row in granted:
        await _with_retry(conn, f'REVOKE "{row["rolname"]}" FROM {role}')


async def _ensure_roles(url: str, secrets_by_process: Mapping[str, str]) -> bool:
    conn = await asyncpg.connect(plain_url(url))
    try:
        if not await _can_create_roles(conn):
            log.warning(
                "!!! the DATABASE_URL user may not create roles: every FundTrack process connects as that user, with "
                "all its rights (least privilege, S4, is NOT in force; `fundtrack doctor` reports it)"
            )
            return False
        await _ensure_role(conn, OWNER_ROLE, f"NOLOGIN {NO_POWERS}")
        # The migrating user must be able to SET ROLE to the owner (a CREATEROLE user is not a superuser).
        await _with_retry(conn, f"GRANT {OWNER_ROLE} TO CURRENT_USER")
        database = await conn.fetchval("SELECT current_database()")
        await conn.execute(f'GRANT CREATE, CONNECT ON DATABASE "{database}" TO {OWNER_ROLE}')
        for process in ALL_SCHEMAS:
            role = role_for(process)
            password = secrets_by_process[process].replace("'", "''")
            await _ensure_role(conn, role, f"LOGIN {NO_POWERS} PASSWORD '{password}'")
            await _drop_memberships(conn, role)
            await conn.execute(f'GRANT CONNECT ON DATABASE "{database}" TO {role}')
        await _hand_over(conn)
        return True
    finally:
        await conn.close()


async def _hand_over(conn: asyncpg.Connection) -> None:
    """A database migrated by an older FundTrack (as the DATABASE_URL user): its schemas, tables, views, sequences
    and functions become the owner role's, so the migrations that follow run as it."""
    for schema in ALL_SCHEMAS:
        if await conn.fetchval("SELECT 1 FROM pg_namespace WHERE nspname = $1", schema) is None:
            continue
        await conn.execute(f'ALTER SCHEMA "{schema}" OWNER TO {OWNER_ROLE}')
        relations = await conn.fetch(
            "SELECT c.relname, c.relkind::text AS relkind FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "LEFT JOIN pg_depend d ON d.objid = c.oid AND d.deptype IN ('a', 'i') AND c.relkind = 'S' "
            "WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'S') AND d.objid IS NULL "
            "AND pg_get_userbyid(c.relowner) <> $2",
            schema,
            OWNER_ROLE,
        )
        kinds = {"r": "TABLE", "p": "TABLE", "v": "VIEW", "m": "MATERIALIZED VIEW", "S": "SEQUENCE"}
        for rel in relations:
            await conn.execute(f'ALTER {kinds[rel["relkind"]]} "{schema}"."{rel["relname"]}" OWNER TO {OWNER_ROLE}')
        functions = await conn.fetch(
            "SELECT p.oid::regprocedure::text AS signature FROM pg_proc p "
            "JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1 AND pg_get_userbyid(p.proowner) <> $2",
            schema,
            OWNER_ROLE,
        )
        for fn in functions:
            await conn.execute(f"ALTER FUNCTION {fn['signature']} OWNER TO {OWNER_ROLE}")


async def _grant(url: str) -> None:
    conn = await asyncpg.connect(plain_url(url))
    try:
        async with conn.transaction():
            for schema in ALL_SCHEMAS:
                await _grant_schema(conn, schema, role_for(schema))
    finally:
        await conn.close()


async def _grant_schema(conn: asyncpg.Connection, schema: str, role: str) -> None:
    await conn.execute(f'REVOKE ALL ON ALL TABLES IN SCHEMA "{schema}" FROM {role}')
    await conn.execute(f'REVOKE ALL ON SCHEMA "{schema}" FROM {role}')
    await conn.execute(f'GRANT USAGE ON SCHEMA "{schema}" TO {role}')
    await conn.execute(f'GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA "{schema}" TO {role}')
    await conn.execute(f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA "{schema}" TO {role}')
    if schema == GATEWAY_SCHEMA:
        for table in UPDATE_TABLES[schema]:
            await conn.execute(f'GRANT UPDATE ON "{schema}".{table} TO {role}')
    else:  # derived state (balances, alerts); recorded facts refuse UPDATE by trigger (append_only)
        await conn.execute(f'GRANT UPDATE ON ALL TABLES IN SCHEMA "{schema}" TO {role}')
        for table in APPEND_ONLY_KERNEL_TABLES:
            await conn.execute(f'REVOKE UPDATE ON "{schema}".{table} FROM {role}')
        for table in INSERT_ONLY_TABLES:
            if await conn.fetchval("SELECT to_regclass($1)", f'"{schema}".{table}') is not None:
                await conn.execute(f'REVOKE UPDATE ON "{schema}".{table} FROM {role}')
    for table in DELETE_TABLES.get(schema, DEFAULT_DELETE_TABLES):
        await conn.execute(f'GRANT DELETE ON "{schema}".{table} TO {role}')


def migrate(url: str, data_dir: Path | None = None) -> dict[str, str]:
    """Bring every schema to its head (as the owner role where the server allows it). Return each process's own
    connection URL (its login role and password), or {} when the DATABASE_URL user may not create roles (then every
    process connects with `url` itself). Raise `SchemaDrift` if an existing schema differs from its models."""
    directory = data_dir or Path(os.environ.get("FUNDTRACK_DATA_DIR", "./.fundtrack")).resolve()
    secrets_by_process = passwords(directory)
    roles = asyncio.run(_ensure_roles(url, secrets_by_process))
    _migrate_schemas(url, OWNER_ROLE if roles else None)
    if not roles:
        return {}
    asyncio.run(_grant(url))
    return process_urls(url, secrets_by_process)
