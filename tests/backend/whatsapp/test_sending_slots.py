"""The business number's rate shared by every sender process: reserved slots never overlap,
whoever reserves them, and a quiet spell is not saved up as a burst. Slot times are read on
the limit's own clock, so a slow machine cannot blur them. Per-recipient pacing is shared the
same way."""

from __future__ import annotations

import itertools
import threading

import pytest

from backend.db import transaction
from backend.whatsapp.pacing import RecipientPacer, SendingSlots, SharedRecipientPacer

RATE = 20.0
INTERVAL = 1 / RATE


def _starts(slots: SendingSlots, count: int) -> list[float]:
    return [slots.reserve_slots(1)[0] for _ in range(count)]


@pytest.mark.parametrize("shared", [True, False], ids=["postgresql", "in-process"])
def test_reserved_slots_are_spaced_by_the_rate(pg_db_url: str, shared: bool) -> None:
    slots = SendingSlots("number:test-spacing", RATE, headroom=1.0, shared=shared)
    starts = _starts(slots, 12)
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert gaps == pytest.approx([INTERVAL] * 11)


def test_two_processes_reserving_at_once_never_share_a_slot(pg_db_url: str) -> None:
    """Two senders (each with its own limiter object, as in two processes) on one number."""
    starts: list[float] = []
    lock = threading.Lock()

    def sender() -> None:
        own = _starts(SendingSlots("number:test-shared", RATE, headroom=1.0), 25)
        with lock:
            starts.extend(own)

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    starts.sort()
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert len(starts) == 50
    assert min(gaps) == pytest.approx(INTERVAL)
    # Together they hold the one rate: 50 slots span 49 intervals, not half of that.
    assert starts[-1] - starts[0] == pytest.approx(49 * INTERVAL)


def test_a_batch_reserves_consecutive_slots_and_the_next_waits_behind_it(pg_db_url: str) -> None:
    slots = SendingSlots("number:test-batch", RATE, headroom=1.0)
    first, _ = slots.reserve_slots(5)
    after, _ = slots.reserve_slots(1)
    assert after == pytest.approx(first + 5 * INTERVAL)
    assert slots.reserve(1) > 0  # the next one waits: the five are still ahead


def test_a_quiet_spell_is_not_saved_up_as_a_burst() -> None:
    moments = iter([0.0, 10.0, 10.0])
    slots = SendingSlots("k", RATE, headroom=1.0, shared=False, now=lambda: next(moments))
    slots.reserve_slots(1)
    # Ten seconds later: the first slot is now, the second one interval after, not "now" too.
    assert slots.reserve_slots(1) == (10.0, 10.0)
    assert slots.reserve_slots(1) == (10.0 + INTERVAL, 10.0)


def test_headroom_paces_under_the_limit() -> None:
    assert SendingSlots("k", 80, headroom=0.96, shared=False).interval == pytest.approx(1 / 76.8)


# -- per-recipient pacing, shared ----------------------------------------------------------------
def _take(pacer: SharedRecipientPacer, *phones: str) -> dict[str, float]:
    with transaction() as session:
        return pacer.take(session, list(phones))


def test_two_processes_draw_on_one_bucket_per_recipient(pg_db_url: str) -> None:
    """Burst 3, one message per 6 s after it: two senders (two pacers, as in two processes)
    together get three tokens for a recipient, then a wait of about the interval; another
    recipient has a bucket of its own."""
    one, other = SharedRecipientPacer(6, 3), SharedRecipientPacer(6, 3)
    guide, guest = "+9779801000001", "+61412000001"
    assert _take(one, guide, guest) == {guide: 0.0, guest: 0.0}
    assert _take(other, guide) == {guide: 0.0}
    assert _take(one, guide) == {guide: 0.0}
    waited = _take(other, guide)[guide]
    assert 5.0 < waited <= 6.0
    assert _take(one, guest) == {guest: 0.0}  # its own bucket: two tokens left


def test_a_claim_that_rolled_back_gives_its_tokens_back(pg_db_url: str) -> None:
    pacer = SharedRecipientPacer(6, 1)
    phone = "+61412000002"
    with pytest.raises(RuntimeError), transaction() as session:
        assert pacer.take(session, [phone]) == {phone: 0.0}
        raise RuntimeError("the claim failed after taking the token")
    assert _take(pacer, phone) == {phone: 0.0}  # still there
    assert _take(pacer, phone)[phone] > 0


def test_the_in_process_pacer_answers_the_same_question() -> None:
    now = [100.0]
    pacer = RecipientPacer(6, 2, now=lambda: now[0])
    assert pacer.take(None, ["+1", "+2"]) == {"+1": 0.0, "+2": 0.0}
    assert pacer.take(None, ["+1"]) == {"+1": 0.0}
    assert pacer.take(None, ["+1"]) == {"+1": pytest.approx(6.0)}
