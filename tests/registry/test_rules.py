"""The line checks and the stream splitter, without a database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

from services.registry import codes
from services.registry.csvstream import BATCH_BYTES, MAX_LINE_BYTES, physical_lines, split_fields
from services.registry.rules import (
    HEADER,
    HouseholdLine,
    check_line,
    header_problem,
    import_lock_scopes,
    ineligibility,
)
from tests.registry.factory import id_number, row

TODAY = date(2024, 6, 1)


def fields_of(**overrides: str) -> list[str]:
    return row("430523", **overrides).line().split(",")


def code_of(fields: list[str], prefix: str = "") -> str:
    result = check_line(7, fields, prefix=prefix, today=TODAY)
    assert len(result) == 2, result
    return str(result[0])


def test_a_good_line_becomes_a_staging_row() -> None:
    result = HouseholdLine(*check_line(2, fields_of(members="4", village_cadre="1"), prefix="4305", today=TODAY))
    assert (result.line, result.members, result.village_cadre, result.status) == (2, 4, True, "poor")


def test_each_bad_field_has_its_code() -> None:
    number = id_number("430523")
    wrong_check = number[:17] + ("1" if number[17] != "1" else "2")
    assert code_of(fields_of(head_id_number=wrong_check)) == codes.INVALID_ID_NUMBER
    assert code_of(fields_of(head_id_number=id_number("430523", birth="19990229"))) == codes.INVALID_ID_NUMBER
    assert code_of(fields_of(head_id_number=id_number("430523", birth="20240602"))) == codes.INVALID_ID_NUMBER
    assert code_of(fields_of(head_id_number="43052319800101001")) == codes.INVALID_ID_NUMBER
    assert code_of(fields_of(county_code="430500", village_code="430500101001")) == codes.INVALID_REGION
    assert code_of(fields_of(county_code="43052a")) == codes.INVALID_REGION
    assert code_of(fields_of(village_code="43052410100")) == codes.INVALID_REGION
    assert code_of(fields_of(village_code="430524101001")) == codes.INVALID_REGION
    assert code_of(fields_of(status="Poor")) == codes.INVALID_STATUS
    for members in ("0", "-1", "+2", "2.5", "100", "٣"):
        assert code_of(fields_of(members=members)) == codes.INVALID_MEMBERS, members
    for flag in ("2", "true", "Y"):
        assert code_of(fields_of(village_cadre=flag)) == codes.INVALID_CADRE_FLAG
    assert code_of(fields_of(head_name="")) == codes.MISSING_FIELD
    assert code_of(fields_of(card_account="1" * 65)) == codes.FIELD_TOO_LONG
    assert code_of(fields_of(household_id="中文")) == codes.INVALID_HOUSEHOLD_ID
    assert code_of(fields_of()[:8]) == codes.WRONG_FIELD_COUNT
    assert code_of(fields_of(), prefix="4306") == codes.LINE_NOT_IN_JURISDICTION
    assert len(check_line(2, fields_of(), prefix="43", today=TODAY)) == len(HouseholdLine._fields)


def test_header_must_match_exactly() -> None:
    assert header_problem(list(HEADER)) is None
    assert header_problem(list(HEADER[:-1])) is not None
    assert header_problem([h.upper() for h in HEADER]) is not None


def test_split_fields_trims_and_reads_quotes() -> None:
    assert split_fields(" a , b ,c\r") == ["a", "b", "c"]
    assert split_fields('a,"b, c",d') == ["a", "b, c", "d"]
    problem = split_fields('a,"b')
    assert isinstance(problem, tuple) and problem[0] == codes.MALFORMED_LINE


async def chunks_of(*chunks: bytes) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


async def test_lines_are_numbered_across_chunks_and_long_lines_are_cut() -> None:
    long_line = b"x" * (MAX_LINE_BYTES * 3)
    stream = chunks_of(b"h1\nab", b"c\n", long_line[:5000], long_line[5000:], b"\nlast\n\xff\xfe\nend")
    lines = [line async for batch in physical_lines(stream) for line in batch]
    assert [number for number, _ in lines] == [1, 2, 3, 4, 5, 6]
    assert lines[0][1] == "h1" and lines[1][1] == "abc" and lines[3][1] == "last" and lines[5][1] == "end"
    assert isinstance(lines[2][1], tuple) and lines[2][1][0] == codes.LINE_TOO_LONG
    assert isinstance(lines[4][1], tuple) and lines[4][1][0] == codes.INVALID_ENCODING


async def test_a_large_chunk_is_cut_into_batches_of_whole_lines() -> None:
    """A megabyte received at once becomes batches of about BATCH_BYTES, whole lines each, numbered on; a line longer
    than a batch (within one chunk) is its own batch."""
    body = [f"line {n:06d} " + "y" * (n % 50) for n in range(2, 20_000)]
    long_line = "z" * (BATCH_BYTES + 100)
    data = "\n".join(["header", *body[:100], long_line, *body[100:]]).encode() + b"\n"
    batches = [batch async for batch in physical_lines(chunks_of(data[:700_000], data[700_000:]))]
    assert len(batches) > len(data) // BATCH_BYTES
    assert all(len(batch.data) <= BATCH_BYTES for batch in batches if long_line.encode() not in batch.data)
    lines = [line for batch in batches for line in batch]
    assert [number for number, _ in lines] == list(range(1, len(body) + 3))
    assert [text for _, text in lines[1:101]] == body[:100] and [text for _, text in lines[102:]] == body[100:]
    assert isinstance(lines[101][1], tuple) and lines[101][1][0] == codes.LINE_TOO_LONG


def test_fast_id_check_agrees_with_the_kernel_check() -> None:
    """The import's fast path must accept exactly what GB 11643 (services.kernel.types) accepts."""
    import random

    from services.registry.rules import id_number_ok, id_number_problem

    rng = random.Random(11643)
    samples = [id_number("430523", birth=f"{rng.randrange(1890, 2030)}{rng.randrange(0, 14):02d}"
                         f"{rng.randrange(0, 33):02d}", serial=rng.randrange(1000)) for _ in range(3000)]
    samples += [s[:17] + rng.choice("0123456789Xx") for s in samples[:3000]]
    samples += ["", "4305231980010100", "43052319800101001X1", "٤30523198001010012", "43052319800101001x"]
    for value in samples:
        assert id_number_ok(value, TODAY) == (id_number_problem(value, TODAY) is None), value


