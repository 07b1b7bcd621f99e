"""Issue #14: the reads of a chunk of loans (a subsidy claim's lines, L12: their repayments of principal, their lines
claimed before) run the same prepared statements whatever the chunk's size: the chunk's ids are one array
(kernel/db.py `any_of`), not an IN list of a new text for each size, prepared and cached on every pooled connection
of the service."""

from __future__ import annotations

from datetime import date

from services.kernel.db import create_engine, session_factory
from services.loans import repository, subsidy_repository
from tests.conftest import Api
from tests.loans.conftest import Seed, loan_of
from tests.platform.test_memory import statement_caches
from tests.stack import TestDatabase

BEFORE = date(2018, 12, 1)


async def _repay(lender: Api, loan_id: str, principal: int, on: str) -> None:
    response = await lender.post(f"/loans/{loan_id}/repayments",
                                 json={"principal_fen": principal, "interest_fen": 0, "paid_on": on})
    assert response.status_code == 201, response.text


async def test_a_chunk_of_loans_is_read_by_the_same_statements_whatever_its_size(
    lender: Api, seed: Seed, county: str, database: TestDatabase
) -> None:
    loans = [await loan_of(lender, seed, term_months=12, issued_on="2018-01-10") for _ in range(3)]
    repayments = [(loans[0], "2018-03-01", 100_000), (loans[0], "2018-06-01", 200_000),
                  (loans[1], "2018-04-01", 300_000), (loans[1], "2018-12-15", 50_000)]  # the last: after BEFORE
    for loan_id, on, principal in repayments:
        await _repay(lender, loan_id, principal, on)
    ids = loans + [f"{loans[0]}X{n}" for n in range(7)]  # ids of no loan pad the chunk to ten sizes
    engine = create_engine("loans", url=database.url, pool_size=1)  # one connection: every statement on it
    try:
        async with session_factory(engine)() as session:
            caches = []
            for size in range(1, len(ids) + 1):
                chunk = ids[:size]
                expected = sorted(r for r in repayments if r[0] in chunk and date.fromisoformat(r[1]) < BEFORE)
                for read in (subsidy_repository.principal_repayments, repository.principal_repayments):
                    found = await read(session, chunk, before=BEFORE)
                    assert sorted((r.loan_id, r.paid_on.isoformat(), r.principal_fen) for r in found) == expected
                assert await subsidy_repository.claimed_before(
                    session, county_code=county, loan_ids=chunk, period_from=date(2018, 1, 1), period_to=BEFORE) == []
                caches.append(await statement_caches(session))
    finally:
        await engine.dispose()
    # the statements prepared on the connection (both caches): as many after chunks of 10 sizes as after the first
    assert [c[1:] for c in caches] == [caches[0][1:]] * len(caches), caches
