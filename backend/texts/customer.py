"""What customers read: enquiry, quote, hold, payment, the waitlist, answers, reminders, the
trip's news, consent, and the titles of the buttons they tap."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Protocol

from backend import links
from backend.config import get_settings
from backend.domain.currencies import currency_name
from backend.domain.money import Money, Quote
from backend.domain.wishes import Miss
from backend.models import Booking, Departure, Lead, Product, Staff, Trip
from backend.texts.format import (
    MEDIA_WORDS,
    date_range,
    local_datetime,
    local_time,
    long_date,
    money,
    payment_link,
    trek_label,
)


class RecommendedTrip(Protocol):
    """What the recommendation copy reads of a trip assessed against a wish
    (`backend.services.recommend.Fit`)."""

    @property
    def product(self) -> Product: ...

    @property
    def departures(self) -> list[tuple[Departure, int]]: ...

    @property
    def total_minor(self) -> int | None: ...

    @property
    def misses(self) -> list[Miss]: ...


def enquiry_received(lead: Lead, month_hint: str | None) -> str:
    product = lead.product
    name = trek_label(product) if product else "trek"
    dates_line = f"✓ Available dates in {month_hint}" if month_hint else "✓ Available dates"
    return (
        f"Thank you for your interest in {name}! 🏔️\n\n"
        f"I've created your enquiry (Ref: {lead.reference}).\n\n"
        "A sales expert will contact you within 2 hours with:\n"
        "✓ Detailed itinerary\n"
        "✓ Pricing options\n"
        f"{dates_line}\n\n"
        "Can you share:\n"
        "1. Specific dates or flexibility?\n"
        "2. Fitness level of group?\n"
        "3. Any special requirements?"
    )


def quote_message(
    rep: Staff | None, departure: Departure, quote: Quote, indicative: Money | None = None
) -> str:
    """Workflow 1 step 2. `indicative`: the total in the customer's own currency at today's
    rate plus its buffer, when a rate is set and their currency is not the price's."""
    product = departure.product
    operator = get_settings().operator_name
    greeting = (
        f"Hello! I'm {rep.name.split()[0]} from {operator} 👋"
        if rep
        else f"Hello from {operator} 👋"
    )
    lines = [
        greeting,
        "",
        f"Great choice on {trek_label(product)}! Here's what we have:",
        "",
        f"📅 Departure: {date_range(departure.start_date, departure.end_date)} ({product.days} days)",
        f"👥 Group: {quote.party_size} {'person' if quote.party_size == 1 else 'people'}",
        f"💰 Price: {quote.price_per_person} per person",
        "",
        "Includes:",
        *[f"✓ {item}" for item in product.inclusions],
        "",
        f"Total: {quote.subtotal} for {quote.party_size} pax",
    ]
    if quote.has_discount:
        deadline = quote.early_bird_deadline
        when = f" (book before {deadline:%b} {deadline.day})" if deadline else ""
        lines += ["", f"Early bird discount{when}: {quote.total}"]
    if indicative is not None:
        lines.append(
            f"≈ {indicative} in {currency_name(indicative.currency)} (indicative, at today's rate)"
        )
    lines += ["", f"Interested? I can hold {quote.party_size} spots for 24 hours."]
    return "\n".join(lines)


def hold_placed(booking: Booking, expires_at: datetime) -> str:
    departure = booking.departure
    return (
        f"Perfect! I've reserved {booking.party_size} spots on our "
        f"{departure.start_date:%B} {departure.start_date.day} {trek_label(departure.product)}.\n\n"
        f"📋 Booking ID: {booking.reference}\n"
        f"⏰ Hold expires: {local_datetime(expires_at)}\n\n"
        "To confirm, please:\n"
        f"1. Pay deposit: {money(booking.deposit_minor, booking.currency)} ({departure.product.deposit_percent}%)\n"
        "   OR\n"
        f"2. Pay full amount: {money(booking.total_minor, booking.currency)}\n\n"
        f"Payment link: {payment_link(booking.ref_key)}\n"
        + (f"{transfer_possible()}\n" if transfer_possible() else "")
        + "\nAfter payment:\n"
        "✓ Instant confirmation\n"
        "✓ Welcome kit sent\n"
        "✓ Preparation guide\n"
        "✓ Pre-trek checklist"
    )


