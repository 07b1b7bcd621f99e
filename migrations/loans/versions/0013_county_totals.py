"""loans: loan_county_totals, each county's loans, loans owing and principal owed, kept by a trigger on the balances
(issue #20 point 4)

The province's outstanding report (GET /loans/reports/outstanding) read every loan's balance: 2,400,000 rows at three
times a province's size, 1.8 s. It now reads these totals (eight rows per county) and corrects them only with the
loans that differ on the day asked (issued or repaid after it: `ix_balances_issued`, `ix_balances_last_paid`).

The totals are filled here from the balances while the balances are locked against writers (SHARE ROW EXCLUSIVE: a
service still running during the upgrade waits, and its change then moves the totals through the trigger made in
this same transaction). The function's text is the models' (services/loans/models.py `TOTALS_FUNCTION`), so a
migrated schema and one made from the models are alike (tests/platform/test_schema.py). The loans role gets the
rights it has on every derived table of its schema (SELECT, INSERT, UPDATE: deploy/migrate.py `_grant_schema`).

Revision ID: loans_0013_county_totals
Revises: loans_0012_subsidy_report
Create Date: 2026-12-06 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations.online import build_index, wait_briefly_for_locks

revision: str = "loans_0013_county_totals"
down_revision: str | None = "loans_0012_subsidy_report"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TOTALS_FUNCTION = """
CREATE OR REPLACE FUNCTION loan_county_totals_kept() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
        DECLARE
            changed text := CASE TG_OP
                WHEN 'INSERT' THEN 'SELECT 1 AS sign, * FROM new_rows'
                WHEN 'DELETE' THEN 'SELECT -1 AS sign, * FROM old_rows'
                ELSE 'SELECT 1 AS sign, * FROM new_rows UNION ALL SELECT -1, * FROM old_rows' END;
        BEGIN
            IF TG_OP = 'TRUNCATE' THEN
                DELETE FROM loan_county_totals;
                RETURN NULL;
            END IF;
            EXECUTE format($q$
                INSERT INTO loan_county_totals AS t (county_code, slot, loans, owing_loans, owed_fen)
                SELECT county_code, hashtext(loan_id) & 7, sum(sign), sum(sign * (repaid_fen < amount_fen)::int),
                       sum(sign * (amount_fen - repaid_fen))
                FROM (%s) c
                GROUP BY 1, 2
                HAVING sum(sign) <> 0 OR sum(sign * (repaid_fen < amount_fen)::int) <> 0
                    OR sum(sign * (amount_fen - repaid_fen)) <> 0
                ORDER BY 1, 2
                ON CONFLICT (county_code, slot) DO UPDATE SET loans = t.loans + excluded.loans,
                    owing_loans = t.owing_loans + excluded.owing_loans, owed_fen = t.owed_fen + excluded.owed_fen
            $q$, changed);
            RETURN NULL;
        END $$
"""
TOTALS_TRIGGERS = (
    "CREATE TRIGGER loan_balances_totals_insert AFTER INSERT ON loan_balances REFERENCING NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION loan_county_totals_kept()",
    "CREATE TRIGGER loan_balances_totals_update AFTER UPDATE ON loan_balances REFERENCING OLD TABLE AS old_rows "
    "NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION loan_county_totals_kept()",
    "CREATE TRIGGER loan_balances_totals_delete AFTER DELETE ON loan_balances REFERENCING OLD TABLE AS old_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION loan_county_totals_kept()",
    "CREATE TRIGGER loan_balances_totals_truncate AFTER TRUNCATE ON loan_balances "
    "FOR EACH STATEMENT EXECUTE FUNCTION loan_county_totals_kept()",
)


def upgrade() -> None:
    op.create_table(
        "loan_county_totals",
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("slot", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("loans", sa.BigInteger(), nullable=False),
        sa.Column("owing_loans", sa.BigInteger(), nullable=False),
        sa.Column("owed_fen", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("county_code", "slot"),
    )
    wait_briefly_for_locks()
    op.execute("LOCK TABLE loan_balances IN SHARE ROW EXCLUSIVE MODE")  # writers wait while it is filled
    op.execute(
        """
        INSERT INTO loan_county_totals (county_code, slot, loans, owing_loans, owed_fen)
        SELECT county_code, hashtext(loan_id) & 7, count(*), count(*) FILTER (WHERE repaid_fen < amount_fen),
               sum(amount_fen - repaid_fen)
        FROM loan_balances GROUP BY 1, 2
        """
    )
    op.execute(TOTALS_FUNCTION)
    for trigger in TOTALS_TRIGGERS:
        op.execute(trigger)
    op.execute("ANALYZE loan_county_totals")
    build_index("ix_balances_issued", "loan_balances", ["issued_on"])  # after the commit, CONCURRENTLY


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
