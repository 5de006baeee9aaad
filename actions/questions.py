"""Every yes/no question the assistant or the backend asks, one entry each.

A question is named by an `AnswerTo` (backend/domain/choices.py): `cancel:<ref>`,
`resolved:<incident>:at:<ts>`, `offer:<booking>`, ... A tapped Yes / No carries it in its
payload; a question asked in words keeps the same string in the `pending_question` slot
(`ask_yes_no`). An entry says
- who may answer: `asked_about` finds the object the question is about, or None when the
  sender may not answer it (not theirs) or it no longer applies;
- what Yes and No do (`yes`, `no`, given that object);
- `open_question`: for a typed answer with nothing pending, the question still open without
  being asked in this conversation (a guide's assignment offer, a live waitlist offer).

A typed Yes / No goes through `REGISTRY` in order and answers the first entry that the
pending slot names or whose open question exists; that order is the assistant's order of
precedence. A new yes/no question is one entry here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from actions.common import Turn, answer_refund_choice
from actions.context import pending_question
from actions.holds import ask_for_email, place_hold_from_quote
from backend import clock, texts
from backend.domain import choices
from backend.domain.choices import AnswerTo
from backend.domain.enums import (
    AssignmentStatus,
    BookingStatus,
    IncidentStatus,
    LeadStatus,
    ObjectType,
    RefundStatus,
    WaitlistStatus,
)
from backend.domain.errors import DepartureClosed
from backend.models import Assignment, Booking, Incident, Lead, Refund
from backend.services import (
    assignments,
    bookings,
    consent,
    incidents,
    inventory,
    leads,
    refunds,
    routing,
    waitlist,
)

# A Yes / No this long after "Is the issue resolved?" is about something else.
RESOLVED_QUESTION_LIFETIME = timedelta(hours=6)

PENDING = "pending_question"


def ask_yes_no(turn: Turn, text: str, kind: str, object_id: str, *extra: str) -> None:
    """Ask with Yes / No buttons; the pending slot keeps what the buttons carry, so a typed
    answer is read against the same question."""
    asked = choices.answer_to(kind, object_id, *extra)
    turn.say(text, buttons=choices.yes_no(asked))
    turn.set_slot(PENDING, asked)


def _expired(turn: Turn, about: AnswerTo) -> None:
    turn.say(texts.choice_expired())


@dataclass(frozen=True)
class Question:
    kind: str
    asked_about: Callable[[Turn, AnswerTo], Any | None]
    yes: Callable[[Turn, Any], None]
    no: Callable[[Turn, Any], None]
    open_question: Callable[[Turn, bool], Any | None] | None = None
    # A tap on a question that no longer applies (the default says the choice expired).
    expired: Callable[[Turn, AnswerTo], None] = _expired


# -- a guide's trip assignment offer (Accept / Decline) ------------------------------------


def _assignment(turn: Turn, about: AnswerTo) -> Assignment | None:
    assignment = turn.session.get(Assignment, about.object_id)
    if assignment is None or turn.staff is None or assignment.staff_id != turn.staff.id:
        return None
    return assignment


def _open_assignment(turn: Turn, yes: bool) -> Assignment | None:
    return (
        assignments.pending_offer_for(turn.session, turn.staff) if turn.staff is not None else None
    )


def _answer_assignment(turn: Turn, assignment: Assignment, yes: bool) -> None:
    if assignment.status != AssignmentStatus.OFFERED:
        turn.say(texts.assignment_already_answered(assignment))
        return
    assignments.respond_to_assignment(turn.session, assignment, yes, turn.actor)
    assert turn.staff is not None
    turn.say(
        texts.assignment_accepted(assignment.trip, emailed=bool(turn.staff.email))
        if yes
        else texts.assignment_declined(assignment.trip)
    )


# -- "is the issue resolved?" after a guide's unclear UPDATE ------------------------------


def _incident(turn: Turn, about: AnswerTo) -> Incident | None:
    """The incident, while the question applies: asked recently, still open, and the sender
    one of the trip's guides."""
    asked = about.extra[1] if len(about.extra) > 1 else ""
    if not asked.isdigit() or clock.now().timestamp() - int(asked) > (
        RESOLVED_QUESTION_LIFETIME.total_seconds()
    ):
        return None
    incident = turn.session.get(Incident, about.object_id)
    if turn.staff is None or incident is None or incident.status == IncidentStatus.RESOLVED:
        return None
    if not assignments.is_assigned(turn.session, incident.trip, turn.staff):
        return None
    return incident


