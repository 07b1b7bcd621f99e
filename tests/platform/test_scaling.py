"""The schema choices that let FundTrack grow from one county to the country (deploy/SCALING.md), checked against the
models (services/*/models.py and gateway/models.py are the schema).

Every table of every schema has a plan (PLAN): distributed by a region code on Citus, partitioned in time order,
both, a reference table copied to every node, or local (stays whole on its schema's server). The rules a plan
brings:

- distributed (by `column`): the column is a NOT NULL 6-character region code, in the primary key and in every
  unique constraint and unique index (a distributed table can enforce uniqueness only within a shard); a foreign key
  from it goes to a reference table, or to a distributed table through the distribution column on both sides (no
  cross-county foreign key: a row and what it refers to live on the same shard).
- partitioned (by `partition`): the column is NOT NULL, in the primary key and in every unique constraint and unique
  index (PostgreSQL's rule for partitioned tables); a foreign key into it names that column too.
- a directory (by `column`, its whole primary key): a table that keeps a value unique across the distributed tables
  (a household id across counties), distributed by that value itself; no foreign key to or from it but to a
  reference table (its rows are on other shards than the rows they index).
- reference: its foreign keys go to reference tables only (a reference table is on every node; what it refers to
  must be too).
- local and reference tables: no foreign key into a distributed table.

No schema change is made with this test (issue #15: others change schemas in parallel). The tables that do not meet
their plan yet are listed in KNOWN_GAPS with the reason and the migration that will close them (SCALING.md,
"What the schema still has to change"); the test fails on a violation not listed, and on a listed one that is gone
(the list is not stale). A table added to a models.py without a plan fails here too: say how it grows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import BigInteger, Column, ForeignKeyConstraint, Index, MetaData, String, Table, UniqueConstraint

from migrations.schemas import TARGET_METADATA

ROOT = Path(__file__).resolve().parents[2]
SCALING = ROOT / "deploy" / "SCALING.md"

DISTRIBUTED, PARTITIONED, BOTH = "distributed", "partitioned", "distributed+partitioned"
REFERENCE, LOCAL, DIRECTORY = "reference", "local", "directory"
CODE_LENGTH = 6


@dataclass(frozen=True)
class Plan:
    kind: str
    why: str
    column: str | None = None  # the distribution column (a region code)
    partition: str | None = None  # the partition column (time order)


def dist(column: str, why: str) -> Plan:
    return Plan(DISTRIBUTED, why, column=column)


def directory(column: str, why: str) -> Plan:
    return Plan(DIRECTORY, why, column=column)


def part(partition: str, why: str) -> Plan:
    return Plan(PARTITIONED, why, partition=partition)


# "schema.table", or "*.table" for a kernel table every schema has (services/kernel/models.py).
PLAN: dict[str, Plan] = {
    # The audit trail: one hash chain and one Merkle tree for the whole system (A1, A6), so never split by county;
    # billions of entries, kept for good: partitioned in the order they were chained, on the gateway's server.
    "gateway.audit_log": part("seq", "every request and change, billions; one chain, so partitioned by seq range"),
    "gateway.audit_tree_records": part("record", "the Merkle tree's stored rows: grows with the log"),
    "gateway.audit_checkpoints": part("size", "a signed checkpoint every few seconds while entries arrive"),
    "gateway.audit_inbox": Plan(LOCAL, "the door's entries until the sequencer chains them (deleted once chained)"),
    "gateway.principals": Plan(REFERENCE, "API keys: thousands, read on every request"),
    "gateway.principal_revocations": Plan(REFERENCE, "revoked keys: at most one per principal"),
    "gateway.organisations": Plan(REFERENCE, "单位: tens of thousands, one or a few per principal"),
    # People (issue #19): thousands of users; a session and an attempt per sign-in (a province's ~10,000 people at
    # their desks: a few million rows a year), on the gateway's own server, read by primary key or (login, at) only.
    "gateway.users": Plan(REFERENCE, "people's accounts: thousands, one per person"),
    "gateway.user_passwords": Plan(REFERENCE, "a row per password set: a few per person"),
    "gateway.sessions": Plan(LOCAL, "a row per sign-in, millions a year; read by its token's digest only"),
    "gateway.session_ends": Plan(LOCAL, "at most one per session"),
    "gateway.user_totp": Plan(REFERENCE, "a few second-factor states per person who turns it on"),
    "gateway.totp_uses": Plan(LOCAL, "an accepted code's time step per sign-in with the second factor; read by key"),
    "gateway.sign_in_attempts": Plan(LOCAL, "a row per attempt; read by (login, at) over the last 15 minutes"),
    "gateway.public_post_counts": Plan(LOCAL, "S16's rate counter: rows of the last minute only, UNLOGGED"),
    "*.audit_outbox": part("id", "one row per committed change, kept for good; id is assigned in commit order"),
    "*.audit_outbox_acks": part("outbox_id", "one per outbox row, partitioned with it"),
    # kept for good as the answer to a retry (docs/api.md promises no time limit), so nothing of it ever goes cold:
    # hash partitions by principal, which keep the key (principal_id, key) unique as it is (SCALING.md, step 3; a
    # stated retention would allow partitions by time instead, a product decision not taken)
    "*.idempotency_keys": part("principal_id", "one per keyed write, kept for good: hash partitions by principal"),
    "*.signed_nonces": Plan(LOCAL, "each change's nonce, forgotten ~1.7 h after its signature (S5): bounded by time"),
    "*.alerts": Plan(LOCAL, "detector findings: thousands a year per county"),
    "*.alert_events": Plan(LOCAL, "acknowledgements and resolutions of alerts"),
    "*.refusals": Plan(LOCAL, "S6's counted refusals: bounded by the throttle"),
    "*.detector_marks": Plan(LOCAL, "D1: a row per incremental detector and scan scope, replaced by each run"),
    # Funds: money from the centre to the county, then to projects and households.
    "funds.fund_sources": Plan(REFERENCE, "the fund sources: tens"),
    "funds.fund_source_scopes": Plan(REFERENCE, "F7 by year: a row per source and year whose scope differs: hundreds"),
    "funds.counties": Plan(REFERENCE, "the counties: 832 poor counties, ~2,800 in all"),
    "funds.appropriations": Plan(REFERENCE, "budget documents of the centre and provinces: thousands a year"),
    "funds.allocations": Plan(REFERENCE, "allocation documents down the levels: tens of thousands a year"),
    "funds.accounts": dist("region_code", "a pool or project account per region, fund source and project"),
    # a transfer names two accounts, often of two regions: it is two legs, each on its account's region (funds_0023)
    "funds.transfer_legs": Plan(BOTH, "every movement of money, two legs each: tens of millions a year", "region_code",
                                "created_at"),
    "funds.project_ledgers": dist("county_code", "one per project, updated with its arrangements"),
    "funds.arrangements": dist("county_code", "money arranged to projects by the county"),
    "funds.disbursements": dist("county_code", "every payment to a payee, millions a year"),
    "funds.reversals": dist("county_code", "corrections of arrangements and disbursements"),
    "funds.disbursement_bases": dist("county_code", "the basis of each payment (F11-F14): one per payment"),
    "funds.subsidy_standards": dist("county_code", "a county's subsidy standards (F13): tens of versions a year"),
    "funds.dividend_payments": dist("county_code", "P12: an asset's dividend to each shareholding household"),
    "funds.plans": dist("county_code", "统筹整合方案: one per county and year"),
    "funds.plan_versions": dist("county_code", "a plan's filing and its adjustments: a few per plan"),
    "funds.plan_lines": dist("county_code", "each version's planned sources and projects: tens to hundreds"),
    "funds.plan_reports": dist("county_code", "the report of a version to the city and province: one each"),
    "funds.obligations": Plan(REFERENCE, "policy obligations by region and period: tens per province"),
    "funds.revenue_declarations": dist("region_code", "a region's declared revenue: one or a few a year"),
    "funds.recoveries": dist("region_code", "a region's recoveries of idle money: tens a year"),
    "funds.subsidy_payments": dist("county_code", "each approved subsidy claim's payment: a few a quarter a county"),
    "funds.risk_fund_moves": dist("county_code", "risk funds' deposits, compensations and returns (issue #18)"),
    "funds.claim_settlements": dist("county_code", "each subsidy or compensation claim paid or voided (#18)"),
    # Projects: the county project library.
    "projects.projects": dist("county_code", "the county project library: ~1 million over a decade"),
    "projects.project_events": dist("county_code", "every step of a project's lifecycle"),
    "projects.announcements": dist("county_code", "P1's public announcement of a project"),
    "projects.objections": dist("county_code", "the public's objections to a project"),
    "projects.objection_resolutions": dist("county_code", "how each objection was resolved"),
    "projects.assets": dist("county_code", "assets a project formed"),
    "projects.asset_shares": dist("county_code", "the households' shares of an asset: millions"),
    "projects.dividends": dist("county_code", "dividends an asset paid"),
    "projects.dividend_payouts": dist("county_code", "a dividend's payment to each household: tens of millions"),
    "projects.contracts": dist("county_code", "the contracts of projects (P8): a few per project, millions"),
    "projects.tender_thresholds": dist("county_code", "a county's tender thresholds (P9): a few versions"),
    "projects.acceptance_results": dist("county_code", "P10: a few target results per accepted project"),
    "projects.project_revisions": dist("county_code", "P14: a few revisions per draft, before it is submitted"),
    "projects.asset_handovers": dist("county_code", "P11: one handover per asset, as many as the assets"),
    # Loans: ~20 million small poverty loans.
    "loans.loans": dist("county_code", "~20 million loans"),
    "loans.loan_repayments": dist("county_code", "repayments of every loan: over 100 million"),
    "loans.loan_extensions": dist("county_code", "at most one per loan"),
    "loans.loan_usage_reports": dist("county_code", "how each loan was used"),
    "loans.loan_balances": dist("county_code", "each loan's repaid principal and maturity in force: one per loan"),
    "loans.loan_county_totals": dist("county_code", "each county's loans and principal owed: eight rows a county"),
    "loans.loan_subsidy_versions": dist("county_code", "L6a: one row a county, moved by back-dated writes"),
    "loans.loan_county_subsidies": dist("county_code", "L6a: a county's kept figure per closed calendar period and "
                                        "rate asked: at most 4 rates of ten years' periods, thousands a county"),
    # Subsidy settlement (issue #18 point 3)
    "loans.subsidy_rates": Plan(REFERENCE, "a county's subsidy rate per period: a few a year per county"),
    "loans.subsidy_claims": dist("county_code", "a bank's claim per county and quarter: tens of thousands a year"),
    "loans.subsidy_claim_lines": dist("county_code", "each loan of each claim: ~20 million loans × 4 quarters a year"),
    "loans.subsidy_claim_decisions": dist("county_code", "two steps of finance per claim"),
    # issue #18: a county's risk-compensation fund with each partner bank, the banks' claims on it and what follows
    "loans.risk_funds": dist("county_code", "one per county and partner bank: thousands"),
    "loans.compensation_claims": dist("county_code", "claims on bad loans: a few per cent of the loans at most"),
    "loans.compensation_decisions": dist("county_code", "one per claim"),
    "loans.compensation_recoveries": dist("county_code", "recoveries after compensation: a few per claim"),
    # issue #18 points 4–7: keyed by county, no foreign key (a loan is named by id, a plain value)
    "loans.loan_renewals": dist("county_code", "renewals (续贷): at most one per loan"),
    "loans.loan_agreements": dist("county_code", "a cooperative-mode loan's entrustment agreement: one per such loan"),
    "loans.loan_partners": dist("county_code", "a partnership-mode loan's partner households: a few per such loan"),
    "loans.loan_household_returns": dist("county_code", "returns to households of cooperative-mode loans: yearly"),
    "loans.loan_product_names": Plan(REFERENCE, "the provinces' official names of the product: a few a province"),
    "loans.loan_credit_lines": dist("county_code", "credit evaluations (授信): one a household a year or so"),
    # Registry: ~30 million registered households.
    "registry.households": dist("county_code", "~30 million registered households"),
    "registry.household_status_history": dist("county_code", "every status change of every household"),
    # a household is one across counties (a re-import moves it), so its id is kept unique here, by the id itself
    "registry.household_ids": directory("household_id", "one entry per registered household: ~30 million"),
    # an import may span counties (a city's, a province's or the centre's roster: its lines of every county it
    # covers), so it has no county of its own; a few a county a year, and every household record names two of them
    # (registered_by, updated_by), joined on the roster's every node: copied there
    "registry.household_imports": Plan(REFERENCE, "roster imports, of one county or of many: a few a county a year"),
    "registry.import_progress": Plan(LOCAL, "how far the imports under way have read: rows of the last day, UNLOGGED"),
    "registry.cadre_exceptions": dist("county_code", "R1: the county's approved exceptions for cadre households, few"),
    # Oversight: cases opened from alerts, as few as the alerts an inspector takes up (issue #16).
    "oversight.cases": Plan(LOCAL, "问题线索: hundreds a year per county at most, like the alerts they come from"),
    "oversight.case_alerts": Plan(LOCAL, "the alerts each case was opened from"),
    "oversight.case_events": Plan(LOCAL, "every move of a case: ten or so per case"),
    "oversight.case_accountability": Plan(LOCAL, "accountability measures: a few per case"),
    "oversight.complaints": Plan(LOCAL, "the public's complaints (O12): tens to hundreds a year per county"),
    "oversight.evidence_uploads": Plan(LOCAL, "who uploaded each document (E1): a few per case move, short rows"),
}

# The tables that do not meet their plan yet, with the reason (rule → why). SCALING.md says what migration closes
# each. Keys are "schema.table" (or "*.table" for every schema that has it) and the rule's name.
KNOWN_GAPS: dict[tuple[str, str], str] = {}


def plan_of(schema: str, table: str) -> Plan | None:
    return PLAN.get(f"{schema}.{table}") or PLAN.get(f"*.{table}")


def _unique_keys(table: Table) -> list[tuple[str, set[str]]]:
    keys = [(str(c.name), {col.name for col in c.columns}) for c in table.constraints
            if isinstance(c, UniqueConstraint)]
    keys += [(str(i.name), {col.name for col in i.columns}) for i in table.indexes if i.unique]
    return keys


def violations(tables: dict[str, dict[str, Table]], plans: dict[str, dict[str, Plan]]) -> dict[tuple[str, str], str]:
    """{("schema.table", rule): what is wrong} for tables[schema][name] against plans[schema][name]."""
    found: dict[tuple[str, str], str] = {}

    def say(key: str, rule: str, what: str) -> None:
        found.setdefault((key, rule), what)

    for schema, by_name in tables.items():
        for name, table in by_name.items():
            key = f"{schema}.{name}"
            plan = plans[schema].get(name)
            if plan is None:
                say(key, "unplanned", "no plan: add it to PLAN (how does it grow?)")
                continue
            primary = {c.name for c in table.primary_key.columns}
            uniques = _unique_keys(table)
            if plan.kind in (DISTRIBUTED, BOTH):
                column = table.columns.get(plan.column or "")
                if (column is None or column.nullable or not isinstance(column.type, String)
                        or column.type.length != CODE_LENGTH):
                    say(key, "distribution-column", f"{plan.column} is not a NOT NULL {CODE_LENGTH}-character code")
                if plan.column not in primary:
                    say(key, "distribution-key", f"{plan.column} is not in the primary key {sorted(primary)}")
                for uname, cols in uniques:
                    if plan.column not in cols:
                        say(key, "distribution-unique", f"unique {uname} {sorted(cols)} lacks {plan.column}")
            if plan.kind == DIRECTORY:
                if primary != {plan.column}:
                    say(key, "directory-key", f"the primary key {sorted(primary)} is not {plan.column} alone")
                for uname, cols in uniques:
                    if plan.column not in cols:
                        say(key, "distribution-unique", f"unique {uname} {sorted(cols)} lacks {plan.column}")
            if plan.kind in (PARTITIONED, BOTH):
                column = table.columns.get(plan.partition or "")
                if column is None or column.nullable:
                    say(key, "partition-column", f"{plan.partition} is not a NOT NULL column")
                if plan.partition not in primary:
                    say(key, "partition-key", f"{plan.partition} is not in the primary key {sorted(primary)}")
                for uname, cols in uniques:
                    if plan.partition not in cols:
                        say(key, "partition-unique", f"unique {uname} {sorted(cols)} lacks {plan.partition}")
            for fk in table.constraints:
                if not isinstance(fk, ForeignKeyConstraint):
                    continue
                target = fk.referred_table
                target_plan = plans[schema].get(target.name)
                pairs = {(e.parent.name, e.column.name) for e in fk.elements}
                target_kind = target_plan.kind if target_plan else LOCAL
                if plan.kind in (DISTRIBUTED, BOTH):
                    colocated = target_kind in (DISTRIBUTED, BOTH) and target_plan is not None and (
                        (plan.column, target_plan.column) in pairs)
                    if target_kind != REFERENCE and not colocated:
                        say(key, "distribution-fk", f"{fk.name or pairs} → {target.name} crosses shards")
                elif plan.kind == DIRECTORY and target_kind != REFERENCE:
                    say(key, "directory-fk", f"a directory references {target_kind} {target.name}")
                elif target_kind in (DISTRIBUTED, BOTH):
                    say(key, "fk-into-distributed", f"a {plan.kind} table references distributed {target.name}")
                if target_kind == DIRECTORY:
                    say(key, "fk-into-directory", f"{fk.name or pairs} → directory {target.name} crosses shards")
                elif plan.kind == REFERENCE and target_kind != REFERENCE:
                    say(key, "reference-fk", f"a reference table references {target_kind} {target.name}")
                if target_kind in (PARTITIONED, BOTH) and target_plan is not None and not any(
                        referred == target_plan.partition for _, referred in pairs):
                    say(key, "partition-fk", f"{fk.name or pairs} → {target.name} lacks {target_plan.partition}")
    return found


def schema_tables() -> dict[str, dict[str, Table]]:
    return {schema: {t.name: t for t in md.sorted_tables} for schema, md in TARGET_METADATA.items()}


def schema_plans(tables: dict[str, dict[str, Table]]) -> dict[str, dict[str, Plan]]:
    plans: dict[str, dict[str, Plan]] = {}
    for schema, by_name in tables.items():
        plans[schema] = {}
        for name in by_name:
            plan = plan_of(schema, name)
            if plan is not None:
                plans[schema][name] = plan
    return plans


def expanded_gaps(tables: dict[str, dict[str, Table]]) -> dict[tuple[str, str], str]:
    gaps = {}
    for (key, rule), why in KNOWN_GAPS.items():
        schema, _, name = key.partition(".")
        schemas = [s for s, by_name in tables.items() if name in by_name] if schema == "*" else [schema]
        for s in schemas:
            gaps[(f"{s}.{name}", rule)] = why
    return gaps


def test_every_table_of_the_models_meets_its_plan_or_is_a_known_gap() -> None:
    tables = schema_tables()
    found = violations(tables, schema_plans(tables))
    gaps = expanded_gaps(tables)
    new = {k: v for k, v in found.items() if k not in gaps}
    assert not new, "tables that break the scaling rules (deploy/SCALING.md): " + "; ".join(
        f"{k[0]} {k[1]}: {v}" for k, v in sorted(new.items()))
    stale = sorted(k for k in gaps if k not in found)
    assert not stale, f"KNOWN_GAPS lists what is no longer a gap: remove {stale}"


def test_every_plan_names_a_table_of_the_models() -> None:
    tables = schema_tables()
    names = {f"{s}.{n}" for s, by_name in tables.items() for n in by_name}
    for key in PLAN:
        schema, _, name = key.partition(".")
        if schema == "*":
            assert any(n.endswith(f".{name}") for n in names), f"PLAN names {key}: no schema has it"
        else:
            assert key in names, f"PLAN names {key}: no such table in the models"
    for key, _rule in KNOWN_GAPS:
        assert key in PLAN, f"KNOWN_GAPS names {key}, which has no plan"


def test_every_big_table_is_planned_for_growth() -> None:
    """The household, loan, money and audit tables are distributed or partitioned, never left local."""
    big = ("registry.households", "loans.loans", "loans.loan_repayments", "funds.transfer_legs", "funds.disbursements",
           "gateway.audit_log", "*.audit_outbox")
    for key in big:
        assert PLAN[key].kind in (DISTRIBUTED, PARTITIONED, BOTH), key


def test_scaling_md_names_every_known_gap_table_and_keeps_the_measured_growth_section() -> None:
    text = SCALING.read_text()
    for key, _rule in KNOWN_GAPS:
        assert f"`{key.split('.', 1)[1]}`" in text, f"SCALING.md does not say how {key} will meet its plan"
    assert re.search(r"^## Measured growth$", text, re.MULTILINE)
    assert "issue #20" in text


# --- the rules on their own, both sides ----------------------------------------------------------------------------


def _check(*tables: Table, plans: dict[str, Plan]) -> set[tuple[str, str]]:
    return set(violations({"s": {t.name: t for t in tables}}, {"s": plans}))


def _code(primary_key: bool = False) -> Column[str]:
    return Column("county_code", String(CODE_LENGTH), nullable=False, primary_key=primary_key)


def test_a_distributed_table_keyed_by_county_with_a_colocated_child_passes() -> None:
    md = MetaData()
    loans = Table("loans", md, _code(primary_key=True), Column("id", String(40), primary_key=True),
                  Column("no", String(10)), UniqueConstraint("county_code", "no"))
    repayments = Table("repayments", md, _code(primary_key=True), Column("id", String(40), primary_key=True),
                       Column("loan_id", String(40), nullable=False), Column("source", String(8), nullable=False),
                       ForeignKeyConstraint(["county_code", "loan_id"], ["loans.county_code", "loans.id"]),
                       ForeignKeyConstraint(["source"], ["sources.code"]))
    sources = Table("sources", md, Column("code", String(8), primary_key=True))
    plans = {"loans": dist("county_code", ""), "repayments": dist("county_code", ""), "sources": Plan(REFERENCE, "")}
    assert _check(loans, repayments, sources, plans=plans) == set()


def test_each_distribution_rule_is_enforced() -> None:
    md = MetaData()
    loans = Table("loans", md, Column("id", String(40), primary_key=True), Column("county_code", String(12)),
                  Column("no", String(10)), Index("uq_no", "no", unique=True))
    repayments = Table("repayments", md, _code(primary_key=True), Column("id", String(40), primary_key=True),
                       Column("loan_id", String(40), nullable=False),
                       ForeignKeyConstraint(["loan_id"], ["loans.id"]))
    notes = Table("notes", md, Column("id", BigInteger, primary_key=True), Column("loan_id", String(40)),
                  ForeignKeyConstraint(["loan_id"], ["loans.id"]))
    kinds = Table("kinds", md, Column("code", String(8), primary_key=True), Column("note_id", BigInteger),
                  ForeignKeyConstraint(["note_id"], ["notes.id"]))
    plans = {"loans": dist("county_code", ""), "repayments": dist("county_code", ""), "notes": Plan(LOCAL, ""),
             "kinds": Plan(REFERENCE, "")}
    assert _check(loans, repayments, notes, kinds, plans=plans) == {
        ("s.loans", "distribution-column"), ("s.loans", "distribution-key"), ("s.loans", "distribution-unique"),
        ("s.repayments", "distribution-fk"), ("s.notes", "fk-into-distributed"), ("s.kinds", "reference-fk"),
    }


def test_each_partition_rule_is_enforced_and_a_good_partitioned_table_passes() -> None:
    md = MetaData()
    good = Table("log", md, Column("seq", BigInteger, primary_key=True), Column("at", String(30), nullable=False))
    acks = Table("acks", md, Column("seq", BigInteger, primary_key=True), ForeignKeyConstraint(["seq"], ["log.seq"]))
    plans = {"log": part("seq", ""), "acks": part("seq", "")}
    assert _check(good, acks, plans=plans) == set()
    md = MetaData()
    bad = Table("log", md, Column("id", BigInteger, primary_key=True), Column("at", String(30)),
                Column("nonce", String(64)), Index("uq_nonce", "nonce", unique=True))
    child = Table("acks", md, Column("id", BigInteger, primary_key=True), Column("log_id", BigInteger),
                  ForeignKeyConstraint(["log_id"], ["log.id"]))
    plans = {"log": part("at", ""), "acks": Plan(LOCAL, "")}
    assert _check(bad, child, plans=plans) == {
        ("s.log", "partition-column"), ("s.log", "partition-key"), ("s.log", "partition-unique"),
        ("s.acks", "partition-fk"),
    }


def test_a_directory_keyed_by_its_value_passes_and_each_of_its_rules_is_enforced() -> None:
    md = MetaData()
    ids = Table("ids", md, Column("household_id", String(64), primary_key=True), _code())
    assert _check(ids, plans={"ids": directory("household_id", "")}) == set()
    md = MetaData()
    kinds = Table("kinds", md, Column("code", String(8), primary_key=True))
    bad = Table("ids", md, Column("household_id", String(64), primary_key=True), _code(primary_key=True),
                Column("card", String(20)), Column("kind", String(8)), Column("note", BigInteger),
                Index("uq_card", "card", unique=True), ForeignKeyConstraint(["kind"], ["kinds.code"]),
                ForeignKeyConstraint(["note"], ["notes.id"]))
    notes = Table("notes", md, Column("id", BigInteger, primary_key=True))
    households = Table("households", md, _code(primary_key=True), Column("household_id", String(64), primary_key=True),
                       ForeignKeyConstraint(["household_id", "county_code"], ["ids.household_id", "ids.county_code"]))
    plans = {"ids": directory("household_id", ""), "kinds": Plan(REFERENCE, ""), "notes": Plan(LOCAL, ""),
             "households": dist("county_code", "")}
    assert _check(kinds, bad, notes, households, plans=plans) == {
        ("s.ids", "directory-key"), ("s.ids", "distribution-unique"), ("s.ids", "directory-fk"),
        ("s.households", "distribution-fk"), ("s.households", "fk-into-directory"),
    }


def test_a_table_without_a_plan_is_refused() -> None:
    table = Table("new_table", MetaData(), Column("id", BigInteger, primary_key=True))
    assert _check(table, plans={}) == {("s.new_table", "unplanned")}


@pytest.mark.parametrize("key", sorted(PLAN))
def test_each_plan_says_why(key: str) -> None:
    assert PLAN[key].why.strip()
