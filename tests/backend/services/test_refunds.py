"""Refunds after a cancellation: what comes back follows the policy, the customer chooses a
refund or a credit (a button or a typed word), staff approve (a card refund through the
provider, a transfer with its proof or reference, a credit) or decline; never more than the
booking paid, also when two approvals race (PostgreSQL, real threads)."""

from __future__ import annotations

import itertools
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from backend import clock
from backend.db import transaction
from backend.domain.actor import SYSTEM, Actor
from backend.domain.enums import BookingStatus, RefundStatus, Source
from backend.models import (
    Booking,
    Departure,
    LedgerEntry,
    LedgerKind,
    LedgerMethod,
    OutboundMessage,
    PaymentProof,
    Product,
    Refund,
    TimelineEvent,
)
from backend.services import bookings, credits, ledger, payments, refunds
from tests import factories

_days = itertools.count()
STAFF = Actor(Source.ADMIN)


class FakeCards:
    """The card provider's refund API in this process: what was asked, a `re_` id each."""

    def __init__(self, refuse: str | None = None) -> None:
        self.calls: list[dict] = []
        self.refuse = refuse

    def refund(self, *, checkout_id, amount_minor, currency, idempotency_key):
        if self.refuse:
            raise refunds.CardRefundFailed(self.refuse)
        self.calls.append({"checkout": checkout_id, "amount": amount_minor, "key": idempotency_key})
        return f"re_test_{len(self.calls)}"


def _product(session):
    return session.scalar(select(Product).where(Product.code == "EBC")) or factories.ebc(session)


def _booking(session, days_before, size=2, contact=None):
    start = clock.local_today() + timedelta(days=days_before)
    product = _product(session)
    dep = session.scalar(
        select(Departure).where(Departure.product_id == product.id, Departure.start_date == start)
    ) or factories.departure(session, product, start=start)
    return bookings.hold_new_booking(
        session,
        contact=contact or factories.contact(session),
        departure_id=dep.id,
        party_size=size,
        actor=SYSTEM,
    )


def _pay(session, booking, amount, provider="test", ref=None):
    return payments.record_payment(
        session,
        booking_id=booking.id,
        provider=provider,
        event_id=ref or f"evt-{booking.id}-{amount}-{next(_days)}",
        amount_minor=amount,
        currency="USD",
        actor=SYSTEM,
    )


def _transfer(session, booking, amount):
    return payments.receive(
        session,
        booking.id,
        payments.MoneyIn(
            method=LedgerMethod.BANK_TRANSFER,
            amount_minor=amount,
            currency="USD",
            received_on=clock.local_today(),
            provider_ref=f"proof:{booking.id}:{amount}",
        ),
        SYSTEM,
    )


def _ledger_sum(session, booking_id, *kinds):
    query = select(func.coalesce(func.sum(LedgerEntry.base_amount_minor), 0)).where(
        LedgerEntry.booking_id == booking_id
    )
    if kinds:
        query = query.where(LedgerEntry.kind.in_([str(k) for k in kinds]))
    return session.scalar(query)


def _outbound(session, phone):
    return session.scalars(
        select(OutboundMessage)
        .where(OutboundMessage.recipient_phone == phone)
        .order_by(OutboundMessage.id)
    ).all()


# -- what comes back follows the policy --------------------------------------------------------


def test_more_than_30_days_out_everything_paid_less_the_admin_fee(session, frozen_clock):
    booking = _booking(session, 40)
    _pay(session, booking, booking.deposit_minor)
    bookings.cancel_booking(session, booking, SYSTEM, reason="plans changed")
    refund = refunds.current(session, booking)
    assert refund is not None and refund.status == RefundStatus.AWAITING_CHOICE
    assert refund.refundable_minor == booking.deposit_minor - 50_00
    assert "admin fee" in refund.policy_note
    assert booking.attention_reason is None or "refund due" not in booking.attention_reason


def test_15_to_30_days_out_70_percent_of_the_price_never_more_than_paid(session, frozen_clock):
    booking = _booking(session, 20)
    _pay(session, booking, booking.total_minor)
    bookings.cancel_booking(session, booking, SYSTEM)
    refund = refunds.current(session, booking)
    assert refund.refundable_minor == (booking.total_minor * 70 + 50) // 100
    deposit_only = _booking(session, 20)
    _pay(session, deposit_only, deposit_only.deposit_minor)
    bookings.cancel_booking(session, deposit_only, SYSTEM)
    assert refunds.current(session, deposit_only).refundable_minor == deposit_only.deposit_minor


