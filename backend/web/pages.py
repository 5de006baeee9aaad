"""The customers' pages: pay, book (a waitlist offer), track, feedback.

Every page is opened by a signed link (`backend/links.py`): the token, not the booking
reference, grants access, and a wrong, expired or other-purpose token gets a friendly page
that says what to do. Pages work without JavaScript (forms post, the track page refreshes
itself); they never cache, never send the token on as a Referer, and cannot be framed.

A page is in its reader's language: the booking's contact's, or the one asked for with
`?lang=` for that page (and what it posts), never changing the contact's
(`backend/web/page_language.py`).

The pay routes exist when a card provider is configured (`PAYMENT_PROVIDER`) or a bank transfer
or card link is switched on (`PAYMENT_METHODS`): the pay page shows the methods that apply to
the booking and takes a receipt (`/pay-receipt/<token>`, a photo or PDF, multipart).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from sanic import Blueprint, Request, response
from sanic.response import HTTPResponse
from sqlalchemy.orm import Session

from backend import i18n, links, rendering, texts
from backend.config import get_settings
from backend.db import transaction
from backend.domain import references
from backend.domain.actor import Actor
from backend.domain.enums import BookingStatus, ObjectType, PaymentKind, Source
from backend.domain.errors import DomainError
from backend.http_common import access
from backend.models import LedgerMethod
from backend.payments import checkout
from backend.services import (
    credits,
    feedback,
    languages,
    leads,
    notifications,
    payment_proofs,
    waitlist,
)
from backend.services.payments import checkout_key
from backend.web import limits, page_data, page_language, words
from backend.web.page_data import Page
from backend.web.words import N_

logger = logging.getLogger(__name__)

pages_bp = Blueprint("customer_pages")
pay_bp = Blueprint("customer_pay_pages")

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "X-Robots-Tag": "noindex, nofollow",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; script-src 'self'; img-src 'self' data:;"
        " base-uri 'none'; frame-ancestors 'none'"
    ),
}


def html_page(page: Page) -> HTTPResponse:
    """The page rendered in the language it was built in (a refusal, which has no booking:
    `?lang=`, the browser's, English)."""
    code = page.language or page_language.for_reader(None)
    with i18n.speaking(code):
        body = rendering.render(f"web/{page.template}", **page.context)
    return response.html(body, page.status, headers={"Content-Language": code})


def _see_other(url: str) -> HTTPResponse:
    """After a post, back to a page of ours (in the language the page was asked for)."""
    return response.redirect(page_language.carried(url), status=303)


def _path_of(url: str) -> str:
    """A link's path (the page redirects within the site whatever PUBLIC_BASE_URL says)."""
    return urlsplit(url).path


def _customer(booking_contact_phone: str | None) -> Actor:
    return Actor(Source.WHATSAPP, phone=booking_contact_phone)


PageHandler = Callable[..., Awaitable[HTTPResponse]]

# Per client address (backend/web/limits.py): every customer page, and on top of it every
# call that reaches the payment provider (starting a checkout, looking one up on the way back).
page_rate = limits.rate_limited(lambda request: request.app.ctx.page_limiter)
checkout_rate = limits.rate_limited(
    lambda request: (
        request.app.ctx.checkout_limiter
        if request.method == "POST" or "checkout" in request.args
        else None
    )
)


def form_value(request: Request, name: str, max_length: int = 100) -> str:
    """A short form field (a choice, a number) as text; anything longer than `max_length` is
    not one of ours and reads as empty, which each page already answers."""
    value = request.form.get(name) if request.form else None
    value = str(value or "")
    return value if len(value) <= max_length else ""


def rating_of(raw: str) -> int | None:
    """A 1-5 rating as typed: ASCII digits only (`str.isdigit` accepts '²', which int()
    refuses), at most two of them; None for anything else (the service says what is wanted)."""
    raw = raw.strip()
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 2 else None


def signed(purpose: str) -> Callable[[PageHandler], PageHandler]:
    """The route's `token` must be a link of ours for `purpose`: the handler gets its claims;
    anything else gets the friendly refusal (404, or 410 when it expired) and changes nothing."""

    def wrap(handler: PageHandler) -> PageHandler:
        @functools.wraps(handler)
        async def run(request: Request, token: str) -> HTTPResponse:
            with page_language.asking(page_language.asked_by(request)):
                try:
                    claims = links.read(purpose, token)
                except links.LinkRefused as exc:
                    return html_page(page_data.refused(expired=exc.expired))
                return await handler(request, token, claims)

        return run

    return wrap


async def _in_transaction(work: Callable[[Session], Any]) -> Any:
    def run() -> Any:
        with transaction() as session:
            return work(session)

    return await asyncio.to_thread(run)


@pages_bp.on_response
@pay_bp.on_response
async def security_headers(request: Request, resp: HTTPResponse) -> None:
    for name, value in SECURITY_HEADERS.items():
        resp.headers.setdefault(name, value)


@pages_bp.get("/static/countdown.js")
@access("public: the book page's countdown script, no data in it")
async def countdown_js(request: Request):
    return response.text(
        rendering.render("web/countdown.js"),
        content_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "public, max-age=3600"},
    )


