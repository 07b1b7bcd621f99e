"""The double-entry ledger: accounts with balance rows, and immutable transfers between them, each written as two
legs, one on each account's region (models.TransferLeg).

Every change of money is `move(session, moves)`: it locks the balance rows of every account the moves touch, in
ascending id order (as Formance does), so concurrent changes never deadlock on each other and never read a stale
balance; it checks that no account but the external `budget` goes below 0 (INSUFFICIENT_FUNDS, 409); then it writes
the transfers and the new balances in the caller's transaction (flush only: the unit of work commits).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.funds import problems, rules
from services.funds.repository import accounts
from services.kernel.ids import new_id

BUDGET = accounts.BUDGET


@dataclass(frozen=True, order=True)
class AccountKey:
    region_code: str
    kind: str
    fund_source: str
    ref: str = ""

    def label(self) -> str:
        return f"{self.region_code}:{self.kind}:{self.fund_source}" + (f":{self.ref}" if self.ref else "")


def key_columns(keys: Sequence[AccountKey]) -> accounts.KeyColumns:
    return ([k.region_code for k in keys], [k.kind for k in keys], [k.fund_source for k in keys],
            [k.ref for k in keys])


@dataclass(slots=True)  # not frozen: a batch builds a thousand, and a frozen dataclass is several times slower to make
class Move:
    """`amount_fen` into `destinations[i]`, drawn from `sources[i]` in order, each emptied before the next (one
    transfer per account drawn). `field` is what a refusal for too little money names (None: the account), `index`
    the batch item the move belongs to."""

    sources: tuple[AccountKey, ...]
    destinations: tuple[AccountKey, ...]
    amount_fen: int
    kind: str
    record_id: str
    doc_no: str
    occurred_on: date
    reverses_id: str | None = None
    field: str | None = "amount_fen"
    index: int | None = None


@dataclass(frozen=True)
class Posted:
    id: str
    source: AccountKey
    destination: AccountKey
    amount_fen: int
    fund_source: str


@dataclass
class Book:
    """Balances of the accounts a change touches: locked (FOR UPDATE, in id order), or as last committed."""

    locked: bool
    ids: dict[AccountKey, int] = field(default_factory=dict)
    balances: dict[AccountKey, int] = field(default_factory=dict)

    def balance(self, key: AccountKey) -> int:
        return self.balances[key]

    def held(self, keys: Iterable[AccountKey]) -> int:
        return sum(self.balances[k] for k in keys)

    def fill(self, rows: Iterable[Any]) -> None:
        for row in rows:
            key = AccountKey(row["region_code"], row["kind"], row["fund_source"], row["ref"])
            self.ids[key] = int(row["id"])
            self.balances[key] = int(row["balance_fen"])


async def read(session: AsyncSession, keys: Iterable[AccountKey], *, create: Iterable[AccountKey] = ()) -> Book:
    """The balances of `keys` as last committed, unlocked: a plan made on them is written only by `move`, which
    checks them again under the lock."""
    return await _open(session, keys, create, lock=False)


async def lock(session: AsyncSession, keys: Iterable[AccountKey], *, create: Iterable[AccountKey] = ()) -> Book:
    """Lock the balance rows of `keys` in id order, creating those of `create` that do not exist yet (money arrives
    there). An account that does not exist and is not created holds 0: nothing can be drawn from it."""
    return await _open(session, keys, create, lock=True)


async def _open(session: AsyncSession, keys: Iterable[AccountKey], create: Iterable[AccountKey], *,
                lock: bool) -> Book:
    creatable = set(create)
    wanted = sorted(set(keys) | creatable)
    book = Book(locked=lock)
    book.fill(await accounts.balances(session, key_columns(wanted), lock=lock))
    return await complete(session, book, wanted, creatable)


async def complete(session: AsyncSession, book: Book, wanted: Sequence[AccountKey],
                   creatable: set[AccountKey]) -> Book:
    """Create the accounts of `creatable` the book did not find, and give every other missing one a 0 balance."""
    missing = [k for k in wanted if k not in book.ids and k in creatable]
    if missing:
        await accounts.create(session, key_columns(missing))
        book.fill(await accounts.balances(session, key_columns(missing), lock=book.locked))
    for key in wanted:
        book.balances.setdefault(key, 0)
    return book


async def move(session: AsyncSession, moves: Sequence[Move], *, book: Book | None = None) -> list[Posted]:
    """Where money moves: lock, check, write.

    Without `book`, the accounts of the moves are locked now (their destinations, and a budget drawn from, created).
    With a locked `book` (the caller checked something on the locked balances first), the moves are checked against
    it and written. With an unlocked one (read with the records, to lock as late as possible): if every move can be
    drawn from its first source alone, one statement locks, checks that the balances still cover the plan and
    writes; otherwise, or if they no longer do, the rows are locked and the moves planned again under the lock."""
    if not moves:
        return []
    if book is not None and not book.locked:
        plan = _plan(book, moves, first_source_only=True)
        if plan is not None and await accounts.write_if_covered(session, plan.columns, plan.touched(), plan.needs):
            return plan.posted
        book = None
    if book is None:
        sources = [k for m in moves for k in m.sources]
        arriving = [k for m in moves for k in m.destinations]
        book = await lock(session, sources, create=[*arriving, *(k for k in sources if k.kind == BUDGET)])
    plan = _plan(book, moves)
    assert plan is not None
    # an account money left is written even when as much came back in: its last outflow moves (Account.last_out_on)
    drawn = set(plan.columns[1])
    changed = {i: d for i, d in plan.touched().items() if d != 0 or i in drawn}
    await accounts.write(session, plan.columns, changed)
    return plan.posted


@dataclass
class _Plan:
    """The transfers to write, one list per column of a transfer (id, source, destination, amount, kind, fund
    source, record, document, date, reversed transfer, the source's and the destination's region: each written as
    its two legs, repository/accounts.py), and what they do to each account."""

    columns: list[list[Any]] = field(default_factory=lambda: [[] for _ in range(12)])
    posted: list[Posted] = field(default_factory=list)
    deltas: dict[int, int] = field(default_factory=dict)  # by account id: the net change
    needs: dict[int, int] = field(default_factory=dict)  # by account id, but a budget: the most it goes down

    def touched(self) -> dict[int, int]:
        """Every account the moves touch (locked even when its net change is 0), with that change, by id."""
        return dict(sorted(self.deltas.items()))


def _plan(book: Book, moves: Sequence[Move], *, first_source_only: bool = False) -> _Plan | None:
    """The transfers of `moves` on the book's balances, in order (a later move may pass on money an earlier one
    brought). Raises INSUFFICIENT_FUNDS for a move its sources cannot cover; with `first_source_only`, None if a move
    is not covered by its first source alone instead."""
    balances = dict(book.balances)
    plan = _Plan()
    deltas, lowest = plan.deltas, plan.needs  # an account's running change, and its lowest (sources only go down)
    ids, srcs, dsts, amounts, kinds, funds, records, docs, dates, reverses, src_regions, dst_regions = plan.columns
    for m in moves:
        available = [(i, m.amount_fen if k.kind == BUDGET else balances[k]) for i, k in enumerate(m.sources)]
        parts = rules.draw(available, m.amount_fen)
        if first_source_only and not (parts is not None and len(parts) == 1 and parts[0].account_id == 0):
            return None
        if parts is None:
            raise _short(m, sum(balances[k] for k in m.sources))
        for part in parts:
            source, destination, amount = m.sources[part.account_id], m.destinations[part.account_id], part.amount_fen
            src, dst = book.ids[source], book.ids[destination]
            balances[source] -= amount
            balances[destination] += amount
            deltas[src] = deltas.get(src, 0) - amount
            deltas[dst] = deltas.get(dst, 0) + amount
            if source.kind != BUDGET and deltas[src] < lowest.get(src, 0):
                lowest[src] = deltas[src]
            transfer_id = new_id("trf")
            ids.append(transfer_id)
            srcs.append(src)
            dsts.append(dst)
            amounts.append(amount)
            kinds.append(m.kind)
            funds.append(source.fund_source)
            records.append(m.record_id)
            docs.append(m.doc_no)
            dates.append(m.occurred_on)
            reverses.append(m.reverses_id)
            src_regions.append(source.region_code)
            dst_regions.append(destination.region_code)
            plan.posted.append(Posted(transfer_id, source, destination, amount, source.fund_source))
    plan.needs = {account: -low for account, low in lowest.items()}
    return plan


def _short(m: Move, held: int) -> Exception:
    """INSUFFICIENT_FUNDS for a move, naming its field (or, for a correction, which has none, the account)."""
    if m.field is None and len(m.sources) == 1:
        label = m.sources[0].label()
        problem = problems.insufficient(f"{label} holds {held} fen, {m.amount_fen} needed", account=label,
                                        balance_fen=held)
    else:
        labels = ", ".join(k.label() for k in m.sources)
        problem = problems.insufficient(f"{labels} hold {held} fen, {m.amount_fen} needed", field=m.field,
                                        balance_fen=held)
    return problems.in_batch(problem, m.index)