def test_in_the_last_two_weeks_nothing_comes_back_and_nothing_paid_opens_nothing(
    session, frozen_clock
):
    late = _booking(session, 5)
    _pay(session, late, late.deposit_minor)
    bookings.cancel_by_staff(session, late, STAFF, reason="asked", notify_customer=True)
    assert refunds.current(session, late) is None
    told = [m.body for m in _outbound(session, late.contact.phone)][-2:]
    assert "is cancelled" in told[0] and "nothing of what you paid" in told[1], told
    assert "5 days before departure: no refund" in told[1]
    assert session.scalar(
        select(TimelineEvent).where(
            TimelineEvent.object_id == late.id, TimelineEvent.action == "tms.booking.refund.none"
        )
    )
    unpaid = _booking(session, 40)
    bookings.cancel_booking(session, unpaid, SYSTEM)
    assert refunds.current(session, unpaid) is None


def test_staff_cancelling_ask_the_customer_with_two_buttons(session, frozen_clock):
    booking = _booking(session, 40)
    _pay(session, booking, booking.deposit_minor)
    bookings.cancel_by_staff(session, booking, STAFF, reason="asked by phone", notify_customer=True)
    refund = refunds.current(session, booking)
    sent = _outbound(session, booking.contact.phone)
    asked = [m for m in sent if m.kind in ("buttons", "list")]
    assert asked, [m.body for m in sent]
    titles = [b["title"] for b in asked[-1].buttons]
    assert titles == ["Refund", "Credit for later"]
    assert f"refund:{refund.id}:credit" in asked[-1].buttons[1]["id"]


# -- choosing and approving -----------------------------------------------------------------


def _cancelled(session, provider="test", days_before=40, contact=None):
    booking = _booking(session, days_before, contact=contact)
    if provider == "transfer":
        _transfer(session, booking, booking.deposit_minor)
    else:
        _pay(
            session, booking, booking.deposit_minor, provider=provider, ref=f"cs_test_{booking.id}"
        )
    bookings.cancel_booking(session, booking, SYSTEM)
    return booking, refunds.current(session, booking)


def test_a_card_refund_goes_through_the_provider_once_and_is_a_negative_entry(
    session, frozen_clock
):
    booking, refund = _cancelled(session, provider="stripe")
    assert refunds.choose(session, refund, "refund", SYSTEM)
    assert refund.status == RefundStatus.AWAITING_APPROVAL
    assert not refunds.choose(session, refund, "refund", SYSTEM)  # the same again: nothing
    paid_before = booking.paid_minor
    cards = FakeCards()
    refunds.approve(session, refund.id, actor=STAFF, cards=cards)
    assert refund.status == RefundStatus.PAID_OUT and refund.method == "stripe"
    [call] = cards.calls
    assert call == {
        "checkout": f"cs_test_{booking.id}",
        "amount": refund.refundable_minor,
        "key": call["key"],
    }
    assert refund.id in call["key"]
    [entry] = [e for e in ledger.entries_of(session, booking) if e.kind == LedgerKind.REFUND]
    assert entry.amount_minor == -refund.refundable_minor and entry.provider_ref == "re_test_1"
    assert entry.refund_id == refund.id and refund.provider_refund_id == "re_test_1"
    assert booking.paid_minor == paid_before - refund.refundable_minor == 50_00
    with pytest.raises(refunds.RefundRefused, match="already paid_out"):
        refunds.approve(session, refund.id, actor=STAFF, cards=cards)
    told = _outbound(session, booking.contact.phone)[-1].body
    assert "refunded" in told and booking.reference in told


def test_the_provider_refusing_books_nothing(session, frozen_clock):
    booking, refund = _cancelled(session, provider="stripe")
    with pytest.raises(refunds.CardRefundFailed, match="too much"):
        refunds.approve(
            session, refund.id, actor=STAFF, choice="refund", cards=FakeCards("too much")
        )
    assert not [e for e in ledger.entries_of(session, booking) if e.kind == LedgerKind.REFUND]
    assert refund.status == RefundStatus.AWAITING_CHOICE
    assert booking.paid_minor == booking.deposit_minor


def test_a_transfer_refund_needs_the_outgoing_transfer(session, frozen_clock):
    booking, refund = _cancelled(session, provider="transfer")
    refunds.choose(session, refund, "refund", SYSTEM)
    with pytest.raises(refunds.RefundRefused, match="bank transfer"):
        refunds.approve(session, refund.id, actor=STAFF)
    refunds.approve(
        session,
        refund.id,
        actor=STAFF,
        transfer=refunds.OutgoingTransfer(reference="NABIL-OUT-0042"),
    )
    assert refund.status == RefundStatus.PAID_OUT and refund.method == "bank_transfer"
    [entry] = [e for e in ledger.entries_of(session, booking) if e.kind == LedgerKind.REFUND]
    assert entry.method == "bank_transfer" and entry.amount_minor == -refund.refundable_minor
    assert "NABIL-OUT-0042" in entry.note and entry.refund_id == refund.id
    assert "bank transfer" in _outbound(session, booking.contact.phone)[-1].body


