"""Staff: who they are, what they may do, and their admin API tokens (several per person,
each with a label and an expiry; `by_token` is the one place the admin API authenticates)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from backend import clock
from backend.config import get_settings
from backend.domain.actor import Actor
from backend.domain.enums import ObjectType, Role
from backend.domain.errors import DomainError, NotFound
from backend.domain.phones import normalise_phone
from backend.models import ApiToken, Staff, StaffRole, StaffSession
from backend.services import timeline


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_staff(
    session: Session,
    *,
    name: str,
    phone: str,
    roles: Iterable[Role | str],
    email: str | None = None,
    actor: Actor,
    token_days: int | None = None,
) -> tuple[Staff, str]:
    """Create a staff member; returns it with its API token (shown once, stored hashed)."""
    if not name.strip():
        raise DomainError("A name is required")
    e164 = normalise_phone(phone, get_settings().default_region)
    role_set = {Role(str(r).upper()) for r in roles}
    if not role_set:
        raise DomainError("A staff member needs at least one role")
    if session.scalar(select(Staff).where(Staff.phone == e164)):
        raise DomainError(f"A staff member with phone {e164} already exists")
    member = Staff(name=name.strip(), phone=e164, email=email)
    member.role_rows = [StaffRole(role=str(r)) for r in sorted(role_set)]
    session.add(member)
    session.flush()
    token = _new_token(session, member, "first token", token_days)
    timeline.record(
        session,
        object_type=ObjectType.STAFF,
        object_id=member.id,
        event_type="CREATED",
        action="tms.staff.created",
        actor=actor,
        content={"name": member.name, "phone": e164, "roles": sorted(role_set)},
    )
    return member, token


def _record(session: Session, member: Staff, action: str, actor: Actor, **content: object) -> None:
    timeline.record(
        session,
        object_type=ObjectType.STAFF,
        object_id=member.id,
        event_type="STAFF",
        action=f"tms.staff.{action}",
        actor=actor,
        content={"name": member.name, **content},
    )


MAX_TOKEN_DAYS = 3660


def _new_token(session: Session, member: Staff, label: str, days: int | None = None) -> str:
    lifetime = get_settings().api_token_days if days is None else days
    if not 1 <= lifetime <= MAX_TOKEN_DAYS:
        raise DomainError(f"A token lasts between 1 and {MAX_TOKEN_DAYS} days")
    token = secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            staff_id=member.id,
            token_hash=hash_token(token),
            label=label.strip()[:80] or "API token",
            expires_at=clock.now() + timedelta(days=lifetime),
        )
    )
    session.flush()
    return token


def issue_token(
    session: Session, member: Staff, actor: Actor, *, label: str, days: int | None = None
) -> str:
    """One more API token for `member` (shown once), valid `days` (API_TOKEN_DAYS unless
    given); their other tokens keep working."""
    if not member.active:
        raise DomainError(f"{member.name} is deactivated")
    token = _new_token(session, member, label, days)
    _record(session, member, "token_issued", actor, label=label.strip()[:80] or "API token")
    return token


def rotate_token(session: Session, member: Staff, actor: Actor, days: int | None = None) -> str:
    """A new API token for `member` (shown once); every token they held stops working with this
    commit."""
    if not member.active:
        raise DomainError(f"{member.name} is deactivated")
    _revoke_all(session, member)
    token = _new_token(session, member, "rotated", days)
    _record(session, member, "token_rotated", actor)
    return token


def tokens_of(session: Session, member: Staff) -> list[ApiToken]:
    """A member's tokens that still work (not revoked, not expired), the newest first."""
    return list(
        session.scalars(
            select(ApiToken)
            .where(
                ApiToken.staff_id == member.id,
                ApiToken.revoked_at.is_(None),
                ApiToken.expires_at > clock.now(),
            )
            .order_by(ApiToken.id.desc())
        )
    )


def revoke_token(session: Session, member: Staff, token_id: int, actor: Actor) -> ApiToken:
    """Revoke one of `member`'s tokens; it stops working with this commit."""
    if not 0 < token_id < 2**63:  # no row has it, and PostgreSQL would refuse the number
        raise NotFound("No such token")
    found = session.scalar(
        select(ApiToken).where(ApiToken.id == token_id, ApiToken.staff_id == member.id)
    )
    if found is None:
        raise NotFound("No such token")
    if found.revoked_at is None:
        found.revoked_at = clock.now()
        _record(session, member, "token_revoked", actor, label=found.label)
    return found


