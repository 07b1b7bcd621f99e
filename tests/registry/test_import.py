"""POST /registry/households/import through the gateway: line checks, BOM, header, re-import, jurisdiction."""

from __future__ import annotations

import asyncpg

from services.registry import codes
from services.registry.importer import CHUNK_LINES
from tests.conftest import Api, MakePrincipal
from tests.registry.api import import_csv
from tests.registry.factory import HEADER, Row, csv_body, id_number, new_county, row


async def test_good_and_bad_lines_are_reported_by_physical_line(admin: Api, db: asyncpg.Pool) -> None:
    county = new_county()
    good1, good2 = row(county), row(county, status="exited", village_cadre="1", members="5")
    bad_id = row(county)
    bad_id.head_id_number = bad_id.head_id_number[:17] + ("0" if bad_id.head_id_number[17] != "0" else "1")
    lines: list[str | Row] = [
        good1,                                                            # 2
        bad_id,                                                           # 3
        row(county, head_id_number=id_number(county, birth="19800230")),  # 4 30 February
        row(county, county_code=county[:4] + "00"),                       # 5
        row(county, village_code="999999101001"),                         # 6
        row(county, status="rich"),                                       # 7
        row(county, members="0"),                                         # 8
        row(county, members="x"),                                         # 9
        row(county, village_cadre="yes"),                                 # 10
        row(county, card_account=""),                                     # 11
        "a,b,c",                                                          # 12
        good2,                                                            # 13
        row(county, household_id=good1.household_id),                     # 14 duplicate of line 2
        row(county, head_id_number=id_number(county, birth="21000101")),  # 15 born in the future
        row(county, household_id="bad id/1"),                             # 16
    ]
    response = await import_csv(admin, csv_body(*lines))
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["imported"], body["updated"], body["unchanged"]) == (2, 0, 0)
    assert [(r["line"], r["code"]) for r in body["rejected"]] == [
        (3, codes.INVALID_ID_NUMBER),
        (4, codes.INVALID_ID_NUMBER),
        (5, codes.INVALID_REGION),
        (6, codes.INVALID_REGION),
        (7, codes.INVALID_STATUS),
        (8, codes.INVALID_MEMBERS),
        (9, codes.INVALID_MEMBERS),
        (10, codes.INVALID_CADRE_FLAG),
        (11, codes.MISSING_FIELD),
        (12, codes.WRONG_FIELD_COUNT),
        (14, codes.DUPLICATE_IN_FILE),
        (15, codes.INVALID_ID_NUMBER),
        (16, codes.INVALID_HOUSEHOLD_ID),
    ]
    assert body["rejected_count"] == 13
    assert all(r["detail"] for r in body["rejected"])
    stored = await db.fetch(
        "SELECT household_id, status, members, village_cadre FROM registry.households WHERE county_code = $1", county
    )
    assert {(r["household_id"], r["status"], r["members"], r["village_cadre"]) for r in stored} == {
        (good1.household_id, "poor", 3, False),
        (good2.household_id, "exited", 5, True),
    }


async def test_bom_crlf_quotes_and_blank_lines_are_read(admin: Api, db: asyncpg.Pool) -> None:
    county = new_county()
    quoted = row(county)
    quoted_line = quoted.line().replace("张三", '"张, 三"')
    plain = row(county)
    body = ("\ufeff" + HEADER + "\r\n" + quoted_line + "\r\n\r\n" + plain.line()).encode()  # no final newline
    response = await import_csv(admin, body)
    assert response.status_code == 200, response.text
    assert response.json()["imported"] == 2 and response.json()["rejected"] == []
    name = await db.fetchval("SELECT head_name FROM registry.households WHERE household_id = $1", quoted.household_id)
    assert name == "张, 三"


