"""Every timeline action code, declared once: the sentence staff read for it and the area it
belongs to (which roles may read it). Pure data, no I/O.

A code the product writes (`timeline.record(action=...)`) must be covered by an entry here
(tests/backend/domain/test_timeline_actions.py scans backend/ and actions/ for them). An entry
is either an exact code or a prefix ending in "." for codes built at run time (a state change
`tms.booking.status.<state>`); a prefix entry may give a sentence per suffix (`by_suffix`), the
rest of its codes read its default sentence with `{state}`. No key is a prefix of another, so
the order of the entries never matters.

The area decides who reads the event (`backend.domain.access.EVENT_AREAS` is built from these
entries; a code no entry covers is ADMIN's alone). An entry's `alerts` (a prefix entry's
`alerts_by_suffix`) say who is *alerted* on WhatsApp when it happens, as pretix derives a
notification type from a log action: `backend.services.routing.alert` reads them, so who hears
about what is this table and nothing else (tests/backend/services/test_alerts.py lists it);
whether a given event alerts at all is the caller's rule (a booking the customer cancels in
the chat does, one staff cancel does not). A few codes exist for an alert only, nobody records
them: `tms.lead.hold_requested`, the conversation's `passed_to_team`, `forwarded` and
`assistant_silent` (the timeline shows the customer's message itself), and
`tms.trip.checkout.missing` (the scheduler's notice).

A sentence is a `str.format` template over the event's `content`, tried richest first: the
first whose fields are all there (not None, not empty) is the one shown, so a missing field
never breaks a page; the last of each list uses no content field. Besides the content:
`{actor}` who did it (a staff member's name, "the customer", "the system", ...), `{state}` the
part of the code after a prefix, in words, and `{fields}` the content's keys, in words.
Formats: `{amount:money}` minor units in the content's `currency`, `{role:lower}`,
`{topic:words}` (underscores and dashes as spaces), `{seats:seat}` a count of a noun ("1 seat",
"3 seats"; a list counts its items)."""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from backend.domain.areas import ABOUT_OBJECT, Area
from backend.domain.money import Money


class Audience(StrEnum):
    """Who an alert reaches."""

    NOBODY = "nobody"
    REP = "rep"  # the sales rep of the lead (given, or the conversation's)
    SALES = "sales"  # every active sales member
    SALES_ON_DUTY = "sales_on_duty"  # active sales members marked available
    OPS = "ops"  # every active operations member
    ADMIN = "admin"  # every active administrator
    NAMED = "named"  # the staff member the event is about (the guide, the new rep), given


# Outbox purposes of staff alerts (`backend.domain.access.PURPOSE_AREAS` files them).
REP_ALERT, STAFF_ALERT = "rep_alert", "staff_alert"
OPS_ALERT, OPS_URGENT_ALERT = "ops_alert", "ops_urgent_alert"


@dataclass(frozen=True)
class Alert:
    """One audience alerted on WhatsApp (an outbox row each, with `purpose`). REP: the rep
    first, else `no_rep`; a staff member sending the message (a guide writing to the
    assistant) is routed to `staff_sender` instead, and their "rep" is not looked for
    (None: routed like a customer)."""

    to: Audience
    purpose: str
    why: str = field(default="", compare=False)
    no_rep: Audience = Audience.NOBODY
    staff_sender: Audience | None = None


def rep(
    why: str, *, no_rep: Audience = Audience.NOBODY, staff_sender: Audience | None = None
) -> Alert:
    return Alert(Audience.REP, REP_ALERT, why, no_rep, staff_sender)


def ops(why: str, *, urgent: bool = False) -> Alert:
    return Alert(Audience.OPS, OPS_URGENT_ALERT if urgent else OPS_ALERT, why)


@dataclass(frozen=True)
class TimelineAction:
    code: str  # an exact code, or a prefix ending in "."
    area: Area | None  # None (ABOUT_OBJECT): the area of what the event is about
    says: tuple[str, ...]  # sentences, richest first
    by_suffix: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # prefix codes
    staff_fields: tuple[str, ...] = ()  # content fields holding a staff id, read as the name
    alerts: tuple[Alert, ...] = ()  # who is alerted, in order (none: nobody)
    alerts_by_suffix: Mapping[str, tuple[Alert, ...]] = field(default_factory=dict)

    @property
    def is_prefix(self) -> bool:
        return self.code.endswith(".")


def _exact(
    code: str,
    area: Area | None,
    *says: str,
    staff_fields: tuple[str, ...] = (),
    alerts: tuple[Alert, ...] = (),
) -> TimelineAction:
    return TimelineAction(code, area, says, staff_fields=staff_fields, alerts=alerts)


def _prefix(
    code: str,
    area: Area | None,
    *says: str,
    by_suffix: Mapping[str, tuple[str, ...]] | None = None,
    alerts_by_suffix: Mapping[str, tuple[Alert, ...]] | None = None,
) -> TimelineAction:
    assert code.endswith("."), code
    return TimelineAction(
        code,
        area,
        says,
        by_suffix=dict(by_suffix or {}),
        alerts_by_suffix=dict(alerts_by_suffix or {}),
    )


L, B, D, F = Area.LEADS, Area.BOOKINGS, Area.DEPARTURES, Area.FEEDBACK
M, C, T, PAY, INC = Area.MESSAGES, Area.CATALOG, Area.TRIPS, Area.PAYROLL, Area.INCIDENTS
NOBODY, NAMED, ADMIN = Audience.NOBODY, Audience.NAMED, Audience.ADMIN
SALES, SALES_ON_DUTY, OPS = Audience.SALES, Audience.SALES_ON_DUTY, Audience.OPS

