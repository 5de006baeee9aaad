"""The admin API's payment proofs: the receipts customers sent of a transfer or a card-link
payment, waiting for OPS (or ADMIN) to verify them as received, or reject them with a reason
(backend/services/payment_proofs.py does the work)."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, Field
from sanic import Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.api import serializers
from backend.api.common import ApiError, endpoint, staff_actor
from backend.api.routes import api
from backend.domain.enums import ProofStatus, Role
from backend.domain.errors import DomainError
from backend.models import Booking, PaymentProof, Staff
from backend.services import ledger, payment_proofs, rates


class VerifyBody(BaseModel):
    amount: str = Field(min_length=1, max_length=20, description='as received, e.g. "2052.00"')
    currency: str = Field(min_length=3, max_length=3)
    valueDate: date  # the API's field name


class RejectBody(BaseModel):
    reason: str = Field(min_length=1, max_length=300)


def proof_json(session: Session, proof: PaymentProof) -> dict[str, Any]:
    booking = session.get(Booking, proof.booking_id)
    assert booking is not None
    received = (
        serializers.money(proof.amount_minor, proof.currency)
        if proof.amount_minor is not None and proof.currency
        else None
    )
    stated = (
        serializers.money(proof.stated_amount_minor, proof.stated_currency or booking.currency)
        if proof.stated_amount_minor is not None
        else None
    )
    return {
        "id": proof.id,
        "booking": booking.reference,
        "customer": booking.contact.display_name,
        "method": proof.method,
        "direction": proof.direction,
        "status": proof.status,
        "source": proof.source,
        "filename": proof.filename,
        "contentType": proof.content_type,
        "fileReady": proof.storage_key is not None,
        "stated": stated,
        "received": received,
        "valueDate": proof.value_date.isoformat() if proof.value_date else None,
        "flags": list(proof.flags or []),
        "flagWords": payment_proofs.flag_words(proof.flags or []),
        "owed": [
            serializers.money(amount, booking.currency)
            for amount in payment_proofs.owed_amounts(booking)
        ],
        "rejectReason": proof.reject_reason,
        "decidedAt": proof.decided_at.isoformat() if proof.decided_at else None,
        "createdAt": proof.created_at.isoformat(),
    }


@api.get("/payment-proofs")
@endpoint(Role.OPS, query=("status",))
def list_proofs(request: Request, session: Session, member: Staff) -> Any:
    """Payment proofs by status (`pending`, the default: the verification tasks, oldest
    first; `verified`, `rejected`, or `all`, newest first, at most 200)."""
    wanted = (request.args.get("status") or "pending").strip().upper()
    if wanted == "PENDING":
        found = list(payment_proofs.pending(session))
    elif wanted in ("VERIFIED", "REJECTED", "ALL"):
        query = select(PaymentProof).order_by(PaymentProof.created_at.desc()).limit(200)
        if wanted != "ALL":
            query = query.where(PaymentProof.status == ProofStatus(wanted))
        found = list(session.scalars(query))
    else:
        raise ApiError(
            422,
            "status is pending, verified, rejected or all",
            fields={"status": "unknown status"},
        )
    return {"proofs": [proof_json(session, p) for p in found]}


@api.post("/payment-proofs/<proof_id:str>/verify")
@endpoint(Role.OPS, body=VerifyBody)
def verify_proof(
    request: Request, session: Session, member: Staff, proof_id: str, body: VerifyBody
) -> Any:
    """Verify a proof as received (amount, currency, value date): the money is booked and the
    booking moves as with any payment. Flags (wrong amount, other currency, old / future /
    pre-booking value date) are recorded and returned, not refused. 409 when already decided,
    or when a foreign currency has no rate for the value date (set one first)."""
    proof = payment_proofs.get(session, proof_id)
    currency = body.currency.upper()
    try:
        amount_minor = payment_proofs.to_minor(body.amount, currency)
    except DomainError as exc:
        raise ApiError(422, str(exc), fields={"amount": str(exc)}) from exc
    try:
        received = payment_proofs.verify(
            session,
            proof.id,
            amount_minor=amount_minor,
            currency=currency,
            value_date=body.valueDate,
            actor=staff_actor(member),
        )
    except rates.NoRate as exc:
        raise ApiError(409, str(exc), code="no_rate") from exc
    proof = payment_proofs.get(session, proof_id)
    booking = received.booking
    return {
        "proof": proof_json(session, proof),
        "booking": booking.reference,
        "bookingStatus": booking.status,
        "paid": serializers.money(booking.paid_minor, booking.currency),
        "balance": serializers.money(booking.balance_minor, booking.currency),
        "confirmedNow": received.confirmed_now,
        "flagged": received.flagged,
        "duplicate": received.duplicate,
        "entries": [
            serializers.ledger_entry(e)
            for e in ledger.entries_of(session, booking)
            if e.proof_id == proof.id
        ],
    }


@api.post("/payment-proofs/<proof_id:str>/reject")
@endpoint(Role.OPS, body=RejectBody)
def reject_proof(
    request: Request, session: Session, member: Staff, proof_id: str, body: RejectBody
) -> Any:
    """Reject a proof with a reason the customer receives (with what to do next). 409 when it
    was already decided."""
    proof = payment_proofs.reject(session, proof_id, reason=body.reason, actor=staff_actor(member))
    return {"proof": proof_json(session, proof)}
