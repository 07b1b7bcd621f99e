"""The optional second factor (issue #19, S21): TOTP (RFC 6238, 30-second steps, 6 digits, SHA-1, as every
authenticator app reads an otpauth:// URI) for a person who turns it on.

The states are rows of `user_totp`, the latest winning: pending (enrolled, a secret shown once), enabled (confirmed
with a current code), disabled (turned off with a current code). The secret is kept only as a Fernet token under a
key derived from the service secret, so a copy of the database alone does not give the codes. A code is accepted
for the step before, the current one or the one after (a clock a step off), and once: its step is recorded in
`totp_uses`, and no step up to the last one accepted is accepted again for that person (RFC 6238 §5.2).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass

import pyotp
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import exists, insert, literal, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from gateway.models import totp_uses, user_totp

PENDING, ENABLED, DISABLED = "pending", "enabled", "disabled"
ISSUER = "FundTrack"
STEP_SECONDS = 30
DRIFT_STEPS = 1  # the step before and the one after the current one are accepted too
CODE = r"^[0-9]{6}$"

Db = AsyncConnection | AsyncSession


def fernet_for(service_secret: str) -> Fernet:
    """The key that encrypts the secrets at rest: derived from the service secret, for this use only."""
    key = hashlib.sha256(b"fundtrack-totp\n" + service_secret.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def new_secret() -> str:
    return pyotp.random_base32(32)  # 160 bits, RFC 4226's recommended length


def otpauth_uri(secret: str, login: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=login, issuer_name=ISSUER)


@dataclass(frozen=True)
class TotpState:
    state: str | None  # None: never enrolled
    secret_encrypted: str | None


async def state_of(db: Db, principal_id: str) -> TotpState:
    row = (
        await db.execute(
            select(user_totp.c.state, user_totp.c.secret_encrypted)
            .where(user_totp.c.principal_id == principal_id)
            .order_by(user_totp.c.id.desc())
            .limit(1)
        )
    ).first()
    return TotpState(row.state, row.secret_encrypted) if row is not None else TotpState(None, None)


async def record(db: Db, principal_id: str, state: str, secret_encrypted: str | None) -> None:
    await db.execute(
        insert(user_totp).values(principal_id=principal_id, state=state, secret_encrypted=secret_encrypted)
    )


def matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The time step (within DRIFT_STEPS of now) whose code this is, or None."""
    totp = pyotp.TOTP(secret)
    current = int((time.time() if now is None else now) // STEP_SECONDS)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


async def use_code(db: Db, fernet: Fernet, principal_id: str, secret_encrypted: str, code: str) -> bool:
    """S21: the code is the person's for a step near now, later than any step of theirs accepted before; that step
    is recorded in the caller's transaction (so a refused request, rolled back, has used nothing)."""
    try:
        secret = fernet.decrypt(secret_encrypted.encode()).decode()
    except InvalidToken:
        return False  # encrypted under another service secret: no code can match it
    step = matching_step(secret, code.strip())
    if step is None:
        return False
    later_used = exists().where(totp_uses.c.principal_id == principal_id, totp_uses.c.step >= step)
    inserted = await db.execute(
        pg_insert(totp_uses)
        .from_select(["principal_id", "step"], select(literal(principal_id), literal(step)).where(~later_used))
        .on_conflict_do_nothing()  # the same code twice at once: one of them
        .returning(totp_uses.c.step)
    )
    return inserted.first() is not None

