"""One-time codes for the tests (S21): the code of a time step, and a step with time left in it, so that a test's
codes of the step before, this one and the next stay within the window the gateway accepts."""

from __future__ import annotations

import time

import pyotp

STEP = 30
ROOM = 6  # seconds the first code of a test (the step before) needs to stay in the window


def code_at(secret: str, step: int) -> str:
    return str(pyotp.TOTP(secret).generate_otp(step))


def steady_step() -> int:
    """The current time step, after waiting for the next one when fewer than ROOM seconds are left of it."""
    left = STEP - time.time() % STEP
    if left < ROOM:
        time.sleep(left + 0.2)
    return int(time.time() // STEP)
