"""The customer's travellers' papers page: `/papers/<token>`, opened by the signed link sent
after the deposit (`backend/services/papers_invite.py`, `links.papers_url`).

One page per booking, a section per traveller (traveller 1 is the booker), each with its own
form, so a customer saves as they go, traveller by traveller, with no JavaScript: the right
values are kept, the wrong ones shown again with what to correct. Photos (the passport's photo
page, a portrait) go up one at a time to `/papers-photo/<token>/<n>/<kind>`, its own route so
that only it takes a photo-sized body (`backend/web/limits.py`, deploy/Caddyfile). Every rule is
`backend.services.travellers`' (checked by `backend.domain.travellers`); this module only reads
forms and shows pages.

The page is in its reader's language (`backend/web/page_language.py`); the domain's labels and
what it says to correct are translated here (`backend/web/words.py`).

The values never appear in a URL (forms post; redirects carry only "saved") nor in a log: a
failure is logged by its kind and where it happened, never its message (a database error
would quote the row). Pages never cache, never send the token on as a Referer.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import traceback
import unicodedata
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from babel import Locale
from sanic import Blueprint, Request, response
from sanic.response import HTTPResponse
from sqlalchemy.orm import Session

from backend import i18n, links, texts
from backend.config import get_settings
from backend.db import transaction
from backend.domain import languages
from backend.domain import travellers as rules
from backend.domain.actor import Actor
from backend.domain.countries import COUNTRIES
from backend.domain.enums import BookingStatus, Source
from backend.domain.errors import DomainError
from backend.http_common import access
from backend.models import Booking, Traveller
from backend.services import travellers
from backend.texts.format import number
from backend.web import page_data, page_language, words
from backend.web.page_data import Page
from backend.web.pages import SECURITY_HEADERS, html_page, page_rate
from backend.web.words import N_, _

logger = logging.getLogger(__name__)

papers_bp = Blueprint("customer_papers_pages")

# The booking's states whose papers a customer fills in; the others' page says why not.
OPEN = (BookingStatus.HELD, BookingStatus.PAYMENT_PENDING, BookingStatus.CONFIRMED)
SEXES = (("M", N_("M (male)")), ("F", N_("F (female)")), ("X", N_("X (unspecified)")))
# Countries by name, for the nationality select.
NATIONALITIES = sorted(COUNTRIES.items(), key=lambda item: item[1])
LOCKED_WORDS = N_(
    "Checked by our operations team for the permits. Reply on WhatsApp to change something."
)
NOT_CHANGEABLE = N_("Nothing was saved: the details of this booking cannot be changed here now.")
NO_SUCH_TRAVELLER = N_("There is no such traveller.")
NO_SUCH_PHOTO = N_("There is no such photo.")
CHOOSE_A_PHOTO = N_("Choose a photo first (JPEG, PNG or WebP).")


@papers_bp.on_response
async def security_headers(request: Request, resp: HTTPResponse) -> None:
    for name, value in SECURITY_HEADERS.items():
        resp.headers.setdefault(name, value)


def _see_other(url: str) -> HTTPResponse:
    return response.redirect(page_language.carried(url), status=303)


Handler = Callable[..., Awaitable[HTTPResponse]]


def signed_papers(handler: Handler) -> Handler:
    """The route's `token` must be a papers link of ours; anything else gets the friendly
    refusal (404, or 410 when it expired) and changes nothing."""

    @functools.wraps(handler)
    async def run(request: Request, token: str, **kwargs: Any) -> HTTPResponse:
        with page_language.asking(page_language.asked_by(request)):
            try:
                claims = links.read("papers", token)
            except links.LinkRefused as exc:
                return html_page(page_data.refused(expired=exc.expired))
            return await handler(request, token, claims, **kwargs)

    return run


async def _in_transaction(work: Callable[[Session], Page | str]) -> Page | str:
    """Run `work` in a transaction; a failure is logged without its message (it may quote what
    the customer typed) and answered with a page that says nothing was lost but this form."""

    def run() -> Page | str:
        with transaction() as session:
            return work(session)

    try:
        return await asyncio.to_thread(run)
    except Exception as exc:
        where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
        logger.error(
            "papers page: %s at %s:%s (message withheld: it may hold a traveller's details)",
            type(exc).__name__,
            where.filename if where else "?",
            where.lineno if where else "?",
        )
        return Page("papers_failed.html", {}, status=500)


def _customer(booking: Booking) -> Actor:
    return Actor(Source.WHATSAPP, phone=booking.contact.phone)


# -- what the page shows ----------------------------------------------------------------------
@functools.cache
def _nationalities(code: str) -> list[tuple[str, str]]:
    """The nationality select's countries by name in the reader's language (Babel's names;
    the domain's English ones for English and for a country Babel does not name)."""
    if code == languages.ENGLISH:
        return NATIONALITIES
    names = Locale.parse(code).territories
    named = [(country, names.get(country) or english) for country, english in COUNTRIES.items()]
    return sorted(named, key=lambda item: _folded(item[1]))


def _folded(name: str) -> str:
    """A name as a reader sorts it (Österreich with the O's, Égypte with the E's)."""
    plain = unicodedata.normalize("NFKD", name)
    return "".join(ch for ch in plain if not unicodedata.combining(ch)).casefold()


def _country(code: str) -> str:
    return dict(_nationalities(i18n.current())).get(code, COUNTRIES.get(code, code))


def _shown(spec: rules.Field, value: Any) -> str:
    """A stored value as a form field holds it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _read(spec: rules.Field, value: Any) -> str:
    """A stored value as a person reads it (the locked page)."""
    if value is None or value == "":
        return "—"
    if spec.kind == "country":
        return _country(str(value))
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, date):
        return texts.long_date(value)
    if spec.kind == "altitude":
        return f"{number(value)} m"
    return str(value)


def _state(booking: Booking, rows: list[Traveller]) -> str:
    if any(t.purged_at is not None for t in rows):
        return "purged"
    if booking.status in (BookingStatus.CANCELLED, BookingStatus.EXPIRED):
        return "cancelled"
    if booking.status == BookingStatus.COMPLETED:
        return "over"
    if booking.status not in OPEN:
        return "not_booked"
    if any(t.locked_at is not None for t in rows):
        return "locked"
    return "open"


@page_data.in_reader_language
def build(
    session: Session,
    claims: links.LinkClaims,
    token: str,
    *,
    saved: int | None = None,
    photo_saved: tuple[int, str] | None = None,
    posted: tuple[int, dict[str, str], dict[str, str]] | None = None,
    photo_error: tuple[int, str, str] | None = None,
    notice: str | None = None,
    status: int = 200,
) -> Page:
    """The page. `posted`: (traveller, what they typed by field name, errors by field name),
    shown instead of the stored values for the fields in error; `photo_error`: (traveller,
    photo, why it was refused). `notice` and the errors are the English of the domain or of
    this module, translated here."""
    booking = page_data.booking_by_key(session, claims.reference_key)
    if booking is None:
        return page_data.refused(expired=False)
    opened = travellers.read_for_customer(session, booking)
    rows = [t for t, _ in opened]
    state = _state(booking, rows)
    departure = booking.departure
    sections = []
    for traveller, values in opened:
        n = traveller.position
        typed, errors = (posted[1], posted[2]) if posted and posted[0] == n else ({}, {})
        fields = [
            {
                "name": spec.api,
                "id": f"t{n}-{spec.api}",
                "label": _(spec.label),
                "hint": "" if spec.kind == "sex" or not spec.hint else _(spec.hint),
                "kind": spec.kind,
                "required": spec.required,
                "limit": spec.limit,
                "value": typed[spec.name]
                if spec.name in errors
                else _shown(spec, values.get(spec.name)),
                "read": _read(spec, values.get(spec.name)),
                "error": words.sentence(errors[spec.name]) if spec.name in errors else None,
            }
            for spec in rules.FIELDS
        ]
        photos = [
            {
                "kind": kind,
                "label": _(words.PHOTO_LABELS.get(kind, said[0].upper() + said[1:])),
                "send": _(words.PHOTO_BUTTONS.get(kind, "Send " + said)),
                "filed": getattr(traveller, f"{kind}_key") is not None,
                "action": page_language.carried(f"/papers-photo/{token}/{n}/{kind}"),
                "just_saved": photo_saved == (n, kind),
                "error": words.sentence(photo_error[2])
                if photo_error and photo_error[:2] == (n, kind)
                else None,
            }
            for kind, said in rules.PHOTOS.items()
        ]
        sections.append(
            {
                "position": n,
                "name": traveller.full_name,
                "booker": n == 1,
                "fields": fields,
                "photos": photos,
                "missing": words.missing_words(list(traveller.missing or [])),
                "missing_fields": sum(m not in rules.PHOTOS for m in traveller.missing or []),
                "missing_photos": sum(m in rules.PHOTOS for m in traveller.missing or []),
                "flags": [words.flag_sentence(f) for f in traveller.flags or []],
                "action": page_language.carried(f"/papers/{token}/{n}"),
                "saved": saved == n,
                "errors": len(errors),
                "verified": traveller.verified_at is not None,
            }
        )
    context = {
        "reference": booking.reference,
        "trek": texts.trek_label(departure.product),
        "dates": texts.date_range(departure.start_date, departure.end_date),
        "passport_until": texts.long_date(rules.passport_valid_until(travellers.trip_of(booking))),
        "highest_m": departure.product.max_altitude_m,
        "state": state,
        "travellers": sections,
        "complete": sum(1 for t in rows if not t.missing),
        "nationalities": _nationalities(i18n.current()),
        "sexes": [(code, _(label)) for code, label in SEXES],
        "photo_max": f"{get_settings().traveller_photo_max_bytes // (1024 * 1024)} MB",
        "locked_words": _(LOCKED_WORDS),
        "notice": words.sentence(notice) if notice else None,
    }
    return Page("papers.html", context, status=status)


def _closed_answer(
    session: Session, claims: links.LinkClaims, token: str, booking: Booking
) -> Page | None:
    """A POST to papers that cannot change: the page as it is, 409."""
    rows = travellers.ensure(session, booking)
    state = _state(booking, rows)
    if state == "open":
        return None
    notice = LOCKED_WORDS if state == "locked" else NOT_CHANGEABLE
    return build(session, claims, token, notice=notice, status=409)


# -- routes -----------------------------------------------------------------------------------
@papers_bp.get("/papers/<token:str>")
@access("the customer: a signed papers link (links.read('papers')); their own booking only")
@page_rate
@signed_papers
async def papers_page(request: Request, token: str, claims: links.LinkClaims):
    saved = request.args.get("saved", "")
    photo = request.args.get("photo", "")
    n, _, kind = photo.partition("-")
    page = await _in_transaction(
        lambda s: build(
            s,
            claims,
            token,
            saved=int(saved) if saved.isascii() and saved.isdigit() and len(saved) < 3 else None,
            photo_saved=(int(n), kind)
            if n.isascii() and n.isdigit() and len(n) < 3 and kind in rules.PHOTOS
            else None,
        )
    )
    assert isinstance(page, Page)
    return html_page(page)


@papers_bp.post("/papers/<token:str>/<n:int>")
@access("the customer: a signed papers link; saves one traveller's details (not when locked)")
@page_rate
@signed_papers
async def papers_save(request: Request, token: str, claims: links.LinkClaims, n: int):
    form = request.form
    # Every field of the section: an emptied one clears (absent radios read as empty).
    typed = {spec.name: str((form.get(spec.api) if form else None) or "") for spec in rules.FIELDS}

    def act(session: Session) -> Page | str:
        booking = page_data.booking_by_key(session, claims.reference_key)
        if booking is None:
            return page_data.refused(expired=False)
        if not 1 <= n <= booking.party_size:
            return build(session, claims, token, notice=NO_SUCH_TRAVELLER, status=404)
        closed = _closed_answer(session, claims, token, booking)
        if closed is not None:
            return closed
        try:
            saved = travellers.save(session, booking, n, typed, _customer(booking), source="page")
        except travellers.PapersLocked:
            return build(session, claims, token, notice=LOCKED_WORDS, status=409)
        if saved.errors:
            return build(session, claims, token, posted=(n, typed, saved.errors))
        return "saved"

    done = await _in_transaction(act)
    if isinstance(done, Page):
        return html_page(done)
    return _see_other(f"/papers/{token}?saved={n}#traveller-{n}")


@papers_bp.post("/papers-photo/<token:str>/<n:int>/<kind:str>")
@access("the customer: a signed papers link; a passport or portrait photo (not when locked)")
@page_rate
@signed_papers
async def papers_photo(request: Request, token: str, claims: links.LinkClaims, n: int, kind: str):
    upload = request.files.get("photo") if request.files else None

    def act(session: Session) -> Page | str:
        booking = page_data.booking_by_key(session, claims.reference_key)
        if booking is None:
            return page_data.refused(expired=False)
        if kind not in rules.PHOTOS or not 1 <= n <= booking.party_size:
            return build(session, claims, token, notice=NO_SUCH_PHOTO, status=404)
        closed = _closed_answer(session, claims, token, booking)
        if closed is not None:
            return closed
        if upload is None or not upload.body:
            return build(session, claims, token, photo_error=(n, kind, CHOOSE_A_PHOTO), status=400)
        try:
            travellers.file_photo(
                session,
                booking,
                kind,
                upload.body,
                _customer(booking),
                position=n,
                source="page",
            )
        except travellers.PapersLocked:
            return build(session, claims, token, notice=LOCKED_WORDS, status=409)
        except DomainError as exc:  # PapersRefused: not a photo, too big
            return build(session, claims, token, photo_error=(n, kind, str(exc)), status=400)
        return "filed"

    done = await _in_transaction(act)
    if isinstance(done, Page):
        return html_page(done)
    return _see_other(f"/papers/{token}?photo={n}-{kind}#traveller-{n}")