def _resolved(turn: Turn, incident: Incident) -> None:
    incidents.resolve_from_field(
        turn.session, incident, "resolved (the guide confirmed)", turn.actor
    )
    turn.say(texts.incident_resolved(incident))


def _resolved_gone(turn: Turn, about: AnswerTo) -> None:
    incident = turn.session.get(Incident, about.object_id)
    if incident is not None and incident.status == IncidentStatus.RESOLVED:
        turn.say(texts.incident_resolved(incident))
    else:
        turn.say(texts.choice_expired())


# -- "cancel this booking?" ---------------------------------------------------------------


def _booking_to_cancel(turn: Turn, about: AnswerTo) -> Booking | None:
    booking = bookings.find_booking(turn.session, about.object_id)
    return booking if booking.contact_id == turn.contact.id else None


def _cancel(turn: Turn, booking: Booking) -> None:
    if booking.status == BookingStatus.CANCELLED:
        turn.say(texts.booking_status(booking))
        return
    bookings.cancel_booking(
        turn.session, booking, turn.actor, reason="cancelled by the customer on WhatsApp"
    )
    routing.alert(
        turn.session,
        "tms.booking.status.cancelled",
        texts.rep_booking_cancelled(
            turn.contact.display_name, booking.reference, booking.party_size
        ),
        object_type=ObjectType.BOOKING,
        object_id=booking.id,
        conversation=turn.conversation,
    )
    turn.say(texts.cancelled(booking))
    refund = refunds.current(turn.session, booking)
    if refund is not None and refund.status == RefundStatus.AWAITING_CHOICE:
        turn.say(
            texts.refund_choice_question(booking, refund.refundable_minor, refund.policy_note),
            buttons=refund_buttons(refund),
        )
    elif (nothing := refunds.nothing_back(turn.session, booking)) is not None:
        turn.say(nothing)


def _keep(turn: Turn, booking: Booking) -> None:
    turn.say(
        texts.booking_status(booking)
        if booking.status == BookingStatus.CANCELLED
        else texts.cancel_kept(booking)
    )


# -- after a cancellation: a refund or a credit for a later trip (two buttons) -------------


def _customers_refund(turn: Turn, about: AnswerTo) -> tuple[Refund, str | None] | None:
    """The refund and the choice its button carries (`refund:<id>:credit`); None when the
    refund is not the sender's."""
    refund = turn.session.get(Refund, about.object_id)
    booking = turn.session.get(Booking, refund.booking_id) if refund is not None else None
    if refund is None or booking is None or booking.contact_id != turn.contact.id:
        return None
    choice = about.extra[0] if about.extra and about.extra[0] in refunds.CHOICES else None
    return refund, choice


def refund_buttons(refund: Refund) -> list[dict[str, str]]:
    return [
        choices.button(title, "affirm", answers)
        for title, answers in refunds.choice_answers(refund.id)
    ]


def _refund_chosen(turn: Turn, found: tuple[Refund, str | None]) -> None:
    refund, choice = found
    if choice is None:  # a typed Yes: which one?
        booking = turn.session.get(Booking, refund.booking_id)
        assert booking is not None
        turn.say(
            texts.refund_choice_question(booking, refund.refundable_minor, refund.policy_note),
            buttons=refund_buttons(refund),
        )
        return
    answer_refund_choice(turn, refund, choice)


