"""The traveller file: every rule about travellers' papers, for every entry point (the
customer's page, the WhatsApp Flow and photos in the chat, the console, the admin API).

A booking of party N has N travellers (`ensure`). Details are checked by
`backend.domain.travellers.check`, sealed at rest (`backend.sealing`) and opened only for a
reader whose roles see `Area.TRAVELLER_PAPERS` (OPS, ADMIN), or for the customer's own page;
each staff view and export is on the booking's timeline (who, what, when), never the values.
What stays in the clear is what SALES may see: names, what is missing, the flags.
Ops verifies each traveller and locks a booking's papers; a departure is "papers ready" when
every traveller of its live bookings is verified.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from PIL import Image
from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from backend import clock, sealing
from backend.config import get_settings
from backend.domain import access
from backend.domain import travellers as rules
from backend.domain.actor import Actor
from backend.domain.areas import Area
from backend.domain.enums import BookingStatus, ObjectType, Source
from backend.domain.errors import DomainError, NotFound
from backend.domain.permits import PERMITS, fields_for
from backend.models import Booking, Departure, Incident, Staff, Traveller, Trip
from backend.services import media_files, timeline

# A live booking's travellers count towards a departure's papers (a cancelled one's don't).
LIVE = (BookingStatus.HELD, BookingStatus.CONFIRMED, BookingStatus.COMPLETED)
PHOTO_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
# Pillow refuses images beyond this many pixels (a decompression bomb): a passport photo page
# from a 50-megapixel phone is well under it.
MAX_PHOTO_PIXELS = 60_000_000


class PapersLocked(DomainError):
    code = "papers_locked"


class PapersRefused(DomainError):
    """A photo that is not one, too big, or a traveller who is not there."""

    code = "papers_refused"


class NotAllowed(DomainError):
    code = "forbidden"


@dataclass(frozen=True)
class Saved:
    traveller: Traveller
    errors: dict[str, str]  # field name → what to correct (those fields were not saved)
    changed: list[str]  # field names saved with a new value


@dataclass
class BookingPapers:
    booking: Booking
    travellers: list[Traveller]
    complete: int = 0
    verified: int = 0
    flags: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.travellers)


@dataclass
class Readiness:
    departure: Departure
    bookings: list[BookingPapers]

    @property
    def total(self) -> int:
        return sum(b.total for b in self.bookings)

    @property
    def complete(self) -> int:
        return sum(b.complete for b in self.bookings)

    @property
    def verified(self) -> int:
        return sum(b.verified for b in self.bookings)

    @property
    def papers_ready(self) -> bool:
        return self.total > 0 and self.verified == self.total


def trip_of(booking: Booking) -> rules.Trip:
    departure = booking.departure
    return rules.Trip(departure.start_date, departure.end_date, departure.product.max_altitude_m)


def may_read(member: Staff) -> bool:
    return access.may_see(member.roles, Area.TRAVELLER_PAPERS)


def _require_reader(member: Staff) -> None:
    if not may_read(member):
        raise NotAllowed("Only operations and administrators see travellers' papers")


# -- The rows -------------------------------------------------------------------------------


def ensure(session: Session, booking: Booking) -> list[Traveller]:
    """The booking's travellers, one per seat, created as needed (positions 1..party)."""
    rows = {t.position: t for t in _rows(session, booking)}
    for position in range(1, booking.party_size + 1):
        if position not in rows:
            row = Traveller(
                booking_id=booking.id,
                position=position,
                missing=rules.missing({}, {}),
                flags=[],
                updated_at=clock.now(),
            )
            session.add(row)
            rows[position] = row
    session.flush()
    return [rows[p] for p in sorted(rows) if p <= booking.party_size]


def _rows(session: Session, booking: Booking) -> list[Traveller]:
    return list(
        session.scalars(
            select(Traveller).where(Traveller.booking_id == booking.id).order_by(Traveller.position)
        )
    )


