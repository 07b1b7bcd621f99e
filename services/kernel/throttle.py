"""Refusals counted per principal (S6, A5 information security), shared by every worker of a service.

An answer that refuses a request can still tell the caller something it may not read: whether a guessed identity
number is a household head's, whether a guessed account is a household's card. One such answer is what the caller
legitimately needs; a thousand are an enumeration. So a service counts, per principal, the refusals that can carry
such an answer (`RefusalLimit`); when they reach the limit of one of its windows (a short one against a burst, a
long one against a slow enumeration) it raises an alert on the principal, and refuses that principal's further
requests of the kind with 429 `RATE_LIMITED` before judging them, until the refusals age out of the window.

Refusals are also counted per target (the household the guessed number is about): an admin can issue keys at will,
and thirty guesses from each of ten fresh keys are three hundred guesses at one household. When a household's
refusals reach a limit, the alert names the household, and every principal's further requests about it are 429 until
they age out (a household is kept from borrowing for that while: the price of not giving its number away).

The refusals are rows in the service's own schema (table `refusals`, insert-only), so the count holds across the
service's workers. A refused request's transaction is rolled back (it changes nothing), so the refusal is written
in a transaction of its own, on the request's own connection after that rollback: no second connection is taken
from a pool that every other request is waiting on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel import clock
from services.kernel.alerts import AlertDraft
from services.kernel.alerts_store import raise_alerts
from services.kernel.errors import RATE_LIMITED, Problem
from services.kernel.identity import Principal


class RateLimited(Problem):
    status = 429
    code = RATE_LIMITED
    title = "Too many requests"


@dataclass(frozen=True)
class Window:
    refusals: int  # refusals within `length` that raise the alert and start the 429s
    length: timedelta

    @property
    def minutes(self) -> int:
        return int(self.length.total_seconds() // 60)


@dataclass(frozen=True)
class RefusalLimit:
    kind: str  # what is counted, e.g. "loan_borrower"
    windows: tuple[Window, ...]  # a short one against a burst, a long one against a slow enumeration
    alert_type: str
    rule: str  # the rule id the 429 and the alert cite
    what_zh: str  # what was refused, for people: "借款人核验"
    what_en: str  # "borrower checks"


# One statement per dimension, each named once: by the principal who guessed, and by the target guessed at.
_COUNT = {
    "principal": text("SELECT count(*) FROM refusals WHERE principal_id = :key AND kind = :kind AND at > :since"),
    "target": text("SELECT count(*) FROM refusals WHERE target = :key AND kind = :kind AND at > :since"),
}
_INSERT = text(
    "INSERT INTO refusals (principal_id, kind, code, at, target) VALUES (:principal, :kind, :code, :at, :target)"
)


async def refusals_within(session: AsyncSession, *, by: str, key: str, kind: str, length: timedelta) -> int:
    since = clock.utc_now() - length
    count = await session.scalar(_COUNT[by], {"key": key, "kind": kind, "since": since})
    return int(count or 0)


async def full_window(
    session: AsyncSession, *, by: str, key: str, limit: RefusalLimit
) -> tuple[Window, int] | None:
    """The first window in which the refusals of this kind by (or about) `key` are at the limit, with their number."""
    for window in limit.windows:
        refusals = await refusals_within(session, by=by, key=key, kind=limit.kind, length=window.length)
        if refusals >= window.refusals:
            return window, refusals
    return None


def _dimensions(principal: Principal, target: str | None) -> list[tuple[str, str]]:
    return [("principal", principal.id), *([("target", target)] if target else [])]


async def check_not_limited(
    session: AsyncSession, *, principal: Principal, limit: RefusalLimit, target: str | None = None
) -> None:
    """429 before anything is judged while the principal's refusals of this kind, or those about `target` by
    anyone, are at a limit: the answer to a further guess tells nothing."""
    for by, key in _dimensions(principal, target):
        full = await full_window(session, by=by, key=key, limit=limit)
        if full is not None:
            window, _ = full
            whose_zh, whose_en = ("", "") if by == "principal" else ("针对该对象的", " about this subject")
            raise RateLimited(
                f"{window.minutes} 分钟内{whose_zh}被拒绝的{limit.what_zh}过多，请稍后再试 ({limit.rule}) / too many "
                f"refused {limit.what_en}{whose_en} within {window.minutes} minutes: retry later ({limit.rule})",
                rule=limit.rule, retry_after_s=int(window.length.total_seconds()),
            )


def suspicion(
    principal: Principal, limit: RefusalLimit, window: Window, refusals: int, code: str, *, target: str | None = None
) -> AlertDraft:
    """The alert: on the principal that guessed, or (with `target`) on the household guessed at by several."""
    subject_kind, subject_id = ("household", target) if target else ("principal", principal.id)
    return AlertDraft(
        type=limit.alert_type, severity="high", region_code=principal.region_code, subject_kind=subject_kind,
        subject_id=subject_id,
        facts={"principal_id": principal.id, "role": principal.role, "kind": limit.kind, "refusals": refusals,
               "window_minutes": window.minutes, "last_code": code, "rule": limit.rule, "counted_by": subject_kind},
    )


async def count_refusal(
    session: AsyncSession, *, principal: Principal, limit: RefusalLimit, refusal: Problem, service: str,
    target: str | None = None,
) -> None:
    """Record that `refusal` answers this principal (about `target`), and alert when the refusals by the principal,
    or about the target, reach the limit. Ends the request's transaction: its work is rolled back first (a refusal
    changes nothing), the record is committed alone."""
    await session.rollback()
    now = clock.utc_now()
    await session.execute(
        _INSERT, {"principal": principal.id, "kind": limit.kind, "code": refusal.code, "at": now, "target": target}
    )
    drafts = []
    for by, key in _dimensions(principal, target):
        full = await full_window(session, by=by, key=key, limit=limit)
        if full is not None:
            window, refusals = full
            about = target if by == "target" else None
            drafts.append(suspicion(principal, limit, window, refusals, refusal.code, target=about))
    if drafts:
        await raise_alerts(session, drafts, service=service, as_of=clock.today())
    await session.commit()