ACTIONS: tuple[TimelineAction, ...] = (
    # -- Leads ----------------------------------------------------------------------------------
    _exact(
        "tms.lead.created",
        L,
        "New lead {reference} from {actor}: {product} for {partySize:traveller}, {travelDate}",
        "New lead {reference} from {actor}: {product} for {partySize:traveller}",
        "New lead {reference} from {actor}: {product}",
        "New lead from {actor}",
        alerts=(rep("an unassigned lead is on the console"),),
    ),
    _exact(
        "tms.lead.private_requested",
        L,
        "{actor} asked for a private departure on {reference}",
        "{actor} asked for a private departure",
        alerts=(rep("a private departure is quoted apart", no_rep=SALES),),
    ),
    _prefix(
        "tms.lead.status.",
        L,
        "{actor} moved the lead from {from:lower} to {to:lower}",
        "{actor} moved the lead to {state}",
        by_suffix={
            "contacted": ("{actor} got in touch with the customer",),
            "quoted": (
                "{actor} quoted {total} for {partySize:traveller} on the {departure} departure",
                "{actor} quoted {total}",
                "{actor} quoted the lead",
            ),
            "won": ("{actor} turned the lead into booking {booking}", "{actor} won the lead"),
            "lost": ("{actor} marked the lead lost: {reason}", "{actor} marked the lead lost"),
        },
    ),
    _exact(
        "tms.lead.assigned",
        L,
        "{actor} assigned the lead to {to}",
        "{actor} assigned the lead",
        staff_fields=("to",),
    ),
    _exact(
        "tms.lead.sla.breached",
        L,
        "Nobody contacted the customer within {hours:hour}: operations alerted, "
        "lead moved to {reassignedTo}",
        "Nobody contacted the customer within {hours:hour}: operations alerted",
        "Nobody contacted the customer in time: operations alerted",
        staff_fields=("reassignedTo",),
        alerts=(
            Alert(NAMED, REP_ALERT, "the lead moved to them"),
            ops("nobody contacted the customer in time"),
        ),
    ),
    _exact(
        "tms.lead.details", L, "{actor} added to the lead: {fields}", "{actor} added to the lead"
    ),
    _exact(
        "tms.lead.trek_changed",
        L,
        "{actor} changed the trek from {from} to {to}",
        "{actor} changed the trek to {to}",
        "{actor} changed the trek",
        alerts=(rep("as a new lead"),),
    ),
    _exact(
        "tms.lead.hold_requested",
        L,
        "{actor} asked to hold seats before a quote: “{text}”",
        "{actor} asked to hold seats before a quote",
        alerts=(rep("the customer is ready to book: someone must quote", no_rep=SALES),),
    ),
    _exact(
        "tms.lead.requoted",
        L,
        "{actor} quoted again: {total} for {partySize:traveller} on the {departure} departure",
        "{actor} quoted again: {total}",
        "{actor} quoted the lead again",
    ),
    _exact("tms.lead.message", L, "{actor} enquired: “{message}”", "{text}", "{actor} enquired"),
    _exact(
        "tms.lead.quote_override",
        L,
        "{actor} changed the standard price ({standardTotal}): {reason}",
        "{actor} changed the standard price: {reason}",
        "{actor} changed the standard price",
    ),
    # -- Bookings, holds, the waitlist, payments -------------------------------------------------
    _exact(
        "tms.booking.created",
        B,
        "{actor} made booking {reference}: {product} on {departure} for "
        "{partySize:traveller}, {total}",
        "{actor} made booking {reference}",
        "{actor} made the booking",
    ),
    _prefix(
        "tms.booking.status.",
        B,
        "{actor} set the booking to {state}: {reason}",
        "{actor} set the booking to {state}",
        by_suffix={
            "waitlisted": ("Back on the waitlist: {reason}", "On the waitlist"),
            "offered": ("A spot on the departure was offered to the customer",),
            "held": ("Seats held: {paymentMinutes:minute} to pay", "Seats held for the customer"),
            "payment_pending": (
                "Payment arrived ({reason}): confirming the booking",
                "Payment arrived: confirming the booking",
            ),
            "confirmed": ("{actor} confirmed the booking",),
            "completed": ("The trip is over: booking completed",),
            "cancelled": (
                "{actor} cancelled the booking: {reason}",
                "{actor} cancelled the booking",
            ),
            "expired": ("The booking expired: {reason}", "The booking expired"),
        },
        # Said only when the customer cancels in the chat (staff cancelling know it).
        alerts_by_suffix={"cancelled": (rep("seats were freed", no_rep=SALES),)},
    ),
    _prefix(
        "tms.booking.payment_status.",
        B,
        "Payment status: {state}",
        by_suffix={"deposit_paid": ("Deposit paid",), "full_paid": ("Paid in full",)},
    ),
    _exact(
        "tms.booking.payment.flagged",
        B,
        "A payment needs attention: {reason}",
        "A payment needs attention",
        alerts=(
            ops("money arrived that could not be applied"),
            rep("their customer's money needs attention"),
        ),
    ),
    _exact(
        "tms.booking.refund_due",
        B,
        "Cancelled after {paid:money} was paid: refund due",
        "Cancelled after payment: refund due",
    ),
    _exact(
        "tms.booking.refund.none",
        B,
        "Cancelled after {paid:money} was paid: nothing comes back ({policy})",
        "Cancelled after payment: nothing comes back under the policy",
    ),
    # -- One booking to another departure (backend/services/reschedules.py) ----------------------
    _exact(
        "tms.booking.reschedule_requested",
        B,
        "{actor} asked to move the booking to {toDate} (change fee {fee:money})",
        "{actor} asked to move the booking to {toDate}",
        "{actor} asked to move the booking to another date",
        alerts=(rep("the customer asks to move to another date", no_rep=SALES),),
    ),
    _exact(
        "tms.booking.moved",
        B,
        "{actor} moved the booking from {fromDate} to {toDate} (change fee {fee:money})",
        "{actor} moved the booking from {fromDate} to {toDate}",
        "{actor} moved the booking to another departure",
    ),
    _exact(
        "tms.departure.booking_moved_out",
        B,
        "{actor} moved booking {booking} ({seats:seat}) to {toDate}",
        "{actor} moved a booking to another departure",
    ),
    _exact(
        "tms.departure.booking_moved_in",
        B,
        "{actor} moved booking {booking} ({seats:seat}) here from {fromDate}",
        "{actor} moved a booking here from another departure",
    ),
    _exact(
        "tms.reschedule.created",
        B,
        "{actor} asked to move booking {booking} from {fromDate} to {toDate}",
        "{actor} asked to move a booking",
    ),
    _prefix(
        "tms.reschedule.status.",
        B,
        "Date change {state}",
        by_suffix={
            "approved": ("{actor} approved the date change",),
            "declined": (
                "{actor} declined the date change: {reason}",
                "{actor} declined the date change",
            ),
            "withdrawn": (
                "The date change was replaced: {reason}",
                "The date change was withdrawn",
            ),
        },
    ),
    # -- A whole departure moved (backend/services/departure_moves.py) -------------------------
    _exact(
        "tms.departure.moved",
        D,
        "{actor} moved the departure to {toDate} ({reason}): {bookings:booking} offered the new "
        "dates",
        "{actor} moved the departure to {toDate}",
        "{actor} moved the departure",
    ),
    _exact(
        "tms.move_offer.created",
        B,
        "Booking {booking} offered {toDate}",
        "The new dates were offered",
    ),
    _exact(
        "tms.move_offer.reminded",
        B,
        "Booking {booking} reminded to answer the new dates",
        "The customer was reminded to answer the new dates",
    ),
    _exact(
        "tms.move_offer.unanswered",
        B,
        "Booking {booking} did not answer the new dates in time: operations to call {phone}",
        "No answer to the new dates in time: operations alerted",
        alerts=(ops("a customer did not answer the new dates: someone must call them"),),
    ),
    _prefix(
        "tms.move_offer.status.",
        B,
        "The customer's answer to the new dates: {state}",
        by_suffix={
            "accepted": ("{actor} accepted the new dates",),
            "moved_elsewhere": ("{actor} chose another departure",),
            "cancelled": ("{actor} cancelled rather than move",),
            "expired": ("No answer to the new dates in time",),
        },
    ),
    _exact(
        "tms.trip.shifted",
        T,
        "{actor} shifted the rest of the trip by {days:day} ({reason}): it now ends on {toEnd}",
        "{actor} shifted the rest of the trip by {days:day}",
        "{actor} shifted the trip",
    ),
    # -- Guaranteed departures (backend/services/guarantees.py) --------------------------------
    _exact(
        "tms.departure.minimum_set",
        D,
        "{actor} set the departure's minimum group size to {minimum}",
        "{actor} set the departure's minimum group size to the product's",
    ),
    _exact(
        "tms.product.guarantee_set",
        C,
        "{actor} set the trek's minimum group size to {minimum}, decided {daysBefore} days "
        "before each departure",
        "{actor} removed the trek's minimum group size",
    ),
    _exact(
        "tms.departure.guaranteed",
        D,
        "Guaranteed: {confirmed} travellers confirmed (minimum {minimum})",
        "Guaranteed to run",
    ),
    _exact(
        "tms.departure.minimum_missed",
        D,
        "The deadline came with {confirmed} travellers confirmed, under the minimum of {minimum}: "
        "operations decide",
        "The minimum group size was not reached: operations decide",
        alerts=(ops("a departure is short of its minimum: run it or cancel it"),),
    ),
    _prefix(
        "tms.departure.guarantee.",
        D,
        "{actor} decided: {state}",
        by_suffix={
            "run": (
                "{actor} runs the departure with {confirmed} travellers (minimum {minimum}): "
                "{reason}",
                "{actor} runs the departure with {confirmed} travellers (minimum {minimum})",
                "{actor} runs the departure below its minimum",
            ),
            "cancelled": (
                "{actor} cancelled the departure: {reason}",
                "{actor} cancelled the departure",
            ),
        },
    ),
    # -- Refunds and credits after a cancellation (backend/services/refunds.py) -----------------
    _exact(
        "tms.refund.created",
        Area.PAYMENTS,
        "{amount:money} can come back for {booking} ({policy}): the customer chooses",
        "A refund was opened: the customer chooses a refund or a credit",
    ),
    _prefix(
        "tms.refund.status.",
        Area.PAYMENTS,
        "Refund: {state}",
        by_suffix={
            "awaiting_approval": (
                "{actor} chose a {choice}: waiting for approval",
                "Waiting for approval",
            ),
            "awaiting_choice": ("Waiting for the customer's choice",),
            "paid_out": ("{actor} approved the refund: {amount:money} paid out", "Refund paid out"),
            "credited": ("{actor} approved a credit of {amount:money}", "Credit issued"),
            "declined": ("{actor} declined the refund: {reason}", "{actor} declined the refund"),
        },
        alerts_by_suffix={"awaiting_approval": (ops("a refund or credit waits for approval"),)},
    ),
    _exact(
        "tms.refund.choice_changed",
        Area.PAYMENTS,
        "{actor} changed the choice to a {choice}",
        "{actor} changed the choice",
        alerts=(ops("what waits for approval changed"),),
    ),
    _prefix(
        "tms.booking.notice.",
        B,
        "Notice sent to the customer: {state}",
        by_suffix={
            "pre-departure": ("Pre-departure message sent to the customer",),
            "balance-overdue": ("The balance is overdue: staff alerted",),
        },
        alerts_by_suffix={
            "balance-overdue": (
                rep("money is owed after the due date", no_rep=SALES),
                ops("money is owed after the due date"),
            )
        },
    ),
    _exact(
        "tms.hold.created",
        B,
        "{actor} held {seats:seat} for booking {booking}",
        "{actor} held seats",
    ),
    _prefix(
        "tms.hold.status.",
        B,
        "Hold {state}",
        by_suffix={
            "converted": ("The hold is paid: seats taken",),
            "released": ("{actor} released the hold",),
            "expired": ("The hold expired",),
        },
    ),
    _prefix(
        "tms.departure.hold.",
        B,
        "Hold {state}",
        by_suffix={
            "created": ("{seats:seat} held for booking {booking}", "Seats held"),
            "converted": ("{seats:seat} paid for", "Held seats paid for"),
            "released": ("{seats:seat} released", "Held seats released"),
            "expired": ("A hold on {seats:seat} expired", "A hold expired"),
        },
    ),
    _exact(
        "tms.waitlist_entry.created",
        B,
        "{actor} joined the waitlist with booking {booking}",
        "{actor} joined the waitlist",
    ),
    _prefix(
        "tms.waitlist_entry.status.",
        B,
        "Waitlist: {state}",
        by_suffix={
            "offered": ("A spot was offered from the waitlist",),
            "accepted": ("{actor} took the spot offered",),
            "waiting": ("Back in the waitlist queue: {reason}", "Back in the waitlist queue"),
            "expired": ("The spot offered expired",),
            "cancelled": ("{actor} left the waitlist",),
        },
    ),
    _exact(
        "tms.payment.received",
        B,
        "{amount:money} received for booking {booking}",
        "{amount:money} received",
        "Payment received",
    ),
    _exact(
        "tms.payment.already_recorded",
        B,
        "Payment {eventId} reported again: already recorded",
        "A payment was reported again: already recorded",
    ),
    _exact(
        "tms.payment.cash_received",
        B,
        "{recordedBy} recorded {amount:money} in cash for booking {booking}: receipt {receipt}",
        "{recordedBy} recorded {amount:money} in cash: receipt {receipt}",
        "Cash recorded",
        staff_fields=("recordedBy",),
    ),
    _exact(
        "tms.payment_proof.created",
        Area.PAYMENTS,
        "{actor} sent a {method:words} receipt for booking {booking} ({source}, "
        "says {amount:money})",
        "{actor} sent a {method:words} receipt for booking {booking} ({source})",
        "{actor} filed a payment receipt",
        # Said only for money coming in (a refund's receipt is staff's own).
        alerts=(ops("a receipt waits to be checked"),),
    ),
    _prefix(
        "tms.payment_proof.status.",
        Area.PAYMENTS,
        "{actor} marked the receipt {state}",
        by_suffix={
            "verified": (
                "{actor} verified the receipt for booking {booking}: {amount:money} received, "
                "value date {valueDate}, despite: {flags}",
                "{actor} verified the receipt for booking {booking}: {amount:money} received, "
                "value date {valueDate}",
                "{actor} verified the receipt",
            ),
            "rejected": (
                "{actor} rejected the receipt for booking {booking}: {reason}",
                "{actor} rejected the receipt: {reason}",
                "{actor} rejected the receipt",
            ),
        },
    ),
    _exact(
        "tms.payment_proof.file_read",
        Area.PAYMENTS,
        "{actor} opened the receipt of booking {booking}",
        "{actor} opened the receipt",
    ),
    _exact(
        "tms.booking.hold.kept_for_proof",
        B,
        "The hold is kept until {until} while the receipt is checked",
        "The hold is kept while the receipt is checked",
    ),
    _exact(
        "tms.booking.hold.resumed_after_proof",
        B,
        "The receipt was not accepted: the hold runs until {until}",
        "The receipt was not accepted: the hold runs again",
    ),
    _exact(
        "tms.payment.cash_flagged",
        B,
        "{recordedBy} took {amount:money} in cash for booking {booking}, not applied: {reason}",
        "Cash taken but not applied: {reason}",
        "Cash taken but not applied",
        staff_fields=("recordedBy",),
    ),
    # -- Departures -----------------------------------------------------------------------------
    _exact(
        "tms.departure.created",
        D,
        "{actor} added a {product} departure on {startDate} ({capacity:seat})",
        "{actor} added a departure on {startDate}",
        "{actor} added the departure",
    ),
    _exact(
        "tms.departure.changed",
        D,
        "{actor} changed the departure's {fields}",
        "{actor} changed the departure",
    ),
    # -- Guests' feedback -----------------------------------------------------------------------
    _exact(
        "tms.booking.feedback",
        F,
        "{actor} rated the trip {rating}/5: “{comment}”",
        "{actor} rated the trip {rating}/5",
        "{actor} wrote feedback: “{comment}”",
        "{actor} wrote feedback: “{text}”",
        "{actor} gave feedback",
    ),
    _exact(
        "tms.conversation.feedback",
        F,
        "{actor} wrote feedback: “{text}”",
        "{actor} gave feedback",
    ),
    _prefix(
        "tms.trip.feedback.",
        F,
        "Trip feedback: {state}",
        by_suffix={
            "received": (
                "A guest of booking {booking} rated the trip {rating}/5: “{comment}”",
                "A guest of booking {booking} rated the trip {rating}/5",
                "A guest of booking {booking} wrote feedback: “{comment}”",
                "A guest gave feedback",
            ),
            "requested": (
                "{guests:guest} asked for feedback",
                "The guests were asked for feedback",
            ),
        },
    ),
    # -- Conversations and contacts ---------------------------------------------------------
    _exact("tms.conversation.opened", M, "{actor} started a conversation"),
    _exact(
        "tms.conversation.bound",
        M,
        "The conversation is now filed under the {objectType:lower}",
        "The conversation was filed",
    ),
    _exact(
        "tms.conversation.bot_paused",
        M,
        "{actor} paused the assistant: staff answer now",
        # Said only when the customer asks for a person (staff pausing it know it).
        alerts=(
            rep(
                "the bot is paused: only someone on duty can pick it up",
                no_rep=SALES_ON_DUTY,
            ),
        ),
    ),
    _exact("tms.conversation.bot_resumed", M, "{actor} let the assistant answer again"),
    _exact(
        "tms.conversation.question_answered",
        M,
        "The assistant answered a question on {topic:words}: “{text}”",
        "The assistant answered a question on {topic:words}",
        "The assistant answered a question",
    ),
    _exact(
        "tms.conversation.question_unanswered",
        M,
        "The assistant could not answer: “{text}”",
        "The assistant could not answer a question",
        alerts=(
            rep('the customer was told "I\'ll ask the team"', no_rep=SALES, staff_sender=NOBODY),
        ),
    ),
    _exact(
        "tms.conversation.unhandled",
        M,
        "The assistant did not understand: “{text}”",
        "The assistant did not understand a message",
        alerts=(
            rep(
                "the help answer promised no person; the message is on the timeline",
                staff_sender=NOBODY,
            ),
        ),
    ),
    # For an alert only: the timeline shows the customer's message (and the help answer).
    _exact(
        "tms.conversation.passed_to_team",
        M,
        "{actor}'s message was passed to the team: “{text}”",
        "{actor}'s message was passed to the team",
        alerts=(rep("the customer was told it was passed on", no_rep=SALES, staff_sender=NOBODY),),
    ),
    _exact(
        "tms.conversation.forwarded",
        M,
        "The assistant is paused: {actor}'s message went to staff",
        alerts=(rep("nobody else answers a paused chat", no_rep=SALES),),
    ),
    _exact(
        "tms.conversation.assistant_silent",
        M,
        "The assistant said nothing to “{text}”: staff alerted",
        "The assistant said nothing: staff alerted",
        alerts=(
            rep("the assistant said nothing: a person must look", no_rep=SALES, staff_sender=OPS),
        ),
    ),
    _exact(
        "tms.contact.email_set",
        M,
        "{actor} set the e-mail address to {email}",
        "{actor} set the e-mail address",
    ),
    _exact(
        "tms.contact.language_detected",
        M,
        "The customer writes in {language_name}: answered in it from now on",
        "The customer's language was recognised",
    ),
    _exact(
        "tms.contact.language_chosen",
        M,
        "{actor} asked to be written to in {language_name}",
        "{actor} chose a language",
    ),
    _exact(
        "tms.conversation.foreign_language",
        M,
        "{actor} wrote in {language_name}, which the assistant does not speak: staff alerted",
        "{actor} wrote in a language the assistant does not speak: staff alerted",
        alerts=(
            rep("a person must answer in a language the assistant does not speak", no_rep=SALES),
        ),
    ),
    _exact(
        "tms.contact.merged",
        M,
        "WhatsApp showed that {phone} and the username's ID {userId} are one customer: "
        "their records were joined",
        "Two records of one customer were joined",
    ),
    _exact(
        "tms.contact.phone_changed",
        M,
        "The customer's WhatsApp number changed from {previous} to {phone}",
        "The customer's WhatsApp number changed",
    ),
    _exact(
        "tms.contact.user_id_changed",
        M,
        "The customer's WhatsApp user ID changed from {previous} to {userId}",
        "The customer's WhatsApp user ID changed",
    ),
    _exact("tms.contact.opted_in", M, "{actor} agreed to receive messages again"),
    _exact("tms.contact.opted_out", M, "{actor} wrote STOP: no more messages"),
    _exact(
        "tms.contact.marketing_opted_in",
        M,
        "{actor} agreed to hear about future departures (marketing messages)",
    ),
    _exact(
        "tms.contact.marketing_declined",
        M,
        "{actor} does not want to hear about future departures (no marketing messages)",
    ),
    _exact(
        "tms.contact.marketing_stopped",
        M,
        "The customer stopped marketing messages in WhatsApp (Meta's 131050): no marketing "
        "until they opt in again; messages about their bookings still go",
    ),
    _exact(
        "tms.contact.marketing_paused",
        M,
        "Meta's marketing limit for this customer (131049): no marketing until {until}; "
        "messages about their bookings still go",
        "Meta's marketing limit for this customer (131049): marketing paused for now",
    ),
    _exact(
        "tms.contact.message_withheld",
        M,
        "A {purpose:words} message was not sent: {reason}",
        "A message was not sent: the customer wrote STOP",
    ),
    _exact(
        "tms.contact.media.received",
        M,
        "{actor} sent a {kind}: “{caption}”",
        "{actor} sent a {kind}",
        "{actor} sent a file",
    ),
    _prefix(
        "tms.message.",
        ABOUT_OBJECT,
        "WhatsApp message: {state}",
        by_suffix={
            "inbound": ("{actor} wrote: “{text}”", "{actor} wrote a message"),
            "inbound.retried": ("A message received is being handled again",),
            "outbound": ("Sent on WhatsApp: “{text}”", "A WhatsApp message was sent"),
            "outbound.retried": ("A WhatsApp message is being sent again",),
        },
    ),
    _prefix(
        "tms.email.",
        ABOUT_OBJECT,
        "E-mail: {state}",
        by_suffix={
            "queued": ("E-mail “{subject}” queued for {to}", "An e-mail was queued"),
            "sent": ("E-mail “{subject}” sent to {to}", "An e-mail was sent"),
            "failed": (
                "E-mail “{subject}” to {to} failed: {error}",
                "E-mail “{subject}” to {to} failed",
                "An e-mail failed",
            ),
            "retried": ("E-mail to {to} is being sent again", "An e-mail is being sent again"),
        },
    ),
    _exact(
        "tms.console.reply",
        ABOUT_OBJECT,
        "{actor} replied with the {template:words} template: “{text}”",
        "{actor} replied: “{text}”",
        "{actor} replied",
    ),
    # -- The catalog and the assistant's answers ----------------------------------------------
    _exact(
        "tms.product.created",
        C,
        "{actor} added the product {code}: {name}",
        "{actor} added the product {code}",
        "{actor} added a product",
    ),
    _exact(
        "tms.product.changed",
        C,
        "{actor} changed the product's {fields}",
        "{actor} changed the product",
    ),
    _exact(
        "tms.faq.answer_updated",
        C,
        "{actor} changed the answer on {topic:words} for {product}",
        "{actor} changed the answer on {topic:words}",
        "{actor} changed an answer",
    ),
    _exact(
        "tms.faq.defaults_loaded",
        C,
        "{answers:answer} loaded from the defaults",
        "The default answers were loaded",
    ),
    _exact(
        "tms.translation.saved",
        C,
        "{actor} wrote the {languageName} words for “{message}”: “{after}”",
        "{actor} wrote the {languageName} words for “{message}”",
        "{actor} changed a text customers read",
    ),
    _exact(
        "tms.translation.reset",
        C,
        "{actor} put the {languageName} words for “{message}” back to the catalogue's",
        "{actor} put a text customers read back to the catalogue's translation",
    ),
    _exact(
        "tms.trek_texts.saved",
        C,
        "{actor} wrote {product}'s {languageName} texts ({written})",
        "{actor} wrote {product}'s {languageName} texts",
        "{actor} changed a trek's texts in another language",
    ),
    _exact(
        "tms.trek_texts.reset",
        C,
        "{actor} put {product}'s {languageName} texts back to the English",
        "{actor} put a trek's texts in another language back to the English",
    ),
    _exact(
        "tms.cancellation_policy.changed",
        C,
        "{actor} changed the cancellation policy of {product}: {lines}",
        "{actor} changed the house cancellation policy: {lines}",
        "{actor} changed the cancellation policy",
    ),
    _exact(
        "tms.exchange_rate.set",
        Area.PAYMENTS,
        "{actor} set the {currency} rate from {validFrom}: {rate} {baseCurrency} "
        "(buffer {bufferPercent} %)",
        "{actor} set an exchange rate",
    ),
    _exact(
        "tms.message_rate.set",
        Area.PAYMENTS,
        "{actor} set the WhatsApp {category} price for {market} (+{callingCode}) from "
        "{validFrom}: {price} {currency}",
        "{actor} set the WhatsApp {category} price for {market} from {validFrom}: "
        "{price} {currency}",
        "{actor} set a WhatsApp message price",
    ),
    # -- Trips, assignments, attendance (guides' check-ins and positions) -----------------------
    _exact("tms.trip.created", T, "{actor} created trip {reference}", "{actor} created the trip"),
    _prefix(
        "tms.trip.status.",
        T,
        "{actor} set the trip to {state}",
        by_suffix={
            "in_progress": ("{by} checked in: the trip has started", "The trip has started"),
            "ended": (
                "{actor} checked out: the trip has ended. “{note}”",
                "{actor} checked out: the trip has ended",
            ),
            "cancelled": ("{actor} cancelled the trip",),
        },
        # Said when a guide checks in or out in the chat.
        alerts_by_suffix={
            "in_progress": (ops("the trip has started"),),
            "ended": (ops("the trip is over; an incident still open must be closed"),),
        },
    ),
    _exact(
        "tms.trip.checkin.missing",
        T,
        "No check-in from {guides} at the meeting time: operations alerted",
        "No check-in at the meeting time: operations alerted",
        alerts=(ops("nobody is known to be with the guests", urgent=True),),
    ),
    # For an alert only (the trip may be delayed: the guests are not asked for feedback yet).
    _exact(
        "tms.trip.checkout.missing",
        T,
        "No check-out after the trip's last day: operations alerted",
        alerts=(ops("the trip may still be under way"),),
    ),
    _exact(
        "tms.trip.field_update",
        T,
        "{actor} sent an update: “{text}”",
        "{actor} sent an update",
    ),
    _exact(
        "tms.trip.media.attached",
        T,
        "{actor} sent a {kind} from the trip: “{caption}”",
        "{actor} sent a {kind} from the trip",
        "{actor} sent a file from the trip",
    ),
    _prefix(
        "tms.assignment.status.",
        T,
        "Assignment {state}",
        by_suffix={
            "offered": (
                "{actor} offered the assignment: {reason}",
                "{actor} offered the assignment",
            ),
            "accepted": ("{actor} accepted the assignment",),
            "declined": ("{actor} declined the assignment",),
            "expired": (
                "No answer to the assignment offer within {hours:hour}",
                "No answer to the assignment offer",
            ),
            "cancelled": ("{actor} cancelled the assignment",),
            "completed": ("Assignment completed",),
        },
        alerts_by_suffix={
            "accepted": (ops("the trip's team is taking shape"),),
            "declined": (ops("someone else must be assigned"),),
            "expired": (
                ops("someone else must be assigned"),
                Alert(NAMED, STAFF_ALERT, "a late Accept finds nothing to accept"),
            ),
        },
    ),
    _exact(
        "tms.attendance.created",
        T,
        "{staff} checked in on trip {trip}",
        "{actor} checked in",
    ),
    _prefix(
        "tms.attendance.status.",
        T,
        "Attendance: {state}",
        by_suffix={"trip_complete": ("Checked out: trip complete",)},
    ),
    # -- Payroll: an assignment's creation carries the compensation offered ----------------------
    _exact(
        "tms.assignment.created",
        PAY,
        "{actor} offered {staff} the {role:lower} role on {trip}",
        "{actor} offered {staff} an assignment",
        "{actor} offered an assignment",
    ),
    _prefix(
        "tms.assignment.payroll.",
        PAY,
        "Payroll: {state}",
        by_suffix={"added": ("{amount:money} added to payroll", "Added to payroll")},
    ),
    # -- Incidents --------------------------------------------------------------------------------
    _prefix(
        "tms.incident.",
        INC,
        "Incident: {state}",
        by_suffix={
            "created": (
                "{actor} reported a {severity:lower} incident on trip {trip}: “{text}”",
                "{actor} reported an incident on trip {trip}",
                "{actor} reported an incident",
            ),
            "status.in_progress": ("{actor} set the incident in progress",),
            "status.resolved": ("{actor} resolved the incident",),
            "acknowledged": ("{actor} acknowledged the incident",),
            "updated": (
                "{actor} noted on the incident: {note}",
                "{actor} wrote the resolution: {resolution}",
                "{actor} set the ETA to {eta}",
                "{actor} updated the incident",
            ),
            "field_update": (
                "{actor} sent an update on the incident: “{text}”",
                "{actor} sent an update on the incident",
            ),
            "guests_notified": ("{actor} told all the guests: “{text}”", "{actor} told the guests"),
            "guest_notified": (
                "{actor} told the guests of {bookings:booking}: “{text}”",
                "{actor} told some of the guests",
            ),
            "media.attached": (
                "{actor} sent a {kind} for the incident: “{caption}”",
                "{actor} sent a {kind} for the incident",
                "{actor} sent a file for the incident",
            ),
            "escalated": (
                "Nobody acknowledged the incident within {minutes:minute}: "
                "escalated to admins and operations",
                "Incident escalated to admins and operations",
            ),
            # The insurer-first checklist (backend/services/incident_rescue.py).
            "rescue.opened": (
                "The insurer-first checklist opened: a critical incident that mentions {words}",
                "The insurer-first checklist opened",
            ),
            "rescue.insurer_called": (
                "{actor} called the insurer {insurer}: case number {case}",
                "{actor} called the insurer: case number {case}",
                "{actor} called the insurer",
            ),
            "rescue.evacuation_arranged": (
                "{actor} arranged the evacuation with {provider} for {at} before the insurer "
                "was called: {override}",
                "{actor} arranged the evacuation with {provider} for {at}",
                "{actor} arranged the evacuation",
            ),
            "rescue.hospital": (
                "{actor} recorded the hospital: {hospital}",
                "{actor} recorded the hospital",
            ),
            "rescue.family_informed": (
                "{actor} informed the family: {contact}",
                "{actor} informed the family",
            ),
            "dossier_exported": ("{actor} exported the incident dossier for the insurer's claim",),
        },
        alerts_by_suffix={
            # The guide's own update, and operations' message to the guide (`updated`).
            "status.resolved": (ops("the guide says it is over"),),
            "updated": (Alert(NAMED, STAFF_ALERT, "operations wrote to the guide"),),
            "escalated": (
                Alert(ADMIN, OPS_URGENT_ALERT, "nobody acknowledged the incident in time"),
                ops("nobody acknowledged the incident in time", urgent=True),
            ),
        },
    ),
    _prefix(
        "tms.trip.incident.",
        INC,
        "Incident: {state}",
        by_suffix={
            "reported": (
                "{actor} reported a {severity:lower} incident: “{text}”",
                "{actor} reported an incident",
            )
        },
        # Urgent when the severity is high or critical (the caller says so).
        alerts_by_suffix={"reported": (ops("a guide reported an incident"),)},
    ),
    # -- Staff administration and sign-in: every `tms.staff.*` code (people, roles, tokens,
    # sign-in codes and sessions) is ADMIN's alone, new ones included. ----------------------------
    _prefix(
        "tms.staff.",
        Area.STAFF_ADMIN,
        "Staff: {state}",
        by_suffix={
            "created": (
                "{actor} added {name} to the staff as {roles:lower}",
                "{actor} added {name} to the staff",
                "{actor} added a staff member",
            ),
            "token_issued": (
                "{actor} issued {name} an API token: {label}",
                "{actor} issued an API token",
            ),
            "token_rotated": (
                "{actor} gave {name} a new API token",
                "{actor} issued a new API token",
            ),
            "token_revoked": (
                "{actor} revoked {name}'s API token “{label}”",
                "{actor} revoked an API token",
            ),
            "deactivated": ("{actor} deactivated {name}", "{actor} deactivated a staff member"),
            "reactivated": ("{actor} reactivated {name}", "{actor} reactivated a staff member"),
            "roles_changed": (
                "{actor} changed {name}'s roles to {after:lower}",
                "{actor} changed a staff member's roles",
            ),
            "available": ("{actor} marked {name} available", "{actor} marked someone available"),
            "away": ("{actor} marked {name} away", "{actor} marked someone away"),
            "sign_in.code_sent": ("A sign-in code was sent to {actor}",),
            "sign_in.code_refused": (
                "No new sign-in code for {actor}: {reason}",
                "No new sign-in code for {actor}",
            ),
            "sign_in.code_wrong": (
                "A wrong sign-in code for {actor} ({attempts:attempt})",
                "A wrong sign-in code for {actor}",
            ),
            "sign_in.link_created": ("{actor} created a one-time sign-in link",),
            "signed_in": ("{actor} signed in by {how:words}", "{actor} signed in"),
            "signed_out": ("{actor} signed out",),
            "sessions_ended": (
                "{actor} ended {sessions:session} of the staff member",
                "{actor} ended the staff member's sessions",
            ),
            "sessions_ended_elsewhere": (
                "{actor} signed out everywhere else ({sessions:session})",
                "{actor} signed out everywhere else",
            ),
        },
    ),
    # -- Travellers' papers (never their values: those are sealed) ------------------------------
    _exact(
        "tms.traveller.invited",
        B,
        "The customer was sent the link for the travellers' papers of {booking}",
        "The customer was sent the link for the travellers' papers",
    ),
    _exact(
        "tms.contact.data_erasure_requested",
        None,
        "{name} asked in the chat to delete their personal data",
        "The customer asked in the chat to delete their personal data",
        alerts=(ops("a person must confirm it with the customer, then erase the papers"),),
    ),
    _exact(
        "tms.contact.data_copy_requested",
        None,
        "{name} asked in the chat for a copy of their personal data",
        "The customer asked in the chat for a copy of their personal data",
        alerts=(ops("a person must send the customer what is held about them"),),
    ),
    _exact(
        "tms.contact.data_erased",
        None,
        "{actor} erased the papers of {travellers:traveller} at the customer's request",
        "{actor} erased the customer's papers at their request",
    ),
    _exact(
        "tms.traveller.flow_sent",
        B,
        "The customer was sent the form for traveller {traveller}'s papers in the chat",
        "The customer was sent the papers form in the chat",
    ),
    _exact(
        "tms.traveller.flow_refused",
        None,
        "A papers form answer was refused: {why}",
        "A papers form answer was refused",
    ),
    _exact(
        "tms.traveller.updated",
        B,
        "{actor} updated traveller {traveller}'s papers: {changed}",
        "{actor} updated a traveller's papers",
    ),
    _exact(
        "tms.traveller.photo_filed",
        B,
        "{actor} filed the {photo:words} of traveller {traveller}",
        "{actor} filed a traveller's photo",
    ),
    _exact(
        "tms.traveller.papers_read",
        Area.TRAVELLER_PAPERS,
        "{actor} opened the travellers' papers of {booking} ({what})",
        "{actor} opened the travellers' papers",
    ),
    _exact(
        "tms.traveller.verified",
        B,
        "{actor} verified traveller {traveller}'s papers",
        "{actor} verified a traveller's papers",
    ),
    _exact("tms.traveller.locked", B, "{actor} locked the travellers' papers for the permits"),
    _exact("tms.traveller.reopened", B, "{actor} reopened the travellers' papers for changes"),
    _exact(
        "tms.traveller.purged",
        B,
        "Traveller {traveller}'s papers were deleted ({why:words})",
        "A traveller's papers were deleted",
    ),
    _exact(
        "tms.traveller.reminded",
        B,
        "The customer was reminded of the papers still missing for {travellers}",
        "The customer was reminded of the papers still missing",
    ),
    _exact(
        "tms.traveller.papers_incomplete",
        B,
        "Operations were alerted: papers still missing for {travellers}",
        "Operations were alerted: papers still missing",
        alerts=(ops("the trip is days away and permits need every traveller's papers"),),
    ),
    # -- WhatsApp templates as Meta holds them (backend/services/message_templates.py) ---------
    _prefix(
        "tms.template.status.",
        Area.ADMINISTRATION,
        "Meta set the WhatsApp template {template} ({language}) to {state}: {reason}",
        "Meta set the WhatsApp template {template} ({language}) to {state}",
        "Meta set a WhatsApp template to {state}",
        by_suffix={
            "paused": (
                "Meta paused the WhatsApp template {template} ({language}): {reason}",
                "Meta paused the WhatsApp template {template} ({language})",
                "Meta paused a WhatsApp template",
            ),
            "disabled": (
                "Meta disabled the WhatsApp template {template} ({language}): {reason}",
                "Meta disabled the WhatsApp template {template} ({language})",
                "Meta disabled a WhatsApp template",
            ),
            "rejected": (
                "Meta rejected the WhatsApp template {template} ({language}): {reason}",
                "Meta rejected the WhatsApp template {template} ({language})",
                "Meta rejected a WhatsApp template",
            ),
        },
        alerts_by_suffix={
            "paused": (
                ops("messages that need the template outside the window are not sent"),
                Alert(ADMIN, OPS_ALERT, "the template's wording or use needs a decision"),
            ),
            "disabled": (
                ops("messages that need the template outside the window are not sent"),
                Alert(ADMIN, OPS_ALERT, "the template's wording or use needs a decision"),
            ),
            "rejected": (Alert(ADMIN, OPS_ALERT, "the template must be rewritten"),),
        },
    ),
    _exact(
        "tms.template.quality_changed",
        Area.ADMINISTRATION,
        "Meta rated the WhatsApp template {template} ({language}) {quality:lower} "
        "(was {previous:lower})",
        "Meta rated the WhatsApp template {template} ({language}) {quality:lower}",
        "Meta rated a WhatsApp template's quality again",
    ),
    _exact(
        "tms.template.reclassified",
        Area.ADMINISTRATION,
        "Meta will bill the WhatsApp template {template} ({language}) as {category:lower} "
        "instead of {previous:lower} from {from}",
        "Meta reclassified the WhatsApp template {template} ({language}) from "
        "{previous:lower} to {category:lower}",
        "Meta reclassified a WhatsApp template",
        alerts=(
            ops("a utility message billed as marketing is not sent on silently"),
            Alert(ADMIN, OPS_ALERT, "the template's wording or category needs a decision"),
        ),
    ),
    _exact(
        "tms.template.not_sent",
        ABOUT_OBJECT,
        "Not sent to {to}: the WhatsApp template {template} is {status:lower} and the window "
        "is closed: “{text}”",
        "Not sent to {to}: the WhatsApp template {template} is {status:lower}",
        "A message was not sent: its WhatsApp template may not be used",
        alerts=(ops("the customer did not get the message: someone must reach them"),),
    ),
    _exact(
        "tms.messaging_limit.changed",
        Area.ADMINISTRATION,
        "Meta's messaging limit is now {limit} users a day outside the window ({tier}, was "
        "{previous})",
        "Meta's messaging limit is now {limit} users a day outside the window ({tier})",
        "Meta changed the messaging limit",
        alerts=(
            ops("reminders and campaigns go out faster or wait longer for the new limit"),
            Alert(ADMIN, OPS_ALERT, "a lower limit means campaigns may need rethinking"),
        ),
    ),
    _exact(
        "tms.messaging_limit.flagged",
        Area.ADMINISTRATION,
        "Meta flagged the WhatsApp number's quality: the limit of {limit} users a day may be "
        "lowered",
        "Meta flagged the WhatsApp number's quality",
        alerts=(
            ops("customers are blocking or reporting our messages: the limit may be lowered"),
            Alert(ADMIN, OPS_ALERT, "marketing campaigns should wait until the flag is lifted"),
        ),
    ),
    _exact(
        "tms.messaging_limit.unflagged",
        Area.ADMINISTRATION,
        "Meta lifted the quality flag of the WhatsApp number",
    ),
    # -- Campaigns (marketing templates to opted-in customers) ----------------------------------
    _exact(
        "tms.campaign.created",
        M,
        "{actor} created the campaign “{name}” ({template}) for {audience}",
        "{actor} created the campaign “{name}”",
        "{actor} created a campaign",
    ),
    _exact(
        "tms.campaign.sent",
        M,
        "{actor} sent the campaign “{name}”: {queued} queued of {audience} opted in",
        "{actor} sent the campaign “{name}”",
        "{actor} sent a campaign",
    ),
    # -- The operator as a whole ------------------------------------------------------------------
    _exact(
        "tms.demo.history_seeded",
        Area.ADMINISTRATION,
        "Demo history of {days:day} loaded",
        "Demo history loaded",
    ),
)

