"""loans: each county's subsidy version and the kept figures of closed calendar periods (issue #20, L6a)

The province's subsidy report (GET /loans/reports/subsidy) of a half-year computed 211,550 loans' principal-days,
each rounded to the fen (L6), for every request: ~0.7 s of the server for one statement, 1.9–3.5 s p95 through the
gateway under load. A closed period's figure of a county changes only when a fact of a day before today changes:
`loan_county_subsidies` keeps it with the county's version it was computed at, `loan_subsidy_versions` holds the
versions, moved by a statement-level trigger on what the report reads (loan_repayments, loan_usage_reports,
loan_balances, loan_county_totals) when a statement changes a fact dated before today (services/loans/models.py
says which change of which column). The function's text is the models' (`SUBSIDY_VERSIONS_FUNCTION`), so a migrated
schema and one made from the models are alike (tests/platform/test_schema.py).

The triggers need each table's SHARE ROW EXCLUSIVE lock: taken together within `LOCK_TIMEOUT` (lock_tables), in
the order the service writes the tables (no deadlock with a repayment under way), so behind a long transaction the
revision fails and is run again rather than hold the writers off; once held, writers wait a moment (no table is read
or rewritten here). The triggers run as the role of whoever writes those tables: the roles that may write them (a
service of the version before) are given the versions' rights at once (`migrations.online.grant_to_writers_of`;
`fundtrack migrate` gives the loans role the rights of every derived table of its schema only at its end). Each step
may be run again (a table made, a trigger replaced in place, a version kept). Every county the totals know gets its
version now, so its first report of a closed period is kept; a county without one gets it from its first report
(reads.subsidy_report).

Revision ID: loans_0016_subsidy_kept
Revises: loans_0015_nonce_claims
Create Date: 2026-12-06 16:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations.online import grant_to_writers_of, lock_tables

revision: str = "loans_0016_subsidy_kept"
down_revision: str | None = "loans_0015_nonce_claims"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SUBSIDY_VERSIONS_FUNCTION = """
CREATE OR REPLACE FUNCTION loan_subsidy_versions_moved() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
        DECLARE
            today date := (now() AT TIME ZONE 'Asia/Shanghai')::date;
            touched text[];
        BEGIN
            IF TG_OP = 'TRUNCATE' THEN
                UPDATE loan_subsidy_versions SET version = greatest(version + 1, pg_current_xact_id()::text::bigint);
                RETURN NULL;
            ELSIF TG_TABLE_NAME = 'loan_repayments' THEN
                touched := ARRAY(SELECT DISTINCT county_code FROM new_rows WHERE paid_on < today AND principal_fen > 0);
            ELSIF TG_TABLE_NAME = 'loan_usage_reports' THEN
                touched := ARRAY(SELECT DISTINCT county_code FROM new_rows
                                 WHERE reported_on < today AND (breaks_enterprise_rule OR breaks_purpose_rule));
            ELSIF TG_TABLE_NAME = 'loan_county_totals' THEN
                IF pg_trigger_depth() > 1 THEN
                    RETURN NULL;  -- kept from the balances, whose own trigger judged the change
                ELSIF TG_OP = 'INSERT' THEN
                    touched := ARRAY(SELECT DISTINCT county_code FROM new_rows);
                ELSIF TG_OP = 'DELETE' THEN
                    touched := ARRAY(SELECT DISTINCT county_code FROM old_rows);
                ELSE
                    touched := ARRAY(SELECT county_code FROM new_rows UNION SELECT county_code FROM old_rows);
                END IF;
            ELSIF TG_OP = 'INSERT' THEN
                touched := ARRAY(SELECT DISTINCT county_code FROM new_rows WHERE issued_on < today);
            ELSIF TG_OP = 'DELETE' THEN
                touched := ARRAY(SELECT DISTINCT county_code FROM old_rows WHERE issued_on < today);
            ELSE
                touched := ARRAY(
                    SELECT DISTINCT unnest(ARRAY[o.county_code, n.county_code])
                    FROM old_rows o FULL JOIN new_rows n ON n.county_code = o.county_code AND n.loan_id = o.loan_id
                    WHERE least(o.issued_on, n.issued_on) < today AND (
                        o.loan_id IS NULL OR n.loan_id IS NULL
                        OR (o.amount_fen, o.issued_on) IS DISTINCT FROM (n.amount_fen, n.issued_on)
                        OR (o.maturity_in_force <> n.maturity_in_force
                            AND least(o.maturity_in_force, n.maturity_in_force) + 1 < today)
                        OR (o.last_paid_on IS DISTINCT FROM n.last_paid_on
                            AND NOT coalesce(n.last_paid_on >= today, false))
                        OR (o.repaid_fen <> n.repaid_fen AND NOT coalesce(
                            n.repaid_fen > o.repaid_fen AND n.last_paid_on >= today AND (
                                SELECT n.repaid_fen - o.repaid_fen <= sum(r.principal_fen) FILTER (
                                           WHERE r.paid_on >= today)
                                       AND n.repaid_fen = sum(r.principal_fen)
                                FROM loan_repayments r
                                WHERE r.county_code = n.county_code AND r.loan_id = n.loan_id),
                            false))));
            END IF;
            IF cardinality(touched) > 0 THEN
                INSERT INTO loan_subsidy_versions AS v (county_code, version)
                SELECT county_code, pg_current_xact_id()::text::bigint
                FROM unnest(touched) AS c (county_code)
                WHERE county_code IS NOT NULL
                ORDER BY county_code
                ON CONFLICT (county_code) DO UPDATE SET version = greatest(v.version + 1, excluded.version);
            END IF;
            RETURN NULL;
        END $$