async def test_lowercase_x_check_digit_is_stored_upper_case(admin: Api, db: asyncpg.Pool) -> None:
    county = new_county()
    for serial in range(1000):
        number = id_number(county, serial=serial)
        if number.endswith("X"):
            break
    household = row(county, head_id_number=number.lower())
    assert (await import_csv(admin, csv_body(household))).json()["imported"] == 1
    stored = await db.fetchval(
        "SELECT head_id_number FROM registry.households WHERE household_id = $1", household.household_id
    )
    assert stored == number


async def test_wrong_or_missing_header_refuses_the_whole_file(admin: Api, db: asyncpg.Pool) -> None:
    county = new_county()
    household = row(county)
    for body in (
        csv_body(household, header=HEADER.replace("members", "people")),
        csv_body(household, header=HEADER + ",extra"),
        household.line().encode(),
        b"",
        b"\xff\xfe" + HEADER.encode(),
    ):
        response = await import_csv(admin, body)
        assert response.status_code == 422, response.text
        assert response.json()["code"] == codes.INVALID_HEADER
    assert await db.fetchval("SELECT count(*) FROM registry.households WHERE county_code = $1", county) == 0


async def test_non_csv_and_oversized_input_is_refused_not_500(admin: Api, db: asyncpg.Pool) -> None:
    county = new_county()
    household = row(county)
    response = await import_csv(admin, b'{"households": []}', content_type="application/json")
    assert response.status_code == 415 and response.json()["code"] == codes.UNSUPPORTED_MEDIA_TYPE
    response = await import_csv(admin, b"\x00\x01binary\xff garbage\n\x00")
    assert response.status_code == 422 and response.json()["code"] == codes.INVALID_HEADER
    long_name = row(county, head_name="名" * 101)
    invalid_utf8 = household.line().replace("张三", "X").encode().replace(b"X", b"\xc3\x28")
    huge = b"a" * 300_000 + b"," + b"b" * 300_000
    body = csv_body(long_name) + invalid_utf8 + b"\n" + huge + b"\n" + household.line().encode() + b"\n"
    response = await import_csv(admin, body)
    assert response.status_code == 200, response.text
    assert [(r["line"], r["code"]) for r in response.json()["rejected"]] == [
        (2, codes.FIELD_TOO_LONG),
        (3, codes.INVALID_ENCODING),
        (4, codes.LINE_TOO_LONG),
    ]
    assert response.json()["imported"] == 1
    response = await import_csv(admin, csv_body('"unterminated,' + household.line()))
    assert response.status_code == 200 and response.json()["rejected"][0]["code"] == codes.MALFORMED_LINE


async def test_reimport_updates_and_keeps_status_history(admin: Api, db: asyncpg.Pool) -> None:
    county = new_county()
    household = row(county)
    first = await import_csv(admin, csv_body(household))
    assert first.json()["imported"] == 1
    again = await import_csv(admin, csv_body(household))
    assert (again.json()["imported"], again.json()["updated"], again.json()["unchanged"]) == (0, 0, 1)
    household.status, household.card_account = "exited", "6217000000000000999"
    updated = await import_csv(admin, csv_body(household))
    assert (updated.json()["imported"], updated.json()["updated"]) == (0, 1)
    household.members = "4"  # not a status change: no history row
    assert (await import_csv(admin, csv_body(household))).json()["updated"] == 1
    household.status = "returned"
    assert (await import_csv(admin, csv_body(household))).json()["updated"] == 1
    current = await db.fetchrow("SELECT * FROM registry.households WHERE household_id = $1", household.household_id)
    assert (current["status"], current["card_account"], current["members"]) == ("returned", "6217000000000000999", 4)
    history = await db.fetch(
        "SELECT status, import_id FROM registry.household_status_history WHERE household_id = $1 ORDER BY id",
        household.household_id,
    )
    assert [h["status"] for h in history] == ["poor", "exited", "returned"]
    imports = await db.fetch(
        "SELECT imported, updated, unchanged, rejected FROM registry.household_imports WHERE id = ANY($1)",
        [h["import_id"] for h in history],
    )
    assert len(imports) == 3


