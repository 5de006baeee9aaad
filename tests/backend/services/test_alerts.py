"""Who is alerted about what: read from the timeline action registry
(backend/domain/timeline_actions.py, each action's `alerts`) by one function,
`backend.services.routing.alert`. The table below is written out by hand, so that a change in
the registry that stops alerting operations (or starts alerting sales) fails here."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from backend.domain import access, timeline_actions
from backend.domain.actor import SYSTEM
from backend.domain.enums import ObjectType, Role
from backend.domain.timeline_actions import Alert, Audience, action_for, alerts_for
from backend.models import Lead, Staff
from backend.services import leads, routing
from tests import factories

ROOT = Path(__file__).resolve().parents[3]


def _words(alert: Alert) -> str:
    """An alert declaration as this table writes it: "rep else sales (staff: ops)", "ops!"
    (urgent), "named/staff_alert"."""
    if alert.to == Audience.REP:
        said = f"rep else {alert.no_rep}"
        if alert.staff_sender is not None:
            said += f" (staff: {alert.staff_sender})"
        assert alert.purpose == timeline_actions.REP_ALERT
        return said
    if alert.to == Audience.NAMED:
        return f"named/{alert.purpose}"
    return f"{alert.to}{'!' if alert.purpose == timeline_actions.OPS_URGENT_ALERT else ''}"


# Every code that alerts staff, and whom, in order.
WHO_HEARS = {
    # A customer's lead and chat: the rep first.
    "tms.lead.created": ("rep else nobody",),
    "tms.lead.trek_changed": ("rep else nobody",),
    "tms.lead.private_requested": ("rep else sales",),
    "tms.lead.hold_requested": ("rep else sales",),
    "tms.lead.sla.breached": ("named/rep_alert", "ops"),
    "tms.booking.status.cancelled": ("rep else sales",),
    "tms.booking.reschedule_requested": ("rep else sales",),
    "tms.move_offer.unanswered": ("ops",),
    "tms.departure.minimum_missed": ("ops",),
    "tms.conversation.bot_paused": ("rep else sales_on_duty",),
    "tms.conversation.unhandled": ("rep else nobody (staff: nobody)",),
    "tms.conversation.question_unanswered": ("rep else sales (staff: nobody)",),
    "tms.conversation.passed_to_team": ("rep else sales (staff: nobody)",),
    "tms.conversation.forwarded": ("rep else sales",),
    "tms.conversation.foreign_language": ("rep else sales",),
    "tms.conversation.assistant_silent": ("rep else sales (staff: ops)",),
    # Money.
    "tms.booking.payment.flagged": ("ops", "rep else nobody"),
    "tms.booking.notice.balance-overdue": ("rep else sales", "ops"),
    "tms.payment_proof.created": ("ops",),
    "tms.refund.status.awaiting_approval": ("ops",),
    "tms.refund.choice_changed": ("ops",),
    # Trips, assignments, incidents: operations.
    "tms.trip.status.in_progress": ("ops",),
    "tms.trip.status.ended": ("ops",),
    "tms.trip.checkin.missing": ("ops!",),
    "tms.trip.checkout.missing": ("ops",),
    "tms.assignment.status.accepted": ("ops",),
    "tms.assignment.status.declined": ("ops",),
    "tms.assignment.status.expired": ("ops", "named/staff_alert"),
    "tms.trip.incident.reported": ("ops",),
    "tms.incident.status.resolved": ("ops",),
    "tms.incident.updated": ("named/staff_alert",),
    "tms.incident.escalated": ("admin!", "ops!"),
    # The travellers' papers, 5 days before the trip (backend/services/papers_chase.py).
    "tms.traveller.papers_incomplete": ("ops",),
    # A customer's privacy request (backend/services/data_requests.py).
    "tms.contact.data_erasure_requested": ("ops",),
    "tms.contact.data_copy_requested": ("ops",),
    # WhatsApp templates as Meta holds them (backend/services/message_templates.py).
    "tms.template.reclassified": ("ops", "admin"),
    "tms.template.not_sent": ("ops",),
    "tms.template.status.paused": ("ops", "admin"),
    "tms.template.status.disabled": ("ops", "admin"),
    "tms.template.status.rejected": ("admin",),
    # Meta's messaging limit and the number's quality (backend/services/messaging_limits.py).
    "tms.messaging_limit.changed": ("ops", "admin"),
    "tms.messaging_limit.flagged": ("ops", "admin"),
}


def test_the_registry_alerts_exactly_whom_the_table_says():
    declared = {
        code: tuple(_words(a) for a in alerts_for(code))
        for code in timeline_actions.alerting_codes()
    }
    assert declared == WHO_HEARS


@pytest.mark.parametrize("code", timeline_actions.alerting_codes())
def test_every_alert_names_an_audience_a_purpose_and_why(code):
    assert action_for(code) is not None
    for alert in alerts_for(code):
        assert alert.to != Audience.NOBODY, code
        assert alert.why, f"{code}: say why they hear about it"
        assert alert.purpose in (
            timeline_actions.REP_ALERT,
            timeline_actions.STAFF_ALERT,
            timeline_actions.OPS_ALERT,
            timeline_actions.OPS_URGENT_ALERT,
        )
        if alert.to != Audience.REP:  # the rep's fallbacks mean nothing elsewhere
            assert (alert.no_rep, alert.staff_sender) == (Audience.NOBODY, None), code
    # Operations' alerts are filed under staff messages (the access table reads the purpose).
    for alert in alerts_for(code):
        if alert.to in (Audience.OPS, Audience.ADMIN):
            assert alert.purpose in access.PURPOSE_AREAS


def test_every_alerting_code_is_alerted_by_the_product():
    """No stale declaration: each code that alerts is passed to `routing.alert` somewhere."""
    sources = "\n".join(
        path.read_text(encoding="utf-8")
        for folder in ("backend", "actions")
        for path in (ROOT / folder).rglob("*.py")
        if path.name != "timeline_actions.py"
    )
    unused = [code for code in timeline_actions.alerting_codes() if f'"{code}"' not in sources]
    assert unused == []


def test_a_code_that_alerts_nobody_is_refused(session: Session):
    with pytest.raises(routing.NotAnAlert):
        routing.alert(session, "tms.lead.details", "x", object_type=None, object_id=None)


# -- on the database: the people reached and the outbox rows ------------------------------


@pytest.fixture
def people(session: Session) -> dict[str, Staff]:
    members = {
        "sarah": factories.staff(session, "Sarah", Role.SALES),
        "bob": factories.staff(session, "Bob", Role.SALES),
        "olga": factories.staff(session, "Olga", Role.OPS),
        "ada": factories.staff(session, "Ada", Role.ADMIN),
        "gita": factories.staff(session, "Gita", Role.GUIDE),
    }
    members["bob"].available = False
    session.flush()
    return members


def _lead(session: Session, rep: Staff | None) -> Lead:
    lead = leads.create_lead(
        session,
        contact=factories.contact(session),
        product=factories.ebc(session),
        actor=SYSTEM,
        assign=False,
    )
    lead.assigned_staff_id = rep.id if rep else None
    lead.assigned_staff = rep
    session.flush()
    return lead


# (code, the lead's rep, sender is staff, named member, urgent) -> [(who, purpose)] in order
CASES = {
    "a new lead, its rep": ("tms.lead.created", "sarah", False, None, False, [("sarah", "rep")]),
    "a new lead, no rep": ("tms.lead.created", None, False, None, False, []),
    "hold before a quote, no rep: sales": (
        "tms.lead.hold_requested",
        None,
        False,
        None,
        False,
        [("bob", "rep"), ("sarah", "rep")],
    ),
    "a person asked for, no rep: sales on duty": (
        "tms.conversation.bot_paused",
        None,
        False,
        None,
        False,
        [("sarah", "rep")],
    ),
    # (a rep alert's purpose whoever reads it: the staff sender's fallback is ops)
    "a guide's message unanswered: ops, not the guide's rep": (
        "tms.conversation.assistant_silent",
        "sarah",
        True,
        None,
        False,
        [("olga", "rep")],
    ),
    "money not applied: ops, then the rep": (
        "tms.booking.payment.flagged",
        "sarah",
        False,
        None,
        False,
        [("olga", "ops_alert"), ("sarah", "rep")],
    ),
    "an offer expired: ops and the guide": (
        "tms.assignment.status.expired",
        None,
        False,
        "gita",
        False,
        [("olga", "ops_alert"), ("gita", "staff_alert")],
    ),
    "a serious incident: urgent": (
        "tms.trip.incident.reported",
        None,
        False,
        None,
        True,
        [("olga", "ops_urgent_alert")],
    ),
    "an incident escalated: admins, then ops": (
        "tms.incident.escalated",
        None,
        False,
        None,
        False,
        [("ada", "ops_urgent_alert"), ("olga", "ops_urgent_alert")],
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_an_alert_reaches_whom_the_registry_declares(session: Session, people, case):
    code, rep, staff_sender, named, urgent, expected = CASES[case]
    lead = _lead(session, people[rep] if rep else None)
    told = routing.alert(
        session,
        code,
        f"about {case}",
        object_type=ObjectType.LEAD,
        object_id=lead.id,
        lead=lead,
        member=people[named] if named else None,
        sender_is_staff=staff_sender,
        urgent=urgent,
    )
    by_phone = {member.phone: name for name, member in people.items()}
    got = [
        (by_phone[row.recipient_phone], "rep" if row.purpose == "rep_alert" else row.purpose)
        for row in told.rows
    ]
    assert got == expected
    assert all(row.body == f"about {case}" and row.object_id == lead.id for row in told.rows)
    assert [m.phone for m in told.staff] == [row.recipient_phone for row in told.rows]
    assert told.rep == (people[rep] if rep and not staff_sender else None)


def test_each_audience_reads_its_own_words(session: Session, people):
    lead = _lead(session, None)
    told = routing.alert(
        session,
        "tms.lead.sla.breached",
        {Audience.NAMED: "the lead is yours now", Audience.OPS: "nobody called the customer"},
        object_type=ObjectType.LEAD,
        object_id=lead.id,
        member=people["bob"],
    )
    assert [(row.recipient_phone, row.body, row.purpose) for row in told.rows] == [
        (people["bob"].phone, "the lead is yours now", "rep_alert"),
        (people["olga"].phone, "nobody called the customer", "ops_alert"),
    ]