BY_CODE: Mapping[str, TimelineAction] = {a.code: a for a in ACTIONS}
_PREFIXES = tuple(a for a in ACTIONS if a.is_prefix)

# Who did it, when no staff member is known: by the actor's source (`backend.domain.enums`).
# The assistant acts for the customer who wrote (source WHATSAPP); its own steps say so.
ACTOR_BY_SOURCE: Mapping[str, str] = {
    "WHATSAPP": "the customer",
    "ADMIN": "an administrator",
    "SYSTEM": "the system",
    "SCHEDULER": "the system",
    "PAYMENT": "the payment provider",
}


def action_for(code: str) -> TimelineAction | None:
    """The entry that covers `code` (None: an undeclared code, ADMIN's alone)."""
    exact = BY_CODE.get(code)
    if exact is not None:
        return exact
    return next((a for a in _PREFIXES if code.startswith(a.code)), None)


def sentences_for(code: str) -> tuple[str, ...]:
    """The sentences `code` may read as, richest first (empty: an undeclared code)."""
    entry = action_for(code)
    if entry is None:
        return ()
    if entry.is_prefix:
        return entry.by_suffix.get(code[len(entry.code) :], entry.says)
    return entry.says


def alerts_for(code: str) -> tuple[Alert, ...]:
    """Who is alerted when `code` happens, in order (empty: nobody, or an undeclared code)."""
    entry = action_for(code)
    if entry is None:
        return ()
    if entry.is_prefix:
        return entry.alerts_by_suffix.get(code[len(entry.code) :], ())
    return entry.alerts


