"""Tables of the oversight schema (issue #16): cases (问题线索), the alerts each was opened from, every move of a
case as a new event row, and accountability records. Everything is append-only (the database refuses to edit or
delete it): a case's state, responsible organisation and deadline are those of its latest events; a case row is
locked (SELECT … FOR UPDATE) while a move is decided, and (case_id, seq) is unique, so two moves cannot both follow
the same event. `metadata` is the oversight schema."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from services.kernel.models import KERNEL_TABLES
from services.kernel.schema import append_only
from services.oversight.rules import ACTIONS, MEASURES, STATES

metadata = MetaData()
for _kernel_table in KERNEL_TABLES:
    _kernel_table.to_metadata(metadata)


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _recorded() -> list[Column[object]]:
    """Who recorded a row, for which organisation, and when."""
    return [
        Column("principal_id", String(64), nullable=False),
        Column("principal_organisation_id", String(64), nullable=False),
        Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    ]


cases = Table(
    "cases",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("region_code", String(12), nullable=False),
    Column("title", String(200), nullable=False),
    Column("complaint_ref", String(100), nullable=False, server_default=""),
    Column("severity", String(16), nullable=False),
    Column("money_involved_fen", BigInteger, nullable=False),
    *_recorded(),
    CheckConstraint("money_involved_fen >= 0", name="ck_cases_money"),
    CheckConstraint(_one_of("severity", ("low", "medium", "high", "critical")), name="ck_cases_severity"),
    Index("ix_cases_region", "region_code", "id", postgresql_ops={"region_code": "text_pattern_ops"}),
)

case_alerts = Table(
    "case_alerts",
    metadata,
    # O2: an alert is in one case only
    Column("service", String(16), primary_key=True),
    Column("alert_id", String(64), primary_key=True),
    Column("case_id", String(40), ForeignKey("cases.id"), nullable=False),
    Column("alert_type", String(64), nullable=False),
    Column("alert_severity", String(16), nullable=False),
    Column("alert_region_code", String(12), nullable=False),
    Index("ix_case_alerts_case", "case_id"),
)

case_events = Table(
    "case_events",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("case_id", String(40), ForeignKey("cases.id"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("action", String(32), nullable=False),
    Column("state", String(32), nullable=False),
    # assigned: the responsible organisation; referred: the discipline commission
    Column("organisation_id", String(64), nullable=False, server_default=""),
    Column("deadline", Date, nullable=True),
    Column("note", Text, nullable=False, server_default=""),
    # [{sha256, name, media_type, size}]: the documents the move carries, each confirmed kept in the evidence store (E1)
    Column("documents", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("money_recovered_fen", BigInteger, nullable=True),
    # the funds' reversals that recovered it (ids as the ledger gave them), each asked of funds first (O10)
    Column("reversal_ids", ARRAY(Text), nullable=False, server_default=text("'{}'::text[]")),
    *_recorded(),
    UniqueConstraint("case_id", "seq", name="uq_case_events_seq"),
    CheckConstraint(_one_of("action", ACTIONS), name="ck_case_events_action"),
    CheckConstraint(_one_of("state", STATES), name="ck_case_events_state"),
    CheckConstraint("money_recovered_fen IS NULL OR money_recovered_fen >= 0", name="ck_case_events_money"),
    # the cases an organisation answers for
    Index("ix_case_events_assigned", "organisation_id", "case_id", postgresql_where=text("action = 'assigned'")),
)

case_accountability = Table(
    "case_accountability",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("case_id", String(40), ForeignKey("cases.id"), nullable=False),
    Column("person_name", String(100), nullable=False),
    Column("person_post", String(200), nullable=False),
    Column("measure", String(16), nullable=False),
    Column("decided_on", Date, nullable=False),
    Column("decision_number", String(100), nullable=False),
    Column("documents", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    *_recorded(),
    CheckConstraint(_one_of("measure", MEASURES), name="ck_case_accountability_measure"),
    Index("ix_case_accountability_case", "case_id"),
)

# O12: complaints (监督举报) from the public, kept as made. `contact` is personal data: shown only to the inspectors
# whose jurisdiction covers `region_code`, never in a public answer nor in the alert. Nothing of who sent it (no
# address) is kept.
complaints = Table(
    "complaints",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("region_code", String(12), nullable=False),
    Column("text", Text, nullable=False),
    Column("contact", String(200), nullable=False, server_default=""),
    Column("subject_ref", String(100), nullable=False, server_default=""),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_complaints_region", "region_code", "id", postgresql_ops={"region_code": "text_pattern_ops"}),
)

# E1: who uploaded each document (the store keeps one copy of the same bytes; each organisation that uploads them
# adds its own row, every upload one). A move cites only a document its caller's organisation uploaded (or, for an
# inspector, one a case it sees cites): the store alone does not say who may. `organisation_id` is empty for a
# principal of no organisation, who then cites only what it uploaded itself (`principal_id`).
evidence_uploads = Table(
    "evidence_uploads",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("sha256", String(64), nullable=False),
    Column("organisation_id", String(64), nullable=False),
    Column("principal_id", String(64), nullable=False),
    Column("uploaded_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="ck_evidence_uploads_sha256"),
    Index("ix_evidence_uploads_sha256", "sha256", "organisation_id"),
)

for _table in (cases, case_alerts, case_events, case_accountability, complaints, evidence_uploads):
    append_only(_table)
