"""Travellers' papers in the console: a departure's readiness (SALES and OPS: complete and
verified out of all, what is missing by traveller, the flags in words; no personal detail),
a booking's papers (OPS, ADMIN: the values and the two photos, each view on the timeline;
"Verified" per complete traveller; lock and reopen), the departure's exports (the permit
worksheet as CSV and PDF for OPS and ADMIN, the checkpoint manifest also for the trip's lead
guide). Every rule is `backend.services.travellers`' or `traveller_papers_pdf`'s."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sanic import response
from sanic.response import HTTPResponse

from backend import texts
from backend.console.web import Ctx, console_bp, console_page, html
from backend.domain import travellers as rules
from backend.domain.access import Area, may_see
from backend.domain.countries import COUNTRIES
from backend.domain.errors import DomainError, NotFound
from backend.http_common import get_or_404
from backend.models import Booking, Departure, Traveller
from backend.services import bookings, traveller_papers_pdf, travellers

NOTHING_YET = rules.missing({}, {})


@dataclass(frozen=True)
class TravellerLine:
    """What SALES may see of a traveller too: no sealed value."""

    position: int
    name: str
    complete: bool
    verified: bool
    locked: bool
    purged: bool
    missing: list[str]  # in words
    flags: list[str]  # in words
    untouched: bool  # nothing filled in yet (then the page says so, not all 18 gaps)


def _line(traveller: Traveller) -> TravellerLine:
    return TravellerLine(
        position=traveller.position,
        name=traveller.full_name or f"Traveller {traveller.position} (no name yet)",
        complete=not traveller.missing and traveller.purged_at is None,
        verified=traveller.verified_at is not None,
        locked=traveller.locked_at is not None,
        purged=traveller.purged_at is not None,
        missing=rules.missing_words(list(traveller.missing or [])),
        flags=[rules.FLAG_WORDS.get(f, f) for f in traveller.flags or []],
        untouched=list(traveller.missing or []) == NOTHING_YET,
    )


@console_bp.get("/departures/<departure_id:str>/papers")
@console_page(Area.DEPARTURES)
def departure_papers(ctx: Ctx, departure_id: str) -> HTTPResponse:
    departure = get_or_404(ctx.session, Departure, departure_id, "departure")
    found = travellers.readiness(ctx.session, departure)
    return ctx.page(
        "papers.html",
        departure=departure,
        readiness=found,
        rows=[(p, [_line(t) for t in p.travellers]) for p in found.bookings],
        can_read=may_see(ctx.member.roles, Area.TRAVELLER_PAPERS),
        permits=departure.product.permits or [],
    )


# -- A booking's papers (OPS, ADMIN) -----------------------------------------------------------


def _booking(ctx: Ctx, reference: str) -> Booking:
    return bookings.find_booking(ctx.session, reference)


@console_bp.get("/bookings/<reference:str>/travellers")
@console_page(Area.TRAVELLER_PAPERS)
def booking_travellers(ctx: Ctx, reference: str) -> HTTPResponse:
    booking = _booking(ctx, reference)
    rows = travellers.read_for_staff(ctx.session, booking, ctx.member)
    return ctx.page(
        "travellers.html",
        booking=booking,
        people=[(_line(t), _shown(values), _photos(t)) for t, values in rows],
        locked=any(t.locked_at is not None for t, _ in rows),
    )


@console_bp.get("/bookings/<reference:str>/travellers/<position:int>/<kind:str>")
@console_page(Area.TRAVELLER_PAPERS)
def traveller_photo(ctx: Ctx, reference: str, position: int, kind: str) -> HTTPResponse:
    if kind not in rules.PHOTOS:
        raise NotFound(f"No such photo: {kind}")
    booking = _booking(ctx, reference)
    try:
        data, content_type = travellers.photo_for_staff(
            ctx.session, booking, position, kind, ctx.member
        )
    except travellers.PapersRefused as exc:
        raise NotFound(str(exc)) from exc
    return response.raw(
        data, content_type=content_type, headers={"Cache-Control": "no-store, private"}
    )


@console_bp.post("/bookings/<reference:str>/travellers/verify")
@console_page(Area.TRAVELLER_PAPERS)
def traveller_verify(ctx: Ctx, reference: str) -> HTTPResponse:
    booking = _booking(ctx, reference)
    position = ctx.form("position")
    if not position.isdigit():
        raise DomainError("Choose a traveller")
    traveller = travellers.verify(ctx.session, booking, int(position), ctx.member)
    return ctx.done(
        f"/console/bookings/{booking.reference}/travellers",
        f"{traveller.full_name}'s papers are verified",
    )


@console_bp.post("/bookings/<reference:str>/travellers/lock")
@console_page(Area.TRAVELLER_PAPERS)
def travellers_lock(ctx: Ctx, reference: str) -> HTTPResponse:
    booking = _booking(ctx, reference)
    locked = ctx.form("locked") == "1"
    travellers.set_locked(ctx.session, booking, ctx.member, locked=locked)
    return ctx.done(
        f"/console/bookings/{booking.reference}/travellers",
        "Papers locked: the customer can no longer change them"
        if locked
        else "Papers reopened: the customer can correct them again",
    )


# -- A departure's exports --------------------------------------------------------------------


@console_bp.get("/departures/<departure_id:str>/permits.csv")
@console_page(Area.TRAVELLER_PAPERS)
def permits_csv(ctx: Ctx, departure_id: str) -> HTTPResponse:
    departure = get_or_404(ctx.session, Departure, departure_id, "departure")
    text = travellers.permits_csv(ctx.session, departure, ctx.member)
    name = traveller_papers_pdf.filename(departure, "permits").removesuffix(".pdf") + ".csv"
    return _download(text.encode(), "text/csv; charset=utf-8", name)


@console_bp.get("/departures/<departure_id:str>/permits.pdf")
@console_page(Area.TRAVELLER_PAPERS)
def permits_pdf(ctx: Ctx, departure_id: str) -> HTTPResponse:
    departure = get_or_404(ctx.session, Departure, departure_id, "departure")
    data = traveller_papers_pdf.permits_pdf(ctx.session, departure, ctx.member)
    return _download(data, "application/pdf", traveller_papers_pdf.filename(departure, "permits"))


# Every role may ask: the service gives the manifest to OPS and ADMIN, and to a guide for the
# trip they lead only (a guide's "My trips" page may link here).
@console_bp.get("/departures/<departure_id:str>/manifest.pdf")
@console_page(Area.ACCOUNT)
def manifest_pdf(ctx: Ctx, departure_id: str) -> HTTPResponse:
    departure = get_or_404(ctx.session, Departure, departure_id, "departure")
    try:
        data = traveller_papers_pdf.manifest_pdf(ctx.session, departure, ctx.member)
    except travellers.NotAllowed:
        return html("forbidden.html", 403, me=ctx.member, message=texts.CONSOLE_FORBIDDEN)
    return _download(data, "application/pdf", traveller_papers_pdf.filename(departure, "manifest"))


def _download(data: bytes, content_type: str, name: str) -> HTTPResponse:
    return response.raw(
        data,
        content_type=content_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# -- How values read ---------------------------------------------------------------------------


def _shown(values: dict[str, Any]) -> list[tuple[str, str]]:
    out = []
    for spec in rules.FIELDS:
        value = values.get(spec.name)
        if value is None or value == "":
            text = ""
        elif isinstance(value, bool):
            text = "yes" if value else "no"
        elif isinstance(value, date):
            text = texts.long_date(value)
        elif spec.kind == "country":
            text = f"{value} · {COUNTRIES.get(str(value), '')}".removesuffix(" · ")
        elif spec.kind == "altitude":
            text = f"{value:,} m"
        else:
            text = str(value)
        out.append((spec.label, text))
    return out


def _photos(traveller: Traveller) -> list[tuple[str, str, bool]]:
    """(kind, words, present) for each photo."""
    return [
        (kind, words, getattr(traveller, f"{kind}_key") is not None)
        for kind, words in rules.PHOTOS.items()
    ]
