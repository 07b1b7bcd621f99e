"""Least privilege for every role, admins included (A5; S1, S2 of SECURITY.md): a principal acts only on what its
jurisdiction covers. The two seams every service uses, so jurisdiction is applied in one place:

- `check_covers`: "the principal must cover this region", raised as 403 NOT_IN_JURISDICTION naming the field;
- `check_covers_any`: the same for a subject spread over several regions (money that passed through them);
- `scope_prefix` and `within`: the region filter of a list — the region asked for (inside the caller's
  jurisdiction) or the caller's own, as a prefix, and the SQL condition that keeps a list inside it (`in_region`
  on a column of six-character codes, where a county's prefix is an equality an index serves in id order);
  `within_reach` is the same filter for the lists that answer a region outside the caller's reach with no rows
  rather than a refusal (the audit trail, alerts); `public_prefix` is the filter of a public list (no principal).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement
from sqlalchemy.orm import Mapped

from services.kernel.errors import NotInJurisdiction
from services.kernel.identity import Principal
from services.kernel.regions import NATIONAL, jurisdiction_prefix

S1 = "S1"  # admin actions stay inside the admin's jurisdiction; national ones need a national admin
A5 = "A5"  # least privilege: every role reads and writes inside its jurisdiction only


def check_covers(
    principal: Principal, region_code: str, *, field: str | None = None, subject: str | None = None, rule: str = A5
) -> None:
    """`region_code` lies inside the principal's jurisdiction. A region the principal covers is never wider than
    its own (a 430000 principal covers 430523, not 000000 nor 520121), so this also keeps an admin from issuing a
    key wider than its own (S1). `subject` names what is out of reach in the answer (a project, a loan…); the
    region code is named when it is not given."""
    if not principal.covers(region_code):
        what = subject or region_code
        raise NotInJurisdiction(
            f"{what} 不在管辖范围 {principal.region_code} 内 / {what} is outside your jurisdiction "
            f"{principal.region_code}",
            field=field,
            rule=rule,
        )


def check_covers_any(principal: Principal, region_codes: Sequence[str], *, subject: str, field: str | None = None,
                     rule: str = A5) -> None:
    """One of `region_codes` (not empty) lies inside the principal's jurisdiction: a subject that spans regions (an
    allocation from a province to a county, a payee paid in two counties) is the caller's if one of them is. The
    refusal names the subject, as check_covers does."""
    check_covers(principal, next((r for r in region_codes if principal.covers(r)), region_codes[0]), field=field,
                 subject=subject, rule=rule)


def check_national(principal: Principal, *, field: str, what: str) -> None:
    """S1: national reference data (fund sources…) is kept by a principal of the central level (000000) only."""
    if principal.region_code != NATIONAL:
        raise NotInJurisdiction(
            f"只有中央级（000000）主体可以修改全国参考数据 / only a national (000000) principal maintains national "
            f"reference data ({what})",
            field=field,
            rule=S1,
        )


def scope_prefix(principal: Principal, region: str | None, *, field: str = "region") -> str:
    """The region a list or report covers, as a prefix: the one asked for (which the caller must cover) or, when
    none is asked for, the caller's whole jurisdiction."""
    if region is None:
        return principal.region_prefix
    check_covers(principal, region, field=field)
    return jurisdiction_prefix(region)


def public_prefix(region: str | None) -> str:
    """The region a public list covers (no principal narrows it), as a prefix: the one asked for, or the country."""
    return "" if region is None else jurisdiction_prefix(region)


def within(column: ColumnElement[str] | Mapped[str], prefix: str) -> ColumnElement[bool]:
    """The SQL condition that keeps rows whose region `column` lies under `prefix` (an index on the column with
    `text_pattern_ops` serves it). A prefix is ASCII digits (S3): nothing in it needs escaping."""
    return column.startswith(prefix)


def in_region(column: ColumnElement[str] | Mapped[str], prefix: str) -> ColumnElement[bool]:
    """`within` on a six-character region column: a county's prefix is the whole code, asked as an equality, so an
    index on (the column, id) gives the county's rows in id order (a prefix range does not), in the generic plan of a
    prepared statement too (which can use no index for `LIKE $1 || '%'`)."""
    return column == prefix if len(prefix) == 6 else within(column, prefix)


def within_reach(
    column: ColumnElement[str] | Mapped[str], principal: Principal, region: str | None = None
) -> list[ColumnElement[bool]]:
    """The region filter of a list that narrows instead of refusing, as conditions to AND: rows inside the caller's
    jurisdiction and, when a region is asked for, inside that region too, so a region out of reach lists nothing
    (the convention of the audit trail and alerts lists, tests/platform/test_policy_matrix.py). The whole country
    is no condition."""
    prefixes = [principal.region_prefix, *([] if region is None else [jurisdiction_prefix(region)])]
    return [within(column, prefix) for prefix in prefixes if prefix]
