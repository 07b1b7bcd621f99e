"""Least privilege for every role, admins included (A5; S1, S2 of SECURITY.md): a principal acts only on what its
jurisdiction covers. Pure checks, raised as 403 NOT_IN_JURISDICTION naming the field that was out of reach."""

from __future__ import annotations

from services.kernel.errors import NotInJurisdiction
from services.kernel.identity import Principal

NATIONAL = "000000"
S1 = "S1"  # admin actions stay inside the admin's jurisdiction; national ones need a national admin


def check_covers(principal: Principal, region_code: str, *, field: str) -> None:
    """S1: `region_code` lies inside the principal's jurisdiction. A region the principal covers is never wider than
    its own (a 430000 principal covers 430523, not 000000 nor 520121), so this also keeps an admin from issuing a
    key wider than its own."""
    if not principal.covers(region_code):
        raise NotInJurisdiction(
            f"{region_code} 不在管辖范围 {principal.region_code} 内 / {region_code} is outside your jurisdiction "
            f"{principal.region_code}",
            field=field,
            rule=S1,
        )


def check_national(principal: Principal, *, field: str, what: str) -> None:
    """S1: national reference data (fund sources…) is kept by a principal of the central level (000000) only."""
    if principal.region_code != NATIONAL:
        raise NotInJurisdiction(
            f"只有中央级（000000）主体可以修改全国参考数据 / only a national (000000) principal maintains national "
            f"reference data ({what})",
            field=field,
            rule=S1,
        )
