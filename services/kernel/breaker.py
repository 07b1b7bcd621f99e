"""A circuit breaker for the calls one service makes to another (issue #14): after FAILURES calls in a row that got
no answer (refused, timed out, cut), the dependency is taken as down for OPEN_SECONDS: calls are refused at once
with 503 DEPENDENCY_UNAVAILABLE naming it, instead of each waiting out its timeout and holding the caller's
resources meanwhile. Then one call is let through: its answer closes the breaker, its failure opens it again."""

from __future__ import annotations

import time
from collections.abc import Callable

FAILURES = 5
OPEN_SECONDS = 5.0


class Breaker:
    def __init__(
        self, *, failures: int = FAILURES, open_seconds: float = OPEN_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.failures, self.open_seconds, self.clock = failures, open_seconds, clock
        self.in_a_row = 0
        self.open_until: float | None = None
        self.trial = False  # the one call let through once the open period is over, still running

    def refusal(self) -> float | None:
        """None when a call may go (and, once the breaker was open, it is the trial); else how many seconds the
        breaker stays open."""
        if self.open_until is None:
            return None
        left = self.open_until - self.clock()
        if left > 0 or self.trial:
            return max(left, 0.0)
        self.trial = True
        return None

    def succeeded(self) -> None:
        self.in_a_row, self.open_until, self.trial = 0, None, False

    def abandoned(self) -> None:
        """The call was given up by its caller (cancelled): it says nothing of the dependency."""
        self.trial = False

    def failed(self) -> None:
        self.in_a_row += 1
        if self.trial or self.in_a_row >= self.failures:
            self.open_until, self.trial = self.clock() + self.open_seconds, False
