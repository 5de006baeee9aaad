"""The traveller file: a traveller per seat, details checked and sealed at rest, photos
checked and sealed, ops' verification and lock, a departure's readiness and permit worksheet
(every traveller of the departure, nothing of another), and the purge after the trip."""

import io
from datetime import timedelta
from pathlib import Path

import pytest
from dateutil.relativedelta import relativedelta
from PIL import Image
from sqlalchemy import select, text

from backend import clock
from backend.domain.actor import SYSTEM
from backend.domain.enums import Role
from backend.domain.errors import NotFound
from backend.models import TimelineEvent, Traveller
from backend.services import bookings, travellers
from tests import factories


def _world(session, size=3):
    product = factories.ebc(session)
    product.max_altitude_m = 5545
    product.permits = ["TIMS", "SNP", "KPLRM"]
    dep = factories.departure(session, product, start=clock.local_today() + timedelta(days=60))
    booking = factories.confirmed_booking(session, dep, size)
    ops = factories.staff(session, "Priya", Role.OPS)
    return booking, ops


def _details(booking, name="Emma Clarke", passport="P1234567"):
    dep = booking.departure
    return {
        "full_name": name,
        "nationality": "GB",
        "passport_number": passport,
        "passport_expiry": (dep.end_date + relativedelta(years=3)).isoformat(),
        "date_of_birth": (clock.local_today() - relativedelta(years=34)).isoformat(),
        "sex": "F",
        "insurer": "World Nomads",
        "policy_number": "WN-778812",
        "assistance_phone": "+442079460000",
        "covers_helicopter": True,
        "cover_altitude_m": 6000,
        "emergency_name": "Tom Clarke",
        "emergency_relationship": "brother",
        "emergency_phone": "+447911123456",
        "medical": "asthma; carries an inhaler",
        "arrival_flight": "QR652",
        "arrival_date": (dep.start_date - timedelta(days=2)).isoformat(),
    }


def _jpeg(size=(60, 40)):
    out = io.BytesIO()
    Image.new("RGB", size, (200, 120, 40)).save(out, "JPEG")
    return out.getvalue()


def _complete(session, booking, position, **kw):
    travellers.save(session, booking, position, _details(booking, **kw), SYSTEM)
    for kind in ("passport_photo", "portrait_photo"):
        travellers.file_photo(session, booking, kind, _jpeg(), SYSTEM, position=position)


def test_a_booking_has_a_traveller_per_seat_each_missing_everything(session, frozen_clock):
    booking, _ = _world(session, 3)
    rows = travellers.ensure(session, booking)
    assert [t.position for t in rows] == [1, 2, 3]
    assert "passport_number" in rows[0].missing and "portrait_photo" in rows[0].missing
    with pytest.raises(NotFound):
        travellers.get(session, booking, 4)


def test_right_fields_are_saved_and_wrong_ones_are_named(session, frozen_clock):
    booking, _ = _world(session)
    details = _details(booking) | {"emergency_phone": "call mum", "sex": "?"}
    saved = travellers.save(session, booking, 1, details, SYSTEM)
    assert set(saved.errors) == {"emergency_phone", "sex"}
    values = travellers.values_of(saved.traveller)
    assert values["passport_number"] == "P1234567" and values.get("sex") is None
    assert "sex" in saved.traveller.missing and "emergency_phone" in saved.traveller.missing


def test_the_api_way_saves_nothing_when_one_field_is_wrong(session, frozen_clock):
    booking, _ = _world(session)
    from backend.domain.travellers import TravellerInvalid

    with pytest.raises(TravellerInvalid) as caught:
        travellers.save(
            session, booking, 1, _details(booking) | {"sex": "?"}, SYSTEM, all_or_nothing=True
        )
    assert set(caught.value.errors) == {"sex"}
    assert travellers.values_of(travellers.get(session, booking, 1)).get("passport_number") is None


def test_sealed_values_are_nowhere_in_the_database_rows(session, frozen_clock):
    booking, _ = _world(session)
    _complete(session, booking, 1, passport="Q7654321")
    session.commit()
    dumped = " ".join(
        str(row)
        for table in ("travellers", "timeline_events")
        for row in session.execute(text(f"SELECT * FROM {table}"))
    )
    assert "Emma Clarke" in dumped  # the name is in the clear: reminders say whose papers
    for secret in ("Q7654321", "asthma", "WN-778812", "+447911123456"):
        assert secret not in dumped


