"""How long funds_0022 (the arrangements, payments, reversals and project ledgers keyed by county, issue #15) takes on
a database with data.

A database of its own is made as an older FundTrack left it (tests/platform/before_baseline), brought to funds_0021,
filled as tests/funds/test_county_keys.py fills it at `--payments` payments (`--projects` projects, `--arrangements`
arrangements, one payment in `--payments-per-reversal` reversed, one arrangement in four, the allocations and the
appropriation), then upgraded, timed, while a funds service of the version before (it does not know the reversals'
county) records a payment and its reversal every 20 ms, and upserts a project's ledger on its old key, on its own
connection: their times (the longest is what the revision's locks held a writer off) and their failures, with when
each began against the upgrade's end. On DATABASE_URL's server if set, else on an embedded one of its own (deploy/
embedded.py), which is stopped and removed after. Prints JSON; the database is dropped after.

    .venv/bin/python -m bench.funds_county_keys --payments 5000000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os

import asyncpg

from bench.upgrade_under_writes import (
    OldWriter,
    Upgrade,
    row_counts,
    scratch_database,
    seconds_to_fill,
    upgrade_while_writing,
)
from tests.funds.test_county_keys import ANSWERING, FILL_0021
from tests.platform import before_baseline

TABLES = ("arrangements", "disbursements", "reversals", "project_ledgers")
OLD_PAYMENT = [  # one transaction, as the version before records a payment and then reverses it (no county on it)
    "INSERT INTO funds.disbursements (id, project_id, county_code, amount_fen, voucher_no, payee_kind, payee_id, "
    "payee_name, payee_account_no, paid_on, created_by) VALUES ($1, 'prj_3', '430523', 100, $1, 'household', 'H-w', "
    "'户主', '6217', '2018-05-01', 'writer')",
    "INSERT INTO funds.reversals (id, target_id, target_kind, reason, reversed_on, created_by) "
    "VALUES ('rev_' || $1, $1, 'disbursement', '冲正', '2018-05-02', 'writer')",
]
OLD_LEDGER = ("INSERT INTO funds.project_ledgers (project_id, county_code) VALUES ('prj_1', '430524') "
              "ON CONFLICT (project_id) DO UPDATE SET county_code = excluded.county_code")


async def _payment_and_reversal(conn: asyncpg.Connection, n: int) -> None:
    async with conn.transaction():
        for statement in OLD_PAYMENT:
            await conn.execute(statement, f"dsb_w{n:08d}")


async def _pay(writer: OldWriter, n: int) -> None:
    """The version before: a payment with its reversal (timed), then the ledger's upsert on its old key (not timed;
    its failures kept too)."""
    if await writer.attempt(_payment_and_reversal(writer.conn, n)):
        await writer.attempt(writer.conn.execute(OLD_LEDGER), timed=False)


def _written(upgrade: Upgrade) -> dict[str, object]:
    kinds: dict[str, list[float]] = {}
    for at, what in upgrade.failures():
        kinds.setdefault(what, []).append(at)
    # each kind of failure: how many, and the first's seconds from the upgrade's end (negative: before it)
    return {**upgrade.writer.times_summary(), "failures": {what: [len(at), at[0]] for what, at in kinds.items()}}


async def run(sizes: dict[str, int]) -> dict[str, object]:
    async with scratch_database("ft_fundkeys_bench") as (url, conn):
        await before_baseline.restore_at(conn, url, "funds", "funds_0021_duplicates_since")
        filled = await seconds_to_fill(conn, FILL_0021, sizes)
        rows = await row_counts(conn, TABLES)
        upgrade = await upgrade_while_writing(url, "funds", "funds_0022_county_keys", _pay, every=0.02)
        answered = await conn.fetchval(ANSWERING)
        total = await conn.fetchval("SELECT count(*) FROM reversals")
    return {"rows": rows, "fill_s": filled, "upgrade_s": upgrade.seconds, "writer_during_upgrade": _written(upgrade),
            "reversals": total, "reversals_in_their_records_region": answered, "load_average": os.getloadavg()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=30_500)
    parser.add_argument("--arrangements", type=int, default=150_000)
    parser.add_argument("--payments", type=int, default=5_000_000)
    parser.add_argument("--payments-per-reversal", type=int, default=5_000)
    args = parser.parse_args()
    sizes = {"projects": args.projects, "arrangements": args.arrangements, "payments": args.payments,
             "payments_per_reversal": args.payments_per_reversal}
    print(json.dumps(asyncio.run(run(sizes)), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
