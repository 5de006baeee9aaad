"""Exchange rates: set by staff from today on (never for a past day, never twice for a day),
never updated or deleted (the database refuses), and a day's payment keeps that day's rate
whatever is set later. A quote's indicative price adds the buffer."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from backend import clock
from backend.domain.actor import SYSTEM
from backend.domain.currencies import currency_for_phone, currency_name
from backend.domain.money import Money
from backend.models import ExchangeRate, LedgerMethod, TimelineEvent
from backend.services import payments, rates
from tests import factories


def test_a_rate_cannot_be_set_for_a_past_day(session):
    today = clock.local_today()
    with pytest.raises(rates.RateRefused, match="would change days already booked"):
        rates.set_rate(
            session,
            currency="EUR",
            base_currency="USD",
            rate="1.08",
            valid_from=today - timedelta(days=1),
            actor=SYSTEM,
        )
    row = rates.set_rate(session, currency="eur", base_currency="usd", rate="1.08", actor=SYSTEM)
    assert (row.currency, row.valid_from, row.rate) == ("EUR", today, "1.08")
    event = session.scalar(
        select(TimelineEvent).where(TimelineEvent.action == "tms.exchange_rate.set")
    )
    assert event is not None and event.content["currency"] == "EUR"


def test_a_second_rate_for_the_same_day_is_refused(session):
    tomorrow = clock.local_today() + timedelta(days=1)
    rates.set_rate(
        session, currency="EUR", base_currency="USD", rate="1.08", valid_from=tomorrow, actor=SYSTEM
    )
    with pytest.raises(rates.RateRefused, match="already set"):
        rates.set_rate(
            session,
            currency="EUR",
            base_currency="USD",
            rate="1.10",
            valid_from=tomorrow,
            actor=SYSTEM,
        )
    # The session is still usable: the refused row was rolled back alone.
    assert [r.rate for r in rates.history(session, "EUR")] == ["1.08"]


@pytest.mark.parametrize(
    "rate, buffer", [("0", "0"), ("-1", "0"), ("abc", "0"), ("1.1", "60"), ("nan", "0")]
)
def test_what_is_not_a_rate_is_refused(session, rate, buffer):
    with pytest.raises(rates.RateRefused):
        rates.set_rate(
            session,
            currency="EUR",
            base_currency="USD",
            rate=rate,
            buffer_percent=buffer,
            actor=SYSTEM,
        )


@pytest.mark.parametrize(
    "statement", ["UPDATE exchange_rates SET rate = '2'", "DELETE FROM exchange_rates"]
)
def test_the_database_refuses_to_change_or_delete_a_rate(session, statement):
    rates.set_rate(session, currency="EUR", base_currency="USD", rate="1.08", actor=SYSTEM)
    session.commit()
    with pytest.raises(DatabaseError, match="append-only"):
        session.execute(text(statement))
    session.rollback()
    assert session.scalar(select(ExchangeRate.rate)) == "1.08"


def test_a_payment_keeps_its_days_rate_after_a_newer_rate_is_set(session, frozen_clock):
    today = clock.local_today()
    dep = factories.departure(session, factories.ebc(session), start=today + timedelta(days=90))
    booking = factories.confirmed_booking(session, dep, 3)
    rates.set_rate(session, currency="EUR", base_currency="USD", rate="1.08", actor=SYSTEM)
    paid = payments.receive(
        session,
        booking.id,
        payments.MoneyIn(
            method=LedgerMethod.BANK_TRANSFER,
            amount_minor=1_000_00,
            currency="EUR",
            received_on=today,
            provider_ref="t-1",
        ),
        SYSTEM,
    )
    assert paid.entry is not None and paid.entry.base_amount_minor == 1_080_00
    frozen_clock.advance(days=1)
    rates.set_rate(session, currency="EUR", base_currency="USD", rate="1.20", actor=SYSTEM)
    session.flush()
    session.refresh(paid.entry)
    assert (paid.entry.base_amount_minor, paid.entry.rate) == (1_080_00, "1.08")
    # Money received yesterday and booked today still goes at yesterday's rate.
    late = payments.receive(
        session,
        booking.id,
        payments.MoneyIn(
            method=LedgerMethod.BANK_TRANSFER,
            amount_minor=100_00,
            currency="EUR",
            received_on=today,
            provider_ref="t-2",
        ),
        SYSTEM,
    )
    assert late.entry is not None and late.entry.base_amount_minor == 108_00
    assert rates.to_base(session, 100_00, "EUR", "USD", today + timedelta(days=1)).rate == "1.2"
    with pytest.raises(rates.NoRate):
        rates.to_base(session, 100_00, "EUR", "USD", today - timedelta(days=1))


def test_the_indicative_price_adds_the_buffer_and_rounds_up(session):
    rates.set_rate(
        session,
        currency="EUR",
        base_currency="USD",
        rate="1.08",
        buffer_percent="2",
        actor=SYSTEM,
    )
    today = clock.local_today()
    # $6,840 / 1.08 = €6,333.33; + 2 % = €6,460.00 → rounded up to whole euros.
    assert rates.indicative(session, 6_840_00, "USD", "EUR", today) == 6_460_00
    assert rates.indicative(session, 6_840_00, "USD", "USD", today) == 6_840_00
    assert rates.indicative(session, 6_840_00, "USD", "GBP", today) is None
    # A German number: euros; a British one with no rate set: nothing indicative.
    assert rates.indicative_for(session, Money(6_840_00, "USD"), "+4915112345678") == Money(
        6_460_00, "EUR"
    )
    assert rates.indicative_for(session, Money(6_840_00, "USD"), "+447700900123") is None
    assert rates.indicative_for(session, Money(6_840_00, "USD"), "+12025550123") is None


def test_the_yen_has_no_cents(session):
    rates.set_rate(session, currency="JPY", base_currency="USD", rate="0.0067", actor=SYSTEM)
    today = clock.local_today()
    # ¥100,000 at 0.0067 is $670.00; $670.00 back is ¥100,000.
    assert rates.to_base(session, 100_000, "JPY", "USD", today).base_amount_minor == 670_00
    assert rates.indicative(session, 670_00, "USD", "JPY", today) == 100_000


@pytest.mark.parametrize(
    "phone, currency",
    [
        ("+447700900123", "GBP"),
        ("+4915112345678", "EUR"),
        ("+33612345678", "EUR"),
        ("+393331234567", "EUR"),
        ("+34612345678", "EUR"),
        ("+31612345678", "EUR"),
        ("+353851234567", "EUR"),
        ("+61412345678", "AUD"),
        ("+12025550123", "USD"),
        ("+919812345678", "INR"),
        ("+819012345678", "JPY"),
        ("+9779841000001", "NPR"),
        ("+79161234567", None),
        ("", None),
        (None, None),
    ],
)
def test_the_customers_currency_from_their_phone(phone, currency):
    assert currency_for_phone(phone) == currency


def test_a_currency_is_named_in_words():
    assert currency_name("eur") == "euros" and currency_name("XYZ") == "XYZ"
