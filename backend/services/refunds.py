"""What a cancellation gives back: a Refund, from the cancellation policy, that the customer
turns into money back or a credit for a later trip, and staff approve (or decline).

    cancelled with money paid ──► AWAITING_CHOICE ──(Refund / Credit)──► AWAITING_APPROVAL
                                        │  staff may decide for them            │
                                        └──────────────► PAID_OUT | CREDITED | DECLINED

- `open_after_cancellation` (called by `bookings.cancel_booking` under the booking's lock)
  computes what comes back with `cancellation_policy.refundable` and opens the Refund when
  something does (an operator's cancellation would give everything back: `full=True`).
- `choose` records the customer's choice (a button, a typed word) and alerts OPS.
- `approve` moves the money under the booking's row lock, so whatever runs at the same time
  nothing goes back beyond what the booking has paid (its ledger's sum, read under the lock):
  a card payment through the provider's refund API (`CardRefunds`, Stripe's `POST /v1/refunds`
  with an idempotency key per refund and charge), the rest by an outgoing bank transfer staff
  make and file (its proof, else its reference), a credit as a `CREDIT_ISSUED` entry. Each is
  a negative ledger entry carrying the refund's id.
- `decline` closes it with a reason. The customer is told in the chat at each step.

The provider call runs inside the transaction that holds the booking's lock: if the
transaction then fails, staff approve again and the same idempotency key replays the same
provider refund, which is then recorded once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import clock, texts
from backend.domain import choices
from backend.domain.actor import Actor
from backend.domain.enums import ObjectType, RefundStatus
from backend.domain.errors import DomainError
from backend.domain.states import REFUND
from backend.models import Booking, LedgerEntry, LedgerKind, LedgerMethod, Refund, Staff
from backend.services import (
    cancellation_policy,
    credits,
    languages,
    ledger,
    notifications,
    payment_proofs,
    payments,
    routing,
    timeline,
)
from backend.services.state import change_state, lock_row, log_created

REFUND_CHOICE = "refund"
CREDIT_CHOICE = "credit"
CHOICES = (REFUND_CHOICE, CREDIT_CHOICE)
OPEN = (RefundStatus.AWAITING_CHOICE, RefundStatus.AWAITING_APPROVAL)
# Card methods refunded through the provider: Stripe by its API, the local demo provider on the
# spot (it stands for a gateway and has no refund API).
CARD_METHODS = (LedgerMethod.STRIPE, LedgerMethod.LOCAL)
CARD_REFUND_NOTE = "card refund of "


class RefundRefused(DomainError):
    """The refund cannot be decided so: already decided, more than allowed or than was paid,
    no choice given, a transfer without its proof or reference."""

    code = "refund_refused"


class CardRefundFailed(DomainError):
    """The card provider refused the refund (its message says why)."""

    code = "card_refund_failed"


class CardRefunds(Protocol):
    """The card provider's refund API (backend/payments/refunds.py for Stripe)."""

    def refund(
        self, *, checkout_id: str, amount_minor: int, currency: str, idempotency_key: str
    ) -> str:
        """Refund `amount_minor` of the payment made through `checkout_id`; the provider's
        refund id. Raises CardRefundFailed."""
        ...


@dataclass(frozen=True)
class OutgoingTransfer:
    """The bank transfer staff made for a refund: its receipt (filed as a proof, direction
    "out") and/or the bank's reference."""

    reference: str | None = None
    data: bytes | None = None
    filename: str | None = None
    content_type: str | None = None
    source: str = "console"  # console | api


# -- opening -----------------------------------------------------------------------------------


