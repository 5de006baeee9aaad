"""The scheduler's footprint inside business transactions.

`touch` notes that an object changed so its timers are looked at again; `record_notice`
claims a timed notice before it is sent, so it goes out once even if two schedulers race.
Both write in the caller's transaction: they commit or roll back with the change itself.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, event, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend import clock
from backend.domain.enums import ObjectType
from backend.models import SentNotice, TimerTouch

# The object types some timer depends on (see backend/scheduler/kinds.py).
WATCHED_TYPES = frozenset(
    {
        ObjectType.LEAD,
        ObjectType.BOOKING,
        ObjectType.WAITLIST_ENTRY,
        ObjectType.TRIP,
        ObjectType.ASSIGNMENT,
        ObjectType.INCIDENT,
        ObjectType.MOVE_OFFER,
        ObjectType.DEPARTURE,
    }
)
_TOUCHED_KEY = "tms_timer_touches"


def touch(session: Session, object_type: str, object_id: str) -> None:
    """Ask the scheduler to re-evaluate the timers of this object (once per transaction)."""
    if object_type not in WATCHED_TYPES:
        return
    seen: set[tuple[str, str]] = session.info.setdefault(_TOUCHED_KEY, set())
    key = (str(object_type), object_id)
    if key in seen:
        return
    seen.add(key)
    session.add(TimerTouch(object_type=key[0], object_id=object_id, touched_at=clock.now()))


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_touches(session: Session) -> None:
    # The next transaction on a long-lived session starts with nothing noted.
    session.info.pop(_TOUCHED_KEY, None)


def notice_recorded(session: Session, kind: str, subject_id: str) -> bool:
    return (
        session.scalar(
            select(SentNotice.id).where(
                SentNotice.kind == kind, SentNotice.subject_id == subject_id
            )
        )
        is not None
    )


def record_notice(
    session: Session, kind: str, subject_id: str, *, outcome: str = "sent", detail: str = ""
) -> bool:
    """Claim the notice (kind, subject); False when it was already sent or skipped."""
    if notice_recorded(session, kind, subject_id):
        return False
    try:
        with session.begin_nested():
            session.add(
                SentNotice(
                    kind=kind,
                    subject_id=subject_id,
                    outcome=outcome,
                    detail=detail[:200] or None,
                    recorded_at=clock.now(),
                )
            )
    except IntegrityError:
        # Another scheduler claimed it a moment ago.
        return False
    return True


def forget_notice(session: Session, kind: str, subject_id: str) -> None:
    """The subject starts a new round (an assignment offered again): its notice may go again.
    The timeline keeps the history; `sent_notices` only guards against sending twice."""
    session.execute(
        delete(SentNotice).where(SentNotice.kind == kind, SentNotice.subject_id == subject_id)
    )


def forget_dated_notices(
    session: Session, subject_id: str, kinds: Iterable[str], prefixes: Iterable[str] = ()
) -> None:
    """The subject's dates changed (a booking moved to another departure): notices whose moment
    followed the old dates may go again on the new ones. Call with `touch` so they are planned."""
    session.execute(
        delete(SentNotice).where(
            SentNotice.subject_id == subject_id,
            or_(
                SentNotice.kind.in_([str(k) for k in kinds]),
                *(SentNotice.kind.startswith(p) for p in prefixes),
            ),
        )
    )