"""
SUBSIDY_VERSIONS_TRIGGERS = (
    "CREATE TRIGGER loan_repayments_subsidy_insert AFTER INSERT ON loan_repayments REFERENCING NEW TABLE AS new_rows"
    " FOR EACH STATEMENT EXECUTE FUNCTION loan_subsidy_versions_moved()",
    "CREATE TRIGGER loan_usage_reports_subsidy_insert AFTER INSERT ON loan_usage_reports REFERENCING NEW TABLE AS new_rows"
    " FOR EACH STATEMENT EXECUTE FUNCTION loan_subsidy_versions_moved()",
    "CREATE TRIGGER loan_balances_subsidy_insert AFTER INSERT ON loan_balances REFERENCING NEW TABLE AS new_rows"
    " FOR EACH STATEMENT EXECUTE FUNCTION loan_subsidy_versions_moved()",
    "CREATE TRIGGER loan_balances_subsidy_update AFTER UPDATE ON loan_balances REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"
    " FOR EACH STATEMENT EXECUTE FUNCTION loan_subsidy_versions_moved()",
    "CREATE TRIGGER loan_balances_subsidy_delete AFTER DELETE ON loan_balances REFERENCING OLD TABLE AS old_rows"
    " FOR EACH STATEMENT EXECUTE FUNCTION loan_subsidy_versions_moved()",
    "CREATE TRIGGER loan_balances_subsidy_truncate AFTER TRUNCATE ON loan_balances"
    " FOR EACH STATEMENT EXECUTE FUNCTION loan_subsidy_versions_moved()",
    "CREATE TRIGGER loan_county_totals_subsidy_insert AFTER INSERT ON loan_county_totals REFERENCING NEW TABLE AS new_rows"
    " FOR EACH STATEMENT EXECUTE FUNCTION loan_subsidy_versions_moved()",
    "CREATE TRIGGER loan_county_totals_subsidy_update AFTER UPDATE ON loan_county_totals REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"
    " FOR EACH STATEMENT EXECUTE FUNCTION loan_subsidy_versions_moved()",
    "CREATE TRIGGER loan_county_totals_subsidy_delete AFTER DELETE ON loan_county_totals REFERENCING OLD TABLE AS old_rows"
    " FOR EACH STATEMENT EXECUTE FUNCTION loan_subsidy_versions_moved()",
    "CREATE TRIGGER loan_county_totals_subsidy_truncate AFTER TRUNCATE ON loan_county_totals"
    " FOR EACH STATEMENT EXECUTE FUNCTION loan_subsidy_versions_moved()",
)


WATCHED = ("loan_repayments", "loan_usage_reports", "loan_balances", "loan_county_totals")


def upgrade() -> None:
    op.create_table(
        "loan_subsidy_versions",
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("county_code"),
        if_not_exists=True,  # each step may be run again (tests/county_keys.py `upgrade_again`)
    )
    op.create_table(
        "loan_county_subsidies",
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("period_from", sa.Date(), nullable=False),
        sa.Column("period_to", sa.Date(), nullable=False),
        sa.Column("rate_bp", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("loans", sa.BigInteger(), nullable=False),
        sa.Column("subsidy_fen", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("county_code", "period_from", "period_to", "rate_bp"),
        if_not_exists=True,
    )
    # in the order the service writes them (a repayment, then its balance, whose trigger moves the totals): a lock
    # taken against that order could deadlock with a repayment under way
    lock_tables("LOCK TABLE loan_repayments, loan_usage_reports, loan_balances, loan_county_totals "
                "IN SHARE ROW EXCLUSIVE MODE")
    # The triggers run as the role that writes these tables: a loans service of the version before, whose role
    # `fundtrack migrate` gives the new tables' rights only once every schema is migrated. Until then, whoever may
    # write them may move a county's version, or that service could record no back-dated repayment or loan.
    for table in WATCHED:
        grant_to_writers_of(table, "SELECT, INSERT, UPDATE", "loan_subsidy_versions")
    op.execute(SUBSIDY_VERSIONS_FUNCTION)
    for trigger in SUBSIDY_VERSIONS_TRIGGERS:  # replaced, not dropped, on a run again (no ACCESS EXCLUSIVE lock)
        op.execute(trigger.replace("CREATE TRIGGER", "CREATE OR REPLACE TRIGGER", 1))
    op.execute("INSERT INTO loan_subsidy_versions (county_code, version) "
               "SELECT DISTINCT county_code, pg_current_xact_id()::text::bigint FROM loan_county_totals "
               "ON CONFLICT (county_code) DO NOTHING")


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
