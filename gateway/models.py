"""The gateway's tables (schema `gateway`): principals, their revocations, the audit inbox and the chained trail,
with the kernel's tables; `metadata` is the gateway schema. The trail is append-only and the inbox gives an entry
up only for a chained copy of itself: the database enforces both (A1, A2, S4)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY

from services.kernel.identity import ROLES
from services.kernel.models import KERNEL_TABLES
from services.kernel.organisations import ORGANISATION_KINDS
from services.kernel.schema import after_create, append_only

metadata = MetaData()
for _kernel_table in KERNEL_TABLES:
    _kernel_table.to_metadata(metadata)


def _audit_columns() -> list[Column[object]]:
    return [
        Column("at", DateTime(timezone=True), nullable=False),
        Column("principal_id", String(64), nullable=False),
        Column("role", String(32), nullable=False),
        Column("region_code", String(12), nullable=False),
        Column("method", String(8), nullable=False),
        Column("path", Text, nullable=False),
        Column("query", Text, nullable=False),
        Column("entity_ids", ARRAY(Text), nullable=False),
        Column("body_sha256", String(64), nullable=False),
        Column("status", Integer, nullable=False),
        Column("code", String(64), nullable=False),
        Column("request_id", String(128), nullable=False),
        # Who wrote the entry: 'gateway' for what came through the door, a service name for a committed change.
        Column("origin", String(16), nullable=False),
        Column("origin_id", BigInteger, nullable=True),
    ]


AUDIT_FIELDS = (
    "at",
    "principal_id",
    "role",
    "region_code",
    "method",
    "path",
    "query",
    "entity_ids",
    "body_sha256",
    "status",
    "code",
    "request_id",
    "origin",
    "origin_id",
)

# Organisations (单位, issue #16): who a principal works for, and what a service names as recording a fact or being
# responsible for it. Kept as created (append-only): a change of name is a new organisation.
organisations = Table(
    "organisations",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("region_code", String(12), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("created_by", String(64), nullable=False),
    CheckConstraint(f"kind IN ({', '.join(repr(k) for k in ORGANISATION_KINDS)})", name="ck_organisations_kind"),
    Index("ix_organisations_region_code", "region_code", postgresql_ops={"region_code": "text_pattern_ops"}),
)
append_only(organisations)

principals = Table(
    "principals",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("role", String(32), nullable=False),
    Column("region_code", String(12), nullable=False),
    # Null for a person (issue #19: `users`), who signs in with a password and never holds a key.
    Column("key_sha256", String(64), nullable=True, unique=True),
    Column("key_prefix", String(16), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("created_by", String(64), nullable=False),
    Column("organisation_id", String(64), ForeignKey("organisations.id"), nullable=False),
    CheckConstraint(f"role IN ({', '.join(repr(r) for r in ROLES)})", name="ck_principals_role"),
)

principal_revocations = Table(
    "principal_revocations",
    metadata,
    Column("principal_id", String(64), ForeignKey("principals.id"), primary_key=True),
    Column("revoked_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("revoked_by", String(64), nullable=False),
)

# People (issue #19): a user is a principal who signs in with a password instead of holding a key; their role,
# jurisdiction and organisation are the principal's, so the console can do nothing the same principal's key could
# not, and the trail names the person. Passwords (argon2id), sessions and sign-in attempts are kept as rows added,
# never edited: a new password is a new row, a session ends by a row in `session_ends`, a lockout is read from the
# attempts (gateway/people.py).
users = Table(
    "users",
    metadata,
    Column("principal_id", String(64), ForeignKey("principals.id"), primary_key=True),
    Column("login", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("created_by", String(64), nullable=False),
    CheckConstraint("login = lower(login)", name="ck_users_login_lower"),
)
append_only(users)

user_passwords = Table(
    "user_passwords",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("principal_id", String(64), ForeignKey("users.principal_id"), nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("set_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("set_by", String(64), nullable=False),
    Index("ix_user_passwords_principal", "principal_id", "id"),
)
append_only(user_passwords)

# A session's token is shown once, in its cookie; only its SHA-256 is kept (as API keys are). Its CSRF token is not
# stored: it is an HMAC of the session token (gateway/sessions.py).
sessions = Table(
    "sessions",
    metadata,
    Column("token_sha256", String(64), primary_key=True),
    Column("principal_id", String(64), ForeignKey("principals.id"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Index("ix_sessions_principal", "principal_id"),
)
append_only(sessions)

session_ends = Table(
    "session_ends",
    metadata,
    Column("token_sha256", String(64), ForeignKey("sessions.token_sha256"), primary_key=True),
    Column("ended_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("reason", String(32), nullable=False),
)
append_only(session_ends)

sign_in_attempts = Table(
    "sign_in_attempts",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("login", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("succeeded", Boolean, nullable=False),
    Column("reason", String(32), nullable=False),
    Column("client", String(64), nullable=False),  # the door's keyed tag of the client's address (never the address)
    Column("request_id", String(128), nullable=False),  # the sign-in's request, as the trail has it
    Index("ix_sign_in_attempts_login_at", "login", "at"),
)
append_only(sign_in_attempts)

# The optional second factor (issue #19, S21): a person's TOTP states, the latest row winning (pending when enrolled,
# enabled when confirmed with a code, disabled when turned off with one). The secret is kept only encrypted (Fernet,
# under a key derived from the service secret: gateway/totp.py). A code's time step, once accepted, is recorded, and
# no step up to it is accepted again for that person (no replay within its window).
user_totp = Table(
    "user_totp",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("principal_id", String(64), ForeignKey("users.principal_id"), nullable=False),
    Column("state", String(16), nullable=False),
    Column("secret_encrypted", Text, nullable=True),
    Column("set_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("state IN ('pending', 'enabled', 'disabled')", name="ck_user_totp_state"),
    CheckConstraint("(state = 'disabled') = (secret_encrypted IS NULL)", name="ck_user_totp_secret"),
    Index("ix_user_totp_principal", "principal_id", "id"),
)
append_only(user_totp)

totp_uses = Table(
    "totp_uses",
    metadata,
    Column("principal_id", String(64), ForeignKey("users.principal_id"), primary_key=True),
    Column("step", BigInteger, primary_key=True),
    Column("used_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
append_only(totp_uses)

audit_inbox = Table(
    "audit_inbox",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    *_audit_columns(),
    # What the sequencer asks before staging an outbox entry: is it waiting in the inbox already?
    Index("ix_audit_inbox_origin", "origin", "origin_id", postgresql_where=text("origin_id IS NOT NULL")),
)

# An entry chained "late": more than LATE_AFTER after its `at`, or stamped before it (the clocks of two hosts).
# Every other entry lies where its `at` says in seq (gateway/audit_scan.py). The index's predicate, said again by the
# queries that use it: keep the two the same text.
LATE_AFTER = timedelta(minutes=1)
LATE_ENTRY = "sequenced_at < at OR sequenced_at - at > interval '1 minute'"

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    *_audit_columns(),
    Column("sequenced_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("inbox_id", BigInteger, nullable=True),
    # What the inbox's delete guard reads (a chained copy of each entry deleted). Not unique: audit_log is to be
    # partitioned by seq, which a unique index must then hold; an entry is chained once because the transaction that
    # chains it must be the one that deletes it from the inbox (gateway/sequencer.py `take_from_inbox`).
    Index("ix_audit_log_inbox_id", "inbox_id", postgresql_where=text("inbox_id IS NOT NULL")),
    Index("ix_audit_log_request_id", "request_id"),
    Index("ix_audit_log_principal", "principal_id", "seq"),
    Index("ix_audit_log_entity_ids", "entity_ids", postgresql_using="gin"),
    Index("ix_audit_log_at", "at"),
    # GET /audit?since=&until=: where a time window lies in seq (gateway/audit_scan.py). The sequencer stamps
    # `sequenced_at` never below the entry before (monotone in seq), so the first seq chained at or after a time is
    # one probe; the few entries chained more than LATE_AFTER after their `at` (or before it: another host's clock)
    # are found by their own partial index, wherever they lie in seq.
    Index("ix_audit_log_sequenced_at", "sequenced_at", "seq"),
    Index("ix_audit_log_late", "at", "seq", postgresql_where=text(LATE_ENTRY)),
    # GET /audit?code=: the newest entry with a code, at once (codes are only on refusals; gateway/audit_scan.py).
    Index("ix_audit_log_code", "code", "seq", postgresql_where=text("code <> ''")),
    # Not unique: a chained row claiming a service's outbox entry with other content must not keep the real entry
    # out of the chain (gateway.audit: the sequencer chains the real one and says so loudly).
    Index("ix_audit_log_origin", "origin", "origin_id", postgresql_where=text("origin_id IS NOT NULL")),
)

GENESIS_HASH = "0" * 64

# A door entry leaves the inbox only for a chained copy of itself: every row a DELETE removes must be named by a
# chained row (`audit_log.inbox_id`) carrying the same entry, field by field (else whoever may insert into the chain
# could chain a forged entry naming the inbox id and delete the real one). One set-based check per DELETE statement
# (a transition table), not a trigger call per row: the sequencer deletes 2000 chained entries at a time. UPDATE and
# TRUNCATE are refused.
_SAME_ENTRY = " AND ".join(f"l.{c} IS NOT DISTINCT FROM g.{c}" for c in AUDIT_FIELDS)
_INBOX_GUARD = f"""
CREATE OR REPLACE FUNCTION audit_inbox_chained_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                IF NOT EXISTS (
                    SELECT 1 FROM gone g WHERE NOT EXISTS (
                        SELECT 1 FROM gateway.audit_log l WHERE l.inbox_id = g.id AND {_SAME_ENTRY}
                    )
                ) THEN
                    RETURN NULL;
                END IF;
            END IF;
            RAISE EXCEPTION 'audit_inbox: % refused (an entry leaves the inbox only once it is chained, as it is)',
                TG_OP USING ERRCODE = 'insufficient_privilege';
        END $$
