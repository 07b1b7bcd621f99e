"""A person's own account over the API (issue #19): who I am, my password (S22) and my second factor (S21).

Only a person has an account to change: a key holder (a system) has no password and signs in with no code, so its
calls here are refused (409 `NOT_A_PERSON`). A wrong current password or code is a failed attempt of the person's
login (S19), recorded in a transaction of its own so that the refusal does not roll it back; a locked login changes
nothing here either.
"""

from __future__ import annotations

import json

from fastapi import Request
from pydantic import BaseModel, Field
from sqlalchemy import insert, literal, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from gateway import people, totp
from gateway.models import session_ends, sessions, user_passwords, users
from gateway.sessions import Signed, token_digest
from services.kernel.errors import Conflict, Forbidden, RuleViolation, ServiceUnavailable
from services.kernel.identity import Principal
from services.kernel.routers import service_router
from services.kernel.settings import get_settings
from services.kernel.types import Input
from services.kernel.uow import PrincipalDep, SessionDep

NOT_A_PERSON = "NOT_A_PERSON"
LOCKED_OUT = "LOCKED_OUT"
TOTP_ENABLED = "TOTP_ENABLED"
TOTP_NOT_PENDING = "TOTP_NOT_PENDING"
TOTP_NOT_ENABLED = "TOTP_NOT_ENABLED"
TOTP_WRONG = "TOTP_WRONG"
WRONG_PASSWORD = "WRONG_PASSWORD"
PASSWORD_UNCHANGED = "PASSWORD_UNCHANGED"
S19, S21, S22 = "S19", "S21", "S22"
PASSWORD_CHANGED = "password_changed"  # session_ends.reason of the person's other sessions (S22)


class MeRead(BaseModel):
    principal_id: str
    name: str
    role: str
    region_code: str
    organisation_id: str | None
    login: str | None = Field(description="a person's login; null for a key holder")
    totp_enabled: bool = Field(description="the second factor is on: sign-in asks for a code (S21)")
    totp_pending: bool = Field(description="enrolled, not yet confirmed with a code")


class PasswordChange(Input):
    current_password: people.PasswordText
    new_password: people.NewPasswordText = Field(description="at least 12 characters (S18)")


class TotpEnrol(Input):
    current_password: people.PasswordText = Field(
        description="S21: the person's password: a session alone (a stolen one) cannot put a second factor on"
    )


class PasswordChanged(BaseModel):
    principal_id: str
    sessions_ended: int = Field(description="the person's other sessions, ended (S22)")


class TotpEnrolment(BaseModel):
    state: str
    secret: str | None = Field(description="base32, shown once; null when an idempotent retry replays the answer")
    otpauth_uri: str | None = Field(description="the same secret for an authenticator app; shown once")


class TotpCode(Input):
    code: str = Field(pattern=totp.CODE, description="the six digits the authenticator app shows now")


class TotpRead(BaseModel):
    state: str


router = service_router("/me", tags=["me"])


async def _login_of(session: AsyncSession, caller: Principal) -> str:
    login = (await session.execute(select(users.c.login).where(users.c.principal_id == caller.id))).scalar()
    if login is None:
        raise Conflict(
            "只有以密码登录的用户才有账户设置 / only a person who signs in with a password has an account to change: "
            "a key has no password and no second factor", code=NOT_A_PERSON,
        )
    return str(login)


def _engine(request: Request) -> AsyncEngine:
    engine: AsyncEngine = request.app.state.engine
    return engine


def _request_id(request: Request) -> str:
    return str(getattr(request.state, "request_id", ""))


async def _not_locked(session: AsyncSession, login: str) -> None:
    if await people.locked_out(session, login):
        raise Forbidden(
            "失败次数过多，账户已暂时锁定，请 15 分钟后再试 / too many failed attempts: this login is locked for 15 "
            "minutes", code=LOCKED_OUT, rule=S19,
        )


@router.get("", response_model=MeRead)
async def who_am_i(session: SessionDep, caller: PrincipalDep) -> MeRead:
    login = (await session.execute(select(users.c.login).where(users.c.principal_id == caller.id))).scalar()
    second = await totp.state_of(session, caller.id) if login is not None else totp.TotpState(None, None)
    return MeRead(
        principal_id=caller.id, name=caller.name, role=caller.role, region_code=caller.region_code,
        organisation_id=caller.organisation_id, login=login, totp_enabled=second.state == totp.ENABLED,
        totp_pending=second.state == totp.PENDING,
    )


async def _password_checked(
    request: Request, session: AsyncSession, caller: Principal, login: str, password: str, *, rule: str
) -> None:
    """The person's current password, or a refusal on `current_password`; a wrong one is a failed attempt (S19)."""
    await _not_locked(session, login)
    stored = (await session.execute(select(people.current_password()).where(users.c.principal_id == caller.id)))
    if not await people.password_matches(stored.scalar_one(), password):
        await people.record_attempt(_engine(request), login, WRONG_PASSWORD, request_id=_request_id(request))
        raise RuleViolation("当前密码错误 / the current password is wrong", code=WRONG_PASSWORD,
                            field="current_password", rule=rule)