def booking_confirmed(booking: Booking, paid_minor: int) -> str:
    """Workflow 1 step 4. The e-mail lines say what happened: sent when the customer gave an
    address, else the offer to send it."""
    departure = booking.departure
    product = departure.product
    return (
        "🎉 Booking Confirmed!\n\n"
        f"Booking: {booking.reference}\n"
        f"Trek: {product.short_name}\n"
        f"Dates: {date_range(departure.start_date, departure.end_date)}\n"
        f"People: {booking.party_size}\n\n"
        f"Paid: {money(paid_minor, booking.currency)}\n"
        + (
            f"Balance: {money(booking.balance_minor, booking.currency)} (due {long_date(booking.balance_due_date)})\n\n"
            if booking.balance_minor
            else "Balance: fully paid ✓\n\n"
        )
        + (
            "✓ Confirmation email sent\n✓ Pre-trek guide attached\n\n"
            if booking.contact.email
            else "📧 Reply with your e-mail address for the confirmation and the pre-trek guide.\n\n"
        )
        + "Need help? Reply here anytime!"
    )


def departure_full_options(product: Product, full: Departure, alternative: Departure | None) -> str:
    alt = (
        f"{alternative.start_date:%B} {alternative.start_date.day}: Available ✓\n\n"
        if alternative
        else ""
    )
    option_one = (
        f"1. Book {alternative.start_date:%B} {alternative.start_date.day} (confirm now)\n"
        if alternative
        else "1. Talk to our team about other options\n"
    )
    return (
        f"{product.short_name} is very popular! 🏔️\n\n"
        f"{full.start_date:%B} {full.start_date.day}: FULLY BOOKED ❌\n"
        f"{alt}"
        "Options:\n"
        f"{option_one}"
        f"2. Join waitlist for {full.start_date:%B} {full.start_date.day}\n"
        "3. See other dates\n\n"
        "Reply: 1, 2, or 3"
    )


def waitlist_joined(booking: Booking, position: int) -> str:
    departure = booking.departure
    hours = get_settings().waitlist_offer_hours
    return (
        "✓ Added to waitlist\n\n"
        f"Trek: {departure.product.short_name}\n"
        f"Date: {departure.start_date:%B} {departure.start_date.day}\n"
        f"Position: #{position} on waitlist\n\n"
        "If a spot opens:\n"
        "✓ You'll be auto-notified\n"
        f"✓ {hours}-hour window to confirm\n"
        "✓ Payment link sent instantly\n\n"
        "Alternative dates available.\n"
        'Reply "DATES" to see.'
    )


def spot_available(booking: Booking, *, hours: int) -> str:
    departure = booking.departure
    return (
        "🎉 SPOT AVAILABLE!\n\n"
        f"{departure.product.short_name} - {departure.start_date:%B} {departure.start_date.day}\n\n"
        "A spot just opened up!\n\n"
        f"Price: {money(booking.total_minor, booking.currency)}\n"
        f"Hold expires: {hours} hours\n\n"
        "CONFIRM to book now.\n"
        "DECLINE to keep on waitlist.\n\n"
        f"Confirm: {links.book_url(booking.ref_key)}"
    )


def spot_available_params(booking: Booking, *, hours: int) -> list[str]:
    departure = booking.departure
    return [
        departure.product.short_name,
        f"{departure.start_date:%B} {departure.start_date.day}",
        money(booking.total_minor, booking.currency),
        str(hours),
        links.book_url(booking.ref_key),
    ]


def waitlist_confirmed(booking: Booking) -> str:
    departure = booking.departure
    return (
        "✅ CONFIRMED!\n\n"
        "Your patience paid off! 🎉\n\n"
        f"Booking: {booking.reference}\n"
        f"Trek: {departure.product.short_name}\n"
        f"Date: {date_range(departure.start_date, departure.end_date).rsplit(',', 1)[0]}\n"
        f"Price: {money(booking.total_minor, booking.currency)} (paid)\n\n"
        "Welcome kit sent!\n\n"
        f"See you on {departure.start_date:%B} {departure.start_date.day}! 🏔️"
    )


def trip_started_for_guests(trip: Trip, guide: Staff | None, booking: Booking) -> str:
    product = trip.departure.product
    lines = [f"Your {trek_label(product)} has started! 🎉", ""]
    if guide is not None:
        lines += [f"Lead Guide: {guide.name}", f"Contact: {guide.phone}", ""]
    lines += [
        "Have an amazing journey!",
        "",
        "Track progress:",
        links.track_url(booking.ref_key),
    ]
    return "\n".join(lines)


def feedback_request(trip: Trip, booking: Booking) -> str:
    return (
        f"🎉 Congratulations on completing {trek_label(trip.departure.product)}!\n\n"
        "We hope you had an amazing journey!\n\n"
        "Please share:\n"
        "1. Your feedback\n"
        "2. Trip photos\n"
        "3. Review\n\n"
        f"Upload: {links.feedback_url(booking.ref_key)}\n\n"
        "Or just reply with a rating from 1 to 5 ⭐\n\n"
        "Thank you for traveling with us! 🙏"
    )


