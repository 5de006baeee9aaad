"""`tms departures move | board | guarantee` and `tms trips shift` (issue 27): operations on a
terminal, through the same services as the admin API and the console; a refusal is a clear
error (exit 2) that changes nothing."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from backend import cli, clock
from backend.domain.actor import SYSTEM
from backend.domain.enums import AssignmentRole, MoveOfferStatus, Role
from backend.models import Departure, DepartureMove, MoveOffer, TimelineEvent, Trip
from backend.services import assignments, attendance, departure_moves, guarantees, trips
from tests import factories

PRIYA = "+9779801000002"


@pytest.fixture
def trek(session, frozen_clock):
    factories.staff(session, "Priya", Role.OPS, phone=PRIYA)
    factories.staff(session, "Sarah", Role.SALES, phone="+9779801000001")
    product = factories.ebc(session)
    march = factories.departure(session, product, date(2025, 3, 15), capacity=12)
    april = factories.departure(session, product, date(2025, 4, 12), capacity=12)
    first = factories.confirmed_booking(session, march, 2)
    second = factories.confirmed_booking(session, march, 3)
    ids = march.id, april.id, first.reference, second.reference
    session.commit()
    return ids


def _moves(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(DepartureMove))


def test_move_a_departure_to_another_and_read_the_board(session, trek, capsys):
    march, april, first, second = trek
    assert (
        cli.main(
            [
                "departures",
                "move",
                march,
                "--to",
                april,
                "--reason",
                "Lukla flights grounded",
                "--by",
                PRIYA,
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "2 booking(s) offered the new dates" in out
    assert "Waiting (2)" in out and first in out and second in out
    assert "Lukla flights grounded" in out
    move = session.scalar(select(DepartureMove))
    assert move.to_departure_id == april and move.created_by is not None  # Priya, by name
    offer = session.scalar(select(MoveOffer).where(MoveOffer.seats == 2))
    departure_moves.answer(session, offer, "accept", SYSTEM)
    session.commit()
    assert cli.main(["departures", "board", march]) == 0
    board = capsys.readouterr().out
    accepted = board.split("Accepted (1)")[1].split("Another departure")[0]
    assert first in accepted and second not in accepted
    assert "Waiting (1)" in board and "Cancelled (0)" in board


def test_move_to_new_dates_creates_the_departure(session, trek, capsys):
    march, _april, _first, _second = trek
    assert (
        cli.main(["departures", "move", march, "--start-date", "2025-03-17", "--reason", "weather"])
        == 0
    )
    assert "2 booking(s) offered" in capsys.readouterr().out
    session.expire_all()
    target = session.scalar(select(DepartureMove)).to_departure
    assert target.start_date == date(2025, 3, 17)
    offers = session.scalars(select(MoveOffer)).all()
    assert {o.status for o in offers} == {MoveOfferStatus.OFFERED}


@pytest.mark.parametrize(
    "argv, error",
    [
        (["--to", "no-such-departure", "--reason", "weather"], "No departure no-such-departure"),
        (["--start-date", "17 March", "--reason", "weather"], "YYYY-MM-DD"),
        (["--start-date", "TODAY", "--reason", "weather"], "already left"),
        (["--start-date", "2025-03-17", "--reason", "x", "--offer-hours", "0"], "1 to 336"),
        (
            ["--start-date", "2025-03-17", "--reason", "x", "--by", "+9779801000001"],
            "not an active operations",
        ),
    ],
)
def test_a_refused_move_is_a_clear_error_and_changes_nothing(session, trek, capsys, argv, error):
    march, _april, _first, _second = trek
    today = clock.local_today().isoformat()
    argv = [today if a == "TODAY" else a for a in argv]
    assert cli.main(["departures", "move", march, *argv]) == 2
    assert error in capsys.readouterr().err
    assert _moves(session) == 0


def test_move_needs_exactly_one_target_and_a_reason(trek, capsys):
    march, april, _first, _second = trek
    for argv in (
        ["departures", "move", march, "--reason", "weather"],
        ["departures", "move", march, "--to", april, "--start-date", "2025-03-17", "--reason", "w"],
        ["departures", "move", march, "--to", april],
    ):
        with pytest.raises(SystemExit) as usage:
            cli.main(argv)
        assert usage.value.code == 2
    capsys.readouterr()


def test_the_guarantee_status(session, trek, capsys):
    march, april, _first, _second = trek
    assert cli.main(["departures", "guarantee", march]) == 0
    out = capsys.readouterr().out
    assert "no minimum group size" in out and "open to new bookings" in out
    departure = session.get(Departure, march)
    guarantees.set_minimum(session, departure, 8, SYSTEM)
    session.commit()
    assert cli.main(["departures", "guarantee", march]) == 0
    out = capsys.readouterr().out
    assert "not yet guaranteed: 5 of at least 8 travellers confirmed" in out
    assert "deadline: 2025-02-13" in out and "decision: none yet" in out
    guarantees.cancel(session, departure, SYSTEM, reason="too few", to_departure_id=april)
    session.commit()
    assert cli.main(["departures", "guarantee", march]) == 0
    out = capsys.readouterr().out
    assert "decision: cancelled" in out and "closed to new bookings: cancelled" in out
    assert cli.main(["departures", "board", march]) == 0
    assert "Waiting (2)" in capsys.readouterr().out
    assert cli.main(["departures", "guarantee", "nope"]) == 2
    assert "No departure nope" in capsys.readouterr().err


def test_departures_alone_still_lists_them(trek, capsys):
    assert cli.main(["departures"]) == 0
    assert "Everest" in capsys.readouterr().out


@pytest.fixture
def under_way(session, frozen_clock):
    factories.staff(session, "Priya", Role.OPS, phone=PRIYA)
    product = factories.ebc(session)
    departure = factories.departure(session, product, clock.local_today() - timedelta(days=3))
    guest = factories.confirmed_booking(session, departure, 2)
    trip = trips.ensure_trip(session, departure, SYSTEM)
    guide = factories.staff(session, "Rajesh", Role.GUIDE)
    offer = assignments.offer_assignment(
        session, trip, guide, AssignmentRole.LEAD_GUIDE, 1_400_00, SYSTEM
    )
    assignments.respond_to_assignment(session, offer, True, SYSTEM)
    attendance.check_in(session, trip, guide, SYSTEM, notify=False)
    ids = trip.id, trip.reference, guest.reference, departure.end_date
    session.commit()
    return ids


def test_shift_a_trip_under_way(session, under_way, capsys):
    trip_id, reference, guest, end = under_way
    assert (
        cli.main(
            ["trips", "shift", guest, "--days", "2", "--reason", "snow at the pass", "--by", PRIYA]
        )
        == 0
    )
    out = capsys.readouterr().out
    new_end = end + timedelta(days=2)
    assert f"Trip {reference} shifted by 2 day(s)" in out and new_end.isoformat() in out
    session.expire_all()
    assert session.get(Trip, trip_id).delay_days == 2
    shifted = session.scalar(
        select(TimelineEvent).where(TimelineEvent.action == "tms.trip.shifted")
    )
    assert shifted.actor_staff_id is not None and shifted.content["reason"] == "snow at the pass"
    session.rollback()  # (SQLite: the reading transaction ends before the CLI writes)
    assert cli.main(["trips", "shift", reference, "--days", "30", "--reason", "storm"]) == 2
    assert "1 to 14 days" in capsys.readouterr().err
    session.expire_all()
    assert session.get(Trip, trip_id).delay_days == 2  # the refusal changed nothing


def test_decide_run_makes_the_departure_guaranteed(session, trek, capsys):
    march, _april, _first, _second = trek
    departure = session.get(Departure, march)
    guarantees.set_minimum(session, departure, 8, SYSTEM)
    session.commit()
    argv = ["departures", "decide", march, "run", "--reason", "the guide's friends join"]
    assert cli.main([*argv, "--by", PRIYA]) == 0
    assert "runs below its minimum" in capsys.readouterr().out
    session.expire_all()
    found = guarantees.status(session, session.get(Departure, march))
    assert found.decision == guarantees.RUN and found.guaranteed
    assert _moves(session) == 0


def test_decide_cancel_offers_every_booking_the_other_departure(session, trek, capsys):
    march, april, _first, _second = trek
    guarantees.set_minimum(session, session.get(Departure, march), 8, SYSTEM)
    session.commit()
    argv = ["departures", "decide", march, "cancel", "--reason", "too few", "--to", april]
    assert cli.main([*argv, "--by", PRIYA]) == 0
    out = capsys.readouterr().out
    assert "cancelled; 2 booking(s) offered other dates" in out and "Waiting (2)" in out
    session.expire_all()
    assert guarantees.status(session, session.get(Departure, march)).decision == (
        guarantees.CANCELLED
    )
    assert session.scalar(select(func.count()).select_from(MoveOffer)) == 2


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (["run", "--reason", "x", "--to", "APRIL"], "for cancelling"),
        (["cancel", "--reason", "x", "--start-date", "17/03"], "YYYY-MM-DD"),
        (["cancel", "--reason", "x", "--to", "APRIL", "--by", "+9779801000001"], "not an active"),
    ],
)
def test_a_refused_decision_is_a_clear_error_and_changes_nothing(
    session, trek, capsys, argv, error
):
    march, april, _first, _second = trek
    argv = [april if a == "APRIL" else a for a in argv]
    assert cli.main(["departures", "decide", march, *argv]) == 2
    assert error in capsys.readouterr().err
    session.expire_all()
    assert guarantees.status(session, session.get(Departure, march)).decision is None
    assert _moves(session) == 0


def test_a_treks_minimum_and_deadline_are_set_and_cleared(session, trek, capsys):
    march, _april, _first, _second = trek
    argv = ["products", "guarantee", "EBC", "--minimum", "6", "--days-before", "45"]
    assert cli.main([*argv, "--by", PRIYA]) == 0
    assert "at least 6 travellers, decided 45 days before" in capsys.readouterr().out
    session.expire_all()
    departure = session.get(Departure, march)
    assert guarantees.minimum_of(departure) == 6
    assert guarantees.deadline_of(departure) == departure.start_date - timedelta(days=45)
    session.rollback()  # the terminal writes next (SQLite: one writer)
    assert cli.main(["products", "guarantee", "EBC", "--days-before", "20"]) == 0
    capsys.readouterr()
    session.expire_all()
    assert guarantees.minimum_of(session.get(Departure, march)) == 6  # only the deadline moved
    session.rollback()
    assert cli.main(["products", "guarantee", "EBC", "--minimum", "0"]) == 2
    assert "1 to 500" in capsys.readouterr().err
    assert cli.main(["products", "guarantee", "EBC", "--no-minimum"]) == 0
    assert "no minimum" in capsys.readouterr().out
    session.expire_all()
    assert guarantees.minimum_of(session.get(Departure, march)) is None
    events = session.scalars(
        select(TimelineEvent.action).where(TimelineEvent.action == "tms.product.guarantee_set")
    ).all()
    assert len(events) == 3
