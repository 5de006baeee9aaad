"""Receipts of a bank transfer or a card-link payment: filed on the booking, checked by
operations, then booked as money in (or rejected with a reason the customer reads).

A receipt arrives in the chat (a photo or a PDF from a customer whose booking awaits payment:
`file_from_chat`, its bytes fetched later by the media fetcher) or on the pay page
(`file_upload`, its bytes kept in the media folder at once). Either way it is a PENDING proof,
the customer is told it is being checked and OPS are alerted: a pending proof is a
verification task (`pending`). Staff enter the amount, currency and value date as received;
`flags_for` says what to look at twice (an amount that is not what is owed, another currency
than the booking's, a value date that is old, before the booking, or in the future, an amount
that is not what the customer said). Verifying with flags is allowed, and the flags are kept
on the proof and on its timeline event. `verify` books the money through `payments.receive`
(the booking moves exactly as with any payment) and, for a card link, the surcharge as a
separate SURCHARGE entry that does not count towards the price; `reject` tells the customer
the reason and what to do.

Once only: the same file (sha256) is one proof whichever booking or channel it came by (the
second is answered "already received"); a proof is decided once (a second verify or reject is
refused, also when two staff click together: the proof's row is locked after the booking's, in
the order every money path takes); the ledger takes `proof:<id>` once per method.

The hold while a receipt is checked: a HELD booking's hold is *kept*, not converted. Filing a
proof moves the hold's expiry to the departure's day, so it does not lapse while staff check
(the seats stay counted as held; the scheduler re-plans the expiry: `timers.touch`). Verifying
books the money, which converts the hold as any payment does (HELD → PAYMENT_PENDING →
CONFIRMED). Rejecting the last pending proof gives the hold `PAYMENT_PROOF_REJECTED_HOLD_HOURS`
from then, so the customer can pay another way before the seats go back. Converting the hold to
PAYMENT_PENDING on a receipt alone was the other choice; it was not taken because a rejected
receipt would leave a booking "payment pending" with no way back to a hold that can lapse.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend import clock, texts
from backend.config import get_settings
from backend.domain.actor import SYSTEM, Actor
from backend.domain.commands import reference_in
from backend.domain.enums import BookingStatus, ObjectType, ProofStatus
from backend.domain.errors import DomainError, NotFound
from backend.domain.money import minor_digits
from backend.domain.references import reference_key
from backend.domain.states import PAYMENT_PROOF
from backend.models import (
    Booking,
    Contact,
    Hold,
    InboundMessage,
    LedgerKind,
    LedgerMethod,
    MediaAttachment,
    PaymentProof,
)
from backend.services import (
    inventory,
    ledger,
    media_files,
    notifications,
    payment_methods,
    payments,
    rates,
    routing,
    timeline,
    timers,
)
from backend.services import staff as staff_service
from backend.services.media import FAILED, STORED
from backend.services.state import change_state, log_created

# What a receipt may be: sniffed from the bytes, never taken from the name or the browser.
PDF = "application/pdf"
ACCEPTED_TYPES = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "image/heic": ".heic",
    PDF: ".pdf",
}
# WhatsApp's own types for a photo or a document that can be a receipt.
CHAT_KINDS = ("image", "document")

FLAG_WORDS = {
    "amount": "the amount is not what is owed",
    "currency": "another currency than the booking's",
    "value_date_old": "the value date is old",
    "value_date_before_booking": "the value date is before the booking was made",
    "value_date_future": "the value date is in the future",
    "stated_amount": "not the amount the customer said they paid",
}


class ProofRefused(DomainError):
    """A file that cannot be a receipt (type, size, empty) or a booking with nothing owed."""


class AlreadyReceived(DomainError):
    """The same file was filed before: `proof` is the first one."""

    def __init__(self, message: str, proof: PaymentProof) -> None:
        super().__init__(message)
        self.proof = proof


class AlreadyDecided(DomainError):
    """The proof was verified or rejected already."""


@dataclass(frozen=True)
class Stated:
    amount_minor: int | None
    currency: str | None


# -- filing ---------------------------------------------------------------------------------------
def awaiting_payment(
    session: Session, contact: Contact, caption: str | None = None
) -> Booking | None:
    """The booking a customer's receipt is most likely for: the one the caption names (if
    theirs and owing), else their latest booking that owes money now."""
    owing = [
        b
        for b in session.scalars(
            select(Booking)
            .where(Booking.contact_id == contact.id, Booking.status.in_(payments.PAYABLE))
            .order_by(Booking.created_at.desc())
        )
        if payments.due_now(b)
    ]
    named = reference_in(caption)
    if named:
        key = reference_key(named)
        for booking in owing:
            if booking.ref_key == key:
                return booking
    return owing[0] if owing else None


def chat_receipt_booking(session: Session, row: InboundMessage, contact: Contact) -> Booking | None:
    """The booking a customer's photo or document is a receipt for, or None when it is not
    plausibly a receipt: staff's media, other kinds, another file type, no receipt methods
    switched on, nothing owed now; for a confirmed booking's balance, a photo whose caption
    does not speak of paying (a PDF, or "paid the balance", "USD 4788" is one)."""
    if row.message_type not in CHAT_KINDS or not payment_methods.proof_methods_enabled():
        return None
    content = (row.payload or {}).get(row.message_type) or {}
    if not isinstance(content, dict):
        return None
    mime = str(content.get("mime_type") or "").split(";")[0].strip().lower()
    if row.message_type == "document" and mime not in ACCEPTED_TYPES:
        return None
    if staff_service.by_phone(session, contact.phone) is not None:
        return None
    caption = content.get("caption") if isinstance(content.get("caption"), str) else None
    booking = awaiting_payment(session, contact, caption)
    if booking is None or booking.status != BookingStatus.CONFIRMED:
        return booking  # a hold or a deposit short: what they send now is most likely the receipt
    # A confirmed booking's balance: a PDF, or a photo whose caption speaks of paying (a trip
    # photo months before the balance is due is not a receipt).
    if row.message_type == "document" or _speaks_of_paying(caption):
        return booking
    return None


def file_from_chat(
    session: Session, media: MediaAttachment, booking: Booking, actor: Actor
) -> PaymentProof:
    """File a receipt sent in the chat as a PENDING proof on `booking` (its bytes are fetched
    by the media fetcher; the proof reads them once stored). The same message again (a retry)
    answers its proof. OPS are alerted; the caller answers the customer."""
    existing = session.scalar(select(PaymentProof).where(PaymentProof.media_id == media.id))
    if existing is not None:
        return existing
    stated = parse_stated(media.caption)
    proof = PaymentProof(
        booking_id=booking.id,
        method=str(_method_from_caption(media.caption)),
        direction="in",
        status=ProofStatus.PENDING,
        source="chat",
        media_id=media.id,
        filename=media.filename,
        content_type=media.mime_type,
        stated_amount_minor=stated.amount_minor,
        stated_currency=stated.currency,
        flags=[],
    )
    return _filed(session, proof, booking, actor)


def file_upload(
    session: Session,
    booking: Booking,
    *,
    data: bytes,
    filename: str,
    content_type: str,
    method: LedgerMethod,
    actor: Actor,
    stated_amount_minor: int | None = None,
    stated_currency: str | None = None,
    direction: str = "in",
    refund_id: str | None = None,
    source: str = "page",
) -> PaymentProof:
    """File an uploaded receipt (the pay page; the console or the API for staff, `direction`
    "out" for a refund's outgoing transfer). Refused (ProofRefused) when the file is empty, too
    big or not a photo or PDF, or when a customer's booking owes nothing now; the same file
    again raises AlreadyReceived. The customer of an "in" proof is told on WhatsApp too."""
    settings = get_settings()
    if not data:
        raise ProofRefused("The file is empty. Please choose the photo or PDF of your receipt.")
    if len(data) > settings.proof_max_bytes:
        raise ProofRefused(
            f"The file is too big ({_size(len(data))}); at most "
            f"{_size(settings.proof_max_bytes)}. A photo or a PDF of the receipt is enough."
        )
    sniffed = sniff_type(data)
    if sniffed is None:
        raise ProofRefused(
            "That file is not a photo (JPEG, PNG, WebP, HEIC) or a PDF. Please upload the "
            "receipt as one of those."
        )
    if direction not in ("in", "out"):
        raise ValueError(f"direction is in or out, not {direction!r}")
    if direction == "in":
        if method not in payment_methods.PROOF_METHODS:
            raise ProofRefused(
                f"A receipt confirms a transfer or a card-link payment, not {method}"
            )
        if not payments.due_now(booking):
            raise ProofRefused(
                f"Nothing is owed on booking {booking.reference} now, so there is no receipt to "
                "send. Reply on WhatsApp if something looks wrong."
            )
    digest = hashlib.sha256(data).hexdigest()
    _refuse_known(session, digest)
    proof = PaymentProof(
        booking_id=booking.id,
        method=str(method),
        direction=direction,
        status=ProofStatus.PENDING,
        source=source,
        sha256=digest,
        filename=_clean_name(filename),
        content_type=sniffed,
        stated_amount_minor=stated_amount_minor,
        stated_currency=stated_currency.upper() if stated_currency else None,
        refund_id=refund_id,
        flags=[],
    )
    try:
        with session.begin_nested():
            session.add(proof)
            session.flush()
    except IntegrityError:
        # The same file was filed concurrently and won.
        _refuse_known(session, digest)
        raise
    key = f"proofs/{clock.now():%Y/%m}/{proof.id}{ACCEPTED_TYPES[sniffed]}"
    media_files.put(key, data)
    proof.storage_key = key
    _filed(session, proof, booking, actor, new=False)
    if direction == "in":
        notifications.to_contact(
            session,
            booking.contact,
            lambda: texts.proof_received(booking),
            purpose="customer_update",
            object_type=ObjectType.BOOKING,
            object_id=booking.id,
        )
    return proof


def _filed(
    session: Session, proof: PaymentProof, booking: Booking, actor: Actor, *, new: bool = True
) -> PaymentProof:
    if new:
        session.add(proof)
    kept_until = _keep_hold(session, booking, actor) if proof.direction == "in" else None
    log_created(
        session,
        proof,
        ObjectType.PAYMENT_PROOF,
        actor,
        booking=booking.reference,
        method=proof.method,
        source=proof.source,
        direction=proof.direction,
        amount=proof.stated_amount_minor,
        currency=proof.stated_currency,
        holdKeptUntil=kept_until.isoformat() if kept_until else None,
    )
    if proof.direction == "in":
        routing.alert(
            session,
            "tms.payment_proof.created",
            texts.staff_proof_to_check(booking, proof),
            object_type=ObjectType.PAYMENT_PROOF,
            object_id=proof.id,
        )
    return proof


def _refuse_known(session: Session, digest: str) -> None:
    known = session.scalar(select(PaymentProof).where(PaymentProof.sha256 == digest))
    if known is not None:
        booking = session.get(Booking, known.booking_id)
        raise AlreadyReceived(
            texts.proof_already_received(booking) if booking else "Already received.",
            known,
        )


def sync_file(session: Session, proof: PaymentProof) -> None:
    """A chat proof learns its file once the media fetcher has stored it (key, type, sha256).
    A file already filed as another proof makes this one a duplicate: rejected as "already
    received", and the customer told so."""
    if proof.media_id is None or proof.sha256 is not None:
        return
    media = session.get(MediaAttachment, proof.media_id)
    if media is None or media.status != STORED or not media.sha256:
        return
    other = session.scalar(
        select(PaymentProof).where(PaymentProof.sha256 == media.sha256, PaymentProof.id != proof.id)
    )
    proof.storage_key = media.storage_key
    proof.content_type = media.mime_type
    if other is None:
        proof.sha256 = media.sha256
        return
    if proof.status == ProofStatus.PENDING:
        booking = _booking(session, proof)
        change_state(
            session,
            proof,
            PAYMENT_PROOF,
            ProofStatus.REJECTED,
            SYSTEM,
            reason="the same file as an earlier proof",
            duplicateOf=other.id,
        )
        proof.reject_reason = "already received (the same file as an earlier receipt)"
        proof.decided_at = clock.now()
        notifications.to_contact(
            session,
            booking.contact,
            lambda: texts.proof_already_received(booking),
            purpose="customer_update",
            object_type=ObjectType.BOOKING,
            object_id=booking.id,
        )
        _resume_hold(session, booking, SYSTEM)


# -- the verification task ----------------------------------------------------------------------
def pending(session: Session) -> Sequence[PaymentProof]:
    """Proofs waiting for a check, oldest first (a chat proof learns its file first)."""
    found = list(
        session.scalars(
            select(PaymentProof)
            .where(PaymentProof.status == ProofStatus.PENDING)
            .order_by(PaymentProof.created_at, PaymentProof.id)
        )
    )
    for proof in found:
        sync_file(session, proof)
    return [p for p in found if p.status == ProofStatus.PENDING]


def proofs_of(session: Session, booking: Booking) -> list[PaymentProof]:
    return list(
        session.scalars(
            select(PaymentProof)
            .where(PaymentProof.booking_id == booking.id)
            .order_by(PaymentProof.created_at, PaymentProof.id)
        )
    )


def has_pending(session: Session, booking: Booking) -> bool:
    return (
        session.scalar(
            select(PaymentProof.id).where(
                PaymentProof.booking_id == booking.id,
                PaymentProof.status == ProofStatus.PENDING,
                PaymentProof.direction == "in",
            )
        )
        is not None
    )


def get(session: Session, proof_id: str) -> PaymentProof:
    proof = session.get(PaymentProof, proof_id)
    if proof is None:
        raise NotFound(f"No payment proof {proof_id}")
    return proof


def owed_amounts(booking: Booking) -> list[int]:
    """What the booking owes now, each amount that would be right (booking currency)."""
    return [amount for _, amount in payments.due_now(booking)]


def flags_for(
    session: Session,
    proof: PaymentProof,
    *,
    amount_minor: int,
    currency: str,
    value_date: date | None,
) -> list[str]:
    """What a verifier should look at twice (codes; `FLAG_WORDS` says them). Raises
    `rates.NoRate` (saying to set a rate) for a foreign currency with no rate that day."""
    booking = _booking(session, proof)
    currency = currency.upper()
    flags: list[str] = []
    price_part = amount_minor
    if proof.method == LedgerMethod.BANK_CARD_LINK:
        price_part, _ = payment_methods.split_card_link(amount_minor)
    owed = owed_amounts(booking)
    if currency != booking.currency:
        flags.append("currency")
        if proof.direction == "in":
            day = value_date or clock.local_today()
            converted = _to_base(session, booking, price_part, currency, day).base_amount_minor
            if not any(abs(converted - o) * 100 <= o for o in owed):
                flags.append("amount")
    elif proof.direction == "in" and price_part not in owed:
        flags.append("amount")
    if value_date is not None:
        today = clock.local_today()
        booked_on = booking.created_at.astimezone(get_settings().tz).date()
        if value_date > today:
            flags.append("value_date_future")
        else:
            if (today - value_date).days > get_settings().proof_value_date_max_age_days:
                flags.append("value_date_old")
            if value_date < booked_on:
                flags.append("value_date_before_booking")
    if proof.stated_amount_minor is not None and (
        proof.stated_amount_minor != amount_minor
        or (proof.stated_currency or booking.currency) != currency
    ):
        flags.append("stated_amount")
    return flags


def flag_words(flags: Sequence[str]) -> list[str]:
    return [FLAG_WORDS.get(f, f) for f in flags]


def verify(
    session: Session,
    proof_id: str,
    *,
    amount_minor: int,
    currency: str,
    value_date: date,
    actor: Actor,
) -> payments.Received:
    """Book the money a proof shows, as received (amount, currency, value date), and move the
    booking as any payment does; the customer is told and staff alerted by
    `payments.notify_received`. Flags are recorded, not refused. Refused: an amount that is
    not positive, a proof already decided (AlreadyDecided), a duplicate file (AlreadyReceived),
    a foreign currency with no rate for the value date (rates.NoRate, saying to set one)."""
    if amount_minor <= 0:
        raise DomainError("The amount received must be more than zero")
    currency = currency.strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise DomainError(f"{currency!r} is not a currency code (three letters, like USD)")
    proof = _lock(session, proof_id)
    sync_file(session, proof)
    _refuse_decided(proof)
    booking = payments.lock_booking(session, proof.booking_id)
    flags = flags_for(
        session, proof, amount_minor=amount_minor, currency=currency, value_date=value_date
    )
    if proof.direction == "out":
        return _checked_outgoing(
            session, proof, booking, amount_minor, currency, value_date, flags, actor
        )
    method = LedgerMethod(proof.method)
    price_part, surcharge = amount_minor, 0
    if method == LedgerMethod.BANK_CARD_LINK:
        price_part, surcharge = payment_methods.split_card_link(amount_minor)
    # Converted before anything changes: no rate, nothing written.
    converted = _to_base(session, booking, price_part, currency, value_date)
    _mark_verified(session, proof, booking, amount_minor, currency, value_date, flags, actor)
    received = payments.receive(
        session,
        booking.id,
        payments.MoneyIn(
            method=method,
            amount_minor=price_part,
            currency=currency,
            received_on=value_date,
            provider_ref=f"proof:{proof.id}",
            proof_id=proof.id,
            note=_note(flags),
        ),
        actor,
    )
    if surcharge and received.entry is not None and not received.duplicate:
        payments.receive(
            session,
            booking.id,
            payments.MoneyIn(
                method=method,
                amount_minor=surcharge,
                currency=currency,
                received_on=value_date,
                provider_ref=f"proof:{proof.id}:surcharge",
                proof_id=proof.id,
                kind=LedgerKind.SURCHARGE,
                note="card-link surcharge",
            ),
            actor,
        )
    if not received.duplicate:
        payments.notify_received(
            session,
            received.booking,
            amount_minor=converted.base_amount_minor,
            confirmed_now=received.confirmed_now,
            flagged=received.flagged,
            actor=actor,
        )
    return received


def _checked_outgoing(
    session: Session,
    proof: PaymentProof,
    booking: Booking,
    amount_minor: int,
    currency: str,
    value_date: date,
    flags: list[str],
    actor: Actor,
) -> payments.Received:
    """Our own transfer for a refund (direction "out"): checked against its receipt and marked
    verified; the refund's ledger entry was booked by the refund (backend/services/refunds.py),
    so nothing is booked here. Answers that entry, if there is one."""
    _mark_verified(
        session, proof, booking, amount_minor, currency, value_date, flags, actor, direction="out"
    )
    entry = next(
        (
            e
            for e in ledger.entries_of(session, booking)
            if proof.refund_id is not None and e.refund_id == proof.refund_id
        ),
        None,
    )
    return payments.Received(booking, entry)


def reject(session: Session, proof_id: str, *, reason: str, actor: Actor) -> PaymentProof:
    """Reject a proof with a reason the customer reads (with what to do next); a held
    booking's hold runs again (`PAYMENT_PROOF_REJECTED_HOLD_HOURS`)."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise DomainError("Say why the proof is rejected: the customer reads it")
    if len(reason) > 300:
        raise DomainError("The reason is at most 300 characters")
    proof = _lock(session, proof_id)
    _refuse_decided(proof)
    booking = payments.lock_booking(session, proof.booking_id)
    proof.reject_reason = reason
    proof.decided_by = actor.staff_id
    proof.decided_at = clock.now()
    change_state(
        session,
        proof,
        PAYMENT_PROOF,
        ProofStatus.REJECTED,
        actor,
        booking=booking.reference,
        reason=reason,
    )
    if proof.direction == "in":
        hold_until = _resume_hold(session, booking, actor)
        notifications.to_contact(
            session,
            booking.contact,
            lambda: texts.proof_rejected(booking, reason, hold_until),
            purpose="customer_update",
            object_type=ObjectType.BOOKING,
            object_id=booking.id,
        )
    return proof


def read_file(session: Session, proof: PaymentProof, actor: Actor) -> tuple[bytes, str]:
    """The receipt's bytes and content type; the read is on the proof's timeline. Refused
    (DomainError) while a chat file is still being fetched, or when it could not be."""
    sync_file(session, proof)
    key = proof.storage_key
    if key is None and proof.media_id is not None:
        media = session.get(MediaAttachment, proof.media_id)
        if media is not None and media.status == FAILED:
            raise DomainError("The file could not be fetched from WhatsApp: ask the customer again")
        raise DomainError("The file is still being fetched from WhatsApp: try again in a minute")
    if key is None:
        raise DomainError("This proof has no file")
    content = media_files.get(key, missing="The receipt's file is missing from the media folder")
    timeline.record(
        session,
        object_type=ObjectType.PAYMENT_PROOF,
        object_id=proof.id,
        event_type="READ",
        action="tms.payment_proof.file_read",
        actor=actor,
        content={"booking": _booking(session, proof).reference},
    )
    return content, proof.content_type or "application/octet-stream"


# -- the hold while a receipt is checked ---------------------------------------------------------
def _keep_hold(session: Session, booking: Booking, actor: Actor) -> datetime | None:
    """A HELD booking's hold runs until the departure's day while its receipt is checked."""
    if booking.status != BookingStatus.HELD:
        return None
    hold = inventory.active_hold(session, booking)
    if hold is None or hold.expires_at <= clock.now():
        return None
    departure = booking.departure
    until = datetime.combine(departure.start_date, time(0), tzinfo=get_settings().tz)
    if until <= hold.expires_at:
        return None
    return _move_hold(session, booking, hold, until, "tms.booking.hold.kept_for_proof", actor)


def _resume_hold(session: Session, booking: Booking, actor: Actor) -> datetime | None:
    """After the last pending receipt of a HELD booking is rejected: the hold runs again."""
    if booking.status != BookingStatus.HELD or has_pending(session, booking):
        return None
    hold = inventory.active_hold(session, booking)
    if hold is None:
        return None
    until = min(
        hold.expires_at,
        clock.now() + timedelta(hours=get_settings().proof_rejected_hold_hours),
    )
    return _move_hold(session, booking, hold, until, "tms.booking.hold.resumed_after_proof", actor)


def _move_hold(
    session: Session, booking: Booking, hold: Hold, until: datetime, action: str, actor: Actor
) -> datetime:
    """The hold's new expiry, its timer re-planned and the move on the booking's timeline."""
    hold.expires_at = until
    timers.touch(session, ObjectType.BOOKING, booking.id)
    timeline.record(
        session,
        object_type=ObjectType.BOOKING,
        object_id=booking.id,
        event_type="HOLD",
        action=action,
        actor=actor,
        content={"booking": booking.reference, "until": until.isoformat()},
    )
    return until


# -- helpers -------------------------------------------------------------------------------------
def _booking(session: Session, proof: PaymentProof) -> Booking:
    booking = session.get(Booking, proof.booking_id)
    assert booking is not None
    return booking


def _mark_verified(
    session: Session,
    proof: PaymentProof,
    booking: Booking,
    amount_minor: int,
    currency: str,
    value_date: date,
    flags: list[str],
    actor: Actor,
    **content: str,
) -> None:
    """The proof checked: what was received, what to look at twice, who decided and when."""
    proof.amount_minor, proof.currency, proof.value_date = amount_minor, currency, value_date
    proof.flags = flags
    proof.decided_by = actor.staff_id
    proof.decided_at = clock.now()
    change_state(
        session,
        proof,
        PAYMENT_PROOF,
        ProofStatus.VERIFIED,
        actor,
        booking=booking.reference,
        amount=amount_minor,
        currency=currency,
        valueDate=value_date.isoformat(),
        flags="; ".join(flag_words(flags)) or None,
        **content,
    )


def _lock(session: Session, proof_id: str) -> PaymentProof:
    """The booking's locks (departure, then booking: the order of every money path), then the
    proof's row, read again under its lock."""
    booking_id = session.scalar(select(PaymentProof.booking_id).where(PaymentProof.id == proof_id))
    if booking_id is None:
        raise NotFound(f"No payment proof {proof_id}")
    payments.lock_booking(session, booking_id)
    proof = session.scalar(
        select(PaymentProof)
        .where(PaymentProof.id == proof_id)
        .with_for_update(of=PaymentProof)
        .execution_options(populate_existing=True)
    )
    assert proof is not None
    return proof


def _refuse_decided(proof: PaymentProof) -> None:
    if proof.status == ProofStatus.PENDING:
        return
    if proof.status == ProofStatus.REJECTED and (proof.reject_reason or "").startswith(
        "already received"
    ):
        raise AlreadyDecided(
            f"Proof {proof.id} is the same file as an earlier one: already received"
        )
    word = "verified" if proof.status == ProofStatus.VERIFIED else "rejected"
    raise AlreadyDecided(f"Proof {proof.id} was already {word}; nothing was changed")


def _to_base(
    session: Session, booking: Booking, amount_minor: int, currency: str, day: date
) -> rates.Converted:
    base = ledger.base_currency(booking)
    try:
        return rates.to_base(session, amount_minor, currency, base, day)
    except rates.NoRate as exc:
        raise rates.NoRate(
            f"No {currency} → {base} exchange rate is set for {day.isoformat()}: set a rate "
            f"for {currency} (valid from that day or before), then verify again"
        ) from exc


def _note(flags: Sequence[str]) -> str | None:
    return ("verified despite: " + "; ".join(flag_words(flags)))[:300] if flags else None


_CURRENCY_SIGNS = {"$": "USD", "€": "EUR", "£": "GBP", "₹": "INR", "RS": "NPR", "RS.": "NPR"}
_AMOUNT = re.compile(
    r"(?P<pre>[A-Za-z]{3}|[$€£₹]|Rs\.?)?\s*(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d+(?:\.\d{1,2})?)"
    r"\s*(?P<post>[A-Za-z]{3}\b)?"
)
_KNOWN_CODES = frozenset({"USD", "EUR", "GBP", "INR", "NPR", "AUD", "CAD", "CHF", "JPY", "CNY"})


def parse_stated(caption: str | None) -> Stated:
    """The amount a caption states, if it reads like one ("Paid USD 2,052", "2052 $",
    "€1.900,00" is not understood and gives nothing). A reference's digits are not an amount."""
    if not caption:
        return Stated(None, None)
    text = caption
    named = reference_in(caption)
    if named:
        text = re.sub(re.escape(named), " ", text, flags=re.IGNORECASE)
    for match in _AMOUNT.finditer(text):
        pre, post = (match.group("pre") or "").upper(), (match.group("post") or "").upper()
        code = _CURRENCY_SIGNS.get(pre) or (pre if pre in _KNOWN_CODES else None)
        code = code or (post if post in _KNOWN_CODES else None)
        if code is None:
            continue
        try:
            value = Decimal(match.group("num").replace(",", ""))
        except InvalidOperation:
            continue
        digits = minor_digits(code)
        return Stated(int(value.scaleb(digits)), code)
    return Stated(None, None)


def to_minor(text: str, currency: str) -> int:
    """A decimal amount as typed ("2052.00", "2,052", "2.052,50", "2052,5") in minor units;
    DomainError otherwise."""
    cleaned = _decimal_point(re.sub(r"[\s\u00a0\u202f']", "", text or ""))
    digits = minor_digits(currency)
    if not re.fullmatch(r"\d{1,12}(\.\d+)?", cleaned):
        raise DomainError(f"{text!r} is not an amount (like 2052.00)")
    value = Decimal(cleaned)
    if value != value.quantize(Decimal(1).scaleb(-digits)):
        raise DomainError(f"{text!r} has more than {digits} decimals for {currency}")
    return int(value.scaleb(digits))


def _decimal_point(text: str) -> str:
    """The amount with a decimal point and no grouping: of "," and ".", the last one written is
    the decimal mark when both are; a lone comma is one when 1 or 2 digits follow it (a
    European "2052,50"), else it groups thousands ("2,052")."""
    if "," in text and "." in text:
        mark = "," if text.rfind(",") > text.rfind(".") else "."
        grouping = "." if mark == "," else ","
        return text.replace(grouping, "").replace(mark, ".")
    if re.fullmatch(r"\d+,\d{1,2}", text):
        return text.replace(",", ".")
    return text.replace(",", "")


_PAYING_WORDS = re.compile(
    r"\b(paid|pay|payment|transfer(red)?|receipt|balance|deposit|bank|swift|card|remit\w*)\b",
    re.IGNORECASE,
)


def _speaks_of_paying(caption: str | None) -> bool:
    return bool(caption) and (
        _PAYING_WORDS.search(caption or "") is not None
        or parse_stated(caption).amount_minor is not None
    )


def _method_from_caption(caption: str | None) -> LedgerMethod:
    enabled = payment_methods.enabled()
    words = (caption or "").lower()
    if payment_methods.CARD_LINK in enabled and (
        payment_methods.TRANSFER not in enabled
        or any(w in words for w in ("card", "visa", "mastercard", "amex"))
    ):
        return LedgerMethod.BANK_CARD_LINK
    return LedgerMethod.BANK_TRANSFER


def sniff_type(data: bytes) -> str | None:
    """A receipt's type from its first bytes: JPEG, PNG, WebP, HEIC or PDF; None otherwise."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[4:8] == b"ftyp" and data[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"hevc"):
        return "image/heic"
    if data[:1024].lstrip().startswith(b"%PDF-"):
        return PDF
    return None


def _size(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB" if n >= 1024 * 1024 else f"{max(1, n // 1024)} KB"


def _clean_name(filename: str) -> str | None:
    name = os.path.basename((filename or "").replace("\\", "/")).replace("\x00", "").strip()
    return name[:240] or None