def papers_invite(booking: Booking, link: str) -> str:
    """Right after the deposit: the travellers' papers page (backend/web/papers.py)."""
    departure = booking.departure
    people = booking.party_size
    whose = "your" if people == 1 else f"each of the {people} travellers'"
    return (
        f"📋 One more step for your {trek_label(departure.product)} "
        f"({long_date(departure.start_date)}): the trekking permits are issued in {whose} "
        "passport name, so we need the passport details, travel insurance (with helicopter "
        "evacuation), an emergency contact and the arrival flight"
        f"{'' if people == 1 else ' of everyone'}.\n\n"
        f"Fill them in here, on your phone, a traveller at a time (it saves as you go): {link}\n\n"
        "The link is yours alone: please don't share it. You can correct the details until "
        "our operations team has checked them."
    )


def passed_to_the_team() -> str:
    """A customer's message that reads like a guide's command ("Issue with my payment",
    "Check-in time at Lukla?"): a person answers it."""
    return "Thanks! I've passed your message to our team; a person will reply here shortly."


def question_for_the_team() -> str:
    return (
        "Good question! I don't want to guess, so I've passed it to our team: "
        "someone will reply here shortly. 🙏"
    )


def help_message() -> str:
    return (
        "I'm the booking assistant of "
        f"{get_settings().operator_name} 🏔️ I can help you:\n"
        '• enquire about a trek (e.g. "Everest Base Camp for 2 in April")\n'
        "• see dates, prices and what's included\n"
        "• hold seats, pay, check or cancel a booking\n"
        "• join a waitlist\n\n"
        'I\'ve kept your message for our team too. Reply "agent" to talk to a person.'
    )


def greeting(name: str | None) -> str:
    hello = f"Hi {name.split()[0]}! 👋" if name else "Hi! 👋"
    return (
        f"{hello} Welcome to {get_settings().operator_name}.\n\n"
        "Which trek are you dreaming of? We run Everest Base Camp, Annapurna Circuit and "
        "Pokhara Sightseeing."
    )


def goodbye() -> str:
    return "Thanks for chatting with us! Reply here anytime. 🙏"


def you_are_welcome() -> str:
    return "You're welcome! 😊 Anything else I can help with?"


def ask_trek(products: list[Product]) -> str:
    names = ", ".join(p.name for p in products)
    return f"Which trek are you interested in? We run: {names}."


def ask_group_size() -> str:
    return "How many people will be travelling?"


def enquiry_trek_changed(lead: Lead, old: Product | None) -> str:
    name = trek_label(lead.product) if lead.product else "the trek"
    party = (
        f" for {lead.party_size} {'person' if lead.party_size == 1 else 'people'}"
        if lead.party_size
        else ""
    )
    was = f" instead of {trek_label(old)}" if old else ""
    return (
        f"No problem! I've changed your enquiry (Ref: {lead.reference}) to {name}{party}{was}. 🏔️\n\n"
        "Your sales expert has been told and will send the itinerary and prices for it."
    )


def details_noted() -> str:
    return "Thank you, noted! ✓ Your sales expert will include this in your options."


def no_open_enquiry() -> str:
    return "Thanks! Tell me which trek you are interested in and I'll open an enquiry for you."


def hold_needs_quote(lead: Lead) -> str:
    rep = lead.assigned_staff.name.split()[0] if lead.assigned_staff else "Our sales team"
    return (
        f"Great! {rep} is preparing your quote for {lead.reference}; "
        "as soon as it's ready we can hold your spots. I've let them know you'd like to go ahead. 🙌"
    )


def hold_failed_no_seats(departure: Departure, available: int) -> str:
    left = f"only {available} left" if available else "it is now full"
    return (
        f"Sorry, the {departure.start_date:%B} {departure.start_date.day} departure has {left}. "
        'Reply DATES to see other dates, or "waitlist" to join the waitlist.'
    )


def dates_list(product: Product, rows: list[tuple[Departure, int]]) -> str:
    if not rows:
        return f"There are no upcoming departures of {product.name} right now. Our team can suggest alternatives."
    lines = [f"📅 Upcoming {product.name} departures:", ""]
    for departure, free in rows:
        status = f"{free} spots left ✓" if free else "FULLY BOOKED ❌"
        lines.append(f"• {date_range(departure.start_date, departure.end_date)}: {status}")
    lines += ["", 'Tell me the date and group size to book, e.g. "March 27 for 2".']
    return "\n".join(lines)


def recommendations(fits: Sequence[RecommendedTrip], wish_party: int | None) -> str:
    """The trips that fit a described wish, with departures and the party's price."""
    lines = ["Here's what fits what you told me 👇", ""]
    for fit in fits:
        product = fit.product
        altitude = f", up to {product.max_altitude_m:,} m" if product.max_altitude_m else ""
        lines.append(
            f"🏔️ {product.name}: {product.days} day{'s' if product.days > 1 else ''}, "
            f"{product.difficulty}{altitude}"
        )
        dates = ", ".join(
            f"{d.start_date:%b} {d.start_date.day} ({free} seats)" for d, free in fit.departures
        )
        lines.append(f"📅 Next: {dates}")
        price = money(product.price_per_person_minor, product.currency)
        if fit.total_minor is not None and wish_party:
            lines.append(
                f"💰 {price} per person: {money(fit.total_minor, product.currency)} for {wish_party}"
            )
        else:
            lines.append(f"💰 {price} per person")
        lines.append("")
    lines.append('Tell me the date and how many of you to hold seats, e.g. "December 23 for 4".')
    return "\n".join(lines)


