"""Signing staff in to the console: a one-time code on WhatsApp, or a one-time link printed by
`tms staff login-link` for the first sign-in; then a session, ended by signing out or by time.

What an attacker gets to try is bounded, and bounded separately per client address and per
phone, so that a stranger's tries cannot lock the real person out (ASVS 2.2.1):
- a code lives 10 minutes and is used up by 20 wrong guesses (from anyone);
- a client address gets 10 wrong guesses, then waits 1 minute, 2, 4, … up to an hour;
- a phone takes 50 wrong guesses in all (a stranger alone, waiting as above, needs hours);
- a phone is sent one code, then the next after 1 minute, 2, 4, … up to 15 (each code costs
  the operator money, and every code sent reaches the real person's phone, where it works);
- a client address may ask for 20 codes, then waits 1 minute, 2, 4, … up to an hour.
A budget starts again after an hour without a try. The answer never says whether a phone
belongs to staff; a client over its own budget is told to wait (`TooManyTries`)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from backend import clock, texts
from backend.config import get_settings
from backend.db import is_sqlite, rows_affected
from backend.domain.actor import Actor
from backend.domain.enums import ObjectType, Source
from backend.domain.errors import DomainError
from backend.domain.phones import normalise_phone
from backend.models import SignInCode, SignInLimit, Staff, StaffSession
from backend.services import notifications, timeline
from backend.services import staff as staff_service

CODE_LIFETIME = timedelta(minutes=10)
# Wrong guesses, from anyone, that use a code up: far more than one client may make quickly.
CODE_ATTEMPTS = 20
LINK_LIFETIME = timedelta(hours=24)


@dataclass(frozen=True)
class Budget:
    """`free` tries in a row, then a wait before each further try: `first_wait`, doubling, at
    most `longest_wait`. An hour without a try starts the count again."""

    name: str
    free: int
    first_wait: timedelta
    longest_wait: timedelta
    quiet: timedelta = timedelta(hours=1)

    def wait_after(self, count: int) -> timedelta | None:
        if count < self.free:
            return None
        return min(self.first_wait * 2 ** min(count - self.free, 20), self.longest_wait)


MINUTE = timedelta(minutes=1)
GUESSES_PER_CLIENT = Budget("guess:addr", 10, MINUTE, timedelta(hours=1))
GUESSES_PER_PHONE = Budget("guess:phone", 50, timedelta(minutes=15), timedelta(hours=1))
CODES_PER_PHONE = Budget("send:phone", 1, MINUTE, timedelta(minutes=15))
CODES_PER_CLIENT = Budget("send:addr", 20, MINUTE, timedelta(hours=1))


class TooManyTries(Exception):
    """The client asking is over its own budget: it may try again in `retry_after` seconds."""

    def __init__(self, retry_after: timedelta) -> None:
        super().__init__(f"too many tries; wait {retry_after}")
        self.retry_after = max(1, int(retry_after.total_seconds() + 0.999))


def _limit_key(budget: Budget, subject: str) -> str:
    # A hash: the table holds no phone numbers or addresses of strangers.
    return f"{budget.name}:{hashlib.sha256(subject.encode()).hexdigest()[:48]}"


def _limit(session: Session, budget: Budget, subject: str) -> SignInLimit | None:
    return session.get(SignInLimit, _limit_key(budget, subject))


def wait_for(session: Session, budget: Budget, subject: str) -> timedelta | None:
    """How long `subject` must still wait before its next try, or None."""
    row = _limit(session, budget, subject)
    now = clock.now()
    if row is None or row.blocked_until is None or row.blocked_until <= now:
        return None
    return row.blocked_until - now


def spend(session: Session, budget: Budget, subject: str) -> None:
    """Count one try of `subject` (its row locked until the transaction ends, so that two
    processes count both)."""
    key = _limit_key(budget, subject)
    now = clock.now()
    insert = sqlite_insert if is_sqlite(session) else pg_insert
    session.execute(
        insert(SignInLimit)
        .values(key=key, count=0, last_at=now)
        .on_conflict_do_nothing(index_elements=["key"])
    )
    row = session.scalar(
        select(SignInLimit)
        .where(SignInLimit.key == key)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert row is not None
    if now - row.last_at > budget.quiet:
        row.count = 0
    row.count += 1
    row.last_at = now
    wait = budget.wait_after(row.count)
    row.blocked_until = now + wait if wait is not None else None


def _check_client(session: Session, budget: Budget, client: str) -> None:
    wait = wait_for(session, budget, client)
    if wait is not None:
        raise TooManyTries(wait)


def _phone_key(phone: str) -> str:
    """The same key for every way of writing one number (staff or not: the budgets must not
    tell a staff phone from another)."""
    try:
        return normalise_phone(phone, get_settings().default_region)
    except DomainError:
        return phone.strip()[:40]


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _code_hash(member_id: str, code: str, nonce: str | None = None) -> str:
    """`nonce` + a keyed hash of the code: six digits are guessable offline, keyed by the link
    secret they are not; the nonce makes every stored value different (the same six digits
    come up again sooner or later)."""
    nonce = nonce or secrets.token_hex(8)
    key = get_settings().link_secret.encode()
    digest = hmac.new(key, f"{member_id}:{nonce}:{code}".encode(), hashlib.sha256).hexdigest()
    return nonce + digest[:48]


def _code_matches(stored: str, member_id: str, code: str) -> bool:
    return hmac.compare_digest(stored, _code_hash(member_id, code, stored[:16]))


def new_code() -> str:
    """Six random digits (the tests replace this to know the code)."""
    return f"{secrets.randbelow(10**6):06d}"


def _actor(member: Staff) -> Actor:
    return Actor(Source.ADMIN, phone=member.phone, staff_id=member.id)


def _record(session: Session, member: Staff, action: str, **content: object) -> None:
    timeline.record(
        session,
        object_type=ObjectType.STAFF,
        object_id=member.id,
        event_type="SIGN_IN",
        action=f"tms.staff.{action}",
        actor=_actor(member),
        content=dict(content),
    )


def send_code(session: Session, phone: str, *, client: str = "") -> bool:
    """Send a sign-in code to an active staff member's WhatsApp. False when nothing was sent
    (not staff, or this phone was sent one moments ago); the caller shows the same page
    either way. Raises `TooManyTries` when `client` (its address) has asked too often."""
    _check_client(session, CODES_PER_CLIENT, client)
    spend(session, CODES_PER_CLIENT, client)
    key = _phone_key(phone)
    member = staff_service.by_phone(session, phone)
    if wait_for(session, CODES_PER_PHONE, key) is not None:
        if member is not None:
            _record(session, member, "sign_in.code_refused", reason="a code was sent moments ago")
        return False
    spend(session, CODES_PER_PHONE, key)
    if member is None:
        return False
    now = clock.now()
    # Earlier codes stay valid until they expire: someone asking for codes with a staff
    # member's number cannot cancel the one on their phone.
    code = new_code()
    session.add(
        SignInCode(
            staff_id=member.id,
            kind="code",
            secret_hash=_code_hash(member.id, code),
            expires_at=now + CODE_LIFETIME,
        )
    )
    notifications.to_staff(
        session,
        member,
        texts.staff_sign_in_code(code),
        purpose="staff_sign_in_code",
        template_params=[code],
    )
    _record(session, member, "sign_in.code_sent")
    return True


def check_code(session: Session, phone: str, code: str, *, client: str = "") -> Staff | None:
    """The staff member the code signs in, or None when it is wrong, expired, used up or not
    theirs (one answer for every failure). A wrong guess counts against the client's budget,
    the phone's and the codes waiting, so the caller commits either way. Raises
    `TooManyTries` (nothing counted) when `client` must wait."""
    _check_client(session, GUESSES_PER_CLIENT, client)
    key = _phone_key(phone)
    member = staff_service.by_phone(session, phone)
    digits = "".join(ch for ch in code if ch in "0123456789")[:6]
    now = clock.now()
    pending: list[SignInCode] = []
    if member is not None and wait_for(session, GUESSES_PER_PHONE, key) is None:
        pending = list(
            session.scalars(
                select(SignInCode)
                .where(
                    SignInCode.staff_id == member.id,
                    SignInCode.kind == "code",
                    SignInCode.used_at.is_(None),
                    SignInCode.expires_at > now,
                    SignInCode.attempts < CODE_ATTEMPTS,
                )
                .order_by(SignInCode.id)
                .with_for_update(of=SignInCode)
            )
        )
    right = (
        next((c for c in pending if _code_matches(c.secret_hash, member.id, digits)), None)
        if member is not None and len(digits) == 6
        else None
    )
    if right is None:
        spend(session, GUESSES_PER_CLIENT, client)
        spend(session, GUESSES_PER_PHONE, key)
        for waiting in pending:
            waiting.attempts += 1
            if waiting.attempts >= CODE_ATTEMPTS:
                waiting.used_at = now
        if member is not None and pending:
            _record(
                session, member, "sign_in.code_wrong", attempts=max(c.attempts for c in pending)
            )
        return None
    for waiting in pending:  # one sign-in uses up every code sent for it
        waiting.used_at = now
    return member


def login_link(session: Session, member: Staff, actor: Actor) -> str:
    """A one-time sign-in link on PUBLIC_BASE_URL, valid 24 hours."""
    if not member.active:
        raise DomainError(f"{member.name} is deactivated")
    secret = secrets.token_urlsafe(32)
    session.add(
        SignInCode(
            staff_id=member.id,
            kind="link",
            secret_hash=_hash(secret),
            expires_at=clock.now() + LINK_LIFETIME,
        )
    )
    timeline.record(
        session,
        object_type=ObjectType.STAFF,
        object_id=member.id,
        event_type="SIGN_IN",
        action="tms.staff.sign_in.link_created",
        actor=actor,
        content={},
    )
    return f"{get_settings().public_base_url.rstrip('/')}/console/sign-in/link/{secret}"


def use_link(session: Session, secret: str, *, client: str = "") -> Staff | None:
    """The staff member a one-time link signs in (and the link is used up), or None (which
    counts against the client's guesses; `TooManyTries` when it must wait)."""
    _check_client(session, GUESSES_PER_CLIENT, client)
    member = _link_member(session, secret)
    if member is None:
        spend(session, GUESSES_PER_CLIENT, client)
    return member


def _link_member(session: Session, secret: str) -> Staff | None:
    found = session.scalar(
        select(SignInCode)
        .where(SignInCode.secret_hash == _hash(secret), SignInCode.kind == "link")
        .with_for_update(of=SignInCode)
    )
    now = clock.now()
    if found is None or found.used_at is not None or found.expires_at <= now:
        return None
    if not found.staff.active:
        return None
    found.used_at = now
    return found.staff


def session_idle() -> timedelta:
    """A session ends after this long without a page (SESSION_IDLE_MINUTES)."""
    return timedelta(minutes=get_settings().session_idle_minutes)


def session_max() -> timedelta:
    """A session ends this long after its sign-in, used or not (SESSION_MAX_HOURS)."""
    return timedelta(hours=get_settings().session_max_hours)


@dataclass(frozen=True)
class Opened:
    cookie: str
    record: StaffSession


def open_session(
    session: Session,
    member: Staff,
    *,
    how: str,
    user_agent: str = "",
    client: str = "",
    replacing: str | None = None,
) -> Opened:
    """A new session for `member`; `replacing` (the cookie of the browser's session so far,
    when signing in again) ends that one: a browser holds one session at a time."""
    if replacing:
        old = session.get(StaffSession, _hash(replacing))
        if old is not None and old.ended_at is None:
            old.ended_at = clock.now()
    token = secrets.token_urlsafe(32)
    now = clock.now()
    record = StaffSession(
        id=_hash(token),
        staff_id=member.id,
        csrf_token=secrets.token_urlsafe(32),
        expires_at=now + min(session_idle(), session_max()),
        last_seen_at=now,
        user_agent=user_agent[:200] or None,
        client_address=client[:64] or None,
    )
    session.add(record)
    session.flush()
    _record(session, member, "signed_in", how=how)
    return Opened(token, record)


def _live(record: StaffSession, now: datetime) -> bool:
    # Read against today's settings too, so that shortening them takes effect at once.
    return (
        record.ended_at is None
        and record.expires_at > now
        and now - record.last_seen_at < session_idle()
        and now - record.created_at < session_max()
        and record.staff.active
    )


def current_session(
    session: Session, cookie: str | None, *, extend: bool = True
) -> StaffSession | None:
    """The live session of that cookie, or None. A person's request extends it (`extend`);
    what a page does by itself (the live stream, its background refreshes) does not, so an
    open tab nobody looks at still times out."""
    if not cookie or len(cookie) > 200:
        return None
    record = session.get(StaffSession, _hash(cookie))
    now = clock.now()
    if record is None or not _live(record, now):
        return None
    if extend and now - record.last_seen_at > timedelta(minutes=1):
        record.last_seen_at = now
        record.expires_at = min(now + session_idle(), record.created_at + session_max())
    return record


def is_fresh(record: StaffSession) -> bool:
    """Signed in recently enough to change roles, tokens or who works here (ASVS 3.7.1)."""
    fresh = timedelta(minutes=get_settings().fresh_sign_in_minutes)
    return clock.now() - record.created_at <= fresh


def sessions_of(session: Session, member: Staff) -> list[StaffSession]:
    """A member's live sessions, the most recently used first."""
    now = clock.now()
    found = session.scalars(
        select(StaffSession)
        .where(StaffSession.staff_id == member.id, StaffSession.ended_at.is_(None))
        .order_by(StaffSession.last_seen_at.desc())
    )
    return [record for record in found if _live(record, now)]


def end_other_sessions(session: Session, current: StaffSession, only: str | None = None) -> int:
    """End the member's sessions other than `current` (all, or the one whose id is `only`):
    a browser left signed in elsewhere (ASVS 3.3.4)."""
    now = clock.now()
    ended = 0
    for record in sessions_of(session, current.staff):
        if record.id == current.id or (only is not None and record.id != only):
            continue
        record.ended_at = now
        ended += 1
    if only is not None and not ended:
        raise DomainError("That session has already ended")
    if ended:
        _record(session, current.staff, "sessions_ended_elsewhere", sessions=ended)
    return ended


def end_session(session: Session, record: StaffSession) -> None:
    record.ended_at = clock.now()
    _record(session, record.staff, "signed_out")


def end_all_sessions(session: Session, member: Staff, actor: Actor) -> int:
    """Sign a staff member out everywhere (deactivation, a lost phone)."""
    now: datetime = clock.now()
    ended = session.execute(
        update(StaffSession)
        .where(StaffSession.staff_id == member.id, StaffSession.ended_at.is_(None))
        .values(ended_at=now)
    )
    timeline.record(
        session,
        object_type=ObjectType.STAFF,
        object_id=member.id,
        event_type="SIGN_IN",
        action="tms.staff.sessions_ended",
        actor=actor,
        content={"sessions": rows_affected(ended)},
    )
    return rows_affected(ended)


def forget_stale(session: Session, *, quiet: timedelta = timedelta(days=1)) -> int:
    """Housekeeping: sign-in limits nobody has touched for `quiet` (their budgets started
    again long ago) and codes and links that expired that long ago. Rows gone."""
    cutoff = clock.now() - quiet
    limits = session.execute(
        delete(SignInLimit).where(
            SignInLimit.last_at < cutoff,
            or_(SignInLimit.blocked_until.is_(None), SignInLimit.blocked_until < cutoff),
        )
    )
    codes = session.execute(delete(SignInCode).where(SignInCode.expires_at < cutoff))
    return rows_affected(limits) + rows_affected(codes)
