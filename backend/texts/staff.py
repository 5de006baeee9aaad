"""What staff read on WhatsApp: guides' replies to their commands, assignment offers, and the
alerts sales reps and operations get."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from backend import i18n
from backend.config import get_settings
from backend.models import (
    Assignment,
    Booking,
    Incident,
    Lead,
    PaymentProof,
    Product,
    Staff,
    Trip,
)
from backend.texts.format import MEDIA_WORDS, local_time, long_date, money, short_range, trek_label

if TYPE_CHECKING:
    pass


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


def rep_lead_trek_changed(lead: Lead, old: Product | None) -> str:
    was = old.name if old else "no trek named"
    size = f"{lead.party_size} people" if lead.party_size else "group size not given"
    return (
        f"🔁 Lead {lead.reference} changed trek: {was} → "
        f"{lead.product.name if lead.product else 'a trip'} ({size}).\n"
        f"From {lead.contact.display_name} ({lead.contact.phone})"
    )


def rep_new_lead(lead: Lead) -> str:
    product = lead.product.name if lead.product else "a trip (trek not named)"
    size = (
        f"{lead.party_size} {'person' if lead.party_size == 1 else 'people'}"
        if lead.party_size
        else "group size not given"
    )
    when = lead.travel_date_text or "dates not given"
    kind = "🔒 PRIVATE departure request" if lead.private else "🆕 New lead"
    return (
        f"{kind} {lead.reference}: {product}, {size}, {when}\n"
        f"From {lead.contact.display_name} ({lead.contact.phone})\n"
        f'"{(lead.enquiry_text or "").strip()[:300]}"\n\n'
        "Please contact them within 2 hours."
    )


def rep_hold_requested(lead: Lead) -> str:
    return (
        f"🔔 {lead.contact.display_name} ({lead.contact.phone}) wants to hold seats on {lead.reference}, "
        "but there is no quote yet. Please send a quote."
    )


def rep_booking_cancelled(contact_name: str, reference: str, seats: int) -> str:
    return f"❌ {contact_name} cancelled {reference} ({seats} seats freed)"


def rep_handoff(contact_name: str, phone: str, reference: str | None, text: str) -> str:
    about = f" about {reference}" if reference else ""
    return (
        f'🙋 {contact_name} ({phone}) asked for a person{about}:\n"{text[:300]}"\n\n'
        "The bot is paused for this chat until you resume it."
    )


def rep_unanswered_message(contact_name: str, phone: str, text: str) -> str:
    return f'💬 {contact_name} ({phone}) wrote something the assistant could not handle:\n"{text[:300]}"'


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


def media_filed(kind: str, trip: Trip, incident: Incident | None, started_here: bool) -> str:
    """A guide's photo, voice note, document or location, filed on their trip."""
    what = MEDIA_WORDS.get(kind, "message")
    if started_here:
        return f"✓ Start position recorded for {trip.reference} 📍. Ops can see it on the trip."
    where = f"the open issue on {trip.reference}" if incident else trip.reference
    extra = " Position updated on the track page." if kind == "location" else ""
    return f"✓ Your {what} is added to {where}. Ops can see it.{extra}"


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


def staff_payment_flagged(booking: Booking, amount_minor: int, reason: str) -> str:
    return (
        f"💳 Payment needs attention: {money(amount_minor, booking.currency)} for {booking.reference} "
        f"({booking.contact.display_name}, {booking.contact.phone}): {reason}"
    )


def staff_refund_chosen(booking: Booking, choice: str, amount_minor: int, currency: str) -> str:
    what = "a refund" if choice == "refund" else "a credit for a later trip"
    return (
        f"💸 {booking.contact.display_name} chose {what} of {money(amount_minor, currency)} for "
        f"cancelled {booking.reference}: approve or decline it on the booking's page."
    )


# -- transfer and card-link receipts (backend/services/payment_proofs.py) ------------------------
def staff_proof_to_check(booking: Booking, proof: PaymentProof) -> str:
    how = {"bank_transfer": "transfer", "bank_card_link": "card-link"}.get(proof.method, "payment")
    stated = (
        f" (says {money(proof.stated_amount_minor, proof.stated_currency or booking.currency)})"
        if proof.stated_amount_minor is not None
        else ""
    )
    where = {"chat": "in the chat", "page": "on the pay page"}.get(proof.source, "")
    return (
        f"🧾 A {how} receipt to check for {booking.reference}{stated}, sent {where} by "
        f"{booking.contact.display_name} ({booking.contact.phone}). Verify or reject it on the "
        "console's payments page."
    ).replace(" sent  by", " sent by")


# -- cash on arrival (PAID, the console's payments page) ---------------------------------------
PAID_EXAMPLE = "PAID EBC2501234 4788 USD CASH"


def paid_command_format() -> str:
    return (
        "To record cash for a booking's balance, send:\n\n"
        f"{PAID_EXAMPLE}\n\n"
        "(the booking reference, the amount, then the currency if it is not the booking's)."
    )


def cash_recorded(booking: Booking, receipt: str, amount_minor: int, currency: str) -> str:
    balance = (
        "Paid in full ✓"
        if booking.balance_minor == 0
        else f"Still owed: {money(booking.balance_minor, booking.currency)}"
    )
    return (
        f"✅ Cash recorded: {money(amount_minor, currency)} for {booking.reference} "
        f"({booking.contact.display_name}).\nReceipt: {receipt}\n{balance}"
    )


def cash_already_recorded(booking: Booking, receipt: str | None) -> str:
    return f"Already recorded: that cash for {booking.reference} has receipt {receipt or '-'}."


