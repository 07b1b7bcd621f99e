"""S4: the processes connect to PostgreSQL as login roles of least privilege, and migrations run as a separate owner.
Checked from each process's own connection URL (the one the stack gave the process) and on the running processes'
connections themselves."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

from deploy.migrate import OWNER_ROLE, _ensure_roles, migrate, role_report, url_as
from gateway.audit import INSERT_INBOX
from gateway.audit_chain import entry_hash
from gateway.models import AUDIT_FIELDS, GENESIS_HASH
from gateway.sequencer import INSERT_LOG, SEQUENCER_LOCK
from services.kernel.db import plain_url, role_for
from services.kernel.outbox import Pending
from services.kernel.topology import ALL_SCHEMAS, GATEWAY_SCHEMA
from tests.platform import before_baseline
from tests.stack import Stack, TestDatabase, _with_database


def _require_roles(stack: Stack) -> None:
    if not stack.db_urls:
        pytest.fail("the test server let migrate create no roles: every process connects as the superuser")


async def _connect(stack: Stack, process: str) -> asyncpg.Connection:
    return await asyncpg.connect(plain_url(stack.db_urls[process]), server_settings={"search_path": process})


@pytest.mark.parametrize("process", ALL_SCHEMAS)
async def test_a_process_role_is_no_superuser_and_cannot_become_one(stack: Stack, process: str) -> None:
    _require_roles(stack)
    conn = await _connect(stack, process)
    try:
        report = await role_report(conn)
        assert report["role"] == role_for(process)
        assert not any(report[a] for a in ("rolsuper", "rolcreaterole", "rolcreatedb", "rolreplication",
                                           "rolbypassrls"))
        assert report["member_of"] == []
        for other in ("postgres", OWNER_ROLE, *(role_for(p) for p in ALL_SCHEMAS if p != process)):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(f'SET ROLE "{other}"')
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("CREATE ROLE fundtrack_intruder")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):  # not the owner: no DDL on its own tables
            await conn.execute("ALTER TABLE audit_outbox DISABLE TRIGGER USER")
    finally:
        await conn.close()


@pytest.mark.parametrize("process", ALL_SCHEMAS)
async def test_a_process_role_may_not_touch_unchained_audit_entries(stack: Stack, process: str) -> None:
    _require_roles(stack)
    conn = await _connect(stack, process)
    try:
        tables = ["audit_outbox", "audit_outbox_acks"] + (["audit_log"] if process == GATEWAY_SCHEMA else [])
        for table in tables:
            for statement in (f"UPDATE {table} SET status = status WHERE false" if table != "audit_outbox_acks"
                              else f"UPDATE {table} SET seq = seq WHERE false",
                              f"DELETE FROM {table} WHERE false", f"TRUNCATE {table}"):
                with pytest.raises(asyncpg.InsufficientPrivilegeError):
                    await conn.execute(statement)
        if process == GATEWAY_SCHEMA:  # the inbox: deletes of chained entries only (the sequencer's)
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="only once it is chained"):
                async with conn.transaction():
                    inbox_id = await conn.fetchval(
                        "INSERT INTO audit_inbox (at, principal_id, role, region_code, method, path, query, "
                        "entity_ids, body_sha256, status, code, request_id, origin) VALUES (now(), 'x', 'admin', "
                        "'000000', 'GET', '/x', '', '{}', '', 200, '', 'probe', 'gateway') RETURNING id"
                    )
                    await conn.execute("DELETE FROM audit_inbox WHERE id = $1", inbox_id)
        # what it needs: read and write its own schema
        assert await conn.fetchval("SELECT count(*) >= 0 FROM audit_outbox") is True
    finally:
        await conn.close()


@pytest.mark.parametrize("process", [p for p in ALL_SCHEMAS if p != GATEWAY_SCHEMA])
async def test_a_service_role_updates_only_derived_state(stack: Stack, process: str) -> None:
    """What a service records, it may not rewrite: its alert history (who acknowledged or resolved an alert), the
    nonces it has seen, the migrations' bookmark, its S6 refusals; an outside probe could UPDATE the first three.
    The allowed side: the alert's own state, which acknowledge and resolve move."""
    _require_roles(stack)
    conn = await _connect(stack, process)
    try:
        never = ["alert_events", "signed_nonces", "alembic_version"] + (["refusals"] if process in ("funds", "loans")
                                                                      else [])
        for table in never:
            column = await conn.fetchval(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 "
                "ORDER BY ordinal_position LIMIT 1", process, table)
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(f'UPDATE {table} SET "{column}" = "{column}" WHERE false')
        assert await conn.execute("UPDATE alerts SET status = status WHERE false") == "UPDATE 0"
    finally:
        await conn.close()


