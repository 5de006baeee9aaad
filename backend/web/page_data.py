"""What each customer page shows, read from the same services the chat uses, so the page and
the chat tell the same story. Each function takes a session and the link's claims and returns
the template and its context; the HTTP side is `backend/web/pages.py`.

A page is built, and then rendered, in its reader's language (`in_reader_language`,
`backend/web/page_language.py`): the words the services hand over in English (a label, why a
receipt was refused) are translated here (`backend/web/words.py`)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Concatenate, ParamSpec

from babel.numbers import format_decimal
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import clock, i18n, links, rendering, texts
from backend.config import get_settings
from backend.domain.enums import BookingStatus, PaymentKind, TripStatus, WaitlistStatus
from backend.models import Attendance, Booking, Staff, Trip
from backend.services import (
    assignments,
    credits,
    feedback,
    incidents,
    inventory,
    payment_methods,
    payment_proofs,
    payments,
    waitlist,
)
from backend.texts.format import day_month
from backend.texts.treks import trek_texts
from backend.web import page_language, words
from backend.web.words import N_, _

KIND_LABELS = {
    PaymentKind.DEPOSIT: N_("Pay deposit"),
    PaymentKind.FULL: N_("Pay full amount"),
    PaymentKind.BALANCE: N_("Pay balance"),
}
# backend/services/payment_methods.py's LABELS, as the receipt form offers them.
METHOD_LABELS = (N_("Card"), N_("Bank transfer"), N_("Card via our bank's payment page"))


@dataclass
class Page:
    template: str
    context: dict[str, Any] = field(default_factory=dict)
    status: int = 200
    language: str | None = None  # the reader's (None: no booking; page_language decides)


def booking_by_key(session: Session, reference_key: str) -> Booking | None:
    return session.scalar(select(Booking).where(Booking.ref_key == reference_key))


P = ParamSpec("P")


def in_reader_language(
    build: Callable[Concatenate[Session, links.LinkClaims, P], Page],
) -> Callable[Concatenate[Session, links.LinkClaims, P], Page]:
    """The page is built in the language of the booking's contact (or the one the page was
    asked for, `?lang=`), and remembers it for rendering."""

    @functools.wraps(build)
    def built(
        session: Session, claims: links.LinkClaims, /, *args: P.args, **kwargs: P.kwargs
    ) -> Page:
        booking = booking_by_key(session, claims.reference_key)
        code = page_language.for_reader(booking.contact if booking is not None else None)
        with i18n.speaking(code):
            page = build(session, claims, *args, **kwargs)
        if booking is not None:
            page.language = code
        return page

    return built


def meeting_words(start: date, meeting_time: str) -> str:
    """`March 15, 7:00 AM` (`15. März, 07:00 Uhr`): the first day and the meeting time."""
    return f"{day_month(start)}, {rendering.meeting_time(start, meeting_time)}"


def _summary(booking: Booking) -> dict[str, Any]:
    departure = booking.departure
    return {
        "reference": booking.reference,
        "product": trek_texts(departure.product).name,
        "dates": texts.date_range(departure.start_date, departure.end_date),
        "people": booking.party_size,
        "total": texts.money(booking.total_minor, booking.currency),
        "paid": texts.money(booking.paid_minor, booking.currency),
        "balance": texts.money(booking.balance_minor, booking.currency),
        "balance_due": texts.long_date(booking.balance_due_date),
        "status": booking.status,
    }


def refused(*, expired: bool) -> Page:
    """The friendly refusal, in no booking's language (`?lang=`, the browser's, English)."""
    return Page("refused.html", {"expired": expired}, status=410 if expired else 404)


# -- pay -----------------------------------------------------------------------------------------
@in_reader_language
def pay(
    session: Session,
    claims: links.LinkClaims,
    *,
    just_paid: bool = False,
    returned_kind: str | None = None,
    receipt: str | None = None,
    receipt_error: str | None = None,
    credit_used: bool = False,
) -> Page:
    """`credit_used`: back from paying with the customer's credit; `just_paid`: back from the local provider; `returned_kind`: back from a checkout the
    provider says is paid (its webhook may still be on its way: then "confirming");
    `receipt`: back from sending a receipt ("sent", or "already" received before);
    `receipt_error`: why an uploaded receipt was refused (the page says it, 400)."""
    booking = booking_by_key(session, claims.reference_key)
    if booking is None:
        return refused(expired=False)
    due = payments.due_now(booking)
    confirming = returned_kind is not None and any(str(k) == returned_kind for k, _ in due)
    just_paid = just_paid or (returned_kind is not None and not confirming)
    asked = PaymentKind(claims.kind.upper()) if claims.kind else None
    options = [
        {
            "kind": str(kind).lower(),
            "label": _(KIND_LABELS[kind]),
            "amount": texts.money(amount, booking.currency),
            "suggested": kind == asked,
        }
        for kind, amount in due
    ]
    hold = inventory.active_hold(session, booking)
    state = "due" if options else _pay_state(booking)
    checking = [p for p in payment_proofs.proofs_of(session, booking) if p.status == "PENDING"]
    context = {
        "booking": _summary(booking),
        "state": state,
        "options": options,
        "asked_paid": asked is not None and not any(k == asked for k, _ in due),
        "hold_expires": texts.local_datetime(hold.expires_at) if hold else None,
        "just_paid": just_paid,
        "confirming": confirming,
        "book_url": links.book_url(booking.ref_key) if state == "offered" else None,
        "deposit_percent": booking.departure.product.deposit_percent,
        **_other_methods(session, booking),
        "checking": [texts.local_datetime(p.created_at) for p in checking],
        "receipt": receipt if receipt in ("sent", "already") else None,
        "receipt_error": words.sentence(receipt_error) if receipt_error else None,
        "receipt_max": _size(get_settings().proof_max_bytes),
        "currency": booking.currency,
        "credit": _credit(session, booking) if options else None,
        "credit_used": credit_used,
    }
    return Page("pay.html", context, status=400 if receipt_error else 200)


def _size(limit: int) -> str:
    """A byte limit as a person reads it: "10 MB", "64 KB"."""
    if limit >= 1024 * 1024:
        return f"{limit / (1024 * 1024):.3g} MB"
    return f"{max(limit // 1024, 1)} KB"


def _credit(session: Session, booking: Booking) -> dict[str, Any] | None:
    """The customer's credit from a cancelled booking, when this one can take some of it."""
    usable = credits.usable_on(session, booking)
    if usable <= 0:
        return None
    return {
        "usable": texts.money(usable, booking.currency),
        "available": texts.money(credits.available(session, booking.contact), booking.currency),
        "covers_all": usable >= booking.balance_minor,
        "key": credits.spend_key(booking),
    }