def open_after_cancellation(
    session: Session, booking: Booking, actor: Actor, *, full: bool = False
) -> Refund | None:
    """After the booking was cancelled (its lock held): the Refund the policy gives, or None
    when nothing was paid or nothing comes back (then only the timeline says so). `full`: the
    operator cancelled, everything paid comes back whatever the policy says."""
    paid = booking.paid_minor
    if paid <= 0 or current(session, booking) is not None:
        return None
    policy = cancellation_policy.refundable(session, booking)
    amount = paid if full else policy.amount_minor
    note = (
        texts.refund_policy_note_operator()
        if full
        else texts.refund_policy_note(policy.days_before, policy.line, booking.currency)
    )
    if amount <= 0:
        timeline.record(
            session,
            object_type=ObjectType.BOOKING,
            object_id=booking.id,
            event_type="NOTHING_REFUNDABLE",
            action="tms.booking.refund.none",
            actor=actor,
            content={"paid": paid, "currency": booking.currency, "policy": note},
        )
        return None
    refund = Refund(
        booking_id=booking.id,
        status=RefundStatus.AWAITING_CHOICE,
        refundable_minor=amount,
        currency=ledger.base_currency(booking),
        policy_note=note[:300],
    )
    session.add(refund)
    log_created(
        session,
        refund,
        ObjectType.REFUND,
        actor,
        booking=booking.reference,
        amount=amount,
        paid=paid,
        currency=refund.currency,
        policy=note,
    )
    return refund


def current(session: Session, booking: Booking) -> Refund | None:
    """The booking's refund that is open or done (a declined one does not count)."""
    return session.scalar(
        select(Refund)
        .where(Refund.booking_id == booking.id, Refund.status != RefundStatus.DECLINED)
        .order_by(Refund.created_at.desc())
        .limit(1)
    )


def of_booking(session: Session, booking: Booking) -> Sequence[Refund]:
    return session.scalars(
        select(Refund).where(Refund.booking_id == booking.id).order_by(Refund.created_at)
    ).all()


def open_of_contact(session: Session, contact_id: str) -> Refund | None:
    """The customer's refund still waiting for their choice (the newest), for a typed answer."""
    return session.scalar(
        select(Refund)
        .join(Booking, Booking.id == Refund.booking_id)
        .where(Booking.contact_id == contact_id, Refund.status == RefundStatus.AWAITING_CHOICE)
        .order_by(Refund.created_at.desc())
        .limit(1)
    )


def offer_choice(session: Session, refund: Refund) -> None:
    """Ask the customer on WhatsApp: a refund or a credit for a later trip (two buttons)."""
    booking = _booking(session, refund)
    notifications.to_contact(
        session,
        booking.contact,
        lambda: texts.refund_choice_question(booking, refund.refundable_minor, refund.policy_note),
        purpose="customer_update",
        object_type=ObjectType.REFUND,
        object_id=refund.id,
        buttons=lambda: choice_buttons(refund.id),
    )


def nothing_back(session: Session, booking: Booking) -> str | None:
    """For a cancelled booking that paid but gets nothing back under the policy: what the
    customer is told (None when a refund is open or nothing was paid)."""
    if booking.paid_minor <= 0 or current(session, booking) is not None:
        return None
    policy = cancellation_policy.refundable(session, booking)
    with languages.writing_to(booking.contact):
        return texts.refund_nothing_back(
            booking, texts.refund_policy_note(policy.days_before, policy.line, booking.currency)
        )


def choice_answers(refund_id: str) -> list[tuple[str, str]]:
    """The two buttons as (title, what they answer): each names the refund and the choice
    (`refund:<id>:credit`), so an old message's button still means what it said. A tap
    sends `/affirm{"answer_to": ...}` (actions/questions.py reads it)."""
    return [
        (texts.REFUND_BUTTON, choices.answer_to(choices.REFUND, refund_id, REFUND_CHOICE)),
        (texts.CREDIT_BUTTON, choices.answer_to(choices.REFUND, refund_id, CREDIT_CHOICE)),
    ]


def choice_buttons(refund_id: str) -> list[dict[str, str]]:
    """The two buttons as the backend queues them."""
    return [
        choices.reply_button(title, "affirm", answers)
        for title, answers in choice_answers(refund_id)
    ]


# Typed answers to the choice: the button's words and a few ways of saying them.
_CHOICE_WORDS = {
    REFUND_CHOICE: ("refund", "money back", "refund please", "refund me", "the refund"),
    CREDIT_CHOICE: ("credit", "credit for a later trip", "credit please", "the credit", "voucher"),
}


