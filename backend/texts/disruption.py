"""What customers and staff read about disruption (issue 27): one booking moved to another
departure. Customer copy is gettext'd (`backend.i18n`); staff copy is English."""

from __future__ import annotations

from datetime import datetime

from backend.i18n import _, ngettext
from backend.models import Booking, Departure, Trip
from backend.texts.format import date_range, local_datetime, long_date, money, short_day_month


def reschedule_choices(booking: Booking, rows: list[tuple[Departure, int]]) -> str:
    """The other departures with seats for the party, to tap one (or none to offer)."""
    trek = booking.departure.product.short_name
    if not rows:
        return _(
            "I'm sorry, there is no other {trek} departure with {count} free seats right now. "
            "Reply DATES to see all departures, or ask for a person and the team will help."
        ).format(trek=trek, count=booking.party_size)
    return _(
        "Booking {reference} is on {trek} from {dates}. These departures have seats for your "
        "party: choose one and I'll pass the request to your trip advisor, who confirms it."
    ).format(
        reference=booking.reference,
        trek=trek,
        dates=date_range(booking.departure.start_date, booking.departure.end_date),
    )


def reschedule_row_title(departure: Departure) -> str:
    # A list row's title: WhatsApp keeps 24 characters.
    return date_range(departure.start_date, departure.end_date)[:24]


def reschedule_row_about(free: int, fee_minor: int, currency: str) -> str:
    seats = ngettext("{count} seat left", "{count} seats left", free).format(count=free)
    if fee_minor:
        return _("{seats}, change fee {fee}").format(seats=seats, fee=money(fee_minor, currency))
    return _("{seats}, no change fee").format(seats=seats)


def reschedule_requested(booking: Booking, to: Departure, fee_minor: int) -> str:
    dates = date_range(to.start_date, to.end_date)
    if fee_minor:
        return _(
            "📝 Request sent: booking {reference} to {dates}. The change fee is {fee}. "
            "Your trip advisor will confirm shortly; your seats stay as they are until then."
        ).format(reference=booking.reference, dates=dates, fee=money(fee_minor, booking.currency))
    return _(
        "📝 Request sent: booking {reference} to {dates}, with no change fee. "
        "Your trip advisor will confirm shortly; your seats stay as they are until then."
    ).format(reference=booking.reference, dates=dates)


def reschedule_already_requested(booking: Booking, to: Departure) -> str:
    return _(
        "Your request to move booking {reference} to {dates} is already with your trip "
        "advisor. I'll let you know as soon as they confirm."
    ).format(reference=booking.reference, dates=date_range(to.start_date, to.end_date))


def reschedule_approved(booking: Booking, fee_minor: int) -> str:
    departure = booking.departure
    values = {
        "reference": booking.reference,
        "trek": departure.product.short_name,
        "dates": date_range(departure.start_date, departure.end_date),
        "fee": money(fee_minor, booking.currency),
        "balance": money(booking.balance_minor, booking.currency),
        "due": short_day_month(booking.balance_due_date),
    }
    if booking.balance_minor <= 0:
        return _(
            "✅ Done! Booking {reference} is now on {trek} from {dates}. "
            "Everything is paid; see you there."
        ).format(**values)
    if fee_minor:
        return _(
            "✅ Done! Booking {reference} is now on {trek} from {dates}. "
            "A change fee of {fee} was added: the balance is {balance}, due by {due}."
        ).format(**values)
    return _(
        "✅ Done! Booking {reference} is now on {trek} from {dates}. "
        "The balance is {balance}, due by {due}."
    ).format(**values)


def reschedule_declined(booking: Booking, to: Departure, reason: str | None) -> str:
    values = {
        "reference": booking.reference,
        "dates": date_range(to.start_date, to.end_date),
        "reason": reason,
    }
    if reason:
        return _(
            "Sorry, booking {reference} could not move to {dates}: {reason}. "
            "Your booking stays on its dates."
        ).format(**values)
    return _(
        "Sorry, booking {reference} could not move to {dates}. Your booking stays on its dates."
    ).format(**values)


def reschedule_not_possible(booking: Booking) -> str:
    return _(
        "Booking {reference} cannot be moved in the chat any more. "
        "Ask for a person and the team will look at it with you."
    ).format(reference=booking.reference)


def reschedule_full(booking: Booking, to: Departure, available: int) -> str:
    return _(
        "Sorry, {dates} no longer has seats for your party ({count} free). "
        "Reply DATES to see other departures."
    ).format(dates=date_range(to.start_date, to.end_date), count=available)


# -- a whole departure moved (backend/services/departure_moves.py) ------------------------
def move_offer(booking: Booking, target: Departure, reason: str, answer_by: datetime) -> str:
    departure = booking.departure
    return _(
        "⚠️ Important news about booking {reference}: the {trek} departure of {old} cannot run "
        "on its dates ({reason}).\n\n"
        "We have kept your {count} seat(s) on {new}. Please answer by {until}: accept the new "
        "dates, choose another departure, or cancel (refund or credit under our cancellation "
        "policy). Your payments stay with your booking."
    ).format(
        reference=booking.reference,
        trek=departure.product.short_name,
        old=date_range(departure.start_date, departure.end_date),
        reason=reason,
        count=booking.party_size,
        new=date_range(target.start_date, target.end_date),
        until=local_datetime(answer_by),
    )