# -- pay -------------------------------------------------------------------------------------------
@pay_bp.get("/pay/<token:str>")
@access("the customer: a signed pay link (links.read('pay')); PAYMENT_PROVIDER set")
@page_rate
@checkout_rate
@signed("pay")
async def pay_page(request: Request, token: str, claims: links.LinkClaims):
    returned_kind = None
    checkout_id = request.args.get("checkout")
    provider = checkout.provider()
    if checkout_id and provider is not None:
        # Back from the provider's checkout: paid? (its webhook may not be here yet)
        state = await asyncio.to_thread(provider.returned, checkout_id[:200])
        if (
            state is not None
            and state.paid
            and state.reference
            and references.reference_key(state.reference) == claims.reference_key
        ):
            returned_kind = state.kind or ""
    page = await _in_transaction(
        lambda s: page_data.pay(
            s,
            claims,
            just_paid=request.args.get("paid") == "1",
            returned_kind=returned_kind,
            receipt=request.args.get("receipt"),
            credit_used=request.args.get("credit") == "used",
        )
    )
    return html_page(_with_receipt_form(page, token))


def _with_receipt_form(page: Page, token: str) -> Page:
    """The pay page's other forms post to their own routes with the same signed token."""
    page.context["receipt_action"] = page_language.carried(f"/pay-receipt/{token}")
    page.context["credit_action"] = page_language.carried(f"/pay-credit/{token}")
    return page


@pay_bp.post("/pay/<token:str>")
@access("the customer: a signed pay link; pays what is owed now, never twice")
@page_rate
@checkout_rate
@signed("pay")
async def pay(request: Request, token: str, claims: links.LinkClaims):
    kind = form_value(request, "kind")
    provider = checkout.provider()
    if provider is None:
        # Transfers and card links only (no card provider): nothing to start here.
        page = await _in_transaction(lambda s: page_data.pay(s, claims))
        page.context["stale"] = True
        page.status = 409
        return html_page(_with_receipt_form(page, token))

    def prepare(session: Session) -> checkout.Order | Page:
        found = page_data.payable(session, claims, kind)
        if found is None:
            # A stale page: paid meanwhile, or nothing is owed. Say what is true now.
            page = page_data.pay(session, claims)
            page.context["stale"] = True
            page.status = 409
            return page
        booking, amount = found
        payment_kind = PaymentKind(kind.upper())
        return checkout.Order(
            reference=booking.reference,
            kind=str(payment_kind),
            amount_minor=amount,
            currency=booking.currency,
            description=page_data.order_description(booking, payment_kind),
            key=checkout_key(booking, payment_kind),
            return_url=f"{get_settings().public_base_url.rstrip('/')}/pay/{token}",
            email=booking.contact.email,
        )

    prepared = await _in_transaction(prepare)
    if isinstance(prepared, Page):
        return html_page(_with_receipt_form(prepared, token))
    try:
        started = await asyncio.to_thread(provider.start, prepared)
    except Exception:
        logger.exception("checkout for %s (%s) did not start", prepared.reference, prepared.kind)
        page = await _in_transaction(lambda s: page_data.pay(s, claims))
        page.context["provider_down"] = True
        page.status = 502
        return html_page(_with_receipt_form(page, token))
    if started.paid_now:
        return _see_other(f"/pay/{token}?paid=1")
    return response.redirect(started.redirect_url, status=303)


