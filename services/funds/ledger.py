"""The double-entry ledger: accounts with balance rows, and immutable transfers between them.

Every change of money goes through a `Book`: it locks the balance rows of every account the change touches, in
ascending id order (as Formance does), so concurrent changes never deadlock on each other and never read a stale
balance; it checks that no account but the external `budget` goes negative; then it writes the transfers and the
new balances in the caller's transaction (flush only: the unit of work commits).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.funds.rules import insufficient
from services.kernel import rawsql
from services.kernel.ids import new_id

BUDGET = "budget"
KINDS = ("budget", "treasury", "fund", "pool", "project", "payee")


@dataclass(frozen=True, order=True)
class AccountKey:
    region_code: str
    kind: str
    fund_source: str
    ref: str = ""

    def label(self) -> str:
        return f"{self.region_code}:{self.kind}:{self.fund_source}" + (f":{self.ref}" if self.ref else "")


@dataclass(frozen=True)
class Posted:
    id: str
    source: AccountKey
    destination: AccountKey
    amount_fen: int
    fund_source: str




def _select(first: int) -> str:
    """The accounts of the keys given as four arrays, from parameter `$first` on."""
    r, k, f, x = (f"${i}::varchar[]" for i in range(first, first + 4))
    return f"""
    SELECT a.id, a.region_code, a.kind, a.fund_source, a.ref, a.balance_fen
    FROM accounts a
    JOIN unnest({r}, {k}, {f}, {x}) AS want(r, k, f, x)
      ON a.region_code = want.r AND a.kind = want.k AND a.fund_source = want.f AND a.ref = want.x
    ORDER BY a.id
"""


_LOCK = _select(1) + "FOR UPDATE OF a"
_READ = _select(1)
_CREATE = """
    INSERT INTO accounts (region_code, kind, fund_source, ref)
    SELECT r, k, f, x FROM unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::varchar[]) AS want(r, k, f, x)
    ORDER BY r, k, f, x
    ON CONFLICT ON CONSTRAINT uq_accounts_key DO NOTHING
"""
# The transfers ($1–$10, one array per column) and the balance changes ($11 account ids, $12 deltas).
_MOVED = """
    moved AS (
        INSERT INTO transfers (id, source_account_id, destination_account_id, amount_fen, kind, fund_source,
                               record_id, doc_no, occurred_on, reverses_id)
        SELECT * FROM unnest($1::varchar[], $2::bigint[], $3::bigint[], $4::bigint[], $5::varchar[],
                             $6::varchar[], $7::varchar[], $8::varchar[], $9::date[], $10::varchar[])
        {only_if}
        RETURNING 1
    ), balanced AS (
        UPDATE accounts AS a SET balance_fen = a.balance_fen + d.delta
        FROM unnest($11::bigint[], $12::bigint[]) AS d(id, delta)
        WHERE a.id = d.id {and_only_if}
        RETURNING 1
    )"""
# Transfers and balances in one round trip: the balance rows are locked, so the less time passes between the lock
# and the commit, the more transactions one hot account (a province's treasury) serves per second.
_WRITE = (
    "WITH" + _MOVED.format(only_if="", and_only_if="")
    + "\nSELECT (SELECT count(*) FROM moved) AS transfers, (SELECT count(*) FROM balanced) AS balances"
)
# The same write in one statement that first locks the rows (in id order) and writes only if their balances still
# cover what the book, planned on unlocked balances, draws ($13 account ids, $14 `need`: the most each goes down at
# any point). The aggregate reads every locked row, so all are locked before the writes, which run only if `ok`.
_WRITE_IF_COVERED = (
    """
    WITH locked AS (
        SELECT a.id, a.balance_fen FROM accounts a WHERE a.id = ANY($11::bigint[]) ORDER BY a.id FOR UPDATE
    ), covered AS (
        SELECT count(*) = cardinality($11::bigint[]) AND coalesce(bool_and(l.balance_fen >= n.need), true)
               AS ok
        FROM locked l
        LEFT JOIN unnest($13::bigint[], $14::bigint[]) AS n(id, need) ON n.id = l.id
    ),"""
    + _MOVED.format(only_if="WHERE (SELECT ok FROM covered)", and_only_if="AND (SELECT ok FROM covered)")
    + """
    SELECT (SELECT ok FROM covered) AS ok, (SELECT count(*) FROM moved) AS transfers,
           (SELECT count(*) FROM balanced) AS balances
