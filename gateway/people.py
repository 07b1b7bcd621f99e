"""People (issue #19): users are principals who sign in with a password; this module hashes passwords, signs people
in (S18, S19) and creates users. Sessions are gateway/sessions.py.

S18: a password is stored only as an argon2id hash (argon2-cffi's defaults, RFC 9106's second recommended
parameters), verified off the event loop, and never logged; a wrong login and a wrong password get the same answer.
S19: after LOCKOUT_FAILURES wrong secrets for one login within LOCKOUT_WINDOW (a wrong password, or a wrong code:
COUNTED_FAILURES), with no success since, that login is refused even with the right password until LOCKOUT_WINDOW
after the last wrong one (a refusal while locked does not extend the lock); the sign-ins of one login are taken one
at a time (an advisory lock on the login), so a burst sent at once is judged attempt by attempt; every attempt is
recorded with the client's keyed tag and its request id. Hashing runs on a small pool of its own (argon2id takes
64 MiB and most of a core a time): at most HASH_WORKERS at once and HASH_QUEUE waiting, beyond which a sign-in is
refused at once as `BUSY` (nothing is recorded or hashed).
S21: a person with the second factor on signs in with a current code too (gateway/totp.py); a missing or wrong one
is refused (`TOTP_REQUIRED`, `TOTP_WRONG`) only once the password was right; a wrong one counts towards S19's lock.
A wrong code or current password given to change one's own account counts too (S19, S22).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.fernet import Fernet
from pydantic import StringConstraints
from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.sql import Select
from sqlalchemy.sql.selectable import ScalarSelect

from gateway import totp
from gateway.models import principal_revocations, sign_in_attempts, user_passwords, users

T = TypeVar("T")
# A password is taken as typed: spaces at its ends are part of it (the API's Input strips every other string).
PasswordText = Annotated[str, StringConstraints(strip_whitespace=False, min_length=1, max_length=256)]
NewPasswordText = Annotated[
    str, StringConstraints(strip_whitespace=False, min_length=12, max_length=256)  # MIN_PASSWORD_LENGTH (S18)
]
HASHER = PasswordHasher()
LOCKOUT_FAILURES = 5
LOCKOUT_WINDOW = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 12
LOGIN_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"  # as created (people_api.UserCreate), 3–64 characters
_LOGIN = re.compile(r"[a-z0-9][a-z0-9._-]{2,63}")
HASH_WORKERS, HASH_QUEUE = 2, 4
_HASHING = ThreadPoolExecutor(max_workers=HASH_WORKERS, thread_name_prefix="argon2")
_hashing_now = 0  # sign-ins hashing or waiting to (this process)
# What counts towards S19's lock: a wrong secret; a refusal while locked is not one (it would extend the lock).
COUNTED_FAILURES = ("WRONG_CREDENTIALS", "TOTP_WRONG", "WRONG_PASSWORD")
# Verified against when the login is unknown, so that an unknown login costs what a known one does (S18).
_DUMMY_HASH = HASHER.hash("fundtrack: no such user")


def normal_login(login: str) -> str:
    return login.strip().lower()


class Busy(Exception):
    """Too many sign-ins hashing at once in this process: refused before any work (the client may retry)."""


@contextlib.asynccontextmanager
async def _slot() -> AsyncIterator[None]:
    """A place among the sign-ins and hashings of this process, taken before any connection or work: or Busy."""
    global _hashing_now
    if _hashing_now >= HASH_WORKERS + HASH_QUEUE:
        raise Busy
    _hashing_now += 1
    try:
        yield
    finally:
        _hashing_now -= 1


async def _on_hashing_pool(work: Callable[[], T]) -> T:
    return await asyncio.get_running_loop().run_in_executor(_HASHING, work)


async def hash_password(password: str) -> str:
    async with _slot():
        return await _on_hashing_pool(lambda: HASHER.hash(password))


async def password_matches(stored_hash: str, password: str) -> bool:
    def verify() -> bool:
        try:
            return HASHER.verify(stored_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    return await _on_hashing_pool(verify)


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
                sign_in_attempts.c.reason.in_(COUNTED_FAILURES),
                sign_in_attempts.c.at > func.now() - LOCKOUT_WINDOW,
                sign_in_attempts.c.at > func.coalesce(last_success, func.to_timestamp(0)),
            )
        )
    ).scalar_one()
    return int(failures) >= LOCKOUT_FAILURES


async def record_attempt(
    engine: AsyncEngine, login: str, refused: str | None, *, client: str = "", request_id: str = ""
) -> None:
    """Every attempt is recorded (S19), in a transaction of its own: a refusal rolls the request's back, not this."""
    async with engine.begin() as conn:
        await conn.execute(
            insert(sign_in_attempts).values(login=login, succeeded=refused is None, reason=refused or "ok",
                                            client=client[:64], request_id=request_id[:128])
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


async def sign_in(
    engine: AsyncEngine, login: str, password: str, code: str = "", *, fernet: Fernet, client: str = "",
    request_id: str = "",
) -> SignIn:
    """S18, S19, S21: who this login, password (and code, with the second factor on) are, or the refusal
    (`WRONG_CREDENTIALS`, `LOCKED_OUT`, `TOTP_REQUIRED`, `TOTP_WRONG`, `BUSY`); recorded."""
    login = normal_login(login)
    try:
        async with _slot():
            return await _sign_in(engine, login, password, code, fernet=fernet, client=client, request_id=request_id)
    except Busy:
        return SignIn(None, "BUSY")


async def _sign_in(
    engine: AsyncEngine, login: str, password: str, code: str, *, fernet: Fernet, client: str, request_id: str
) -> SignIn:
    if _LOGIN.fullmatch(login) is None:  # no user has such a login (nor can a NUL reach the database)
        await password_matches(_DUMMY_HASH, password)
        return SignIn(None, "WRONG_CREDENTIALS")
    async with engine.begin() as conn:  # one sign-in of a login at a time, until its attempt is recorded
        await conn.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 19))"), {"key": login})
        locked = await locked_out(conn, login)
        row = (await conn.execute(_current_password(login))).first()
        matched = await password_matches(row.password_hash if row and row.password_hash else _DUMMY_HASH, password)
        if locked:
            outcome = SignIn(None, "LOCKED_OUT")
        elif row is None or not matched:
            outcome = SignIn(None, "WRONG_CREDENTIALS")
        else:
            outcome = await _second_factor(conn, fernet, row.principal_id, code)
        await conn.execute(
            insert(sign_in_attempts).values(
                login=login, succeeded=outcome.refused is None, reason=outcome.refused or "ok", client=client[:64],
                request_id=request_id[:128],
            )
        )
    return outcome


def _current_password(login: str) -> Select[tuple[str, str | None]]:
    """The login's principal (not revoked) and its latest password hash."""
    return (
        select(users.c.principal_id, current_password().label("password_hash"))
        .select_from(
            users.outerjoin(principal_revocations, principal_revocations.c.principal_id == users.c.principal_id)
        )
        .where(users.c.login == login, principal_revocations.c.principal_id.is_(None))
    )


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
