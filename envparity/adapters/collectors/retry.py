"""Bounded retries with exponential backoff, shared by the collectors that page through APIs."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class GaveUp(Exception):
    """A call kept failing (or the deadline passed); `reason` says why in one line."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def with_retries(
    call: Callable[[], T],
    *,
    retryable: Callable[[Exception], str | None],
    attempts: int = 3,
    backoff: float = 0.2,
    deadline: float | None = None,
) -> T:
    """`call()`, retried while `retryable(exc)` names a transient reason; fatal ones re-raise.

    Sleeps backoff, 2*backoff, ... between attempts and never past `deadline`
    (a time.monotonic() value), so a throttled API ends in GaveUp, not a hang.
    """
    for attempt in range(attempts):
        try:
            return call()
        except Exception as exc:
            reason = retryable(exc)
            if reason is None:
                raise
            pause = backoff * 2**attempt
            out_of_time = deadline is not None and time.monotonic() + pause > deadline
            if attempt == attempts - 1 or out_of_time:
                raise GaveUp(f"{reason} (after {attempt + 1} attempt(s))") from exc
            time.sleep(pause)
    raise AssertionError("unreachable")  # attempts >= 1