async def test_project_manager_imports_only_inside_jurisdiction(
    admin: Api, make_principal: MakePrincipal, db: asyncpg.Pool
) -> None:
    mine, other = new_county(), new_county()
    manager = await make_principal("project_manager", mine)
    taken = row(other)
    assert (await import_csv(admin, csv_body(taken))).json()["imported"] == 1
    own = row(mine)
    hijack = row(mine, household_id=taken.household_id)  # registered in `other`: moving it needs that county
    response = await import_csv(manager, csv_body(own, row(other), hijack))
    assert response.status_code == 200, response.text
    assert response.json()["imported"] == 1
    assert [(r["line"], r["code"]) for r in response.json()["rejected"]] == [
        (3, codes.LINE_NOT_IN_JURISDICTION),
        (4, codes.LINE_NOT_IN_JURISDICTION),
    ]
    county = await db.fetchval(
        "SELECT county_code FROM registry.households WHERE household_id = $1", taken.household_id
    )
    assert county == other


async def test_roles_that_may_not_import_are_refused(make_principal: MakePrincipal) -> None:
    county = new_county()
    for role in ("finance", "lender", "inspector"):
        api = await make_principal(role, county)
        response = await import_csv(api, csv_body(row(county)))
        assert response.status_code == 403, (role, response.text)


async def test_rejected_list_is_capped_with_the_full_count(admin: Api) -> None:
    county = new_county()
    lines = [row(county, status="bogus") for _ in range(1205)]
    response = await import_csv(admin, csv_body(*lines, row(county)))
    body = response.json()
    assert response.status_code == 200
    assert body["rejected_count"] == 1205 and len(body["rejected"]) == 1000
    assert body["rejected"][0]["line"] == 2 and body["rejected"][-1]["line"] == 1001
    assert body["imported"] == 1


async def test_idempotent_replay_imports_once(admin: Api, db: asyncpg.Pool) -> None:
    county = new_county()
    body = csv_body(row(county), row(county))
    headers = {"content-type": "text/csv", "idempotency-key": f"imp-{county}"}
    first = await admin.post("/registry/households/import", content=body, headers=headers)
    second = await admin.post("/registry/households/import", content=body, headers=headers)
    assert first.status_code == second.status_code == 200
    assert second.json() == first.json()
    assert await db.fetchval("SELECT count(*) FROM registry.household_imports WHERE id = $1",
                             first.json()["import_id"]) == 1
    other = await admin.post("/registry/households/import", content=csv_body(row(county)), headers=headers)
    assert other.status_code == 409


async def test_city_manager_imports_any_county_of_its_city(make_principal: MakePrincipal) -> None:
    county = new_county()
    sibling = county[:4] + ("11" if county[4:] != "11" else "12")
    manager = await make_principal("project_manager", county[:4] + "00")
    outside = ("6" if county[0] != "6" else "7") + county[1:]
    response = await import_csv(manager, csv_body(row(county), row(sibling), row(outside)))
    assert response.status_code == 200, response.text
    assert response.json()["imported"] == 2
    assert [(r["line"], r["code"]) for r in response.json()["rejected"]] == [(4, codes.LINE_NOT_IN_JURISDICTION)]


