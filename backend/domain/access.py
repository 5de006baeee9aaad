"""Who may see what: one table of the product's areas and the roles that may see each, and
the area every timeline event belongs to. Pure data, no I/O.

The same table decides which pages and API routes a role may open and which events it reads
on a timeline or the live stream (`backend.services.timeline.visible_to`): a role that cannot
open the incident page cannot read an incident's text elsewhere either. ADMIN sees every area.
Each timeline action code's area is declared with its sentence in one registry,
`backend.domain.timeline_actions`; `EVENT_AREAS` is read from it. An event whose kind no entry
covers is visible to ADMIN only (fail closed): a new action code stays hidden until someone
declares it, and with it who may read it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from backend.domain.areas import ABOUT_OBJECT, Area
from backend.domain.enums import ObjectType, Role
from backend.domain.timeline_actions import ACTIONS

S, OP, G, P = Role.SALES, Role.OPS, Role.GUIDE, Role.PORTER

# Area → the roles that may see it (ADMIN sees every area without being named).
AREA_ROLES: Mapping[Area, tuple[Role, ...]] = {
    Area.LEADS: (S,),
    Area.BOOKINGS: (S, OP),
    Area.DEPARTURES: (S, OP),
    Area.MESSAGES: (S, OP),
    Area.CATALOG: (S, OP),
    Area.FEEDBACK: (S, OP),
    Area.TRIPS: (OP,),
    Area.STAFF_MESSAGES: (OP,),
    Area.INCIDENTS: (OP,),
    Area.PAYROLL: (OP,),
    Area.PAYMENTS: (OP,),
    Area.TRAVELLER_PAPERS: (OP,),
    Area.STAFF_DIRECTORY: (OP,),
    Area.STAFF_ADMIN: (),
    Area.SIGN_IN: (),
    Area.ADMINISTRATION: (),
    Area.MY_TRIPS: (G, P),
    Area.ACCOUNT: tuple(Role),
    Area.TIMELINE: (S, OP),
}

# Timeline action codes → area, from the one registry of action codes
# (backend/domain/timeline_actions.py: a key ending in "." is a prefix for codes built at run
# time, e.g. state changes `tms.booking.status.<state>`; other keys are exact codes). No key is
# a prefix of another (tests check), so the order of the keys never matters.
EVENT_AREAS: Mapping[str, Area | None] = {action.code: action.area for action in ACTIONS}

# A message's area by what it is about (`ABOUT_OBJECT` codes).
OBJECT_AREAS: Mapping[str, Area] = {
    ObjectType.LEAD: Area.LEADS,
    ObjectType.BOOKING: Area.BOOKINGS,
    ObjectType.HOLD: Area.BOOKINGS,
    ObjectType.WAITLIST_ENTRY: Area.BOOKINGS,
    ObjectType.PAYMENT: Area.BOOKINGS,
    ObjectType.DEPARTURE: Area.DEPARTURES,
    ObjectType.CONVERSATION: Area.MESSAGES,
    ObjectType.CONTACT: Area.MESSAGES,
    ObjectType.OUTBOUND_MESSAGE: Area.MESSAGES,
    ObjectType.OUTBOUND_EMAIL: Area.MESSAGES,
    ObjectType.TRIP: Area.TRIPS,
    ObjectType.ATTENDANCE: Area.TRIPS,
    ObjectType.ASSIGNMENT: Area.TRIPS,
    ObjectType.INCIDENT: Area.INCIDENTS,
    ObjectType.STAFF: Area.STAFF_MESSAGES,
    ObjectType.PRODUCT: Area.CATALOG,
    ObjectType.FAQ: Area.CATALOG,
    ObjectType.SYSTEM: Area.ADMINISTRATION,
    ObjectType.PAYMENT_PROOF: Area.PAYMENTS,
    ObjectType.REFUND: Area.BOOKINGS,
    ObjectType.TRANSLATION: Area.CATALOG,
    ObjectType.CAMPAIGN: Area.MESSAGES,
    ObjectType.RESCHEDULE: Area.BOOKINGS,
    ObjectType.MOVE_OFFER: Area.BOOKINGS,
}

# Messages whose purpose says more than their object: a sign-in code is a secret, an
# assignment offer carries the pay, an operations alert is about operations.
PURPOSE_AREAS: Mapping[str, Area] = {
    "staff_sign_in_code": Area.SIGN_IN,
    "assignment_offer": Area.PAYROLL,
    "assignment_details": Area.PAYROLL,
    "ops_alert": Area.STAFF_MESSAGES,
    "ops_urgent_alert": Area.STAFF_MESSAGES,
}


def rule_for(action: str) -> str | None:
    """The key of `EVENT_AREAS` that covers `action` (None: an unknown kind)."""
    if action in EVENT_AREAS:
        return action
    for key in EVENT_AREAS:
        if key.endswith(".") and action.startswith(key):
            return key
    return None


def area_of(
    object_type: str, action: str, *, purpose: str | None = None, staff_party: bool = False
) -> Area | None:
    """The area an event belongs to; None for an unknown kind (ADMIN only).

    `purpose`: an outbound message's purpose. `staff_party`: the event is a conversation with
    a staff member (a guide's messages hold incident texts and positions): it is not a
    customer's conversation, whatever object it was filed under."""
    key = rule_for(action)
    if key is None:
        return None
    area = EVENT_AREAS[key]
    if area is ABOUT_OBJECT:
        area = PURPOSE_AREAS.get(purpose or "") or OBJECT_AREAS.get(object_type)
    if area is Area.MESSAGES and staff_party:
        return Area.STAFF_MESSAGES
    return area


def may_see(roles: Iterable[Role | str], area: Area | None) -> bool:
    """Whether someone holding `roles` may see `area` (None, an unknown kind: ADMIN only)."""
    held = {Role(r) for r in roles}
    if Role.ADMIN in held:
        return True
    return area is not None and bool(held & set(AREA_ROLES[area]))


def areas_for(roles: Iterable[Role | str]) -> frozenset[Area]:
    """Every area someone holding `roles` may see."""
    held = list(roles)
    return frozenset(area for area in Area if may_see(held, area))


def roles_for(area: Area) -> tuple[Role, ...]:
    """The roles that may see `area`, for `console_page(*roles_for(Area.X))` and `endpoint`
    (ADMIN passes those checks anyway). An ADMIN-only area gives (Role.ADMIN,)."""
    return AREA_ROLES[area] or (Role.ADMIN,)


def media_area(*, incident: bool, trip: bool, staff: bool) -> Area:
    """A file from WhatsApp is as private as what it is filed on: an incident's photo is
    operations' (the page that shows it is), a trip's or a staff member's too; a customer's
    file is the conversation's."""
    if incident:
        return Area.INCIDENTS
    if trip or staff:
        return Area.TRIPS
    return Area.MESSAGES
