"""The staff console under `/console/`: what sales reps, operations managers, admins and guides
work in. Server-rendered pages and plain forms; the live parts refresh from the event stream
(`backend/console/live.py`). Every handler is a thin layer over the same services the admin
API and the assistant use, in one transaction, as the signed-in staff member."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import secrets
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sanic import Blueprint, Request, response
from sanic.response import HTTPResponse
from sqlalchemy import select

from backend import clock, rendering, texts
from backend.api.common import access, get_or_404
from backend.config import get_settings
from backend.console import views
from backend.console.web import (
    COOKIE,
    PRE_COOKIE,
    SECURITY_HEADERS,
    Ctx,
    add_console_cookie,
    clear_session_cookie,
    client_address,
    console_cookie,
    console_page,
    home_of,
    html,
    safe_next,
    see_other,
    set_session_cookie,
    tokens_match,
)
from backend.db import transaction
from backend.domain.access import Area, may_see
from backend.domain.enums import AssignmentRole, IncidentStatus, LeadStatus, ObjectType, Role
from backend.domain.errors import DomainError, NotFound
from backend.models import (
    Assignment,
    Booking,
    Departure,
    Incident,
    Lead,
    MediaAttachment,
    PayrollEntry,
    Product,
    Staff,
    Trip,
)
from backend.services import (
    bookings,
    catalog,
    contacts,
    incidents,
    knowledge,
    kpis,
    leads,
    media,
    notifications,
    staff_auth,
    timeline,
    trips,
)
from backend.services import staff as staff_service
from backend.whatsapp.media import store_for

console_bp = Blueprint("console", url_prefix="/console")


@console_bp.on_response
async def security_headers(request: Request, resp: HTTPResponse) -> None:
    for name, value in SECURITY_HEADERS.items():
        resp.headers.setdefault(name, value)


@console_bp.get("/static/console.js")
@access("public: the console's script, no data in it")
async def console_js(request: Request) -> HTTPResponse:
    return response.text(
        rendering.render("console/console.js"),
        content_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "public, max-age=600"},
    )


# -- signing in ---------------------------------------------------------------------------------
def _pre_token(request: Request) -> tuple[str, bool]:
    existing = console_cookie(request, PRE_COOKIE)
    return (existing, False) if existing else (secrets.token_urlsafe(24), True)


def _with_pre(resp: HTTPResponse, token: str, fresh: bool) -> HTTPResponse:
    if fresh:
        add_console_cookie(resp, PRE_COOKIE, token, httponly=True, samesite="Strict", max_age=3600)
    return resp


def _field(request: Request, name: str, most: int) -> str:
    """A sign-in form's field, cut to what it can hold (these pages are open to anyone: a
    strange value gets the one refusal, never an error)."""
    value = request.form.get(name) if request.form else None
    return (value if isinstance(value, str) else "").strip()[:most]


def _pre_ok(request: Request) -> bool:
    expected = console_cookie(request, PRE_COOKIE) or ""
    return bool(expected) and tokens_match(_field(request, "csrf", 200), expected)


def _sign_in_page(
    request: Request, template: str = "sign_in.html", status: int = 200, **context: Any
) -> HTTPResponse:
    token, fresh = _pre_token(request)
    raw_next = request.args.get("next") or _field(request, "next", 2000)
    page = html(
        template,
        status,
        me=None,
        csrf=token,
        next=safe_next(raw_next[:2000]) or "",
        again=request.args.get("again") == "1",
        sign_in_again=texts.CONSOLE_SIGN_IN_AGAIN,
        **context,
    )
    return _with_pre(page, token, fresh)


def _wait_page(
    request: Request, refused: staff_auth.TooManyTries, template: str, **context: Any
) -> HTTPResponse:
    """429 with Retry-After: this client has tried too often (its own budget, not the phone's)."""
    page = _sign_in_page(
        request, template, 429, error=texts.console_too_many_tries(refused.retry_after), **context
    )
    page.headers["Retry-After"] = str(refused.retry_after)
    return page


@console_bp.get("/")
@access("anyone: sends a signed-in member home, anyone else to the sign-in page")
async def console_home(request: Request) -> HTTPResponse:
    def work() -> str:
        with transaction() as session:
            record = staff_auth.current_session(session, console_cookie(request, COOKIE))
            return home_of(record.staff) if record else "/console/sign-in"

    return see_other(await asyncio.to_thread(work))


@console_bp.get("/sign-in")
@access("anyone: the sign-in form (a phone number)")
async def sign_in_form(request: Request) -> HTTPResponse:
    return _sign_in_page(request)


@console_bp.post("/sign-in")
@access("anyone with the form's token: sends a code to a staff member's WhatsApp")
async def sign_in_send_code(request: Request) -> HTTPResponse:
    if not _pre_ok(request):
        return _sign_in_page(request, status=403, error=texts.CONSOLE_FORM_EXPIRED)
    phone = _field(request, "phone", 40)
    client = client_address(request)

    def work() -> None:
        with transaction() as session:
            staff_auth.send_code(session, phone, client=client)

    try:
        await asyncio.to_thread(work)
    except staff_auth.TooManyTries as refused:
        return _wait_page(request, refused, "sign_in.html")
    return _sign_in_page(request, "code.html", phone=phone, notice=texts.CONSOLE_CODE_SENT)


def _signed_in(request: Request, opened: tuple[str, str]) -> HTTPResponse:
    cookie, home = opened
    resp = see_other(safe_next(_field(request, "next", 2000)) or home)
    set_session_cookie(resp, cookie)
    return resp


@console_bp.post("/sign-in/code")
@access("anyone with the form's token and a valid code: opens a session")
async def sign_in_check_code(request: Request) -> HTTPResponse:
    phone = _field(request, "phone", 40)
    if not _pre_ok(request):
        return _sign_in_page(
            request, "code.html", 403, phone=phone, error=texts.CONSOLE_FORM_EXPIRED
        )
    code = _field(request, "code", 20)
    agent = request.headers.get("user-agent", "")
    client = client_address(request)
    previous = console_cookie(request, COOKIE)

    def work() -> tuple[str, str] | None:
        with transaction() as session:
            member = staff_auth.check_code(session, phone, code, client=client)
            if member is None:
                return None
            opened = staff_auth.open_session(
                session,
                member,
                how="whatsapp code",
                user_agent=agent,
                client=client,
                replacing=previous,
            )
            return opened.cookie, home_of(member)

    try:
        signed = await asyncio.to_thread(work)
    except staff_auth.TooManyTries as refused:
        return _wait_page(request, refused, "code.html", phone=phone)
    if signed is None:
        return _sign_in_page(
            request, "code.html", 401, phone=phone, error=texts.CONSOLE_CODE_REFUSED
        )
    return _signed_in(request, signed)


@console_bp.get("/sign-in/link/<secret:str>")
@access("anyone holding a one-time link: a page with a button (link previews must not use it)")
async def sign_in_link_page(request: Request, secret: str) -> HTTPResponse:
    return _sign_in_page(request, "link.html", secret=secret[:100])


@console_bp.post("/sign-in/link/<secret:str>")
@access("anyone holding a one-time link and the form's token: opens a session, uses the link")
async def sign_in_with_link(request: Request, secret: str) -> HTTPResponse:
    secret = secret[:100]
    if not _pre_ok(request):
        return _sign_in_page(
            request, "link.html", 403, secret=secret, error=texts.CONSOLE_FORM_EXPIRED
        )
    agent = request.headers.get("user-agent", "")
    client = client_address(request)
    previous = console_cookie(request, COOKIE)

    def work() -> tuple[str, str] | None:
        with transaction() as session:
            member = staff_auth.use_link(session, secret, client=client)
            if member is None:
                return None
            opened = staff_auth.open_session(
                session,
                member,
                how="one-time link",
                user_agent=agent,
                client=client,
                replacing=previous,
            )
            return opened.cookie, home_of(member)

    try:
        signed = await asyncio.to_thread(work)
    except staff_auth.TooManyTries as refused:
        return _wait_page(request, refused, "link.html", secret=secret)
    if signed is None:
        return _sign_in_page(request, status=410, error=texts.CONSOLE_LINK_REFUSED)
    return _signed_in(request, signed)


@console_bp.post("/sign-out")
@console_page(Area.ACCOUNT)
def sign_out(ctx: Ctx) -> HTTPResponse:
    staff_auth.end_session(ctx.session, ctx.record)
    resp = see_other("/console/sign-in")
    clear_session_cookie(resp)
    return resp


# -- leads (SALES) ------------------------------------------------------------------------------
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
    rows = views.lead_rows(
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
            views.departure_row(ctx.session, d)
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
    return ctx.page(
        "lead.html",
        lead=lead,
        conversation=conversation,
        chat=views.conversation(ctx.session, lead.contact.phone),
        departures=departures,
        chosen=chosen,
        party=party,
        suggested=suggested,
        window_open=contacts.window_open(lead.contact),
        events=timeline.for_object(ctx.session, ObjectType.LEAD, lead.id, reader=ctx.member),
        deadline=views.contact_deadline(lead),
        now=clock.now(),
    )


def _minor(raw: str, label: str) -> int | None:
    """A money amount typed by a person ("1,200.50") in minor units; blank → None."""
    text = raw.replace(",", "").strip()
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise DomainError(f"{label}: '{raw[:20]}' is not an amount") from exc
    if not value.is_finite() or value < 0 or value > 10_000_000:
        raise DomainError(f"{label}: '{raw[:20]}' is out of range")
    return int((value * 100).quantize(Decimal(1)))


def _int(raw: str, label: str, low: int, high: int) -> int:
    try:
        value = int(raw.strip()[:12])
    except ValueError as exc:
        raise DomainError(f"{label}: '{raw}' is not a whole number") from exc
    if not low <= value <= high:
        raise DomainError(f"{label} must be between {low} and {high}")
    return value


@console_bp.post("/leads/<lead_id:str>/quote")
@console_page(Area.LEADS)
def lead_quote(ctx: Ctx, lead_id: str) -> HTTPResponse:
    lead = _lead(ctx, lead_id)
    departure = get_or_404(ctx.session, Departure, ctx.form("departure_id"), "departure")
    party = _int(ctx.form("party_size"), "Party size", 1, 50)
    price = _minor(ctx.form("price_per_person"), "Price per person")
    discount = _minor(ctx.form("discount"), "Discount")
    standard = bookings.price_for(departure, party)
    # The form was prefilled for one departure and party; the rep changed the price only if
    # the fields differ from what was prefilled (then the other choices still price by rule).
    prefilled_price = _minor(ctx.form("prefilled_price"), "Price per person")
    prefilled_discount = _minor(ctx.form("prefilled_discount"), "Discount")
    overridden = price != prefilled_price or discount != prefilled_discount
    reason = ctx.form("override_reason")
    if overridden and not reason:
        raise DomainError("A changed price or discount needs a reason")
    quote = leads.send_quote(
        ctx.session,
        lead,
        departure,
        party,
        ctx.actor,
        price_per_person_minor=price if overridden else None,
        discount_minor=(discount or 0) if overridden else None,
    )
    if overridden:
        timeline.record(
            ctx.session,
            object_type=ObjectType.LEAD,
            object_id=lead.id,
            event_type="QUOTE",
            action="tms.lead.quote_override",
            actor=ctx.actor,
            content={"reason": reason[:300], "standardTotal": standard.total.format()},
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
    _reply(ctx, lead.contact, ObjectType.LEAD, lead.id)
    leads.mark_contacted(ctx.session, lead, ctx.actor)
    return ctx.done(f"/console/leads/{lead.id}", "Message queued")


def _reply(ctx: Ctx, contact: Any, object_type: str, object_id: str) -> None:
    """Free text inside the 24-hour window; outside it, an approved template (the rep's text
    as the update template's parameter, or the follow-up that asks them to write back)."""
    text = ctx.form("text")[:3000]
    choice = ctx.form("template")
    conversation = contacts.active_conversation(ctx.session, contact)
    if contacts.window_open(contact) and not choice:
        if not text:
            raise DomainError("Write the message first")
        rows = notifications.to_contact(
            ctx.session,
            contact,
            text,
            purpose="staff_message",
            object_type=object_type,
            object_id=object_id,
        )
    elif choice == "customer_update":
        if not text:
            raise DomainError("The update template needs the text of the update")
        rows = notifications.to_contact(
            ctx.session,
            contact,
            text,
            purpose="customer_update",
            object_type=object_type,
            object_id=object_id,
        )
    elif choice == "conversation_followup":
        rows = notifications.to_contact(
            ctx.session,
            contact,
            texts.CONVERSATION_FOLLOWUP,
            purpose="conversation_followup",
            object_type=object_type,
            object_id=object_id,
            template_params=[],
        )
    else:
        raise DomainError("The 24-hour window is closed: choose one of the approved templates")
    if not rows:
        raise DomainError("Nothing was sent: the customer wrote STOP, and this can wait")
    for row in rows:
        row.conversation_id = conversation.id if conversation else None
    timeline.record(
        ctx.session,
        object_type=object_type,
        object_id=object_id,
        event_type="MESSAGE",
        action="tms.console.reply",
        actor=ctx.actor,
        content={"template": choice or None, "text": text[:500]},
    )


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


# -- bookings (SALES, OPS) ----------------------------------------------------------------------
@console_bp.get("/bookings")
@console_page(Area.BOOKINGS)
def bookings_search(ctx: Ctx) -> HTTPResponse:
    query = ctx.arg("q")[:60]
    return ctx.page("bookings.html", q=query, found=views.booking_search(ctx.session, query))


def _booking(ctx: Ctx, booking_id: str) -> Booking:
    return get_or_404(ctx.session, Booking, booking_id, "booking")


@console_bp.get("/bookings/<booking_id:str>")
@console_page(Area.BOOKINGS)
def booking_page(ctx: Ctx, booking_id: str) -> HTTPResponse:
    booking = _booking(ctx, booking_id)
    return ctx.page(
        "booking.html",
        page=views.booking_page(ctx.session, booking, ctx.member),
        chat=views.conversation(ctx.session, booking.contact.phone),
        window_open=contacts.window_open(booking.contact),
    )


@console_bp.post("/bookings/<booking_id:str>/cancel")
@console_page(Area.BOOKINGS)
def booking_cancel(ctx: Ctx, booking_id: str) -> HTTPResponse:
    booking = _booking(ctx, booking_id)
    reason = ctx.form("reason") or "cancelled by staff"
    freed = bookings.cancel_by_staff(
        ctx.session,
        booking,
        ctx.actor,
        reason=reason[:500],
        notify_customer=ctx.form("notify") == "1",
    )
    return ctx.done(
        f"/console/bookings/{booking.id}",
        f"{booking.reference} cancelled; {freed} seat(s) freed and offered to the waitlist",
    )


@console_bp.post("/bookings/<booking_id:str>/reply")
@console_page(Area.BOOKINGS)
def booking_reply(ctx: Ctx, booking_id: str) -> HTTPResponse:
    booking = _booking(ctx, booking_id)
    _reply(ctx, booking.contact, ObjectType.BOOKING, booking.id)
    return ctx.done(f"/console/bookings/{booking.id}", "Message queued")


# -- departures (OPS; SALES reads) --------------------------------------------------------------
@console_bp.get("/departures")
@console_page(Area.DEPARTURES)
def departures_board(ctx: Ctx) -> HTTPResponse:
    rows = views.departure_rows(ctx.session)
    return ctx.page(
        "departures.html",
        rows=rows,
        needed={r.departure.id: views.staff_needed(r.counts) for r in rows},
    )


@console_bp.get("/departures/<departure_id:str>")
@console_page(Area.DEPARTURES)
def departure_page(ctx: Ctx, departure_id: str) -> HTTPResponse:
    departure = get_or_404(ctx.session, Departure, departure_id, "departure")
    row = views.departure_row(ctx.session, departure)
    found = list(
        ctx.session.scalars(
            select(Booking).where(Booking.departure_id == departure.id).order_by(Booking.created_at)
        )
    )
    assignments = (
        list(
            ctx.session.scalars(
                select(Assignment)
                .where(Assignment.trip_id == row.trip.id)
                .order_by(Assignment.created_at)
            )
        )
        if row.trip
        else []
    )
    field_staff = [
        s
        for s in ctx.session.scalars(
            select(Staff).where(Staff.active.is_(True)).order_by(Staff.name)
        )
        if s.roles & {Role.GUIDE, Role.PORTER}
    ]
    return ctx.page(
        "departure.html",
        row=row,
        bookings=found,
        manifest=[b for b in found if b.status in ("CONFIRMED", "COMPLETED")],
        assignments=assignments,
        field_staff=field_staff,
        roles=list(AssignmentRole),
        needed=views.staff_needed(row.counts),
        can_assign=ctx.member.has_role(Role.OPS),
    )


@console_bp.post("/departures/<departure_id:str>/assign")
@console_page(Area.TRIPS)
def departure_assign(ctx: Ctx, departure_id: str) -> HTTPResponse:
    departure = get_or_404(ctx.session, Departure, departure_id, "departure")
    worker = get_or_404(ctx.session, Staff, ctx.form("staff_id"), "staff member")
    try:
        role = AssignmentRole(ctx.form("role").upper())
    except ValueError as exc:
        raise DomainError("Choose a role") from exc
    pay = _minor(ctx.form("compensation"), "Compensation")
    if pay is None:
        raise DomainError("Compensation is required")
    trip = trips.ensure_trip(ctx.session, departure, ctx.actor)
    trips.offer_assignment(
        ctx.session, trip, worker, role, pay, ctx.actor, currency=departure.product.currency
    )
    return ctx.done(
        f"/console/departures/{departure.id}",
        f"Offer sent to {worker.name} on WhatsApp; their answer will show here",
    )


# -- today and incidents (OPS) ------------------------------------------------------------------
@console_bp.get("/today")
@console_page(Area.TRIPS)
def today_page(ctx: Ctx) -> HTTPResponse:
    return ctx.page("today.html", trips=views.today(ctx.session))


@console_bp.get("/incidents")
@console_page(Area.INCIDENTS)
def incidents_board(ctx: Ctx) -> HTTPResponse:
    board = views.incident_board(ctx.session)
    return ctx.page(
        "incidents.html",
        incidents=board,
        affected={i.id: views.guests_affected(ctx.session, i) for i in board},
        reporters={
            i.id: ctx.session.get(Staff, i.reported_by_staff_id) if i.reported_by_staff_id else None
            for i in board
        },
        now=clock.now(),
    )


def _incident(ctx: Ctx, incident_id: str) -> Incident:
    return get_or_404(ctx.session, Incident, incident_id, "incident")


@console_bp.get("/incidents/<incident_id:str>")
@console_page(Area.INCIDENTS)
def incident_page(ctx: Ctx, incident_id: str) -> HTTPResponse:
    incident = _incident(ctx, incident_id)
    guests = trips.guests_of(ctx.session, incident.trip)
    return ctx.page(
        "incident.html",
        incident=incident,
        reporter=ctx.session.get(Staff, incident.reported_by_staff_id)
        if incident.reported_by_staff_id
        else None,
        guide=trips.lead_guide(ctx.session, incident.trip),
        guests=guests,
        notices={b.id: incidents.notice_for(ctx.session, incident, b) for b in guests},
        receipts=views.guest_notices(ctx.session, incident, guests),
        attachments=media.attachments_of_incident(ctx.session, incident),
        statuses=[s for s in IncidentStatus],
        events=timeline.for_object(
            ctx.session, ObjectType.INCIDENT, incident.id, reader=ctx.member
        ),
        now=clock.now(),
    )


# Served inline only when the type is a plain image; anything else downloads as bytes, so a
# sender cannot get HTML or SVG run on the console's origin.
INLINE_MEDIA = {"image/jpeg", "image/png", "image/webp", "image/gif"}


@console_bp.get("/media/<attachment_id:str>")
@console_page(Area.MESSAGES)
def media_file(ctx: Ctx, attachment_id: str) -> HTTPResponse:
    attachment = get_or_404(ctx.session, MediaAttachment, attachment_id, "file")
    # A file from the field is as private as what it is filed on: an incident's photo is
    # operations' (the page that shows it is), a trip's media too; the rest is messages'.
    area = (
        Area.INCIDENTS
        if attachment.incident_id
        else Area.TRIPS
        if attachment.trip_id or attachment.staff_id
        else Area.MESSAGES
    )
    if not may_see(ctx.member.roles, area):
        raise NotFound("No such file")
    if attachment.status != media.STORED or not attachment.storage_key:
        raise NotFound("That file has not been downloaded")
    content = store_for().get(attachment.storage_key)
    mime = (attachment.mime_type or "").split(";")[0].strip().lower()
    inline = mime in INLINE_MEDIA
    headers = {
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, no-store",
        "Content-Disposition": "inline"
        if inline
        else f'attachment; filename="{attachment.storage_key.rsplit("/", 1)[-1]}"',
    }
    return response.raw(
        content, content_type=mime if inline else "application/octet-stream", headers=headers
    )


@console_bp.post("/incidents/<incident_id:str>/update")
@console_page(Area.INCIDENTS)
def incident_update(ctx: Ctx, incident_id: str) -> HTTPResponse:
    incident = _incident(ctx, incident_id)
    status_raw = ctx.form("status")
    status = IncidentStatus(status_raw) if status_raw in set(IncidentStatus) else None
    chosen = [
        key[len("booking_") :]
        for key in (ctx.request.form or {})
        if key.startswith("booking_") and ctx.form(key) == "1"
    ]
    to_chosen = ctx.form("message_to_bookings")
    sent = incidents.ops_update(
        ctx.session,
        incident,
        ctx.actor,
        status=status if status and status != incident.status else None,
        resolution=ctx.form("resolution") or None,
        eta=ctx.form("eta")[:60] or None,
        message_to_guide=ctx.form("message_to_guide") or None,
        message_to_guests=ctx.form("message_to_guests") or None,
        message_to_bookings={b: to_chosen for b in chosen} if to_chosen and chosen else None,
    )
    told = ", ".join(
        f"{count} to the {who}"
        for who, count in (
            ("guide", sent.get("guide", 0)),
            ("guests", sent.get("guests", 0)),
            ("chosen bookings", sent.get("bookings", 0)),
        )
        if count
    )
    return ctx.done(
        f"/console/incidents/{incident.id}",
        f"Incident updated ({incident.status})" + (f"; messages sent: {told}" if told else ""),
    )


@console_bp.post("/incidents/<incident_id:str>/acknowledge")
@console_page(Area.INCIDENTS)
def incident_acknowledge(ctx: Ctx, incident_id: str) -> HTTPResponse:
    incident = _incident(ctx, incident_id)
    incidents.acknowledge(ctx.session, incident, ctx.actor)
    return ctx.done(f"/console/incidents/{incident.id}", "Acknowledged")


# -- timeline (SALES, OPS) ----------------------------------------------------------------------
@console_bp.get("/timeline")
@console_page(Area.TIMELINE)
def timeline_page(ctx: Ctx) -> HTTPResponse:
    object_type, object_id = ctx.arg("object_type").upper()[:24], ctx.arg("object_id")[:36]
    if object_type and object_id:
        found = timeline.for_object(ctx.session, object_type, object_id, reader=ctx.member)
    else:
        found = timeline.latest(ctx.session, reader=ctx.member, limit=100)
    staff_names = {s.id: s.name for s in ctx.session.scalars(select(Staff))}
    return ctx.page(
        "timeline.html",
        events=found,
        object_type=object_type,
        object_id=object_id,
        staff_names=staff_names,
        as_json=lambda e: json.dumps(e.as_dict(), indent=2, ensure_ascii=False),
    )


# -- KPIs (SALES, OPS) --------------------------------------------------------------------------
def _range(ctx: Ctx) -> tuple[date, date]:
    """The KPIs' date range: `since`/`until` (both included), 90 days to today by default."""
    today = clock.now().astimezone(get_settings().tz).date()
    try:
        until = date.fromisoformat(ctx.arg("until")) if ctx.arg("until") else today
        since = date.fromisoformat(ctx.arg("since")) if ctx.arg("since") else None
    except ValueError as exc:
        raise DomainError("Dates are written 2026-03-31") from exc
    if not 2000 <= until.year <= 2100 or (since is not None and not 2000 <= since.year <= 2100):
        raise DomainError("Choose dates between 2000 and 2100")
    since = since or until - timedelta(days=90)
    if since > until:
        since, until = until, since
    return since, min(until, since + timedelta(days=3660))


@console_bp.get("/kpis")
@console_page(Area.FEEDBACK)
def kpis_page(ctx: Ctx) -> HTTPResponse:
    since, until = _range(ctx)
    return ctx.page(
        "kpis.html", report=kpis.report(ctx.session, since, until), since=since, until=until
    )


@console_bp.get("/kpis.json")
@console_page(Area.FEEDBACK)
def kpis_json(ctx: Ctx) -> HTTPResponse:
    since, until = _range(ctx)
    return response.json(kpis.report(ctx.session, since, until).as_dict())


@console_bp.get("/kpis.csv")
@console_page(Area.FEEDBACK)
def kpis_csv(ctx: Ctx) -> HTTPResponse:
    since, until = _range(ctx)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["metric", "group", "value"])
    for metric, group, value in kpis.report(ctx.session, since, until).rows():
        writer.writerow([metric, group, value])
    return response.text(
        out.getvalue(),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="kpis-{since}-{until}.csv"'},
    )


# -- the operator's knowledge: what the assistant answers (edited by ADMIN) ---------------------
@console_bp.get("/answers")
@console_page(Area.CATALOGUE)
def answers_page(ctx: Ctx) -> HTTPResponse:
    stored: dict[str, list[Any]] = {}
    for answer in knowledge.all_answers(ctx.session):
        stored.setdefault(answer.topic, []).append(answer)
    return ctx.page(
        "answers.html",
        topics=knowledge.topics(),
        stored=stored,
        products=list(ctx.session.scalars(select(Product.code).order_by(Product.code))),
        can_edit=ctx.member.has_role(Role.ADMIN),
        unanswered=timeline.recent_by_action(
            ctx.session, "tms.conversation.question_unanswered", limit=30, reader=ctx.member
        ),
    )


@console_bp.post("/answers/<topic:str>")
@console_page(Area.ADMINISTRATION)
def answers_change(ctx: Ctx, topic: str) -> HTTPResponse:
    product = ctx.form("product")
    knowledge.set_answer(ctx.session, topic, ctx.form("answer"), ctx.actor, product_code=product)
    title = knowledge.topics()[topic].title
    return ctx.done(
        f"/console/answers#t-{topic}",
        f"“{title}”{f' for {product}' if product else ''} saved: the assistant answers with it now",
    )


# -- administration (ADMIN) ---------------------------------------------------------------------
@console_bp.get("/admin")
@console_page(Area.STAFF_ADMIN)
def admin_page(ctx: Ctx) -> HTTPResponse:
    return _admin(ctx)


def _admin(ctx: Ctx, new_token: dict[str, str] | None = None) -> HTTPResponse:
    return ctx.page(
        "admin.html",
        products=list(ctx.session.scalars(select(Product).order_by(Product.code))),
        departures=catalog.all_departures(ctx.session, from_date=clock.local_today()),
        staff=list(ctx.session.scalars(select(Staff).order_by(Staff.name))),
        roles=list(Role),
        new_token=new_token,
        fresh_minutes=get_settings().fresh_sign_in_minutes,
    )


@console_bp.post("/admin/staff")
@console_page(Area.STAFF_ADMIN)
def admin_add_staff(ctx: Ctx) -> HTTPResponse:
    roles = [r for r in Role if ctx.form(f"role_{r}") == "1"]
    member, _token = staff_service.add_staff(
        ctx.session,
        name=ctx.form("name")[:120] or "",
        phone=ctx.form("phone"),
        roles=roles,
        email=ctx.form("email")[:200] or None,
        actor=ctx.actor,
    )
    if not member.name:
        raise DomainError("A name is required")
    return ctx.done("/console/admin", f"{member.name} added; they sign in with a WhatsApp code")


@console_bp.post("/admin/staff/<staff_id:str>/deactivate")
@console_page(Area.STAFF_ADMIN, fresh=True)
def admin_deactivate(ctx: Ctx, staff_id: str) -> HTTPResponse:
    worker = get_or_404(ctx.session, Staff, staff_id, "staff member")
    if worker.id == ctx.member.id:
        raise DomainError("You cannot deactivate yourself")
    staff_service.deactivate(ctx.session, worker, ctx.actor)
    staff_auth.end_all_sessions(ctx.session, worker, ctx.actor)
    return ctx.done("/console/admin", f"{worker.name} deactivated and signed out everywhere")


@console_bp.post("/admin/staff/<staff_id:str>/reactivate")
@console_page(Area.STAFF_ADMIN, fresh=True)
def admin_reactivate(ctx: Ctx, staff_id: str) -> HTTPResponse:
    worker = get_or_404(ctx.session, Staff, staff_id, "staff member")
    staff_service.reactivate(ctx.session, worker, ctx.actor)
    return ctx.done(
        "/console/admin", f"{worker.name} is active again; they sign in with a WhatsApp code"
    )


@console_bp.post("/admin/staff/<staff_id:str>/availability")
@console_page(Area.STAFF_ADMIN)
def admin_availability(ctx: Ctx, staff_id: str) -> HTTPResponse:
    worker = get_or_404(ctx.session, Staff, staff_id, "staff member")
    staff_service.set_available(ctx.session, worker, ctx.form("available") == "1", ctx.actor)
    return ctx.done(
        "/console/admin", f"{worker.name} is {'available' if worker.available else 'away'}"
    )


@console_bp.post("/admin/staff/<staff_id:str>/rotate-token")
@console_page(Area.STAFF_ADMIN, fresh=True)
def admin_rotate(ctx: Ctx, staff_id: str) -> HTTPResponse:
    worker = get_or_404(ctx.session, Staff, staff_id, "staff member")
    token = staff_service.rotate_token(ctx.session, worker, ctx.actor)
    # Shown once, on this response only (never stored, never in a redirect URL).
    return _admin(ctx, {"name": worker.name, "token": token})


def _admin_int(ctx: Ctx, name: str, label: str, low: int, high: int) -> int | None:
    raw = ctx.form(name)
    return _int(raw, label, low, high) if raw else None


def _product_values(ctx: Ctx) -> dict[str, Any]:
    aliases = ctx.form("aliases")
    return {
        "name": ctx.form("name")[:120] or None,
        "short_name": ctx.form("short_name")[:60] or None,
        "aliases": [a for a in aliases.split(",")] if aliases else None,
        "days": _admin_int(ctx, "days", "Days", 1, 60),
        "price_per_person_minor": _minor(ctx.form("price"), "Price per person"),
        "deposit_percent": _admin_int(ctx, "deposit_percent", "Deposit %", 0, 100),
        "early_bird_percent": _admin_int(ctx, "early_bird_percent", "Early-bird %", 0, 50),
        "early_bird_days_before": _admin_int(
            ctx, "early_bird_days_before", "Early-bird days", 0, 365
        ),
        "balance_due_days_before": _admin_int(
            ctx, "balance_due_days_before", "Balance due days", 0, 365
        ),
    }


@console_bp.post("/admin/products")
@console_page(Area.ADMINISTRATION)
def admin_add_product(ctx: Ctx) -> HTTPResponse:
    values = {k: v for k, v in _product_values(ctx).items() if v is not None}
    if "days" not in values or "price_per_person_minor" not in values or "name" not in values:
        raise DomainError("A new product needs a name, days and a price")
    product = catalog.create_product(ctx.session, code=ctx.form("code"), actor=ctx.actor, **values)
    return ctx.done("/console/admin", f"{product.code} added")


@console_bp.post("/admin/products/<product_id:str>")
@console_page(Area.ADMINISTRATION)
def admin_change_product(ctx: Ctx, product_id: str) -> HTTPResponse:
    product = get_or_404(ctx.session, Product, product_id, "product")
    changed = catalog.update_product(ctx.session, product, ctx.actor, **_product_values(ctx))
    return ctx.done("/console/admin", f"{product.code}: {', '.join(changed) or 'nothing changed'}")


def _day(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError as exc:
        raise DomainError("Dates are written 2026-03-31") from exc


@console_bp.post("/admin/departures")
@console_page(Area.ADMINISTRATION)
def admin_add_departure(ctx: Ctx) -> HTTPResponse:
    product = get_or_404(ctx.session, Product, ctx.form("product_id"), "product")
    start = _day(ctx.form("start_date"))
    capacity = _admin_int(ctx, "capacity", "Capacity", 1, 500)
    if start is None or capacity is None:
        raise DomainError("A departure needs a start date and a capacity")
    departure = catalog.create_departure(
        ctx.session,
        product,
        start_date=start,
        capacity=capacity,
        meeting_point=ctx.form("meeting_point")[:120] or None,
        meeting_time=ctx.form("meeting_time") or None,
        actor=ctx.actor,
    )
    return ctx.done("/console/admin", f"{product.code} departure on {departure.start_date} added")


@console_bp.post("/admin/departures/<departure_id:str>")
@console_page(Area.ADMINISTRATION)
def admin_change_departure(ctx: Ctx, departure_id: str) -> HTTPResponse:
    departure = get_or_404(ctx.session, Departure, departure_id, "departure")
    changed = catalog.update_departure(
        ctx.session,
        departure,
        ctx.actor,
        capacity=_admin_int(ctx, "capacity", "Capacity", 1, 500),
        meeting_point=ctx.form("meeting_point")[:120] or None,
        meeting_time=ctx.form("meeting_time") or None,
        start_date=_day(ctx.form("start_date")),
    )
    return ctx.done(
        "/console/admin",
        f"Departure of {departure.start_date}: {', '.join(changed) or 'nothing changed'}",
    )


@console_bp.post("/admin/staff/<staff_id:str>/roles")
@console_page(Area.STAFF_ADMIN, fresh=True)
def admin_roles(ctx: Ctx, staff_id: str) -> HTTPResponse:
    worker = get_or_404(ctx.session, Staff, staff_id, "staff member")
    staff_service.set_roles(
        ctx.session, worker, [r for r in Role if ctx.form(f"role_{r}") == "1"], ctx.actor
    )
    return ctx.done("/console/admin", f"{worker.name}: {', '.join(sorted(worker.roles)).lower()}")


# -- my account (every role): sessions and API tokens -------------------------------------------
def _account(ctx: Ctx, new_token: str | None = None) -> HTTPResponse:
    return ctx.page(
        "account.html",
        sessions=staff_auth.sessions_of(ctx.session, ctx.member),
        current_id=ctx.record.id,
        tokens=staff_service.tokens_of(ctx.session, ctx.member),
        token_days=get_settings().api_token_days,
        idle_minutes=get_settings().session_idle_minutes,
        max_hours=f"{get_settings().session_max_hours:g}",
        max_token_days=staff_service.MAX_TOKEN_DAYS,
        new_token=new_token,
    )


@console_bp.get("/account")
@console_page(Area.ACCOUNT)
def account_page(ctx: Ctx) -> HTTPResponse:
    return _account(ctx)


@console_bp.post("/account/sessions/end")
@console_page(Area.ACCOUNT)
def account_end_sessions(ctx: Ctx) -> HTTPResponse:
    only = ctx.form("session_id")[:64] or None
    ended = staff_auth.end_other_sessions(ctx.session, ctx.record, only=only)
    return ctx.done("/console/account", f"Signed out of {ended} other session(s)")


@console_bp.post("/account/tokens")
@console_page(Area.ACCOUNT, fresh=True)
def account_new_token(ctx: Ctx) -> HTTPResponse:
    raw_days = ctx.form("days")
    days = _int(raw_days, "Days", 1, staff_service.MAX_TOKEN_DAYS) if raw_days else None
    token = staff_service.issue_token(
        ctx.session, ctx.member, ctx.actor, label=ctx.form("label")[:80], days=days
    )
    # Shown once, on this response only (never stored, never in a redirect URL).
    return _account(ctx, token)


@console_bp.post("/account/tokens/<token_id:int>/revoke")
@console_page(Area.ACCOUNT)
def account_revoke_token(ctx: Ctx, token_id: int) -> HTTPResponse:
    found = staff_service.revoke_token(ctx.session, ctx.member, token_id, ctx.actor)
    return ctx.done("/console/account", f"Token “{found.label}” revoked: it stops working now")


# -- the guide's page (every role: only their own) ----------------------------------------------
@console_bp.get("/me")
@console_page(Area.ACCOUNT)
def my_page(ctx: Ctx) -> HTTPResponse:
    own = list(
        ctx.session.scalars(
            select(Assignment)
            .where(Assignment.staff_id == ctx.member.id)
            .order_by(Assignment.offered_at.desc())
        )
    )
    today = clock.now().astimezone(get_settings().tz).date()
    pay = list(
        ctx.session.scalars(
            select(PayrollEntry)
            .where(PayrollEntry.staff_id == ctx.member.id)
            .order_by(PayrollEntry.created_at.desc())
        )
    )
    return ctx.page(
        "me.html",
        offered=[a for a in own if a.status == "OFFERED"],
        upcoming=[a for a in own if a.status == "ACCEPTED" and a.trip.departure.end_date >= today],
        past=[
            a
            for a in own
            if a.status in ("COMPLETED", "DECLINED", "EXPIRED", "CANCELLED")
            or (a.status == "ACCEPTED" and a.trip.departure.end_date < today)
        ],
        payroll=pay,
        trip_refs={
            t.id: t.reference
            for t in ctx.session.scalars(select(Trip).where(Trip.id.in_({p.trip_id for p in pay})))
        },
    )
