"""Every message the product sends, in one place, phrased as `shared/mission/workflows.md` has it.

Functions take domain objects and return text; nothing else in the code writes customer copy.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from backend import links
from backend.config import get_settings
from backend.domain.money import Money, Quote
from backend.models import Assignment, Booking, Departure, Incident, Lead, Product, Staff, Trip

if TYPE_CHECKING:
    from backend.services.recommend import Fit


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
    """The booking's signed pay link (`kind`: deposit, full or balance; none: the choice)."""
    return links.pay_url(reference_key, kind or None)


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


def assignment_accepted(trip: Trip, *, emailed: bool = True) -> str:
    departure = trip.departure
    details = (
        "Trip details sent to your email."
        if emailed
        else "We have no e-mail address for you: operations will send the trip details."
    )
    return (
        "✓ Assignment confirmed!\n\n"
        f"{details}\n\n"
        f"Start date: {departure.start_date:%B} {departure.start_date.day}, "
        f"{clock_label(departure.meeting_time)}\n"
        f"Meeting point: {departure.meeting_point}\n\n"
        "Check-in on WhatsApp when trip starts."
    )


def checkin_too_early(trip: Trip) -> str:
    """Why a CHECKIN before the trip's first day (the operator's date) is refused."""
    departure = trip.departure
    return (
        f"trip {trip.reference} ({departure.product.short_name}) starts on "
        f"{departure.start_date:%B} {departure.start_date.day}; check in on the day, "
        f"at the meeting point ({clock_label(departure.meeting_time)})"
    )


def assignment_declined(trip: Trip) -> str:
    return (
        f"Noted: you declined {trip.departure.product.code} - "
        f"{short_range(trip.departure.start_date, trip.departure.end_date)}.\n\n"
        "Operations has been told. Thank you for letting us know."
    )


def clock_label(hhmm: str) -> str:
    hour, minute = (int(x) for x in hhmm.split(":"))
    suffix = "AM" if hour < 12 else "PM"
    return f"{(hour % 12) or 12}:{minute:02d} {suffix}"