def miss_phrase(miss: Miss, product: Product) -> str:
    """Why a trip does not fit, in a clause: "it is 14 days (you said 7 at most)"."""
    match miss.kind:
        case "too_long":
            return f"it is {miss.value} days (you said {miss.wanted} at most)"
        case "not_easy":
            return f"it is {miss.value}, not easy"
        case "not_a_challenge":
            return f"it is {miss.value}, not a challenge"
        case "too_high":
            return f"it goes up to {miss.value:,} m"
        case "too_young":
            return f"the minimum age is {miss.value}"
        case "over_budget":
            return f"it costs {money(product.price_per_person_minor, product.currency)} per person"
        case "no_seats":
            when = f" in {miss.value}" if miss.value else ""
            seats = int(miss.wanted or 1)
            return f"no departure{when} has {seats} free seat{'s' if seats > 1 else ''}"
        case _:  # too_hard
            return f"it is {miss.value}"


def nothing_fits(closest: Sequence[RecommendedTrip]) -> str:
    lines = ["Nothing we run fits all of that, I'm afraid. The closest:", ""]
    for fit in closest:
        lines.append(
            f"• {fit.product.name}: {'; '.join(miss_phrase(m, fit.product) for m in fit.misses)}."
        )
    lines += ["", "Our team can also plan a private trip: reply TEAM and a person will help."]
    return "\n".join(lines)


def ask_what_kind_of_trip() -> str:
    return (
        "Happy to suggest something! Tell me a little more: how many days you have, how "
        "challenging you'd like it (easy, moderate, challenging), when you're travelling and "
        "who's coming (any children?)."
    )


def no_dates_in(product: Product, when: str) -> str:
    return f"No {product.name} departure in {when}, I'm afraid."


def price_info(product: Product, party: int | None = None) -> str:
    price = money(product.price_per_person_minor, product.currency)
    lines = [f"💰 {product.name}: {price} per person ({product.days} days)."]
    if party and party > 1:
        total = money(product.price_per_person_minor * party, product.currency)
        lines.append(f"For your group of {party}: {total}.")
    if product.early_bird_percent:
        lines.append(
            f"Early bird: {product.early_bird_percent}% off when you book "
            f"{product.early_bird_days_before}+ days before departure."
        )
    lines.append(
        f"Deposit {product.deposit_percent}% to confirm; balance due {product.balance_due_days_before} days before departure."
    )
    return "\n".join(lines)


def inclusions_info(product: Product) -> str:
    return "\n".join([f"{product.name} includes:", *[f"✓ {item}" for item in product.inclusions]])


def which_trek_for_info() -> str:
    return "Which trek would you like to know about? Everest Base Camp, Annapurna Circuit or Pokhara Sightseeing?"


def payment_info(booking: Booking) -> str:
    if booking.balance_minor == 0:
        return f"Booking {booking.reference} is fully paid ✓ Nothing more to pay."
    if booking.paid_minor == 0:
        return (
            f"Booking {booking.reference}:\n"
            f"Deposit: {money(booking.deposit_minor, booking.currency)} or full amount: "
            f"{money(booking.total_minor, booking.currency)}\n\n"
            f"Payment link: {payment_link(booking.ref_key)}"
            + (f"\n{transfer_possible()}" if transfer_possible() else "")
        )
    return (
        f"Booking {booking.reference}:\n"
        f"Paid: {money(booking.paid_minor, booking.currency)}\n"
        f"Balance: {money(booking.balance_minor, booking.currency)} (due {long_date(booking.balance_due_date)})\n\n"
        f"Pay now: {payment_link(booking.ref_key, 'balance')}"
        + (f"\n{transfer_possible()}" if transfer_possible() else "")
    )


def no_booking() -> str:
    return "I couldn't find a booking on this number. If you booked with another number, send me its reference (like EBC-2501234)."


_STATUS_WORDS = {
    "WAITLISTED": "on the waitlist",
    "OFFERED": "offered a spot (reply CONFIRM to take it)",
    "HELD": "held for you, waiting for payment",
    "PAYMENT_PENDING": "payment received, confirming",
    "CONFIRMED": "confirmed ✓",
    "COMPLETED": "completed 🎉",
    "EXPIRED": "expired",
    "CANCELLED": "cancelled",
}