def test_photos_are_sealed_and_filed_on_the_next_traveller_lacking_one(
    session, frozen_clock, tmp_path, monkeypatch
):
    monkeypatch.setenv("MEDIA_DIR", str(tmp_path))
    booking, ops = _world(session, 2)
    first = travellers.file_photo(session, booking, "passport_photo", _jpeg(), SYSTEM)
    second = travellers.file_photo(session, booking, "passport_photo", _jpeg((80, 50)), SYSTEM)
    assert (first.position, second.position) == (1, 2)
    stored = (tmp_path / first.passport_photo_key).read_bytes()
    assert not stored.startswith(b"\xff\xd8")  # sealed, not a JPEG on disk
    data, kind = travellers.photo_for_staff(session, booking, 1, "passport_photo", ops)
    assert data == _jpeg() and kind == "image/jpeg"
    with pytest.raises(travellers.PapersRefused, match="already has"):
        travellers.file_photo(session, booking, "passport_photo", _jpeg(), SYSTEM)


def _bomb() -> bytes:
    out = io.BytesIO()
    Image.new("1", (12_000, 12_000)).save(out, "PNG")  # 144 megapixels, a few kB
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"", "empty"),
        (b"%PDF-1.7 not a photo", "not a photo"),
        (b"\xff\xd8\xff\xe0 truncated", "not a photo"),
        (_bomb(), "far too large"),
    ],
)
def test_a_photo_that_is_not_one_is_refused(data, says):
    with pytest.raises(travellers.PapersRefused, match=says):
        travellers.check_photo(data)


def test_a_photo_over_the_size_limit_is_refused(monkeypatch):
    monkeypatch.setenv("TRAVELLER_PHOTO_MAX_BYTES", "1000")
    with pytest.raises(travellers.PapersRefused, match="too big"):
        travellers.check_photo(_jpeg((400, 400)) + b"\0" * 2000)


def test_only_ops_and_admin_read_the_papers_and_each_read_is_on_the_timeline(session, frozen_clock):
    booking, ops = _world(session)
    sales = factories.staff(session, "Sarah", Role.SALES)
    with pytest.raises(travellers.NotAllowed):
        travellers.read_for_staff(session, booking, sales)
    travellers.read_for_staff(session, booking, ops)
    reads = session.scalars(
        select(TimelineEvent).where(TimelineEvent.action == "tms.traveller.papers_read")
    ).all()
    assert [(e.actor_staff_id, e.object_id) for e in reads] == [(ops.id, booking.id)]


def test_verification_needs_complete_papers_and_a_later_change_is_flagged(
    session, frozen_clock, tmp_path, monkeypatch
):
    monkeypatch.setenv("MEDIA_DIR", str(tmp_path))
    booking, ops = _world(session, 1)
    travellers.save(session, booking, 1, _details(booking), SYSTEM)
    with pytest.raises(travellers.PapersRefused, match="a portrait photo"):
        travellers.verify(session, booking, 1, ops)
    _complete(session, booking, 1)
    row = travellers.verify(session, booking, 1, ops)
    assert row.verified_by == ops.id and row.flags == []
    travellers.save(session, booking, 1, {"diet": "vegan"}, SYSTEM)
    assert row.flags == ["changed_after_verification"]
    travellers.verify(session, booking, 1, ops)
    assert row.flags == []


def test_locked_papers_refuse_changes_until_reopened(session, frozen_clock):
    booking, ops = _world(session, 1)
    travellers.set_locked(session, booking, ops, locked=True)
    with pytest.raises(travellers.PapersLocked):
        travellers.save(session, booking, 1, {"diet": "vegan"}, SYSTEM)
    travellers.set_locked(session, booking, ops, locked=False)
    assert travellers.save(session, booking, 1, {"diet": "vegan"}, SYSTEM).changed == ["diet"]


def test_readiness_counts_live_bookings_and_gathers_flags(
    session, frozen_clock, tmp_path, monkeypatch
):
    monkeypatch.setenv("MEDIA_DIR", str(tmp_path))
    booking, ops = _world(session, 2)
    other = factories.confirmed_booking(session, booking.departure, 1)
    cancelled = factories.confirmed_booking(session, booking.departure, 1)
    bookings.cancel_booking(session, cancelled, SYSTEM)
    _complete(session, booking, 1)
    _complete(session, other, 1, name="Ann Lee")
    travellers.save(session, other, 1, {"cover_altitude_m": 5000}, SYSTEM)
    found = travellers.readiness(session, booking.departure)
    assert (found.total, found.complete, found.verified) == (3, 2, 0)
    assert {b.booking.reference: b.flags for b in found.bookings}[other.reference] == [
        "cover_below_altitude"
    ]
    assert not found.papers_ready
    _complete(session, booking, 2, name="Jo Clarke")
    for b, position in ((booking, 1), (booking, 2), (other, 1)):
        travellers.verify(session, b, position, ops)
    assert travellers.readiness(session, booking.departure).papers_ready