def choice_in(words: str) -> str | None:
    """ "refund" / "credit" (and a few ways of saying them) as a whole typed answer, else
    None: a longer message that mentions a refund is a question, not a choice."""
    said = " ".join(words.lower().replace("!", " ").replace(".", " ").split())
    for choice, phrases in _CHOICE_WORDS.items():
        if said in phrases:
            return choice
    return None


# -- the customer's choice ------------------------------------------------------------------


def choose(
    session: Session, refund: Refund, choice: str, actor: Actor, *, tell_customer: bool = False
) -> bool:
    """The customer chose a refund or a credit: AWAITING_APPROVAL, OPS alerted. While it waits
    for approval they may change their mind. False (nothing done) when the refund is already
    decided or the same choice was made before. In the chat the action answers the customer;
    staff choosing with them (console, API) pass `tell_customer`."""
    if choice not in CHOICES:
        raise RefundRefused(f"choose {' or '.join(CHOICES)}")
    booking = payments.lock_booking(session, refund.booking_id)
    lock_row(session, refund)
    if refund.status not in OPEN or (
        refund.status == RefundStatus.AWAITING_APPROVAL and refund.choice == choice
    ):
        return False
    refund.choice = choice
    first_choice = refund.status == RefundStatus.AWAITING_CHOICE
    if first_choice:
        change_state(session, refund, REFUND, RefundStatus.AWAITING_APPROVAL, actor, choice=choice)
    else:
        timeline.record(
            session,
            object_type=ObjectType.REFUND,
            object_id=refund.id,
            event_type="CHOICE_CHANGED",
            action="tms.refund.choice_changed",
            actor=actor,
            content={"choice": choice, "booking": booking.reference},
        )
    if tell_customer:
        notifications.to_contact(
            session,
            booking.contact,
            lambda: texts.refund_choice_received(booking, choice, refund.refundable_minor),
            purpose="customer_update",
            object_type=ObjectType.REFUND,
            object_id=refund.id,
        )
    routing.alert(
        session,
        "tms.refund.status.awaiting_approval" if first_choice else "tms.refund.choice_changed",
        texts.staff_refund_chosen(booking, choice, refund.refundable_minor, refund.currency),
        object_type=ObjectType.BOOKING,
        object_id=booking.id,
    )
    return True


# -- staff decide ---------------------------------------------------------------------------


def approve(
    session: Session,
    refund_id: str,
    *,
    actor: Actor,
    staff: Staff | None = None,
    choice: str | None = None,
    amount_minor: int | None = None,
    cards: CardRefunds | None = None,
    transfer: OutgoingTransfer | None = None,
) -> Refund:
    """Pay the refund out (or issue the credit): `choice` overrides the customer's (staff
    decided with them), `amount_minor` gives back less than the policy allows. Under the
    booking's lock: never more than allowed nor than the booking has paid. A refund goes back
    to the cards it was paid with first (`cards`: the provider's refund API), the rest by the
    outgoing `transfer`."""
    refund = _get(session, refund_id)
    booking = payments.lock_booking(session, refund.booking_id)
    lock_row(session, refund)
    if refund.status not in OPEN:
        raise RefundRefused(f"This refund is already {str(refund.status).lower()}")
    choice = choice or refund.choice
    if choice not in CHOICES:
        raise RefundRefused("The customer has not chosen yet: choose a refund or a credit")
    amount = refund.refundable_minor if amount_minor is None else amount_minor
    if amount <= 0:
        raise RefundRefused("Give a positive amount")
    if amount > refund.refundable_minor:
        raise RefundRefused(
            f"At most {texts.money(refund.refundable_minor, refund.currency)} comes back "
            "under the policy"
        )
    if amount > booking.paid_minor:
        raise RefundRefused(
            f"The booking has {texts.money(booking.paid_minor, refund.currency)} paid: "
            "nothing more can go back"
        )
    if choice == CREDIT_CHOICE:
        _issue_credit(session, booking, refund, amount, actor)
        _decided(refund, choice, staff)
        change_state(
            session,
            refund,
            REFUND,
            RefundStatus.CREDITED,
            actor,
            amount=amount,
            currency=refund.currency,
        )
        left = credits.available(session, booking.contact)
        body = partial(texts.credit_issued, booking, amount, left, refund.currency)
    else:
        method = _pay_out(session, booking, refund, amount, actor, cards, transfer)
        refund.method = str(method)
        _decided(refund, choice, staff)
        change_state(
            session,
            refund,
            REFUND,
            RefundStatus.PAID_OUT,
            actor,
            amount=amount,
            currency=refund.currency,
            method=str(method),
        )
        body = partial(texts.refund_paid_out, booking, amount, refund.currency, method)
    notifications.to_contact(
        session,
        booking.contact,
        body,
        purpose="customer_update",
        object_type=ObjectType.REFUND,
        object_id=refund.id,
    )
    return refund