@pytest.mark.parametrize("process", ALL_SCHEMAS)
async def test_a_process_role_cannot_read_another_schema(stack: Stack, process: str) -> None:
    _require_roles(stack)
    conn = await _connect(stack, process)
    try:
        for other in ALL_SCHEMAS:
            if other != process:
                with pytest.raises(asyncpg.InsufficientPrivilegeError):
                    await conn.fetchval(f"SELECT count(*) FROM {other}.audit_outbox")
    finally:
        await conn.close()


async def test_the_running_processes_connect_as_their_own_roles(stack: Stack, db: asyncpg.Pool) -> None:
    _require_roles(stack)
    rows = await db.fetch(
        "SELECT DISTINCT application_name, usename FROM pg_stat_activity "
        "WHERE datname = current_database() AND application_name LIKE 'fundtrack-%'"
    )
    seen = {r["application_name"]: r["usename"] for r in rows}
    for process in ALL_SCHEMAS:
        assert seen.get(f"fundtrack-{process}") == role_for(process), seen
    assert set(seen.values()) <= {role_for(p) for p in ALL_SCHEMAS}, seen
    owners = await db.fetch(
        "SELECT DISTINCT pg_get_userbyid(c.relowner) AS owner FROM pg_class c JOIN pg_namespace n "
        "ON n.oid = c.relnamespace WHERE n.nspname = ANY($1::text[]) AND c.relkind IN ('r', 'v', 'S')",
        list(ALL_SCHEMAS),
    )
    assert [r["owner"] for r in owners] == [OWNER_ROLE]


async def test_each_process_is_given_its_own_url_only(stack: Stack) -> None:
    _require_roles(stack)
    for child in stack.children:
        raw = Path(f"/proc/{child.process.pid}/environ").read_bytes()
        env = dict(item.split("=", 1) for item in raw.decode().split("\0") if "=" in item)
        assert env["DATABASE_URL"] == stack.db_urls[child.name], child.name
        assert env["DATABASE_URL"].split("//", 1)[1].startswith(f"{role_for(child.name)}:"), child.name
        assert not [k for k in env if k.startswith("FUNDTRACK_DB_PASSWORD_")], child.name


