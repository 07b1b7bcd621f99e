"""Test data for the registry: valid identity numbers, unique counties and households, CSV bodies."""

from __future__ import annotations

import itertools
import random
import uuid
from dataclasses import dataclass, fields

from services.kernel.types import id_number_check_char

HEADER = "household_id,head_id_number,head_name,county_code,village_code,status,members,village_cadre,card_account"
_counties = itertools.count(random.randrange(1000, 8000))


def new_county() -> str:
    """A county code unused by any other test of this session (province 5x, never ending in 00)."""
    n = next(_counties)
    return f"5{n // 100 % 10}{n // 10 % 10}{n % 10}{random.randrange(1, 10)}{random.randrange(1, 10)}"


def new_household_id() -> str:
    return f"hh-{uuid.uuid4().hex[:16]}"


def id_number(county: str, birth: str = "19800101", serial: int | None = None) -> str:
    first17 = f"{county}{birth}{serial if serial is not None else random.randrange(0, 1000):03d}"
    return first17 + id_number_check_char(first17)


@dataclass
class Row:
    household_id: str
    head_id_number: str
    head_name: str
    county_code: str
    village_code: str
    status: str = "poor"
    members: str = "3"
    village_cadre: str = "0"
    card_account: str = "6217000000000000001"

    def line(self) -> str:
        return ",".join(str(getattr(self, f.name)) for f in fields(self))


def row(county: str, **overrides: str) -> Row:
    base = Row(
        household_id=new_household_id(),
        head_id_number=id_number(county),
        head_name="张三",
        county_code=county,
        village_code=county + "101001",
    )
    for key, value in overrides.items():
        setattr(base, key, value)
    return base


def csv_body(*lines: str | Row, header: str = HEADER, bom: bool = False) -> bytes:
    text = "\n".join([header, *(x.line() if isinstance(x, Row) else x for x in lines)]) + "\n"
    return (("\ufeff" if bom else "") + text).encode()
