"""Signing staff in to the console: a one-time code on WhatsApp, or a one-time link printed by
`tms staff login-link` for the first sign-in; then a session, ended by signing out or by time.

What an attacker gets to try is bounded: a code lives 10 minutes and takes 5 wrong guesses,
a phone gets 5 codes an hour, and the answer never says whether a phone belongs to staff."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from backend import clock, texts
from backend.config import get_settings
from backend.domain.actor import Actor
from backend.domain.enums import ObjectType, Source
from backend.domain.errors import DomainError
from backend.models import SignInCode, Staff, StaffSession
from backend.services import notifications, timeline
from backend.services import staff as staff_service

CODE_LIFETIME = timedelta(minutes=10)
CODE_ATTEMPTS = 5
CODES_PER_HOUR = 5
LINK_LIFETIME = timedelta(hours=24)
# A session ends after this long without a page, and in any case after SESSION_MAX.
SESSION_IDLE = timedelta(hours=12)
SESSION_MAX = timedelta(days=14)


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


def send_code(session: Session, phone: str) -> bool:
    """Send a sign-in code to an active staff member's WhatsApp. False when nothing was sent
    (not staff, or too many codes this hour); the caller shows the same page either way."""
    member = staff_service.by_phone(session, phone)
    if member is None:
        return False
    now = clock.now()
    recent = session.scalar(
        select(func.count())
        .select_from(SignInCode)
        .where(
            SignInCode.staff_id == member.id,
            SignInCode.kind == "code",
            SignInCode.created_at > now - timedelta(hours=1),
        )
    )
    if (recent or 0) >= CODES_PER_HOUR:
        _record(session, member, "sign_in.code_refused", reason="too many codes this hour")
        return False
    # Earlier codes stay valid until they expire: someone asking for codes with a staff
    # member's number cannot cancel the one on their phone.
    code = f"{secrets.randbelow(10**6):06d}"
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


def check_code(session: Session, phone: str, code: str) -> Staff | None:
    """The staff member the code signs in, or None when it is wrong, expired, used up or not
    theirs (one answer for every failure). A wrong guess counts against the code, so the
    caller commits either way."""
    member = staff_service.by_phone(session, phone)
    if member is None:
        return None
    now = clock.now()
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
    digits = "".join(ch for ch in code if ch.isdigit())[:6]
    right = next((c for c in pending if _code_matches(c.secret_hash, member.id, digits)), None)
    if right is None:
        # A wrong guess counts against every code waiting: 5 wrong guesses use them all up.
        for waiting in pending:
            waiting.attempts += 1
            if waiting.attempts >= CODE_ATTEMPTS:
                waiting.used_at = now
        if pending:
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


def use_link(session: Session, secret: str) -> Staff | None:
    """The staff member a one-time link signs in (and the link is used up), or None."""
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


@dataclass(frozen=True)
class Opened:
    cookie: str
    record: StaffSession


def open_session(session: Session, member: Staff, *, how: str, user_agent: str = "") -> Opened:
    token = secrets.token_urlsafe(32)
    now = clock.now()
    record = StaffSession(
        id=_hash(token),
        staff_id=member.id,
        csrf_token=secrets.token_urlsafe(32),
        expires_at=now + SESSION_IDLE,
        last_seen_at=now,
        user_agent=user_agent[:200] or None,
    )
    session.add(record)
    session.flush()
    _record(session, member, "signed_in", how=how)
    return Opened(token, record)


def current_session(session: Session, cookie: str | None) -> StaffSession | None:
    """The live session of that cookie (extended while used), or None."""
    if not cookie:
        return None
    record = session.get(StaffSession, _hash(cookie))
    now = clock.now()
    if record is None or record.ended_at is not None or record.expires_at <= now:
        return None
    if not record.staff.active:
        return None
    if now - record.last_seen_at > timedelta(minutes=1):
        record.last_seen_at = now
        record.expires_at = min(now + SESSION_IDLE, record.created_at + SESSION_MAX)
    return record


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
        content={"sessions": ended.rowcount},
    )
    return int(ended.rowcount or 0)
