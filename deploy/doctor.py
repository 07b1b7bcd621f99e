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
from pydantic import ValidationError
from sqlalchemy import Select
from sqlalchemy.dialects import postgresql

from deploy.migrate import OWNER_ROLE
from gateway.audit_chain import unchained_acknowledgements
from services.funds.repository import summaries
from services.kernel.db import plain_url, role_for
from services.kernel.errors import Problem
from services.kernel.evidence_config import EvidenceSettings, open_store
from services.kernel.settings import DEV_SECRET
from services.kernel.topology import ALL_SCHEMAS, GATEWAY_SCHEMA, SERVICES
from services.loans.models import SUBSIDY_VERSIONS_TRIGGERS, TOTALS_REPAIR, TOTALS_TRIGGERS
from services.loans.repository import county_totals_differing
from services.registry.models import DIRECTORY_TRIGGERS
from services.registry.repository import household_ids_differing

Level = Literal["ok", "warn", "fail"]
MIN_SECRET_LENGTH = 32
SECRET_FILES = ("service_secret", "admin_token")
AUDIT = "FUNDTRACK_AUDIT_"
EVIDENCE = "FUNDTRACK_EVIDENCE_"
ROLE_POWERS = ("rolsuper", "rolcreaterole", "rolcreatedb", "rolreplication", "rolbypassrls")
ROLE_FACTS = (*ROLE_POWERS, "rolcanlogin")
# S4: the tables of the audit trail, in whichever schemas hold them; no app role may rewrite or empty them.
AUDIT_TABLES = (
    "audit_log", "audit_inbox", "audit_outbox", "audit_outbox_acks", "audit_tree_records", "audit_checkpoints"
)
REWRITES = ("UPDATE", "DELETE", "TRUNCATE")
# The one rewrite a role holds on an audit table: the gateway deletes chained door entries (its trigger checks).
ALLOWED_REWRITES = {(role_for(GATEWAY_SCHEMA), f"{GATEWAY_SCHEMA}.audit_inbox", "DELETE")}
# A trigger fires in normal operation when origin (O) or always (A); D is disabled, R fires on replicas only.
FIRING = ("O", "A")


def _trigger(schema: str, statement: str) -> tuple[str, str]:
    """(schema.table, trigger) of a CREATE TRIGGER statement of the models."""
    words = statement.split()
    return f"{schema}.{statement.split(' ON ')[1].split()[0]}", words[2]


# The triggers that keep derived state in step with the facts, as the models declare them: one missing or disabled
# lets a figure the services read instead of the facts drift from them unseen (loans' county totals and subsidy
# versions, L6a; the registry's directory of household ids, which also keeps a household one across counties).
KEEPING_TRIGGERS = tuple(
    [_trigger("loans", s) for s in (*TOTALS_TRIGGERS, *SUBSIDY_VERSIONS_TRIGGERS)]
    + [_trigger("registry", s) for s in DIRECTORY_TRIGGERS]
)


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


def check_audit_key(env: Mapping[str, str], directory: Path) -> list[Finding]:
    """A6: the key that signs the trail's checkpoints is a file outside the database that only its owner reads,
    named explicitly in production; the checkpoints are published where the database's operator cannot rewrite
    them."""
    key_file, witness_dir = env.get(f"{AUDIT}SIGNING_KEY_FILE", ""), env.get(f"{AUDIT}WITNESS_DIR", "")
    path = Path(key_file) if key_file else directory / "audit-signing.key"
    found = []
    if not key_file:
        found.append(Finding(f"{AUDIT}SIGNING_KEY_FILE", _bad(env), f"not set: the key is {path}, in the data "
                             "directory; keep it apart from the database and its backups"))
    if not path.exists():
        if key_file:
            found.append(Finding(f"{AUDIT}SIGNING_KEY_FILE", "fail", f"{path} does not exist"))
    elif (mode := stat.S_IMODE(path.stat().st_mode)) & 0o077:
        found.append(Finding("audit signing key", "fail", f"{path} is mode {mode:o}: chmod 600 it"))
    else:
        found.append(Finding("audit signing key", "ok", f"{path} is mode {mode:o}"))
    if not witness_dir:
        found.append(Finding(f"{AUDIT}WITNESS_DIR", "warn", "not set: checkpoints are published in the data "
                             "directory; publish them where the database's operator cannot write"))
    return found


