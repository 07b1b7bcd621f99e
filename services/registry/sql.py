"""The SQL of the import: a temporary staging table filled by COPY one chunk at a time, then set-based checks and
one merge per chunk."""

from __future__ import annotations

from services.registry import codes

STAGING = "registry_import_staging"
SEEN = "registry_import_seen"

# The day an import takes effect: the calendar day in China when it is recorded.
TODAY = "SELECT (now() AT TIME ZONE 'Asia/Shanghai')::date"

# The staging table holds one chunk of lines at a time (emptied before the next); `seen` keeps the id and line of
# every household staged so far, without an index: it is read only for the few ids the importer's SeenFilter cannot
# rule out. Both are temporary (no WAL) and dropped at commit.
PREPARE = f"""
SET LOCAL work_mem = '64MB';
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
) ON COMMIT DROP;
CREATE TEMP TABLE {SEEN} (household_id text NOT NULL, line integer NOT NULL) ON COMMIT DROP
"""

# A chunk is small next to the roster, and the roster's statistics are stale in the middle of a large import: the
# merge must probe the roster's primary key per staged line, never hash the whole roster (twice) for each chunk.
INDEX_JOINS = "SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off"
# Before each chunk: the planner's free choice again, and an empty staging table.
CLEAR = f"SET LOCAL enable_hashjoin = on; SET LOCAL enable_mergejoin = on; TRUNCATE {STAGING}"

# Imports are merged one at a time, so each status change is compared with the one recorded just before it
# (taken before the first chunk is merged, held to the end of the transaction).
LOCK = "SELECT pg_advisory_xact_lock(hashtext('registry.household_import'))"

# A household twice in one file: the first line is kept, the later ones are refused. Twice in one chunk is found by
# the importer; here, lines of this chunk whose household was staged in an earlier chunk ($1: the candidates).
EARLIER_DUPLICATES = f"""
WITH firsts AS (
    SELECT e.household_id, min(e.line) AS first_line
    FROM {SEEN} e JOIN unnest($1::text[]) AS c(household_id) ON c.household_id = e.household_id
    GROUP BY e.household_id
), refused AS (
    DELETE FROM {STAGING} s USING firsts f WHERE s.household_id = f.household_id
    RETURNING s.line, s.household_id, f.first_line
)
SELECT line, '{codes.DUPLICATE_IN_FILE}' AS code,
       '户 ' || household_id || ' 已在第 ' || first_line || ' 行 / household ' || household_id
       || ' already on line ' || first_line AS detail,
       count(*) OVER () AS total
FROM refused ORDER BY line LIMIT $2
"""

REMEMBER = f"INSERT INTO {SEEN} (household_id, line) SELECT household_id, line FROM {STAGING}"

# A household already registered in a county outside the importer's jurisdiction cannot be taken over.
OUTSIDE_JURISDICTION = f"""
WITH refused AS (
    DELETE FROM {STAGING} s USING households h
    WHERE h.household_id = s.household_id AND NOT starts_with(h.village_code, $1)
    RETURNING s.line, s.household_id, h.county_code
)
SELECT line, '{codes.LINE_NOT_IN_JURISDICTION}' AS code,
       '户 ' || household_id || ' 登记在县 ' || county_code || '，不在管辖范围内 / household ' || household_id
       || ' is registered in county ' || county_code || ', outside your jurisdiction' AS detail,
       count(*) OVER () AS total
FROM refused ORDER BY line LIMIT $2
"""

COLUMNS = "head_id_number, head_name, county_code, village_code, status, members, village_cadre, card_account"

# One statement, one snapshot: the history compares with the record as it was before this chunk. New households
# are plain INSERTs (no speculative ON CONFLICT insertion: the lock serialises imports, and the households of a
# chunk are distinct), changed ones an UPDATE, unchanged ones are not written at all.
MERGE = f"""
WITH incoming AS (
    SELECT s.*, h.household_id IS NULL AS is_new, h.status AS old_status, h.village_cadre AS old_cadre,
           (h.head_id_number, h.head_name, h.county_code, h.village_code, h.status, h.members::integer,
            h.village_cadre, h.card_account)
           IS DISTINCT FROM (s.head_id_number, s.head_name, s.county_code, s.village_code, s.status, s.members,
                             s.village_cadre, s.card_account) AS changed
    FROM {STAGING} s LEFT JOIN households h ON h.household_id = s.household_id
), history AS (
    INSERT INTO household_status_history (household_id, status, village_cadre, effective_on, import_id)
    SELECT household_id, status, village_cadre, $1, $2 FROM incoming
    WHERE is_new OR status <> old_status OR village_cadre <> old_cadre
), inserted AS (
    INSERT INTO households (household_id, {COLUMNS}, registered_on, updated_on, import_id)
    SELECT household_id, {COLUMNS}, $1, $1, $2 FROM incoming WHERE is_new
    RETURNING 1
), updated AS (
    UPDATE households h SET ({COLUMNS}, updated_on, import_id) = (
        i.head_id_number, i.head_name, i.county_code, i.village_code, i.status, i.members, i.village_cadre,
        i.card_account, $1, $2)
    FROM incoming i WHERE h.household_id = i.household_id AND NOT i.is_new AND i.changed
    RETURNING 1
)
SELECT (SELECT count(*) FROM inserted) AS imported, (SELECT count(*) FROM updated) AS updated
"""

RECORD_IMPORT = """
INSERT INTO household_imports (id, principal_id, region_code, effective_on, imported, updated, unchanged, rejected)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
"""
