"""Nothing recorded is edited or deleted: the database refuses UPDATE, DELETE and TRUNCATE on the recorded facts of
every service, whatever role asks (here a superuser), while derived state (balances) stays updatable."""

import asyncpg
import pytest

PROTECTED = [
    "gateway.audit_log", "funds.transfer_legs", "funds.appropriations", "funds.allocations", "funds.arrangements",
    "funds.disbursements", "funds.reversals", "loans.loan_repayments", "loans.loan_extensions",
    "loans.loan_usage_reports", "registry.household_imports", "registry.household_status_history",
    "projects.project_events", "projects.contracts", "projects.tender_thresholds", "funds.disbursement_bases",
    "funds.subsidy_standards",
    "projects.project_events", "funds.plans", "funds.plan_versions", "funds.plan_lines", "funds.plan_reports",
    "funds.revenue_declarations", "funds.recoveries",
    "projects.project_events", "funds.risk_fund_moves", "loans.compensation_decisions",
    "loans.compensation_recoveries", "funds.claim_settlements",
    "projects.project_events",
    # issue #18 (L14–L19)
    "loans.loan_renewals", "loans.loan_agreements", "loans.loan_partners", "loans.loan_household_returns",
    "loans.loan_product_names", "loans.loan_credit_lines",
]
# Recorded facts other tables reference: TRUNCATE is refused by their foreign keys before the trigger is reached
REFERENCED = ["loans.risk_funds", "loans.compensation_claims"]


@pytest.mark.parametrize("table", PROTECTED)
async def test_update_delete_and_truncate_are_refused(table: str, db: asyncpg.Pool, stack: object) -> None:
    schema, name = table.split(".")
    column = await db.fetchval(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 "
        "ORDER BY ordinal_position LIMIT 1", schema, name)
    assert column, table
    async with db.acquire() as conn:
        for statement in (f"UPDATE {table} SET {column} = {column}", f"DELETE FROM {table}", f"TRUNCATE {table}"):
            with pytest.raises(asyncpg.PostgresError, match="append-only"):
                await conn.execute(statement)


@pytest.mark.parametrize("table", REFERENCED)
async def test_referenced_facts_refuse_update_delete_and_truncate(table: str, db: asyncpg.Pool, stack: object) -> None:
    async with db.acquire() as conn:
        for statement in (f"UPDATE {table} SET id = id", f"DELETE FROM {table}"):
            with pytest.raises(asyncpg.PostgresError, match="append-only"):
                await conn.execute(statement)
        with pytest.raises(asyncpg.PostgresError, match="append-only|foreign key"):
            await conn.execute(f"TRUNCATE {table}")


async def test_derived_state_stays_updatable(db: asyncpg.Pool, stack: object) -> None:
    """A balance is updated in the same transaction as the transfer it derives from."""
    assert await db.execute("UPDATE funds.accounts SET balance_fen = balance_fen WHERE false") == "UPDATE 0"
