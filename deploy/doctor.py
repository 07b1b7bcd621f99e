"""`fundtrack doctor`: the production hardening of SECURITY.md, checked where a program can check it.

Each check is a pure judgement of facts read from the environment, the data directory or the database, so that the
judgement is tested on both sides without breaking a real server. A `fail` is something SECURITY.md says must not be
in production (doctor exits 1); a `warn` is acceptable in development or needs a person to look.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import asyncpg

from deploy.migrate import OWNER_ROLE
from gateway.audit import unchained_acknowledgements
from services.kernel.db import plain_url, role_for
from services.kernel.settings import DEV_SECRET
from services.kernel.topology import ALL_SCHEMAS, SERVICES

Level = Literal["ok", "warn", "fail"]
MIN_SECRET_LENGTH = 32
SECRET_FILES = ("service_secret", "admin_token")
ROLE_POWERS = ("rolsuper", "rolcreaterole", "rolcreatedb", "rolreplication", "rolbypassrls")
ROLE_FACTS = (*ROLE_POWERS, "rolcanlogin")


@dataclass(frozen=True)
class Finding:
    check: str
    level: Level
    detail: str


def _production(env: Mapping[str, str]) -> bool:
    return env.get("FUNDTRACK_ENV", "development") == "production"


def _bad(env: Mapping[str, str]) -> Level:
    """What a weakness is: a failure in production, a warning elsewhere."""
    return "fail" if _production(env) else "warn"


def check_environment(env: Mapping[str, str]) -> list[Finding]:
    found = [
        Finding("environment", "ok", "FUNDTRACK_ENV=production")
        if _production(env)
        else Finding("environment", "warn", "FUNDTRACK_ENV is not production: development defaults are allowed")
    ]
    for variable in ("FUNDTRACK_SERVICE_SECRET", "FUNDTRACK_ADMIN_TOKEN"):
        value = env.get(variable, "")
        if not value:
            found.append(Finding(variable, _bad(env), "not set: generated and kept in the data directory"))
        elif value == DEV_SECRET or len(value) < MIN_SECRET_LENGTH:
            found.append(Finding(variable, _bad(env), f"too weak: give {MIN_SECRET_LENGTH}+ random characters"))
        else:
            found.append(Finding(variable, "ok", "set explicitly"))
    if not env.get("DATABASE_URL"):
        found.append(Finding("DATABASE_URL", _bad(env), "not set: the embedded PostgreSQL is for development"))
    return found


def _loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_service_urls(env: Mapping[str, str]) -> list[Finding]:
    """A service reached over plain HTTP off this host carries signed identities anyone on the path can read."""
    found = []
    for name in SERVICES:
        url = env.get(f"FUNDTRACK_{name.upper()}_URL")
        if not url:
            continue
        parts = urlsplit(url)
        if parts.scheme == "http" and not _loopback(parts.hostname or ""):
            found.append(Finding(f"FUNDTRACK_{name.upper()}_URL", _bad(env), f"{url}: plain HTTP off this host"))
        else:
            found.append(Finding(f"FUNDTRACK_{name.upper()}_URL", "ok", url))
    return found


def check_data_dir(directory: Path) -> list[Finding]:
    """Secrets generated on a first start must be readable by their owner only."""
    found = []
    for name in SECRET_FILES:
        path = directory / name
        if not path.exists():
            continue
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            found.append(Finding(f"data dir {name}", "fail", f"{path} is mode {mode:o}: chmod 600 it"))
        else:
            found.append(Finding(f"data dir {name}", "ok", f"{path} is mode {mode:o}"))
    return found


def judge_role(role: str, attributes: Mapping[str, Any] | None, member_of: Sequence[str]) -> list[Finding]:
    """A process's database role: it exists, logs in, holds none of the powers, and can SET ROLE to nothing."""
    if attributes is None:
        return [Finding(f"role {role}", "fail", "missing: run `fundtrack migrate` as the owner")]
    powers = [p for p in ROLE_POWERS if attributes.get(p)]
    if powers:
        return [Finding(f"role {role}", "fail", "holds " + ", ".join(powers) + ": the app must be least-privileged")]
    if member_of:
        return [Finding(f"role {role}", "fail", "member of " + ", ".join(member_of) + ": it could SET ROLE to them")]
    return [Finding(f"role {role}", "ok", "no superuser, no role powers, member of no role")]