async def test_a_file_of_several_chunks_finds_duplicates_and_changes_across_chunks(
    admin: Api, db: asyncpg.Pool
) -> None:
    """More lines than one COPY + merge chunk (importer.CHUNK_LINES): a household repeated in a later chunk is still
    refused as a duplicate of its first line, and bad lines keep their numbers on both sides of the boundary."""
    county = new_county()
    first = row(county)
    lines: list[str | Row] = [first, *(row(county).line() for _ in range(CHUNK_LINES + 500))]
    lines[10] = row(county, status="rich")  # line 12
    lines.append(row(county, household_id=first.household_id, status="exited"))  # in the second chunk
    lines.append(row(county, members="0"))
    response = await import_csv(admin, csv_body(*lines))
    assert response.status_code == 200, response.text
    body = response.json()
    last = len(lines) + 1
    assert [(r["line"], r["code"]) for r in body["rejected"]] == [
        (12, codes.INVALID_STATUS),
        (last - 1, codes.DUPLICATE_IN_FILE),
        (last, codes.INVALID_MEMBERS),
    ]
    assert "line 2" in body["rejected"][1]["detail"]
    assert body["imported"] == len(lines) - 3 and body["rejected_count"] == 3
    history = await db.fetch(
        "SELECT status FROM registry.household_status_history WHERE household_id = $1", first.household_id
    )
    assert history == []  # registered, never changed: the record holds its state
    changed = row(county, household_id=first.household_id, status="exited")  # now in the second chunk
    again = await import_csv(admin, csv_body(*lines[1:-2], changed))
    assert (again.json()["imported"], again.json()["updated"], again.json()["unchanged"]) == (0, 1, len(lines) - 4)
    history = await db.fetch(
        "SELECT status FROM registry.household_status_history WHERE household_id = $1 ORDER BY id", first.household_id
    )
    assert [r["status"] for r in history] == ["poor", "exited"]


async def test_each_check_on_both_sides_inside_a_large_batch(admin: Api, db: asyncpg.Pool) -> None:
    """Good lines around each bad one, in one network batch: the batch leaves the fast path and every line keeps its
    number and code; quoted fields, CRLF, a lower-case x, 29 February of a leap year and 12 fields are read."""
    county = new_county()
    filler = [row(county) for _ in range(300)]
    leap_day = row(county, head_id_number=id_number(county, birth="19840229"))
    good_quoted = row(county)
    wrong_check = row(county)
    wrong_check.head_id_number = wrong_check.head_id_number[:17] + (
        "0" if wrong_check.head_id_number[17] != "0" else "1"
    )
    specials: list[str | Row] = [
        leap_day,                                                               # 302 29 February 1984: kept
        row(county, head_id_number=id_number(county, birth="19850229")),       # 303 not a leap year
        row(county, head_id_number=id_number(county, birth="19840230")),       # 304 30 February
        good_quoted.line().replace("张三", '"张, 三"').replace(county + ",", f'"{county}",', 1),  # 305 kept
        wrong_check.line().replace("张三", '"李, 四"'),                          # 306 quoted, bad check digit
        wrong_check,                                                            # 307 bad check digit
        row(county).line() + ",extra",                                          # 308 ten fields
        row(county).line().rsplit(",", 1)[0],                                   # 309 eight fields
        row(county, card_account="６２１７000000000006"),                         # 310 full-width digits (S3)
        row(county, card_account="6217-0000-0006"),                             # 311 not digits
        row(county, card_account="6217000000000006"),                           # 312 kept
    ]
    lines = [*filler, *specials, *(row(county) for _ in range(300))]
    body = "\r\n".join([HEADER, *(x.line() if isinstance(x, Row) else x for x in lines)]).encode()
    response = await import_csv(admin, body)
    assert response.status_code == 200, response.text
    result = response.json()
    assert [(r["line"], r["code"]) for r in result["rejected"]] == [
        (303, codes.INVALID_ID_NUMBER),
        (304, codes.INVALID_ID_NUMBER),
        (306, codes.INVALID_ID_NUMBER),
        (307, codes.INVALID_ID_NUMBER),
        (308, codes.WRONG_FIELD_COUNT),
        (309, codes.WRONG_FIELD_COUNT),
        (310, codes.INVALID_CARD_ACCOUNT),
        (311, codes.INVALID_CARD_ACCOUNT),
    ]
    assert result["imported"] == len(lines) - 8
    stored = await db.fetch(
        "SELECT household_id, head_name FROM registry.households WHERE household_id = ANY($1)",
        [good_quoted.household_id, wrong_check.household_id, leap_day.household_id],
    )
    assert {(r["household_id"], r["head_name"]) for r in stored} == {
        (good_quoted.household_id, "张, 三"),
        (leap_day.household_id, "张三"),
    }