def cash_flagged(booking: Booking) -> str:
    return (
        f"⚠️ The cash for {booking.reference} could not be applied to the booking; operations "
        "were told and will sort it out. Keep the cash and the customer's details."
    )


def cash_bad_amount() -> str:
    return "The amount must be above zero, like 4788 or 4788.50."


def cash_bad_currency(currency: str) -> str:
    return f"'{currency[:12]}' is not a currency code: write it like USD, EUR or NPR."


def cash_key_reused() -> str:
    return "This form already recorded another cash payment: reload the page and try again."


def cash_nothing_owed(booking: Booking) -> str:
    if booking.status in ("CANCELLED", "EXPIRED", "COMPLETED"):
        return f"Nothing is owed on {booking.reference}: it is {booking.status.lower()}."
    return f"Nothing is owed on {booking.reference}: it is paid in full."


def cash_no_rate(currency: str, day: date) -> str:
    return (
        f"There is no {currency} exchange rate for {long_date(day)}: operations must set one "
        "(Admin, exchange rates) before cash in that currency can be recorded."
    )


def cash_more_than_owed(
    booking: Booking, owed_minor: int, currency: str, owed_in_currency: int | None
) -> str:
    owed = money(owed_minor, booking.currency)
    if owed_in_currency is not None and currency != booking.currency:
        owed += f" ({money(owed_in_currency, currency)} at today's rate)"
    return f"That is more than is owed: {booking.reference} owes {owed}. Nothing was recorded."


def guide_ops_update(text: str) -> str:
    return f"Update from Ops:\n\n{text.strip()}"


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


# Staff read English, even when the message is built inside a customer's turn in German.
i18n.in_english(globals())


# -- WhatsApp templates as Meta holds them (backend/services/message_templates.py) ------------
def template_status_alert(name: str, language: str, status: str, reason: str) -> str:
    said = {
        "PAUSED": "paused it for low quality: messages that need it are not sent",
        "DISABLED": "disabled it: messages that need it are not sent",
        "REJECTED": "rejected it",
    }.get(status, f"set it to {status.lower()}")
    why = f" Reason: {reason[:200]}." if reason else ""
    return (
        f"⚠️ WhatsApp template {name} ({language}): Meta {said}.{why} Outside the 24-hour "
        "window those messages wait for staff; see Admin → Templates in the console."
    )


def template_reclassified_alert(
    name: str, language: str, previous: str, category: str, when: datetime | None
) -> str:
    if when is not None:
        return (
            f"⚠️ WhatsApp template {name} ({language}): Meta will bill it as "
            f"{category.lower()} instead of {previous.lower()} from {when:%Y-%m-%d %H:%M} UTC. "
            "Check its wording (or its use) before then."
        )
    return (
        f"⚠️ WhatsApp template {name} ({language}): Meta reclassified it from "
        f"{previous.lower()} to {category.lower()}; it is billed (and may be refused) as "
        f"{category.lower()} now. Check its wording or its use."
    )


def template_not_sent_alert(name: str, status: str, phone: str, text: str) -> str:
    return (
        f"⚠️ Not sent to {phone}: its WhatsApp template {name} is {status.lower()} and the "
        f'24-hour window is closed. The message was: "{(text or "")[:500]}" Please reach them '
        "another way (more like it are on the timeline)."
    )


def _users(limit: int | None) -> str:
    return "unlimited" if limit is None else f"{limit:,}"


def messaging_limit_changed_alert(
    previous: str, tier: str, previous_limit: int | None, limit: int | None, broadcast: int | None
) -> str:
    """Meta changed the portfolio's messaging limit; `broadcast` is how many users reminders
    and campaigns may reach in 24 hours under the new one (None: no limit)."""
    lower = limit is not None and (previous_limit is None or limit < previous_limit)
    said = (
        f"{'📉' if lower else '📈'} Meta {'lowered' if lower else 'raised'} the WhatsApp "
        f"messaging limit from {_users(previous_limit)} to {_users(limit)} customers a day "
        f"outside their 24-hour window ({previous} → {tier})."
    )
    if not lower:
        if broadcast is None:
            return f"{said} Reminders and campaigns no longer wait for the limit."
        return f"{said} Reminders and campaigns may now reach {broadcast:,} customers a day."
    assert limit is not None and broadcast is not None
    return (
        f"{said} What it means: reminders and campaigns wait once {broadcast:,} such customers "
        f"have been messaged in 24 hours (messages about bookings go first, up to {limit:,}); "
        "a campaign takes longer to reach everyone and later reminders may arrive late, "
        "nothing is dropped. Meta lowers the limit after poor quality: hold back marketing."
    )


def messaging_limit_flagged_alert(limit: int | None) -> str:
    return (
        "⚠️ Meta flagged the WhatsApp number's quality: customers are blocking or reporting "
        "our messages. What it means: if it goes on, Meta lowers the messaging limit (now "
        f"{_users(limit)} customers a day outside their 24-hour window), and reminders and "
        "campaigns will wait longer. Hold back marketing campaigns and check the templates' "
        "quality (Admin → Templates in the console)."
    )


def guide_commands_need_phone() -> str:
    return (
        "Guide commands (CHECKIN, ISSUE, UPDATE, CHECKOUT, PAID) only work from the phone "
        "number the office has for you, and WhatsApp did not share yours with this message "
        "(you write from a username). Please share your number with us in WhatsApp, or ask "
        "the office to record the command for you."
    )
