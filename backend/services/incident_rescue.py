"""When something goes wrong on the mountain: the guests an incident concerns with their
emergency details, and the insurer-first checklist (`backend.domain.rescue`).

The guests: the travellers of the trip's live bookings, or only those the guide's words name
(a traveller's full name, or a first name no other traveller of the departure has) when they
name any. Their papers open for OPS and ADMIN only (`travellers.may_read`), each read on the
booking's timeline (`tms.traveller.papers_read`, what: "incident ... on <trip>").

The checklist lives on the incident's append-only timeline, not in a table of its own: it
opens with `tms.incident.rescue.opened`, each step is an event (who: the event's actor; when:
its time; what: its content), a step recorded again is a correction (the latest counts, the
earlier ones stay for the claim), and `checklist` reads its state back from those events.
Arranging an evacuation before the insurer was called is refused unless an override reason
says why a life could not wait: refusing outright would leave ops choosing between the
product and a guest; accepting silently would lose the claim. The reason is kept and printed
in the dossier, where the insurer reads it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import clock, texts
from backend.config import get_settings
from backend.domain import rescue
from backend.domain.actor import Actor
from backend.domain.enums import ObjectType
from backend.domain.errors import DomainError
from backend.models import Booking, Incident, Staff, TimelineEvent, Traveller
from backend.services import timeline, travellers

OPENED = "tms.incident.rescue.opened"
# Each step's action code (literal, so the registry's scan sees each one).
STEP_ACTIONS: Mapping[str, str] = {
    rescue.INSURER_CALLED: "tms.incident.rescue.insurer_called",
    rescue.EVACUATION_ARRANGED: "tms.incident.rescue.evacuation_arranged",
    rescue.HOSPITAL: "tms.incident.rescue.hospital",
    rescue.FAMILY_INFORMED: "tms.incident.rescue.family_informed",
}
FIELD_UPDATE = "tms.incident.field_update"


class RescueRefused(DomainError):
    """A step out of order (the evacuation before the insurer), or no checklist open."""

    code = "insurer_first"


class StepInvalid(DomainError):
    """A step without what it needs (a case number, a provider, a time)."""

    code = "invalid"


# -- The guests ------------------------------------------------------------------------------


@dataclass(frozen=True)
class GuestPapers:
    """What an emergency needs of one traveller (None: not given)."""

    booking: str
    position: int
    name: str
    insurer: str | None
    policy_number: str | None
    assistance_phone: str | None
    covers_helicopter: bool | None
    cover_altitude_m: int | None
    emergency_name: str | None
    emergency_relationship: str | None
    emergency_phone: str | None
    medical: str | None
    named: bool  # the incident's words name this traveller

    @property
    def cover(self) -> str:
        """Helicopter cover in words ("" when nobody said)."""
        if self.covers_helicopter is False:
            return "no helicopter cover"
        if self.covers_helicopter:
            return (
                f"helicopter cover to {self.cover_altitude_m:,} m"
                if self.cover_altitude_m
                else "helicopter cover"
            )
        return ""


@dataclass(frozen=True)
class Concerned:
    """The travellers an incident concerns, by booking (positions), before any is opened."""

    bookings: list[tuple[Booking, list[Traveller]]]
    named: bool  # the words name these travellers (else: every traveller of the trip)
    others: int  # travellers of the trip not named (0 when none is named)


def concerned(session: Session, incident: Incident) -> Concerned:
    """The travellers the incident's words name, else all those of the trip's live bookings.
    Opens no sealed value (the names are in the clear)."""
    departure = incident.trip.departure
    everyone = [
        (b, travellers.ensure(session, b)) for b in travellers.live_bookings(session, departure)
    ]
    words = " ".join(_words_of(session, incident)).lower()
    firsts: dict[str, int] = {}
    for _, rows in everyone:
        for row in rows:
            first = (row.full_name or "").split()[:1]
            if first:
                firsts[first[0].lower()] = firsts.get(first[0].lower(), 0) + 1

    def named(row: Traveller) -> bool:
        name = (row.full_name or "").strip().lower()
        if not name:
            return False
        if _has_words(words, name):
            return True
        first = name.split()[0]
        return len(first) >= 3 and firsts.get(first) == 1 and _has_words(words, first)

    chosen = [(b, [r for r in rows if named(r)]) for b, rows in everyone]
    chosen = [(b, rows) for b, rows in chosen if rows]
    if not chosen:
        return Concerned(everyone, False, 0)
    total = sum(len(rows) for _, rows in everyone)
    return Concerned(chosen, True, total - sum(len(rows) for _, rows in chosen))


def guests_for_incident(
    session: Session, incident: Incident, reader: Staff, *, everyone: bool = False, what: str = ""
) -> list[GuestPapers]:
    """The emergency details of the guests the incident concerns (`everyone`: all the trip's),
    for OPS and ADMIN (NotAllowed for anyone else, nothing opened); each booking's read is
    recorded on its timeline."""
    if not travellers.may_read(reader):
        raise travellers.NotAllowed("Only operations and administrators see travellers' papers")
    found = concerned(session, incident)
    named_ids = {r.id for _, rows in found.bookings for r in rows} if found.named else set()
    bookings = (
        [
            (b, travellers.ensure(session, b))
            for b in travellers.live_bookings(session, incident.trip.departure)
        ]
        if everyone and found.named
        else found.bookings
    )
    why = what or f"incident {reference(incident)}"
    out: list[GuestPapers] = []
    for booking, rows in bookings:
        travellers.log_read(session, booking, reader, why, [r.position for r in rows])
        for row in rows:
            values = travellers.values_of(row)
            out.append(
                GuestPapers(
                    booking=booking.reference,
                    position=row.position,
                    name=row.full_name or f"Traveller {row.position} (no name yet)",
                    insurer=values.get("insurer"),
                    policy_number=values.get("policy_number"),
                    assistance_phone=values.get("assistance_phone"),
                    covers_helicopter=values.get("covers_helicopter"),
                    cover_altitude_m=values.get("cover_altitude_m"),
                    emergency_name=values.get("emergency_name"),
                    emergency_relationship=values.get("emergency_relationship"),
                    emergency_phone=values.get("emergency_phone"),
                    medical=values.get("medical"),
                    named=row.id in named_ids,
                )
            )
    out.sort(key=lambda g: not g.named)  # the named first
    return out


def reference(incident: Incident) -> str:
    """`3f2a9c1e on EBC-241215`: the incident's id, short, and its trip."""
    return f"{incident.id[:8]} on {incident.trip.reference}"


def _words_of(session: Session, incident: Incident) -> list[str]:
    """The incident's text and the guide's updates on it."""
    updates = session.scalars(
        select(TimelineEvent).where(
            TimelineEvent.object_type == ObjectType.INCIDENT,
            TimelineEvent.object_id == incident.id,
            TimelineEvent.action == FIELD_UPDATE,
        )
    )
    return [incident.description, *[str((e.content or {}).get("text") or "") for e in updates]]


def _has_words(haystack: str, words: str) -> bool:
    return re.search(r"(?<!\w)" + re.escape(words) + r"(?!\w)", haystack) is not None


# -- The checklist ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Done:
    """A step as recorded: when, by whom, what."""

    step: str
    at: datetime
    by: str  # the staff member's name
    content: dict[str, Any]
    event_id: int


@dataclass
class Checklist:
    open: bool
    words: list[str]  # what opened it
    opened_at: datetime | None
    records: dict[str, list[Done]] = field(default_factory=dict)  # step → oldest first

    def latest(self, step: str) -> Done | None:
        found = self.records.get(step) or []
        return found[-1] if found else None

    @property
    def insurer_called(self) -> bool:
        return self.latest(rescue.INSURER_CALLED) is not None

    @property
    def case_number(self) -> str | None:
        done = self.latest(rescue.INSURER_CALLED)
        return str(done.content.get("case")) if done else None

    @property
    def next_step(self) -> str | None:
        return next((s.code for s in rescue.STEPS if self.latest(s.code) is None), None)

    def as_dict(self) -> dict[str, Any]:
        return {
            "open": self.open,
            "openedBecause": self.words,
            "openedAt": self.opened_at.isoformat() if self.opened_at else None,
            "caseNumber": self.case_number,
            "nextStep": self.next_step if self.open else None,
            "steps": [
                {
                    "step": s.code,
                    "label": s.label,
                    "done": self.latest(s.code) is not None,
                    "records": [
                        {"at": d.at.isoformat(), "by": d.by, **d.content}
                        for d in self.records.get(s.code, [])
                    ],
                }
                for s in rescue.STEPS
            ],
        }


def due_words(session: Session, incident: Incident) -> list[str]:
    """The words that open the checklist (none: it is not due)."""
    return rescue.opens_checklist(incident.severity, _words_of(session, incident))


def open_if_due(session: Session, incident: Incident, actor: Actor) -> bool:
    """Open the checklist once, when the incident is CRITICAL and its words (or a guide's
    update) mention an evacuation, a helicopter, altitude sickness or an injury."""
    session.flush()
    if _events(session, incident, OPENED):
        return False
    words = due_words(session, incident)
    if not words:
        return False
    timeline.record(
        session,
        object_type=ObjectType.INCIDENT,
        object_id=incident.id,
        event_type="RESCUE",
        action=OPENED,
        actor=actor,
        content={"words": ", ".join(words), "severity": incident.severity},
    )
    session.flush()
    return True


def checklist(session: Session, incident: Incident) -> Checklist:
    """The checklist as the timeline has it (open also when it is due and was never recorded
    open, e.g. an incident reported before the checklist existed)."""
    session.flush()
    events = [
        e
        for e in timeline.for_object(session, ObjectType.INCIDENT, incident.id)
        if e.action == OPENED or e.action in STEP_ACTIONS.values()
    ]
    opened = next((e for e in events if e.action == OPENED), None)
    words = (
        [w for w in str((opened.content or {}).get("words") or "").split(", ") if w]
        if opened
        else due_words(session, incident)
    )
    names = _names(session, {e.actor_staff_id for e in events if e.actor_staff_id})
    by_action = {code: step for step, code in STEP_ACTIONS.items()}
    found = Checklist(
        opened is not None or bool(words), words, opened.occurred_at if opened else None
    )
    for event in events:
        step = by_action.get(event.action)
        if step is None:
            continue
        who = names.get(event.actor_staff_id or "") or event.actor_phone or "the system"
        found.records.setdefault(step, []).append(
            Done(step, clock.as_utc(event.occurred_at), who, dict(event.content or {}), event.id)
        )
    return found


def record_step(
    session: Session, incident: Incident, step: str, given: Mapping[str, str | None], actor: Actor
) -> Done:
    """Record a step of the checklist (`rescue.STEPS`) on the incident's timeline. `given`:
    case, insurer, provider, at (a time: `when`), hospital, contact, note, override. Refused
    (RescueRefused) when no checklist is open or the evacuation comes before the insurer
    without an override reason; StepInvalid when something it needs is missing."""
    state = checklist(session, incident)
    if not state.open:
        raise RescueRefused(
            "This incident has no insurer-first checklist: it opens for a critical incident "
            "that mentions an evacuation, a helicopter, altitude sickness or an injury."
        )
    values = dict(given)
    if step == rescue.EVACUATION_ARRANGED and values.get("at"):
        values["at"] = texts.local_datetime(when(str(values["at"])))
    try:
        content = rescue.check_step(step, values, insurer_called=state.insurer_called)
    except rescue.InsurerFirst as exc:
        raise RescueRefused(str(exc)) from exc
    except rescue.StepIncomplete as exc:
        raise StepInvalid(str(exc)) from exc
    if state.opened_at is None:
        open_if_due(session, incident, actor)
    event = timeline.record(
        session,
        object_type=ObjectType.INCIDENT,
        object_id=incident.id,
        event_type="RESCUE",
        action=STEP_ACTIONS[step],
        actor=actor,
        content=content,
    )
    session.flush()
    who = _names(session, {actor.staff_id} if actor.staff_id else set()).get(actor.staff_id or "")
    return Done(step, clock.as_utc(event.occurred_at), who or "the system", content, event.id)


def when(text: str) -> datetime:
    """A time as a person gives it: `2024-12-23T15:30` (a form's datetime-local, the operator's
    timezone), an ISO 8601 time with its offset, or `15:30` (today, the operator's time)."""
    raw = text.strip()
    tz = get_settings().tz
    try:
        if len(raw) <= 5 and ":" in raw:
            hours, minutes = (int(p) for p in raw.split(":"))
            return datetime.combine(clock.local_today(), time(hours, minutes), tzinfo=tz)
        parsed = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise StepInvalid(f"{raw!r} is not a time: give it as 15:30 or 2024-12-23T15:30") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)


def _events(session: Session, incident: Incident, action: str) -> list[TimelineEvent]:
    return list(
        session.scalars(
            select(TimelineEvent).where(
                TimelineEvent.object_type == ObjectType.INCIDENT,
                TimelineEvent.object_id == incident.id,
                TimelineEvent.action == action,
            )
        )
    )


def _names(session: Session, ids: set[str | None]) -> dict[str, str]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    return {
        staff_id: name
        for staff_id, name in session.execute(
            select(Staff.id, Staff.name).where(Staff.id.in_(wanted))
        )
    }
