"""The loop every background worker runs: do a pass, sleep a little when idle, survive errors."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

logger = logging.getLogger(__name__)


async def run_until_stopped(
    name: str, one_pass: Callable[[], Awaitable[int]], stop: asyncio.Event, idle_sleep: float = 0.2
) -> None:
    """Call `one_pass` (returns how much it did) until `stop` is set; an error in one pass is
    logged and the next pass comes after the idle sleep."""
    while not stop.is_set():
        try:
            handled = await one_pass()
        except Exception:
            logger.exception("%s: pass failed", name)
            handled = 0
        if not handled:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=idle_sleep)
