"""The region arithmetic lives in services/kernel/regions.py and the jurisdiction seams in services/kernel/scope.py
(issue #12, point 5): the helpers the services call instead of slicing codes by hand."""

from __future__ import annotations

import pytest

from services.kernel.errors import NotInJurisdiction
from services.kernel.identity import Principal
from services.kernel.regions import county_of, enclosing_prefixes, in_county, under
from services.kernel.scope import check_covers_any, public_prefix
from services.kernel.types import check_village_code


def test_a_village_lies_in_the_county_its_code_starts_with() -> None:
    assert county_of("430523101001") == "430523"
    assert in_county("430523101001", "430523")
    assert not in_county("430524101001", "430523")


def test_a_village_code_must_start_with_a_county_s_code() -> None:
    assert check_village_code("430523101001") == "430523101001"
    for city_or_province in ("430500101001", "430000101001", "000000101001"):
        with pytest.raises(ValueError):
            check_village_code(city_or_province)


def test_under_a_prefix() -> None:
    assert under("430523101001", "4305") and under("430523", "") and not under("520121", "43")


@pytest.mark.parametrize(("prefix", "levels"), [
    ("", ("",)),
    ("43", ("", "43")),
    ("4305", ("", "43", "4305")),
    ("430523", ("", "43", "4305", "430523")),
    ("430523101001", ("", "43", "4305", "430523")),  # a village's stops at its county
    ("435", ("", "43")),  # between levels: the level above
])
def test_enclosing_prefixes_go_from_the_country_down(prefix: str, levels: tuple[str, ...]) -> None:
    assert enclosing_prefixes(prefix) == levels


def test_a_public_list_covers_the_region_asked_for_or_the_country() -> None:
    assert public_prefix(None) == ""
    assert public_prefix("430523") == "430523"
    assert public_prefix("430500") == "4305"


def principal(region_code: str) -> Principal:
    return Principal(id="k", role="finance", region_code=region_code)


def test_covering_any_of_the_regions_is_enough() -> None:
    check_covers_any(principal("430523"), ["430000", "430523"], subject="allocation a1")
    with pytest.raises(NotInJurisdiction) as refused:
        check_covers_any(principal("520121"), ["430000", "430523"], subject="allocation a1")
    assert "allocation a1" in str(refused.value)
