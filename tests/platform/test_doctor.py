"""`fundtrack doctor`: each judgement on both sides, and the whole run against the suite's migrated database."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import asyncpg

from deploy import doctor
from deploy.migrate import OWNER_ROLE
from services.kernel.db import plain_url, role_for
from services.kernel.topology import ALL_SCHEMAS
from tests.stack import Stack

STRONG = "x" * 40
NO_POWERS = {p: False for p in doctor.ROLE_POWERS}


def levels(findings: list[doctor.Finding]) -> dict[str, str]:
    return {f.check: f.level for f in findings}


def test_production_refuses_weak_or_missing_secrets_and_the_embedded_database() -> None:
    env = {"FUNDTRACK_ENV": "production", "FUNDTRACK_SERVICE_SECRET": "short"}
    got = levels(doctor.check_environment(env))
    assert got["FUNDTRACK_SERVICE_SECRET"] == "fail"
    assert got["FUNDTRACK_ADMIN_TOKEN"] == "fail"
    assert got["DATABASE_URL"] == "fail"


def test_production_accepts_explicit_strong_secrets() -> None:
    env = {
        "FUNDTRACK_ENV": "production",
        "FUNDTRACK_SERVICE_SECRET": STRONG,
        "FUNDTRACK_ADMIN_TOKEN": STRONG,
        "DATABASE_URL": "postgresql://db/fundtrack",
    }
    assert {f.level for f in doctor.check_environment(env)} == {"ok"}


def test_development_only_warns() -> None:
    assert {f.level for f in doctor.check_environment({})} == {"warn"}


def test_an_app_role_that_may_rewrite_an_audit_table_fails_but_the_gateways_inbox_delete() -> None:
    """S4 (A5)."""
    gateway_delete = ("fundtrack_gateway", "gateway.audit_inbox", "DELETE")
    assert levels(doctor.judge_audit_rewrites([gateway_delete])) == {"audit table grants": "ok"}
    assert levels(doctor.judge_audit_rewrites([])) == {"audit table grants": "ok"}
    for held in (("fundtrack_loans", "loans.audit_outbox", "DELETE"), ("fundtrack_gateway", "gateway.audit_log",
                 "TRUNCATE"), ("fundtrack_gateway", "gateway.audit_inbox", "UPDATE"),
                 ("fundtrack_funds", "funds.audit_outbox_acks", "UPDATE")):
        [finding] = doctor.judge_audit_rewrites([gateway_delete, held])
        assert finding.level == "fail" and finding.detail == f"{held[0]} holds {held[2]} on {held[1]}"


def test_usage_of_another_processs_schema_fails() -> None:
    """S4 (A5)."""
    own = [(s, s) for s in ALL_SCHEMAS]
    assert levels(doctor.judge_schema_usage(own)) == {"schema usage": "ok"}
    [finding] = doctor.judge_schema_usage([*own, ("loans", "funds")])
    assert finding.level == "fail" and finding.detail == "fundtrack_loans has USAGE on schema funds"


def test_a_disabled_or_missing_trigger_on_an_audit_table_fails() -> None:
    """S4 (A5): D is disabled, R fires on replicas only; O and A fire."""
    fine = [("loans.audit_outbox", "audit_outbox_append_only", "O"), ("gateway.audit_log", "t", "A")]
    assert levels(doctor.judge_audit_triggers(fine)) == {"audit triggers": "ok"}
    for broken in (("loans.audit_outbox", "audit_outbox_append_only", "D"), ("gateway.audit_log", "t", "R"),
                   ("funds.audit_outbox_acks", None, None)):
        [finding] = doctor.judge_audit_triggers([*fine, broken])
        assert finding.level == "fail" and broken[0] in finding.detail


def test_a_table_not_owned_by_the_owner_role_fails_when_roles_are_in_use() -> None:
    """S4 (A5)."""
    owned = [("loans.loans", OWNER_ROLE), ("gateway.audit_log", OWNER_ROLE)]
    assert levels(doctor.judge_table_owners(owned, roles_in_use=True)) == {"table owners": "ok"}
    [finding] = doctor.judge_table_owners([*owned, ("gateway.audit_log", "postgres")], roles_in_use=True)
    assert finding.level == "fail" and "gateway.audit_log is owned by postgres" in finding.detail
    assert doctor.judge_table_owners([("loans.loans", "postgres")], roles_in_use=False) == []


def test_plain_http_to_another_host_fails_in_production_and_loopback_passes() -> None:
    env = {
        "FUNDTRACK_ENV": "production",
        "FUNDTRACK_FUNDS_URL": "http://10.1.2.3:8101",
        "FUNDTRACK_LOANS_URL": "http://127.0.0.1:8103",
        "FUNDTRACK_REGISTRY_URL": "https://registry.internal:8104",
    }
    got = levels(doctor.check_service_urls(env))
    assert got == {"FUNDTRACK_FUNDS_URL": "fail", "FUNDTRACK_LOANS_URL": "ok", "FUNDTRACK_REGISTRY_URL": "ok"}


def test_the_audit_signing_key_is_explicit_in_production_and_read_by_its_owner_only(tmp_path: Path) -> None:
    key = tmp_path / "keys" / "audit.key"
    key.parent.mkdir()
    key.write_text("PRIVATE+KEY+x+1+y")
    key.chmod(0o640)
    production = {"FUNDTRACK_ENV": "production", "FUNDTRACK_AUDIT_SIGNING_KEY_FILE": str(key)}
    assert levels(doctor.check_audit_key(production, tmp_path)) == {
        "audit signing key": "fail", "FUNDTRACK_AUDIT_WITNESS_DIR": "warn"}
    key.chmod(0o600)
    witnessed = {**production, "FUNDTRACK_AUDIT_WITNESS_DIR": str(tmp_path / "witness")}
    assert levels(doctor.check_audit_key(witnessed, tmp_path)) == {"audit signing key": "ok"}
    gone = {**witnessed, "FUNDTRACK_AUDIT_SIGNING_KEY_FILE": str(tmp_path / "nowhere.key")}
    assert levels(doctor.check_audit_key(gone, tmp_path)) == {"FUNDTRACK_AUDIT_SIGNING_KEY_FILE": "fail"}
    implicit = {"FUNDTRACK_ENV": "production", "FUNDTRACK_AUDIT_WITNESS_DIR": str(tmp_path / "witness")}
    assert levels(doctor.check_audit_key(implicit, tmp_path))["FUNDTRACK_AUDIT_SIGNING_KEY_FILE"] == "fail"
    assert levels(doctor.check_audit_key({}, tmp_path))["FUNDTRACK_AUDIT_SIGNING_KEY_FILE"] == "warn"  # development


def test_a_secret_file_others_can_read_fails(tmp_path: Path) -> None:
    (tmp_path / "service_secret").write_text(STRONG)
    (tmp_path / "service_secret").chmod(0o644)
    (tmp_path / "admin_token").write_text(STRONG)
    (tmp_path / "admin_token").chmod(0o600)
    got = levels(doctor.check_data_dir(tmp_path))
    assert got == {"data dir service_secret": "fail", "data dir admin_token": "ok"}


def test_a_role_with_any_power_or_membership_fails() -> None:
    for power in doctor.ROLE_POWERS:
        assert doctor.judge_role("fundtrack_funds", {**NO_POWERS, power: True}, [])[0].level == "fail"
    assert doctor.judge_role("fundtrack_funds", NO_POWERS, ["postgres"])[0].level == "fail"
    assert doctor.judge_role("fundtrack_funds", None, [])[0].level == "fail"
    assert doctor.judge_role("fundtrack_funds", NO_POWERS, [])[0].level == "ok"


def test_an_owner_that_can_log_in_fails() -> None:
    assert doctor.judge_owner({"rolcanlogin": True})[0].level == "fail"
    assert doctor.judge_owner({"rolcanlogin": False})[0].level == "ok"


def test_an_acknowledged_entry_missing_from_the_chain_fails() -> None:
    missing = [{"origin": "loans", "outbox_id": 7, "seq": 12}]
    assert doctor.judge_acknowledgements(missing)[0].level == "fail"
    assert "loans#7 (seq 12)" in doctor.judge_acknowledgements(missing)[0].detail
    assert doctor.judge_acknowledgements([])[0].level == "ok"


def test_account_dates_behind_their_transfers_fail_and_name_the_repair() -> None:
    assert doctor.judge_account_summaries(0)[0].level == "ok"
    [behind] = doctor.judge_account_summaries(3)
    assert behind.level == "fail" and behind.detail.startswith("3 accounts'")
    assert "fundtrack repair-summaries" in behind.detail


def test_county_totals_that_differ_from_the_balances_fail() -> None:
    assert doctor.judge_loan_totals(0)[0].level == "ok"
    [differing] = doctor.judge_loan_totals(2)
    assert differing.level == "fail" and differing.detail.startswith("2 counties'")


def test_a_directory_differing_from_the_roster_fails() -> None:
    assert doctor.judge_household_ids(0)[0].level == "ok"
    [differing] = doctor.judge_household_ids(3)
    assert differing.level == "fail" and differing.detail.startswith("3 household ids")


def test_a_missing_or_disabled_trigger_keeping_derived_state_fails() -> None:
    assert ("registry.households", "households_ids_insert") in doctor.KEEPING_TRIGGERS
    assert ("loans.loan_repayments", "loan_repayments_subsidy_insert") in doctor.KEEPING_TRIGGERS
    firing = [(t, n, "O") for t, n in doctor.KEEPING_TRIGGERS]
    assert [f.level for f in doctor.judge_keeping_triggers(firing)] == ["ok"]
    broken = [*firing[1:-1], (firing[0][0], firing[0][1], "D"), (firing[-1][0], firing[-1][1], None)]
    found = doctor.judge_keeping_triggers(broken)
    assert [f.level for f in found] == ["fail", "fail"]
    assert "disabled" in found[0].detail and "missing" in found[1].detail


async def test_the_doctor_reads_each_keeping_trigger_of_the_database(stack: Stack) -> None:
    conn = await asyncpg.connect(plain_url(stack.database.url))
    try:
        states = await doctor.keeping_trigger_states(conn)
    finally:
        await conn.close()
    assert len(states) == len(doctor.KEEPING_TRIGGERS) and all(enabled == "O" for _, _, enabled in states)


def test_trust_in_pg_hba_fails_in_production_and_scram_passes() -> None:
    production = {"FUNDTRACK_ENV": "production"}
    trust = [{"line_number": 3, "type": "host", "auth_method": "trust"}]
    scram = [{"line_number": 3, "type": "hostssl", "auth_method": "scram-sha-256"}]
    md5 = [{"line_number": 4, "type": "host", "auth_method": "md5"}]
    assert doctor.judge_hba(trust, production)[0].level == "fail"
    assert doctor.judge_hba(md5, production)[0].level == "warn"
    assert doctor.judge_hba(scram, production)[0].level == "ok"
    assert doctor.judge_hba(None, production)[0].level == "warn"


def test_tls_off_to_a_remote_database_fails_in_production() -> None:
    production = {"FUNDTRACK_ENV": "production"}
    assert doctor.judge_tls(False, "db.internal", production)[0].level == "fail"
    assert doctor.judge_tls(True, "db.internal", production)[0].level == "ok"
    assert doctor.judge_tls(False, "127.0.0.1", production)[0].level == "ok"


async def test_the_suites_migrated_database_has_least_privileged_roles(stack: Stack) -> None:
    if stack.env.get("FUNDTRACK_DB_ROLES") != "1":
        return  # the server would not let migrate create roles: nothing of ours to judge
    found = await doctor.check_database(stack.database.url, {})
    roles = {f.check: f for f in found if f.check.startswith("role ")}
    assert set(roles) == {f"role {role_for(s)}" for s in ALL_SCHEMAS} | {f"role {OWNER_ROLE}"}
    assert {f.level for f in roles.values()} == {"ok"}, [f for f in roles.values() if f.level != "ok"]
    [acks] = [f for f in found if f.check == "audit acknowledgements"]
    assert acks.level == "ok", acks.detail
    for check in ("audit table grants", "schema usage", "audit triggers", "table owners"):
        assert [(f.level, f.detail) for f in found if f.check == check] == [("ok", _OK[check])], check


_OK = {
    "audit table grants": "no app role may update, delete or truncate the audit trail",
    "schema usage": "each app role uses its own schema only",
    "audit triggers": "every trigger on the audit tables is enabled",
    "table owners": f"every table belongs to {OWNER_ROLE}",
    "funds account dates": "each account's latest dates in and out are its transfers'",
}
# What an operator (as postgres) might do, what doctor then says, and how it is undone.
_BREAKAGES = (
    ("GRANT DELETE ON loans.audit_outbox TO fundtrack_loans", "audit table grants",
     "fundtrack_loans holds DELETE on loans.audit_outbox", "REVOKE DELETE ON loans.audit_outbox FROM fundtrack_loans"),
    ("GRANT UPDATE ON gateway.audit_log TO fundtrack_gateway", "audit table grants",
     "fundtrack_gateway holds UPDATE on gateway.audit_log",
     "REVOKE UPDATE ON gateway.audit_log FROM fundtrack_gateway"),
    ("GRANT TRUNCATE ON gateway.audit_log TO PUBLIC", "audit table grants",
     "fundtrack_funds holds TRUNCATE on gateway.audit_log", "REVOKE TRUNCATE ON gateway.audit_log FROM PUBLIC"),
    ("ALTER TABLE loans.audit_outbox DISABLE TRIGGER audit_outbox_append_only", "audit triggers",
     "audit_outbox_append_only on loans.audit_outbox is disabled (D): enable it",
     "ALTER TABLE loans.audit_outbox ENABLE TRIGGER audit_outbox_append_only"),
    ("GRANT USAGE ON SCHEMA funds TO fundtrack_loans", "schema usage", "fundtrack_loans has USAGE on schema funds",
     "REVOKE USAGE ON SCHEMA funds FROM fundtrack_loans"),
    ("ALTER TABLE loans.alerts OWNER TO CURRENT_USER", "table owners", "loans.alerts is owned by {me}, not "
     f"{OWNER_ROLE}", f"ALTER TABLE loans.alerts OWNER TO {OWNER_ROLE}"),
)


async def test_doctor_finds_what_an_operator_broke_in_the_suites_database(stack: Stack, db: asyncpg.Pool) -> None:
    """S4 (A5): each breakage, made as the test server's superuser for the time of one doctor run and undone
    right after: doctor names it, on one line; and with all undone, those checks are ok again."""
    if stack.env.get("FUNDTRACK_DB_ROLES") != "1":
        return
    me = await db.fetchval("SELECT current_user")
    for breakage, check, detail, undo in _BREAKAGES:
        await db.execute(breakage)
        try:
            found = await doctor.check_database(stack.database.url, {})
        finally:
            await db.execute(undo)
        said = [(f.level, f.detail) for f in found if f.check == check]
        assert ("fail", detail.format(me=me)) in said, (breakage, said)
    found = await doctor.check_database(stack.database.url, {})
    assert [f for f in found if f.check in _OK and f.level != "ok"] == []


async def test_the_command_reports_and_exits_1_on_a_failure(stack: Stack, tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": stack.database.url, "FUNDTRACK_DATA_DIR": str(tmp_path)}
    env.update(FUNDTRACK_ENV="production", FUNDTRACK_SERVICE_SECRET="weak", FUNDTRACK_ADMIN_TOKEN=STRONG)
    done = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "deploy.cli", "doctor"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "fail  FUNDTRACK_SERVICE_SECRET: too weak" in done.stdout
    assert "weak" not in done.stdout.replace("too weak", "")  # the secret itself is never printed


async def test_the_repair_command_runs_on_the_database_and_says_how_many_it_moved(stack: Stack, tmp_path: Path) -> None:
    """`fundtrack repair-summaries`: on the suite's database (every date equal to its transfers': the ledger test
    checks it) it moves none, and says so (what it moves is tests/funds/test_ledger.py's)."""
    env = {**os.environ, "DATABASE_URL": stack.database.url, "FUNDTRACK_DATA_DIR": str(tmp_path)}
    done = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "deploy.cli", "repair-summaries"], env=env, capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 accounts' latest inflow or outflow dates moved to their transfers'" in done.stderr, done.stderr
    assert "0 rows of the loans' county totals set to their balances'" in done.stderr, done.stderr


async def test_the_repair_command_behind_a_long_transaction_says_so_and_changes_nothing_of_the_totals(
    stack: Stack, tmp_path: Path, db: asyncpg.Pool
) -> None:
    """A transaction holds the loans' county totals past the repair's lock timeout (10 s, models.TOTALS_REPAIR):
    the command says the totals were not repaired and to run it again, exits 1, and prints no traceback."""
    env = {**os.environ, "DATABASE_URL": stack.database.url, "FUNDTRACK_DATA_DIR": str(tmp_path)}
    async with db.acquire() as holder, holder.transaction():
        await holder.execute("LOCK TABLE loans.loan_county_totals IN EXCLUSIVE MODE")
        done = await asyncio.to_thread(
            subprocess.run, [sys.executable, "-m", "deploy.cli", "repair-summaries"], env=env, capture_output=True,
            text=True, timeout=120,
        )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "the loans' county totals were not repaired" in done.stderr and "run the command again" in done.stderr
    assert "0 accounts' latest inflow or outflow dates moved" in done.stderr  # the step before it was done
    assert "Traceback" not in done.stderr, done.stderr
