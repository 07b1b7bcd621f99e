"""The import's fast path (a batch checked at once) against the rules (line by line): it may leave a good line to
the rules, never accept a line they refuse, and its staging record is the rules' record."""

from __future__ import annotations

import random
from datetime import date

from services.registry.csvstream import split_fields, staging_record
from services.registry.fastpath import checked_batch
from services.registry.rules import accepted
from tests.registry.factory import id_number, row

TODAY = date(2024, 6, 1)


def slow_record(number: int, line: str, prefix: str) -> str | None:
    fields = split_fields(line)
    if not isinstance(fields, list) or accepted(number, fields, prefix, TODAY) is None:
        return None
    return staging_record(number, fields, plain='"' not in line)


def variants(rng: random.Random) -> list[str]:
    good = row("430523").line()
    number = id_number("430523", birth="19800229", serial=rng.randrange(1000))
    edits = [
        good,
        good + "\r",
        good + "\r\r",
        good.replace("张三", "张 三"),
        good.replace("张三", " 张三"),
        good.replace("张三", "张三\u3000"),
        good.replace("张三", '"张三"'),
        good.replace("张三", "张\r三"),
        good.replace("张三", "名" * 100),
        good.replace("张三", "名" * 101),
        good.replace(",poor,", ",Poor,"),
        good.replace(",poor,", ",not_poor,"),
        good.replace(",3,0,", ",03,0,"),
        good.replace(",3,0,", ",99,1,"),
        good.replace(",3,0,", ",100,0,"),
        good.replace(",3,0,", ",٣,0,"),
        good.replace(",3,0,", ",3,2,"),
        good.replace("430523101001", "430524101001"),
        good.replace("430523101001", "43052310100"),
        good.replace(",430523,", ",430500,").replace("430523101001", "430500101001"),
        good.rsplit(",", 1)[0] + ",6217" + "0" * 60,
        good.rsplit(",", 1)[0] + ",6217" + "0" * 61,
        good.rsplit(",", 1)[0] + ",６２１７000000000006",
        good.rsplit(",", 1)[0] + ",6217-0000-0000",
        good.rsplit(",", 1)[0] + ", 6217000000000006",
        good.rsplit(",", 1)[0] + ",",
        good + ",extra",
        good.rsplit(",", 1)[0],
        good.replace(good.split(",")[1], number),
        good.replace(good.split(",")[1], number[:6] + "19800230" + number[14:]),
        good.replace(good.split(",")[1], number[:6] + "20240602" + number[14:]),
        good.replace(good.split(",")[1], number[:6] + "18991231" + number[14:]),
        "hh-1" + good[good.index(","):],
        "中文" + good[good.index(","):],
        "a" * 65 + good[good.index(","):],
        "",
    ]
    first17 = good.split(",")[1][:17]
    edits += [good.replace(good.split(",")[1], first17 + check) for check in "0123456789Xx"]
    edits += [good.replace(good.split(",")[1], "٤" + first17[1:] + good.split(",")[1][17])]
    return edits


def test_the_fast_path_accepts_only_what_the_rules_accept_with_the_same_record() -> None:
    rng = random.Random(5)
    fast_accepted = 0
    for _ in range(30):
        for line in variants(rng):
            for prefix in ("", "4305", "430523101001", "4306"):
                good = checked_batch(7, line.encode(), prefix=prefix, today=TODAY)
                expected = slow_record(7, line, prefix)
                if good is not None:
                    fast_accepted += 1
                    assert expected is not None, (line, prefix)
                    assert good.records == expected and good.household_ids == (line.split(",")[0],), line
    assert fast_accepted > 30 * 10  # the common forms do take the fast path


def test_a_batch_is_fast_only_when_every_line_is_good() -> None:
    lines = [row("430523").line() for _ in range(5)]
    good = checked_batch(10, "\r\n".join(lines).encode(), prefix="", today=TODAY)
    assert good is not None
    assert good.records == "".join(f"{10 + i},{line}\n" for i, line in enumerate(lines))
    bad = [*lines[:2], row("430523", status="rich").line(), *lines[3:]]
    assert checked_batch(10, "\n".join(bad).encode(), prefix="", today=TODAY) is None
    assert checked_batch(10, ("\n".join(lines) + "\n").encode(), prefix="", today=TODAY) is None  # a blank line
    assert checked_batch(10, "\n".join(lines).encode()[:-1] + b"\xff", prefix="", today=TODAY) is None


def test_carriage_returns_only_before_a_newline_take_the_fast_path() -> None:
    lines = [row("430523").line() for _ in range(4)]
    crlf = checked_batch(3, ("\r\n".join(lines) + "\r").encode(), prefix="", today=TODAY)
    assert crlf is not None and crlf.records == "".join(f"{3 + i},{line}\n" for i, line in enumerate(lines))
    inner = [*lines[:2], lines[2].replace("张三", "张\r三"), lines[3]]
    assert checked_batch(3, "\r\n".join(inner).encode(), prefix="", today=TODAY) is None
    doubled = [*lines[:2], lines[2] + "\r", lines[3]]
    assert checked_batch(3, "\r\n".join(doubled).encode(), prefix="", today=TODAY) is None

