"""Payments (OPS; ADMIN sees all): the proofs waiting for verification, each a task with its
file, the stated amount and the flags, verified (amount, currency and value date as received)
or rejected with a reason; the day's movements by method with totals per method and currency;
cash received (a form whose one-time token makes a double submit record once); the ledger as
CSV for the accountant (the same writer as `GET /api/ledger.csv`)."""

from __future__ import annotations

from datetime import date, timedelta

from sanic import response
from sanic.response import HTTPResponse
from sqlalchemy import select

from backend import clock, texts
from backend.console import forms
from backend.console.web import Ctx, console_bp, console_page
from backend.domain.access import Area
from backend.domain.errors import DomainError
from backend.models import LedgerEntry, Staff
from backend.services import cash, ledger_export, rates

PAGE = "/console/payments"


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
    return ctx.done(PAGE, message)


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