@pay_bp.post("/pay-receipt/<token:str>")
@access("the customer: a signed pay link; a transfer or card-link receipt (photo or PDF)")
@page_rate
@signed("pay")
async def pay_receipt(request: Request, token: str, claims: links.LinkClaims):
    """The receipt of a transfer or a card-link payment, uploaded on the pay page: filed as a
    proof for staff to check (backend/services/payment_proofs.py). A refusal (no file, not a
    photo or PDF, too big, nothing owed) is said on the page, and nothing is filed."""
    upload = request.files.get("receipt") if request.files else None
    chosen = form_value(request, "method", 20)
    stated_text = form_value(request, "amount", 20).strip()

    def act(session: Session) -> Page | str:
        booking = page_data.booking_by_key(session, claims.reference_key)
        if booking is None:
            return page_data.refused(expired=False)
        methods = page_data.receipt_methods(session, booking)
        if not methods:
            return page_data.pay(
                session, claims, receipt_error=N_("Receipts are not taken for this booking now.")
            )
        if upload is None or not upload.body:
            return page_data.pay(
                session, claims, receipt_error=N_("Choose the photo or PDF of your receipt first.")
            )
        method = LedgerMethod(chosen if chosen in methods else methods[0])
        stated = None
        if stated_text:
            try:
                stated = payment_proofs.to_minor(stated_text, booking.currency)
            except DomainError:
                return page_data.pay(
                    session, claims, receipt_error=words.NOT_AN_AMOUNT % {"amount": stated_text}
                )
        try:
            payment_proofs.file_upload(
                session,
                booking,
                data=upload.body,
                filename=upload.name or "",
                content_type=upload.type or "",
                method=method,
                actor=_customer(booking.contact.phone),
                stated_amount_minor=stated,
                stated_currency=booking.currency if stated is not None else None,
            )
        except payment_proofs.AlreadyReceived:
            return "already"
        except payment_proofs.ProofRefused as exc:
            return page_data.pay(session, claims, receipt_error=str(exc))
        return "sent"

    done = await _in_transaction(act)
    if isinstance(done, Page):
        return html_page(_with_receipt_form(done, token))
    return _see_other(f"/pay/{token}?receipt={done}")


@pay_bp.post("/pay-credit/<token:str>")
@access("the customer: a signed pay link; pays what is owed from their own credit, once")
@page_rate
@signed("pay")
async def pay_with_credit(request: Request, token: str, claims: links.LinkClaims):
    """The customer's credit (from a cancelled booking) pays what it can of this booking. The
    form's key names the page's state, so a double click spends once; a stale page (paid
    meanwhile, no credit left) says where the booking stands now."""
    key = form_value(request, "key", 100)

    def act(session: Session) -> Page | None:
        booking = page_data.booking_by_key(session, claims.reference_key)
        if booking is None:
            return page_data.refused(expired=False)
        if key != credits.spend_key(booking) or credits.usable_on(session, booking) <= 0:
            page = page_data.pay(session, claims)
            page.context["stale"] = True
            page.status = 409
            return page
        credits.pay_from_credit(session, booking, actor=_customer(booking.contact.phone), key=key)
        return None

    done = await _in_transaction(act)
    if isinstance(done, Page):
        return html_page(_with_receipt_form(done, token))
    return _see_other(f"/pay/{token}?credit=used")


