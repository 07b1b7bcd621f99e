"""The SQL of the import: a temporary staging table filled by COPY, then set-based checks and one merge."""

from __future__ import annotations

from services.registry import codes

STAGING = "registry_import_staging"

# The day an import takes effect: the calendar day in China when it is recorded.
TODAY = "SELECT (now() AT TIME ZONE 'Asia/Shanghai')::date"

PREPARE = f"""
SET LOCAL work_mem = '256MB';
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

ANALYZE = f"ANALYZE {STAGING}"

# Imports are merged one at a time, so each status change is compared with the one recorded just before it.
LOCK = "SELECT pg_advisory_xact_lock(hashtext('registry.household_import'))"

# A household twice in one file: the first line is kept, the later ones are refused.
DUPLICATES = f"""
WITH firsts AS (
    SELECT household_id, min(line) AS first_line FROM {STAGING} GROUP BY household_id HAVING count(*) > 1
), refused AS (
    DELETE FROM {STAGING} s USING firsts f
    WHERE s.household_id = f.household_id AND s.line > f.first_line
    RETURNING s.line, s.household_id, f.first_line
)
SELECT line, '{codes.DUPLICATE_IN_FILE}' AS code,
       '户 ' || household_id || ' 已在第 ' || first_line || ' 行 / household ' || household_id
       || ' already on line ' || first_line AS detail,
       count(*) OVER () AS total
FROM refused ORDER BY line LIMIT $1
"""

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

# One statement, one snapshot: the history compares with the record as it was before this import.
MERGE = f"""
WITH incoming AS (
    SELECT s.*, h.household_id IS NULL AS is_new, h.status AS old_status, h.village_cadre AS old_cadre,
           h.household_id IS NULL
           OR (h.head_id_number, h.head_name, h.county_code, h.village_code, h.status, h.members::integer,
               h.village_cadre, h.card_account)
              IS DISTINCT FROM (s.head_id_number, s.head_name, s.county_code, s.village_code, s.status, s.members,
                                s.village_cadre, s.card_account) AS changed
    FROM {STAGING} s LEFT JOIN households h ON h.household_id = s.household_id
), history AS (
    INSERT INTO household_status_history (household_id, status, village_cadre, effective_on, import_id)
    SELECT household_id, status, village_cadre, $1, $2 FROM incoming
    WHERE is_new OR status <> old_status OR village_cadre <> old_cadre
    RETURNING 1
), written AS (
    INSERT INTO households AS h (household_id, {COLUMNS}, registered_on, updated_on, import_id)
    SELECT household_id, {COLUMNS}, $1, $1, $2 FROM incoming WHERE changed
    ON CONFLICT (household_id) DO UPDATE SET
        head_id_number = EXCLUDED.head_id_number, head_name = EXCLUDED.head_name,
        county_code = EXCLUDED.county_code, village_code = EXCLUDED.village_code, status = EXCLUDED.status,
        members = EXCLUDED.members, village_cadre = EXCLUDED.village_cadre, card_account = EXCLUDED.card_account,
        updated_on = EXCLUDED.updated_on, import_id = EXCLUDED.import_id
    RETURNING h.xmax = 0 AS inserted
)
SELECT count(*) FILTER (WHERE inserted) AS imported, count(*) FILTER (WHERE NOT inserted) AS updated,
       (SELECT count(*) FROM history) AS history
FROM written
"""

RECORD_IMPORT = """
INSERT INTO household_imports (id, principal_id, region_code, effective_on, imported, updated, unchanged, rejected)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
"""
