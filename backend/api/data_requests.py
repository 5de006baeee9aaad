"""A customer's privacy requests over the admin API (OPS, ADMIN): erase every traveller's papers
of a contact's bookings once the request is confirmed with them, or export what is held about
them (`backend.services.data_requests`)."""

from __future__ import annotations

from typing import Any

from sanic import Request
from sqlalchemy.orm import Session

from backend.api.common import endpoint
from backend.api.routes import api
from backend.domain import access
from backend.domain.areas import Area
from backend.domain.errors import NotFound
from backend.models import Contact, Staff
from backend.services import data_requests

PAPERS = access.roles_for(Area.TRAVELLER_PAPERS)


def _contact(session: Session, contact_id: str) -> Contact:
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise NotFound(f"No contact {contact_id}")
    return contact


@api.post("/contacts/<contact_id>/erase-papers")
@endpoint(*PAPERS)
def erase_papers(request: Request, session: Session, member: Staff, contact_id: str) -> Any:
    """Erase the papers of every traveller of the contact's bookings (details and photos;
    bookings, payments and the timeline stay); the customer is told. 409 while one of their
    trips is under way."""
    count = data_requests.erase_papers(session, _contact(session, contact_id), member)
    return {"contact": contact_id, "travellersErased": count}


@api.get("/contacts/<contact_id>/data.json")
@endpoint(*PAPERS)
def export_data(request: Request, session: Session, member: Staff, contact_id: str) -> Any:
    """What is held about the contact: their details, bookings and travellers' papers (each
    booking's read is on its timeline), to send them on request."""
    return data_requests.export(session, _contact(session, contact_id), member)