def get(session: Session, booking: Booking, position: int) -> Traveller:
    for row in ensure(session, booking):
        if row.position == position:
            return row
    raise NotFound(
        f"Booking {booking.reference} has {booking.party_size} traveller"
        f"{'s' if booking.party_size != 1 else ''}; there is no traveller {position}"
    )


def values_of(traveller: Traveller) -> dict[str, Any]:
    """The traveller's details, opened (no check of who asks: callers do)."""
    sealed: dict[str, Any] = (
        rules.from_json(sealing.open_json(traveller.sealed_details))
        if traveller.sealed_details
        else {}
    )
    sealed["full_name"] = traveller.full_name
    return sealed


def _photos(traveller: Traveller) -> dict[str, bool]:
    return {
        "passport_photo": traveller.passport_photo_key is not None,
        "portrait_photo": traveller.portrait_photo_key is not None,
    }


# -- Reading, for staff (logged) and the customer's own page ----------------------------------


def read_for_staff(
    session: Session, booking: Booking, member: Staff, *, why: str = "viewed"
) -> list[tuple[Traveller, dict[str, Any]]]:
    """The booking's travellers with their details, for OPS and ADMIN; the view is recorded."""
    _require_reader(member)
    rows = ensure(session, booking)
    _log_view(session, booking, member, why, [t.position for t in rows])
    return [(t, values_of(t)) for t in rows]


def read_for_customer(session: Session, booking: Booking) -> list[tuple[Traveller, dict[str, Any]]]:
    """For the customer's own page (the signed link is the proof of who asks)."""
    return [(t, values_of(t)) for t in ensure(session, booking)]


def _log_view(
    session: Session, booking: Booking, member: Staff, why: str, positions: Sequence[int]
) -> None:
    timeline.record(
        session,
        object_type=ObjectType.BOOKING,
        object_id=booking.id,
        event_type="TRAVELLER_PAPERS_READ",
        action="tms.traveller.papers_read",
        actor=Actor(Source.ADMIN, staff_id=member.id),
        content={"booking": booking.reference, "what": why, "travellers": list(positions)},
    )


# -- Changing --------------------------------------------------------------------------------


def save(
    session: Session,
    booking: Booking,
    position: int,
    raw: Mapping[str, Any],
    actor: Actor,
    *,
    all_or_nothing: bool = False,
    source: str = "page",
) -> Saved:
    """Check and save the given fields (by field name). The page and the Flow save what is
    right and say what to correct; the admin API (`all_or_nothing`) saves nothing when one
    field is wrong. Locked papers are refused (PapersLocked)."""
    traveller = get(session, booking, position)
    if traveller.locked_at is not None:
        raise PapersLocked(
            f"The travellers' details of booking {booking.reference} are locked: operations "
            "have checked them for the permits. Reply on WhatsApp to change something."
        )
    checked = rules.check(raw, trip_of(booking), clock.local_today())
    if checked.errors and all_or_nothing:
        raise rules.TravellerInvalid(checked.errors)
    values = values_of(traveller)
    changed = [name for name, value in checked.values.items() if values.get(name) != value]
    if changed:
        values.update({name: checked.values[name] for name in changed})
        _store(traveller, values)
        if traveller.verified_at is not None and "changed_after_verification" not in (
            traveller.flags or []
        ):
            traveller.flags = [*traveller.flags, "changed_after_verification"]
        timeline.record(
            session,
            object_type=ObjectType.BOOKING,
            object_id=booking.id,
            event_type="TRAVELLER_UPDATED",
            action="tms.traveller.updated",
            actor=actor,
            content={
                "booking": booking.reference,
                "traveller": position,
                "changed": [rules.BY_NAME[n].label.lower() for n in changed],
                "source": source,
                "missing": len(traveller.missing),
            },
        )
    session.flush()
    return Saved(traveller, checked.errors, changed)


