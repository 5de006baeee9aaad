"""The one source of "now", so tests, the demo and the scheduler's tests can drive time
without sleeping.

- Production reads the machine's clock.
- Within one process, `frozen(at)` stands the clock still until it is moved.
- Across processes, `TMS_CLOCK_FILE` names a small file holding an offset from the machine's
  clock. Every process started with it (backend, scheduler, action server, fake Graph API)
  reads the same shifted time, and sees a move (`move_to`) at its next reading. The test
  suite and the demo use it to put the whole stack on the calendar they need; production
  refuses it (see `backend.config`).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

CLOCK_FILE_VARIABLE = "TMS_CLOCK_FILE"


def machine_now() -> datetime:
    """The machine's own clock, timezone-aware UTC."""
    return datetime.now(UTC)


class ClockFile:
    """Real time moved by an offset stored in a file that several processes share.

    Reading costs one `stat` (the offset is re-read only when the file changed), so it can
    sit behind every `now()`. Writes replace the file atomically: a reader sees the old
    offset or the new one, never half a file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._seen: tuple[int, int, int] | None = None
        self._offset = timedelta(0)

    def offset(self) -> timedelta:
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            return timedelta(0)
        seen = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        if seen != self._seen:
            try:
                data = json.loads(self.path.read_text())
                self._offset = timedelta(seconds=float(data["offset_seconds"]))
            except (OSError, ValueError, KeyError, TypeError):
                return self._offset  # being replaced right now: the last good offset
            self._seen = seen
        return self._offset

    def __call__(self) -> datetime:
        return machine_now() + self.offset()

    def set_offset(self, offset: timedelta) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".clock-")
        with os.fdopen(fd, "w") as handle:
            json.dump({"offset_seconds": offset.total_seconds()}, handle)
        os.replace(temporary, self.path)

    def move_to(self, at: datetime) -> None:
        """From now on (and ticking on from there), every process reads `at`."""
        self.set_offset(at - machine_now())


def _initial_clock() -> Callable[[], datetime]:
    path = os.environ.get(CLOCK_FILE_VARIABLE)
    return ClockFile(path) if path else machine_now


_now: Callable[[], datetime] = _initial_clock()


def now() -> datetime:
    """Timezone-aware UTC now."""
    return _now()


def local_now() -> datetime:
    """Now in the operator's timezone."""
    from backend.config import get_settings

    return now().astimezone(get_settings().tz)


def local_today() -> date:
    """The operator's date: what "today" means for trips, reminders and prices."""
    return local_now().date()


def set_clock(fn: Callable[[], datetime]) -> None:
    global _now
    _now = fn


def shared() -> ClockFile | None:
    """The clock file this process reads, if it runs on one."""
    return _now if isinstance(_now, ClockFile) else None


def use_file(path: str | Path) -> ClockFile:
    """Run this process, and every process it starts from now on, on the clock in `path`."""
    os.environ[CLOCK_FILE_VARIABLE] = str(path)
    shared_clock = ClockFile(path)
    set_clock(shared_clock)
    return shared_clock


def move_to(at: datetime) -> None:
    """Move every process on the shared clock to `at` (it ticks on from there)."""
    shared_clock = shared()
    if shared_clock is None:
        raise RuntimeError(f"no shared clock: set {CLOCK_FILE_VARIABLE} or call use_file()")
    shared_clock.move_to(at)


class FrozenClock:
    """A clock that stands still until moved."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> datetime:
        self.at = self.at + timedelta(**delta)
        return self.at


@contextmanager
def frozen(at: datetime) -> Iterator[FrozenClock]:
    clock = FrozenClock(at)
    previous = _now
    set_clock(clock)
    try:
        yield clock
    finally:
        set_clock(previous)


def as_utc(value: datetime) -> datetime:
    """SQLite hands datetimes back naive; they were stored as UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