async def test_migrate_twice_and_an_older_database_upgrades(database: TestDatabase, stack: Stack) -> None:
    """Migrate again on the running system (idempotent), and migrate a database that an older FundTrack made (as
    the superuser, no owner role) with an outbox entry waiting: it is handed over and the entry is still pending."""
    _require_roles(stack)
    data_dir = Path(stack.env["FUNDTRACK_DATA_DIR"])  # the same passwords: roles are the server's, not a database's
    again = await asyncio.to_thread(migrate, database.url, data_dir)
    assert again == stack.db_urls
    name = f"ft_old_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(plain_url(database.admin_url))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    old_url = _with_database(database.admin_url, name)
    try:
        old = await asyncpg.connect(plain_url(old_url))
        try:  # the schemas the old migration chains made, as the superuser (before the baselines of 2026-12-03)
            await before_baseline.restore(old)
            await old.execute(
                "INSERT INTO funds.audit_outbox (request_id, principal_id, role, region_code, method, path, query, "
                "entity_ids, body_sha256, status) VALUES ('waiting', 'p', 'finance', '430000', 'POST', '/funds/x', "
                "'', '{}', '', 201)"
            )
        finally:
            await old.close()
        urls = await asyncio.to_thread(migrate, old_url, data_dir)
        assert await asyncio.to_thread(migrate, old_url, data_dir) == urls  # and once more
        conn = await asyncpg.connect(plain_url(urls["funds"]), server_settings={"search_path": "funds"})
        try:
            assert [e["request_id"] for e in await Pending().read(conn, 10)] == ["waiting"]
            assert (await role_report(conn))["rolsuper"] is False
        finally:
            await conn.close()
        check = await asyncpg.connect(plain_url(old_url))
        try:
            owners = await check.fetch(
                "SELECT DISTINCT pg_get_userbyid(c.relowner) AS owner FROM pg_class c JOIN pg_namespace n "
                "ON n.oid = c.relnamespace WHERE n.nspname = ANY($1::text[]) AND c.relkind IN ('r', 'v')",
                list(ALL_SCHEMAS),
            )
            assert [r["owner"] for r in owners] == [OWNER_ROLE]
        finally:
            await check.close()
    finally:
        admin = await asyncpg.connect(plain_url(database.admin_url))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def test_a_user_that_may_not_create_roles_keeps_the_shared_connection_and_is_reported(
    database: TestDatabase, caplog: pytest.LogCaptureFixture
) -> None:
    """The fallback: migrate makes no roles (said as a warning), and role_report shows doctor what that user is."""
    plain = f"ft_plain_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(plain_url(database.admin_url))
    try:
        assert (await role_report(admin))["rolsuper"] is True  # the other side: the superuser is reported as such
        await admin.execute(f"CREATE ROLE {plain} LOGIN NOSUPERUSER NOCREATEROLE PASSWORD 'x'")
        try:
            url = url_as(database.url, plain, "x")
            assert await _ensure_roles(url, {}) is False
            assert "may not create roles" in caplog.text
            conn = await asyncpg.connect(plain_url(url))
            try:
                report = await role_report(conn)
            finally:
                await conn.close()
            assert report["role"] == plain and report["rolsuper"] is False and report["member_of"] == []
        finally:
            await admin.execute(f"DROP ROLE {plain}")
    finally:
        await admin.close()


class _Rollback(Exception):
    pass


async def test_the_gateway_cannot_swap_a_door_entry_for_a_forged_chained_one(stack: Stack) -> None:
    """S4 (A5): holding the sequencer's lock, the gateway's login chains a row naming an inbox entry with another
    principal (hash correct): the inbox entry still cannot be deleted. The same entry chained as it is can (the
    sequencer's way). Both rolled back."""
    _require_roles(stack)
    conn = await _connect(stack, GATEWAY_SCHEMA)
    entry = {"at": datetime.now(UTC), "principal_id": "p-real", "role": "finance", "region_code": "430000",
             "method": "GET", "path": "/funds/sources", "query": "", "entity_ids": [], "body_sha256": "",
             "status": 200, "code": "", "request_id": f"swap-{uuid.uuid4().hex}", "origin": "gateway",
             "origin_id": None}
    try:
        for principal, refused in (("p-forger", True), ("p-real", False)):
            with pytest.raises(asyncpg.InsufficientPrivilegeError if refused else _Rollback, match="as it is|^$"):
                async with conn.transaction():
                    await conn.execute("SELECT pg_advisory_xact_lock($1)", SEQUENCER_LOCK)
                    inbox_id = await conn.fetchval(
                        f"{INSERT_INBOX} RETURNING id", *[entry[f] for f in AUDIT_FIELDS]
                    )
                    head = await conn.fetchrow("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
                    seq, prev = (head["seq"] + 1, head["hash"]) if head else (1, GENESIS_HASH)
                    chained = {**entry, "principal_id": principal}
                    await conn.execute(
                        INSERT_LOG, *[chained[f] for f in AUDIT_FIELDS], seq, prev, entry_hash(prev, seq, chained),
                        inbox_id, datetime.now(UTC),  # sequenced_at, as the sequencer stamps it
                    )
                    await conn.execute("DELETE FROM audit_inbox WHERE id = $1", inbox_id)
                    raise _Rollback
    finally:
        await conn.close()
