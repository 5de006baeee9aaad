"""The `tms` command and the demo world, as a new user runs them."""

from datetime import date

from sqlalchemy import select

from backend import cli, clock
from backend.db import transaction
from backend.domain.enums import TripStatus
from backend.models import ApiToken, Product, Trip
from backend.services import bookings, catalog, inventory
from devkit.demo_data import STORY, StoryCalendar, load


def test_demo_world_matches_the_workflows(db_url, story_clock):
    with transaction() as s:
        load(s)
    with transaction() as s:
        ebc, ann, pkr = (catalog.get_product(s, code) for code in ("EBC", "ANN", "PKR"))
        ebc_main = catalog.departures_of(s, ebc)[0]
        # The workflows' calendar: March 15 (early bird until Jan 31, balance due Feb 28).
        quote = bookings.price_for(ebc_main, 3)
        assert (ebc_main.start_date, ebc_main.end_date) == (
            date(STORY.season, 3, 15),
            date(STORY.season, 3, 28),
        )
        assert quote.early_bird_deadline == date(STORY.season, 1, 31)
        assert quote.balance_due == date(STORY.season, 2, 28) and quote.total.minor == 6_840_00
        counts = inventory.seat_counts(s, ebc_main)
        assert counts.confirmed + 3 == 12 and counts.available >= 3
        full, open_ = catalog.departures_of(s, ann)
        full_counts, open_counts = inventory.seat_counts(s, full), inventory.seat_counts(s, open_)
        assert (full_counts.confirmed, full_counts.capacity, full_counts.waitlisted) == (30, 30, 2)
        assert (open_counts.confirmed, open_counts.capacity) == (15, 30)
        assert (full.start_date, open_.start_date) == (
            date(STORY.season, 3, 20),
            date(STORY.season, 3, 27),
        )
        pokhara = catalog.departures_of(s, pkr)[0]
        assert pokhara.start_date == STORY.today == clock.local_today()
        trip = s.scalar(select(Trip).where(Trip.departure_id == pokhara.id))
        assert trip.status == TripStatus.IN_PROGRESS
        assert inventory.seat_counts(s, pokhara).confirmed == 15
        assert catalog.find_product(s, "everest bc").code == "EBC"
        assert catalog.find_product(s, "Everest Base Camp").code == "EBC"
        assert catalog.find_product(s, "kilimanjaro") is None


def test_staff_add_prints_a_token_and_stores_only_its_hash(db_url, capsys):
    assert (
        cli.main(
            [
                "staff",
                "add",
                "--name",
                "Sarah Gurung",
                "--phone",
                "+977 980-1000001",
                "--role",
                "SALES",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    token = out.strip().splitlines()[-1].split(": ", 1)[1]
    assert "+9779801000001" in out and len(token) > 30
    from backend.services import staff

    with transaction() as s:
        member = staff.by_token(s, token)
        assert member is not None and member.name == "Sarah Gurung"
        # Only the token's hash is stored.
        stored = s.scalars(select(ApiToken.token_hash).where(ApiToken.staff_id == member.id)).all()
        assert stored and token not in stored


def test_staff_add_with_a_bad_phone_or_role_is_a_clear_error(db_url, capsys):
    assert cli.main(["staff", "add", "--name", "X", "--phone", "12", "--role", "SALES"]) == 2
    assert "phone" in capsys.readouterr().err
    assert (
        cli.main(["staff", "add", "--name", "X", "--phone", "+9779801000001", "--role", "CHEF"])
        == 2
    )
    assert "Unknown role CHEF" in capsys.readouterr().err


def test_demo_load_refuses_a_database_that_has_data(db_url, capsys):
    with transaction() as s:
        s.add(Product(code="XYZ", name="x", short_name="x", days=1, price_per_person_minor=1))
    assert cli.main(["demo", "load"]) == 2
    assert "already has a catalog" in capsys.readouterr().err


def test_demo_load_puts_the_world_on_the_real_calendar(db_url, capsys):
    # `tms demo load` for exploring by hand: the next season, the Pokhara trip under way today.
    calendar = StoryCalendar.next_season(clock.local_today())
    assert cli.main(["demo", "load"]) == 0
    assert f"for the {calendar.season} season" in capsys.readouterr().out
    with transaction() as s:
        ebc = catalog.departures_of(s, catalog.get_product(s, "EBC"))[0]
        pokhara = catalog.departures_of(s, catalog.get_product(s, "PKR"))[0]
        trip = s.scalar(select(Trip).where(Trip.departure_id == pokhara.id))
        assert ebc.start_date == date(calendar.season, 3, 15) > clock.local_today()
        assert bookings.price_for(ebc, 3).discount.minor > 0  # the early bird is still open
        assert pokhara.start_date == clock.local_today() and trip.status == TripStatus.IN_PROGRESS


def test_faq_load_adds_what_is_missing_and_keeps_edits(db_url, story_clock, capsys):
    from backend.domain.actor import SYSTEM
    from backend.models import FaqAnswer
    from backend.services import knowledge

    with transaction() as s:
        load(s)  # loads the defaults with the world
        knowledge.set_answer(s, "tipping", "Our own tipping words.", SYSTEM)
        s.delete(s.scalar(select(FaqAnswer).where(FaqAnswer.topic == "visas")))
    assert cli.main(["faq", "load"]) == 0
    assert "1 default answer(s) added" in capsys.readouterr().out
    with transaction() as s:
        assert knowledge.answer_for(s, "tipping") == "Our own tipping words."
        assert knowledge.answer_for(s, "visas") == knowledge.topics()["visas"].answer
