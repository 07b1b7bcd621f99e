"""How the console shows what the API keeps: amounts in 元 with thousands separators (the API keeps fen), times as
the China calendar day (UTC+8, no daylight saving)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

CHINA = timezone(timedelta(hours=8), "CST")


def yuan(fen: int | None) -> str:
    """12345678 fen → '123,456.78' (exact: integer arithmetic, never a float)."""
    if fen is None:
        return "—"
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(int(fen)), 100)
    return f"{sign}{whole:,}.{cents:02d}"


def china_day(value: str | datetime | date | None) -> str:
    """An instant (ISO text or datetime) as its day in China; a date as itself."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        text = value
        try:
            value = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return text
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(CHINA).date().isoformat()
    return value.isoformat()


def china_time(value: str | datetime | None) -> str:
    """An instant as 'YYYY-MM-DD HH:MM' in China."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        text = value
        try:
            value = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return text
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


def today_in_china() -> date:
    return datetime.now(CHINA).date()
