"""Region codes (GB/T 2260) and the jurisdictions they make: the one place a code's level and a jurisdiction's
prefix are read from the digits. `000000` is the centre, `PP0000` a province, `PPCC00` a city, anything else of
six digits a county; a 12-digit village code starts with its county's code."""

from __future__ import annotations

from typing import Literal

Level = Literal["central", "province", "city", "county"]
NATIONAL = "000000"
# The lengths of a jurisdiction's prefix, from the country down: '', province PP, city PPCC, county PPCCXX.
PREFIX_LENGTHS = (0, 2, 4, 6)


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


def county_of(village_code: str) -> str:
    """The county a 12-digit village code lies in: its first six digits (which a valid village code has as a
    county's code: `check_village_code`)."""
    return village_code[:6]


def in_county(village_code: str, county_code: str) -> bool:
    """Does the village code lie in this county (start with its code)?"""
    return village_code.startswith(county_code)


def under(region_code: str, prefix: str) -> bool:
    """Does a region code (six or twelve digits) lie under a jurisdiction's prefix (`jurisdiction_prefix`)?"""
    return region_code.startswith(prefix)


def enclosing_prefixes(prefix: str) -> tuple[str, ...]:
    """The jurisdiction prefixes from the country down to the level of `prefix`, its own included:
    '430523' → ('', '43', '4305', '430523'); '43' → ('', '43'); '' → (''); a village's stops at its county's, and a
    prefix between levels at the level above it."""
    return tuple(dict.fromkeys(prefix[:n] for n in PREFIX_LENGTHS if n <= len(prefix)))


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
    return under(region_code, jurisdiction_prefix(jurisdiction))


def common_region(region_codes: list[str]) -> str:
    """The smallest region covering every code given (counties, cities, provinces, villages by their county): the
    county, its city, its province, or the centre."""
    codes = [c[:6] for c in region_codes]
    for keep, pad in ((6, ""), (4, "00"), (2, "0000")):
        if len({c[:keep] for c in codes}) == 1:
            return codes[0][:keep] + pad
    return NATIONAL