def judge_owner(attributes: Mapping[str, Any] | None) -> list[Finding]:
    """The owner of every schema (`fundtrack migrate` sets its role to it) must not log in: nobody connects as it."""
    if attributes is None:
        return [Finding(f"role {OWNER_ROLE}", "warn", "missing: the tables belong to the migrating user")]
    if attributes.get("rolcanlogin"):
        return [Finding(f"role {OWNER_ROLE}", "fail", "can log in: it owns every table, make it NOLOGIN")]
    return [Finding(f"role {OWNER_ROLE}", "ok", "owns the schemas and cannot log in")]


def judge_acknowledgements(unchained: Sequence[Mapping[str, Any]]) -> list[Finding]:
    """S4: an outbox entry acknowledged by the sequencer must be in the chain at the seq the acknowledgement names;
    one that is not was acknowledged by someone else, or the trail lost it."""
    if not unchained:
        return [Finding("audit acknowledgements", "ok", "every acknowledged outbox entry is in the chain")]
    first = ", ".join(f"{u['origin']}#{u['outbox_id']} (seq {u['seq']})" for u in unchained[:5])
    return [Finding("audit acknowledgements", "fail", f"{len(unchained)} acknowledged but not chained: {first}")]


def judge_hba(rules: Sequence[Mapping[str, Any]] | None, env: Mapping[str, str]) -> list[Finding]:
    """pg_hba.conf: no `trust`, and passwords as SCRAM rather than md5/plain text, on any line a process could use."""
    if rules is None:
        return [Finding("pg_hba", "warn", "cannot read pg_hba_file_rules (needs a superuser): check it by hand")]
    weak = [r for r in rules if r.get("auth_method") in ("trust", "password", "md5")]
    if not weak:
        return [Finding("pg_hba", "ok", "every line asks for SCRAM, certificates or peer")]
    lines = "; ".join(f"line {r.get('line_number')}: {r.get('type')} {r.get('auth_method')}" for r in weak)
    level: Level = "fail" if any(r.get("auth_method") == "trust" for r in weak) else "warn"
    return [Finding("pg_hba", level if _production(env) else "warn", lines)]


def judge_tls(ssl_on: bool, database_host: str, env: Mapping[str, str]) -> list[Finding]:
    if ssl_on or _loopback(database_host) or database_host.startswith("/"):
        return [Finding("database TLS", "ok", "ssl on, or the server is on this host")]
    return [Finding("database TLS", _bad(env), f"ssl is off and the server is at {database_host}")]


async def _role_facts(conn: asyncpg.Connection, role: str) -> tuple[dict[str, Any] | None, list[str]]:
    row = await conn.fetchrow(f"SELECT {', '.join(ROLE_FACTS)} FROM pg_roles WHERE rolname = $1", role)
    members = await conn.fetch(
        "SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
        "JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = $1 ORDER BY 1",
        role,
    )
    return (dict(row) if row is not None else None), [m["rolname"] for m in members]


async def check_database(url: str, env: Mapping[str, str]) -> list[Finding]:
    conn = await asyncpg.connect(plain_url(url), timeout=10)
    try:
        found: list[Finding] = []
        for schema in ALL_SCHEMAS:
            attributes, member_of = await _role_facts(conn, role_for(schema))
            found += judge_role(role_for(schema), attributes, member_of)
        found += judge_owner((await _role_facts(conn, OWNER_ROLE))[0])
        found += judge_acknowledgements(await unchained_acknowledgements(conn, ALL_SCHEMAS))
        try:
            rules = [dict(r) for r in await conn.fetch("SELECT * FROM pg_hba_file_rules WHERE error IS NULL")]
        except asyncpg.PostgresError:
            rules = None
        found += judge_hba(rules, env)
        ssl_on = (await conn.fetchval("SHOW ssl")) == "on"
        found += judge_tls(ssl_on, urlsplit(plain_url(url)).hostname or "", env)
        return found
    finally:
        await conn.close()


def run(env: Mapping[str, str], directory: Path, url: str | None) -> list[Finding]:
    found = check_environment(env) + check_service_urls(env) + check_data_dir(directory)
    if url:
        try:
            found += asyncio.run(check_database(url, env))
        except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
            found.append(Finding("database", "fail", f"cannot connect: {exc}"))
    return found


def report(findings: Sequence[Finding]) -> int:
    for f in findings:
        print(f"{f.level:<4}  {f.check}: {f.detail}")
    failures = sum(f.level == "fail" for f in findings)
    print(f"{failures} failed, {sum(f.level == 'warn' for f in findings)} to look at")
    return 1 if failures else 0


def main(directory: Path, url: str | None) -> int:
    return report(run(os.environ, directory, url))