def _store(traveller: Traveller, values: Mapping[str, Any]) -> None:
    sealed = {k: v for k, v in values.items() if k != "full_name" and v is not None}
    traveller.full_name = values.get("full_name")
    traveller.sealed_details = sealing.seal_json(rules.to_json(sealed)) if sealed else None
    _recount(traveller, values)


def _recount(traveller: Traveller, values: Mapping[str, Any] | None = None) -> None:
    values = values if values is not None else values_of(traveller)
    booking_trip = _trip_for_row(traveller)
    traveller.missing = rules.missing(values, _photos(traveller))
    kept = [f for f in (traveller.flags or []) if f == "changed_after_verification"]
    traveller.flags = rules.flags(values, booking_trip) + kept
    traveller.updated_at = clock.now()


def _trip_for_row(traveller: Traveller) -> rules.Trip:
    session = Session.object_session(traveller)
    assert session is not None
    booking = session.get(Booking, traveller.booking_id)
    assert booking is not None
    return trip_of(booking)


def file_photo(
    session: Session,
    booking: Booking,
    kind: str,
    data: bytes,
    actor: Actor,
    *,
    position: int | None = None,
    source: str = "page",
) -> Traveller:
    """File a passport or portrait photo on traveller `position`, or (None: a photo sent in
    the chat) on the first traveller who lacks one. Refused when it is not a JPEG, PNG or WebP
    image, too big, or bigger than MAX_PHOTO_PIXELS once decoded."""
    if kind not in rules.PHOTOS:
        raise ValueError(f"no such photo: {kind}")
    content_type = check_photo(data)
    rows = ensure(session, booking)
    if position is None:
        wanted = next((t for t in rows if getattr(t, f"{kind}_key") is None), None)
        if wanted is None:
            raise PapersRefused(
                f"Every traveller of booking {booking.reference} already has {rules.PHOTOS[kind]}"
            )
        traveller = wanted
    else:
        traveller = get(session, booking, position)
    if traveller.locked_at is not None:
        raise PapersLocked(
            f"The travellers' details of booking {booking.reference} are locked: reply on "
            "WhatsApp to change something."
        )
    key = f"travellers/{uuid.uuid4().hex}"
    media_files.put(key, sealing.seal_bytes(data))
    old = getattr(traveller, f"{kind}_key")
    setattr(traveller, f"{kind}_key", key)
    setattr(traveller, f"{kind}_type", content_type)
    if old:
        media_files.delete(old)
    if traveller.verified_at is not None and "changed_after_verification" not in traveller.flags:
        traveller.flags = [*traveller.flags, "changed_after_verification"]
    _recount(traveller)
    timeline.record(
        session,
        object_type=ObjectType.BOOKING,
        object_id=booking.id,
        event_type="TRAVELLER_PHOTO_FILED",
        action="tms.traveller.photo_filed",
        actor=actor,
        content={
            "booking": booking.reference,
            "traveller": traveller.position,
            "photo": kind,
            "source": source,
        },
    )
    session.flush()
    return traveller


def check_photo(data: bytes) -> str:
    """The photo's type, or PapersRefused with what to send instead."""
    limit = get_settings().traveller_photo_max_bytes
    if not data:
        raise PapersRefused("The file is empty: please choose a photo.")
    if len(data) > limit:
        raise PapersRefused(
            f"The photo is too big ({len(data) // (1024 * 1024)} MB); at most "
            f"{limit // (1024 * 1024)} MB."
        )
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind = image.format or ""
            width, height = image.size
            if width * height > MAX_PHOTO_PIXELS:
                raise PapersRefused("That image is far too large: please send an ordinary photo.")
            image.verify()
    except PapersRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise PapersRefused("That image is far too large: please send an ordinary photo.") from exc
    except Exception as exc:  # Pillow raises many kinds for a file that is not an image
        raise PapersRefused("That file is not a photo: please send a JPEG or PNG photo.") from exc
    if kind not in PHOTO_TYPES:
        raise PapersRefused("That file is not a photo: please send a JPEG, PNG or WebP photo.")
    return PHOTO_TYPES[kind]