@router.post("/password", response_model=PasswordChanged)
async def change_password(
    body: PasswordChange, request: Request, session: SessionDep, caller: PrincipalDep
) -> PasswordChanged:
    """S22: the current password, a new one of at least 12 characters and not the same; every other session ends."""
    login = await _login_of(session, caller)
    await _password_checked(request, session, caller, login, body.current_password, rule=S22)
    if body.new_password == body.current_password:
        raise RuleViolation("新密码不能与当前密码相同 / the new password must differ from the current one",
                            code=PASSWORD_UNCHANGED, field="new_password", rule=S22)
    try:
        password_hash = await people.hash_password(body.new_password)
    except people.Busy as busy:
        raise ServiceUnavailable("正忙，请稍后再试 / busy hashing passwords; nothing was changed, try again") from busy
    await session.execute(
        insert(user_passwords).values(principal_id=caller.id, password_hash=password_hash, set_by=caller.id)
    )
    signed = getattr(request.state, "signed", None)
    keep = token_digest(signed.token) if isinstance(signed, Signed) else ""
    ended = await session.execute(
        pg_insert(session_ends)
        .from_select(
            ["token_sha256", "reason"],
            select(sessions.c.token_sha256, literal(PASSWORD_CHANGED)).where(
                sessions.c.principal_id == caller.id,
                sessions.c.token_sha256 != keep,
                ~select(session_ends.c.token_sha256)
                .where(session_ends.c.token_sha256 == sessions.c.token_sha256)
                .exists(),
            ),
        )
        .on_conflict_do_nothing()
        .returning(session_ends.c.token_sha256)
    )
    return PasswordChanged(principal_id=caller.id, sessions_ended=len(ended.all()))


@router.post("/totp", status_code=201, response_model=TotpEnrolment)
async def enrol_totp(
    body: TotpEnrol, request: Request, session: SessionDep, caller: PrincipalDep
) -> TotpEnrolment:
    """S21: a new secret, pending until confirmed with a code, given for the person's password; refused while the
    second factor is on."""
    login = await _login_of(session, caller)
    await _password_checked(request, session, caller, login, body.current_password, rule="S21")
    if (await totp.state_of(session, caller.id)).state == totp.ENABLED:
        raise Conflict("动态验证码已启用，请先停用 / the second factor is on: turn it off first to enrol anew",
                       code=TOTP_ENABLED, rule=S21)
    secret = totp.new_secret()
    fernet = totp.fernet_for(get_settings().service_secret)
    await totp.record(session, caller.id, totp.PENDING, fernet.encrypt(secret.encode()).decode())
    # An idempotent replay must not hand the secret out again from storage (nor keep it there in the clear).
    request.state.idempotent_replay_body = json.dumps(
        {"state": totp.PENDING, "secret": None, "otpauth_uri": None}
    ).encode()
    return TotpEnrolment(state=totp.PENDING, secret=secret, otpauth_uri=totp.otpauth_uri(secret, login))


async def _checked_code(
    request: Request, session: AsyncSession, caller: Principal, code: str, expected: str, refusal: Conflict
) -> str:
    """S21: the latest state is `expected` and `code` is a current code of its secret, not used before; returns
    the encrypted secret. A wrong code is a failed attempt of the login (S19)."""
    login = await _login_of(session, caller)
    await _not_locked(session, login)
    second = await totp.state_of(session, caller.id)
    if second.state != expected or second.secret_encrypted is None:
        raise refusal
    fernet = totp.fernet_for(get_settings().service_secret)
    if not await totp.use_code(session, fernet, caller.id, second.secret_encrypted, code):
        await people.record_attempt(_engine(request), login, TOTP_WRONG, request_id=_request_id(request))
        raise RuleViolation("动态验证码错误或已使用 / the code is wrong, or was used already: enter the one the app "
                            "shows now", code=TOTP_WRONG, field="code", rule=S21)
    return second.secret_encrypted


@router.post("/totp/confirm", response_model=TotpRead)
async def confirm_totp(body: TotpCode, request: Request, session: SessionDep, caller: PrincipalDep) -> TotpRead:
    not_pending = Conflict("没有待确认的动态验证码 / nothing to confirm: enrol first (POST /me/totp)",
                           code=TOTP_NOT_PENDING, rule=S21)
    secret_encrypted = await _checked_code(request, session, caller, body.code, totp.PENDING, not_pending)
    await totp.record(session, caller.id, totp.ENABLED, secret_encrypted)
    return TotpRead(state=totp.ENABLED)


@router.post("/totp/disable", response_model=TotpRead)
async def disable_totp(body: TotpCode, request: Request, session: SessionDep, caller: PrincipalDep) -> TotpRead:
    not_enabled = Conflict("动态验证码未启用 / the second factor is not on", code=TOTP_NOT_ENABLED, rule=S21)
    await _checked_code(request, session, caller, body.code, totp.ENABLED, not_enabled)
    await totp.record(session, caller.id, totp.DISABLED, None)
    return TotpRead(state=totp.DISABLED)
