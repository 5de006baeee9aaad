"""The ways a customer can pay a booking, as the pay page and the chat show them.

`offers` lists, for each amount owed now (`payments.due_now`: the deposit or the full amount,
then the balance), the methods switched on (`PAYMENT_METHODS`, docs/payments.md):

- `card`: the card provider of the pay page (Stripe, or the local demo provider), as before;
- `bank_transfer`: the operator's bank details and the reference to quote (the booking's);
  confirmed by the receipt the customer sends (`backend.services.payment_proofs`);
- `bank_card_link`: a bank's card payment page (`PAYMENT_CARD_LINK_URL`) with its surcharge
  (`PAYMENT_CARD_LINK_SURCHARGE_PERCENT`) shown, with the total, before the customer pays;
  confirmed by a receipt as a transfer is. The surcharge is booked apart from the price
  (a SURCHARGE ledger entry), so it never counts towards what the booking has paid.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from urllib.parse import quote

from sqlalchemy.orm import Session

from backend.config import Settings, get_settings
from backend.domain.enums import PaymentKind
from backend.domain.money import minor_digits
from backend.models import Booking, LedgerMethod
from backend.services import payments

CARD = "card"
TRANSFER = str(LedgerMethod.BANK_TRANSFER)
CARD_LINK = str(LedgerMethod.BANK_CARD_LINK)
# The methods confirmed by a receipt the customer sends.
PROOF_METHODS = (LedgerMethod.BANK_TRANSFER, LedgerMethod.BANK_CARD_LINK)


LABELS = {
    CARD: "Card",
    TRANSFER: "Bank transfer",
    CARD_LINK: "Card via our bank's payment page",
}


@dataclass(frozen=True)
class MethodOffer:
    """One way to pay one amount owed now. Amounts in the booking's currency, minor units;
    `total_minor` is what the customer pays (the amount plus any surcharge)."""

    method: str  # card | bank_transfer | bank_card_link
    label: str
    kind: PaymentKind
    amount_minor: int
    surcharge_minor: int
    total_minor: int
    currency: str
    surcharge_percent: str | None = None
    # The bank details (transfer): account name, bank, account number, SWIFT/BIC, branch,
    # and the reference to quote.
    details: dict[str, str] = field(default_factory=dict)
    url: str | None = None  # the bank's card page (card link)
    reference: str = ""

    @property
    def needs_proof(self) -> bool:
        return self.method in (TRANSFER, CARD_LINK)


def enabled(settings: Settings | None = None) -> set[str]:
    """The methods switched on and usable: the card needs a provider, the card link a URL."""
    settings = settings or get_settings()
    methods = settings.enabled_payment_methods
    usable = set()
    if CARD in methods and settings.payment_provider in ("local", "stripe"):
        usable.add(CARD)
    if TRANSFER in methods and settings.bank_account_number.strip():
        usable.add(TRANSFER)
    if CARD_LINK in methods and settings.card_link_url.strip():
        usable.add(CARD_LINK)
    return usable


def proof_methods_enabled(settings: Settings | None = None) -> bool:
    return bool(enabled(settings) & {TRANSFER, CARD_LINK})


def surcharge_percent(settings: Settings | None = None) -> Decimal:
    """The card link's surcharge in percent (0 when unset or not a number)."""
    raw = (settings or get_settings()).card_link_surcharge_percent
    try:
        value = Decimal(str(raw).strip() or "0")
    except InvalidOperation:
        return Decimal(0)
    return value if value.is_finite() and 0 <= value < 100 else Decimal(0)


def surcharge_on(amount_minor: int, settings: Settings | None = None) -> int:
    """The card link's surcharge on an amount, rounded half up to the minor unit."""
    percent = surcharge_percent(settings)
    return int((Decimal(amount_minor) * percent / 100).quantize(Decimal(1), ROUND_HALF_UP))


def split_card_link(amount_minor: int, settings: Settings | None = None) -> tuple[int, int]:
    """An amount paid through the card link as (towards the price, surcharge): the inverse of
    `surcharge_on` (an amount offered splits back exactly as it was offered)."""
    percent = surcharge_percent(settings)
    if percent == 0 or amount_minor <= 0:
        return amount_minor, 0
    price = int((Decimal(amount_minor) * 100 / (100 + percent)).quantize(Decimal(1), ROUND_HALF_UP))
    # Rounding may land one unit off: choose the price whose offer is this amount, if any.
    for candidate in (price, price - 1, price + 1):
        if candidate >= 0 and candidate + surcharge_on(candidate, settings) == amount_minor:
            return candidate, amount_minor - candidate
    return price, amount_minor - price


def bank_details(booking: Booking, settings: Settings | None = None) -> dict[str, str]:
    settings = settings or get_settings()
    return {
        "account_name": settings.bank_account_name,
        "bank": settings.bank_name,
        "account_number": settings.bank_account_number,
        "swift": settings.bank_swift,
        "branch": settings.bank_branch,
        "reference": booking.reference,
    }


def card_link_url(booking: Booking, total_minor: int, settings: Settings | None = None) -> str:
    """The bank's page, with `{reference}` and `{amount}` (a decimal) filled in if present."""
    template = (settings or get_settings()).card_link_url.strip()
    amount = decimal_text(total_minor, booking.currency)
    return template.replace("{reference}", quote(booking.reference)).replace(
        "{amount}", quote(amount)
    )


def decimal_text(minor: int, currency: str) -> str:
    """Minor units as a plain decimal ("2052.00"), as a form or an API writes amounts."""
    digits = minor_digits(currency)
    return f"{Decimal(minor).scaleb(-digits):.{digits}f}"


def offers(session: Session, booking: Booking) -> list[MethodOffer]:
    """What the customer can pay now and how, in the order the pay page shows them: for each
    amount owed now, each method switched on. Empty when nothing is owed."""
    settings = get_settings()
    methods = enabled(settings)
    found: list[MethodOffer] = []
    for kind, amount in payments.due_now(booking):
        if CARD in methods:
            found.append(
                MethodOffer(
                    CARD, LABELS[CARD], kind, amount, 0, amount, booking.currency,
                    reference=booking.reference,
                )
            )  # fmt: skip
        if TRANSFER in methods:
            found.append(
                MethodOffer(
                    TRANSFER,
                    LABELS[TRANSFER],
                    kind,
                    amount,
                    0,
                    amount,
                    booking.currency,
                    details=bank_details(booking, settings),
                    reference=booking.reference,
                )
            )
        if CARD_LINK in methods:
            surcharge = surcharge_on(amount, settings)
            total = amount + surcharge
            found.append(
                MethodOffer(
                    CARD_LINK,
                    LABELS[CARD_LINK],
                    kind,
                    amount,
                    surcharge,
                    total,
                    booking.currency,
                    surcharge_percent=_percent_text(surcharge_percent(settings)),
                    url=card_link_url(booking, total, settings),
                    reference=booking.reference,
                )
            )
    return found


def _percent_text(value: Decimal) -> str:
    return f"{value.normalize():f}"