def move_offer_buttons() -> list[tuple[str, str]]:
    # Reply buttons: WhatsApp keeps 20 characters of a title.
    return [("accept", _("Accept new dates")), ("other", _("Other dates")), ("cancel", _("Cancel"))]


def move_other_dates(booking: Booking, rows: list[tuple[Departure, int]]) -> str:
    if not rows:
        return _(
            "I'm sorry, no other {trek} departure has {count} free seats right now. You can "
            "still accept the new dates or cancel; or ask for a person."
        ).format(trek=booking.departure.product.short_name, count=booking.party_size)
    return _("These {trek} departures have seats for your party: choose one.").format(
        trek=booking.departure.product.short_name
    )


def move_full(booking: Booking) -> str:
    return _(
        "Sorry, that departure filled up before your answer, so booking {reference} has not "
        "moved. Reply with the buttons above to choose another departure or to cancel "
        "(refund or credit under our cancellation policy), or ask for a person."
    ).format(reference=booking.reference)


def move_answered() -> str:
    return _("That offer has already been answered; your booking is as we last told you.")


def departure_closed(departure: Departure, why: str) -> str:
    """A customer asks for (or taps) a departure operations moved away or cancelled
    (`inventory.closed_reason`): it takes nobody new."""
    values = {
        "trek": departure.product.short_name,
        "dates": date_range(departure.start_date, departure.end_date),
    }
    if why == "cancelled":
        return _(
            "Sorry, the {trek} departure of {dates} has been cancelled, so it takes no new "
            "bookings. Reply DATES to see the departures with seats."
        ).format(**values)
    return _(
        "Sorry, the {trek} departure of {dates} has been moved to other dates, so it takes no "
        "new bookings. Reply DATES to see the departures with seats."
    ).format(**values)


# -- a trip under way shifted (backend/services/trip_shifts.py) -----------------------------
def trip_shifted(booking: Booking, days: int, reason: str) -> str:
    departure = booking.departure
    return ngettext(
        "⛰️ News from your {trek} trip: {reason}. Our team is using a contingency day, so the "
        "rest of the itinerary moves by {count} day. The trip now ends on {end}. Your family "
        "can follow the new dates on your tracking page.",
        "⛰️ News from your {trek} trip: {reason}. Our team is using contingency days, so the "
        "rest of the itinerary moves by {count} days. The trip now ends on {end}. Your family "
        "can follow the new dates on your tracking page.",
        days,
    ).format(
        trek=departure.product.short_name,
        reason=reason,
        count=days,
        end=long_date(departure.end_date),
    )


# -- guaranteed departures (backend/services/guarantees.py) ---------------------------------
def guaranteed_departures(rows: list[Departure]) -> str:
    return _("✅ Guaranteed to run: {dates}").format(
        dates=", ".join(date_range(d.start_date, d.end_date) for d in rows)
    )


# -- staff ------------------------------------------------------------------------------------
def rep_reschedule_requested(booking: Booking, to: Departure, fee_minor: int) -> str:
    fee = money(fee_minor, booking.currency) if fee_minor else "no fee"
    return (
        f"📅 {booking.contact.display_name} asks to move {booking.reference} "
        f"({booking.party_size} pax) from {date_range(booking.departure.start_date, booking.departure.end_date)} "
        f"to {date_range(to.start_date, to.end_date)} ({fee}). "
        "Approve or decline it on the booking's page in the console."
    )


def ops_move_unanswered(booking: Booking, target: Departure) -> str:
    return (
        f"📞 {booking.contact.display_name} ({booking.contact.address}) has not answered the "
        f"move of {booking.reference} ({booking.party_size} pax) to "
        f"{date_range(target.start_date, target.end_date)}: please call them. "
        "The departure's page lists everyone still to answer."
    )


def staff_trip_shifted(trip: Trip, days: int, reason: str, pay_minor: int) -> str:
    departure = trip.departure
    return (
        f"🗓️ Trip {trip.reference} is shifted by {days} day(s) ({reason}): it now ends on "
        f"{departure.end_date.isoformat()}. Your pay for the trip is now "
        f"{money(pay_minor, departure.product.currency)}."
    )


def ops_minimum_missed(departure: Departure, confirmed: int, minimum: int | None) -> str:
    return (
        f"⚖️ {departure.product.short_name} {date_range(departure.start_date, departure.end_date)} "
        f"has {confirmed} confirmed traveller(s), under its minimum of {minimum}. Decide on the "
        "departure's page: run it anyway, or cancel it (every booking is offered other dates, "
        "or a refund or credit by the policy)."
    )