# -- book ------------------------------------------------------------------------------------------
@pages_bp.get("/book/<token:str>")
@access("the customer: a signed book link (links.read('book'))")
@page_rate
@signed("book")
async def book_page(request: Request, token: str, claims: links.LinkClaims):
    return html_page(await _in_transaction(lambda s: page_data.book(s, claims)))


@pages_bp.post("/book/<token:str>")
@access("the customer: a signed book link; Confirm or Decline, as CONFIRM / DECLINE in the chat")
@page_rate
@signed("book")
async def book_answer(request: Request, token: str, claims: links.LinkClaims):
    answer = form_value(request, "answer")
    if answer not in ("confirm", "decline"):
        return _see_other(f"/book/{token}")

    def act(session: Session) -> str | None:
        booking = page_data.booking_by_key(session, claims.reference_key)
        if booking is None or booking.status != BookingStatus.OFFERED:
            return None  # the page says what happened instead (held, expired, declined)
        actor = _customer(booking.contact.phone)
        try:
            if answer == "confirm":
                # The same rule as a CONFIRM in the chat: held, and the chat bound to it.
                placed = leads.accept_waitlist_offer(session, booking, actor)
            else:
                waitlist.decline_offer(session, booking, actor)
        except DomainError:
            return None
        # The chat tells the same story as the page, in the contact's language (whichever
        # language the page was read in).
        with languages.writing_to(booking.contact):
            if answer == "confirm":
                body = texts.waitlist_offer_accepted(booking, placed.expires_at)
            else:
                body = texts.waitlist_offer_declined(booking)
        notifications.to_contact(
            session,
            booking.contact,
            body,
            purpose="customer_update",
            object_type=ObjectType.BOOKING,
            object_id=booking.id,
        )
        return answer

    done = await _in_transaction(act)
    if done == "confirm" and checkout.provider() is not None:
        return _see_other(_path_of(links.pay_url(claims.reference_key)))
    return _see_other(f"/book/{token}")


# -- track -----------------------------------------------------------------------------------------
@pages_bp.get("/track/<token:str>")
@access("the customer: a signed track link (links.read('track')); their own booking only")
@page_rate
@signed("track")
async def track_page(request: Request, token: str, claims: links.LinkClaims):
    return html_page(await _in_transaction(lambda s: page_data.track(s, claims)))


# -- feedback --------------------------------------------------------------------------------------
@pages_bp.get("/feedback/<token:str>")
@access("the customer: a signed feedback link (links.read('feedback'))")
@page_rate
@signed("feedback")
async def feedback_page(request: Request, token: str, claims: links.LinkClaims):
    thanks = request.args.get("thanks") == "1"
    return html_page(
        await _in_transaction(lambda s: page_data.feedback_page(s, claims, thanks=thanks))
    )


@pages_bp.post("/feedback/<token:str>")
@access("the customer: a signed feedback link; a 1-5 rating and a comment")
@page_rate
@signed("feedback")
async def feedback_submit(request: Request, token: str, claims: links.LinkClaims):
    rating = rating_of(form_value(request, "rating"))
    comment = str((request.form.get("comment") if request.form else None) or "")
    if len(comment) > feedback.MAX_COMMENT:
        # Said, not cut short silently: the guest keeps their text and shortens it.
        page = await _in_transaction(
            lambda s: page_data.feedback_page(s, claims, comment_too_long=len(comment))
        )
        return html_page(page)

    def give(session: Session) -> Page | None:
        booking = page_data.booking_by_key(session, claims.reference_key)
        if booking is None:
            return page_data.refused(expired=False)
        try:
            feedback.give(
                session,
                booking,
                rating=rating,
                comment=comment,
                actor=_customer(booking.contact.phone),
                channel="page",
            )
        except DomainError as exc:
            return page_data.feedback_page(session, claims, error=str(exc))
        return None

    page = await _in_transaction(give)
    if page is not None:
        return html_page(page)
    return _see_other(f"/feedback/{token}?thanks=1")