def booking_status(booking: Booking, position: int | None = None) -> str:
    departure = booking.departure
    lines = [
        f"📋 Booking {booking.reference}",
        f"Trek: {departure.product.short_name}",
        f"Dates: {date_range(departure.start_date, departure.end_date)}",
        f"People: {booking.party_size}",
        f"Status: {_STATUS_WORDS.get(booking.status, booking.status)}",
    ]
    if position is not None:
        lines.append(f"Position: #{position} on waitlist")
    if booking.paid_minor:
        lines.append(f"Paid: {money(booking.paid_minor, booking.currency)}")
    if booking.balance_minor and booking.status in ("CONFIRMED", "HELD", "PAYMENT_PENDING"):
        lines.append(
            f"Balance: {money(booking.balance_minor, booking.currency)} (due {long_date(booking.balance_due_date)})"
        )
    return "\n".join(lines)


def cancel_confirm_question(booking: Booking) -> str:
    departure = booking.departure
    return (
        f"Do you really want to cancel booking {booking.reference} "
        f"({departure.product.short_name}, {date_range(departure.start_date, departure.end_date)}, "
        f"{booking.party_size} people)?\n\nReply YES to cancel or NO to keep it."
    )


def cancelled(booking: Booking) -> str:
    # What comes back of a paid booking follows in its own message (refund_choice_question,
    # refund_nothing_back).
    return f"Booking {booking.reference} is cancelled. We're sorry to see you go."


def cancel_kept(booking: Booking) -> str:
    return f"No problem, booking {booking.reference} stays as it is. 👍"


# -- refunds and credits after a cancellation (backend/services/refunds.py) -------------------
REFUND_BUTTON = "Refund"
CREDIT_BUTTON = "Credit for later"  # WhatsApp keeps 20 characters of a button


def refund_choice_question(booking: Booking, amount_minor: int, policy_note: str | None) -> str:
    why = f" ({policy_note})" if policy_note else ""
    return (
        f"Under our cancellation policy{why}, {money(amount_minor, booking.currency)} of what "
        f"you paid for {booking.reference} comes back to you.\n\n"
        "Would you like it refunded to how you paid, or kept as a credit for a later trip "
        "(any trek, you pay with it on the pay page)? Reply REFUND or CREDIT."
    )


def refund_nothing_back(booking: Booking, policy_note: str | None) -> str:
    why = f" ({policy_note})" if policy_note else ""
    return (
        f"Under our cancellation policy{why}, nothing of what you paid for {booking.reference} "
        "comes back. If you think that's wrong, reply here and a person will look at it."
    )


def refund_policy_note(days_before: int, line: PolicyLineView | None, currency: str) -> str:
    if line is None:
        return f"cancelled {_policy_days(max(days_before, 0))} before departure"
    return (
        f"cancelled {_policy_days(max(days_before, 0))} before departure: "
        f"{_policy_outcome(line, currency)}"
    )


def refund_policy_note_operator() -> str:
    return "we cancelled the departure: everything you paid comes back"


def refund_choice_received(booking: Booking, choice: str, amount_minor: int) -> str:
    what = "a refund" if choice == "refund" else "a credit for a later trip"
    return (
        f"Thanks, noted: {what} of {money(amount_minor, booking.currency)} for "
        f"{booking.reference}. Our team approves it shortly and we'll tell you here."
    )


def refund_choice_already(booking: Booking, status: str, choice: str | None) -> str:
    if status == "AWAITING_APPROVAL" and choice:
        what = "a refund" if choice == "refund" else "a credit for a later trip"
        return f"You chose {what} for {booking.reference}; our team is on it."
    return f"The refund for {booking.reference} is already settled ({status.lower().replace('_', ' ')})."


def refund_paid_out(booking: Booking, amount_minor: int, currency: str, method: str) -> str:
    if method in ("stripe", "local"):
        how = "to the card you paid with; it shows on your statement within 5 to 10 working days"
    elif method == "credit":
        how = "back to your credit for a later trip, as you paid it"
    else:
        how = "by bank transfer; it reaches your account within a few working days"
    return f"💸 We've refunded {money(amount_minor, currency)} for {booking.reference} {how}."


def credit_issued(booking: Booking, amount_minor: int, available_minor: int, currency: str) -> str:
    return (
        f"🎟️ {money(amount_minor, currency)} from {booking.reference} is now credit for a later "
        f"trip (your credit: {money(available_minor, currency)}). Book any trek as usual and "
        'choose "Pay with credit" on the pay page, or tell us here and we\'ll apply it.'
    )


def refund_declined(booking: Booking, reason: str) -> str:
    return (
        f"About your refund for {booking.reference}: our team could not approve it ({reason}). "
        "Reply here if you'd like to talk it over."
    )