# -- a waitlist spot on offer (CONFIRM / DECLINE) -----------------------------------------


def _customers_booking(turn: Turn, about: AnswerTo) -> Booking | None:
    booking = turn.session.get(Booking, about.object_id)
    return booking if booking is not None and booking.contact_id == turn.contact.id else None


def offered_booking(turn: Turn) -> Booking | None:
    return next(
        (
            b
            for b in bookings.bookings_of_contact(turn.session, turn.contact)
            if b.status == BookingStatus.OFFERED
        ),
        None,
    )


def held_from_the_waitlist(turn: Turn) -> Booking | None:
    """A booking of this customer's that left the waitlist and waits for payment."""
    for booking in bookings.bookings_of_contact(turn.session, turn.contact):
        entry = waitlist.entry_of(turn.session, booking) if booking.status == "HELD" else None
        if entry is not None and entry.status == WaitlistStatus.ACCEPTED:
            return booking
    return None


def _open_offer(turn: Turn, yes: bool) -> Booking | None:
    # CONFIRM after confirming on the book page: the same answer again.
    return offered_booking(turn) or (held_from_the_waitlist(turn) if yes else None)


def _take_offer(turn: Turn, booking: Booking) -> None:
    if booking.status == BookingStatus.OFFERED:
        try:
            placed = leads.accept_waitlist_offer(
                turn.session, booking, turn.actor, conversation=turn.conversation
            )
        except DepartureClosed as closed:
            turn.say(texts.departure_closed(booking.departure, closed.why))
            return
        turn.say(texts.waitlist_offer_accepted(placed.booking, placed.expires_at))
        ask_for_email(turn)
    elif held_from_the_waitlist(turn) is booking:
        hold = inventory.active_hold(turn.session, booking)
        assert hold is not None
        turn.say(texts.waitlist_offer_accepted(booking, hold.expires_at))
    else:
        turn.say(texts.waitlist_offer_gone(booking))


def _decline_offer(turn: Turn, booking: Booking) -> None:
    if booking.status == BookingStatus.OFFERED:
        waitlist.decline_offer(turn.session, booking, turn.actor)
        turn.say(texts.waitlist_offer_declined(booking))
    elif booking.status == BookingStatus.WAITLISTED:
        turn.say(texts.waitlist_offer_declined(booking))
    else:
        turn.say(texts.waitlist_offer_gone(booking))


# -- "hold my seats?" after a quote -------------------------------------------------------


def _customers_lead(turn: Turn, about: AnswerTo) -> Lead | None:
    lead = turn.session.get(Lead, about.object_id)
    return lead if lead is not None and lead.contact_id == turn.contact.id else None


def _open_quote(turn: Turn, yes: bool) -> Lead | None:
    """A typed "yes" after a quote is a go-ahead; a typed "no" is not read as "not now"."""
    lead = leads.lead_of_conversation(turn.session, turn.conversation) if yes else None
    return lead if lead is not None and lead.status == LeadStatus.QUOTED else None


def _hold_quoted(turn: Turn, lead: Lead) -> None:
    if lead.status == LeadStatus.QUOTED:
        place_hold_from_quote(turn, lead)
    elif (held := leads.booking_of_lead(turn.session, lead)) is not None:
        turn.say(texts.seats_already_held(held))
    else:
        turn.say(texts.choice_expired())


# -- "what is your e-mail address?" (asked in words after a hold) ------------------------


def _own_contact(turn: Turn, about: AnswerTo) -> Any | None:
    return turn.contact if about.object_id == turn.contact.id else None


def _ask_email_again(turn: Turn, contact: Any) -> None:
    turn.say(texts.ask_email())
    turn.set_slot(PENDING, choices.answer_to(choices.EMAIL, turn.contact.id))


def _skip_email(turn: Turn, contact: Any) -> None:
    turn.say(texts.email_skipped())