def photo_for_staff(
    session: Session, booking: Booking, position: int, kind: str, member: Staff
) -> tuple[bytes, str]:
    _require_reader(member)
    traveller = get(session, booking, position)
    key = getattr(traveller, f"{kind}_key", None) if kind in rules.PHOTOS else None
    if not key:
        raise PapersRefused(f"Traveller {position} has no {rules.PHOTOS.get(kind, kind)}")
    _log_view(session, booking, member, kind, [position])
    return sealing.open_bytes(
        media_files.get(key, missing="The photo's file is missing from the media folder")
    ), getattr(traveller, f"{kind}_type") or "image/jpeg"


def verify(session: Session, booking: Booking, position: int, member: Staff) -> Traveller:
    """Ops checked the photos against the details: complete papers only."""
    _require_reader(member)
    traveller = get(session, booking, position)
    if traveller.missing:
        raise PapersRefused(
            f"Traveller {position} is not complete yet: "
            + ", ".join(rules.missing_words(list(traveller.missing)))
        )
    traveller.verified_at = clock.now()
    traveller.verified_by = member.id
    traveller.flags = [f for f in traveller.flags if f != "changed_after_verification"]
    timeline.record(
        session,
        object_type=ObjectType.BOOKING,
        object_id=booking.id,
        event_type="TRAVELLER_VERIFIED",
        action="tms.traveller.verified",
        actor=Actor(Source.ADMIN, staff_id=member.id),
        content={"booking": booking.reference, "traveller": position},
    )
    session.flush()
    return traveller


def set_locked(session: Session, booking: Booking, member: Staff, *, locked: bool) -> None:
    """Lock (or reopen) every traveller's details of the booking."""
    _require_reader(member)
    now = clock.now()
    for traveller in ensure(session, booking):
        traveller.locked_at = now if locked else None
        traveller.locked_by = member.id if locked else None
    timeline.record(
        session,
        object_type=ObjectType.BOOKING,
        object_id=booking.id,
        event_type="TRAVELLER_PAPERS_LOCKED" if locked else "TRAVELLER_PAPERS_REOPENED",
        action="tms.traveller.locked" if locked else "tms.traveller.reopened",
        actor=Actor(Source.ADMIN, staff_id=member.id),
        content={"booking": booking.reference},
    )
    session.flush()


# -- A departure's papers ----------------------------------------------------------------------


def live_bookings(session: Session, departure: Departure) -> list[Booking]:
    return list(
        session.scalars(
            select(Booking)
            .where(Booking.departure_id == departure.id, Booking.status.in_(LIVE))
            .order_by(Booking.reference)
        )
    )


def readiness(session: Session, departure: Departure) -> Readiness:
    """Completeness and flags per booking: no sealed value is opened (SALES may read it)."""
    out = []
    for booking in live_bookings(session, departure):
        rows = ensure(session, booking)
        papers = BookingPapers(booking, rows)
        for row in rows:
            papers.complete += not row.missing
            papers.verified += row.verified_at is not None
            papers.flags += [f for f in row.flags if f not in papers.flags]
        out.append(papers)
    return Readiness(departure, out)


def permit_rows(
    session: Session, departure: Departure, member: Staff
) -> tuple[list[str], list[list[str]]]:
    """The permit worksheet: a row per traveller of the departure's live bookings, a column per
    field the product's permits ask for. The export is recorded on each booking."""
    _require_reader(member)
    codes = list(departure.product.permits or [])
    names = fields_for(codes) or ("full_name", "nationality", "passport_number")
    header = ["Booking", "Traveller", *[rules.BY_NAME[n].label for n in names], "Permits"]
    permit_names = "; ".join(PERMITS[c].code for c in codes if c in PERMITS) or "none"
    rows: list[list[str]] = []
    for booking in live_bookings(session, departure):
        travellers = ensure(session, booking)
        _log_view(session, booking, member, "permit worksheet", [t.position for t in travellers])
        for traveller in travellers:
            values = values_of(traveller)
            rows.append(
                [
                    booking.reference,
                    str(traveller.position),
                    *[_cell(values.get(n)) for n in names],
                    permit_names,
                ]
            )
    return header, rows


