""""Today" is the date in China (services/kernel/clock.py), on both sides of 16:00 UTC, whatever the host's timezone;
the daily detector run waits for its hour in China and scans as of that day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from services.kernel import clock, scheduler
from services.kernel.alerts import DetectorRegistry


class StoodStill:
    """A clock a test sets; sleeping on it moves it on."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def utc_now(self) -> datetime:
        return self.moment

    async def sleep(self, seconds: float) -> None:
        self.moment += timedelta(seconds=seconds)


def stand_still(monkeypatch: pytest.MonkeyPatch, moment: datetime) -> StoodStill:
    stood = StoodStill(moment)
    monkeypatch.setattr(clock, "utc_now", stood.utc_now)
    return stood


def test_today_is_the_next_day_in_china_from_16_00_utc(monkeypatch: pytest.MonkeyPatch) -> None:
    stand_still(monkeypatch, datetime(2026, 3, 1, 17, 0, tzinfo=UTC))
    assert clock.today() == date(2026, 3, 2)
    assert clock.now() == datetime(2026, 3, 2, 1, 0, tzinfo=clock.CHINA)
    stand_still(monkeypatch, datetime(2026, 3, 1, 16, 0, tzinfo=UTC))
    assert clock.today() == date(2026, 3, 2)


def test_today_is_the_same_day_in_china_before_16_00_utc(monkeypatch: pytest.MonkeyPatch) -> None:
    stand_still(monkeypatch, datetime(2026, 3, 1, 15, 0, tzinfo=UTC))
    assert clock.today() == date(2026, 3, 1)
    assert clock.now() == datetime(2026, 3, 1, 23, 0, tzinfo=clock.CHINA)
    stand_still(monkeypatch, datetime(2026, 3, 1, 15, 59, 59, 999_999, tzinfo=UTC))
    assert clock.today() == date(2026, 3, 1)


class Scanned(BaseException):
    """Ends run_daily's endless loop after its first scan (an Exception would be logged and the loop go on)."""


@pytest.mark.parametrize(
    ("utc", "waited_hours"),
    [
        (datetime(2026, 3, 1, 15, 0, tzinfo=UTC), 3),  # 23:00 on 1 March in China: 02:00 is 3 hours away
        (datetime(2026, 3, 1, 17, 0, tzinfo=UTC), 1),  # 01:00 on 2 March in China: 02:00 is 1 hour away
    ],
)
async def test_the_daily_run_waits_for_the_hour_in_china_and_scans_as_of_that_day(
    monkeypatch: pytest.MonkeyPatch, utc: datetime, waited_hours: int
) -> None:
    stood = stand_still(monkeypatch, utc)
    scanned: list[date] = []

    async def daily_scan(state: Any, registry: DetectorRegistry, *, service: str, as_of: date) -> None:
        scanned.append(as_of)
        raise Scanned

    monkeypatch.setattr(scheduler, "asyncio", SimpleNamespace(sleep=stood.sleep))
    monkeypatch.setattr(scheduler, "daily_scan", daily_scan)
    with pytest.raises(Scanned):
        await scheduler.run_daily(SimpleNamespace(), DetectorRegistry(), service="funds", hour=2)
    assert stood.moment - utc == timedelta(hours=waited_hours)
    assert scanned == [date(2026, 3, 2)]  # the day in China at 02:00 there (18:00 UTC on 1 March)


def test_what_happened_may_be_dated_today_in_china_not_after(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import BaseModel, ValidationError

    from services.kernel.types import Happened

    class Posted(BaseModel):
        paid_on: Happened

    stand_still(monkeypatch, datetime(2026, 3, 1, 17, 0, tzinfo=UTC))  # 2 March in China, 1 March in UTC
    assert Posted(paid_on=date(2026, 3, 2)).paid_on == date(2026, 3, 2)
    with pytest.raises(ValidationError, match="may not be after today"):
        Posted(paid_on=date(2026, 3, 3))
    stand_still(monkeypatch, datetime(2026, 3, 1, 15, 0, tzinfo=UTC))  # still 1 March in China
    with pytest.raises(ValidationError, match="may not be after today"):
        Posted(paid_on=date(2026, 3, 2))
