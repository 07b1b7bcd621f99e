"""The SQL of the import: a chunk of new households COPYed straight into the roster; any other chunk COPYed into a
temporary staging table, then set-based checks and one merge."""

from __future__ import annotations

from services.registry import codes

STAGING = "registry_import_staging"

# Each staged chunk is COPYed into a temporary table of its own (chunk_table) that inherits from the staging table:
# the chunk is merged from its own table, and the staging table reads every line staged so far, for the few ids the
# importer's SeenFilter cannot rule out (no second copy of the ids, no index). Temporary tables write no
# WAL and are dropped at commit. Hash and merge joins off: a chunk is small next to the roster, and the roster's
# statistics are stale in the middle of a large import, so the merge probes the roster's primary key per staged
# line and never hashes the whole roster (EARLIER_DUPLICATES turns them on for itself).
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
    DELETE FROM {table} s USING households h
    WHERE h.household_id = s.household_id AND NOT starts_with(h.village_code, $1)
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
       OR EXISTS (SELECT 1 FROM household_records h WHERE h.household_id = s.household_id AND h.registered_on > $1)
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
    DELETE FROM {table} s USING households h
    WHERE h.household_id = s.household_id AND h.registered_by = $1
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
    attributed as the import that registered it), then the change. $1 effective_on, $2 the import's id, $3 its
    number."""
    return f"""
WITH incoming AS (
    SELECT s.*, h.household_id IS NULL AS is_new, h.status AS old_status, h.village_cadre AS old_cadre,
           (h.head_id_number, h.head_name, h.county_code, h.village_code, h.status, h.members::integer,
            h.village_cadre, h.card_account)
           IS DISTINCT FROM (s.head_id_number, s.head_name, s.county_code, s.village_code, s.status, s.members,
                             s.village_cadre, s.card_account) AS changed
    FROM {table} s LEFT JOIN households h ON h.household_id = s.household_id
), changes AS (
    SELECT * FROM incoming WHERE NOT is_new AND (status <> old_status OR village_cadre <> old_cadre)
), history AS (
    INSERT INTO household_status_history (household_id, status, village_cadre, effective_on, import_id)
    SELECT household_id, status, village_cadre, effective_on, import_id FROM (
        SELECT c.household_id, c.old_status AS status, c.old_cadre AS village_cadre,
               r.registered_on AS effective_on, r.registered_import_id AS import_id, 0 AS step
        FROM changes c JOIN household_records r ON r.household_id = c.household_id
        WHERE NOT EXISTS (SELECT 1 FROM household_status_history x WHERE x.household_id = c.household_id)
        UNION ALL
        SELECT household_id, status, village_cadre, $1, $2, 1 FROM changes
    ) rows ORDER BY household_id, step
), inserted AS (
    INSERT INTO households (household_id, {COLUMNS}, registered_by, updated_by, registered_line)
    SELECT household_id, {COLUMNS}, $3, $3, line FROM incoming WHERE is_new
    RETURNING 1
), updated AS (
    UPDATE households h SET ({COLUMNS}, updated_by) = (
        i.head_id_number, i.head_name, i.county_code, i.village_code, i.status, i.members, i.village_cadre,
        i.card_account, $3)
    FROM incoming i WHERE h.household_id = i.household_id AND NOT i.is_new AND i.changed
    RETURNING 1
)
SELECT (SELECT count(*) FROM inserted) AS imported, (SELECT count(*) FROM updated) AS updated
"""

RECORD_IMPORT = """
INSERT INTO household_imports (id, number, principal_id, region_code, effective_on, imported, updated, unchanged,
                               rejected)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
"""