async def test_new_households_then_known_ones_in_a_later_chunk(admin: Api, db: asyncpg.Pool) -> None:
    """A first chunk of new households only (COPYed straight into the roster), then a chunk of new ones ending with
    known ones (its COPY refused by the primary key, so staged and merged): counts, the update and the status history
    are as for one merge."""
    county = new_county()
    known = [row(county) for _ in range(3)]
    assert (await import_csv(admin, csv_body(*known))).json()["imported"] == 3
    fresh = [row(county).line() for _ in range(CHUNK_LINES + 10)]
    known[0].status = "exited"
    known[1].members = "6"
    response = await import_csv(admin, csv_body(*fresh, *known))
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["imported"], body["updated"], body["unchanged"], body["rejected_count"]) == (
        CHUNK_LINES + 10, 2, 1, 0
    )
    history = await db.fetch(
        "SELECT household_id, status, import_id FROM registry.household_status_history WHERE household_id = ANY($1)"
        " ORDER BY household_id, id",
        [k.household_id for k in known],
    )
    # known[0] changed status: the state it was registered in (by the first import), then its exit; the others
    # changed no status (known[1] its members only): no history row
    first_import = await db.fetchval(
        "SELECT registered_import_id FROM registry.household_records WHERE household_id = $1", known[0].household_id
    )
    assert [(r["household_id"], r["status"], r["import_id"]) for r in history] == [
        (known[0].household_id, "poor", first_import), (known[0].household_id, "exited", body["import_id"])
    ]
    fresh = await db.fetchrow(
        "SELECT count(*) AS n, count(DISTINCT registered_line) AS lines, min(registered_line) AS first,"
        " bool_and(registered_on = updated_on AND import_id = registered_import_id) AS as_registered"
        " FROM registry.household_records WHERE county_code = $1 AND registered_import_id = $2",
        county, body["import_id"],
    )
    assert (fresh["n"], fresh["lines"], fresh["first"], fresh["as_registered"]) == (
        CHUNK_LINES + 10, CHUNK_LINES + 10, 2, True
    )


async def test_control_characters_are_refused_by_line_not_by_failing_the_file(admin: Api, db: asyncpg.Pool) -> None:
    """PostgreSQL text cannot hold NUL: a line with one used to fail the whole COPY. Now the line is refused with its
    code, on the fast path's batch and line by line alike; a name with an inner space or a Chinese comma is kept."""
    county = new_county()
    good = row(county, head_name="欧阳 小明")
    lines: list[str | Row] = [
        good,                                                       # 2 kept
        row(county, head_name="张\x00三"),                          # 3 NUL in the name
        row(county, card_account="6217\x00001"),                    # 4 NUL in the account
        row(county, head_name="张\t三"),                            # 5 tab
        row(county, head_name="张\x7f三"),                          # 6 DEL
        row(county, head_name="李，四"),                            # 7 kept: a full-width comma is a character
    ]
    response = await import_csv(admin, csv_body(*lines))
    assert response.status_code == 200, response.text
    body = response.json()
    assert [(r["line"], r["code"]) for r in body["rejected"]] == [
        (n, codes.CONTROL_CHARACTER) for n in (3, 4, 5, 6)
    ]
    assert body["imported"] == 2
    names = {r["head_name"] for r in await db.fetch(
        "SELECT head_name FROM registry.households WHERE county_code = $1", county)}
    assert names == {"欧阳 小明", "李，四"}


