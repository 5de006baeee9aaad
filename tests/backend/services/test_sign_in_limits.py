"""Sign-in budgets (ASVS 2.2.1): per client address, per phone and per code, each with its
own back-off, so that a stranger's tries cannot lock the real person out while guessing a
code stays hopeless, and nobody can make the product send a staff member a stream of codes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from backend import clock
from backend.domain.actor import SYSTEM
from backend.domain.enums import Role
from backend.models import SignInCode, SignInLimit
from backend.services import staff as staff_service
from backend.services import staff_auth

PHONE = "+9779801000001"
OFFICE, STRANGER = "203.0.113.7", "198.51.100.66"
RIGHT, WRONG = "482913", "111111"


@pytest.fixture
def sarah(session, frozen_clock, monkeypatch):
    monkeypatch.setattr(staff_auth, "new_code", lambda: RIGHT)
    member, _ = staff_service.add_staff(
        session, name="Sarah Gurung", phone=PHONE, roles=[Role.SALES], actor=SYSTEM
    )
    session.commit()
    return member


def _codes(session) -> int:
    return int(session.scalar(select(func.count()).select_from(SignInCode)) or 0)


def test_a_strangers_wrong_guesses_do_not_use_up_the_code_on_the_phone(session, sarah):
    assert staff_auth.send_code(session, PHONE, client=OFFICE)
    for _ in range(5):
        assert staff_auth.check_code(session, PHONE, WRONG, client=STRANGER) is None
    # The stranger also asks for more codes: none of that cancels the one on Sarah's phone.
    staff_auth.send_code(session, PHONE, client=STRANGER)
    assert staff_auth.check_code(session, PHONE, RIGHT, client=OFFICE) is sarah


def test_a_client_that_keeps_guessing_waits_longer_each_time(session, sarah, frozen_clock):
    staff_auth.send_code(session, PHONE, client=OFFICE)
    for _ in range(staff_auth.GUESSES_PER_CLIENT.free - 1):
        assert staff_auth.check_code(session, PHONE, WRONG, client=STRANGER) is None
    waits = []
    for _ in range(3):
        assert staff_auth.check_code(session, PHONE, WRONG, client=STRANGER) is None
        with pytest.raises(staff_auth.TooManyTries) as refused:
            staff_auth.check_code(session, PHONE, WRONG, client=STRANGER)
        waits.append(refused.value.retry_after)
        frozen_clock.advance(seconds=refused.value.retry_after)
    assert waits == [60, 120, 240]
    # Meanwhile the person on the phone signs in from their own address.
    assert staff_auth.check_code(session, PHONE, RIGHT, client=OFFICE) is sarah


def test_guessing_from_many_addresses_is_capped_per_code_and_per_phone(session, sarah):
    """One stranger cannot get here quickly (their own budget stops them); many can, and then
    guessing stops for everyone: brute force stays hopeless."""
    staff_auth.send_code(session, PHONE, client=OFFICE)
    for n in range(staff_auth.CODE_ATTEMPTS):
        staff_auth.check_code(session, PHONE, f"{n:06d}", client=f"10.0.0.{n}")
    # 20 wrong guesses use the code up, whoever made them.
    assert staff_auth.check_code(session, PHONE, RIGHT, client=OFFICE) is None
    phone_cap = staff_auth.GUESSES_PER_PHONE.free
    for n in range(phone_cap):
        staff_auth.check_code(session, PHONE, WRONG, client=f"10.0.1.{n}")
    # Past the phone's cap no code is even looked at (a botnet, not one stranger, gets here).
    blocked = staff_auth.wait_for(
        session, staff_auth.GUESSES_PER_PHONE, staff_auth._phone_key(PHONE)
    )
    assert blocked is not None and blocked >= timedelta(minutes=15)


def test_a_phone_is_sent_codes_with_growing_gaps(session, sarah, frozen_clock):
    sent = [staff_auth.send_code(session, PHONE, client=f"10.0.2.{n}") for n in range(3)]
    assert sent == [True, False, False] and _codes(session) == 1
    frozen_clock.advance(seconds=61)
    assert staff_auth.send_code(session, PHONE, client=STRANGER)
    frozen_clock.advance(seconds=61)  # the next one waits two minutes
    assert not staff_auth.send_code(session, PHONE, client=STRANGER)
    frozen_clock.advance(seconds=60)
    assert staff_auth.send_code(session, PHONE, client=STRANGER)
    # In an hour a stranger gets few codes sent, however often they ask.
    for n in range(60):
        frozen_clock.advance(minutes=1)
        staff_auth.send_code(session, PHONE, client=f"10.0.3.{n}")
    assert _codes(session) <= 3 + 5


def test_a_client_asking_for_many_codes_is_told_to_wait(session, sarah):
    budget = staff_auth.CODES_PER_CLIENT
    for n in range(budget.free):
        staff_auth.send_code(session, f"+97798119{n:05d}", client=STRANGER)
    with pytest.raises(staff_auth.TooManyTries) as refused:
        staff_auth.send_code(session, PHONE, client=STRANGER)
    assert refused.value.retry_after == 60
    # Sarah, asking from her own address, still gets her code.
    assert staff_auth.send_code(session, PHONE, client=OFFICE)


def test_the_budgets_hold_no_phone_number_or_address(session, sarah):
    staff_auth.send_code(session, PHONE, client=STRANGER)
    staff_auth.check_code(session, PHONE, WRONG, client=STRANGER)
    keys = " ".join(session.scalars(select(SignInLimit.key)))
    assert PHONE not in keys and "9801000001" not in keys and STRANGER not in keys


def test_an_unknown_phone_spends_the_same_budgets_as_a_staff_phone(session, sarah):
    """The limits must not tell a staff phone from another."""
    stranger_phone = "+9779812345678"
    assert not staff_auth.send_code(session, stranger_phone, client=STRANGER)
    assert staff_auth.send_code(session, PHONE, client=STRANGER)
    assert staff_auth.wait_for(
        session, staff_auth.CODES_PER_PHONE, staff_auth._phone_key(PHONE)
    ) == staff_auth.wait_for(
        session, staff_auth.CODES_PER_PHONE, staff_auth._phone_key(stranger_phone)
    )


def test_housekeeping_forgets_budgets_and_codes_a_day_old(session, sarah, frozen_clock):
    staff_auth.send_code(session, PHONE, client=OFFICE)
    staff_auth.check_code(session, PHONE, WRONG, client=STRANGER)
    session.commit()
    assert staff_auth.forget_stale(session) == 0  # all of it is recent
    frozen_clock.advance(hours=25)
    staff_auth.send_code(session, "+9779801999999", client="192.0.2.1")  # a fresh try
    removed = staff_auth.forget_stale(session)
    session.commit()
    # The day-old budgets (code sent, the stranger's guess, the phone's guesses) and the
    # expired code are gone; the fresh try's budgets stay.
    assert removed >= 4
    left = session.scalars(select(SignInLimit.last_at)).all()
    assert left and all(at > clock.now() - timedelta(hours=1) for at in left)
    assert _codes(session) == 0