METHOD_KIND_LABELS = {
    PaymentKind.DEPOSIT: N_("Deposit"),
    PaymentKind.FULL: N_("Full amount"),
    PaymentKind.BALANCE: N_("Balance"),
}


def receipt_methods(session: Session, booking: Booking) -> list[str]:
    """The methods a receipt can be sent for now (those offered for what is owed)."""
    offered = {o.method for o in payment_methods.offers(session, booking)}
    return [m for m in (payment_methods.TRANSFER, payment_methods.CARD_LINK) if m in offered]


def _other_methods(session: Session, booking: Booking) -> dict[str, Any]:
    """The pay page's methods beside the card: the bank transfer (details, the reference to
    quote, the amounts) and the bank's card page (amount, surcharge, total, link), and whether
    the card provider's buttons show. Amounts are those owed now."""
    offers = payment_methods.offers(session, booking)
    transfer = [o for o in offers if o.method == payment_methods.TRANSFER]
    card_link = [o for o in offers if o.method == payment_methods.CARD_LINK]

    def label(offer: payment_methods.MethodOffer) -> str:
        word = _(METHOD_KIND_LABELS[offer.kind])
        if offer.kind == PaymentKind.DEPOSIT:
            percent = booking.departure.product.deposit_percent
            word = _("%(label)s (%(percent)s%%)") % {"label": word, "percent": percent}
        return word

    return {
        "card_on": payment_methods.CARD in payment_methods.enabled(),
        "transfer": {
            "details": transfer[0].details,
            "amounts": [
                {"label": label(o), "amount": texts.money(o.total_minor, o.currency)}
                for o in transfer
            ],
        }
        if transfer
        else None,
        "card_link": {
            "percent": _percent(card_link[0].surcharge_percent),
            "rows": [
                {
                    "label": label(o),
                    "amount": texts.money(o.amount_minor, o.currency),
                    "surcharge": texts.money(o.surcharge_minor, o.currency),
                    "total": texts.money(o.total_minor, o.currency),
                    "url": o.url,
                }
                for o in card_link
            ],
        }
        if card_link
        else None,
        "receipt_methods": [
            (method, _(payment_methods.LABELS[method]))
            for method in (payment_methods.TRANSFER, payment_methods.CARD_LINK)
            if any(o.method == method for o in offers)
        ],
    }


