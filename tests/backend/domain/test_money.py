from datetime import date

import pytest

from backend.domain.money import Money, quote_price


def workflow_quote(booked_on: date = date(2024, 12, 23)):
    return quote_price(
        price_per_person=Money.of(2400),
        party_size=3,
        departure_start=date(2025, 3, 15),
        booked_on=booked_on,
        deposit_percent=30,
        early_bird_percent=5,
        early_bird_days_before=43,
        balance_due_days_before=15,
    )


def test_workflow_quote_arithmetic_matches_the_copy():
    quote = workflow_quote()
    assert quote.subtotal.format() == "$7,200"
    assert quote.total.format() == "$6,840"
    assert quote.deposit.format() == "$2,052"
    assert quote.balance.format() == "$4,788"
    assert quote.balance_due == date(2025, 2, 28)
    assert quote.early_bird_deadline == date(2025, 1, 31)


def test_early_bird_ends_after_the_deadline():
    assert workflow_quote(booked_on=date(2025, 1, 31)).total.format() == "$6,840"
    late = workflow_quote(booked_on=date(2025, 2, 1))
    assert late.total.format() == "$7,200"
    assert late.deposit.format() == "$2,160"
    assert not late.has_discount


def test_money_formats_cents_only_when_present():
    assert Money(205_250, "USD").format() == "$2,052.50"
    assert Money(5, "USD").format() == "$0.05"
    assert Money(-1000, "USD").format() == "-$10"
    assert Money(150_000, "EUR").format() == "€1,500"


def test_percent_rounds_half_up_to_the_minor_unit():
    assert Money(333, "USD").percent(30).minor == 100  # 99.9 -> 100
    assert Money(5, "USD").percent(50).minor == 3  # 2.5 -> 3


def test_money_refuses_floats_and_mixed_currencies():
    with pytest.raises(TypeError):
        Money(10.5, "USD")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Money(1, "USD") + Money(1, "EUR")


def test_party_size_must_be_positive():
    with pytest.raises(ValueError):
        quote_price(
            price_per_person=Money.of(100),
            party_size=0,
            departure_start=date(2025, 1, 1),
            booked_on=date(2024, 1, 1),
            deposit_percent=30,
        )
