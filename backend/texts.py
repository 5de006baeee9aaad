"""Every message the product sends, in one place, phrased as `shared/mission/workflows.md` has it.

Functions take domain objects and return text; nothing else in the code writes customer copy.
"""

from __future__ import annotations

from datetime import date, datetime

from backend.config import get_settings
from backend.domain.money import Money, Quote
from backend.models import Booking, Departure, Incident, Lead, Product, Staff, Trip


# -- formatting helpers ---------------------------------------------------------------------
def local_datetime(value: datetime) -> str:
    """`Dec 24, 2024 2:00 PM` in the operator's timezone."""
    local = value.astimezone(get_settings().tz)
    return f"{local:%b} {local.day}, {local.year} {local.strftime('%I:%M %p').lstrip('0')}"


def local_time(value: datetime) -> str:
    local = value.astimezone(get_settings().tz)
    return local.strftime("%I:%M %p").lstrip("0")


def long_date(value: date) -> str:
    """`Feb 28, 2025`."""
    return f"{value:%b} {value.day}, {value.year}"


def date_range(start: date, end: date) -> str:
    """`March 15-28, 2025`, or `March 20-April 3, 2025` across months."""
    if start == end:
        return f"{start:%B} {start.day}, {start.year}"
    if start.month == end.month and start.year == end.year:
        return f"{start:%B} {start.day}-{end.day}, {start.year}"
    if start.year == end.year:
        return f"{start:%B} {start.day}-{end:%B} {end.day}, {start.year}"
    return f"{start:%B} {start.day}, {start.year}-{end:%B} {end.day}, {end.year}"


def short_range(start: date, end: date) -> str:
    """`March 15-28` (the assignment message)."""
    if start.month == end.month:
        return f"{start:%B} {start.day}-{end.day}"
    return f"{start:%B} {start.day}-{end:%B} {end.day}"


def money(minor: int, currency: str) -> str:
    return Money(minor, currency).format()


def payment_link(reference_key: str, kind: str = "") -> str:
    base = get_settings().payment_base_url.rstrip("/")
    return f"{base}/{reference_key}" + (f"/{kind}" if kind else "")


def trek_label(product: Product) -> str:
    return f"{product.code} Trek" if product.code == product.short_name else product.short_name


# -- customer: enquiry, quote, hold, payment ---------------------------------------------------
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


def quote_message(rep: Staff | None, departure: Departure, quote: Quote) -> str:
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
        f"Payment link: {payment_link(booking.ref_key)}\n\n"
        "After payment:\n"
        "✓ Instant confirmation\n"
        "✓ Welcome kit sent\n"
        "✓ Preparation guide\n"
        "✓ Pre-trek checklist"
    )


def booking_confirmed(booking: Booking, paid_minor: int) -> str:
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
        + "✓ Confirmation email sent\n"
        "✓ Pre-trek guide attached\n\n"
        "Need help? Reply here anytime!"
    )


# -- customer: full departures and the waitlist -----------------------------------------------
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
        f"Confirm: https://book.tms.com/{booking.ref_key}"
    )


def spot_available_params(booking: Booking, *, hours: int) -> list[str]:
    departure = booking.departure
    return [
        departure.product.short_name,
        f"{departure.start_date:%B} {departure.start_date.day}",
        money(booking.total_minor, booking.currency),
        str(hours),
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


# -- guides and operations --------------------------------------------------------------------
def assignment_offer(trip: Trip, role_label: str, group_size: int, compensation: str) -> str:
    departure = trip.departure
    return (
        "📋 Trip Assignment\n\n"
        f"Trek: {departure.product.code} - {short_range(departure.start_date, departure.end_date)}\n"
        f"Role: {role_label}\n"
        f"Group: {group_size} people\n"
        f"Compensation: {compensation}\n\n"
        "Accept or Decline?"
    )


def incident_severity_label(incident: Incident) -> str:
    return incident.severity.capitalize()
