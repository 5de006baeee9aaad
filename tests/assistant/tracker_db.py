"""Rasa's tracker databases for the assistant tests: a fresh PostgreSQL database next to the
test database (TEST_DATABASE_URL), so nothing else's conversations are in it."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from tests.conftest import pg_url


@dataclass(frozen=True)
class TrackerDatabase:
    url: str  # for this process (SQLAlchemy 2, psycopg 3)
    rasa_url: str  # for Rasa (SQLAlchemy 1.4, psycopg2)

    def engine(self) -> Engine:
        return create_engine(self.url)


def fresh_tracker_database(suffix: str) -> TrackerDatabase:
    """Drops and creates `<test database>_<suffix>`; skips (fails under CI) without PostgreSQL."""
    base = make_url(pg_url())
    url = base.set(database=f"{base.database}_{suffix}")
    try:
        admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{url.database}"'))
        admin.dispose()
    except Exception as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required under CI and is not reachable: {exc}")
        pytest.skip(f"PostgreSQL not reachable ({exc}); set TEST_DATABASE_URL")
    return TrackerDatabase(
        url=url.render_as_string(hide_password=False),
        rasa_url=url.set(drivername="postgresql").render_as_string(hide_password=False),
    )