def permits_csv(session: Session, departure: Departure, member: Staff) -> str:
    header, rows = permit_rows(session, departure, member)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        # A cell a spreadsheet would run as a formula starts with a quote instead.
        writer.writerow(["'" + c if c[:1] in ("=", "+", "-", "@") else c for c in row])
    return out.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


# -- Purging -------------------------------------------------------------------------------


def purge_due(session: Session) -> int:
    """Purge the papers of trips that ended `TRAVELLER_PURGE_DAYS` ago (default 90): the
    sealed details and the photos go, the name and the timeline stay. A trip with an incident
    still open, or resolved less than that long ago, keeps its papers: the incident dossier
    and the insurer's claim need them. Returns how many."""
    days = timedelta(days=get_settings().traveller_purge_days)
    cutoff = clock.local_today() - days
    claim_open = exists().where(
        Trip.departure_id == Departure.id,
        Incident.trip_id == Trip.id,
        or_(Incident.resolved_at.is_(None), Incident.resolved_at > clock.now() - days),
    )
    due = session.scalars(
        select(Traveller)
        .join(Booking, Booking.id == Traveller.booking_id)
        .join(Departure, Departure.id == Booking.departure_id)
        .where(Departure.end_date < cutoff, Traveller.purged_at.is_(None), ~claim_open)
    )
    count = 0
    for traveller in due:
        purge(session, traveller, reason="retention")
        count += 1
    return count


def purge(session: Session, traveller: Traveller, *, reason: str) -> None:
    for kind in rules.PHOTOS:
        key = getattr(traveller, f"{kind}_key")
        if key:
            media_files.delete(key)
        setattr(traveller, f"{kind}_key", None)
        setattr(traveller, f"{kind}_type", None)
    traveller.sealed_details = None
    traveller.purged_at = clock.now()
    traveller.missing = []
    traveller.flags = []
    booking = session.get(Booking, traveller.booking_id)
    assert booking is not None
    timeline.record(
        session,
        object_type=ObjectType.BOOKING,
        object_id=booking.id,
        event_type="TRAVELLER_PAPERS_PURGED",
        action="tms.traveller.purged",
        actor=Actor(Source.SYSTEM),
        content={"booking": booking.reference, "traveller": traveller.position, "why": reason},
    )


# -- For the other exports of a departure's papers ---------------------------------------------


def log_read(
    session: Session, booking: Booking, member: Staff, what: str, positions: Sequence[int]
) -> None:
    """Record a read of the booking's papers whose reader a caller has already checked (the
    lead guide's manifest: `backend.services.traveller_papers_pdf`)."""
    _log_view(session, booking, member, what, positions)


def reseal_all(session: Session) -> tuple[int, int]:
    """Key rotation: every sealed value and photo re-sealed under the newest key of
    TRAVELLER_DATA_KEYS (the older keys can go once this has run). (travellers, photos)."""
    rows = photos = 0
    for traveller in session.scalars(select(Traveller).where(Traveller.purged_at.is_(None))):
        if traveller.sealed_details:
            traveller.sealed_details = sealing.reseal(traveller.sealed_details.encode()).decode()
            rows += 1
        for kind in rules.PHOTOS:
            key = getattr(traveller, f"{kind}_key")
            if key:
                media_files.put(key, sealing.reseal(media_files.get(key)))
                photos += 1
    session.flush()
    return rows, photos
