"""The `fundtrack` command."""

from __future__ import annotations

import argparse
import sys

from deploy import add_user, audit_keys, audit_offline, supervisor


def _migrate(_: argparse.Namespace) -> int:
    from deploy.drift import SchemaDrift
    from deploy.migrate import migrate

    directory = supervisor.data_dir()
    url, embedded = supervisor.prepare_database(directory)
    try:
        urls = migrate(url, directory)
        supervisor.say(f"migrated every schema (per-process login roles: {'yes' if urls else 'NO'})")
    except SchemaDrift as drift:  # refused: a line per difference, nothing started on a schema the code does not know
        for difference in drift.differences:
            supervisor.say(f"the database differs from the models: {difference}")
        return 2
    finally:
        if embedded is not None:
            embedded.stop()
    return 0


def _seed_funds(_: argparse.Namespace) -> int:
    from deploy.migrate import migrate
    from services.funds.seed import CENTRAL_INTEGRABLE_SOURCES, seed_funds

    url, embedded = supervisor.prepare_database(supervisor.data_dir())
    try:
        migrate(url, supervisor.data_dir())
        changed = seed_funds(url)
        supervisor.say(f"{len(CENTRAL_INTEGRABLE_SOURCES)} central integrable fund sources ({changed} written)")
    finally:
        if embedded is not None:
            embedded.stop()
    return 0


def _repair_summaries(_: argparse.Namespace) -> int:
    import asyncio

    import asyncpg

    from deploy.doctor import repair_loan_totals
    from services.funds.repository import summaries
    from services.kernel.db import plain_url

    async def repair(url: str) -> int:
        """Each repair in a transaction of its own, said when done; one that waited too long for a lock behind a
        long transaction (the totals' lock_timeout: models.TOTALS_REPAIR) changed nothing, and says so."""
        conn = await asyncpg.connect(plain_url(url))
        try:
            accounts = await summaries.repair(conn)
            supervisor.say(f"{accounts} accounts' latest inflow or outflow dates moved to their transfers'")
            try:
                totals = await repair_loan_totals(conn)
            except asyncpg.exceptions.LockNotAvailableError:
                supervisor.say("the loans' county totals were not repaired, nothing of them changed: a long "
                               "transaction held their table past the repair's lock timeout; run the command again")
                return 1
            supervisor.say(f"{totals} rows of the loans' county totals set to their balances'")
            return 0
        finally:
            await conn.close()

    url, embedded = supervisor.prepare_database(supervisor.data_dir())
    try:
        return asyncio.run(repair(url))
    finally:
        if embedded is not None:
            embedded.stop()


def _admin_token(_: argparse.Namespace) -> int:
    from gateway.auth import admin_token

    print(admin_token(str(supervisor.data_dir())))
    return 0


def _doctor(_: argparse.Namespace) -> int:
    from deploy import doctor

    directory = supervisor.data_dir()
    url, embedded = supervisor.prepare_database(directory)
    try:
        return doctor.main(directory, url)
    finally:
        if embedded is not None:
            embedded.stop()


def _up(_: argparse.Namespace) -> int:
    return supervisor.up()


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="fundtrack",
        description="FundTrack: poverty-alleviation funds, project library and small loans, with an audit trail.",
        epilog=(
            "Environment: DATABASE_URL (use that PostgreSQL instead of the embedded one), FUNDTRACK_DATA_DIR "
            "(default ./.fundtrack), FUNDTRACK_GATEWAY_PORT (default 8000), FUNDTRACK_ADMIN_TOKEN, "
            "FUNDTRACK_SERVICE_SECRET, FUNDTRACK_TRUSTED_PROXIES (CIDRs whose X-Forwarded-For is believed)."
        ),
    )
    commands = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser(
        "up", help="start the database, migrations, services and gateway; Ctrl-C stops all"
    ).set_defaults(run=_up)
    commands.add_parser("migrate", help="run the migrations of every schema and exit").set_defaults(run=_migrate)
    commands.add_parser(
        "seed-funds", help="seed the central integrable fund sources (idempotent; run after migrate)"
    ).set_defaults(run=_seed_funds)
    commands.add_parser(
        "doctor", help="check the production hardening of SECURITY.md (exit 1 when a check fails)"
    ).set_defaults(run=_doctor)
    commands.add_parser(
        "repair-summaries",
        help="move the funds accounts' latest inflow and outflow dates that fell behind their transfers (after an "
        "upgrade that added one), and set the loans' county totals to their balances again (after the trigger was "
        "bypassed); `fundtrack doctor` says when",
    ).set_defaults(run=_repair_summaries)
    commands.add_parser("admin-token", help="print the built-in admin's bearer token").set_defaults(run=_admin_token)
    add_user.add_command(commands)
    audit = commands.add_parser("audit", help="the audit trail's keys and its offline checks (no database needed)")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True, metavar="AUDIT_COMMAND")
    audit_offline.add_commands(audit_commands)
    audit_keys.add_commands(audit_commands)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    code: int = args.run(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
