"""Photos sent in the chat for the traveller file: each filed on the next traveller lacking
one (the customer told whose), sealed as soon as the media fetcher has the bytes, never kept
in the media folder in the clear; a receipt is still a receipt."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import select

from backend import clock
from backend.db import transaction
from backend.domain.actor import SYSTEM
from backend.models import Booking, MediaAttachment
from backend.services import travellers
from backend.services.media import SEALED
from backend.whatsapp.media import MediaFetcher
from tests import factories
from tests.backend.services.test_arrivals import arrive, message, sent_to

pytestmark = pytest.mark.usefixtures("pg_db_url", "frozen_clock")


def _booking(size: int = 2) -> tuple[str, str]:
    with transaction() as s:
        dep = factories.departure(
            s, factories.ebc(s), start=clock.local_today() + timedelta(days=40)
        )
        booking = factories.confirmed_booking(s, dep, size)
        travellers.save(s, booking, 1, {"full_name": "Emma Clarke"}, SYSTEM)
        return booking.id, booking.contact.phone


def _photo(phone: str, media_id: str, caption: str | None = None) -> dict:
    content = {"id": media_id, "mime_type": "image/jpeg"}
    if caption:
        content["caption"] = caption
    return message(phone, "image", content)


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 90, 200)).save(out, "JPEG")
    return out.getvalue()


def _fetch_all(tmp_path) -> None:
    """The media fetcher's store step for every pending file (the download itself is the
    fake Graph API's business, tested in tests/backend/whatsapp)."""
    fetcher = MediaFetcher(graph=None)  # type: ignore[arg-type]
    claimed, token = fetcher._claim()
    for attachment_id, _media_id in claimed:
        fetcher._stored(attachment_id, token, _jpeg(), "image/jpeg")


def test_passport_photos_go_to_the_next_traveller_and_are_sealed(tmp_path, monkeypatch):
    monkeypatch.setenv("MEDIA_DIR", str(tmp_path))
    booking_id, phone = _booking(2)
    arrive(_photo(phone, "M1", "passport"), _photo(phone, "M2"))
    replies = sent_to(phone)[-2:]
    assert "Filed as Emma Clarke's photo of the passport's photo page" in replies[0]
    assert "Filed as traveller 2's photo of the passport's photo page" in replies[1]
    _fetch_all(tmp_path)
    with transaction() as s:
        booking = s.get(Booking, booking_id)
        first, second = travellers.ensure(s, booking)
        assert first.passport_photo_key and second.passport_photo_key
        assert first.passport_photo_media_id is None
        kept = s.scalars(select(MediaAttachment)).all()
        assert {m.status for m in kept} == {SEALED} and all(m.storage_key is None for m in kept)
    on_disk = [p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()]
    assert len(on_disk) == 2 and not any(b.startswith(b"\xff\xd8") for b in on_disk)


def test_a_selfie_is_a_portrait_and_a_caption_about_paying_is_not_a_passport(tmp_path, monkeypatch):
    monkeypatch.setenv("MEDIA_DIR", str(tmp_path))
    booking_id, phone = _booking(1)
    arrive(_photo(phone, "M3", "my selfie for the permit"))
    assert "portrait photo" in sent_to(phone)[-1]
    arrive(_photo(phone, "M4", "balance paid by transfer"))
    with transaction() as s:
        [traveller] = travellers.ensure(s, s.get(Booking, booking_id))
        assert traveller.portrait_photo_media_id and traveller.passport_photo_media_id is None


def test_a_username_customers_passport_photo_is_sealed(tmp_path, monkeypatch):
    """Known only by a BSUID: the seal's timeline entry names no phone, and nothing fails."""
    monkeypatch.setenv("MEDIA_DIR", str(tmp_path))
    bsuid = "GB.13491208655302741918"
    booking_id, _ = _booking(1)
    with transaction() as s:
        contact = s.get(Booking, booking_id).contact
        contact.phone, contact.user_id = None, bsuid
    photo = _photo("+61400000000", "M9", "passport")
    del photo["from"]
    photo["from_user_id"] = bsuid
    arrive(photo)
    assert "Filed as Emma Clarke's photo" in sent_to(bsuid)[-1]
    _fetch_all(tmp_path)
    with transaction() as s:
        (traveller,) = travellers.ensure(s, s.get(Booking, booking_id))
        assert traveller.passport_photo_key
        assert s.scalar(select(MediaAttachment.status)) == SEALED
