"""Money as integer minor units plus a currency, and the operator's pricing rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "INR": "₹", "NPR": "Rs "}
# Currencies without cents (ISO 4217 exponent 0); every other one has two decimals.
_MINOR_DIGITS = {"JPY": 0, "KRW": 0}


def minor_digits(currency: str) -> int:
    """Digits after the decimal point: 2 for most, 0 for the yen and the won."""
    return _MINOR_DIGITS.get(currency.upper(), 2)


def minor_units(value: Decimal, currency: str) -> int:
    """A decimal amount in `currency` ("2052.00") in minor units, rounded half up."""
    return int(value.scaleb(minor_digits(currency)).quantize(Decimal(1), ROUND_HALF_UP))


@dataclass(frozen=True, order=True)
class Money:
    minor: int
    currency: str = "USD"

    def __post_init__(self) -> None:
        if not isinstance(self.minor, int):
            raise TypeError("Money takes integer minor units")

    @classmethod
    def of(cls, major: int | str, currency: str = "USD") -> Money:
        """`Money.of(2400)` is $2,400.00."""
        digits = minor_digits(currency)
        return cls(int(Decimal(str(major)) * (10**digits)), currency)

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor - other.minor, self.currency)

    def times(self, n: int) -> Money:
        return Money(self.minor * n, self.currency)

    def percent(self, pct: int) -> Money:
        """pct% of this amount, rounded half up to the minor unit."""
        return Money((self.minor * pct * 2 + 100) // 200, self.currency)

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"currency mismatch: {self.currency} vs {other.currency}")

    def format(self) -> str:
        """As the workflows write it: `$6,840`, or `$2,052.50` when there are cents."""
        digits = minor_digits(self.currency)
        symbol = _SYMBOLS.get(self.currency, self.currency + " ")
        sign = "-" if self.minor < 0 else ""
        major, minor = divmod(abs(self.minor), 10**digits) if digits else (abs(self.minor), 0)
        text = f"{major:,}"
        if minor:
            text += f".{minor:0{digits}d}"
        return f"{sign}{symbol}{text}"

    def __str__(self) -> str:
        return self.format()


@dataclass(frozen=True)
class Quote:
    """A price for a party on a departure, with the deposit and the balance due date."""

    price_per_person: Money
    party_size: int
    subtotal: Money
    discount: Money
    total: Money
    deposit: Money
    balance: Money
    balance_due: date
    early_bird_deadline: date | None

    @property
    def has_discount(self) -> bool:
        return self.discount.minor > 0


def quote_price(
    *,
    price_per_person: Money,
    party_size: int,
    departure_start: date,
    booked_on: date,
    deposit_percent: int,
    early_bird_percent: int = 0,
    early_bird_days_before: int = 0,
    balance_due_days_before: int = 15,
    discount_override: Money | None = None,
) -> Quote:
    """The workflow's arithmetic: 3 × $2,400 = $7,200, early bird 5% → $6,840, deposit 30% → $2,052.

    The early-bird price applies when booking at least `early_bird_days_before` days ahead.
    """
    if party_size < 1:
        raise ValueError("party size must be at least 1")
    subtotal = price_per_person.times(party_size)
    deadline = (
        departure_start - timedelta(days=early_bird_days_before) if early_bird_percent > 0 else None
    )
    if discount_override is not None:
        discount = discount_override
    elif deadline is not None and booked_on <= deadline:
        discount = subtotal.percent(early_bird_percent)
    else:
        discount = Money(0, price_per_person.currency)
    total = subtotal - discount
    deposit = total.percent(deposit_percent)
    return Quote(
        price_per_person=price_per_person,
        party_size=party_size,
        subtotal=subtotal,
        discount=discount,
        total=total,
        deposit=deposit,
        balance=total - deposit,
        balance_due=departure_start - timedelta(days=balance_due_days_before),
        early_bird_deadline=deadline,
    )
