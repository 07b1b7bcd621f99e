"""The public may POST without a key, within a per-address limit."""

from gateway.ratelimit import SlidingWindow


def test_sliding_window_allows_the_limit_then_refuses_until_the_window_passes() -> None:
    window = SlidingWindow(limit=3, window=60)
    assert [window.allow("1.2.3.4", now=t) for t in (0, 1, 2, 3)] == [True, True, True, False]
    assert window.allow("5.6.7.8", now=3) is True  # another address is not affected
    assert window.allow("1.2.3.4", now=60.5) is True  # the first hit left the window
