"""funds: S5's replay guard of a change moves from the outbox's unique nonce to `signed_nonces` (issue #15)

The steps are every schema's: migrations/nonce_claims.py.

Revision ID: funds_0024_nonce_claims
Revises: funds_0023_transfer_legs
Create Date: 2026-12-06 14:00:00
"""

from collections.abc import Sequence

from migrations import nonce_claims

revision: str = "funds_0024_nonce_claims"
down_revision: str | None = "funds_0023_transfer_legs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    nonce_claims.upgrade()


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
