"""The product's areas: what a role may be allowed to see. Pure data, no I/O.

Apart from `backend.domain.access` (which roles see which area) so that the registry of
timeline actions (`backend.domain.timeline_actions`) can name each action's area and `access`
can read the registry, without the two importing each other."""

from __future__ import annotations

from enum import StrEnum


class Area(StrEnum):
    LEADS = "leads"  # enquiries, their quotes and their assignment to a rep
    BOOKINGS = "bookings"  # bookings, holds, waitlist, payments, the customers' notices
    DEPARTURES = "departures"  # departures and their seats
    MESSAGES = "messages"  # customers' conversations and contact details
    CATALOG = "catalog"  # products and the assistant's answers (reading them)
    FEEDBACK = "feedback"  # guests' ratings and comments, KPIs
    TRIPS = "trips"  # trips, assignments, check-ins, guides' positions and field updates
    STAFF_MESSAGES = "staff_messages"  # what guides and staff write to or get from the product
    INCIDENTS = "incidents"  # incidents: their texts, escalations, notices to guests
    PAYROLL = "payroll"  # what staff are paid for a trip
    # travellers' papers: passports, insurance, emergency contacts, medical notes, photos
    TRAVELLER_PAPERS = "traveller_papers"
    PAYMENTS = "payments"  # proofs of payment and their checking, the ledger, refunds paid out
    STAFF_DIRECTORY = "staff_directory"  # colleagues' phones and roles
    STAFF_ADMIN = "staff_admin"  # adding staff, roles, tokens, (de)activation
    SIGN_IN = "sign_in"  # sign-in codes, links and sessions
    ADMINISTRATION = "administration"  # changing products, departures, answers; the system
    MY_TRIPS = "my_trips"  # a guide's or porter's own assignments
    ACCOUNT = "account"  # one's own profile, token and sign-out
    TIMELINE = "timeline"  # the timeline pages: each event shown by its own area


# A message, e-mail or console reply belongs to the area of what it is about (its object, or
# its purpose: `access.OBJECT_AREAS`, `access.PURPOSE_AREAS`).
ABOUT_OBJECT = None
