"""Running cycles on a schedule with a clean stop.

A stop request (Ctrl-C, SIGTERM) never interrupts a cycle: the cycle in progress ends
normally and records everything, then the loop returns instead of waiting for the
next one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

from ..clock import sleep_or_stop
from ..ports import Clock

T = TypeVar("T")


async def run_loop(
    cycle: Callable[[], Awaitable[T]],
    *,
    clock: Clock,
    every: timedelta | None,
    max_cycles: int | None,
    stop: asyncio.Event,
    on_result: Callable[[T], None],
) -> int:
    """Run ``cycle`` once, or every ``every`` until ``max_cycles`` or ``stop``.

    Cycles start on a fixed schedule measured from the first start, so a slow cycle
    does not push every later one back; a cycle that overruns its slot is followed
    immediately by the next. Returns how many cycles ran.
    """
    count = 0
    started = clock.monotonic()
    while True:
        result = await cycle()
        count += 1
        on_result(result)
        if every is None or stop.is_set() or (max_cycles is not None and count >= max_cycles):
            return count
        next_start = started + count * every.total_seconds()
        if await sleep_or_stop(clock, max(next_start - clock.monotonic(), 0.0), stop):
            return count
