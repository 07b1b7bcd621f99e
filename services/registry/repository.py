"""Every query of the registry, and the only module that names its tables.

Reads of the roster go through the ORM, a household through `get_household` (404, then the principal must cover
its village: kernel/scope.check_covers) and lists through `households_within` (kernel/scope.within_reach), so
jurisdiction is applied in one place; columns are named `col(Model.field)`. The import is the hot path: its
statements run straight on the request transaction's asyncpg connection (kernel/rawsql), `$n` parameters, a chunk
of new households COPYed straight into the roster, any other chunk COPYed into a temporary staging table, then
set-based checks and one merge. The repository reads and writes; the rules stay in rules.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import date
from typing import Any

import asyncpg
from sqlalchemy import Select, and_, func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlmodel import col

from services.kernel import rawsql
from services.kernel.db import any_of
from services.kernel.identity import Principal
from services.kernel.scope import check_covers, within, within_reach
from services.registry import codes, problems
from services.registry.models import (
    NOT_ELIGIBLE,
    CadreException,
    Household,
    HouseholdId,
    HouseholdRow,
    HouseholdStatus,
    ImportProgressRow,
)

# ---------------------------------------------------------------------------------------------------------- reads


def located(query: Select[Household], household_ids: Sequence[str]) -> Select[Household]:
    """Households by id alone: `query` (of household_records) joined to the directory of household ids on the
    roster's key (county_code, household_id), the ids asked for through the directory's key. The roster has no index
    on the id alone (issue #15); every read by id alone starts here. A join, not an IN (subquery): the planner
    underestimates that semi-join and scanned the roster for a thousand ids (48 ms against 6 ms at 200,000)."""
    return query.join(HouseholdId, and_(
        col(HouseholdId.county_code) == col(Household.county_code),
        col(HouseholdId.household_id) == col(Household.household_id),
    )).where(any_of(col(HouseholdId.household_id), household_ids))


async def find_household(session: AsyncSession, household_id: str) -> Household | None:
    """The household whoever asks (the internal API), or None."""
    found: Household | None = (await session.execute(located(select(Household), [household_id]))).scalar()
    return found


async def get_household(session: AsyncSession, principal: Principal, household_id: str) -> Household:
    """The household, if the principal's jurisdiction covers its village: 404 when it is not on the roster, 403
    NOT_IN_JURISDICTION when it lies outside."""
    household = await find_household(session, household_id)
    if household is None:
        raise problems.household_not_found(household_id)
    check_covers(principal, household.village_code, subject=f"household {household_id}")
    return household


def households_within(principal: Principal, county: str | None = None) -> Select[Household]:
    """The households a principal may list, of one county when it is asked for (a county out of reach lists
    nothing): every list of households starts here. A list of one county (asked for, or the principal's own) also
    names it by `county_code`, which a village code starts with (rules.region_problem), so the primary key
    (county_code, household_id) gives its households in id order."""
    query = select(Household).where(*within_reach(col(Household.village_code), principal, county))
    one_county = county or (principal.region_prefix if len(principal.region_prefix) == 6 else None)
    return query if one_county is None else query.where(col(Household.county_code) == one_county)


async def household_page(
    session: AsyncSession, *, principal: Principal, county: str | None, status: str | None, after: str | None,
    limit: int,
) -> Sequence[Household]:
    """A keyset page by household id (limit + 1 rows) of the households the principal may list (`households_within`)."""
    query = households_within(principal, county).order_by(col(Household.household_id)).limit(limit + 1)
    if status is not None:
        query = query.where(col(Household.status) == status)
    if after is not None:
        query = query.where(col(Household.household_id) > after)
    households: Sequence[Household] = (await session.execute(query)).scalars().all()
    return households


async def history_of(session: AsyncSession, household_id: str) -> Sequence[HouseholdStatus]:
    """The household's recorded status changes, in order: none while it keeps the state it was registered in."""
    query = (
        select(HouseholdStatus)
        .where(col(HouseholdStatus.household_id) == household_id)
        .order_by(col(HouseholdStatus.effective_on), col(HouseholdStatus.id))
    )
    return (await session.execute(query)).scalars().all()


async def lookup(session: AsyncSession, household_ids: Sequence[str]) -> Sequence[Household]:
    query = located(select(Household), list(set(household_ids)))
    return (await session.execute(query)).scalars().all()


# Each (household, day) in one statement: the history row in force on the day; else, for a household whose
# history is empty (it keeps the state it was registered in), its record from its registration day on; the current
# record when no day. R1: and whether the county approved an exception for it by the day (any, when no day).
STANDING = text(
    """
    SELECT coalesce(s.status, c.status) AS status, coalesce(s.village_cadre, c.village_cadre) AS village_cadre,
           EXISTS (SELECT 1 FROM cadre_exceptions e WHERE e.household_id = q.household_id
                   AND (q.day IS NULL OR e.approved_on <= q.day)) AS cadre_excepted
    FROM unnest(CAST(:ids AS text[]), CAST(:days AS date[])) WITH ORDINALITY AS q(household_id, day, n)
    LEFT JOIN LATERAL (
        SELECT h.status, h.village_cadre FROM household_status_history h
        WHERE q.day IS NOT NULL AND h.household_id = q.household_id AND h.effective_on <= q.day
        ORDER BY h.effective_on DESC, h.id DESC LIMIT 1
    ) s ON true
    LEFT JOIN household_ids d ON d.household_id = q.household_id
    LEFT JOIN household_records c ON c.county_code = d.county_code AND c.household_id = d.household_id AND (
        q.day IS NULL
        OR s.status IS NULL AND c.registered_on <= q.day
           AND NOT EXISTS (SELECT 1 FROM household_status_history x WHERE x.household_id = q.household_id))
    ORDER BY q.n
    """
)


# The households on the roster on a day whose standing then is not an eligible status or has a village cadre
# (candidates: services.ineligible judges each with rules.ineligibility), by household id after `after`: those with
# a history row of that kind by the day (ix_history_ineligible) whose history row in force on the day is of that
# kind; and those whose history is empty, by their record from its registration day on (ix_households_ineligible),
# as STANDING reads a household's standing. Both parts come in household id order from their partial index, so a
# page reads the ineligible households up to its last one, whatever the size of the roster and of its history.
INELIGIBLE_PAGE = text(
    f"""
    SELECT household_id, status, village_cadre,
           EXISTS (SELECT 1 FROM cadre_exceptions e WHERE e.household_id = s.household_id
                   AND e.approved_on <= :day) AS cadre_excepted
    FROM (
        SELECT c.household_id, s.status, s.village_cadre
        FROM (SELECT DISTINCT x.household_id FROM household_status_history x
              WHERE ({NOT_ELIGIBLE}) AND x.household_id > :after AND x.effective_on <= :day) c
        CROSS JOIN LATERAL (
            SELECT h.status, h.village_cadre FROM household_status_history h
            WHERE h.household_id = c.household_id AND h.effective_on <= :day
            ORDER BY h.effective_on DESC, h.id DESC LIMIT 1
        ) s
        WHERE s.status <> ALL(CAST(:eligible AS text[])) OR s.village_cadre
        UNION ALL
        SELECT r.household_id, r.status, r.village_cadre FROM households r
        JOIN household_imports i ON i.number = r.registered_by
        WHERE ({NOT_ELIGIBLE}) AND r.household_id > :after AND i.effective_on <= :day
          AND NOT EXISTS (SELECT 1 FROM household_status_history x WHERE x.household_id = r.household_id)
    ) s
    ORDER BY household_id LIMIT :limit
    """
)


async def ineligible_page(
    session: AsyncSession, *, day: date, eligible: Sequence[str], after: str, limit: int
) -> list[tuple[str, str, bool, bool]]:
    """(household_id, status, village_cadre, cadre_excepted) of up to `limit` candidates of INELIGIBLE_PAGE after
    `after`."""
    params = {"day": day, "eligible": list(eligible), "after": after, "limit": limit}
    rows = await session.execute(INELIGIBLE_PAGE, params)
    return [(r.household_id, r.status, r.village_cadre, r.cadre_excepted) for r in rows]


async def standing(
    session: AsyncSession, queries: Sequence[tuple[str, date | None]]
) -> list[tuple[str | None, bool | None, bool]]:
    """The status and cadre flag of each household on its day (None: the current record), and whether an exception
    for a cadre was approved by then (R1), in the order asked; (None, None, …) where it was not on the roster."""
    params = {"ids": [household_id for household_id, _ in queries], "days": [day for _, day in queries]}
    return [(row.status, row.village_cadre, row.cadre_excepted) for row in await session.execute(STANDING, params)]


# The households whose standing on some day may have changed since a transaction (kernel/marks.py), by household id
# after `after`: a status or cadre change recorded (its history rows, back-dated or not), a county's cadre exception
# recorded, a household registered (by an import of then: households registered back-dated change what a payment
# before was judged). The imports and the exceptions are few; the history by ix_history_xid, the households an import
# registered by ix_households_registered_by.
CHANGED_SINCE = text(
    """
    WITH imports AS (
        SELECT i.number FROM household_imports i WHERE i.xid >= CAST(CAST(:since AS text) AS xid8)
    )
    SELECT household_id FROM (
        SELECT h.household_id FROM household_status_history h
        WHERE h.xid >= CAST(CAST(:since AS text) AS xid8) AND h.household_id > :after
        UNION
        SELECT e.household_id FROM cadre_exceptions e
        WHERE e.xid >= CAST(CAST(:since AS text) AS xid8) AND e.household_id > :after
        UNION
        SELECT r.household_id FROM households r
        WHERE r.registered_by >= (SELECT min(number) FROM imports) AND r.registered_by IN (SELECT number FROM imports)
          AND r.household_id > :after
    ) c
    ORDER BY household_id LIMIT :limit
    """
)


async def changed_since(session: AsyncSession, *, since: int, after: str, limit: int) -> list[str]:
    """Up to `limit` household ids of CHANGED_SINCE after `after`."""
    rows = await session.execute(CHANGED_SINCE, {"since": str(since), "after": after, "limit": limit})
    return [str(r.household_id) for r in rows]


def household_ids_differing() -> Select[*tuple[Any, ...]]:
    """The household ids whose directory entry (household_ids) differs from the roster (`household_id`, the county
    the directory names, the county of its record; a county is None where a row is missing): none, ever.
    tests/registry/test_household_ids.py runs it after each kind of write, `fundtrack doctor` on a live database (a
    read of both tables: seconds at millions)."""
    kept, roster = col(HouseholdId.household_id), col(HouseholdRow.household_id)
    kept_county, roster_county = col(HouseholdId.county_code), col(HouseholdRow.county_code)
    return (
        select(func.coalesce(kept, roster).label("household_id"), kept_county.label("directory_county"),
               roster_county.label("roster_county"))
        .select_from(HouseholdId)
        .join(HouseholdRow, roster == kept, full=True)
        .where(kept_county.is_distinct_from(roster_county))
        .order_by(func.coalesce(kept, roster))
    )


# --------------------------------------------------------------------------------------------- the import (asyncpg)

STAGING = "registry_import_staging"

# Each staged chunk is COPYed into a temporary table of its own (chunk_table) that inherits from the staging table:
# the chunk is merged from its own table, and the staging table reads every line staged so far, for the few ids the
# importer's SeenFilter cannot rule out (no second copy of the ids, no index). Temporary tables write no
# WAL and are dropped at commit. Hash and merge joins off: a chunk is small next to the roster, and the roster's
# statistics are stale in the middle of a large import, so the merge probes the roster's household id index per
# staged line and never hashes the whole roster (EARLIER_DUPLICATES turns them on for itself).
PREPARE = f"""
SET LOCAL work_mem = '64MB';
SET LOCAL enable_hashjoin = off;
SET LOCAL enable_mergejoin = off;
CREATE TEMP TABLE {STAGING} (
    line integer NOT NULL,
    household_id text NOT NULL,
    head_id_number text NOT NULL,
    head_name text NOT NULL,
    county_code text NOT NULL,
    village_code text NOT NULL,
    status text NOT NULL,
    members integer NOT NULL,
    village_cadre boolean NOT NULL,
    card_account text NOT NULL
) ON COMMIT DROP
"""


def chunk_table(number: int) -> str:
    return f"{STAGING}_{number}"


def create_chunk(table: str) -> str:
    return f"CREATE TEMP TABLE {table} () INHERITS ({STAGING}) ON COMMIT DROP"


# Imports of the same households are merged one at a time, so each status change is compared with the one recorded
# just before it (taken before the first chunk is merged, held to the end of the transaction). An import touches the
# households of its scope only (lines and registered households outside it are refused), so the locks are per scope
# (S12, rules.import_lock_scopes): shared on the scopes above it, exclusive on its own. Imports of two counties run
# at once; a county's and its province's (or two of one county) still run one after the other.
LOCK_SHARED = "SELECT pg_advisory_xact_lock_shared(hashtext('registry.household_import:' || $1::text))"
LOCK_EXCLUSIVE = "SELECT pg_advisory_xact_lock(hashtext('registry.household_import:' || $1::text))"


def earlier_duplicates(table: str) -> str:
    """A household twice in one file: the first line is kept, the later ones are refused. Twice in one chunk is
    found by the importer; here, lines of this chunk whose household was staged in an earlier chunk ($1: the
    candidates, $3: the chunk's first line)."""
    return f"""
WITH firsts AS (
    SELECT e.household_id, min(e.line) AS first_line
    FROM {STAGING} e JOIN unnest($1::text[]) AS c(household_id) ON c.household_id = e.household_id
    WHERE e.line < $3
    GROUP BY e.household_id
), refused AS (
    DELETE FROM {table} s USING firsts f WHERE s.household_id = f.household_id
    RETURNING s.line, s.household_id, f.first_line
)
SELECT line, '{codes.DUPLICATE_IN_FILE}' AS code,
       '户 ' || household_id || ' 已在第 ' || first_line || ' 行 / household ' || household_id
       || ' already on line ' || first_line AS detail,
       count(*) OVER () AS total
FROM refused ORDER BY line LIMIT $2
"""


# EARLIER_DUPLICATES hashes its few candidates and reads the staged lines once.
HASH_JOINS_ON = "SET LOCAL enable_hashjoin = on"
HASH_JOINS_OFF = "SET LOCAL enable_hashjoin = off"


def outside_jurisdiction(table: str) -> str:
    """A household already registered in a county outside the importer's jurisdiction cannot be taken over; the
    refusal does not name that county (A5)."""
    return f"""
WITH refused AS (
    DELETE FROM {table} s USING household_ids d, households h
    WHERE d.household_id = s.household_id AND h.county_code = d.county_code AND h.household_id = d.household_id
      AND NOT starts_with(h.village_code, $1)
    RETURNING s.line, s.household_id
)
SELECT line, '{codes.LINE_NOT_IN_JURISDICTION}' AS code,
       '户 ' || household_id || ' 已在管辖范围外登记 / household ' || household_id
       || ' is registered outside your jurisdiction' AS detail,
       count(*) OVER () AS total
FROM refused ORDER BY line LIMIT $2
"""

def newer_history(table: str) -> str:
    """A roster dated before today (effective_on) may not rewrite a household whose status history already has a
    later date, or that was registered later: the history stays in date order."""
    return f"""
WITH refused AS (
    DELETE FROM {table} s
    WHERE EXISTS (SELECT 1 FROM household_status_history x
                  WHERE x.household_id = s.household_id AND x.effective_on > $1)
       OR EXISTS (SELECT 1 FROM household_ids d
                  JOIN household_records h ON h.county_code = d.county_code AND h.household_id = d.household_id
                  WHERE d.household_id = s.household_id AND h.registered_on > $1)
    RETURNING s.line, s.household_id
)
SELECT line, '{codes.HISTORY_AFTER_EFFECTIVE_DATE}' AS code,
       '户 ' || household_id || ' 已有晚于 ' || $1::date || ' 的状态记录 / household ' || household_id
       || ' already has status history after effective_on ' || $1::date AS detail,
       count(*) OVER () AS total
FROM refused ORDER BY line LIMIT $2
"""


COLUMNS = "head_id_number, head_name, county_code, village_code, status, members, village_cadre, card_account"

# A chunk of households none of which the roster has is COPYed straight into it (importer.copy_new): its staging
# records (`line,` then the line's nine fields) with the import's number appended twice (registered_by, updated_by).
DIRECT_COLUMNS = ("registered_line", "household_id", *COLUMNS.split(", "), "registered_by", "updated_by")
NEXT_IMPORT_NUMBER = "SELECT nextval('household_import_numbers')"
SAVEPOINT = "SAVEPOINT registry_copy_new"
RELEASE = "RELEASE SAVEPOINT registry_copy_new"
ROLLBACK = "ROLLBACK TO SAVEPOINT registry_copy_new"


def registered_earlier(table: str) -> str:
    """Lines of this chunk whose household an earlier chunk of the same import registered ($1: the import's
    number): the first line is kept, the later ones are refused (chunks COPYed straight into the roster are not
    staged)."""
    return f"""
WITH refused AS (
    DELETE FROM {table} s USING household_ids d, households h
    WHERE d.household_id = s.household_id AND h.county_code = d.county_code AND h.household_id = d.household_id
      AND h.registered_by = $1
    RETURNING s.line, s.household_id, h.registered_line AS first_line
)
SELECT line, '{codes.DUPLICATE_IN_FILE}' AS code,
       '户 ' || household_id || ' 已在第 ' || first_line || ' 行 / household ' || household_id
       || ' already on line ' || first_line AS detail,
       count(*) OVER () AS total
FROM refused ORDER BY line LIMIT $2
"""


def merge(table: str) -> str:
    """One statement, one snapshot: the history compares with the record as it was before this chunk. New
    households are plain INSERTs (no speculative ON CONFLICT insertion: the lock serialises imports, and the
    households of a chunk are distinct), changed ones an UPDATE, unchanged ones are not written at all. A status or
    cadre change of a household with no history yet writes the state it was registered in first (dated and
    attributed as the import that registered it), then the change. Each history row is of the county of the state it
    records (issue #15): the registration state of the county the record was in, the change of the line's county (a
    line naming another county moves the household there: its record is updated, key included). $1 effective_on, $2
    the import's id, $3 its number."""
    return f"""
WITH incoming AS (
    SELECT s.*, h.household_id IS NULL AS is_new, h.status AS old_status, h.village_cadre AS old_cadre,
           h.county_code AS old_county,
           (h.head_id_number, h.head_name, h.county_code, h.village_code, h.status, h.members::integer,
            h.village_cadre, h.card_account)
           IS DISTINCT FROM (s.head_id_number, s.head_name, s.county_code, s.village_code, s.status, s.members,
                             s.village_cadre, s.card_account) AS changed
    FROM {table} s LEFT JOIN household_ids d ON d.household_id = s.household_id
    LEFT JOIN households h ON h.county_code = d.county_code AND h.household_id = d.household_id
), changes AS (
    SELECT * FROM incoming WHERE NOT is_new AND (status <> old_status OR village_cadre <> old_cadre)
), history AS (
    INSERT INTO household_status_history (household_id, county_code, status, village_cadre, effective_on, import_id)
    SELECT household_id, county_code, status, village_cadre, effective_on, import_id FROM (
        SELECT c.household_id, c.old_county AS county_code, c.old_status AS status, c.old_cadre AS village_cadre,
               r.registered_on AS effective_on, r.registered_import_id AS import_id, 0 AS step
        FROM changes c JOIN household_records r ON r.county_code = c.old_county AND r.household_id = c.household_id
        WHERE NOT EXISTS (SELECT 1 FROM household_status_history x WHERE x.household_id = c.household_id)
        UNION ALL
        SELECT household_id, county_code, status, village_cadre, $1, $2, 1 FROM changes
    ) rows ORDER BY household_id, step
), inserted AS (
    INSERT INTO households (household_id, {COLUMNS}, registered_by, updated_by, registered_line)
    SELECT household_id, {COLUMNS}, $3, $3, line FROM incoming WHERE is_new
    RETURNING 1
), updated AS (
    UPDATE households h SET ({COLUMNS}, updated_by) = (
        i.head_id_number, i.head_name, i.county_code, i.village_code, i.status, i.members, i.village_cadre,
        i.card_account, $3)
    FROM incoming i
    WHERE h.county_code = i.old_county AND h.household_id = i.household_id AND NOT i.is_new AND i.changed
    RETURNING 1
)
SELECT (SELECT count(*) FROM inserted) AS imported, (SELECT count(*) FROM updated) AS updated
"""

RECORD_IMPORT = """
INSERT INTO household_imports (id, number, principal_id, region_code, effective_on, imported, updated, unchanged,
                               rejected, recorded_by_org, responsible_org)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
"""


# The statements above, run on the import's connection (kernel/rawsql.connection: the request's transaction).


async def import_connection(session: AsyncSession) -> asyncpg.Connection:
    """The asyncpg connection of the request's transaction: COPY and the merge run in it."""
    return await rawsql.connection(session)


async def lock_scopes(conn: Any, above: Sequence[str], own: str) -> None:
    """S12: shared locks on the scopes above the import's, then the exclusive one on its own."""
    for scope in above:
        await conn.execute(LOCK_SHARED, scope)
    await conn.execute(LOCK_EXCLUSIVE, own)


async def prepare(conn: Any) -> int:
    """The staging table and the planner settings of the import; the import's number (household_imports.number)."""
    await conn.execute(PREPARE)
    number: int = await conn.fetchval(NEXT_IMPORT_NUMBER)
    return number


async def _source(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def copy_into_roster(conn: Any, records: bytes) -> bool:
    """COPY records (DIRECT_COLUMNS) straight into the roster, in a savepoint; False, and nothing written, when the
    roster already has one of the households (the directory of household ids refuses it, in any county)."""
    await conn.execute(SAVEPOINT)
    try:
        await conn.copy_to_table("households", source=_source(records), columns=DIRECT_COLUMNS, format="csv")
    except asyncpg.UniqueViolationError:
        await conn.execute(ROLLBACK)
        return False
    await conn.execute(RELEASE)
    return True


async def create_chunk_table(conn: Any, number: int) -> str:
    """The temporary table of the import's `number`th staged chunk."""
    table = chunk_table(number)
    await conn.execute(create_chunk(table))
    return table


async def stage(conn: Any, table: str, records: bytes, columns: Sequence[str]) -> int:
    """COPY a chunk's staging records into its table; the number of lines staged."""
    status = await conn.copy_to_table(table, source=_source(records), columns=list(columns), format="csv")
    return int(status.split()[-1])


async def _refused(conn: Any, statement: str, *args: Any) -> tuple[list[dict[str, Any]], int]:
    """Run a refusing statement: the first lines it refused (line, code, detail), and how many in all."""
    rows = await conn.fetch(statement, *args)
    total = int(rows[0]["total"]) if rows else 0
    return [{"line": r["line"], "code": r["code"], "detail": r["detail"]} for r in rows], total


async def refuse_earlier_duplicates(
    conn: Any, table: str, candidates: Sequence[str], cap: int, first_line: int
) -> tuple[list[dict[str, Any]], int]:
    await conn.execute(HASH_JOINS_ON)
    refused = await _refused(conn, earlier_duplicates(table), list(candidates), cap, first_line)
    await conn.execute(HASH_JOINS_OFF)
    return refused


async def refuse_registered_earlier(conn: Any, table: str, number: int, cap: int) -> tuple[list[dict[str, Any]], int]:
    return await _refused(conn, registered_earlier(table), number, cap)


async def refuse_outside_jurisdiction(
    conn: Any, table: str, prefix: str, cap: int
) -> tuple[list[dict[str, Any]], int]:
    return await _refused(conn, outside_jurisdiction(table), prefix, cap)


async def refuse_newer_history(
    conn: Any, table: str, effective_on: date, cap: int
) -> tuple[list[dict[str, Any]], int]:
    return await _refused(conn, newer_history(table), effective_on, cap)


async def merge_chunk(conn: Any, table: str, *, effective_on: date, import_id: str, number: int) -> tuple[int, int]:
    """Merge a staged chunk into the roster: (households imported, households updated)."""
    merged = await conn.fetchrow(merge(table), effective_on, import_id, number)
    return int(merged["imported"]), int(merged["updated"])


async def record_import(
    conn: Any, *, import_id: str, number: int, principal: Principal, effective_on: date, imported: int,
    updated: int, unchanged: int, rejected: int, recorded_by_org: str | None, responsible_org: str | None,
) -> None:
    await conn.execute(
        RECORD_IMPORT, import_id, number, principal.id, principal.region_code, effective_on, imported, updated,
        unchanged, rejected, recorded_by_org, responsible_org,
    )


# ------------------------------------------------------------------ R1: the county's exceptions for village cadres


async def add_cadre_exception(session: AsyncSession, exception: CadreException) -> None:
    session.add(exception)
    await session.flush()


async def cadre_exceptions_of(session: AsyncSession, household_ids: Sequence[str]) -> Sequence[CadreException]:
    """The exceptions recorded for these households, oldest approval first."""
    query = (
        select(CadreException).where(any_of(col(CadreException.household_id), household_ids))
        .order_by(col(CadreException.approved_on), col(CadreException.id))
    )
    return (await session.execute(query)).scalars().all()


async def cadre_exception_page(
    session: AsyncSession, *, principal: Principal, county: str | None, after: str | None, limit: int
) -> Sequence[CadreException]:
    """A keyset page by id (limit + 1 rows) of the exceptions of the counties the principal reaches (one county
    when it is asked for; a county out of reach lists nothing)."""
    query = select(CadreException).where(*within_reach(col(CadreException.county_code), principal, county))
    if after is not None:
        query = query.where(col(CadreException.id) > after)
    return (await session.execute(query.order_by(col(CadreException.id)).limit(limit + 1))).scalars().all()


async def cadre_exceptions_approved_by(session: AsyncSession, *, prefix: str, on: date) -> Sequence[CadreException]:
    """The exceptions of the counties under `prefix` approved on or before `on` (the CADRE_EXCEPTION scan)."""
    query = (
        select(CadreException)
        .where(within(col(CadreException.county_code), prefix), col(CadreException.approved_on) <= on)
        .order_by(col(CadreException.id))
    )
    return (await session.execute(query)).scalars().all()


# ------------------------------------------------------------------------------------------------ import progress
# Written on a connection of its own (engine.begin(), not the import's transaction), so every worker reads it while
# the import runs; the first write of an import also deletes the rows of imports a day old (their index).
Engine = AsyncEngine  # what a progress write takes its own connection from: the service's engine
_PROGRESS_FORGET = text("DELETE FROM import_progress WHERE updated_at < now() - interval '1 day'")
_PROGRESS_WRITE = text(
    """
    INSERT INTO import_progress (principal_id, idempotency_key, lines, bytes_read, total_bytes, done, started_at,
                                 updated_at)
    VALUES (:principal_id, :key, :lines, :bytes_read, :total_bytes, :done, now(), now())
    ON CONFLICT (principal_id, idempotency_key) DO UPDATE SET
        lines = excluded.lines, bytes_read = excluded.bytes_read, total_bytes = excluded.total_bytes,
        done = excluded.done, updated_at = now(),
        started_at = CASE WHEN :starts THEN now() ELSE import_progress.started_at END
    """
)


async def write_progress(
    engine: AsyncEngine, *, principal_id: str, key: str, lines: int, bytes_read: int, total_bytes: int | None,
    done: bool, starts: bool,
) -> None:
    """How far the import keyed (principal, key) has read, committed at once outside the import's transaction;
    `starts`: its first write (a retry under the same key starts again from nothing)."""
    async with engine.begin() as conn:
        if starts:
            await conn.execute(_PROGRESS_FORGET)
        await conn.execute(_PROGRESS_WRITE, {
            "principal_id": principal_id, "key": key, "lines": lines, "bytes_read": bytes_read,
            "total_bytes": total_bytes, "done": done, "starts": starts,
        })


async def progress_of(session: AsyncSession, *, principal_id: str, key: str) -> ImportProgressRow | None:
    """The progress of the principal's own import under `key`: another principal's is never found."""
    return await session.get(ImportProgressRow, (principal_id, key))
