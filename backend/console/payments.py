"""Payments (OPS; ADMIN sees all): the proofs waiting for verification, each a task with its
file, the stated amount and the flags, verified (amount, currency and value date as received)
or rejected with a reason; the day's movements by method with totals per method and currency;
cash received (a form whose one-time token makes a double submit record once); the ledger as
CSV for the accountant (the same writer as `GET /api/ledger.csv`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sanic import response
from sanic.response import HTTPResponse
from sqlalchemy import select

from backend import clock, texts
from backend.console import forms
from backend.console.web import Ctx, console_bp, console_page
from backend.domain.access import Area
from backend.domain.errors import DomainError
from backend.models import Booking, LedgerEntry, PaymentProof, Staff
from backend.services import cash, ledger_export, payment_proofs, rates

PAGE = "/console/payments"
NO_RATE = "no exchange rate is set for the stated currency"


def _day(raw: str, label: str, default: date) -> date:
    if not raw:
        return default
    try:
        day = date.fromisoformat(raw)
    except ValueError as exc:
        raise DomainError(f"{label}: dates are written 2026-03-31") from exc
    if not 2000 <= day.year <= 2100:
        raise DomainError(f"{label}: choose a date between 2000 and 2100")
    return day


def recorders(ctx: Ctx, entries: list[LedgerEntry]) -> dict[str, str]:
    """An entry's `recorded_by` ("<source>:<staff id or phone>") → the staff member's name,
    when it names one."""
    whos = {e.recorded_by.partition(":")[2] for e in entries} - {""}
    if not whos:
        return {}
    found = ctx.session.execute(
        select(Staff.id, Staff.phone, Staff.name).where(Staff.id.in_(whos) | Staff.phone.in_(whos))
    ).all()
    names = {**{i: n for i, _, n in found}, **{p: n for _, p, n in found}}
    return {
        e.recorded_by: names[e.recorded_by.partition(":")[2]]
        for e in entries
        if e.recorded_by.partition(":")[2] in names
    }


@dataclass(frozen=True)
class Task:
    """A proof waiting for verification, as the page shows it."""

    proof: PaymentProof
    booking: Booking
    flags: list[str]  # what to look at twice, in words
    owed: list[int]  # the amounts that would be right now (the booking's currency)
    amount_text: str  # the form's amount: the stated one, else the first owed


def _flags(ctx: Ctx, proof: PaymentProof, booking: Booking) -> list[str]:
    """The proof's own flags, and those of the amount the customer stated (if they did)."""
    codes = list(proof.flags or [])
    if proof.stated_amount_minor is not None:
        try:
            codes += payment_proofs.flags_for(
                ctx.session,
                proof,
                amount_minor=proof.stated_amount_minor,
                currency=proof.stated_currency or booking.currency,
                value_date=None,
            )
        except rates.NoRate:
            return [*payment_proofs.flag_words(codes), NO_RATE]
    return payment_proofs.flag_words(list(dict.fromkeys(codes)))


def verification_tasks(ctx: Ctx) -> list[Task]:
    tasks = []
    for proof in payment_proofs.pending(ctx.session):
        booking = ctx.session.get(Booking, proof.booking_id)
        assert booking is not None
        owed = payment_proofs.owed_amounts(booking)
        amount = proof.stated_amount_minor if proof.stated_amount_minor is not None else None
        if amount is None and owed:
            amount = owed[0]
        text = ledger_export.decimal_text(amount) if amount is not None else ""
        tasks.append(Task(proof, booking, _flags(ctx, proof, booking), owed, text))
    return tasks


@console_bp.get("/payments")
@console_page(Area.PAYMENTS)
def payments_page(ctx: Ctx) -> HTTPResponse:
    today = clock.local_today()
    day = _day(ctx.arg("day"), "Day", today)
    moves = ledger_export.movements_on(ctx.session, day)
    return ctx.page(
        "payments.html",
        day=day,
        today=today,
        next_day=day + timedelta(days=1),
        previous_day=day - timedelta(days=1),
        proofs=verification_tasks(ctx),
        moves=moves,
        recorders=recorders(ctx, list(moves.entries)),
        cash_token=cash.new_form_token(),
        booking_ref=ctx.arg("booking")[:40],
    )


