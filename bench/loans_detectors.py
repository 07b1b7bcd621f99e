"""Benchmark: a full loans detector scan over 1,000,000 loans and 3,000,000 repayments (target < 60 s).

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres /work/main/.venv/bin/python -m bench.loans_detectors

Makes a fresh database (tests/stack.py), migrates it (deploy.migrate), COPYs the data straight into the loans
schema, then runs the loans service's detectors as POST /internal/alerts/scan does (`run_detectors`: every
detector, then the kernel's `raise_alerts` in the same transaction), twice: the first scan raises, the second finds
the same alerts open and raises none. INELIGIBLE_BORROWER asks the registry for its judgement on the scan's date:
the registry's tables are loaded too (every borrowing household registered poor from 2014-01-01; 2% found not_poor
or with a village cadre from 2019-01-01), and the registry's own eligibility query (`services.registry.service.
eligibility`, what `POST /internal/households/eligibility` runs) answers in-process, 1000 households a call, 8 calls
in flight as the loans client sends them: the HTTP hop is not measured, the registry's database work is.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import time
from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any

import asyncpg
import httpx

from deploy.migrate import migrate
from services.kernel.db import plain_url
from services.kernel.http import ServiceClient
from services.kernel.types import id_number_check_char, uscc_check_char
from services.loans.rules import add_months
from tests.stack import TestDatabase, create_test_database, workdir

AS_OF = date(2019, 6, 30)
COUNTIES = [f"43{c:02d}{k:02d}" for c in range(1, 14) for k in range(21, 29)]  # 104 counties


def credit_code(kind: str, n: int) -> str:
    first17 = f"9{kind}4305{n:011d}"
    return first17 + uscc_check_char(first17)


def generate(n_loans: int, seed: int = 7) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]],
                                                  list[tuple[Any, ...]]]:
    rnd = random.Random(seed)
    loans: list[tuple[Any, ...]] = []
    repayments: list[tuple[Any, ...]] = []
    extensions: list[tuple[Any, ...]] = []
    usage: list[tuple[Any, ...]] = []
    companies = [credit_code("1", i) for i in range(400)]
    base = date(2015, 1, 1)
    for i in range(n_loans):
        county = COUNTIES[i % len(COUNTIES)]
        household = f"hh{i % (n_loans * 4 // 5):08d}"
        first17 = f"{county}1980{1 + i % 12:02d}{1 + i % 28:02d}{i % 1000:03d}"
        id_number = first17 + id_number_check_char(first17)
        issued = base + timedelta(days=rnd.randrange(0, 1460))
        term = rnd.choice((12, 24, 36))
        maturity = add_months(issued, term)
        amount = rnd.randrange(10, 501) * 10_000
        loan_id = f"loan_{i:010d}"
        mode = "cooperative" if i % 20 == 0 else "self"
        loans.append((loan_id, household, county, county + "101001", id_number, "户主", "县农商银行", "扶贫小额信贷",
                      amount, term, 475, 475, 0, False, False, mode, "breeding",
                      credit_code("3", i % 999) if mode == "cooperative" else None, id_number, None, "6217",
                      issued, maturity, "bench"))
        # 93%: three instalments repaying everything by maturity; 7%: three quarters only (overdue once matured)
        thirds = [amount // 3, amount // 3, amount - 2 * (amount // 3)]
        parts = thirds if rnd.random() < 0.93 else [amount // 4] * 3
        for k, part in enumerate(parts, start=1):
            repayments.append((f"rep_{i:010d}{k}", loan_id, county, part, part // 20,
                               add_months(issued, term * k // 3), "bench"))
        if i % 100 == 0:
            extensions.append((f"ext_{i:010d}", loan_id, county, maturity, add_months(maturity, 6), "受灾展期",
                               "bench"))
        if i % 10 == 0:
            kind, recipient, purpose = "household", household, "breeding"
            roll = rnd.random()
            if roll < 0.02:
                kind, recipient = "enterprise", rnd.choice(companies)
            elif roll < 0.03:
                purpose = "consumption"
            usage.append((f"use_{i:010d}", loan_id, county, kind, recipient, "收款方", amount // 2, purpose,
                          issued + timedelta(days=rnd.randrange(0, 400)), kind == "enterprise",
                          purpose == "consumption", "bench"))
    return loans, repayments, extensions, usage


LOAN_COLUMNS = ["id", "household_id", "county_code", "village_code", "borrower_id_number", "borrower_name",
                "lender_name", "product_name", "amount_fen", "term_months", "annual_rate_bp", "benchmark_rate_bp",
                "fees_fen", "collateral_required", "guarantee_required", "mode", "purpose", "cooperative_uscc",
                "account_holder_id_number", "account_holder_uscc", "account_no", "issued_on", "maturity_on",
                "created_by"]


async def fill_balances(conn: asyncpg.Connection) -> None:
    """The loans' balances (loans.loan_balances), as the service keeps them, from the facts just loaded: the
    repository's own recomputation."""
    from sqlalchemy.dialects import postgresql

    from services.loans.repository import balances_from_facts

    select = str(balances_from_facts().compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
    columns = ("loan_id, county_code, household_id, amount_fen, issued_on, maturity_in_force, extended, repaid_fen, "
               "last_paid_on")
    await conn.execute("SET search_path = loans")
    await conn.execute(f"INSERT INTO loan_balances ({columns}) {select}")
    await conn.execute("RESET search_path")


async def load(url: str, n_loans: int) -> dict[str, Any]:
    started = time.perf_counter()
    loans, repayments, extensions, usage = generate(n_loans)
    generated = time.perf_counter() - started
    conn = await asyncpg.connect(plain_url(url))
    try:
        started = time.perf_counter()
        await conn.copy_records_to_table("loans", schema_name="loans", records=loans, columns=LOAN_COLUMNS)
        await conn.copy_records_to_table(
            "loan_repayments", schema_name="loans", records=repayments,
            columns=["id", "loan_id", "county_code", "principal_fen", "interest_fen", "paid_on", "created_by"])
        await conn.copy_records_to_table(
            "loan_extensions", schema_name="loans", records=extensions,
            columns=["id", "loan_id", "county_code", "original_maturity_on", "new_maturity_on", "reason",
                     "created_by"])
        await conn.copy_records_to_table(
            "loan_usage_reports", schema_name="loans", records=usage,
            columns=["id", "loan_id", "county_code", "recipient_kind", "recipient_id", "recipient_name",
                     "amount_fen", "purpose", "reported_on", "breaks_enterprise_rule", "breaks_purpose_rule",
                     "created_by"])
        await fill_balances(conn)
        await conn.execute("ANALYZE loans.loans; ANALYZE loans.loan_repayments; ANALYZE loans.loan_extensions; "
                           "ANALYZE loans.loan_usage_reports; ANALYZE loans.loan_balances")
        copied = time.perf_counter() - started
    finally:
        await conn.close()
    return {"loans": len(loans), "repayments": len(repayments), "extensions": len(extensions),
            "usage_reports": len(usage), "generate_s": round(generated, 1), "copy_s": round(copied, 1)}


def roster(n_loans: int) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The registry's rows for the households `generate` lends to, as the import writes them: registered poor on
    2014-01-01 (the record holds it, no history row); from 2019-01-01 1% not_poor and 1% with a village cadre (their
    registration state and the change in the history)."""
    households: list[tuple[Any, ...]] = []
    history: list[tuple[Any, ...]] = []
    registered, changed = date(2014, 1, 1), date(2019, 1, 1)  # imports number 1 and 2 (load_roster)
    for n in range(n_loans * 4 // 5):
        household = f"hh{n:08d}"
        county = COUNTIES[n % len(COUNTIES)]
        first17 = f"{county}19800101{n % 1000:03d}"
        not_poor, cadre = n % 100 == 0, n % 100 == 1
        households.append((household, first17 + id_number_check_char(first17), "户主", county, county + "101001",
                           "not_poor" if not_poor else "poor", 3, cadre, "6217", 1, 2 if not_poor or cadre else 1))
        if not_poor or cadre:
            history.append((household, county, registered, "poor", False, "imp_bench"))
            history.append((household, county, changed, "not_poor" if not_poor else "poor", cadre, "imp_bench2"))
    return households, history


async def load_roster(url: str, n_loans: int) -> dict[str, Any]:
    households, history = roster(n_loans)
    conn = await asyncpg.connect(plain_url(url))
    try:
        started = time.perf_counter()
        await conn.copy_records_to_table(  # the two imports the records refer to (registered_by, updated_by)
            "household_imports", schema_name="registry",
            records=[("imp_bench", 1, "bench", "000000", date(2014, 1, 1), len(households), 0, 0, 0),
                     ("imp_bench2", 2, "bench", "000000", date(2019, 1, 1), 0, len(history) // 2, 0, 0)],
            columns=["id", "number", "principal_id", "region_code", "effective_on", "imported", "updated", "unchanged",
                     "rejected"])
        await conn.copy_records_to_table(
            "households", schema_name="registry", records=households,
            columns=["household_id", "head_id_number", "head_name", "county_code", "village_code", "status", "members",
                     "village_cadre", "card_account", "registered_by", "updated_by"])
        await conn.copy_records_to_table(
            "household_status_history", schema_name="registry", records=history,
            columns=["household_id", "county_code", "effective_on", "status", "village_cadre", "import_id"])
        await conn.execute("SELECT setval('registry.household_import_numbers', 2)")
        await conn.execute("ANALYZE registry.households; ANALYZE registry.household_status_history")
        copied = time.perf_counter() - started
    finally:
        await conn.close()
    return {"households": len(households), "history_rows": len(history), "roster_copy_s": round(copied, 1)}


class InProcessRegistry:
    """Answers `POST /internal/households/eligibility` and `POST /internal/households/ineligible` with the registry's
    own queries, on the registry's schema (the HTTP hop is not measured)."""

    name = "registry"
    post_items = ServiceClient.post_items

    def __init__(self, url: str) -> None:
        from services.kernel.db import create_engine, session_factory

        self.engine = create_engine("registry", url=url, pool_size=8)
        self.sessions = session_factory(self.engine)
        self.calls = 0
        self.seconds = 0.0

    async def request(self, method: str, path: str, *, params: Any = None, json: Any = None) -> httpx.Response:
        from services.registry.service import eligibility, ineligible

        self.calls += 1
        started = time.perf_counter()
        if path == "/internal/households/ineligible":
            assert method == "POST"
            async with self.sessions() as session:
                found, next_after = await ineligible(session, on=date.fromisoformat(json["on"]),
                                                     after=json["after"], limit=json["limit"])
            self.seconds += time.perf_counter() - started
            return httpx.Response(200, json={"items": [a.model_dump(mode="json") for a in found],
                                             "next_after": next_after})
        assert method == "POST" and path == "/internal/households/eligibility" and len(json["items"]) <= 1000
        queries = [(q["household_id"], date.fromisoformat(q["on"]) if q.get("on") else None) for q in json["items"]]
        async with self.sessions() as session:
            answers = await eligibility(session, queries=queries)
        self.seconds += time.perf_counter() - started
        return httpx.Response(200, json={"items": [a.model_dump(mode="json") for a in answers]})


async def timed_run(sessions: Any, detectors: Any, state: Any, as_of: date) -> dict[str, Any]:
    """Every loans detector as of a day, each timed, then their alerts raised in the same transaction (as a scan
    does), committed: the time and the alerts of each, and the total."""
    from services.kernel.alerts import DetectorContext
    from services.kernel.alerts_store import raise_alerts

    timings: dict[str, Any] = {}
    started = time.perf_counter()
    async with sessions() as session:
        ctx = DetectorContext(session=session, as_of=as_of, state=state)
        drafts = []
        for name, detector in detectors.detectors.items():
            t = time.perf_counter()
            found = await detector(ctx)
            timings[name] = {"alerts": len(found), "seconds": round(time.perf_counter() - t, 2)}
            drafts.extend(found)
        t = time.perf_counter()
        out = await raise_alerts(session, drafts, service="loans", as_of=as_of)
        timings["raise_alerts"] = {"raised": sum(out.raised.values()), "updated": sum(out.updated.values()),
                                   "seconds": round(time.perf_counter() - t, 2)}
        await session.commit()
    timings["total_seconds"] = round(time.perf_counter() - started, 2)
    return timings


async def scan(url: str) -> dict[str, Any]:
    os.environ["DATABASE_URL"] = url
    os.environ["FUNDTRACK_DB_ROLES"] = "0"
    from services.kernel.db import create_engine, session_factory
    from services.loans.detectors import detectors

    engine = create_engine("loans", url=url, pool_size=2)
    sessions = session_factory(engine)
    registry = InProcessRegistry(url)
    state = SimpleNamespace(clients={"registry": registry})
    results: dict[str, Any] = {}
    try:
        for round_ in ("first", "second"):
            results[round_] = await timed_run(sessions, detectors, state, AS_OF)
        results["registry_calls"] = registry.calls
        results["registry_busy_seconds"] = round(registry.seconds, 2)  # summed over calls (8 in flight)
    finally:
        await engine.dispose()
        await registry.engine.dispose()
    return results


def use_long_statements() -> None:
    """The detectors here run in sessions of their own, as the daily run does: with its long statement timeout
    (services/kernel/db.py), not a request's 20 s."""
    os.environ.setdefault("FUNDTRACK_DB_STATEMENT_TIMEOUT_SECONDS", "900")


async def create() -> TestDatabase:
    return await create_test_database(workdir())


def main() -> None:
    use_long_statements()
    parser = argparse.ArgumentParser()
    parser.add_argument("--loans", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    database = asyncio.run(create())
    try:
        migrate(database.url)
        loaded = asyncio.run(load(database.url, args.loans)) | asyncio.run(load_roster(database.url, args.loans))
        print(json.dumps({"loaded": loaded}, ensure_ascii=False), flush=True)
        print(json.dumps({"scan": asyncio.run(scan(database.url)), "as_of": AS_OF.isoformat()}, ensure_ascii=False,
                         indent=1))
    finally:
        if not args.keep:
            asyncio.run(database.drop())
            shutil.rmtree(workdir(), ignore_errors=True)


if __name__ == "__main__":
    main()