def evidence_settings(env: Mapping[str, str]) -> EvidenceSettings:
    """FUNDTRACK_EVIDENCE_* as `env` gives them (a ValidationError naming the variable when one is wrong)."""
    given = {name: env[f"{EVIDENCE}{name.upper()}"] for name in EvidenceSettings.model_fields
             if f"{EVIDENCE}{name.upper()}" in env}
    return EvidenceSettings.model_validate(given)


def check_evidence(env: Mapping[str, str], directory: Path) -> list[Finding]:
    """E1: the evidence store's mode, and that a document can be kept in it and read back verified (a fixed probe
    document, kept once and never removed: the store needs no delete). S3 over plain http to another host carries
    the documents readable on the way."""
    try:
        settings = evidence_settings(env)
    except ValidationError as exc:
        return [Finding("evidence store", "fail", "; ".join(str(e["msg"]) for e in exc.errors()))]
    found = []
    if settings.s3_url:
        host = urlsplit(settings.s3_url).hostname or ""
        if settings.s3_url.startswith("http://") and not _loopback(host):
            found.append(Finding(f"{EVIDENCE}S3_URL", _bad(env), f"{settings.s3_url}: plain HTTP off this host"))
    store = open_store(settings, directory)
    try:
        where = asyncio.run(store.probe())
    except (Problem, OSError) as exc:
        detail = exc.detail if isinstance(exc, Problem) else str(exc)
        return [*found, Finding("evidence store", "fail", f"{store.mode}: {store.where()}: {detail}")]
    return [*found, Finding("evidence store", "ok", f"{store.mode}: {where}: a probe document was kept and read back "
                            "verified")]


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
    """S4: an outbox entry acknowledged by the sequencer must be in the chain, as written, at the seq the
    acknowledgement names, and no chained row may claim an outbox entry it does not carry (`missing`, `differs`,
    `forged`: gateway.audit_chain.unchained_acknowledgements); otherwise someone else acknowledged or forged it, or the
    trail lost it."""
    if not unchained:
        return [Finding("audit acknowledgements", "ok", "every acknowledged outbox entry is in the chain")]
    first = ", ".join(
        f"{u['origin']}#{u['outbox_id']} (seq {u['seq']}) {u.get('problem', 'missing')}" for u in unchained[:5]
    )
    return [Finding("audit acknowledgements", "fail", f"{len(unchained)} not in the chain as written: {first}")]


def judge_audit_rewrites(held: Sequence[tuple[str, str, str]]) -> list[Finding]:
    """S4: (role, schema.table, privilege) an app role holds among UPDATE, DELETE and TRUNCATE on an audit table
    (has_table_privilege, PUBLIC's grants included). Any but the gateway's DELETE on its inbox fails."""
    bad = [h for h in held if tuple(h) not in ALLOWED_REWRITES]
    if not bad:
        return [Finding("audit table grants", "ok", "no app role may update, delete or truncate the audit trail")]
    return [Finding("audit table grants", "fail", f"{role} holds {right} on {table}") for role, table, right in bad]


def judge_account_summaries(behind: int) -> list[Finding]:
    """The dates funds keeps on each account's row (its latest transfer out and in) equal its transfers': F3, F9 and
    the progress report read them instead of the transfers (services/funds/repository/summaries.py)."""
    if behind == 0:
        return [Finding("funds account dates", "ok", "each account's latest dates in and out are its transfers'")]
    return [Finding("funds account dates", "fail",
                    f"{behind} accounts' latest inflow or outflow dates differ from their transfers (a funds process "
                    "older than its schema wrote during an upgrade): run `fundtrack repair-summaries`")]


def judge_loan_totals(differing: int) -> list[Finding]:
    """The totals loans keeps per county (loan_county_totals, by a trigger on the balances) equal the recomputation
    from the balances: the outstanding report reads them instead of every loan (services/loans/models.py
    `CountyTotal`)."""
    if differing == 0:
        return [Finding("loans county totals", "ok", "each county's kept totals are its balances'")]
    return [Finding("loans county totals", "fail",
                    f"{differing} counties' kept loans, loans owing or principal owed differ from their balances (the "
                    "trigger on loans.loan_balances disabled or bypassed): the outstanding report is wrong for them; "
                    "run `fundtrack repair-summaries`")]


async def loan_totals_drift(conn: asyncpg.Connection) -> int:
    """How many counties' kept totals differ from their balances (repository.county_totals_differing, in the loans
    schema: a read of every balance, seconds at millions)."""
    return await _rows_of(conn, "loans", county_totals_differing())