"""
)

_TRANSFER_COLUMNS = ("id", "src", "dst", "amount", "kind", "fund", "record", "doc", "on", "reverses")


def _columns(keys: Sequence[AccountKey]) -> tuple[list[str], list[str], list[str], list[str]]:
    return ([k.region_code for k in keys], [k.kind for k in keys], [k.fund_source for k in keys],
            [k.ref for k in keys])


@dataclass
class Book:
    """The locked accounts of one transaction, with their balances as this transaction changes them."""

    ids: dict[AccountKey, int] = field(default_factory=dict)
    balances: dict[AccountKey, int] = field(default_factory=dict)
    keys: dict[int, AccountKey] = field(default_factory=dict)
    deltas: dict[AccountKey, int] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)

    def balance(self, key: AccountKey) -> int:
        return self.balances[key]

    def move(
        self,
        source: AccountKey,
        destination: AccountKey,
        amount_fen: int,
        *,
        kind: str,
        record_id: str,
        doc_no: str,
        occurred_on: date,
        reverses_id: str | None = None,
    ) -> Posted:
        """Record one transfer; refuse (409) if it would overdraw `source` (only a budget account may go below 0)."""
        if source.kind != BUDGET and self.balances[source] < amount_fen:
            raise insufficient(
                f"{source.label()} holds {self.balances[source]} fen, {amount_fen} needed",
                account=source.label(),
                balance_fen=self.balances[source],
            )
        transfer_id = new_id("trf")
        for key, delta in ((source, -amount_fen), (destination, amount_fen)):
            self.balances[key] += delta
            self.deltas[key] = self.deltas.get(key, 0) + delta
        self.rows.append(
            {
                "id": transfer_id,
                "src": self.ids[source],
                "dst": self.ids[destination],
                "amount": amount_fen,
                "kind": kind,
                "fund": source.fund_source,
                "record": record_id,
                "doc": doc_no,
                "on": occurred_on,
                "reverses": reverses_id,
            }
        )
        return Posted(transfer_id, source, destination, amount_fen, source.fund_source)

    def needs(self) -> dict[int, int]:
        """For each account but the budget: the most its balance goes down at any point of this book's moves."""
        running: dict[AccountKey, int] = {}
        lowest: dict[AccountKey, int] = {}
        for row in self.rows:
            for account_id, delta in ((row["src"], -row["amount"]), (row["dst"], row["amount"])):
                key = self.keys[account_id]
                running[key] = running.get(key, 0) + delta
                lowest[key] = min(lowest.get(key, 0), running[key])
        return {self.ids[k]: -low for k, low in lowest.items() if low < 0 and k.kind != BUDGET}

    async def flush_if_covered(self, session: AsyncSession) -> bool:
        """Lock and write in one statement, if the locked balances still cover the moves planned on unlocked ones;
        False (and nothing written, the rows now locked) if they do not."""
        if not self.rows:
            return True
        needs = self.needs()
        touched = self.deltas_by_id()
        row = await rawsql.fetchrow(
            session, _WRITE_IF_COVERED, *self._transfer_columns(), list(touched), list(touched.values()),
            list(needs), list(needs.values()),
        )
        if row is None or not row["ok"]:
            return False
        self._written()
        return True

    def _transfer_columns(self) -> list[list[Any]]:
        return [[row[name] for row in self.rows] for name in _TRANSFER_COLUMNS]

    def deltas_by_id(self) -> dict[int, int]:
        """Every account the moves touch (locked even when its net change is 0), with that change."""
        touched: dict[int, int] = {}
        for row in self.rows:
            touched.setdefault(row["src"], 0)
            touched.setdefault(row["dst"], 0)
        for key, delta in self.deltas.items():
            touched[self.ids[key]] = delta
        return dict(sorted(touched.items()))

    async def flush(self, session: AsyncSession) -> None:
        """Write the transfers and the balance changes (the rows are locked since `open_book`)."""
        if not self.rows:
            return
        changed = [(self.ids[k], d) for k, d in self.deltas.items() if d != 0]
        await rawsql.fetch(
            session, _WRITE, *self._transfer_columns(), [i for i, _ in changed], [d for _, d in changed]
        )
        self._written()

    def _written(self) -> None:
        self.rows.clear()
        self.deltas.clear()


