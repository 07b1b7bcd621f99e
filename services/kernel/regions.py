"""Region codes (GB/T 2260) and the jurisdictions they make: the one place a code's level and a jurisdiction's
prefix are read from the digits. `000000` is the centre, `PP0000` a province, `PPCC00` a city, anything else of
six digits a county; a 12-digit village code starts with its county's code."""

from __future__ import annotations

from typing import Literal

Level = Literal["central", "province", "city", "county"]
NATIONAL = "000000"


def region_level(code: str) -> Level:
    """The level of a six-digit region code."""
    if code == NATIONAL:
        return "central"
    if code.endswith("0000"):
        return "province"
    if code.endswith("00"):
        return "city"
    return "county"


def is_county(code: str) -> bool:
    return len(code) == 6 and region_level(code) == "county"


def jurisdiction_prefix(region_code: str) -> str:
    """The prefix of region codes a jurisdiction covers (DOMAIN.md "Who uses the system").

    `000000` → '' (everything); `430000` → '43'; `430500` → '4305'; `430523` → '430523';
    a 12-digit village code covers itself only.
    """
    if len(region_code) != 6:
        return region_code
    return {"central": "", "province": region_code[:2], "city": region_code[:4], "county": region_code}[
        region_level(region_code)
    ]


def covers(jurisdiction: str, region_code: str) -> bool:
    """Does a principal with this jurisdiction cover `region_code` (a province, city, county or village)?"""
    return region_code.startswith(jurisdiction_prefix(jurisdiction))
