"""The console's timeline page, every role that may open it × every event kind
(tests/backend/event_kinds.py): what the admin API and the live stream hide from a role, the
console hides too. The same for a file from the field: a trip's photo is operations'."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from backend import clock
from backend.db import transaction
from backend.domain.actor import SYSTEM
from backend.domain.enums import Role
from backend.models import InboundMessage, MediaAttachment, Trip
from backend.services import staff as staff_service
from tests.backend import event_kinds

SARAH, PRIYA, ANIL = "+9779801000001", "+9779801000002", "+9779801000009"
READERS = {Role.SALES: SARAH, Role.OPS: PRIYA, Role.ADMIN: ANIL}


@pytest.fixture
def recorded(console, pg_db_url):
    with transaction(pg_db_url) as s:
        staff_service.add_staff(
            s, name="Field guide", phone=event_kinds.STAFF_PHONE, roles=[Role.GUIDE], actor=SYSTEM
        )
    with transaction(pg_db_url) as s:
        return event_kinds.record_all(s, "console")


@pytest.mark.parametrize("role", list(READERS))
def test_the_timeline_page_shows_each_role_the_event_kinds_the_table_gives_it(
    console, recorded, role
):
    browser = console.sign_in(READERS[role])
    wrong = []
    for n, kind in enumerate(event_kinds.KINDS):
        page = browser.get(
            "/console/timeline",
            params={"object_type": kind.object_type, "object_id": f"console-{n}"},
        )
        assert page.status_code == 200, (kind.label, page.status_code)
        shown = f"<code>{kind.action}</code>" in page.text
        if shown != event_kinds.may_read(kind, role):
            wrong.append(f"{'shown' if shown else 'hidden'}: {kind.label}")
    assert not wrong, wrong


def _field_photo(db: str) -> str:
    """A guide's photo filed on a trip, not yet downloaded (its page answer says so)."""
    with transaction(db) as s:
        trip = s.scalars(select(Trip).limit(1)).one()
        message = InboundMessage(
            wamid="wamid.console-visibility-photo",
            from_phone=event_kinds.STAFF_PHONE,
            message_type="image",
            payload={},
            stored_at=clock.now(),
        )
        s.add(message)
        s.flush()
        attachment = MediaAttachment(
            inbound_message_id=message.id,
            from_phone=event_kinds.STAFF_PHONE,
            kind="image",
            media_id="media-1",
            trip_id=trip.id,
            status="PENDING",
            attempts=0,
        )
        s.add(attachment)
        s.flush()
        return attachment.id


def test_sales_cannot_open_a_trips_photo_that_ops_can(console, pg_db_url):
    attachment_id = _field_photo(pg_db_url)
    sales = console.sign_in(SARAH).get(f"/console/media/{attachment_id}")
    ops = console.sign_in(PRIYA).get(f"/console/media/{attachment_id}")
    # The same status either way (nothing tells SALES the file exists), but only OPS gets
    # past the check to the file itself, which has not been downloaded yet.
    assert sales.status_code == ops.status_code == 404
    assert "No such file" in sales.text and "not been downloaded" not in sales.text
    assert "not been downloaded" in ops.text