def _decided(refund: Refund, choice: str, staff: Staff | None) -> None:
    """Who decided, once the money moved (a refusal on the way leaves the refund as it was)."""
    refund.choice = choice
    refund.decided_by = staff.id if staff is not None else None
    refund.decided_at = clock.now()


def decline(
    session: Session, refund_id: str, *, reason: str, actor: Actor, staff: Staff | None = None
) -> Refund:
    """Nothing goes back, for `reason` (the customer is told it)."""
    reason = reason.strip()
    if not reason:
        raise RefundRefused("Give the reason the customer will read")
    refund = _get(session, refund_id)
    booking = payments.lock_booking(session, refund.booking_id)
    lock_row(session, refund)
    if refund.status not in OPEN:
        raise RefundRefused(f"This refund is already {str(refund.status).lower()}")
    refund.decline_reason = reason[:300]
    refund.decided_by = staff.id if staff is not None else None
    refund.decided_at = clock.now()
    change_state(session, refund, REFUND, RefundStatus.DECLINED, actor, reason=reason)
    notifications.to_contact(
        session,
        booking.contact,
        lambda: texts.refund_declined(booking, reason),
        purpose="customer_update",
        object_type=ObjectType.REFUND,
        object_id=refund.id,
    )
    return refund


def card_refundable(session: Session, booking: Booking) -> list[tuple[LedgerEntry, int]]:
    """The booking's card payments in the base currency with what is left on each to refund
    (newest first): the payment less the card refunds already made from it."""
    entries = ledger.entries_of(session, booking)
    refunded: dict[str, int] = {}
    for entry in entries:
        if entry.kind == LedgerKind.REFUND and (entry.note or "").startswith(CARD_REFUND_NOTE):
            charge = (entry.note or "")[len(CARD_REFUND_NOTE) :]
            refunded[charge] = refunded.get(charge, 0) - entry.amount_minor
    found = []
    for entry in reversed(entries):
        if (
            entry.kind == LedgerKind.PAYMENT
            and entry.method in CARD_METHODS
            and entry.provider_ref
            and entry.currency == entry.base_currency
        ):
            left = entry.amount_minor - refunded.get(entry.provider_ref, 0)
            if left > 0:
                found.append((entry, left))
    return found