async def _rows_of(conn: asyncpg.Connection, schema: str, query: Select[Any]) -> int:
    """How many rows a repository's query of the differences between derived state and its facts gives, in
    `schema`: none, ever."""
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    statement = query.compile(dialect=dialect, compile_kwargs={"literal_binds": True})
    async with conn.transaction():
        await conn.execute(f"SET LOCAL search_path = {schema}")
        count: int = await conn.fetchval(f"SELECT count(*) FROM ({statement}) d")  # noqa: S608 (our own statement)
    return count


async def repair_loan_totals(conn: asyncpg.Connection) -> int:
    """Set every county's kept totals to its balances' again (models.TOTALS_REPAIR, `fundtrack repair-summaries`);
    how many rows it wrote (0 when none had drifted)."""
    async with conn.transaction():
        await conn.execute("SET LOCAL search_path = loans")
        *_, done = [await conn.execute(statement) for statement in TOTALS_REPAIR]
    return int(done.split()[-1])


def judge_household_ids(differing: int) -> list[Finding]:
    """The registry's directory of household ids (household_ids, kept by triggers on the roster) equals the roster:
    it is what keeps a household one across counties (services/registry/models.py `HouseholdId`)."""
    if differing == 0:
        return [Finding("registry household ids", "ok", "the directory of household ids is the roster's")]
    return [Finding("registry household ids", "fail",
                    f"{differing} household ids differ between registry.household_ids and the roster (the triggers on "
                    "registry.households disabled or bypassed): a household may be registered in two counties; "
                    "compare them with `repository.household_ids_differing` and correct the directory by hand")]


async def household_ids_drift(conn: asyncpg.Connection) -> int:
    """How many household ids differ between the directory and the roster (repository.household_ids_differing, in
    the registry schema: a read of both, seconds at millions)."""
    return await _rows_of(conn, "registry", household_ids_differing())


def judge_schema_usage(usage: Sequence[tuple[str, str]]) -> list[Finding]:
    """S4: (process, schema) pairs where the process's role has USAGE on the schema: its own only."""
    bad = [(process, schema) for process, schema in usage if process != schema]
    if not bad:
        return [Finding("schema usage", "ok", "each app role uses its own schema only")]
    return [Finding("schema usage", "fail", f"{role_for(p)} has USAGE on schema {s}") for p, s in bad]


def judge_audit_triggers(triggers: Sequence[tuple[str, str | None, str | None]]) -> list[Finding]:
    """S4: (schema.table, trigger or None, pg_trigger.tgenabled) of every audit table: each has triggers (they are
    what refuses UPDATE, DELETE and TRUNCATE whatever the role) and every one of them fires."""
    found = []
    for table, trigger, enabled in triggers:
        if trigger is None:
            found.append(Finding("audit triggers", "fail", f"{table} has no trigger: nothing refuses a rewrite"))
        elif enabled not in FIRING:
            found.append(Finding("audit triggers", "fail", f"{trigger} on {table} is disabled ({enabled}): enable it"))
    return found or [Finding("audit triggers", "ok", "every trigger on the audit tables is enabled")]


def judge_keeping_triggers(states: Sequence[tuple[str, str, str | None]]) -> list[Finding]:
    """(schema.table, trigger, pg_trigger.tgenabled or None when it is missing) of each of KEEPING_TRIGGERS: every
    one is there and fires."""
    found = []
    for table, trigger, enabled in states:
        if enabled is None:
            found.append(Finding("derived-state triggers", "fail",
                                 f"{trigger} on {table} is missing: run `fundtrack migrate`"))
        elif enabled not in FIRING:
            found.append(Finding("derived-state triggers", "fail",
                                 f"{trigger} on {table} is disabled ({enabled}): enable it, then run `fundtrack "
                                 "doctor` again (what it keeps may have drifted meanwhile)"))
    return found or [Finding("derived-state triggers", "ok", "every trigger keeping derived state is enabled")]


async def keeping_trigger_states(conn: asyncpg.Connection) -> list[tuple[str, str, str | None]]:
    rows = await conn.fetch(
        "SELECT k.tbl, k.name, t.tgenabled::text FROM unnest($1::text[], $2::text[]) AS k(tbl, name) "
        "LEFT JOIN pg_trigger t ON t.tgrelid = to_regclass(k.tbl) AND t.tgname = k.name ORDER BY 1, 2",
        [t for t, _ in KEEPING_TRIGGERS], [n for _, n in KEEPING_TRIGGERS])
    return [(r[0], r[1], r[2]) for r in rows]