def _percent(value: str | None) -> str:
    """A percentage's number as the reader writes it (`3.5`, `3,5`)."""
    try:
        return format_decimal(Decimal(value or "0"), locale=i18n.current())
    except InvalidOperation:
        return value or ""


def _pay_state(booking: Booking) -> str:
    status = BookingStatus(booking.status)
    if status in (BookingStatus.CONFIRMED, BookingStatus.COMPLETED) and not booking.balance_minor:
        return "paid"
    if status == BookingStatus.OFFERED:
        return "offered"
    if status == BookingStatus.WAITLISTED:
        return "waitlisted"
    return "closed"  # expired, cancelled


def payable(session: Session, claims: links.LinkClaims, kind: str) -> tuple[Booking, int] | None:
    """The booking and the amount when `kind` is owed right now; None otherwise (a stale page:
    paid meanwhile, or the hold lapsed)."""
    booking = booking_by_key(session, claims.reference_key)
    if booking is None or kind.upper() not in PaymentKind.__members__:
        return None
    wanted = PaymentKind(kind.upper())
    for due_kind, amount in payments.due_now(booking):
        if due_kind == wanted:
            return booking, amount
    return None


def order_description(booking: Booking, kind: PaymentKind) -> str:
    departure = booking.departure
    return (
        f"{departure.product.name}, {texts.date_range(departure.start_date, departure.end_date)}"
        f" ({booking.party_size} {'person' if booking.party_size == 1 else 'people'}): "
        f"{KIND_LABELS[kind].removeprefix('Pay ')} · {booking.reference}"
    )


# -- book (a waitlist offer) ----------------------------------------------------------------------
@in_reader_language
def book(session: Session, claims: links.LinkClaims, *, message: str | None = None) -> Page:
    booking = booking_by_key(session, claims.reference_key)
    if booking is None:
        return refused(expired=False)
    entry = waitlist.entry_of(session, booking)
    if entry is None:
        return refused(expired=False)
    now = clock.now()
    state: str
    seconds_left = 0
    hold_expires = None
    if entry.status == WaitlistStatus.OFFERED and (
        entry.offer_expires_at is not None and entry.offer_expires_at > now
    ):
        state = "offered"
        assert entry.offer_expires_at is not None
        seconds_left = int((entry.offer_expires_at - now).total_seconds())
    elif entry.status == WaitlistStatus.OFFERED or entry.status == WaitlistStatus.EXPIRED:
        state = "expired"  # passed to the next in line (or about to be, at the next tick)
    elif entry.status == WaitlistStatus.ACCEPTED:
        state = "held" if booking.status == BookingStatus.HELD else "booked"
        if booking.status in (BookingStatus.EXPIRED, BookingStatus.CANCELLED):
            state = "closed"
        hold = inventory.active_hold(session, booking)
        hold_expires = texts.local_time(hold.expires_at) if hold else None
    elif entry.status == WaitlistStatus.WAITING:
        state = "waiting"
    else:
        state = "closed"
    departure = booking.departure
    context = {
        "booking": _summary(booking),
        "state": state,
        "seconds_left": seconds_left,
        "offer_expires": texts.local_time(entry.offer_expires_at)
        if entry.offer_expires_at
        else None,
        "position": waitlist.position(session, entry) if state == "waiting" else None,
        "hold_expires": hold_expires,
        "payment_minutes": get_settings().waitlist_payment_minutes,
        "pay_url": links.pay_url(booking.ref_key) if state == "held" else None,
        "start": day_month(departure.start_date),
        "message": words.sentence(message) if message else None,
    }
    return Page("book.html", context)