def _fill(book: Book, rows: Iterable[asyncpg.Record]) -> None:
    for row in rows:
        key = AccountKey(row["region_code"], row["kind"], row["fund_source"], row["ref"])
        book.ids[key] = int(row["id"])
        book.keys[int(row["id"])] = key
        book.balances[key] = int(row["balance_fen"])


async def _load(session: AsyncSession, keys: Sequence[AccountKey], book: Book, *, lock: bool) -> None:
    _fill(book, await rawsql.fetch(session, _LOCK if lock else _READ, *_columns(keys)))


async def open_book(
    session: AsyncSession, keys: Iterable[AccountKey], *, create: Iterable[AccountKey] = (), lock: bool = True
) -> Book:
    """Lock the balance rows of `keys` in id order, creating those of `create` that do not exist yet (money
    arrives there). An account that does not exist and is not created holds 0: nothing can be drawn from it.

    With `lock=False` the balances are the last committed ones, unlocked: a plan made on them is written only by
    `Book.flush_if_covered`, which checks them again under the lock."""
    creatable = set(create)
    wanted = sorted(set(keys) | creatable)
    book = Book()
    await _load(session, wanted, book, lock=lock)
    return await _complete(session, book, wanted, creatable, lock=lock)


async def read_book_after(
    session: AsyncSession, statement: str, args: Sequence[Any], keys: Iterable[AccountKey], *,
    create: Iterable[AccountKey] = (),
) -> Book:
    """Run `statement` (one that writes and returns nothing, with `args`), then `open_book(keys, create=create,
    lock=False)`, in one round trip when every account exists. The balances are read in the statement's snapshot,
    unlocked, as with `lock=False`: a plan made on them is written only by `Book.flush_if_covered`."""
    creatable = set(create)
    wanted = sorted(set(keys) | creatable)
    book = Book()
    combined = f"WITH done AS ({statement})" + _select(len(args) + 1)
    _fill(book, await rawsql.fetch(session, combined, *args, *_columns(wanted)))
    return await _complete(session, book, wanted, creatable, lock=False)


async def _complete(
    session: AsyncSession, book: Book, wanted: Sequence[AccountKey], creatable: set[AccountKey], *, lock: bool
) -> Book:
    """Create the accounts of `creatable` the book did not find, and give every other missing one a 0 balance."""
    missing = [k for k in wanted if k not in book.ids and k in creatable]
    if missing:
        # Created in key order, so two transactions creating the same accounts wait for each other in one order.
        await rawsql.execute(session, _CREATE, *_columns(missing))
        await _load(session, missing, book, lock=lock)
    for key in wanted:
        book.balances.setdefault(key, 0)
    return book


async def account_keys(
    session: AsyncSession, *, region_code: str, kinds: Sequence[str], ref: str = "", fund_source: str | None = None
) -> list[AccountKey]:
    """The existing accounts of a region (and ref) of these kinds, in fund-source order (not locked)."""
    query = (
        "SELECT region_code, kind, fund_source, ref FROM accounts WHERE region_code = :region "
        "AND kind = ANY(CAST(:kinds AS varchar[])) AND ref = :ref"
    )
    params: dict[str, Any] = {"region": region_code, "kinds": list(kinds), "ref": ref}
    if fund_source is not None:
        query += " AND fund_source = :fund"
        params["fund"] = fund_source
    rows = await session.execute(text(query + " ORDER BY fund_source, kind"), params)
    return [AccountKey(r.region_code, r.kind, r.fund_source, r.ref) for r in rows]
