"""Who hears about what: staff alerts read from the timeline action registry, in one function.

Who is alerted when something happens is declared with the action's code in
`backend.domain.timeline_actions` (`alerts`, as pretix derives a notification type from each
log action type): the rep of the lead or conversation first, else the declaration's `no_rep`
audience; a staff sender (a guide writing to the assistant) reaches the `staff_sender`
audience and their "rep" is not looked for; a role (operations, admins, sales on duty); or the
staff member the event is about (`named`: the guide, the new rep). `alert` is the one way a
service or an action alerts staff about an event: it looks the code up and alerts exactly
whom it declares, a WhatsApp message each (an outbox row with the declaration's purpose).

Why the call sites call `alert` rather than `timeline.record` alerting by itself: whether to
alert is the call site's business rule (a booking cancelled by the customer in the chat is
news to sales, one cancelled by staff is not; an incident resolved by the guide's update is
news to operations, one they resolve is not), the alert's words name things the event's
content does not hold (the contact's name, the trip's product), and the event is sometimes
recorded deep inside another service (`state.change_state`). So the caller records as before
and, where it alerts, calls `alert(code, text, ...)` with the code of the event it is about;
*whom* is never decided there. Not from the registry: the assignment offer (a question with
buttons, `assignments.offer_assignment`), the sign-in code, a payment event naming no known
booking (nothing is recorded) and the coalesced outage alerts
(`notifications.coalesced_alert`): none is an alert about a timeline event.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from backend.domain import timeline_actions
from backend.domain.enums import ObjectType, Role
from backend.domain.timeline_actions import OPS_ALERT, OPS_URGENT_ALERT, Alert, Audience
from backend.models import Booking, Conversation, Lead, OutboundMessage, Staff
from backend.services import notifications
from backend.services import staff as staff_service

__all__ = ["Audience", "Told", "alert", "audience", "who_hears"]


class NotAnAlert(LookupError):
    """The code declares no alert: a call site alerting for it is a mistake."""


@dataclass(frozen=True)
class Told:
    """The rep (None when there is none or the sender is staff), everyone alerted (in order;
    one alerted twice over two audiences is listed twice) and the outbox rows."""

    rep: Staff | None
    staff: list[Staff]
    rows: list[OutboundMessage] = field(default_factory=list)


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


_ROLES: Mapping[Audience, Role] = {
    Audience.SALES: Role.SALES,
    Audience.OPS: Role.OPS,
    Audience.ADMIN: Role.ADMIN,
}


def audience(session: Session, who: Audience) -> list[Staff]:
    """The members of a role audience (REP and NAMED are people, not roles: see `who_hears`)."""
    if who == Audience.SALES_ON_DUTY:
        return staff_service.with_role(session, Role.SALES, available_only=True)
    role = _ROLES.get(who)
    return staff_service.with_role(session, role) if role is not None else []


def _one(
    session: Session,
    declared: Alert,
    *,
    conversation: Conversation | None,
    lead: Lead | None,
    member: Staff | None,
    sender_is_staff: bool,
) -> Told:
    if declared.to == Audience.NAMED:
        return Told(None, [member] if member is not None else [])
    if declared.to != Audience.REP:
        return Told(None, audience(session, declared.to))
    if sender_is_staff and declared.staff_sender is not None:
        return Told(None, audience(session, declared.staff_sender))
    rep = rep_of_lead(session, lead) if lead is not None else None
    rep = rep or rep_of_conversation(session, conversation)
    if rep is not None:
        return Told(rep, [rep])
    return Told(None, audience(session, declared.no_rep))


def _reached(
    session: Session,
    code: str,
    *,
    conversation: Conversation | None,
    lead: Lead | None,
    member: Staff | None,
    sender_is_staff: bool,
) -> list[tuple[Alert, Told]]:
    declared = timeline_actions.alerts_for(code)
    if not declared:
        raise NotAnAlert(f"{code} alerts nobody: declare its alerts in timeline_actions")
    return [
        (
            one,
            _one(
                session,
                one,
                conversation=conversation,
                lead=lead,
                member=member,
                sender_is_staff=sender_is_staff,
            ),
        )
        for one in declared
    ]


def who_hears(
    session: Session,
    code: str,
    *,
    conversation: Conversation | None = None,
    lead: Lead | None = None,
    member: Staff | None = None,
    sender_is_staff: bool = False,
) -> Told:
    """The people the registry says `code` reaches, in its order. The rep is the lead's when a
    lead is given, else the conversation's; `member` is the NAMED one."""
    reached = _reached(
        session,
        code,
        conversation=conversation,
        lead=lead,
        member=member,
        sender_is_staff=sender_is_staff,
    )
    rep = next((told.rep for _, told in reached if told.rep is not None), None)
    return Told(rep, [person for _, told in reached for person in told.staff])


def alert(
    session: Session,
    code: str,
    body: str | Mapping[Audience, str],
    *,
    object_type: str | None,
    object_id: str | None,
    conversation: Conversation | None = None,
    lead: Lead | None = None,
    member: Staff | None = None,
    sender_is_staff: bool = False,
    urgent: bool = False,
) -> Told:
    """Alert whoever the registry declares for `code`: a WhatsApp message each, about
    `object_type`/`object_id`, with the declaration's purpose (`urgent`: an operations alert
    is sent as urgent). `body` is the text, or a text per audience where they read different
    words (the lead's new rep and operations)."""
    reached = _reached(
        session,
        code,
        conversation=conversation,
        lead=lead,
        member=member,
        sender_is_staff=sender_is_staff,
    )
    rows: list[OutboundMessage] = []
    for declared, told in reached:
        text = body if isinstance(body, str) else body[declared.to]
        urgent_now = urgent and declared.purpose == OPS_ALERT
        for person in told.staff:
            rows += notifications.to_staff(
                session,
                person,
                text,
                purpose=OPS_URGENT_ALERT if urgent_now else declared.purpose,
                object_type=object_type,
                object_id=object_id,
            )
    rep = next((told.rep for _, told in reached if told.rep is not None), None)
    return Told(rep, [person for _, told in reached for person in told.staff], rows)