def test_the_outgoing_transfer_s_receipt_is_filed_as_a_proof_out(
    session, frozen_clock, tmp_path, monkeypatch
):
    monkeypatch.setenv("MEDIA_DIR", str(tmp_path / "media"))
    booking, refund = _cancelled(session, provider="transfer")
    refunds.approve(
        session,
        refund.id,
        actor=STAFF,
        choice="refund",
        transfer=refunds.OutgoingTransfer(
            data=b"%PDF-1.4\n" + b"0" * 200, filename="out.pdf", content_type="application/pdf"
        ),
    )
    [entry] = [e for e in ledger.entries_of(session, booking) if e.kind == LedgerKind.REFUND]
    proof = session.get(PaymentProof, entry.proof_id)
    assert proof is not None and proof.direction == "out" and proof.refund_id == refund.id
    assert proof.stated_amount_minor == refund.refundable_minor


def test_less_than_allowed_may_go_back_never_more(session, frozen_clock):
    booking, refund = _cancelled(session)
    with pytest.raises(refunds.RefundRefused, match="At most"):
        refunds.approve(
            session,
            refund.id,
            actor=STAFF,
            choice="refund",
            amount_minor=refund.refundable_minor + 1,
        )
    with pytest.raises(refunds.RefundRefused, match="not chosen"):
        refunds.approve(session, refund.id, actor=STAFF)
    refunds.approve(session, refund.id, actor=STAFF, choice="refund", amount_minor=100_00)
    assert booking.paid_minor == booking.deposit_minor - 100_00
    assert refund.method == "local"  # the local provider's card payment, refunded on the spot


def test_a_credit_is_issued_then_spent_on_a_later_booking(session, frozen_clock):
    booking, refund = _cancelled(session)
    refunds.choose(session, refund, "credit", SYSTEM)
    refunds.approve(session, refund.id, actor=STAFF)
    assert refund.status == RefundStatus.CREDITED
    amount = refund.refundable_minor
    [entry] = [e for e in ledger.entries_of(session, booking) if e.kind == LedgerKind.CREDIT_ISSUED]
    assert entry.amount_minor == -amount and entry.method == "credit"
    assert credits.available(session, booking.contact) == amount
    told = _outbound(session, booking.contact.phone)[-1].body
    assert "credit" in told.lower() and "Pay with credit" in told
    later = _booking(session, 60, size=1, contact=booking.contact)
    credits.spend(session, later, amount_minor=later.deposit_minor, actor=SYSTEM)
    assert later.status == BookingStatus.CONFIRMED
    assert credits.available(session, booking.contact) == amount - later.deposit_minor


def test_what_was_paid_from_credit_goes_back_to_the_credit(session, frozen_clock):
    booking, refund = _cancelled(session)
    refunds.approve(session, refund.id, actor=STAFF, choice="credit")
    credit = credits.available(session, booking.contact)
    later = _booking(session, 50, size=1, contact=booking.contact)
    credits.spend(session, later, amount_minor=later.deposit_minor, actor=SYSTEM)
    bookings.cancel_booking(session, later, SYSTEM)
    second = refunds.current(session, later)
    assert second.refundable_minor == later.deposit_minor - 50_00
    refunds.approve(session, second.id, actor=STAFF, choice="refund")  # no transfer needed
    assert second.status == RefundStatus.PAID_OUT and second.method == "credit"
    assert credits.available(session, booking.contact) == credit - 50_00
    assert "back to your credit" in _outbound(session, booking.contact.phone)[-1].body


def test_staff_decline_with_a_reason_the_customer_reads(session, frozen_clock):
    booking, refund = _cancelled(session)
    with pytest.raises(refunds.RefundRefused):
        refunds.decline(session, refund.id, reason="  ", actor=STAFF)
    refunds.decline(session, refund.id, reason="the permits were already bought", actor=STAFF)
    assert refund.status == RefundStatus.DECLINED
    assert booking.paid_minor == booking.deposit_minor
    assert "permits were already bought" in _outbound(session, booking.contact.phone)[-1].body


def test_choosing_alerts_ops(session, frozen_clock):
    ops = factories.staff(session, "Ops", factories.Role.OPS)
    booking, refund = _cancelled(session)
    refunds.choose(session, refund, "credit", Actor(Source.WHATSAPP, phone=booking.contact.phone))
    alert = _outbound(session, ops.phone)[-1].body
    assert "credit" in alert and booking.reference in alert
    assert not [m for m in _outbound(session, booking.contact.phone) if "noted" in m.body]
    refunds.choose(session, refund, "refund", STAFF, tell_customer=True)
    told = _outbound(session, booking.contact.phone)[-1].body
    assert "noted: a refund" in told