@console_bp.post("/payments/cash")
@console_page(Area.PAYMENTS)
def payments_cash(ctx: Ctx) -> HTTPResponse:
    """Cash received, from the page's form: the form's one-time token is the idempotency key,
    so a double submit (or the page sent again) records once."""
    reference = ctx.form("booking")[:40]
    token = ctx.form("token")[:64]
    if not token:
        raise DomainError(texts.CONSOLE_FORM_EXPIRED)
    amount = forms.amount_minor(ctx.form("amount"), "Amount")
    if amount is None:
        raise DomainError(texts.cash_bad_amount())
    booking = cash.find_booking_for(ctx.session, reference, ctx.member, in_the_field=False)
    try:
        receipt = cash.record_cash(
            ctx.session,
            reference,
            amount_minor=amount,
            currency=ctx.form("currency") or booking.currency,
            actor=ctx.actor,
            recorder=ctx.member,
            idempotency_key=f"console:{token}",
        )
    except rates.NoRate as exc:
        raise DomainError(str(exc)) from exc
    if receipt.duplicate:
        message = texts.cash_already_recorded(receipt.booking, receipt.receipt_number)
    elif receipt.receipt_number is None:
        message = texts.cash_flagged(receipt.booking)
    else:
        message = texts.cash_recorded(
            receipt.booking, receipt.receipt_number, receipt.amount_minor, receipt.currency
        )
    return ctx.done(PAGE, message.replace("\n", " · "))


@console_bp.get("/payments/ledger.csv")
@console_page(Area.PAYMENTS)
def payments_ledger_csv(ctx: Ctx) -> HTTPResponse:
    """The accountant's CSV for the days `from` up to, not including, `to` (the day shown by
    default), as `GET /api/ledger.csv` writes it, for a signed-in OPS or ADMIN."""
    today = clock.local_today()
    start = _day(ctx.arg("from"), "From", today)
    end = _day(ctx.arg("to"), "To", start + timedelta(days=1))
    if end < start:
        raise DomainError("To must not be before From")
    text = ledger_export.csv_text(
        ctx.session, ledger_export.day_start(start), ledger_export.day_start(end)
    )
    return response.text(
        text,
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="ledger-{start}-{end}.csv"'},
    )


def _proof(ctx: Ctx, proof_id: str) -> PaymentProof:
    return payment_proofs.get(ctx.session, proof_id[:64])


# What a proof's file may be shown as in the browser; anything else is downloaded.
INLINE_TYPES = ("image/jpeg", "image/png", "image/webp", "image/gif", "application/pdf")


@console_bp.get("/payments/proofs/<proof_id:str>/file")
@console_page(Area.PAYMENTS)
def proof_file(ctx: Ctx, proof_id: str) -> HTTPResponse:
    """The receipt as the customer sent it (the read is on the proof's timeline). Images and
    PDFs open in the browser; any other type is downloaded, never rendered as a page."""
    content, content_type = payment_proofs.read_file(ctx.session, _proof(ctx, proof_id), ctx.actor)
    inline = content_type in INLINE_TYPES
    headers = {
        "Content-Disposition": "inline" if inline else 'attachment; filename="proof"',
        # A PDF opens in the browser's viewer; nothing in the file may run or load anything.
        "Content-Security-Policy": "default-src 'none'; img-src 'self'; object-src 'self';"
        " style-src 'unsafe-inline'; frame-ancestors 'self'",
    }
    return response.raw(
        content,
        content_type=content_type if inline else "application/octet-stream",
        headers=headers,
    )


@console_bp.post("/payments/proofs/<proof_id:str>/verify")
@console_page(Area.PAYMENTS)
def proof_verify(ctx: Ctx, proof_id: str) -> HTTPResponse:
    """The money as received (amount, currency, value date): booked, the booking moved."""
    proof = _proof(ctx, proof_id)
    currency = ctx.form("currency").upper()[:3]
    amount = payment_proofs.to_minor(ctx.form("amount"), currency)
    value_date = _day(ctx.form("value_date"), "Value date", clock.local_today())
    received = payment_proofs.verify(
        ctx.session,
        proof.id,
        amount_minor=amount,
        currency=currency,
        value_date=value_date,
        actor=ctx.actor,
    )
    return ctx.done(
        PAGE,
        texts.console_proof_verified(
            received.booking.reference,
            amount,
            currency,
            received.confirmed_now,
            payment_proofs.flag_words(list(proof.flags or [])),
        ),
    )


@console_bp.post("/payments/proofs/<proof_id:str>/reject")
@console_page(Area.PAYMENTS)
def proof_reject(ctx: Ctx, proof_id: str) -> HTTPResponse:
    """Rejected with a reason the customer reads."""
    proof = _proof(ctx, proof_id)
    payment_proofs.reject(ctx.session, proof.id, reason=ctx.form("reason"), actor=ctx.actor)
    booking = ctx.session.get(Booking, proof.booking_id)
    assert booking is not None
    return ctx.done(PAGE, texts.console_proof_rejected(booking.reference))
