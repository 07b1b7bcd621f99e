"""What a person types as an amount in 元, as the API keeps it: integer fen, exactly (Decimal, never a float)."""

from __future__ import annotations

import re
from decimal import Decimal

# Digits with an optional point and one or two decimals, after the thousands separators a person may type.
_YUAN = re.compile(r"^[0-9]+(?:\.[0-9]{1,2})?$")
_SEPARATORS = str.maketrans("", "", ", ，\u00a0")


BIGINT_MAX = 2**63 - 1  # the API keeps fen as BIGINT


class AmountError(ValueError):
    """An amount the form refuses before the API sees it: the message says what to type instead."""


def fen_of_yuan(text: str, *, zero_allowed: bool = False) -> int:
    """'1,234.5' → 123450. More than two decimals, a sign, an exponent, underscores or more than 16 digits are
    refused, and zero unless `zero_allowed`. The console's one reading of an amount (every desk's forms)."""
    cleaned = text.strip().translate(_SEPARATORS)
    if len(cleaned) > 20:  # longer than the largest BIGINT of fen (92233720368547758.07): refused before Decimal
        cleaned = "x"
    if not _YUAN.match(cleaned):
        raise AmountError(
            f"金额须为以元为单位的正数，最多两位小数（如 1234.56）/ an amount in yuan, at most two decimals "
            f"(e.g. 1234.56), not {text.strip()[:40]!r}"
        )
    fen = int(Decimal(cleaned) * 100)
    if fen > BIGINT_MAX:
        raise AmountError(f"金额过大 / the amount is too large, not {text.strip()[:40]!r}")
    if fen < 0 or (fen == 0 and not zero_allowed):
        raise AmountError("金额须大于零 / the amount must be more than zero")
    return fen