def alerting_codes() -> list[str]:
    """Every code that alerts someone (a prefix entry's codes by suffix)."""
    return [a.code for a in ACTIONS if a.alerts] + [
        a.code + suffix for a in ACTIONS for suffix in a.alerts_by_suffix
    ]


def actor_words(source: str | None, phone: str | None, staff_name: str | None) -> str:
    """Who did it, as the sentence names them: the staff member's name when known."""
    if staff_name:
        return staff_name
    return ACTOR_BY_SOURCE.get(source or "") or phone or "someone"


def sentence(code: str, content: Mapping[str, Any] | None, actor: str) -> str:
    """What happened, in a sentence staff read: the richest of the code's sentences whose
    fields `content` holds. Never fails: an undeclared code reads as itself."""
    entry = action_for(code)
    fields = content if isinstance(content, Mapping) else {}
    state = code[len(entry.code) :] if entry is not None and entry.is_prefix else None
    formatter = _Formatter(fields, actor=actor, state=state)
    for template in sentences_for(code):
        try:
            return _capitalised(formatter.format(template))
        except (KeyError, ValueError, TypeError, IndexError, AttributeError):
            continue  # a field missing or unusable: a plainer sentence
    return _capitalised(f"{actor}: {code}")


def template_fields(template: str) -> list[tuple[str, str]]:
    """The (field, format) pairs a sentence uses (the tests check them)."""
    return [
        (name, spec or "")
        for _, name, spec, _ in string.Formatter().parse(template)
        if name is not None
    ]


