"""Who hears about what a customer did: one table, one function.

Every customer event staff must hear about is a row of `ROUTES`: the customer's rep is told
first; with no rep, the row's `no_rep` audience is; when the sender is staff themselves (a
guide writing to the assistant), the row's `staff_sender` audience is, and their "rep" is not
looked for. The assistant's actions, the inbox worker and the lead service all call
`tell_staff`, so the same event reaches the same people whichever entry point saw it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy.orm import Session

from backend.domain.enums import ObjectType, Role
from backend.models import Booking, Conversation, Lead, Staff
from backend.services import notifications
from backend.services import staff as staff_service


class Audience(StrEnum):
    NOBODY = "nobody"
    SALES = "sales"  # every active sales member
    SALES_ON_DUTY = "sales_on_duty"  # active sales members marked available
    OPS = "ops"  # every active operations member


class StaffEvent(StrEnum):
    NEW_LEAD = "new_lead"
    LEAD_TREK_CHANGED = "lead_trek_changed"
    HOLD_BEFORE_QUOTE = "hold_before_quote"
    BOOKING_CANCELLED = "booking_cancelled"
    HANDOFF = "handoff"
    NOT_UNDERSTOOD = "not_understood"
    QUESTION_FOR_TEAM = "question_for_team"
    PASSED_TO_TEAM = "passed_to_team"
    WHILE_PAUSED = "while_paused"
    ASSISTANT_SILENT = "assistant_silent"


@dataclass(frozen=True)
class Route:
    no_rep: Audience
    # None: a staff sender is routed like a customer.
    staff_sender: Audience | None = None
    why: str = field(default="", compare=False)


ROUTES: dict[StaffEvent, Route] = {
    StaffEvent.NEW_LEAD: Route(Audience.NOBODY, why="an unassigned lead is on the console"),
    StaffEvent.LEAD_TREK_CHANGED: Route(Audience.NOBODY, why="as a new lead"),
    StaffEvent.HOLD_BEFORE_QUOTE: Route(
        Audience.SALES, why="the customer is ready to book: someone must quote"
    ),
    StaffEvent.BOOKING_CANCELLED: Route(Audience.SALES, why="seats were freed"),
    StaffEvent.HANDOFF: Route(
        Audience.SALES_ON_DUTY, why="the bot is paused: only someone on duty can pick it up"
    ),
    StaffEvent.NOT_UNDERSTOOD: Route(
        Audience.NOBODY,
        Audience.NOBODY,
        why="the help answer promised no person; the message is on the timeline",
    ),
    StaffEvent.QUESTION_FOR_TEAM: Route(
        Audience.SALES, Audience.NOBODY, why='the customer was told "I\'ll ask the team"'
    ),
    StaffEvent.PASSED_TO_TEAM: Route(
        Audience.SALES, Audience.NOBODY, why="the customer was told it was passed on"
    ),
    StaffEvent.WHILE_PAUSED: Route(Audience.SALES, why="nobody else answers a paused chat"),
    StaffEvent.ASSISTANT_SILENT: Route(
        Audience.SALES, Audience.OPS, why="the assistant said nothing: a person must look"
    ),
}


@dataclass(frozen=True)
class Told:
    """The rep (None when there is none or the sender is staff) and everyone alerted."""

    rep: Staff | None
    staff: list[Staff]


def lead_of_conversation(session: Session, conversation: Conversation) -> Lead | None:
    """The lead the conversation is about: bound directly, or through its booking."""
    if conversation.object_type == ObjectType.LEAD and conversation.object_id:
        return session.get(Lead, conversation.object_id)
    if conversation.object_type == ObjectType.BOOKING and conversation.object_id:
        booking = session.get(Booking, conversation.object_id)
        return booking.lead if booking else None
    return None


def rep_of_lead(session: Session, lead: Lead | None) -> Staff | None:
    if lead is None or lead.assigned_staff_id is None:
        return None
    return lead.assigned_staff or staff_service.get_staff(session, lead.assigned_staff_id)


def rep_of_conversation(session: Session, conversation: Conversation | None) -> Staff | None:
    """The sales rep who owns this customer, if any."""
    if conversation is None:
        return None
    return rep_of_lead(session, lead_of_conversation(session, conversation))


def audience(session: Session, who: Audience) -> list[Staff]:
    if who == Audience.SALES:
        return staff_service.with_role(session, Role.SALES)
    if who == Audience.SALES_ON_DUTY:
        return staff_service.with_role(session, Role.SALES, available_only=True)
    if who == Audience.OPS:
        return staff_service.with_role(session, Role.OPS)
    return []


def who_hears(
    session: Session,
    event: StaffEvent,
    *,
    conversation: Conversation | None = None,
    lead: Lead | None = None,
    sender_is_staff: bool = False,
) -> Told:
    """The people `event` reaches. The rep is the lead's when a lead is given, else the
    conversation's."""
    route = ROUTES[event]
    if sender_is_staff and route.staff_sender is not None:
        return Told(None, audience(session, route.staff_sender))
    rep = rep_of_lead(session, lead) if lead is not None else None
    rep = rep or rep_of_conversation(session, conversation)
    if rep is not None:
        return Told(rep, [rep])
    return Told(None, audience(session, route.no_rep))


def tell_staff(
    session: Session,
    event: StaffEvent,
    body: str,
    *,
    object_type: str,
    object_id: str | None,
    conversation: Conversation | None = None,
    lead: Lead | None = None,
    sender_is_staff: bool = False,
) -> Told:
    """Alert whoever `ROUTES` says hears about `event` (a WhatsApp message each)."""
    told = who_hears(
        session, event, conversation=conversation, lead=lead, sender_is_staff=sender_is_staff
    )
    for member in told.staff:
        notifications.to_staff(
            session,
            member,
            body,
            purpose="rep_alert",
            object_type=object_type,
            object_id=object_id,
        )
    return told
