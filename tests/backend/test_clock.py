"""The project's clock: the machine's by default; frozen in one process; shared by every
process through a clock file that the tests and the demo move."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta

from backend import clock
from devkit.demo_data import STORY, StoryCalendar
from tests.processes import ROOT

READ_CLOCK = "from backend import clock; print(clock.now().isoformat(), clock.local_today())"


def read_in_another_process(path: object) -> tuple[datetime, date]:
    out = subprocess.run(
        [sys.executable, "-c", READ_CLOCK],
        cwd=ROOT,
        env={**os.environ, "TMS_CLOCK_FILE": str(path)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return datetime.fromisoformat(out[0]), date.fromisoformat(out[1])


def test_a_moved_clock_file_is_read_by_every_process_at_once(tmp_path):
    shared = clock.ClockFile(tmp_path / "clock.json")
    assert abs(shared() - clock.machine_now()) < timedelta(seconds=1)  # no file: real time
    at = STORY.at(STORY.today, "23:50")
    shared.move_to(at)
    assert abs(shared() - at) < timedelta(seconds=1)
    theirs, their_day = read_in_another_process(shared.path)
    assert abs(theirs - at) < timedelta(seconds=5)
    assert their_day == date(2024, 12, 23)  # 18:05 UTC, 23:50 in Kathmandu
    # Moved again: seen at the next reading, here and there.
    shared.move_to(STORY.at(STORY.today + timedelta(days=1), "00:10"))
    assert read_in_another_process(shared.path)[1] == date(2024, 12, 24)
    assert shared().astimezone(UTC).date() == date(2024, 12, 23)  # UTC has not turned yet


def test_a_damaged_clock_file_keeps_the_last_good_offset(tmp_path):
    shared = clock.ClockFile(tmp_path / "clock.json")
    shared.set_offset(timedelta(days=-700))
    before = shared()
    shared.path.write_text('{"offset_sec')  # a writer that did not use move_to
    assert abs(shared() - before) < timedelta(seconds=1)


def test_frozen_stands_still_and_then_gives_back_the_shared_clock():
    shared_before = clock.shared()
    with clock.frozen(STORY.morning) as frozen:
        assert clock.now() == STORY.morning and clock.shared() is None
        frozen.advance(minutes=5)
        assert clock.local_now().strftime("%H:%M") == "08:05"
    assert clock.shared() is shared_before


def test_the_next_season_keeps_the_early_bird_open():
    assert StoryCalendar.next_season(date(2027, 1, 31)).season == 2027
    assert StoryCalendar.next_season(date(2027, 2, 1)).season == 2028
    calendar = StoryCalendar.next_season(date(2027, 7, 15))
    assert (calendar.ebc_start, calendar.today) == (date(2028, 3, 15), date(2027, 7, 15))