class PolicyLineView(Protocol):
    """What the policy's copy reads of a line (`backend.services.cancellation_policy.PolicyLine`)."""

    @property
    def days_before(self) -> int: ...

    @property
    def refund_percent(self) -> int: ...

    @property
    def fee_minor(self) -> int: ...


def _policy_days(days: int) -> str:
    return "24 hours" if days == 1 else f"{days} days"


def _policy_outcome(line: PolicyLineView, currency: str) -> str:
    if line.refund_percent == 0:
        return "no refund"
    if line.refund_percent == 100:
        what = "everything you've paid comes back"
    else:
        what = f"{line.refund_percent}% of the trip's price comes back"
        what += " (never more than you've paid)"
    if line.fee_minor:
        what += f", minus a {money(line.fee_minor, currency)} admin fee"
    return what


def cancellation_policy_answer(
    lines: Sequence[PolicyLineView],
    currency: str,
    *,
    product: Product | None = None,
    notes: str | None = None,
) -> str:
    """The FAQ's answer on cancelling, written from the policy's lines (most days first);
    `product` when the lines are that product's own; `notes`: what else the operator says."""
    title = (
        f"Cancellation policy for the {product.name}:"
        if product is not None
        else "Our cancellation policy:"
    )
    out = [title]
    previous: int | None = None
    for line in lines:
        outcome = _policy_outcome(line, currency)
        if previous is None and line.days_before == 0:
            when = "Whenever you cancel"
        elif previous is None:
            when = f"{_policy_days(line.days_before)} or more before departure"
            when = when[0].upper() + when[1:]
        elif line.days_before == 0:
            when = f"Less than {_policy_days(previous)} before"
        else:
            when = f"{line.days_before} to {previous - 1} days before"
        out.append(f"• {when}: {outcome}")
        previous = line.days_before
    if notes and notes.strip():
        out += ["", notes.strip()]
    return "\n".join(out)


def refundable_today(
    booking: Booking, *, amount_minor: int, paid_minor: int, days_before: int
) -> str:
    """The chat's "how much would I get back?" for the customer's paid booking."""
    when = (
        f"today ({days_before} day{'' if days_before == 1 else 's'} before departure)"
        if days_before > 0
        else "today"
    )
    paid = money(paid_minor, booking.currency)
    if amount_minor <= 0:
        return (
            f"For your booking {booking.reference}: if you cancelled {when}, nothing of the "
            f"{paid} you've paid would come back under the policy. You can still ask us about "
            "moving to another date."
        )
    return (
        f"For your booking {booking.reference}: if you cancelled {when}, "
        f"{money(amount_minor, booking.currency)} of the {paid} you've paid would come back."
    )


def handoff_started(rep: Staff | None) -> str:
    who = rep.name.split()[0] if rep else "A member of our team"
    return f"Sure! {who} will reply to you here shortly. 🙋"


def ask_email() -> str:
    return (
        "📧 What e-mail address should we send your confirmation and pre-trek guide to? "
        "(Reply SKIP to keep everything on WhatsApp.)"
    )


def email_saved(address: str, confirmations: list[str]) -> str:
    if confirmations:
        return (
            f"✓ Thanks! Your confirmation for {', '.join(confirmations)} and the pre-trek guide "
            f"are on their way to {address}."
        )
    return f"✓ Thanks! We'll e-mail your confirmation and pre-trek guide to {address}."


def email_not_understood() -> str:
    return (
        "That doesn't look like an e-mail address. Could you type it again (like name@example.com)?"
    )


def email_skipped() -> str:
    return "No problem, everything stays here on WhatsApp. 👍"


def rating_thanks(rating: int, name: str | None) -> str:
    first = f" {name.split()[0]}" if name else ""
    stars = "⭐" * rating
    follow = (
        "We're so glad you enjoyed it! 🙏"
        if rating >= 4
        else "Thank you for telling us. Our team will look into it and may reach out. 🙏"
    )
    return f"Thank you{first}! {stars}\n\n{follow}"


def feedback_thanks(name: str | None) -> str:
    return f"Thank you{' ' + name.split()[0] if name else ''} for your feedback! 🙏 We've passed it to the team."


def ok_nothing_pending() -> str:
    return "👍 Got it. How can I help? You can ask about dates, prices or your booking."


def no_problem() -> str:
    return "No problem! Let me know if there's anything else I can help with."


def ask_party_size() -> str:
    return 'How many people will be travelling? (a number, or "just me")'


def waitlist_offer_declined(booking: Booking) -> str:
    return f"No problem, you stay on the waitlist for {booking.departure.product.short_name}. We'll message you if another spot opens."


def waitlist_offer_accepted(booking: Booking, expires_at: datetime) -> str:
    return (
        f"🎉 Spot reserved! Booking {booking.reference}\n\n"
        f"Please pay within {get_settings().waitlist_payment_minutes} minutes "
        f"(until {local_time(expires_at)}).\n\n"
        f"Price: {money(booking.total_minor, booking.currency)}\n"
        f"Payment link: {payment_link(booking.ref_key)}"
    )


