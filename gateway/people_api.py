"""People's accounts over the API (issue #19): an admin creates users inside its jurisdiction (S1, O1), as it issues
keys; the rules of passwords and sign-in are gateway/people.py."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field
from sqlalchemy import exists, insert, select
from sqlalchemy.exc import IntegrityError

from gateway import organisations, people, totp
from gateway.models import principal_revocations, principals, user_passwords, user_totp, users
from services.kernel.errors import Conflict, ServiceUnavailable
from services.kernel.ids import new_id
from services.kernel.pagination import CursorQuery, LimitQuery, Page, decode_cursor, page_of
from services.kernel.routers import service_router
from services.kernel.scope import S1, check_covers, within_reach
from services.kernel.types import AnyRegionCode, Input
from services.kernel.uow import PrincipalDep, SessionDep

# A password is taken as typed: spaces at its ends are part of it (Input strips every other string).
Password = Annotated[
    people.NewPasswordText, Field(description="at least 12 characters (S18); kept only as its argon2id hash")
]


class UserCreate(Input):
    login: str = Field(min_length=3, max_length=64, pattern=people.LOGIN_PATTERN)
    password: Password
    name: str = Field(min_length=1, max_length=200)
    role: Literal["admin", "finance", "project_manager", "lender", "inspector"]
    region_code: AnyRegionCode
    organisation_id: str | None = Field(default=None, max_length=64)


class UserRead(BaseModel):
    id: str = Field(description="the person's principal id (also `principal_id`)")
    principal_id: str
    login: str
    name: str
    role: str
    region_code: str
    organisation_id: str
    created_at: datetime


class UserListed(UserRead):
    revoked_at: datetime | None = None
    totp_enabled: bool = Field(description="the person signs in with a code too (S21)")


router = service_router("/admin", tags=["admin"])


def _taken(login: str) -> Conflict:
    return Conflict(f"登录名已被使用 / the login {login} is taken", code="LOGIN_TAKEN", field="login")


@router.post("/users", status_code=201, response_model=UserRead)
async def create_user(body: UserCreate, session: SessionDep, caller: PrincipalDep) -> UserRead:
    check_covers(caller, body.region_code, field="region_code", rule=S1)
    login = people.normal_login(body.login)
    if (await session.execute(select(exists().where(users.c.login == login)))).scalar_one():
        raise _taken(login)
    organisation_id = await organisations.for_principal(
        session, caller, body.organisation_id, name=body.name, region_code=body.region_code
    )
    principal = (
        await session.execute(
            insert(principals)
            .values(
                id=new_id("prn"),
                name=body.name,
                role=body.role,
                region_code=body.region_code,
                created_by=caller.id,
                organisation_id=organisation_id,
            )
            .returning(*principals.c)
        )
    ).one()
    try:
        password_hash = await people.hash_password(body.password)
    except people.Busy as busy:
        raise ServiceUnavailable("正忙，请稍后再试 / busy hashing passwords; nothing was changed, try again") from busy
    try:
        user = (
            await session.execute(
                insert(users).values(principal_id=principal.id, login=login, created_by=caller.id).returning(*users.c)
            )
        ).one()
    except IntegrityError as taken:  # the same login made at the same moment by another request
        raise _taken(login) from taken
    await session.execute(
        insert(user_passwords).values(principal_id=principal.id, password_hash=password_hash, set_by=caller.id)
    )
    return UserRead(
        id=principal.id,
        principal_id=principal.id,
        login=user.login,
        name=principal.name,
        role=principal.role,
        region_code=principal.region_code,
        organisation_id=principal.organisation_id,
        created_at=user.created_at,
    )


@router.get("/users", response_model=Page[UserListed])
async def list_users(
    session: SessionDep, caller: PrincipalDep, limit: LimitQuery = 50, cursor: CursorQuery = None
) -> Page[UserListed]:
    """The people inside the admin's jurisdiction (S1), by principal id, as GET /admin/principals lists keys."""
    latest_totp = (
        select(user_totp.c.state)
        .where(user_totp.c.principal_id == users.c.principal_id)
        .order_by(user_totp.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    query = (
        select(
            users.c.principal_id, users.c.login, users.c.created_at, principals.c.name, principals.c.role,
            principals.c.region_code, principals.c.organisation_id, principal_revocations.c.revoked_at,
            (latest_totp == totp.ENABLED).label("totp_enabled"),
        )
        .select_from(
            users.join(principals, principals.c.id == users.c.principal_id).outerjoin(
                principal_revocations, principal_revocations.c.principal_id == users.c.principal_id
            )
        )
        .where(*within_reach(principals.c.region_code, caller))  # S1
    )
    key = decode_cursor(cursor, 1)
    if key is not None:
        query = query.where(users.c.principal_id > str(key[0]))
    rows = (await session.execute(query.order_by(users.c.principal_id).limit(limit + 1))).all()
    items = [
        UserListed.model_validate({**dict(r._mapping), "id": r.principal_id, "totp_enabled": bool(r.totp_enabled)})
        for r in rows
    ]
    return page_of(items, limit, lambda u: [u.principal_id])