def _revoke_all(session: Session, member: Staff) -> None:
    session.execute(
        update(ApiToken)
        .where(ApiToken.staff_id == member.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    )


def deactivate(session: Session, member: Staff, actor: Actor) -> None:
    """The member leaves: their token stops working at the next request, they are no longer
    assigned leads or alerted, and their WhatsApp number is no longer staff."""
    if not member.active:
        raise DomainError(f"{member.name} is already deactivated")
    if actor.staff_id == member.id:
        raise DomainError("You cannot deactivate yourself")
    _keep_an_admin(session, member)
    member.active = False
    member.available = False
    # A lost phone or a leaver: their tokens must not come back with a reactivation.
    _revoke_all(session, member)
    # Their console sessions end with the token (a session of an inactive member opens
    # nothing either; this makes it visible).
    session.execute(
        update(StaffSession)
        .where(StaffSession.staff_id == member.id, StaffSession.ended_at.is_(None))
        .values(ended_at=clock.now())
    )
    _record(session, member, "deactivated", actor)


def reactivate(session: Session, member: Staff, actor: Actor) -> None:
    """A deactivated member works here again (a new phone, back from leave): they sign in with
    a WhatsApp code and ask for a new API token; their old tokens stay revoked."""
    if member.active:
        raise DomainError(f"{member.name} is already active")
    taken = session.scalar(select(Staff).where(Staff.phone == member.phone, Staff.active.is_(True)))
    if taken is not None:
        raise DomainError(f"{taken.name} now has the number {member.phone}")
    member.active = True
    member.available = True
    _record(session, member, "reactivated", actor)


def _keep_an_admin(session: Session, leaving: Staff) -> None:
    """Nobody could administer the product any more: refuse."""
    others = session.scalars(
        select(Staff).where(Staff.active.is_(True), Staff.id != leaving.id)
    ).all()
    if Role.ADMIN in leaving.roles and not any(Role.ADMIN in o.roles for o in others):
        raise DomainError(f"{leaving.name} is the last administrator: make someone else one first")


def set_roles(session: Session, member: Staff, roles: Iterable[Role | str], actor: Actor) -> None:
    """Replace a member's roles (at least one; the last administrator stays one)."""
    wanted = {Role(str(r).upper()) for r in roles}
    if not wanted:
        raise DomainError("A staff member needs at least one role")
    if Role.ADMIN not in wanted:
        _keep_an_admin(session, member)
    if wanted != member.roles:
        before = sorted(member.roles)
        member.role_rows = [StaffRole(role=str(r)) for r in sorted(wanted)]
        session.flush()
        _record(session, member, "roles_changed", actor, before=before, after=sorted(wanted))


def set_available(session: Session, member: Staff, available: bool, actor: Actor) -> None:
    """Away (leave, illness) or back: away members get no new leads or offers."""
    if member.available != available:
        member.available = available
        _record(session, member, "available" if available else "away", actor)


def by_token(session: Session, token: str) -> Staff | None:
    """The active staff member an admin API token belongs to, or None when it is unknown,
    revoked or expired. The token's last use is kept (to the minute) for its owner's list."""
    if not token or len(token) > 200:
        return None
    now = clock.now()
    found = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    if found is None or found.revoked_at is not None or found.expires_at <= now:
        return None
    if not found.staff.active:
        return None
    if found.last_used_at is None or now - found.last_used_at > timedelta(minutes=1):
        found.last_used_at = now
    return found.staff


def by_phone(session: Session, phone: str | None) -> Staff | None:
    """The active staff member with this phone; None for no phone (a BSUID alone never
    names staff: they are recognised by their phone)."""
    if not phone:
        return None
    try:
        e164 = normalise_phone(phone, get_settings().default_region)
    except DomainError:
        return None
    return session.scalar(select(Staff).where(Staff.phone == e164, Staff.active.is_(True)))


def with_role(session: Session, role: Role, *, available_only: bool = False) -> list[Staff]:
    query = (
        select(Staff)
        .join(StaffRole)
        .where(StaffRole.role == str(role), Staff.active.is_(True))
        .order_by(Staff.name)
    )
    if available_only:
        query = query.where(Staff.available.is_(True))
    return list(session.scalars(query))


def next_sales_rep(session: Session, *, exclude: str | None = None) -> Staff | None:
    """Round-robin among available sales reps: the one assigned longest ago (or never) next.

    The chosen row is locked so two enquiries at once do not pick the same rep by accident.
    """
    query = (
        select(Staff)
        .join(StaffRole)
        .where(StaffRole.role == str(Role.SALES), Staff.active.is_(True), Staff.available.is_(True))
        .where(Staff.id != exclude if exclude else Staff.id.is_not(None))
        .order_by(Staff.last_assigned_at.asc().nulls_first(), Staff.name)
        .limit(1)
        .with_for_update(of=Staff, skip_locked=True)
    )
    rep = session.scalar(query)
    if rep is not None:
        rep.last_assigned_at = clock.now()
    return rep


def get_staff(session: Session, staff_id: str) -> Staff:
    member = session.get(Staff, staff_id)
    if member is None:
        raise NotFound(f"No staff member {staff_id}")
    return member