async def test_a_household_repeated_across_merged_chunks_is_refused_with_its_first_line(
    admin: Api, db: asyncpg.Pool
) -> None:
    """A re-import: the first chunk holds known households (staged and merged, not COPYed straight in), the second
    repeats the first line's household with another status. The repeat is refused as a duplicate of line 2 and
    changes nothing; the rest of the second chunk, all new, is imported."""
    county = new_county()
    known = [row(county) for _ in range(CHUNK_LINES)]
    assert (await import_csv(admin, csv_body(*known))).json()["imported"] == CHUNK_LINES
    repeat = row(county, household_id=known[0].household_id, status="not_poor")
    fresh = [row(county) for _ in range(20)]
    response = await import_csv(admin, csv_body(*known, *fresh[:10], repeat, *fresh[10:]))
    assert response.status_code == 200, response.text
    body = response.json()
    line = CHUNK_LINES + 10 + 2
    assert [(r["line"], r["code"]) for r in body["rejected"]] == [(line, codes.DUPLICATE_IN_FILE)]
    assert "line 2" in body["rejected"][0]["detail"]
    assert (body["imported"], body["updated"], body["unchanged"]) == (20, 0, CHUNK_LINES)
    assert await db.fetchval(
        "SELECT status FROM registry.households WHERE household_id = $1", known[0].household_id) == "poor"
    registered = await db.fetch(
        "SELECT registered_line FROM registry.household_records WHERE registered_import_id = $1 ORDER BY 1",
        body["import_id"],
    )
    assert [r["registered_line"] for r in registered] == [
        *range(CHUNK_LINES + 2, line), *range(line + 1, line + 11)
    ]


async def test_two_imports_of_the_same_households_at_once_count_each_once(admin: Api, db: asyncpg.Pool) -> None:
    """Two county systems send overlapping rosters at the same moment: the imports run one after the other (an
    advisory lock), so each household is registered once, by one of them, and the other sees it: 300 imported in all,
    100 changed, one record each, and a changed household's history is its registration state, then the change."""
    import asyncio

    county = new_county()
    households = [row(county) for _ in range(300)]
    first = csv_body(*households)
    for household in households[:100]:
        household.status = "exited"
    second = csv_body(*households)
    answers = await asyncio.gather(import_csv(admin, first), import_csv(admin, second))
    assert all(answer.status_code == 200 for answer in answers), [answer.text for answer in answers]
    bodies = [answer.json() for answer in answers]
    assert sum(body["imported"] for body in bodies) == 300
    assert sum(body["updated"] for body in bodies) == 100
    assert sum(body["unchanged"] for body in bodies) == 200
    assert await db.fetchval("SELECT count(*) FROM registry.households WHERE county_code = $1", county) == 300
    history = await db.fetch(
        "SELECT x.household_id, count(*) AS n, count(DISTINCT x.status) AS statuses"
        " FROM registry.household_status_history x JOIN registry.households h USING (household_id)"
        " WHERE h.county_code = $1 GROUP BY x.household_id",
        county,
    )
    assert len(history) == 100 and all((r["n"], r["statuses"]) == (2, 2) for r in history)


async def test_two_imports_changing_the_same_households_at_once_keep_one_history(
    admin: Api, db: asyncpg.Pool
) -> None:
    """Known households changed by two imports sent at the same moment (exited in one, not_poor in the other): the
    second compares with what the first wrote, so each history is the registration state once, then both changes;
    the record ends as the later import said."""
    import asyncio

    county = new_county()
    households = [row(county) for _ in range(100)]
    assert (await import_csv(admin, csv_body(*households))).json()["imported"] == 100
    for household in households:
        household.status = "exited"
    exited = csv_body(*households)
    for household in households:
        household.status = "not_poor"
    not_poor = csv_body(*households)
    answers = await asyncio.gather(import_csv(admin, exited), import_csv(admin, not_poor))
    assert [answer.json()["updated"] for answer in answers] == [100, 100], [answer.text for answer in answers]
    history = await db.fetch(
        "SELECT x.household_id, array_agg(x.status ORDER BY x.effective_on, x.id) AS statuses, max(h.status) AS now"
        " FROM registry.household_status_history x JOIN registry.households h USING (household_id)"
        " WHERE h.county_code = $1 GROUP BY x.household_id",
        county,
    )
    assert len(history) == 100
    assert {tuple(r["statuses"]) for r in history} <= {("poor", "exited", "not_poor"), ("poor", "not_poor", "exited")}
    assert len({tuple(r["statuses"]) for r in history}) == 1  # one order for all: one import, then the other
    assert {r["statuses"][-1] == r["now"] for r in history} == {True}  # the record is the later change