def test_the_permit_worksheet_holds_every_traveller_of_the_departure_and_no_other(
    session, frozen_clock
):
    booking, ops = _world(session, 2)
    travellers.save(session, booking, 1, _details(booking, passport="AA1111111"), SYSTEM)
    travellers.save(session, booking, 2, _details(booking, "=cmd()", "AA2222222"), SYSTEM)
    elsewhere = factories.departure(
        session, booking.departure.product, start=clock.local_today() + timedelta(days=90)
    )
    stranger = factories.confirmed_booking(session, elsewhere, 1)
    travellers.save(session, stranger, 1, _details(stranger, passport="ZZ9999999"), SYSTEM)
    sheet = travellers.permits_csv(session, booking.departure, ops)
    assert "AA1111111" in sheet and "AA2222222" in sheet and "ZZ9999999" not in sheet
    header = sheet.splitlines()[0]
    assert "Passport number" in header and "Insurance policy number" in header  # TIMS asks
    assert "Medical notes" not in header
    assert "=cmd()" not in sheet.replace("'=cmd()", "")  # no formula for a spreadsheet


def test_papers_are_purged_after_the_trip_and_the_name_stays(
    session, frozen_clock, tmp_path, monkeypatch
):
    monkeypatch.setenv("MEDIA_DIR", str(tmp_path))
    booking, _ = _world(session, 1)
    _complete(session, booking, 1)
    key = travellers.get(session, booking, 1).passport_photo_key
    assert travellers.purge_due(session) == 0
    end = booking.departure.end_date
    frozen_clock.advance(days=(end - clock.local_today()).days + 90)
    assert travellers.purge_due(session) == 0  # 90 days after: not yet
    frozen_clock.advance(days=1)
    assert travellers.purge_due(session) == 1
    row = session.scalar(select(Traveller).where(Traveller.booking_id == booking.id))
    assert row.sealed_details is None and row.passport_photo_key is None and row.purged_at
    assert row.full_name == "Emma Clarke" and not (tmp_path / key).exists()


def test_key_rotation_reseals_details_and_photos_under_the_newest_key(
    session, frozen_clock, tmp_path, monkeypatch
):
    from cryptography.fernet import Fernet

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    monkeypatch.setenv("MEDIA_DIR", str(tmp_path))
    monkeypatch.setenv("TRAVELLER_DATA_KEYS", old)
    booking, ops = _world(session, 1)
    _complete(session, booking, 1, passport="R1234567")
    monkeypatch.setenv("TRAVELLER_DATA_KEYS", f"{new},{old}")
    assert travellers.reseal_all(session) == (1, 2)
    monkeypatch.setenv("TRAVELLER_DATA_KEYS", new)  # the old key is gone
    [(_row, values)] = travellers.read_for_staff(session, booking, ops)
    assert values["passport_number"] == "R1234567"
    data, _ = travellers.photo_for_staff(session, booking, 1, "portrait_photo", ops)
    assert data == _jpeg()


def test_a_dump_of_the_database_reveals_no_sealed_value(session, db_url, frozen_clock):
    """What a stolen backup holds: `pg_dump`'s output, or the SQLite file itself."""
    import shutil
    import subprocess

    from sqlalchemy.engine import make_url

    booking, _ = _world(session, 1)
    travellers.save(session, booking, 1, _details(booking, passport="DUMP7654321"), SYSTEM)
    session.commit()
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        session.close()
        # The file and its write-ahead log, as a copy of the folder would hold them.
        files = [Path(url.database or ""), Path(f"{url.database}-wal")]
        dumped = b"".join(f.read_bytes() for f in files if f.exists())
    else:
        pg_dump = shutil.which("pg_dump")
        assert pg_dump, "pg_dump (postgresql-client) is installed by scripts/install-system-deps.sh"
        dumped = subprocess.run(
            [
                pg_dump,
                "-h",
                url.host or "127.0.0.1",
                "-p",
                str(url.port or 5432),
                "-U",
                url.username or "postgres",
                url.database or "",
            ],
            capture_output=True,
            check=True,
        ).stdout
    assert b"Emma Clarke" in dumped  # the dump is real: the name is in the clear
    for secret in (b"DUMP7654321", b"asthma", b"WN-778812", b"+447911123456"):
        assert secret not in dumped


def test_a_trip_with_an_incident_keeps_its_papers_for_the_claim(
    session, frozen_clock, tmp_path, monkeypatch
):
    from backend.domain.enums import IncidentStatus
    from backend.services import incidents, trips

    monkeypatch.setenv("MEDIA_DIR", str(tmp_path))
    booking, _ = _world(session, 1)
    _complete(session, booking, 1)
    trip = trips.ensure_trip(session, booking.departure, SYSTEM)
    incident = incidents.report_incident(
        session, trip, None, "Guest fell and hurt an ankle", SYSTEM, notify=False
    )
    end = booking.departure.end_date
    frozen_clock.advance(days=(end - clock.local_today()).days + 120)
    assert travellers.purge_due(session) == 0  # the incident is still open
    incidents.update_incident(session, incident, SYSTEM, status=IncidentStatus.RESOLVED)
    frozen_clock.advance(days=89)
    assert travellers.purge_due(session) == 0  # resolved less than 90 days ago
    frozen_clock.advance(days=2)
    assert travellers.purge_due(session) == 1
