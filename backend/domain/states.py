"""The state machines: which status may follow which, per entity. Pure data, no I/O.

`backend.services.state.change_state` is the only code that applies them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from backend.domain import enums
from backend.domain.enums import ObjectType
from backend.domain.errors import IllegalTransition

A = enums.AssignmentStatus
At = enums.AttendanceStatus
B = enums.BookingStatus
H = enums.HoldStatus
I = enums.IncidentStatus  # noqa: E741
L = enums.LeadStatus
P = enums.PaymentStatus
Pr = enums.ProofStatus
R = enums.RefundStatus
Rs = enums.RescheduleStatus
Mo = enums.MoveOfferStatus
T = enums.TripStatus
W = enums.WaitlistStatus


@dataclass(frozen=True)
class StateMachine:
    name: str
    object_type: ObjectType
    attribute: str
    transitions: Mapping[str, frozenset[str]]

    def allows(self, current: str, target: str) -> bool:
        return target in self.transitions.get(current, frozenset())

    def check(self, current: str, target: str) -> None:
        if not self.allows(current, target):
            raise IllegalTransition(self.name, current, target)

    @property
    def action_prefix(self) -> str:
        return f"tms.{self.name.lower().replace(' ', '_')}.{self.attribute}"


def _machine(
    name: str, object_type: ObjectType, table: Mapping[str, set[str]], attribute: str = "status"
) -> StateMachine:
    return StateMachine(
        name, object_type, attribute, {str(k): frozenset(map(str, v)) for k, v in table.items()}
    )


LEAD = _machine(
    "Lead",
    ObjectType.LEAD,
    {
        L.NEW: {L.CONTACTED, L.QUOTED, L.WON, L.LOST},
        L.CONTACTED: {L.QUOTED, L.WON, L.LOST},
        L.QUOTED: {L.WON, L.LOST},
    },
)

BOOKING = _machine(
    "Booking",
    ObjectType.BOOKING,
    {
        B.WAITLISTED: {B.OFFERED, B.CANCELLED},
        # A declined offer keeps the customer on the waitlist.
        B.OFFERED: {B.HELD, B.WAITLISTED, B.EXPIRED, B.CANCELLED},
        B.HELD: {B.PAYMENT_PENDING, B.EXPIRED, B.CANCELLED},
        B.PAYMENT_PENDING: {B.CONFIRMED, B.CANCELLED},
        B.CONFIRMED: {B.COMPLETED, B.CANCELLED},
        # Money that arrives after the hold lapsed may still confirm if seats are free.
        B.EXPIRED: {B.PAYMENT_PENDING},
    },
)

BOOKING_PAYMENT = _machine(
    "Booking",
    ObjectType.BOOKING,
    {
        P.UNPAID: {P.DEPOSIT_PAID, P.FULL_PAID},
        P.DEPOSIT_PAID: {P.FULL_PAID},
        # A change fee (a booking moved to another date) opens the balance again.
        P.FULL_PAID: {P.DEPOSIT_PAID},
    },
    attribute="payment_status",
)

HOLD = _machine("Hold", ObjectType.HOLD, {H.ACTIVE: {H.CONVERTED, H.RELEASED, H.EXPIRED}})

WAITLIST = _machine(
    "Waitlist entry",
    ObjectType.WAITLIST_ENTRY,
    {
        W.WAITING: {W.OFFERED, W.CANCELLED},
        W.OFFERED: {W.ACCEPTED, W.WAITING, W.EXPIRED, W.CANCELLED},
    },
)

TRIP = _machine(
    "Trip",
    ObjectType.TRIP,
    {T.SCHEDULED: {T.IN_PROGRESS, T.CANCELLED}, T.IN_PROGRESS: {T.ENDED}},
)

ASSIGNMENT = _machine(
    "Assignment",
    ObjectType.ASSIGNMENT,
    {
        A.OFFERED: {A.ACCEPTED, A.DECLINED, A.EXPIRED, A.CANCELLED},
        A.ACCEPTED: {A.COMPLETED, A.CANCELLED},
        # Operations may offer the trip again to someone who declined or did not answer.
        A.DECLINED: {A.OFFERED},
        A.EXPIRED: {A.OFFERED},
    },
)

ATTENDANCE = _machine("Attendance", ObjectType.ATTENDANCE, {At.ON_TRIP: {At.TRIP_COMPLETE}})

INCIDENT = _machine(
    "Incident",
    ObjectType.INCIDENT,
    {I.OPEN: {I.IN_PROGRESS, I.RESOLVED}, I.IN_PROGRESS: {I.RESOLVED}},
)

PAYMENT_PROOF = _machine(
    "Payment proof",
    ObjectType.PAYMENT_PROOF,
    {Pr.PENDING: {Pr.VERIFIED, Pr.REJECTED}},
)

REFUND = _machine(
    "Refund",
    ObjectType.REFUND,
    {
        # Staff may approve without waiting for the customer's choice (they chose by phone).
        R.AWAITING_CHOICE: {R.AWAITING_APPROVAL, R.PAID_OUT, R.CREDITED, R.DECLINED},
        R.AWAITING_APPROVAL: {R.AWAITING_CHOICE, R.PAID_OUT, R.CREDITED, R.DECLINED},
    },
)

RESCHEDULE = _machine(
    "Reschedule",
    ObjectType.RESCHEDULE,
    {Rs.REQUESTED: {Rs.APPROVED, Rs.DECLINED, Rs.WITHDRAWN}},
)

MOVE_OFFER = _machine(
    "Move offer",
    ObjectType.MOVE_OFFER,
    {Mo.OFFERED: {Mo.ACCEPTED, Mo.MOVED_ELSEWHERE, Mo.CANCELLED, Mo.EXPIRED}},
)

# Open booking states: anything from which CANCELLED is reachable.
OPEN_BOOKING_STATES = frozenset(
    s for s, targets in BOOKING.transitions.items() if B.CANCELLED in targets
)
# Bookings that may move to another departure (they hold or have taken their seats).
MOVABLE_BOOKING_STATES = frozenset({B.HELD, B.PAYMENT_PENDING, B.CONFIRMED})
# States whose seats count against capacity without a hold or offer row.
SEAT_TAKING_BOOKING_STATES = frozenset({B.PAYMENT_PENDING, B.CONFIRMED, B.COMPLETED})