def checked_in(trip: Trip, guests: int) -> str:
    product = trip.departure.product
    return (
        f"✓ Checked in to {trek_label(product)}\n\n"
        f"Duration: {product.days} {'day' if product.days == 1 else 'days'}\n"
        f"Group: {guests} guests\n"
        f"Emergency: {get_settings().emergency_phone}\n\n"
        "Safe journey! 🏔️"
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


def ops_trip_started(trip: Trip, guide: Staff, guests: int) -> str:
    return (
        f"🟢 Trip started: {trip.reference} ({trip.departure.product.name})\n"
        f"Checked in by {guide.name} ({guide.phone}) · {guests} guests"
    )


def issue_logged(trip: Trip, incident: Incident) -> str:
    return (
        "⚠️ Issue logged\n\n"
        f"Trip: {trip.reference}\n"
        f"Severity: {incident.severity.capitalize()}\n"
        f"Time: {local_time(incident.reported_at)}\n"
        "Ops team notified.\n\n"
        f"Support line: {get_settings().emergency_phone}\n\n"
        "Updates coming soon."
    )


def ops_incident_alert(trip: Trip, incident: Incident, reporter: Staff | None) -> str:
    urgent = incident.severity in ("HIGH", "CRITICAL")
    head = "🚨 URGENT" if urgent else "⚠️"
    who = f"{reporter.name} ({reporter.phone})" if reporter else "field staff"
    return (
        f"{head} Incident on {trip.reference} ({trip.departure.product.name})\n"
        f"Severity: {incident.severity}\n"
        f"Reported by {who} at {local_time(incident.reported_at)}:\n"
        f"{incident.description}\n\n"
        f"Incident id: {incident.id}"
    )


def update_logged(trip: Trip) -> str:
    return f"✓ Update added to {trip.reference}. Ops team can see it."


def update_still_open(trip: Trip) -> str:
    return (
        f"✓ Update added to {trip.reference}: the issue stays open and ops can see it.\n"
        "Send UPDATE <ref> <text> again when it is resolved."
    )


def update_unclear(trip: Trip) -> str:
    """Asked when an UPDATE neither clearly resolves nor clearly continues the issue: guests
    hear nothing until the guide answers."""
    return f"✓ Update added to {trip.reference}.\n\nIs the issue resolved?"


def checkout_with_open_incident(trip: Trip, incident: Incident) -> str:
    return (
        f"\n\nNote: the issue reported on {trip.reference} "
        f'("{incident.description[:80]}") is still open. Ops have been asked to close it.'
    )


def ops_close_incident_after_checkout(trip: Trip, incident: Incident) -> str:
    return (
        f"⚠️ {trip.reference} ({trip.departure.product.name}) was checked out with an issue "
        f'still open: "{incident.description[:120]}" ({incident.severity}). '
        "Please confirm with the guide and close it."
    )


def update_without_incident(trip: Trip) -> str:
    return (
        f"✓ Update noted on {trip.reference}.\n"
        "There is no open issue on this trip; to report one send ISSUE <ref> <what happened>."
    )


def incident_resolved(incident: Incident) -> str:
    assert incident.resolved_at is not None
    return (
        "✓ RESOLVED\n\n"
        f"Incident closed: {local_time(incident.resolved_at)}\n"
        f"Response time: {incident.response_minutes} minutes\n\n"
        "Trip continuing smoothly.\n\n"
        "Thank you for quick reporting! 🌟"
    )


def ops_incident_resolved(trip: Trip, incident: Incident) -> str:
    return (
        f"✅ Resolved on {trip.reference}: {incident.description[:80]}\n"
        f"Response time: {incident.response_minutes} minutes"
    )


def checked_out(payroll_minor: int, currency: str) -> str:
    return (
        "✓ Trip completed!\n\n"
        "Performance logged.\n"
        f"Payroll: {money(payroll_minor, currency)} added.\n\n"
        "Next assignment: Check dashboard\n\n"
        "Thank you for your excellent service! 🌟"
    )


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


# -- refusals and help ------------------------------------------------------------------------
def passed_to_the_team() -> str:
    """A customer's message that reads like a guide's command ("Issue with my payment",
    "Check-in time at Lukla?"): a person answers it."""
    return "Thanks! I've passed your message to our team; a person will reply here shortly."


def guide_trips(current: list[Trip]) -> str:
    """Appended to a refused guide command: the trips the guide can send commands for."""
    if not current:
        return "\n\nYou have no trips assigned right now."
    lines = [
        f"• {trip.reference}: {trip.departure.product.short_name}, "
        f"{short_range(trip.departure.start_date, trip.departure.end_date)}"
        + (" (under way)" if trip.status == "IN_PROGRESS" else "")
        for trip in current
    ]
    return "\n\nYour trips:\n" + "\n".join(lines)


def guide_command_format(command: str) -> str:
    examples = {
        "CHECKIN": "CHECKIN TRP2501234",
        "ISSUE": "ISSUE TRP2501234 what happened",
        "UPDATE": "UPDATE TRP2501234 what changed",
        "CHECKOUT": "CHECKOUT TRP2501234 how it went",
    }
    return (
        f"I need the trip reference for {command}.\n\n"
        f"Send it like this: {examples.get(command, command + ' TRP2501234')}\n"
        "(a booking reference like EBC-2501234 works too)."
    )


def reference_not_found(reference: str) -> str:
    return (
        f"I couldn't find {reference}.\n\n"
        "References look like TRP2501234 (trip), EBC-2501234 (booking) or EBC2501234 (enquiry)."
    )


def guide_command_refused(reason: str) -> str:
    return f"Sorry, I couldn't do that: {reason}."


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


def rep_lead_trek_changed(lead: Lead, old: Product | None) -> str:
    was = old.name if old else "no trek named"
    size = f"{lead.party_size} people" if lead.party_size else "group size not given"
    return (
        f"🔁 Lead {lead.reference} changed trek: {was} → "
        f"{lead.product.name if lead.product else 'a trip'} ({size}).\n"
        f"From {lead.contact.display_name} ({lead.contact.phone})"
    )


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


def rep_new_lead(lead: Lead) -> str:
    product = lead.product.name if lead.product else "a trip (trek not named)"
    size = (
        f"{lead.party_size} {'person' if lead.party_size == 1 else 'people'}"
        if lead.party_size
        else "group size not given"
    )
    when = lead.travel_date_text or "dates not given"
    return (
        f"🆕 New lead {lead.reference}: {product}, {size}, {when}\n"
        f"From {lead.contact.display_name} ({lead.contact.phone})\n"
        f'"{(lead.enquiry_text or "").strip()[:300]}"\n\n'
        "Please contact them within 2 hours."
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


def rep_hold_requested(lead: Lead) -> str:
    return (
        f"🔔 {lead.contact.display_name} ({lead.contact.phone}) wants to hold seats on {lead.reference}, "
        "but there is no quote yet. Please send a quote."
    )


def rep_booking_cancelled(contact_name: str, reference: str, seats: int) -> str:
    return f"❌ {contact_name} cancelled {reference} ({seats} seats freed)"


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


def recommendations(fits: list[Fit], wish_party: int | None) -> str:
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


def nothing_fits(closest: list[Fit]) -> str:
    lines = ["Nothing we run fits all of that, I'm afraid. The closest:", ""]
    for fit in closest:
        lines.append(f"• {fit.product.name}: {'; '.join(fit.misses)}.")
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
        )
    return (
        f"Booking {booking.reference}:\n"
        f"Paid: {money(booking.paid_minor, booking.currency)}\n"
        f"Balance: {money(booking.balance_minor, booking.currency)} (due {long_date(booking.balance_due_date)})\n\n"
        f"Pay now: {payment_link(booking.ref_key, 'balance')}"
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
    refund = "\nOur team will contact you about your refund." if booking.paid_minor else ""
    return f"Booking {booking.reference} is cancelled. We're sorry to see you go.{refund}"


def cancel_kept(booking: Booking) -> str:
    return f"No problem, booking {booking.reference} stays as it is. 👍"


def handoff_started(rep: Staff | None) -> str:
    who = rep.name.split()[0] if rep else "A member of our team"
    return f"Sure! {who} will reply to you here shortly. 🙋"


def rep_handoff(contact_name: str, phone: str, reference: str | None, text: str) -> str:
    about = f" about {reference}" if reference else ""
    return (
        f'🙋 {contact_name} ({phone}) asked for a person{about}:\n"{text[:300]}"\n\n'
        "The bot is paused for this chat until you resume it."
    )


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


def rep_unanswered_message(contact_name: str, phone: str, text: str) -> str:
    return f'💬 {contact_name} ({phone}) wrote something the assistant could not handle:\n"{text[:300]}"'


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


# -- buttons and lists: their titles, and what a stale or repeated tap hears -------------------
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


def assignment_already_answered(assignment: Assignment) -> str:
    trip = assignment.trip
    what = {
        "ACCEPTED": "accepted ✓",
        "DECLINED": "declined",
        "COMPLETED": "completed",
    }.get(str(assignment.status))
    where = f"{trip.departure.product.code} - {short_range(trip.departure.start_date, trip.departure.end_date)}"
    if what is None:
        return f"The offer for {where} is no longer open. Operations will be in touch if you are still needed."
    return f"You have already {what} the offer for {where}. Nothing has changed."


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


# -- the gateway's own answers ----------------------------------------------------------------
_MEDIA_WORDS = {
    "location": "location 📍",
    "image": "photo 📷",
    "document": "document 📄",
    "video": "video 🎬",
    "audio": "voice message 🎤",
    "sticker": "sticker",
}


def media_filed(kind: str, trip: Trip, incident: Incident | None, started_here: bool) -> str:
    """A guide's photo, voice note, document or location, filed on their trip."""
    what = _MEDIA_WORDS.get(kind, "message")
    if started_here:
        return f"✓ Start position recorded for {trip.reference} 📍. Ops can see it on the trip."
    where = f"the open issue on {trip.reference}" if incident else trip.reference
    extra = " Position updated on the track page." if kind == "location" else ""
    return f"✓ Your {what} is added to {where}. Ops can see it.{extra}"


def media_received(kind: str) -> str:
    what = _MEDIA_WORDS.get(kind, "message")
    return f"Thanks, we've received your {what}. Our team can see it. ✓"


def unsupported_message() -> str:
    return "Sorry, I can only read text messages. Please type your question and I'll help. 🙂"


def rep_forward(contact_name: str, phone: str, text: str) -> str:
    return f'💬 {contact_name} ({phone}) wrote (bot paused, please answer):\n"{text[:500]}"'


def ops_inbox_failed(waiting: int, phone: str, text: str, error: str) -> str:
    """One alert per window however many fail (an outage must not become an alert storm)."""
    return (
        f"⚠️ Messages are not being answered: {waiting} from customers or guides could not be "
        f'processed after several attempts. Latest, from {phone}: "{(text or "")[:200]}" '
        f"Error: {error[:160]}. They are kept: retry them with `tms inbox retry --all` "
        "(or POST /api/inbox/retry) once the cause is fixed."
    )


def ops_outbox_failed(waiting: int, phone: str, error: str) -> str:
    return (
        f"⚠️ Messages are not going out: {waiting} could not be sent (latest to {phone}: "
        f"{error[:160]}). They are kept: retry them with `tms outbox retry --all` "
        "(or POST /api/outbox/retry) once the cause is fixed."
    )


def ops_mail_failed(failed: int, recipient: str, subject: str, error: str) -> str:
    return (
        f"📧 E-mails are not going out: {failed} failed (latest to {recipient}, "
        f'"{subject[:80]}": {error[:160]}). They are kept: `tms mail outbox` lists them, '
        "`tms mail retry --all` sends them again once the cause is fixed."
    )


# -- payments and staff messages ----------------------------------------------------------------
def balance_received(booking: Booking, amount_minor: int) -> str:
    return (
        f"✅ Payment received: {money(amount_minor, booking.currency)} for {booking.reference}.\n"
        + (
            "Your booking is fully paid. See you on the trail! 🏔️"
            if booking.balance_minor == 0
            else f"Balance: {money(booking.balance_minor, booking.currency)} (due {long_date(booking.balance_due_date)})"
        )
    )


def payment_needs_staff_customer(booking: Booking) -> str:
    return (
        f"We received your payment for {booking.reference}. Our team needs to check it and will "
        "contact you shortly. Nothing else to do for now. 🙏"
    )


def staff_payment_flagged(booking: Booking, amount_minor: int, reason: str) -> str:
    return (
        f"💳 Payment needs attention: {money(amount_minor, booking.currency)} for {booking.reference} "
        f"({booking.contact.display_name}, {booking.contact.phone}): {reason}"
    )


def guide_ops_update(text: str) -> str:
    return f"Update from Ops:\n\n{text.strip()}"


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


# -- timed outreach (the scheduler) ------------------------------------------------------------
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


def staff_balance_overdue(booking: Booking) -> str:
    return (
        f"💳 Balance overdue: {booking.reference} "
        f"({booking.contact.display_name}, {booking.contact.phone}) owes "
        f"{money(booking.balance_minor, booking.currency)}, due {long_date(booking.balance_due_date)}. "
        f"Departure {long_date(booking.departure.start_date)}."
    )


def ops_lead_sla_breached(
    lead: Lead, rep: Staff | None, hours: float, new_rep: Staff | None
) -> str:
    who = f"{rep.name} ({rep.phone})" if rep else "nobody (no rep was available)"
    then = f"\nReassigned to {new_rep.name}." if new_rep else ""
    return (
        f"⏱️ Lead {lead.reference} not contacted within {hours:g} hours.\n"
        f"Customer: {lead.contact.display_name} ({lead.contact.phone})\n"
        f"Assigned to: {who}{then}"
    )


def rep_lead_reassigned(lead: Lead, hours: float) -> str:
    return (
        f"📌 Lead {lead.reference} is now yours: it waited {hours:g} hours without contact.\n"
        f"{rep_new_lead(lead)}"
    )


def ops_assignment_unanswered(assignment: Assignment, hours: float) -> str:
    trip = assignment.trip
    return (
        f"⏱️ {assignment.staff.name} ({assignment.staff.phone}) has not answered the "
        f"{assignment.role.replace('_', ' ').lower()} offer for {trip.reference} "
        f"({trip.departure.product.name}, {long_date(trip.departure.start_date)}) "
        f"after {hours:g} hours: the offer has expired. Please assign someone else."
    )


def assignment_offer_expired(assignment: Assignment) -> str:
    trip = assignment.trip
    return (
        f"The {assignment.role.replace('_', ' ').lower()} offer for {trip.departure.product.code} "
        f"- {short_range(trip.departure.start_date, trip.departure.end_date)} has expired "
        "without an answer. Operations will be in touch if you are still needed."
    )


def ops_guide_not_checked_in(trip: Trip, guides: list[Staff], minutes: int) -> str:
    who = ", ".join(f"{g.name} ({g.phone})" for g in guides) or "no guide has accepted"
    return (
        f"🚨 No check-in on {trip.reference} ({trip.departure.product.name}) "
        f"{minutes} minutes after the {trip.departure.meeting_time} start at "
        f"{trip.departure.meeting_point}.\nGuides: {who}"
    )


def ops_trip_not_checked_out(trip: Trip) -> str:
    return (
        f"⚠️ {trip.reference} ({trip.departure.product.name}) should have ended on "
        f"{long_date(trip.departure.end_date)} but nobody checked out. Guests will be asked "
        "for feedback at checkout; please check on the trip and close it."
    )


def incident_escalation(incident: Incident, minutes: int) -> str:
    trip = incident.trip
    return (
        f"🚨 ESCALATION: incident on {trip.reference} ({trip.departure.product.name}) not "
        f"acknowledged within {minutes} minutes.\n"
        f"Severity: {incident.severity} · reported {local_time(incident.reported_at)}\n"
        f"{incident.description}\n\n"
        f"Incident id: {incident.id}"
    )


# -- the staff console --------------------------------------------------------------------------
def staff_sign_in_code(code: str) -> str:
    """The WhatsApp message carrying a console sign-in code (as the authentication template)."""
    return f"Your staff console sign-in code is {code}. For your security, do not share this code."


CONSOLE_CODE_REFUSED = (
    "That code did not work: it may be mistyped, used, or older than 10 minutes. "
    "Ask for a new code."
)
CONSOLE_LINK_REFUSED = (
    "This sign-in link was already used or has expired. Sign in with a code on WhatsApp, or ask "
    "an administrator for a new link."
)
CONSOLE_CODE_SENT = (
    "If this number belongs to a staff member, a 6-digit code is on its way on WhatsApp. "
    "It works for 10 minutes."
)
CONSOLE_FORBIDDEN = "Your role does not open this page."
CONSOLE_SIGN_IN_AGAIN = (
    "For this change, please sign in again (it has been a while since you did): you will come "
    "back to the page you were on."
)


def console_too_many_tries(seconds: int) -> str:
    """A client over its sign-in budget (codes asked for, or wrong codes and links)."""
    wait = (
        f"{-(-seconds // 60)} minute{'s' if seconds > 60 else ''}"
        if seconds >= 60
        else (f"{seconds} seconds")
    )
    return f"Too many tries from this connection. Please wait {wait}, then try again."


CONSOLE_FORM_EXPIRED = (
    "That form had expired (or came from another site): nothing was changed. Please try again."
)
# What the follow-up template says (the console offers it when the 24-hour window is closed).
CONVERSATION_FOLLOWUP = (
    "Sorry for the wait! We have an answer to your last message. Reply here and we'll pick up "
    "where we left off."
)


# -- consent ------------------------------------------------------------------------------------
def consent_stopped() -> str:
    return (
        "You're unsubscribed: no more offers, surveys or reminders that can wait. "
        "We'll still message you about your bookings, payments due and your trip's safety. "
        "Reply START to hear from us again."
    )


def consent_started() -> str:
    return "Welcome back! You'll get our trip updates and offers again. Reply STOP any time."