LONGEST_VALUE = 120  # characters of one field shown (a message's text can be long)
FORMATS = ("money", "lower", "words")
SPECIAL_FIELDS = ("actor", "state", "fields")


class _Formatter(string.Formatter):
    def __init__(self, content: Mapping[str, Any], *, actor: str, state: str | None) -> None:
        super().__init__()
        self.content = content
        self.special = {"actor": actor, "state": _words(state) if state else None}
        self.special["fields"] = ", ".join(_words(k) for k in content) or None

    def get_field(self, field_name: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Any:
        # A plain name only: no attribute or index look-ups into the content.
        if not field_name.isidentifier():
            raise KeyError(field_name)
        value = self.special[field_name] if field_name in SPECIAL_FIELDS else None
        if field_name not in SPECIAL_FIELDS:
            value = self.content.get(field_name)
        if value is None or value == "" or value == [] or value == {}:
            raise KeyError(field_name)
        return value, field_name

    def format_field(self, value: Any, format_spec: str) -> str:
        if format_spec == "money":
            currency = self.content.get("currency")
            if isinstance(value, bool) or not isinstance(value, int) or not currency:
                raise ValueError("money needs integer minor units and a currency")
            return Money(value, str(currency)).format()
        if format_spec == "lower":
            return _text(value).lower()
        if format_spec == "words":
            return _words(_text(value))
        if format_spec.isalpha():
            return _count(value, format_spec)
        if format_spec:
            raise ValueError(f"unknown format {format_spec!r}")
        return _text(value)


def _text(value: Any) -> str:
    if isinstance(value, bool | Mapping):
        raise ValueError("not shown in a sentence")
    if isinstance(value, list | tuple):
        return ", ".join(_text(v) for v in value if v not in (None, ""))
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = " ".join(str(value).split())
    return text if len(text) <= LONGEST_VALUE else text[: LONGEST_VALUE - 1].rstrip() + "…"


def _count(value: Any, noun: str) -> str:
    if isinstance(value, list | tuple):
        value = len(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("a count is a number")
    number = _text(value)
    return f"{number} {noun}{'' if value == 1 else 's'}"


def _words(text: str) -> str:
    return " ".join(text.replace("_", " ").replace("-", " ").replace(".", " ").split())


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]