# -- "hear about future departures?" (after a good rating): the marketing opt-in -------------


def offer_departure_news(turn: Turn) -> None:
    """Ask whether they want to hear about future departures, once: only while they have
    said nothing about marketing either way (backend/services/consent.py)."""
    if consent.marketing_undecided(turn.session, turn.contact):
        ask_yes_no(turn, texts.departure_news_question(), choices.NEWS, turn.contact.id)


def _hear_about_departures(turn: Turn, contact: Any) -> None:
    consent.opt_in_marketing(turn.session, turn.contact, turn.actor, source="asked")
    turn.say(texts.departure_news_yes())


def _no_departure_news(turn: Turn, contact: Any) -> None:
    consent.decline_marketing(turn.session, turn.contact, turn.actor)
    turn.say(texts.departure_news_no())


REGISTRY: list[Question] = [
    Question(
        choices.ASSIGNMENT,
        _assignment,
        yes=lambda turn, a: _answer_assignment(turn, a, True),
        no=lambda turn, a: _answer_assignment(turn, a, False),
        open_question=_open_assignment,
    ),
    Question(
        choices.RESOLVED,
        _incident,
        yes=_resolved,
        no=lambda turn, incident: turn.say(texts.update_still_open(incident.trip)),
        expired=_resolved_gone,
    ),
    Question(choices.CANCEL, _booking_to_cancel, yes=_cancel, no=_keep),
    Question(
        choices.WAITLIST_OFFER,
        _customers_booking,
        yes=_take_offer,
        no=_decline_offer,
        open_question=_open_offer,
    ),
    Question(choices.EMAIL, _own_contact, yes=_ask_email_again, no=_skip_email),
    Question(
        choices.QUOTE,
        _customers_lead,
        yes=_hold_quoted,
        no=lambda turn, lead: turn.say(texts.hold_not_now()),
        open_question=_open_quote,
    ),
    Question(
        choices.REFUND,
        _customers_refund,
        yes=_refund_chosen,
        no=lambda turn, found: turn.say(texts.no_problem()),
    ),
    Question(choices.NEWS, _own_contact, yes=_hear_about_departures, no=_no_departure_news),
]

BY_KIND = {question.kind: question for question in REGISTRY}


def answer_tapped(turn: Turn, tapped: AnswerTo, yes: bool) -> None:
    """A Yes or No button: the question it names, if the sender may answer it and it still
    applies."""
    question = BY_KIND.get(tapped.kind)
    if question is None:
        turn.say(texts.choice_expired())
        return
    if turn.slot(PENDING) == choices.answer_to(tapped.kind, tapped.object_id, *tapped.extra):
        turn.set_slot(PENDING, None)  # answered by the tap
    about = question.asked_about(turn, tapped)
    if about is None:
        question.expired(turn, tapped)
    else:
        (question.yes if yes else question.no)(turn, about)


def answer_typed(turn: Turn, yes: bool) -> bool:
    """A typed Yes or No: the pending question or an open one, in `REGISTRY` order. False
    (nothing said) when there is none to answer."""
    pending = pending_question(turn)
    for question in REGISTRY:
        about = None
        if pending is not None and pending.kind == question.kind:
            turn.set_slot(PENDING, None)  # answered (or no longer applies)
            about = question.asked_about(turn, pending)
        elif question.open_question is not None:
            about = question.open_question(turn, yes)
        if about is not None:
            (question.yes if yes else question.no)(turn, about)
            return True
    return False


def answer(turn: Turn, yes: bool) -> None:
    """ActionAffirm's and ActionDeny's one rule: tapped → the payload's question; typed →
    the pending or open question; nothing to answer → an acknowledgement."""
    if turn.answer_to is not None:
        answer_tapped(turn, turn.answer_to, yes)
    elif not answer_typed(turn, yes):
        turn.say(texts.ok_nothing_pending() if yes else texts.no_problem())
