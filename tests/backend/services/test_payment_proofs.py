"""Transfer and card-link receipts: filed once (the same file twice is "already received"),
checked with flags for a second look, verified into the ledger exactly as any payment (the
card link's surcharge apart), rejected with a reason the customer reads; the hold is kept while
a receipt waits; concurrent verifies book once. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
from datetime import datetime, time, timedelta

import httpx
import pytest
from sqlalchemy import select

from backend import clock, texts
from backend.config import Settings, get_settings
from backend.db import transaction
from backend.domain.actor import SYSTEM, Actor
from backend.domain.enums import BookingStatus, PaymentStatus, ProofStatus, Role, Source
from backend.models import (
    Booking,
    Departure,
    Hold,
    InboundMessage,
    LedgerEntry,
    LedgerKind,
    LedgerMethod,
    MediaAttachment,
    OutboundMessage,
    PaymentProof,
    Product,
)
from backend.services import (
    bookings,
    inventory,
    ledger,
    payment_methods,
    payment_proofs,
    payments,
    rates,
)
from backend.services.payment_proofs import AlreadyDecided, AlreadyReceived, ProofRefused
from backend.whatsapp import inbox, signature
from backend.whatsapp.inbox_worker import InboxWorker, RasaClient
from backend.whatsapp.media import MediaFetcher
from tests import factories
from tests.backend.services.test_arrivals import RecordingRasa, message
from tests.backend.whatsapp import payloads as p

JPEG = b"\xff\xd8\xff\xe0" + b"receipt-bytes" * 20
PDF = b"%PDF-1.4\n" + b"0" * 200


@pytest.fixture(autouse=True)
def _media_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("MEDIA_DIR", str(tmp_path / "media"))
    monkeypatch.setenv("PAYMENT_CARD_LINK_SURCHARGE_PERCENT", "3.5")
    monkeypatch.setenv("PAYMENT_PROOF_MAX_AGE_DAYS", "14")


def _held(session, size=3, phone=None):
    product = session.scalar(select(Product).where(Product.code == "EBC"))
    dep = session.scalar(select(Departure)) if product else None
    if dep is None:
        start = clock.local_today() + timedelta(days=90)
        dep = factories.departure(session, product or factories.ebc(session), start=start)
    return bookings.hold_new_booking(
        session,
        contact=factories.contact(session, phone),
        departure_id=dep.id,
        party_size=size,
        actor=SYSTEM,
    )


def _ops(session, name="Priya"):
    member = factories.staff(session, name, Role.OPS)
    return member, Actor(Source.ADMIN, phone=member.phone, staff_id=member.id)


def _customer(booking):
    return Actor(Source.WHATSAPP, phone=booking.contact.phone)


def _upload(session, booking, data=JPEG, method=LedgerMethod.BANK_TRANSFER, **extra):
    return payment_proofs.file_upload(
        session,
        booking,
        data=data,
        filename="receipt.jpg",
        content_type="image/jpeg",
        method=method,
        actor=_customer(booking),
        **extra,
    )


def _bodies(session, phone):
    return list(
        session.scalars(
            select(OutboundMessage.body)
            .where(OutboundMessage.recipient_phone == phone)
            .order_by(OutboundMessage.id)
        )
    )


def test_a_transfer_receipt_is_filed_checked_and_confirms_the_booking(session, frozen_clock):
    booking = _held(session)
    ops, actor = _ops(session)
    proof = _upload(session, booking)
    assert proof.status == ProofStatus.PENDING and proof.source == "page"
    assert proof.content_type == "image/jpeg" and proof.storage_key
    assert list(payment_proofs.pending(session)) == [proof]
    # The customer is told it is being checked, OPS get a task.
    assert any("checking it" in b for b in _bodies(session, booking.contact.phone))
    assert any(booking.reference in b and "receipt" in b for b in _bodies(session, ops.phone))
    content, kind = payment_proofs.read_file(session, proof, actor)
    assert (content, kind) == (JPEG, "image/jpeg")

    today = clock.local_today()
    assert (
        payment_proofs.flags_for(
            session, proof, amount_minor=booking.deposit_minor, currency="USD", value_date=today
        )
        == []
    )
    received = payment_proofs.verify(
        session,
        proof.id,
        amount_minor=booking.deposit_minor,
        currency="usd",
        value_date=today,
        actor=actor,
    )
    assert received.confirmed_now and booking.status == BookingStatus.CONFIRMED
    assert booking.payment_status == PaymentStatus.DEPOSIT_PAID
    entry = received.entry
    assert (entry.method, entry.provider_ref, entry.proof_id) == (
        "bank_transfer",
        f"proof:{proof.id}",
        proof.id,
    )
    assert proof.status == ProofStatus.VERIFIED and proof.flags == []
    assert (proof.amount_minor, proof.currency, proof.value_date) == (
        booking.deposit_minor,
        "USD",
        today,
    )
    assert proof.decided_by == ops.id
    assert payment_proofs.pending(session) == []
    assert any("Booking Confirmed" in b for b in _bodies(session, booking.contact.phone))


def test_wrong_amount_currency_and_dates_are_flagged_and_recorded(session, frozen_clock):
    booking = _held(session)
    _, actor = _ops(session)
    proof = _upload(
        session, booking, stated_amount_minor=booking.deposit_minor, stated_currency="USD"
    )
    today = clock.local_today()

    def flags(amount, currency, day):
        return payment_proofs.flags_for(
            session, proof, amount_minor=amount, currency=currency, value_date=day
        )

    assert flags(booking.deposit_minor, "USD", today) == []
    assert flags(booking.total_minor, "USD", today) == ["stated_amount"]
    assert flags(1_000_00, "USD", today) == ["amount", "stated_amount"]
    assert "value_date_old" in flags(booking.deposit_minor, "USD", today - timedelta(days=15))
    assert "value_date_old" not in flags(booking.deposit_minor, "USD", today - timedelta(days=14))
    assert "value_date_before_booking" in flags(
        booking.deposit_minor, "USD", today - timedelta(days=2)
    )
    assert flags(booking.deposit_minor, "USD", today + timedelta(days=1)) == ["value_date_future"]
    # Another currency: a clear refusal until a rate is set, then flagged.
    with pytest.raises(rates.NoRate, match="set a rate for EUR"):
        flags(1_900_00, "EUR", today)
    with pytest.raises(rates.NoRate, match="set a rate"):
        payment_proofs.verify(
            session, proof.id, amount_minor=1_900_00, currency="EUR", value_date=today, actor=actor
        )
    assert proof.status == ProofStatus.PENDING and ledger.entries_of(session, booking) == []
    rates.set_rate(session, currency="EUR", base_currency="USD", rate="1.08", actor=SYSTEM)
    eur = round(booking.deposit_minor / 1.08)
    assert flags(eur, "EUR", today) == ["currency", "stated_amount"]
    # Verifying with flags is allowed, and the flags stay on the proof and the entry.
    received = payment_proofs.verify(
        session, proof.id, amount_minor=1_000_00, currency="USD", value_date=today, actor=actor
    )
    assert received.entry is not None and "the amount is not what is owed" in received.entry.note
    assert proof.flags == ["amount", "stated_amount"]
    assert booking.status == BookingStatus.PAYMENT_PENDING  # short of the deposit


def test_the_card_link_surcharge_is_a_separate_entry(session, frozen_clock):
    booking = _held(session)
    _, actor = _ops(session)
    [offer] = [
        o
        for o in payment_methods.offers(session, booking)
        if o.method == "bank_card_link" and o.amount_minor == booking.deposit_minor
    ]
    assert offer.surcharge_minor == round(booking.deposit_minor * 0.035)
    assert offer.total_minor == booking.deposit_minor + offer.surcharge_minor
    proof = _upload(session, booking, method=LedgerMethod.BANK_CARD_LINK)
    assert payment_proofs.flags_for(
        session, proof, amount_minor=offer.total_minor, currency="USD",
        value_date=clock.local_today(),
    ) == []  # fmt: skip
    payment_proofs.verify(
        session,
        proof.id,
        amount_minor=offer.total_minor,
        currency="USD",
        value_date=clock.local_today(),
        actor=actor,
    )
    entries = ledger.entries_of(session, booking)
    assert [(e.kind, e.amount_minor) for e in entries] == [
        (LedgerKind.PAYMENT, booking.deposit_minor),
        (LedgerKind.SURCHARGE, offer.surcharge_minor),
    ]
    assert booking.paid_minor == booking.deposit_minor  # the surcharge is not towards the price
    assert booking.status == BookingStatus.CONFIRMED


def test_the_same_file_twice_records_once(session, frozen_clock):
    booking = _held(session)
    other = _held(session)
    _upload(session, booking, data=PDF)
    with pytest.raises(AlreadyReceived, match="already received") as again:
        _upload(session, other, data=PDF)
    assert again.value.proof.booking_id == booking.id
    assert session.scalar(select(PaymentProof).where(PaymentProof.booking_id == other.id)) is None


def test_uploads_that_cannot_be_receipts_are_refused_clearly(session, frozen_clock, monkeypatch):
    booking = _held(session)
    with pytest.raises(ProofRefused, match="empty"):
        _upload(session, booking, data=b"")
    with pytest.raises(ProofRefused, match="not a photo"):
        _upload(session, booking, data=b"MZ\x90\x00 an executable")
    monkeypatch.setenv("PAYMENT_PROOF_MAX_BYTES", "100")
    with pytest.raises(ProofRefused, match="too big"):
        _upload(session, booking, data=PDF)
    monkeypatch.delenv("PAYMENT_PROOF_MAX_BYTES")
    with pytest.raises(ProofRefused, match="transfer or a card-link"):
        _upload(session, booking, method=LedgerMethod.CASH)
    paid = factories.confirmed_booking(session, booking.departure, 1)
    payments.receive(
        session,
        paid.id,
        payments.MoneyIn(
            LedgerMethod.CASH, paid.balance_minor, "USD", clock.local_today(), provider_ref="c1"
        ),
        SYSTEM,
    )
    with pytest.raises(ProofRefused, match="Nothing is owed"):
        _upload(session, paid)
    assert session.scalar(select(PaymentProof.id)) is None


def test_a_decided_proof_is_not_decided_again(session, frozen_clock):
    booking = _held(session)
    _, actor = _ops(session)
    proof = _upload(session, booking)
    today = clock.local_today()
    payment_proofs.verify(
        session, proof.id, amount_minor=booking.deposit_minor, currency="USD", value_date=today,
        actor=actor,
    )  # fmt: skip
    with pytest.raises(AlreadyDecided, match="already verified"):
        payment_proofs.verify(
            session, proof.id, amount_minor=booking.deposit_minor, currency="USD",
            value_date=today, actor=actor,
        )  # fmt: skip
    with pytest.raises(AlreadyDecided, match="already verified"):
        payment_proofs.reject(session, proof.id, reason="blurry", actor=actor)
    assert len(ledger.entries_of(session, booking)) == 1


def test_the_hold_is_kept_while_a_receipt_waits_and_runs_again_after_a_rejection(
    session, frozen_clock
):
    booking = _held(session)
    _, actor = _ops(session)
    hold = inventory.active_hold(session, booking)
    first_expiry = hold.expires_at
    proof = _upload(session, booking)
    kept = datetime.combine(booking.departure.start_date, time(0), tzinfo=get_settings().tz)
    assert hold.expires_at == kept > first_expiry
    # Past the hold's own expiry: the scheduler's expiry does nothing while the receipt waits.
    frozen_clock.advance(hours=25)
    assert not bookings.expire_hold(session, booking, SYSTEM)
    assert booking.status == BookingStatus.HELD
    with clock.frozen(first_expiry + timedelta(hours=1)):
        rejected = payment_proofs.reject(
            session, proof.id, reason="The amount is not readable", actor=actor
        )
        assert rejected.status == ProofStatus.REJECTED
        assert rejected.reject_reason == "The amount is not readable"
        told = _bodies(session, booking.contact.phone)[-1]
        assert "The amount is not readable" in told and "/pay/" in told
        assert "stay held until" in told
        hold = session.scalar(select(Hold).where(Hold.booking_id == booking.id))
        assert hold.expires_at == clock.now() + timedelta(hours=24)
    with clock.frozen(first_expiry + timedelta(hours=26)):
        assert bookings.expire_hold(session, booking, SYSTEM)


def test_a_chat_proof_reads_its_file_once_stored_and_a_repeat_file_is_already_received(
    session, frozen_clock
):
    booking = _held(session)
    _, actor = _ops(session)
    medias = []
    for n in (1, 2):
        row = InboundMessage(
            wamid=f"wamid.PROOF{n}",
            from_phone=booking.contact.phone,
            message_type="image",
            payload={
                "image": {"id": f"M{n}", "mime_type": "image/jpeg", "caption": "Paid USD 2052"}
            },
            status="DONE",
            stored_at=clock.now(),
        )
        session.add(row)
        session.flush()
        media = MediaAttachment(
            inbound_message_id=row.id,
            from_phone=row.from_phone,
            kind="image",
            media_id=f"M{n}",
            mime_type="image/jpeg",
            caption="Paid USD 2052",
            status="PENDING",
            attempts=0,
        )
        session.add(media)
        session.flush()
        medias.append(media)
    first = payment_proofs.file_from_chat(session, medias[0], booking, _customer(booking))
    assert payment_proofs.file_from_chat(session, medias[0], booking, SYSTEM) is first
    assert (first.stated_amount_minor, first.stated_currency) == (2_052_00, "USD")
    with pytest.raises(Exception, match="still being fetched"):
        payment_proofs.read_file(session, first, actor)
    frozen_clock.advance(minutes=1)
    second = payment_proofs.file_from_chat(session, medias[1], booking, _customer(booking))
    # The fetcher stores both files: the same bytes.
    for media in medias:
        media.status, media.storage_key, media.sha256 = "STORED", f"k/{media.id}.jpg", "ab" * 32
    pending = payment_proofs.pending(session)
    assert pending == [first] and first.sha256 == "ab" * 32
    assert second.status == ProofStatus.REJECTED and "already received" in second.reject_reason
    assert "already received" in _bodies(session, booking.contact.phone)[-1]
    with pytest.raises(AlreadyDecided, match="already received"):
        payment_proofs.verify(
            session, second.id, amount_minor=2_052_00, currency="USD",
            value_date=clock.local_today(), actor=actor,
        )  # fmt: skip


def test_parse_stated_and_amounts():
    assert payment_proofs.parse_stated("Paid USD 2,052.00 for EBC-2501234") == (
        payment_proofs.Stated(2_052_00, "USD")
    )
    assert payment_proofs.parse_stated("$2052") == payment_proofs.Stated(2_052_00, "USD")
    assert payment_proofs.parse_stated("1900 eur") == payment_proofs.Stated(1_900_00, "EUR")
    assert payment_proofs.parse_stated("EBC-2501234") == payment_proofs.Stated(None, None)
    assert payment_proofs.to_minor("2052.00", "USD") == 2_052_00
    assert payment_proofs.to_minor("2,052.5", "USD") == 2_052_50
    # As Europeans write them: a decimal comma, a dot or a space between thousands.
    assert payment_proofs.to_minor("2052,00", "EUR") == 2_052_00
    assert payment_proofs.to_minor("2.052,50", "EUR") == 2_052_50
    assert payment_proofs.to_minor("2 052,5", "EUR") == 2_052_50
    assert payment_proofs.to_minor("2,052", "USD") == 2_052_00
    with pytest.raises(Exception, match="decimals"):
        payment_proofs.to_minor("2052.001", "USD")
    with pytest.raises(Exception, match="not an amount"):
        payment_proofs.to_minor("-5", "USD")
    assert payment_methods.split_card_link(2_052_00 + 71_82) == (2_052_00, 71_82)


def test_concurrent_verifies_of_one_proof_book_once(pg_db_url, frozen_clock, tmp_path):
    with transaction(pg_db_url) as s:
        booking = _held(s)
        _, actor = _ops(s)
        proof_id = _upload(s, booking).id
        amount, booking_id = booking.deposit_minor, booking.id
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def verify() -> None:
        barrier.wait()
        try:
            with transaction(pg_db_url) as s:
                payment_proofs.verify(
                    s, proof_id, amount_minor=amount, currency="USD",
                    value_date=clock.local_today(), actor=actor,
                )  # fmt: skip
            outcomes.append("booked")
        except AlreadyDecided:
            outcomes.append("refused")

    threads = [threading.Thread(target=verify) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes) == ["booked", "refused"]
    with transaction(pg_db_url) as s:
        entries = list(s.scalars(select(LedgerEntry).where(LedgerEntry.booking_id == booking_id)))
        assert len(entries) == 1


# -- the chat: a signed webhook with the receipt's photo -----------------------------------------
class _Graph:
    """The Graph API's media download, as the fetcher calls it: the receipt's bytes."""

    def __init__(self, content: bytes) -> None:
        self.content = content

    async def download_media(self, media_id, max_bytes, *, url_refusal=None):
        return self.content, "image/jpeg"


def _webhook_arrives(message: dict) -> RecordingRasa:
    """The message as Meta signs it, checked and stored, then taken by the inbox worker."""
    raw, headers = p.signed(p.webhook([message]))
    assert signature.signature_valid(raw, headers["X-Hub-Signature-256"], p.APP_SECRET)
    with transaction() as s:
        inbox.store_webhook(s, json.loads(raw), p.PHONE_NUMBER_ID)
    rasa = RecordingRasa()

    async def work() -> None:
        client = RasaClient("http://rasa.test:5005", transport=httpx.MockTransport(rasa))
        worker = InboxWorker(client, Settings())

        async def action_server_up() -> bool:
            return True

        worker.action_server_up = action_server_up  # type: ignore[method-assign]
        try:
            while await worker.run_once():
                pass
        finally:
            await client.aclose()

    asyncio.run(work())
    return rasa


def test_a_receipt_photo_in_the_chat_is_filed_as_a_proof(db_url, frozen_clock):
    with transaction() as s:
        booking = _held(s, phone="+61412600099")
        ops, _ = _ops(s)
        booking_id, reference, ops_phone = booking.id, booking.reference, ops.phone
        first_expiry = inventory.active_hold(s, booking).expires_at
    rasa = _webhook_arrives(
        message(
            "+61412600099",
            "image",
            {"id": "MEDIA-R1", "mime_type": "image/jpeg", "caption": f"Paid USD 2052 {reference}"},
        )
    )
    assert rasa.sent == []  # not a turn for the assistant
    with transaction() as s:
        [proof] = s.scalars(select(PaymentProof).where(PaymentProof.booking_id == booking_id))
        assert (proof.source, proof.status, proof.method) == ("chat", "PENDING", "bank_transfer")
        assert (proof.stated_amount_minor, proof.stated_currency) == (2_052_00, "USD")
        media = s.get(MediaAttachment, proof.media_id)
        assert media.status == "PENDING" and media.kind == "image"
        booking = s.get(Booking, booking_id)
        assert _bodies(s, "+61412600099") == [texts.proof_received(booking)]
        assert any(reference in b and "receipt to check" in b for b in _bodies(s, ops_phone))
        assert booking.status == BookingStatus.HELD
        assert inventory.active_hold(s, booking).expires_at > first_expiry
    # The fetcher stores the file; the proof reads it from then on.
    fetcher = MediaFetcher(_Graph(JPEG), Settings())  # type: ignore[arg-type]
    assert asyncio.run(fetcher.run_once()) == 1
    with transaction() as s:
        [pending] = payment_proofs.pending(s)
        assert pending.sha256 == hashlib.sha256(JPEG).hexdigest()
        content, kind = payment_proofs.read_file(s, pending, SYSTEM)
        assert (content, kind) == (JPEG, "image/jpeg")


def test_media_without_a_booking_awaiting_payment_goes_where_it_went(db_url, frozen_clock):
    rasa = _webhook_arrives(
        message("+61412600098", "image", {"id": "MEDIA-R2", "mime_type": "image/jpeg"})
    )
    assert rasa.sent == []
    with transaction() as s:
        assert s.scalar(select(PaymentProof.id)) is None
        assert _bodies(s, "+61412600098") == [texts.media_received("image")]


def test_our_outgoing_transfers_receipt_is_checked_without_booking_money(session, frozen_clock):
    booking = _held(session)
    ops, actor = _ops(session)
    proof = _upload(session, booking, data=PDF, direction="out", stated_amount_minor=500_00,
                    stated_currency="USD")  # fmt: skip
    assert proof.direction == "out"
    assert not any("receipt to check" in b for b in _bodies(session, ops.phone))  # no alert
    assert inventory.active_hold(session, booking).expires_at < clock.now() + timedelta(days=2)
    received = payment_proofs.verify(
        session, proof.id, amount_minor=500_00, currency="USD", value_date=clock.local_today(),
        actor=actor,
    )  # fmt: skip
    assert received.entry is None and ledger.entries_of(session, booking) == []
    assert proof.status == ProofStatus.VERIFIED and proof.flags == []
    assert booking.status == BookingStatus.HELD


def test_a_confirmed_bookings_photo_is_a_receipt_only_when_it_speaks_of_paying(
    session, frozen_clock
):
    held = _held(session)
    confirmed = factories.confirmed_booking(session, held.departure, 1)

    def row(kind, content):
        return InboundMessage(message_type=kind, payload={kind: content})

    photo = {"id": "M", "mime_type": "image/jpeg"}
    # A hold: any photo or PDF now is most likely the receipt.
    assert payment_proofs.chat_receipt_booking(session, row("image", photo), held.contact) is held
    # A confirmed booking's balance: a trip photo is not; a caption about paying or a PDF is.
    contact = confirmed.contact
    assert payment_proofs.chat_receipt_booking(session, row("image", photo), contact) is None
    with_caption = {**photo, "caption": "Balance paid by bank transfer"}
    assert (
        payment_proofs.chat_receipt_booking(session, row("image", with_caption), contact)
        is confirmed
    )
    pdf = {"id": "D", "mime_type": "application/pdf", "filename": "swift.pdf"}
    assert payment_proofs.chat_receipt_booking(session, row("document", pdf), contact) is confirmed
    # Not a photo or PDF, or staff, or nothing owed: not a receipt.
    doc = {"id": "D", "mime_type": "application/msword"}
    assert payment_proofs.chat_receipt_booking(session, row("document", doc), held.contact) is None
    assert payment_proofs.chat_receipt_booking(session, row("audio", photo), held.contact) is None