"""
after_create(
    audit_inbox,
    _INBOX_GUARD,
    "CREATE TRIGGER audit_inbox_delete_chained_only AFTER DELETE ON audit_inbox REFERENCING OLD TABLE AS gone "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_inbox_chained_only()",
    "CREATE TRIGGER audit_inbox_no_update_or_truncate BEFORE UPDATE OR TRUNCATE ON audit_inbox "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_inbox_chained_only()",
)
# A2: the trail is append-only, enforced by the database itself (and the app role has no such grant).
append_only(audit_log)

# The Merkle tree over the trail (RFC 6962, issue #13): every hash of every complete subtree, as Go's sumdb/tlog
# stores them (gateway.tlog.stored_hash_index), one row per record holding the hashes that record stores (its leaf's,
# then those of the subtrees it completes: tlog.stored_hashes), so that a proof reads O(log n) rows by their primary
# key and the sequencer writes one row per entry. Entry `seq` is record `seq - 1`. Written by the sequencer in the
# transaction that chains the entries (gateway/tree_store.py).
audit_tree_records = Table(
    "audit_tree_records",
    metadata,
    Column("record", BigInteger, primary_key=True, autoincrement=False),
    Column("hashes", LargeBinary, nullable=False),
    CheckConstraint(
        "octet_length(hashes) >= 32 AND mod(octet_length(hashes), 32) = 0", name="ck_audit_tree_records_hashes"
    ),
)
append_only(audit_tree_records)

# Signed checkpoints (C2SP signed note): the tree's size and root at a time, signed with the key that is not in the
# database; each is also published to the witness directory (gateway/witness.py).
audit_checkpoints = Table(
    "audit_checkpoints",
    metadata,
    Column("size", BigInteger, primary_key=True, autoincrement=False),
    Column("root", LargeBinary, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("note", Text, nullable=False),
)
append_only(audit_checkpoints)


# S16: the public's POSTs counted per client address, shared by every gateway process (gateway/ratelimit.py). An
# ephemeral counter, not a record: UNLOGGED (not in the WAL, emptied by a crash, which only forgets some counts), rows
# deleted once their time slice leaves the window, and keyed by an HMAC of the address and the slice, never the
# address itself, so no row links to an address, nor two slices of one client to each other.
public_post_counts = Table(
    "public_post_counts",
    metadata,
    Column("client_tag", String(64), primary_key=True),
    Column("hits", Integer, nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Index("ix_public_post_counts_expires_at", "expires_at"),
    prefixes=["UNLOGGED"],
)


def utc(value: datetime) -> str:
    """The one timestamp form that goes into a hash: UTC, microseconds."""
    from datetime import UTC

    return value.astimezone(UTC).isoformat(timespec="microseconds")
