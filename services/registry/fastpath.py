"""The import's fast path: a whole batch of lines checked at once, with C-level loops (one regular expression over
the batch, then `map` over its matches), for the common case of a batch where every line is good. It answers only
"every line is good: here are their staging records", or None: the batch then goes line by line through the rules
(rules.py), which are the definition; this path must never accept a line they would refuse (tests/registry/
test_fastpath.py compares the two)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from itertools import repeat
from operator import mod

from services.kernel.types import ID_CHECK

# The weighted sum of GB 11643 (weights 2^(17-i) mod 11) is 2 × (the 17 digits read in base 13) mod 11, since
# 13 ≡ 2 (mod 11): one int() call per identity number. EXPECTED[int(first17, 13) % 11] is its check character.
EXPECTED = tuple(ID_CHECK[2 * r % 11] for r in range(11))
EARLIEST_BIRTH = date(1900, 1, 1)

# One good line, in the strictest form its rules accept: no quote (a quoted line is read by the csv module), no
# space or other whitespace around a field (so trimming changes nothing), no control character, an upper-case X
# check character (stored as is). A batch reaches it without carriage returns (checked_batch). Groups: the household
# id, the first 17 digits of the identity number, the birth date in them, its check character, the county code (the
# village code must start with it). The whole line is not a group: findall would copy every line once more.
LINE = (
    r"^([0-9A-Za-z._-]{{1,64}}),"
    r"([0-9]{{6}}([0-9]{{8}})[0-9]{{3}})([0-9X]),"
    r"[^,\"\s\x00-\x1f\x7f](?:[^,\"\x00-\x1f\x7f]{{0,98}}[^,\"\s\x00-\x1f\x7f])?,"
    r"(?![0-9]{{4}}00)([0-9]{{6}}),"
    r"(?={prefix})\5[0-9]{{6}},"
    r"(?:poor|exited|returned|not_poor),"
    r"[1-9][0-9]?,"
    r"[01],"
    r"[0-9]{{1,64}}$"
)


@lru_cache(maxsize=64)
def line_pattern(prefix: str) -> re.Pattern[str]:
    """The pattern of a good line for a principal whose jurisdiction is `prefix` (the village code starts with it)."""
    return re.compile(LINE.format(prefix=re.escape(prefix)), re.MULTILINE)


@lru_cache(maxsize=4)
def birth_dates(today: date) -> frozenset[str]:
    """Every possible birth date (YYYYMMDD) from 1900-01-01 to `today`: one set lookup per line."""
    days = (today - EARLIEST_BIRTH).days + 1
    return frozenset((EARLIEST_BIRTH + timedelta(days=n)).strftime("%Y%m%d") for n in range(days))


@dataclass
class Good:
    """A batch whose every line is good: their household ids and staging records (`number,line`)."""

    household_ids: tuple[str, ...]
    records: str


def checked_batch(first: int, data: bytes, *, prefix: str, today: date) -> Good | None:
    """The staging records of a batch of lines numbered from `first` when every one of them is good, else None."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if "\r" in text:  # CRLF lines: a carriage return anywhere else is the rules' to judge
        text = text.replace("\r\n", "\n").removesuffix("\r")
        if "\r" in text:
            return None
    matches = line_pattern(prefix).findall(text)
    lines = text.split("\n")
    if len(matches) != len(lines):
        return None  # a line that is not in the strict form (or a blank one): the batch goes line by line
    household_ids, first17, births, checks, _ = zip(*matches, strict=True)
    if not birth_dates(today).issuperset(births):
        return None
    if tuple(map(EXPECTED.__getitem__, map(mod, map(int, first17, repeat(13)), repeat(11)))) != checks:
        return None
    records = "".join(map("{},{}\n".format, range(first, first + len(lines)), lines))
    return Good(household_ids, records)