def test_typed_words(session):
    assert refunds.choice_in("Refund") == "refund"
    assert refunds.choice_in(" credit please! ") == "credit"
    assert refunds.choice_in("how long does a refund take?") is None


# -- races on PostgreSQL ----------------------------------------------------------------------


def _race(pg_db_url, work):
    barrier = threading.Barrier(len(work))
    outcomes: list[str] = []

    def run(job):
        barrier.wait(timeout=30)
        try:
            with transaction(pg_db_url) as s:
                job(s)
            outcomes.append("done")
        except Exception as exc:
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=run, args=(job,)) for job in work]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


def test_racing_approvals_never_give_back_more_than_was_paid(pg_db_url, frozen_clock):
    with transaction(pg_db_url) as s:
        booking, refund = _cancelled(s)
        booking_id, refund_id, paid = booking.id, refund.id, booking.paid_minor
        allowed = refund.refundable_minor
    outcomes = _race(
        pg_db_url,
        [
            lambda s: refunds.approve(s, refund_id, actor=STAFF, choice="refund"),
            lambda s: refunds.approve(s, refund_id, actor=STAFF, choice="credit"),
            lambda s: refunds.approve(
                s, refund_id, actor=STAFF, choice="refund", amount_minor=allowed // 2
            ),
        ],
    )
    assert sorted(outcomes).count("done") == 1, outcomes
    assert set(outcomes) - {"done"} <= {"RefundRefused", "ConcurrentChange"}, outcomes
    with transaction(pg_db_url) as s:
        out = -_ledger_sum(s, booking_id, LedgerKind.REFUND, LedgerKind.CREDIT_ISSUED)
        assert 0 < out <= allowed <= paid
        assert s.get(Booking, booking_id).paid_minor == paid - out >= 0
        assert s.get(Refund, refund_id).status in (RefundStatus.PAID_OUT, RefundStatus.CREDITED)


# -- in the chat: a tapped button, a typed word ------------------------------------------------


def _cancelled_in_the_demo(customer: str):
    """A paid booking of the demo world's, cancelled by staff with the customer told: the
    buttons as queued (title → payload)."""
    from backend.services import catalog, contacts

    with transaction() as s:
        departure = next(
            d
            for d in catalog.departures_of(s, catalog.get_product(s, "EBC"))
            if (d.start_date - clock.local_today()).days > 30
        )
        booking = bookings.hold_new_booking(
            s,
            contact=contacts.get_or_create_contact(s, customer, name="Ola Berg"),
            departure_id=departure.id,
            party_size=1,
            actor=SYSTEM,
        )
        _pay(s, booking, booking.deposit_minor)
        bookings.cancel_by_staff(s, booking, STAFF, reason="by phone", notify_customer=True)
        refund = refunds.current(s, booking)
        row = [m for m in _outbound(s, customer) if m.kind == "buttons"][-1]
        return refund.id, {b["title"]: b["id"] for b in row.buttons}


def test_a_tap_chooses_and_a_typed_word_chooses_too(db_url, story_clock):
    from actions.answers import ActionAffirm
    from actions.knowledge import ActionAnswerFaq
    from devkit.demo_data import load
    from tests.actions.conftest import make_tracker, run_action, tap

    with transaction() as s:
        load(s)
    customer = "+61499000071"
    refund_id, buttons = _cancelled_in_the_demo(customer)
    assert list(buttons) == ["Refund", "Credit for later"]
    ran = run_action(ActionAffirm(), tap(customer, buttons["Credit for later"]))
    assert "credit for a later trip" in ran.text, ran.text
    with transaction() as s:
        refund = s.get(Refund, refund_id)
        assert (refund.status, refund.choice) == (RefundStatus.AWAITING_APPROVAL, "credit")
    # Changing their mind while it waits: the other button.
    ran = run_action(ActionAffirm(), tap(customer, buttons["Refund"]))
    assert "a refund" in ran.text
    with transaction() as s:
        assert s.get(Refund, refund_id).choice == "refund"
    # Someone else's button changes nothing.
    other = run_action(ActionAffirm(), tap("+61499000072", buttons["Credit for later"]))
    with transaction() as s:
        assert s.get(Refund, refund_id).choice == "refund"
    assert "credit" not in other.text.lower()

    second_id, _ = _cancelled_in_the_demo(customer)
    typed = run_action(ActionAnswerFaq(), make_tracker(customer, "Credit", "faq"))
    assert "credit for a later trip" in typed.text, typed.text
    with transaction() as s:
        refund = s.get(Refund, second_id)
        assert (refund.status, refund.choice) == (RefundStatus.AWAITING_APPROVAL, "credit")
    # Once chosen, a typed word is not taken for a choice again: the question is answered.
    with transaction() as s:
        assert refunds.open_of_contact(s, s.get(Booking, refund.booking_id).contact_id) is None