def _pay_out(
    session: Session,
    booking: Booking,
    refund: Refund,
    amount: int,
    actor: Actor,
    cards: CardRefunds | None,
    transfer: OutgoingTransfer | None,
) -> LedgerMethod:
    """Book the refund's money out where it came from: cards first, then what was paid from
    credit (back to the credit: it is not cashed out), then the transfer. The main method."""
    plan: list[tuple[LedgerEntry, int]] = []
    rest = amount
    for entry, left in card_refundable(session, booking):
        if rest <= 0:
            break
        part = min(left, rest)
        plan.append((entry, part))
        rest -= part
    back_to_credit = min(rest, credit_paid(session, booking))
    rest -= back_to_credit
    if rest > 0 and (transfer is None or not (transfer.reference or transfer.data)):
        raise RefundRefused(
            f"{texts.money(rest, refund.currency)} goes back by bank transfer: make the transfer, "
            "then give its receipt or the bank's reference"
        )
    if any(entry.method == LedgerMethod.STRIPE for entry, _ in plan) and cards is None:
        raise RefundRefused("Card refunds are not set up here (no Stripe key)")
    method: LedgerMethod | None = None
    for entry, part in plan:
        charge = str(entry.provider_ref)
        if entry.method == LedgerMethod.STRIPE:
            assert cards is not None
            provider_id = cards.refund(
                checkout_id=charge,
                amount_minor=part,
                currency=entry.currency,
                idempotency_key=f"tms-refund-{refund.id}-{entry.id}-{part}",
            )
        else:
            provider_id = f"local_re_{refund.id}_{entry.id}"
        ledger.record(
            session,
            booking,
            kind=LedgerKind.REFUND,
            method=LedgerMethod(entry.method),
            amount_minor=-part,
            currency=entry.currency,
            actor=actor,
            provider_ref=provider_id,
            refund_id=refund.id,
            note=CARD_REFUND_NOTE + charge,
        )
        refund.provider_refund_id = refund.provider_refund_id or provider_id
        method = method or LedgerMethod(entry.method)
    if back_to_credit > 0:
        _issue_credit(session, booking, refund, back_to_credit, actor, part="paid from credit")
        method = method or LedgerMethod.CREDIT
    if rest > 0:
        assert transfer is not None
        proof_id = _file_proof(session, booking, refund, rest, transfer, actor)
        reference = (transfer.reference or "").strip()[:120] or None
        ledger.record(
            session,
            booking,
            kind=LedgerKind.REFUND,
            method=LedgerMethod.BANK_TRANSFER,
            amount_minor=-rest,
            currency=refund.currency,
            actor=actor,
            provider_ref=f"refund:{refund.id}",
            proof_id=proof_id,
            refund_id=refund.id,
            note=f"outgoing transfer {reference}" if reference else "outgoing transfer",
        )
        if refund.provider_refund_id is None and reference:
            refund.provider_refund_id = f"transfer:{reference}"[:120]
        method = method or LedgerMethod.BANK_TRANSFER
    assert method is not None
    return method


def _file_proof(
    session: Session,
    booking: Booking,
    refund: Refund,
    amount: int,
    transfer: OutgoingTransfer,
    actor: Actor,
) -> str | None:
    """File the outgoing transfer's receipt as a proof (direction "out", pending the
    accountant's check like any other); None without a file (the reference stands alone)."""
    if not transfer.data:
        return None
    proof = payment_proofs.file_upload(
        session,
        booking,
        data=transfer.data,
        filename=transfer.filename or "refund-transfer",
        content_type=transfer.content_type or "application/octet-stream",
        method=LedgerMethod.BANK_TRANSFER,
        actor=actor,
        stated_amount_minor=amount,
        stated_currency=refund.currency,
        direction="out",
        refund_id=refund.id,
        source=transfer.source,
    )
    return str(proof.id)


def _issue_credit(
    session: Session,
    booking: Booking,
    refund: Refund,
    amount: int,
    actor: Actor,
    *,
    part: str | None = None,
) -> None:
    ledger.record(
        session,
        booking,
        kind=LedgerKind.CREDIT_ISSUED,
        method=LedgerMethod.CREDIT,
        amount_minor=-amount,
        currency=refund.currency,
        actor=actor,
        provider_ref=f"refund:{refund.id}",
        refund_id=refund.id,
        note=f"credit for a later trip ({part})" if part else "credit for a later trip",
    )


def credit_paid(session: Session, booking: Booking) -> int:
    """What the booking paid from credit and has not had back as credit yet."""
    entries = ledger.entries_of(session, booking)
    spent = sum(e.base_amount_minor for e in entries if e.kind == LedgerKind.CREDIT_SPENT)
    issued = -sum(e.base_amount_minor for e in entries if e.kind == LedgerKind.CREDIT_ISSUED)
    return max(spent - issued, 0)


def _get(session: Session, refund_id: str) -> Refund:
    refund = session.get(Refund, refund_id)
    if refund is None:
        raise RefundRefused(f"No refund {refund_id}")
    return refund


def _booking(session: Session, refund: Refund) -> Booking:
    booking = session.get(Booking, refund.booking_id)
    assert booking is not None
    return booking