def judge_table_owners(owners: Sequence[tuple[str, str]], roles_in_use: bool) -> list[Finding]:
    """S4: (schema.relation, owner) of every table, view and sequence in the FundTrack schemas: all the owner
    role's when roles are in use (whoever owns a table may disable its triggers and grant anything on it)."""
    if not roles_in_use:
        return []
    bad = [(name, owner) for name, owner in owners if owner != OWNER_ROLE]
    if not bad:
        return [Finding("table owners", "ok", f"every table belongs to {OWNER_ROLE}")]
    return [Finding("table owners", "fail", f"{name} is owned by {owner}, not {OWNER_ROLE}") for name, owner in bad]


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


async def _audit_facts(conn: asyncpg.Connection) -> list[Finding]:
    roles = [role_for(s) for s in ALL_SCHEMAS]
    held = await conn.fetch(
        "SELECT r.rolname, n.nspname || '.' || c.relname AS name, p.privilege "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace CROSS JOIN pg_roles r "
        "CROSS JOIN unnest($4::text[]) AS p(privilege) "
        "WHERE n.nspname = ANY($1::text[]) AND c.relname = ANY($2::text[]) AND c.relkind IN ('r', 'p') "
        "AND r.rolname = ANY($3::text[]) AND has_table_privilege(r.oid, c.oid, p.privilege) ORDER BY 1, 2, 3",
        list(ALL_SCHEMAS),
        list(AUDIT_TABLES),
        roles,
        list(REWRITES),
    )
    usage = await conn.fetch(
        "SELECT substr(r.rolname, length('fundtrack_') + 1) AS process, n.nspname FROM pg_roles r "
        "CROSS JOIN pg_namespace n WHERE r.rolname = ANY($1::text[]) AND n.nspname = ANY($2::text[]) "
        "AND has_schema_privilege(r.oid, n.oid, 'USAGE') ORDER BY 1, 2",
        roles,
        list(ALL_SCHEMAS),
    )
    triggers = await conn.fetch(
        "SELECT n.nspname || '.' || c.relname AS name, t.tgname::text, t.tgenabled::text "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_trigger t ON t.tgrelid = c.oid "
        "WHERE n.nspname = ANY($1::text[]) AND c.relname = ANY($2::text[]) AND c.relkind IN ('r', 'p') ORDER BY 1, 2",
        list(ALL_SCHEMAS),
        list(AUDIT_TABLES),
    )
    return (
        judge_audit_rewrites([(r[0], r[1], r[2]) for r in held])
        + judge_schema_usage([(r[0], r[1]) for r in usage])
        + judge_audit_triggers([(r[0], r[1], r[2]) for r in triggers])
    )


async def _owners(conn: asyncpg.Connection) -> list[tuple[str, str]]:
    rows = await conn.fetch(
        "SELECT n.nspname || '.' || c.relname AS name, pg_get_userbyid(c.relowner) AS owner FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = ANY($1::text[]) AND c.relkind IN ('r', 'p', 'v', 'm', 'S') ORDER BY 1",
        list(ALL_SCHEMAS),
    )
    return [(r["name"], r["owner"]) for r in rows]


async def check_database(url: str, env: Mapping[str, str]) -> list[Finding]:
    conn = await asyncpg.connect(plain_url(url), timeout=10)
    try:
        found: list[Finding] = []
        for schema in ALL_SCHEMAS:
            attributes, member_of = await _role_facts(conn, role_for(schema))
            found += judge_role(role_for(schema), attributes, member_of)
        owner = (await _role_facts(conn, OWNER_ROLE))[0]
        found += judge_owner(owner)
        found += judge_table_owners(await _owners(conn), roles_in_use=owner is not None)
        found += await _audit_facts(conn)
        found += judge_acknowledgements(await unchained_acknowledgements(conn, ALL_SCHEMAS))
        found += judge_account_summaries(await summaries.drift(conn))
        found += judge_loan_totals(await loan_totals_drift(conn))
        found += judge_household_ids(await household_ids_drift(conn))
        found += judge_keeping_triggers(await keeping_trigger_states(conn))
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
    found += check_audit_key(env, directory)
    found += check_evidence(env, directory)
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
