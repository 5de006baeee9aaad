"""The migrations build exactly the models' schema, and go down and up again."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from backend import migrate
from backend.db import dispose_engines, session_factory
from backend.models import Base, Booking
from tests.conftest import pg_url


def test_migrations_match_the_models(db_url):
    engine = create_engine(db_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []


def test_downgrade_and_upgrade_round_trip(tmp_path):
    url = f"sqlite:///{tmp_path / 'roundtrip.sqlite3'}"
    migrate.upgrade(url)
    migrate.downgrade(url, "base")
    engine = create_engine(url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    migrate.upgrade(url)
    engine = create_engine(url)
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    engine.dispose()


@pytest.mark.parametrize(
    "table", ["timeline_events", "inbound_messages", "outbound_messages", "bookings"]
)
def test_every_entity_has_a_table(db_url, table):
    engine = create_engine(db_url)
    assert table in inspect(engine).get_table_names()
    engine.dispose()


# -- 0013: the ledger takes over what a booking has paid ------------------------------------
BEFORE_LEDGER = "0012"
AT = "2026-01-05 10:00:00"


def _database_before_the_ledger(kind: str, tmp_path) -> str:
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    else:
        url = str(make_url(pg_url()).set(database=make_url(pg_url()).database + "_0013"))
        try:
            migrate.recreate_database(url)
        except OperationalError as exc:
            pytest.skip(f"PostgreSQL not reachable ({exc})")
    migrate.upgrade(url, BEFORE_LEDGER)
    return url


def _booking_row(conn, booking_id: str, paid: int) -> None:
    conn.execute(
        text(
            "INSERT INTO bookings (id, reference, ref_key, contact_id, departure_id, party_size,"
            " status, payment_status, currency, price_per_person_minor, discount_minor,"
            " total_minor, deposit_minor, paid_minor, balance_due_date, created_at)"
            " VALUES (:id, :id, :id, 'c1', 'd1', 3, 'CONFIRMED', 'DEPOSIT_PAID', 'USD', 240000,"
            " 0, 720000, 216000, :paid, '2026-02-01', :at)"
        ),
        {"id": booking_id, "paid": paid, "at": AT},
    )


def _payment_row(conn, payment_id, booking_id, provider, amount, flagged=None) -> None:
    conn.execute(
        text(
            "INSERT INTO payments (id, booking_id, provider, provider_event_id, amount_minor,"
            " currency, kind, received_at, flagged_reason)"
            " VALUES (:id, :b, :provider, :event, :amount, 'USD', 'DEPOSIT', :at, :flagged)"
        ),
        {
            "id": payment_id,
            "b": booking_id,
            "provider": provider,
            "event": f"evt_{payment_id}",
            "amount": amount,
            "at": AT,
            "flagged": flagged,
        },
    )


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_the_ledger_migration_keeps_what_every_booking_has_paid(kind, tmp_path):
    url = _database_before_the_ledger(kind, tmp_path)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO products (id, code, name, short_name, aliases, days,"
                " price_per_person_minor, currency, deposit_percent, early_bird_percent,"
                " early_bird_days_before, balance_due_days_before, inclusions, itinerary,"
                " packing_list, active, created_at) VALUES ('p1', 'EBC', 'Everest', 'EBC', '[]',"
                " 14, 240000, 'USD', 30, 5, 43, 15, '[]', '[]', '[]', true, :at)"
            ),
            {"at": AT},
        )
        conn.execute(
            text(
                "INSERT INTO departures (id, product_id, start_date, end_date, capacity,"
                " meeting_point, meeting_time, created_at)"
                " VALUES ('d1', 'p1', '2026-03-01', '2026-03-14', 16, 'Hotel', '06:00', :at)"
            ),
            {"at": AT},
        )
        conn.execute(
            text("INSERT INTO contacts (id, phone, created_at) VALUES ('c1', '+61400000001', :at)"),
            {"at": AT},
        )
        _booking_row(conn, "paid-by-stripe", 216000)
        _payment_row(conn, "pay1", "paid-by-stripe", "stripe", 216000)
        _payment_row(conn, "pay2", "paid-by-stripe", "stripe", 1, flagged="amount does not match")
        _booking_row(conn, "imported", 720000)  # paid with no payment row (the demo's history)
        _booking_row(conn, "unpaid", 0)
    engine.dispose()

    migrate.upgrade(url)
    engine = create_engine(url)
    with engine.connect() as conn:
        assert "paid_minor" not in {c["name"] for c in inspect(conn).get_columns("bookings")}
        entries = conn.execute(
            text(
                "SELECT booking_id, kind, method, amount_minor, base_amount_minor, rate,"
                " provider_ref, payment_id FROM ledger_entries ORDER BY booking_id"
            )
        ).all()
    engine.dispose()
    assert [tuple(e) for e in entries] == [
        ("imported", "payment", "local", 720000, 720000, "1", None, None),
        ("paid-by-stripe", "payment", "stripe", 216000, 216000, "1", "evt_pay1", "pay1"),
    ]
    with session_factory(url)() as s:
        paid = dict(s.execute(select(Booking.id, Booking.paid_minor)).all())
    dispose_engines()
    assert paid == {"paid-by-stripe": 216000, "imported": 720000, "unpaid": 0}

    migrate.downgrade(url, BEFORE_LEDGER)
    engine = create_engine(url)
    with engine.connect() as conn:
        restored = dict(conn.execute(text("SELECT id, paid_minor FROM bookings")).all())
        assert "ledger_entries" not in inspect(conn).get_table_names()
    engine.dispose()
    assert restored == paid


def test_sqlite_upgrades_a_table_other_rows_point_at(tmp_path):
    """0012 rebuilds `staff` (SQLite copies a table to change it) while tokens and sessions
    point at its rows: the upgrade keeps them, and every row still points somewhere."""
    url = f"sqlite:///{tmp_path / 'staff.sqlite3'}"
    migrate.upgrade(url, "0011")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO staff (id, name, phone, active, available, api_token_hash,"
                " created_at) VALUES ('s1', 'Sarah', '+9779801000001', 1, 1, 'abc123', :at)"
            ),
            {"at": AT},
        )
        conn.execute(text("INSERT INTO staff_roles (staff_id, role) VALUES ('s1', 'SALES')"))
        conn.execute(
            text(
                "INSERT INTO staff_sessions (id, staff_id, csrf_token, expires_at, last_seen_at,"
                " created_at) VALUES ('h1', 's1', 'c', :at, :at, :at)"
            ),
            {"at": AT},
        )
    engine.dispose()
    migrate.upgrade(url)
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT token_hash FROM api_tokens")).scalars().all() == ["abc123"]
        assert conn.execute(text("SELECT staff_id FROM staff_sessions")).scalars().all() == ["s1"]
        assert conn.execute(text("PRAGMA foreign_key_check")).all() == []
    engine.dispose()


def test_the_faq_words_money_changed_follow_unless_an_operator_edited_them(tmp_path):
    """0015: the stored default answers money made untrue change; an edited one stays."""
    import importlib.util
    from pathlib import Path

    import backend

    path = Path(backend.__file__).parent / "migrations/versions/0015_faq_words_for_money.py"
    spec = importlib.util.spec_from_file_location("faq_words", path)
    assert spec is not None and spec.loader is not None
    words = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(words)
    (topic, code, old, new), (other_topic, other_code, _, _) = words.CHANGED[0], words.CHANGED[1]
    url = f"sqlite:///{tmp_path / 'faq.sqlite3'}"
    migrate.upgrade(url, "0014")
    engine = create_engine(url)
    insert = text(
        "INSERT INTO faq_answers (id, topic, product_code, answer, updated_at)"
        " VALUES (:id, :topic, :code, :answer, :at)"
    )
    with engine.begin() as conn:
        conn.execute(insert, {"id": "a", "topic": topic, "code": code, "answer": old, "at": AT})
        conn.execute(
            insert,
            {"id": "b", "topic": other_topic, "code": other_code, "answer": "Ours.", "at": AT},
        )
    engine.dispose()
    migrate.upgrade(url)
    engine = create_engine(url)
    with engine.connect() as conn:
        stored = dict(conn.execute(text("SELECT id, answer FROM faq_answers")).all())
    engine.dispose()
    assert stored == {"a": new, "b": "Ours."}
    migrate.downgrade(url, "0014")
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT answer FROM faq_answers WHERE id = 'a'")) == old
    engine.dispose()