# -- track ----------------------------------------------------------------------------------------
@in_reader_language
def track(session: Session, claims: links.LinkClaims) -> Page:
    booking = booking_by_key(session, claims.reference_key)
    if booking is None or booking.status not in (
        BookingStatus.CONFIRMED,
        BookingStatus.COMPLETED,
    ):
        return refused(expired=False)
    departure = booking.departure
    product = departure.product
    trip = session.scalar(select(Trip).where(Trip.departure_id == departure.id))
    today = clock.local_today()
    day_number = (today - departure.start_date).days + 1
    status = TripStatus(trip.status) if trip else TripStatus.SCHEDULED
    guide = assignments.lead_guide(session, trip) if trip else None
    checkin = _latest_checkin(session, trip) if trip else None
    incident = incidents.open_incident(session, trip) if trip else None
    notice = incidents.notice_for(session, incident, booking) if incident else None
    itinerary = [
        {
            "days": item.days,
            "title": item.title,
            "detail": item.detail,
            "now": status == TripStatus.IN_PROGRESS and _covers(item.days, day_number),
        }
        for item in trek_texts(product).itinerary
    ]
    context = {
        "booking": _summary(booking),
        "trek": texts.trek_label(product),
        "status": str(status),
        "day_number": day_number if status == TripStatus.IN_PROGRESS else None,
        "days": product.days,
        "itinerary": itinerary,
        "guide": {"name": guide.name, "phone": guide.phone} if guide else None,
        "meeting_point": departure.meeting_point,
        "meeting": meeting_words(departure.start_date, departure.meeting_time),
        "checkin": texts.local_datetime(checkin[0]) if checkin else None,
        "checkin_by": checkin[1] if checkin else None,
        # Where the guide last shared the group's location (while the trip is under way).
        "position": {
            "latitude": f"{trip.last_latitude:.5f}",
            "longitude": f"{trip.last_longitude:.5f}",
            "at": texts.local_time(trip.last_position_at),
        }
        if trip is not None
        and status == TripStatus.IN_PROGRESS
        and trip.last_latitude is not None
        and trip.last_position_at is not None
        else None,
        "notice": notice,
        "ended": texts.local_datetime(trip.ended_at) if trip and trip.ended_at else None,
        "feedback_url": links.feedback_url(booking.ref_key)
        if booking.status == BookingStatus.COMPLETED
        else None,
        "refreshed": texts.local_time(clock.now()),
    }
    return Page("track.html", context)


def _covers(days: str, day_number: int) -> bool:
    first, _, last = str(days).partition("-")
    try:
        return int(first) <= day_number <= int(last or first)
    except ValueError:
        return False


def _latest_checkin(session: Session, trip: Trip) -> tuple[datetime, str] | None:
    row = session.execute(
        select(Attendance.checked_in_at, Staff.name)
        .join(Staff, Staff.id == Attendance.staff_id)
        .where(Attendance.trip_id == trip.id)
        .order_by(Attendance.checked_in_at.desc())
        .limit(1)
    ).first()
    return (row[0], row[1]) if row else None


# -- feedback -------------------------------------------------------------------------------------
@in_reader_language
def feedback_page(
    session: Session,
    claims: links.LinkClaims,
    *,
    thanks: bool = False,
    error: str | None = None,
    comment_too_long: int | None = None,
) -> Page:
    """`comment_too_long`: the length of a comment over `feedback.MAX_COMMENT` (refused, 400)."""
    booking = booking_by_key(session, claims.reference_key)
    if booking is None or booking.status not in (
        BookingStatus.CONFIRMED,
        BookingStatus.COMPLETED,
    ):
        return refused(expired=False)
    departure = booking.departure
    context = {
        "booking": _summary(booking),
        "trek": texts.trek_label(departure.product),
        "open": feedback.can_rate(booking),
        "rating": booking.feedback_rating,
        "thanks": thanks,
        "error": words.sentence(error) if error else None,
        "too_long": comment_too_long,
        "max_comment": feedback.MAX_COMMENT,
    }
    said_no = error is not None or comment_too_long is not None
    return Page("feedback.html", context, status=400 if said_no else 200)
