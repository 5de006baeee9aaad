"""The flag that lets only the state machines write status columns."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_transitioning: ContextVar[bool] = ContextVar("tms_transitioning", default=False)


def transition_in_progress() -> bool:
    return _transitioning.get()


@contextmanager
def allow_status_write() -> Iterator[None]:
    token = _transitioning.set(True)
    try:
        yield
    finally:
        _transitioning.reset(token)
