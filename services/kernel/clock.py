"""The one clock of FundTrack: "today" is the date in China, where the money moves and the rules count days
(P1's announcement period, a loan's days past due, F3's idle days), whatever timezone the host runs in.
Our hosts run in UTC, whose date lags China's from 16:00 to 24:00 UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")


def utc_now() -> datetime:
    """The moment now (aware); the one place the system clock is read, so a test can stand it still."""
    return datetime.now(UTC)


def now() -> datetime:
    """The moment now in China time (aware): the daily detector hour is an hour of this clock."""
    return utc_now().astimezone(CHINA)


def today() -> date:
    """The date in China: the default date of a record posted without one and of a report's `as_of`."""
    return now().date()
