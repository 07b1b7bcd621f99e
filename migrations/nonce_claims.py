"""The steps that move S5's replay guard of a change from the audit outbox's unique nonce to `signed_nonces` (issue
#15, deploy/SCALING.md "the kernel tables"), the same in every schema (each has the kernel's tables), one revision
each (`<schema>_00NN_nonce_claims`).

The outbox is planned as partitioned by its id, and a unique index of a partitioned table must hold the partition
key: `uq_audit_outbox_nonce` cannot stay. Every state-changing request now claims its nonce in `signed_nonces` in
its own transaction (services/kernel/nonces.py), with its signature's timestamp, from which the claim's window and the
forgetting are counted. The steps, each safe to run again, each waiting at most `LOCK_TIMEOUT` for a lock:

1. `signed_nonces.signed_at` added with the default `now()` (no rewrite: a constant default; the table holds an
   hour of unaudited claims), and `ix_signed_nonces_signed_at` built CONCURRENTLY in place of the index on `seen_at`;
2. a trigger on `audit_outbox` (declared with the kernel's models, services/kernel/models.py) claims the nonce of
   every entry written with one, which only a process of the version before does (the new one leaves the column
   empty): so during a rolling deploy a replay is refused whichever version runs the original and whichever the
   replay. It raises the old index's error (`unique_violation`, its constraint's name), which that version answers
   as a replay (401 REPLAYED_REQUEST);
3. the nonces of the entries written before the trigger, within the memory (`nonces.memory_seconds`), claimed:
   a replay of one of them may still come (the signature's lifetime bounds when a replay arrives, not when it
   claims: a slow body); a scan of the outbox, once;
4. `uq_audit_outbox_nonce` dropped CONCURRENTLY: from then on the claims are the only guard, on either version.

While both versions run: a process of the version before forgets its unaudited claims by `seen_at` after an hour,
now without an index (a scan of a table of a few hours' claims, on its rare unaudited writes), and would forget the
new version's claims after that hour too, not after the new window. So the processes of the version before must be
gone within an hour of the first new one's start (a rolling deploy takes minutes); a replay that claims more than
an hour after its original, while one of them still runs, is the one case this does not refuse.
"""

from __future__ import annotations

from alembic import op

from migrations.online import LOCK_TIMEOUT, build_index, wait_briefly_for_locks
from services.kernel import nonces
from services.kernel.models import OLD_NONCE_FUNCTION, OLD_NONCE_TRIGGER

# An entry's time stands for its signature's (it is later: the nonce is kept a little longer, never shorter).
_CLAIM_WRITTEN = """
    INSERT INTO signed_nonces (nonce, seen_at, signed_at)
    SELECT o.nonce, o.at, o.at FROM audit_outbox o
    WHERE o.nonce IS NOT NULL AND o.at > now() - make_interval(secs => {memory})
    ON CONFLICT (nonce) DO NOTHING
"""


def upgrade() -> None:
    wait_briefly_for_locks()
    op.execute("ALTER TABLE signed_nonces ADD COLUMN IF NOT EXISTS signed_at timestamptz NOT NULL DEFAULT now()")
    op.execute(OLD_NONCE_FUNCTION)
    op.execute("DROP TRIGGER IF EXISTS audit_outbox_claims_nonce ON audit_outbox")
    op.execute(OLD_NONCE_TRIGGER)
    build_index("ix_signed_nonces_signed_at", "signed_nonces", ["signed_at"])
    with op.get_context().autocommit_block():
        op.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
        # the nonces of the entries written before the trigger (CREATE TRIGGER waited for the writers then at
        # work): a replay of one, which may still claim within the window, finds it claimed
        op.execute(_CLAIM_WRITTEN.format(memory=float(nonces.memory_seconds())))
        op.drop_index("ix_signed_nonces_seen_at", table_name="signed_nonces", postgresql_concurrently=True,
                      if_exists=True)
        op.drop_index("uq_audit_outbox_nonce", table_name="audit_outbox", postgresql_concurrently=True,
                      if_exists=True)
        op.execute("RESET lock_timeout")
