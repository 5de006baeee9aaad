"""Exactly one scheduler at a time on PostgreSQL, and a standby that takes over."""

from __future__ import annotations

import os
import random
import signal
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import func, select, text

from backend.db import transaction
from backend.domain.actor import SYSTEM
from backend.domain.enums import BookingStatus
from backend.models import Booking, OutboundMessage
from backend.scheduler.leader import Leadership
from backend.services import bookings
from tests import factories
from tests.processes import Part, start_backend


def test_one_leader_at_a_time_and_the_lock_frees_when_its_connection_dies(
    pg_db_url: str,
) -> None:
    # A key of this test's own: a backend left running by another test holds the real one.
    key = random.randrange(1, 2**62)
    first, second = Leadership(pg_db_url, key), Leadership(pg_db_url, key)
    try:
        assert first.acquire()
        assert not second.acquire()
        assert first.acquire()  # re-entrant for the holder: still the leader
        # The leader's connection dies (as when its process is killed).
        with transaction(pg_db_url) as session:
            killed = session.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks "
                    "WHERE locktype = 'advisory' AND objid = :low AND granted"
                ),
                {"low": key & 0xFFFFFFFF},
            ).all()
        assert killed
        assert not first.still_held()
        assert second.acquire()
        assert not first.acquire()
    finally:
        first.release()
        second.release()


def test_sqlite_process_is_always_the_leader(tmp_path: Path) -> None:
    leadership = Leadership(f"sqlite:///{tmp_path / 'one.sqlite3'}")
    assert leadership.acquire() and leadership.still_held()


def _role(port: int) -> str | None:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).json()["scheduler"]
    except (httpx.HTTPError, ValueError, KeyError):
        return None


def _wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_standby_process_takes_over_and_fires_the_pending_hold_once(
    pg_db_url: str, tmp_path: Path
) -> None:
    env = {
        "SCHEDULER_LEADER_POLL_SECONDS": "0.5",
        "SCHEDULER_DRAIN_SECONDS": "0.2",
        # Nothing outside this machine: sends fail and are retried, which is beside the point.
        "WHATSAPP_API_BASE_URL": "http://127.0.0.1:9/v23.0",
        "RASA_URL": "http://127.0.0.1:9",
        "LOG_LEVEL": "INFO",
        "SCHEDULER_LOCK_KEY": str(random.randrange(1, 2**62)),
    }
    servers: list[tuple[Part, int]] = []
    try:
        for _ in range(2):
            server, port = start_backend(pg_db_url, tmp_path, workers=True, extra_env=env)
            server.wait_ready(60)
            servers.append((server, port))
        _wait_for(
            lambda: sorted(_role(p) or "" for _, p in servers) == ["leader", "standby"],
            30,
            "one leader and one standby",
        )
        (leader, _), (_standby, standby_port) = sorted(
            servers, key=lambda sp: _role(sp[1]) != "leader"
        )

        # A hold that runs out in a few seconds of real time.
        with transaction(pg_db_url) as session:
            dep = factories.departure(session, factories.ebc(session), capacity=8)
            booking = bookings.hold_new_booking(
                session,
                contact=factories.contact(session),
                departure_id=dep.id,
                party_size=2,
                actor=SYSTEM,
                hold_for=timedelta(seconds=4),
            )
            booking_id = booking.id
        time.sleep(0.5)  # the leader drains the change and schedules the job
        os.killpg(leader.process.pid, signal.SIGKILL)
        leader.process.wait()

        _wait_for(lambda: _role(standby_port) == "leader", 20, "the standby to take over")

        def expired() -> bool:
            with transaction(pg_db_url) as session:
                return session.get(Booking, booking_id).status == BookingStatus.EXPIRED

        _wait_for(expired, 30, "the hold to expire under the new leader")
        time.sleep(1)  # a second firing, if there were one, would land now
        with transaction(pg_db_url) as session:
            told = session.scalar(
                select(func.count()).where(
                    OutboundMessage.purpose == "hold_expired",
                    OutboundMessage.object_id == booking_id,
                )
            )
        assert told == 1
        metrics = httpx.get(f"http://127.0.0.1:{standby_port}/metrics", timeout=5).text
        assert "tms_scheduler_leader 1" in metrics
        assert 'tms_timers_total{kind="hold-expiry",outcome="done"} 1' in metrics
    except Exception:
        for server, _ in servers:
            print(f"--- {server.name}\n{server.tail(60)}")
        raise
    finally:
        for server, _ in servers:
            server.stop()
