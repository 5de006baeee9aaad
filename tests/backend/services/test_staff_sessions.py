"""Session lifetime (ASVS 3.3.2), fresh sign-in (3.7.1), admin API tokens with an expiry that
their owner lists and revokes (3.5.2), and reactivating a member."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from backend.domain.actor import SYSTEM
from backend.domain.enums import Role
from backend.domain.errors import DomainError, NotFound
from backend.models import TimelineEvent
from backend.services import staff as staff_service
from backend.services import staff_auth


@pytest.fixture
def anil(session, frozen_clock):
    member, token = staff_service.add_staff(
        session, name="Anil Admin", phone="+9779801000009", roles=[Role.ADMIN], actor=SYSTEM
    )
    session.commit()
    member.first_token = token
    return member


@pytest.fixture
def rajesh(session, anil):
    member, token = staff_service.add_staff(
        session, name="Rajesh Kumar", phone="+9779801000003", roles=[Role.GUIDE], actor=SYSTEM
    )
    session.commit()
    member.first_token = token
    return member


def test_a_session_ends_after_30_idle_minutes(session, anil, frozen_clock):
    opened = staff_auth.open_session(session, anil, how="test", client="203.0.113.7")
    for _ in range(3):  # used every 29 minutes, it lives on
        frozen_clock.advance(minutes=29)
        assert staff_auth.current_session(session, opened.cookie) is not None
    frozen_clock.advance(minutes=30)
    assert staff_auth.current_session(session, opened.cookie) is None


def test_a_session_ends_12_hours_after_sign_in_however_busy(session, anil, frozen_clock):
    opened = staff_auth.open_session(session, anil, how="test")
    for _ in range(12 * 3 - 1):
        frozen_clock.advance(minutes=20)
        assert staff_auth.current_session(session, opened.cookie) is not None
    frozen_clock.advance(minutes=20)
    assert staff_auth.current_session(session, opened.cookie) is None


def test_the_lifetimes_come_from_the_settings(session, anil, frozen_clock, monkeypatch):
    monkeypatch.setenv("SESSION_IDLE_MINUTES", "5")
    opened = staff_auth.open_session(session, anil, how="test")
    frozen_clock.advance(minutes=6)
    assert staff_auth.current_session(session, opened.cookie) is None


def test_a_sign_in_is_fresh_for_ten_minutes(session, anil, frozen_clock):
    opened = staff_auth.open_session(session, anil, how="test")
    assert staff_auth.is_fresh(opened.record)
    frozen_clock.advance(minutes=11)
    assert staff_auth.current_session(session, opened.cookie) is not None
    assert not staff_auth.is_fresh(opened.record)


def test_a_member_sees_their_sessions_and_ends_the_others(session, anil, rajesh):
    here = staff_auth.open_session(session, anil, how="test", user_agent="Firefox", client="a")
    there = staff_auth.open_session(session, anil, how="test", user_agent="Phone", client="b")
    theirs = staff_auth.open_session(session, rajesh, how="test")
    listed = staff_auth.sessions_of(session, anil)
    assert {(r.user_agent, r.client_address) for r in listed} == {("Firefox", "a"), ("Phone", "b")}
    # Another member's session cannot be named.
    with pytest.raises(DomainError):
        staff_auth.end_other_sessions(session, here.record, only=theirs.record.id)
    assert staff_auth.end_other_sessions(session, here.record, only=there.record.id) == 1
    assert staff_auth.current_session(session, there.cookie) is None
    assert staff_auth.current_session(session, here.cookie) is not None
    assert staff_auth.current_session(session, theirs.cookie) is not None


def test_signing_in_again_replaces_the_browsers_session(session, anil):
    first = staff_auth.open_session(session, anil, how="test")
    staff_auth.open_session(session, anil, how="test", replacing=first.cookie)
    assert staff_auth.current_session(session, first.cookie) is None


def test_a_token_expires_after_its_days(session, anil, frozen_clock):
    assert staff_service.by_token(session, anil.first_token) is anil
    short = staff_service.issue_token(session, anil, SYSTEM, label="export script", days=1)
    assert staff_service.by_token(session, short) is anil
    frozen_clock.advance(days=1, seconds=1)
    assert staff_service.by_token(session, short) is None
    frozen_clock.advance(days=89)  # the default: API_TOKEN_DAYS (90)
    assert staff_service.by_token(session, anil.first_token) is None


def test_a_member_lists_and_revokes_their_tokens(session, anil, rajesh):
    second = staff_service.issue_token(session, anil, SYSTEM, label="export script")
    listed = staff_service.tokens_of(session, anil)
    assert [t.label for t in listed] == ["export script", "first token"]
    assert all(t.last_used_at is None for t in listed)
    staff_service.by_token(session, second)
    assert listed[0].last_used_at is not None
    staff_service.revoke_token(session, anil, listed[1].id, SYSTEM)
    assert staff_service.by_token(session, anil.first_token) is None
    assert staff_service.by_token(session, second) is anil
    # Nobody revokes someone else's token by its number.
    with pytest.raises(NotFound):
        staff_service.revoke_token(session, rajesh, listed[0].id, SYSTEM)
    with pytest.raises(NotFound):
        staff_service.revoke_token(session, anil, 10**30, SYSTEM)


def test_rotating_revokes_every_token_of_the_member(session, anil):
    other = staff_service.issue_token(session, anil, SYSTEM, label="laptop")
    new = staff_service.rotate_token(session, anil, SYSTEM)
    assert staff_service.by_token(session, anil.first_token) is None
    assert staff_service.by_token(session, other) is None
    assert staff_service.by_token(session, new) is anil


def test_a_deactivated_member_is_reactivated_by_an_admin_without_their_old_tokens(
    session, anil, rajesh
):
    actor = staff_auth._actor(anil)
    staff_service.deactivate(session, rajesh, actor)
    assert staff_service.by_token(session, rajesh.first_token) is None
    staff_service.reactivate(session, rajesh, actor)
    session.flush()
    assert rajesh.active and rajesh.available
    assert staff_service.by_phone(session, rajesh.phone) is rajesh
    # A lost phone's token stays dead; they sign in with a code and make a new one.
    assert staff_service.by_token(session, rajesh.first_token) is None
    actions = session.scalars(
        select(TimelineEvent.action).where(TimelineEvent.object_id == rajesh.id)
    ).all()
    assert "tms.staff.reactivated" in actions
    with pytest.raises(DomainError):
        staff_service.reactivate(session, rajesh, actor)