def test_ineligibility_is_the_one_definition_of_who_may_receive_support() -> None:
    """L1, P3, F10: poor, exited and returned households without a village cadre are eligible; every other case
    says every reason, in a fixed order."""
    for status in ("poor", "exited", "returned"):
        assert ineligibility(status, False) == []
        assert ineligibility(status, True) == [codes.VILLAGE_CADRE]
    assert ineligibility("not_poor", False) == [codes.NOT_POOR]
    assert ineligibility("not_poor", True) == [codes.NOT_POOR, codes.VILLAGE_CADRE]
    assert ineligibility(None, False) == [codes.NOT_REGISTERED]


def test_import_lock_scopes_go_from_the_country_down_to_the_import_s_own() -> None:
    """S12: shared locks on the regions above, an exclusive one on its own; a village's import locks its county."""
    assert import_lock_scopes("430523") == (("", "43", "4305"), "430523")
    assert import_lock_scopes("430523101001") == (("", "43", "4305"), "430523")
    assert import_lock_scopes("4305") == (("", "43"), "4305")
    assert import_lock_scopes("43") == (("",), "43")
    assert import_lock_scopes("") == ((), "")
    # two counties share only shared locks; a county and its province meet on the province's
    county, other = import_lock_scopes("430523"), import_lock_scopes("431023")
    assert county[1] != other[1] and county[1] not in other[0] and other[1] not in county[0]
    assert import_lock_scopes("43")[1] in county[0]
