"""Refunds and credits over the admin API (OPS; ADMIN implied):
`GET /api/bookings/<ref>/refunds` and `POST /api/bookings/<ref>/refunds`, through the same
service as the console's booking page and the customer's buttons (`backend.services.refunds`).
"""

from __future__ import annotations

import base64
import binascii
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field
from sanic import Request
from sqlalchemy.orm import Session

from backend.api import serializers
from backend.api.common import ApiError, endpoint, staff_actor
from backend.api.routes import api
from backend.domain.enums import Role
from backend.domain.errors import NotFound
from backend.domain.money import minor_units
from backend.models import Booking, Refund, Staff
from backend.payments.refunds import card_refunds
from backend.services import bookings, cancellation_policy, credits, refunds


class RefundBody(BaseModel):
    choice: Literal["refund", "credit"] | None = Field(
        default=None, description="the customer's choice when staff make it for them"
    )
    amount: Decimal | None = Field(
        default=None,
        ge=Decimal("0.01"),
        le=10_000_000,
        description='less than the policy allows, in the refund\'s currency ("150.00")',
    )
    approve: bool = Field(default=False, description="pay it out (or issue the credit) now")
    decline: bool = Field(default=False, description="nothing goes back; give `reason`")
    reason: str | None = Field(default=None, max_length=300)
    transfer_reference: str | None = Field(
        default=None,
        max_length=120,
        description="the outgoing bank transfer's reference (what is not refunded to a card)",
    )
    proof_base64: str | None = Field(
        default=None, max_length=14_000_000, description="the outgoing transfer's receipt"
    )
    proof_filename: str | None = Field(default=None, max_length=200)


def refund_json(item: Refund) -> dict[str, Any]:
    return {
        "id": item.id,
        "status": item.status,
        "refundable": serializers.money(item.refundable_minor, item.currency),
        "policy": item.policy_note,
        "choice": item.choice,
        "method": item.method,
        "providerRefundId": item.provider_refund_id,
        "decidedBy": item.decided_by,
        "decidedAt": item.decided_at.isoformat() if item.decided_at else None,
        "declineReason": item.decline_reason,
        "createdAt": item.created_at.isoformat(),
    }


def _booking(session: Session, key: str) -> Booking:
    booking = session.get(Booking, key)
    return booking if booking is not None else bookings.find_booking(session, key)


def _overview(session: Session, booking: Booking) -> dict[str, Any]:
    today = cancellation_policy.refundable(session, booking)
    return {
        "booking": booking.reference,
        "status": booking.status,
        "paid": serializers.money(booking.paid_minor, booking.currency),
        "refundableToday": serializers.money(today.amount_minor, today.currency),
        "credit": serializers.money(credits.available(session, booking.contact), booking.currency),
        "refunds": [refund_json(r) for r in refunds.of_booking(session, booking)],
    }


@api.get("/bookings/<booking_id:str>/refunds")
@endpoint(Role.OPS)
def list_refunds(request: Request, session: Session, member: Staff, booking_id: str) -> Any:
    """A booking's refunds (by id or reference), what it has paid, what the policy would give
    back today and the customer's unspent credit."""
    return _overview(session, _booking(session, booking_id))


@api.post("/bookings/<booking_id:str>/refunds")
@endpoint(Role.OPS, body=RefundBody)
def decide_refund(
    request: Request, session: Session, member: Staff, booking_id: str, body: RefundBody
) -> Any:
    """Act on the cancelled booking's open refund: `{"decline": true, "reason": ...}`, or
    `{"choice": "refund"|"credit"}` to record the customer's choice, with `"approve": true` to
    pay it out now (optionally `amount`, at most what the policy allows; a card payment is
    refunded through Stripe, the rest needs `transfer_reference` and/or `proof_base64`).
    Already decided, more than allowed or than was paid: 409 (`refund_refused`)."""
    booking = _booking(session, booking_id)
    refund = refunds.current(session, booking)
    if refund is None or refund.status not in refunds.OPEN:
        if refund is None:
            raise NotFound(f"Booking {booking.reference} has no refund open")
        raise refunds.RefundRefused(f"This refund is already {str(refund.status).lower()}")
    actor = staff_actor(member)
    if body.decline:
        if not (body.reason or "").strip():
            raise ApiError(
                422, "give the reason the customer will read", fields={"reason": "required"}
            )
        refunds.decline(session, refund.id, reason=body.reason or "", actor=actor, staff=member)
    elif body.approve:
        amount = None
        if body.amount is not None:
            amount = minor_units(body.amount, refund.currency)
        proof = _proof(body)
        transfer = (
            refunds.OutgoingTransfer(
                reference=body.transfer_reference,
                data=proof,
                filename=body.proof_filename,
                source="api",
            )
            if body.transfer_reference or proof
            else None
        )
        refunds.approve(
            session,
            refund.id,
            actor=actor,
            staff=member,
            choice=body.choice,
            amount_minor=amount,
            cards=card_refunds(),
            transfer=transfer,
        )
    elif body.choice is not None:
        refunds.choose(session, refund, body.choice, actor, tell_customer=True)
    else:
        raise ApiError(
            422, "say what to do: choice, approve or decline", fields={"body": "nothing to do"}
        )
    return _overview(session, booking)


def _proof(body: RefundBody) -> bytes | None:
    if not body.proof_base64:
        return None
    try:
        return base64.b64decode(body.proof_base64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ApiError(
            422, "proof_base64 is not base64", fields={"proof_base64": "base64"}
        ) from exc
