"""Cash on arrival over the admin API (OPS): `POST /api/payments/cash`, recorded once per
`Idempotency-Key` (per staff member), through the same service as the console's form and the
guide's PAID command (`backend.services.cash`)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field
from sanic import Request, response
from sqlalchemy.orm import Session

from backend.api import serializers
from backend.api.common import ApiError, endpoint, staff_actor
from backend.api.routes import api
from backend.domain.enums import Role
from backend.domain.money import minor_units
from backend.models import Staff
from backend.services import cash

# The header's longest value kept (scoped by the staff member's id in the ledger's reference).
IDEMPOTENCY_KEY_MAX = 64


class CashBody(BaseModel):
    booking: str = Field(min_length=3, max_length=40, description="the booking's reference")
    amount: Decimal = Field(
        ge=Decimal("0.01"), le=10_000_000, decimal_places=2, description='"4788.00"'
    )
    currency: str | None = Field(
        default=None,
        min_length=3,
        max_length=3,
        description="as received; the booking's currency when left out",
    )


@api.post("/payments/cash")
@endpoint(Role.OPS, body=CashBody)
def record_cash(request: Request, session: Session, member: Staff, body: CashBody) -> Any:
    """Record cash received for a booking's balance: the customer gets a receipt number in the
    chat. Send an `Idempotency-Key` header: the same key again records nothing more and answers
    with the first receipt (200, `duplicate`); a new payment answers 201. More than is owed is
    refused (409, `more_than_owed`, with `owed`); another currency needs the day's rate."""
    header = (request.headers.get("idempotency-key") or "").strip()
    if len(header) > IDEMPOTENCY_KEY_MAX:
        raise ApiError(
            422,
            f"Idempotency-Key is at most {IDEMPOTENCY_KEY_MAX} characters",
            fields={"Idempotency-Key": "too long"},
        )
    key = f"api:{member.id}:{header or uuid.uuid4()}"
    found = cash.find_booking_for(session, body.booking, member, in_the_field=False)
    try:
        receipt = cash.record_cash(
            session,
            body.booking,
            amount_minor=minor_units(body.amount, body.currency or found.currency),
            currency=(body.currency or found.currency).upper(),
            actor=staff_actor(member),
            recorder=member,
            idempotency_key=key,
        )
    except cash.OverOwed as exc:
        raise ApiError(
            409, str(exc), code=exc.code, owed=serializers.money(exc.owed_minor, exc.currency)
        ) from exc
    booking = receipt.booking
    entry = receipt.received.entry
    answer = {
        "booking": booking.reference,
        "receiptNumber": receipt.receipt_number,
        "duplicate": receipt.duplicate,
        "flagged": receipt.received.flagged,
        "amount": serializers.money(receipt.amount_minor, receipt.currency),
        "entry": serializers.ledger_entry(entry) if entry is not None else None,
        "paid": serializers.money(booking.paid_minor, booking.currency),
        "balance": serializers.money(booking.balance_minor, booking.currency),
    }
    return response.json(answer, status=200 if receipt.duplicate else 201)