# Titles: reply buttons ≤ 20 characters, list rows ≤ 24 (longer ones are shortened on queueing).
ACCEPT, DECLINE = "Accept", "Decline"


CONFIRM = "Confirm"


HOLD_MY_SEATS, NOT_NOW = "Hold my seats", "Not now"


LIST_BUTTON = "Choose"  # the button that opens a list


RATING_TITLES = {
    5: "⭐⭐⭐⭐⭐ Excellent",
    4: "⭐⭐⭐⭐ Very good",
    3: "⭐⭐⭐ Good",
    2: "⭐⭐ Fair",
    1: "⭐ Poor",
}


def full_option_titles(full: Departure, alternative: Departure | None) -> list[tuple[str, str]]:
    """The three options of a full departure as list rows (title, description)."""
    return [
        (
            f"Book {alternative.start_date:%b} {alternative.start_date.day}"
            if alternative
            else "Talk to our team",
            "Confirm the available date now" if alternative else "Other options with a person",
        ),
        (f"Waitlist {full.start_date:%b} {full.start_date.day}", "Be told if a spot opens"),
        ("See other dates", "Every departure with free seats"),
    ]


def choice_expired() -> str:
    return (
        "That button belongs to an older message and no longer applies. "
        'Reply "help" to see what I can do, or ask me anything.'
    )


def waitlist_offer_gone(booking: Booking) -> str:
    return (
        f"The spot offered on {booking.departure.product.short_name} is no longer open "
        f"(booking {booking.reference} is {str(booking.status).lower()}). "
        'Reply "status" to see where you stand.'
    )


def seats_already_held(booking: Booking) -> str:
    return (
        f"Your seats are already held: booking {booking.reference}. "
        f"Payment link: {payment_link(booking.ref_key)}"
    )


def hold_not_now() -> str:
    return "No problem. The quote stays with us: reply HOLD whenever you are ready. 🙂"


def already_rated(rating: int) -> str:
    return f"Thanks, we already have your rating ({'⭐' * rating}). 🙏"


def media_received(kind: str) -> str:
    what = MEDIA_WORDS.get(kind, "message")
    return f"Thanks, we've received your {what}. Our team can see it. ✓"


def unsupported_message() -> str:
    return "Sorry, I can only read text messages. Please type your question and I'll help. 🙂"


def balance_received(booking: Booking, amount_minor: int) -> str:
    return (
        f"✅ Payment received: {money(amount_minor, booking.currency)} for {booking.reference}.\n"
        + (
            "Your booking is fully paid. See you on the trail! 🏔️"
            if booking.balance_minor == 0
            else f"Balance: {money(booking.balance_minor, booking.currency)} (due {long_date(booking.balance_due_date)})"
        )
    )


def cash_receipt_customer(
    booking: Booking,
    receipt: str,
    amount_minor: int,
    currency: str,
    received_by: Staff,
    day: date,
) -> str:
    return (
        f"🧾 Cash receipt {receipt}\n\n"
        f"Received: {money(amount_minor, currency)} in cash for {booking.reference}\n"
        f"Date: {long_date(day)}\n"
        f"Received by: {received_by.name}\n\n"
        "Please keep this number: it is your receipt."
    )


def payment_needs_staff_customer(booking: Booking) -> str:
    return (
        f"We received your payment for {booking.reference}. Our team needs to check it and will "
        "contact you shortly. Nothing else to do for now. 🙏"
    )


# -- transfer and card-link receipts (backend/services/payment_proofs.py) ------------------------
def transfer_possible() -> str:
    """One line under a payment link when transfers are on: where the details are, what to do."""
    if "bank_transfer" not in get_settings().enabled_payment_methods:
        return ""
    return "🏦 Bank transfer also possible: details on the payment page; send us the receipt here."


def proof_received(booking: Booking) -> str:
    held = "; your seats stay held meanwhile" if booking.status == "HELD" else ""
    return (
        f"Thanks! We've received your payment receipt for {booking.reference} and are checking it "
        f"now. You'll hear from us here once it's verified{held}. 🙏"
    )


def proof_already_received(booking: Booking) -> str:
    return (
        f"We already have this receipt for {booking.reference} ✓ (already received). "
        "No need to send it again: we'll message you once it's checked."
    )


def proof_rejected(booking: Booking, reason: str, hold_until: datetime | None) -> str:
    held = f" Your seats stay held until {local_datetime(hold_until)}." if hold_until else ""
    return (
        f"We couldn't verify the payment receipt for {booking.reference}: {reason}\n\n"
        "Please send a clear photo or PDF of the bank's receipt showing the amount, the date and "
        f"the reference {booking.reference}, or pay another way: "
        f"{payment_link(booking.ref_key)}{held}"
    )


