"""`fundtrack doctor`: each judgement on both sides, and the whole run against the suite's migrated database."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from deploy import doctor
from deploy.migrate import OWNER_ROLE
from services.kernel.db import role_for
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


def test_plain_http_to_another_host_fails_in_production_and_loopback_passes() -> None:
    env = {
        "FUNDTRACK_ENV": "production",
        "FUNDTRACK_FUNDS_URL": "http://10.1.2.3:8101",
        "FUNDTRACK_LOANS_URL": "http://127.0.0.1:8103",
        "FUNDTRACK_REGISTRY_URL": "https://registry.internal:8104",
    }
    got = levels(doctor.check_service_urls(env))
    assert got == {"FUNDTRACK_FUNDS_URL": "fail", "FUNDTRACK_LOANS_URL": "ok", "FUNDTRACK_REGISTRY_URL": "ok"}


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


async def test_the_command_reports_and_exits_1_on_a_failure(stack: Stack, tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": stack.database.url, "FUNDTRACK_DATA_DIR": str(tmp_path)}
    env.update(FUNDTRACK_ENV="production", FUNDTRACK_SERVICE_SECRET="weak", FUNDTRACK_ADMIN_TOKEN=STRONG)
    done = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "deploy.cli", "doctor"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "fail  FUNDTRACK_SERVICE_SECRET: too weak" in done.stdout
    assert "weak" not in done.stdout.replace("too weak", "")  # the secret itself is never printed
