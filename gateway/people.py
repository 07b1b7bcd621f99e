"""People (issue #19): users are principals who sign in with a password; this module hashes passwords, signs people
in (S18, S19) and creates users. Sessions are gateway/sessions.py.

S18: a password is stored only as an argon2id hash (argon2-cffi's defaults, RFC 9106's second recommended
parameters), verified off the event loop, and never logged; a wrong login and a wrong password get the same answer.
S19: after LOCKOUT_FAILURES failed sign-ins of one login within LOCKOUT_WINDOW, with no success since, that login is
refused even with the right password until LOCKOUT_WINDOW after the last failure; every attempt is recorded.
S21: a person with the second factor on signs in with a current code too (gateway/totp.py); a missing or wrong one
is a failed attempt like a wrong password (S19), told apart (`TOTP_REQUIRED`, `TOTP_WRONG`) only once the password
was right. A wrong code or current password given to change one's own account is a failed attempt too (S19, S22).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.fernet import Fernet
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.sql.selectable import ScalarSelect

from gateway import totp
from gateway.models import principal_revocations, sign_in_attempts, user_passwords, users

HASHER = PasswordHasher()
LOCKOUT_FAILURES = 5
LOCKOUT_WINDOW = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 12
# Verified against when the login is unknown, so that an unknown login costs what a known one does (S18).
_DUMMY_HASH = HASHER.hash("fundtrack: no such user")


def normal_login(login: str) -> str:
    return login.strip().lower()


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(HASHER.hash, password)


async def password_matches(stored_hash: str, password: str) -> bool:
    def verify() -> bool:
        try:
            return HASHER.verify(stored_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(verify)


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in: the principal signed in, or why not (`refused`: a code for programs)."""

    principal_id: str | None
    refused: str | None = None


async def locked_out(conn: AsyncConnection | AsyncSession, login: str) -> bool:
    """S19: LOCKOUT_FAILURES failures within LOCKOUT_WINDOW of now, none of them before the last success."""
    last_success = (
        select(func.max(sign_in_attempts.c.at))
        .where(sign_in_attempts.c.login == login, sign_in_attempts.c.succeeded)
        .scalar_subquery()
    )
    failures = (
        await conn.execute(
            select(func.count()).where(
                sign_in_attempts.c.login == login,
                ~sign_in_attempts.c.succeeded,
                sign_in_attempts.c.at > func.now() - LOCKOUT_WINDOW,
                sign_in_attempts.c.at > func.coalesce(last_success, func.to_timestamp(0)),
            )
        )
    ).scalar_one()
    return int(failures) >= LOCKOUT_FAILURES


async def record_attempt(engine: AsyncEngine, login: str, refused: str | None) -> None:
    """Every attempt is recorded (S19), in a transaction of its own: a refusal rolls the request's back, not this."""
    async with engine.begin() as conn:
        await conn.execute(
            insert(sign_in_attempts).values(login=login, succeeded=refused is None, reason=refused or "ok")
        )


def current_password() -> ScalarSelect[Any]:
    """The person's latest password hash, for a query naming `users`."""
    return (
        select(user_passwords.c.password_hash)
        .where(user_passwords.c.principal_id == users.c.principal_id)
        .order_by(user_passwords.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )


async def sign_in(engine: AsyncEngine, login: str, password: str, code: str = "", *, fernet: Fernet) -> SignIn:
    """S18, S19, S21: who this login, password (and code, with the second factor on) are, or the refusal
    (`WRONG_CREDENTIALS`, `LOCKED_OUT`, `TOTP_REQUIRED`, `TOTP_WRONG`); recorded."""
    login = normal_login(login)[:64]
    async with engine.connect() as conn:
        locked = await locked_out(conn, login)
        row = (
            await conn.execute(
                select(users.c.principal_id, current_password().label("password_hash"))
                .select_from(
                    users.outerjoin(
                        principal_revocations, principal_revocations.c.principal_id == users.c.principal_id
                    )
                )
                .where(users.c.login == login, principal_revocations.c.principal_id.is_(None))
            )
        ).first()
    matched = await password_matches(row.password_hash if row and row.password_hash else _DUMMY_HASH, password)
    async with engine.begin() as conn:
        if locked:
            outcome = SignIn(None, "LOCKED_OUT")
        elif row is None or not matched:
            outcome = SignIn(None, "WRONG_CREDENTIALS")
        else:
            outcome = await _second_factor(conn, fernet, row.principal_id, code)
        await conn.execute(
            insert(sign_in_attempts).values(
                login=login, succeeded=outcome.refused is None, reason=outcome.refused or "ok"
            )
        )
    return outcome


async def _second_factor(conn: AsyncConnection, fernet: Fernet, principal_id: str, code: str) -> SignIn:
    """S21: with the second factor on, a current code not used before; its step recorded with the attempt."""
    second = await totp.state_of(conn, principal_id)
    if second.state != totp.ENABLED or second.secret_encrypted is None:
        return SignIn(principal_id)
    if not code.strip():
        return SignIn(None, "TOTP_REQUIRED")
    if not await totp.use_code(conn, fernet, principal_id, second.secret_encrypted, code):
        return SignIn(None, "TOTP_WRONG")
    return SignIn(principal_id)