def guests_travel_update(trip: Trip, text: str) -> str:
    return (
        "Travel Update 📍\n\n"
        f"Trip: {trip.departure.product.short_name}\n"
        f"{text.strip()}\n\n"
        "Your safety and comfort are our priority.\n\n"
        "Any concerns? Reply here."
    )


def affected_guest_update(text: str) -> str:
    return f"Hello,\n\n{text.strip()}"


def guests_all_set() -> str:
    return (
        "✅ All Set!\n\n"
        "Back on track! 🚐\n\n"
        "Continuing to our destinations.\n\n"
        "Thank you for your patience!"
    )


def _days_word(days: int) -> str:
    return "1 day" if days == 1 else f"{days} days"


def hold_expired(booking: Booking) -> str:
    departure = booking.departure
    return (
        f"⏰ Your hold on {booking.reference} has expired.\n\n"
        f"The {booking.party_size} "
        f"{'spot' if booking.party_size == 1 else 'spots'} on "
        f"{departure.product.short_name} ({departure.start_date:%B} {departure.start_date.day}) "
        "have been released.\n\n"
        "Still keen? Reply BOOK and we'll check what's free, or DATES for other departures."
    )


def hold_expired_params(booking: Booking) -> list[str]:
    departure = booking.departure
    return [
        booking.reference,
        f"{departure.product.short_name} ({departure.start_date:%B} {departure.start_date.day})",
    ]


def offer_expired(booking: Booking) -> str:
    departure = booking.departure
    return (
        f"⏰ The spot we offered on {departure.product.short_name} "
        f"({departure.start_date:%B} {departure.start_date.day}) was not confirmed in time, "
        "so it has passed to the next person on the waitlist.\n\n"
        "Reply DATES to see other departures."
    )


# The pre-departure message's checklist; the pre-trek guide (PDF) prints the same list.
PRE_DEPARTURE_CHECKLIST = (
    "Valid passport (check!)",
    "Travel insurance",
    "Nepal visa ($50 on arrival)",
    "Vaccinations recommended",
)


def pre_departure(booking: Booking, today: date) -> str:
    departure = booking.departure
    days = (departure.start_date - today).days
    lines = [
        f"Hi! Your {trek_label(departure.product)} starts in {_days_word(days)}! 🏔️",
        "",
        "Pre-departure checklist:",
        *(f"✓ {item}" for item in PRE_DEPARTURE_CHECKLIST),
        "",
    ]
    if booking.balance_minor:
        due_in = (booking.balance_due_date - today).days
        when = f"{_days_word(due_in)}" if due_in > 0 else ("today" if due_in == 0 else "overdue")
        lines += [
            f"Balance payment: {money(booking.balance_minor, booking.currency)}",
            f"Due: {booking.balance_due_date:%b} {booking.balance_due_date.day} ({when})",
            "",
            f"Pay now: {payment_link(booking.ref_key, 'balance')}",
            "",
        ]
    else:
        lines += ["Balance: fully paid ✓", ""]
    lines.append("Questions? Reply here!")
    return "\n".join(lines)


def pre_departure_params(booking: Booking, today: date) -> list[str]:
    """The pre-departure template's parameters; without the balance once it is paid."""
    departure = booking.departure
    params = [trek_label(departure.product), _days_word((departure.start_date - today).days)]
    if not booking.balance_minor:
        return params
    return [
        *params,
        money(booking.balance_minor, booking.currency),
        long_date(booking.balance_due_date),
        payment_link(booking.ref_key, "balance"),
    ]


def balance_reminder(booking: Booking, today: date) -> str:
    days = (booking.balance_due_date - today).days
    when = "tomorrow" if days == 1 else ("today" if days <= 0 else f"in {days} days")
    return (
        f"💳 Reminder: the balance for {booking.reference} is due {when}.\n\n"
        f"Trek: {booking.departure.product.short_name}\n"
        f"Balance: {money(booking.balance_minor, booking.currency)}\n"
        f"Due: {long_date(booking.balance_due_date)}\n\n"
        f"Pay now: {payment_link(booking.ref_key, 'balance')}\n\n"
        "Already paid? Reply here and we'll check."
    )


def balance_reminder_params(booking: Booking) -> list[str]:
    return [
        booking.reference,
        money(booking.balance_minor, booking.currency),
        long_date(booking.balance_due_date),
        payment_link(booking.ref_key, "balance"),
    ]


def consent_stopped() -> str:
    return (
        "You're unsubscribed: no more offers, surveys or reminders that can wait. "
        "We'll still message you about your bookings, payments due and your trip's safety. "
        "Reply START to hear from us again."
    )


def consent_started() -> str:
    return "Welcome back! You'll get our trip updates and offers again. Reply STOP any time."
