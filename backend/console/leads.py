"""Leads (SALES): the inbox, a lead's page, and what a rep does with it: quote, hold, reply,
pause the assistant, mark lost."""

from __future__ import annotations

from sanic.response import HTTPResponse

from backend import clock
from backend.config import get_settings
from backend.console import page_data
from backend.console.forms import amount_minor, whole_number
from backend.console.web import Ctx, console_bp, console_page
from backend.domain.access import Area
from backend.domain.enums import LeadStatus, ObjectType
from backend.http_common import get_or_404
from backend.models import Departure, Lead
from backend.services import bookings, catalog, contacts, conversations, languages, leads, timeline


@console_bp.get("/leads")
@console_page(Area.LEADS)
def leads_inbox(ctx: Ctx) -> HTTPResponse:
    scope = ctx.arg("scope", "all")
    filters = {
        "scope": scope,
        "status": ctx.arg("status"),
        "product": ctx.arg("product"),
        "month": ctx.arg("month"),
    }
    rows = page_data.lead_rows(
        ctx.session,
        mine_of=ctx.member.id if scope == "mine" else None,
        status=filters["status"] or None,
        product=filters["product"] or None,
        month=filters["month"] or None,
    )
    return ctx.page(
        "leads.html",
        rows=rows,
        filters=filters,
        statuses=list(LeadStatus),
        products=catalog.active_products(ctx.session),
        now=clock.now(),
    )


def _lead(ctx: Ctx, lead_id: str) -> Lead:
    return get_or_404(ctx.session, Lead, lead_id, "lead")


@console_bp.get("/leads/<lead_id:str>")
@console_page(Area.LEADS)
def lead_page(ctx: Ctx, lead_id: str) -> HTTPResponse:
    lead = _lead(ctx, lead_id)
    conversation = contacts.active_conversation(ctx.session, lead.contact)
    departures = (
        [
            page_data.departure_row(ctx.session, d)
            for d in catalog.departures_of(ctx.session, lead.product)
            if d.start_date >= clock.now().astimezone(get_settings().tz).date()
        ]
        if lead.product
        else []
    )
    chosen = next(
        (row for row in departures if row.departure.id == lead.quoted_departure_id),
        next((row for row in departures if row.counts.available > 0), None),
    )
    party = lead.quoted_party_size or lead.party_size or 1
    suggested = bookings.price_for(chosen.departure, party) if chosen is not None else None
    events = timeline.for_object(ctx.session, ObjectType.LEAD, lead.id, reader=ctx.member)
    return ctx.page(
        "lead.html",
        lead=lead,
        conversation=conversation,
        chat=page_data.conversation(ctx.session, lead.contact),
        departures=departures,
        chosen=chosen,
        party=party,
        suggested=suggested,
        window_open=contacts.window_open(lead.contact),
        customer_language=languages.reader_language(lead.contact),
        events=events,
        sentences=timeline.describe(ctx.session, events),
        deadline=page_data.contact_deadline(lead),
        now=clock.now(),
    )


@console_bp.post("/leads/<lead_id:str>/quote")
@console_page(Area.LEADS)
def lead_quote(ctx: Ctx, lead_id: str) -> HTTPResponse:
    lead = _lead(ctx, lead_id)
    departure = get_or_404(ctx.session, Departure, ctx.form("departure_id"), "departure")
    party = whole_number(ctx.form("party_size"), "Party size", 1, 50)
    price = amount_minor(ctx.form("price_per_person"), "Price per person")
    discount = amount_minor(ctx.form("discount"), "Discount")
    # The form was prefilled for one departure and party: the rep typed a price only if the
    # fields differ from what was prefilled (else the choices price by rule). Whether that is
    # an override, which needs a reason, is the service's rule (leads.quote_lead).
    prefilled_price = amount_minor(ctx.form("prefilled_price"), "Price per person")
    prefilled_discount = amount_minor(ctx.form("prefilled_discount"), "Discount")
    typed = price != prefilled_price or discount != prefilled_discount
    quote = leads.send_quote(
        ctx.session,
        lead,
        departure,
        party,
        ctx.actor,
        price_per_person_minor=price if typed else None,
        discount_minor=(discount or 0) if typed else None,
        override_reason=ctx.form("override_reason"),
    )
    return ctx.done(f"/console/leads/{lead.id}", f"Quote sent on WhatsApp: {quote.total.format()}")


@console_bp.post("/leads/<lead_id:str>/hold")
@console_page(Area.LEADS)
def lead_hold(ctx: Ctx, lead_id: str) -> HTTPResponse:
    lead = _lead(ctx, lead_id)
    booking = leads.hold_and_send(ctx.session, lead, ctx.actor)
    return ctx.done(
        f"/console/leads/{lead.id}",
        f"Held for 24 hours: booking {booking.reference}; the payment link went out on WhatsApp",
    )


@console_bp.post("/leads/<lead_id:str>/reply")
@console_page(Area.LEADS)
def lead_reply(ctx: Ctx, lead_id: str) -> HTTPResponse:
    lead = _lead(ctx, lead_id)
    conversations.staff_reply(
        ctx.session,
        lead.contact,
        text=ctx.form("text"),
        template=ctx.form("template") or None,
        object_type=ObjectType.LEAD,
        object_id=lead.id,
        actor=ctx.actor,
    )
    leads.mark_contacted(ctx.session, lead, ctx.actor)
    return ctx.done(f"/console/leads/{lead.id}", "Message queued")


@console_bp.post("/leads/<lead_id:str>/assistant")
@console_page(Area.LEADS)
def lead_assistant(ctx: Ctx, lead_id: str) -> HTTPResponse:
    lead = _lead(ctx, lead_id)
    conversation, _ = contacts.get_or_open_conversation(ctx.session, lead.contact)
    paused = ctx.form("paused") == "1"
    contacts.set_bot_paused(ctx.session, conversation, paused, ctx.actor)
    return ctx.done(
        f"/console/leads/{lead.id}",
        "Assistant paused: this customer's messages now come to you"
        if paused
        else "Assistant resumed",
    )


@console_bp.post("/leads/<lead_id:str>/lost")
@console_page(Area.LEADS)
def lead_lost(ctx: Ctx, lead_id: str) -> HTTPResponse:
    lead = _lead(ctx, lead_id)
    leads.mark_lost(ctx.session, lead, ctx.form("reason"), ctx.actor)
    return ctx.done(f"/console/leads/{lead.id}", f"{lead.reference} marked lost")
