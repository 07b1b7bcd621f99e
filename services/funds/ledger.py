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

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.funds.rules import insufficient
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


_LOCK = text(
    """
    SELECT a.id, a.region_code, a.kind, a.fund_source, a.ref, a.balance_fen
    FROM accounts a
    JOIN unnest(CAST(:r AS varchar[]), CAST(:k AS varchar[]), CAST(:f AS varchar[]), CAST(:x AS varchar[]))
         AS want(r, k, f, x)
      ON a.region_code = want.r AND a.kind = want.k AND a.fund_source = want.f AND a.ref = want.x
    ORDER BY a.id
    FOR UPDATE OF a
    """
)
_CREATE = text(
    """
    INSERT INTO accounts (region_code, kind, fund_source, ref)
    SELECT r, k, f, x
    FROM unnest(CAST(:r AS varchar[]), CAST(:k AS varchar[]), CAST(:f AS varchar[]), CAST(:x AS varchar[]))
         AS want(r, k, f, x)
    ORDER BY r, k, f, x
    ON CONFLICT ON CONSTRAINT uq_accounts_key DO NOTHING
    """
)
# Transfers and balances in one round trip: the balance rows are locked, so the less time passes between the lock
# and the commit, the more transactions one hot account (a province's treasury) serves per second.
_WRITE = text(
    """
    WITH moved AS (
        INSERT INTO transfers (id, source_account_id, destination_account_id, amount_fen, kind, fund_source,
                               record_id, doc_no, occurred_on, reverses_id)
        SELECT * FROM unnest(CAST(:id AS varchar[]), CAST(:src AS bigint[]), CAST(:dst AS bigint[]),
                             CAST(:amount AS bigint[]), CAST(:kind AS varchar[]), CAST(:fund AS varchar[]),
                             CAST(:record AS varchar[]), CAST(:doc AS varchar[]), CAST(:on AS date[]),
                             CAST(:reverses AS varchar[]))
        RETURNING 1
    ), balanced AS (
        UPDATE accounts AS a SET balance_fen = a.balance_fen + d.delta
        FROM unnest(CAST(:ids AS bigint[]), CAST(:deltas AS bigint[])) AS d(id, delta)
        WHERE a.id = d.id
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM moved) AS transfers, (SELECT count(*) FROM balanced) AS balances
    """
)


def _columns(keys: Sequence[AccountKey]) -> dict[str, list[str]]:
    return {
        "r": [k.region_code for k in keys],
        "k": [k.kind for k in keys],
        "f": [k.fund_source for k in keys],
        "x": [k.ref for k in keys],
    }


@dataclass
class Book:
    """The locked accounts of one transaction, with their balances as this transaction changes them."""

    ids: dict[AccountKey, int] = field(default_factory=dict)
    balances: dict[AccountKey, int] = field(default_factory=dict)
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

    async def flush(self, session: AsyncSession) -> None:
        """Write the transfers and the balance changes (the rows are locked since `open_book`)."""
        if not self.rows:
            return
        columns = {name: [row[name] for row in self.rows] for name in self.rows[0]}
        changed = [(self.ids[k], d) for k, d in self.deltas.items() if d != 0]
        await session.execute(_WRITE, {**columns, "ids": [i for i, _ in changed], "deltas": [d for _, d in changed]})
        self.rows.clear()
        self.deltas.clear()


async def _lock(session: AsyncSession, keys: Sequence[AccountKey], book: Book) -> None:
    result = await session.execute(_LOCK, _columns(keys))
    for row in result:
        key = AccountKey(row.region_code, row.kind, row.fund_source, row.ref)
        book.ids[key] = int(row.id)
        book.balances[key] = int(row.balance_fen)


async def open_book(
    session: AsyncSession, keys: Iterable[AccountKey], *, create: Iterable[AccountKey] = ()
) -> Book:
    """Lock the balance rows of `keys` in id order, creating those of `create` that do not exist yet (money
    arrives there). An account that does not exist and is not created holds 0: nothing can be drawn from it."""
    creatable = set(create)
    wanted = sorted(set(keys) | creatable)
    book = Book()
    await _lock(session, wanted, book)
    missing = [k for k in wanted if k not in book.ids and k in creatable]
    if missing:
        # Created in key order, so two transactions creating the same accounts wait for each other in one order.
        await session.execute(_CREATE, _columns(missing))
        await _lock(session, missing, book)
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
