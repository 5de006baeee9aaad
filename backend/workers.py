"""The loop every background worker runs: do a pass, sleep a little when idle, survive errors."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

logger = logging.getLogger(__name__)


async def run_until_stopped(
    name: str,
    one_pass: Callable[[], Awaitable[int]],
    stop: asyncio.Event,
    idle_sleep: float = 0.2,
    wakeup: asyncio.Event | None = None,
) -> None:
    """Call `one_pass` (returns how much it did) until `stop` is set; an error in one pass is
    logged. When idle, wait for `idle_sleep`, or less when `wakeup` is set (new work)."""
    while not stop.is_set():
        try:
            handled = await one_pass()
        except Exception:
            logger.exception("%s: pass failed", name)
            handled = 0
        if not handled:
            waiters = [asyncio.ensure_future(stop.wait())]
            if wakeup is not None:
                waiters.append(asyncio.ensure_future(wakeup.wait()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait(waiters, timeout=idle_sleep, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()
            if wakeup is not None:
                wakeup.clear()
