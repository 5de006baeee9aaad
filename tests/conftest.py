"""Shared fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL comes from TEST_DATABASE_URL (default: the local server's `tms_test`). When it
cannot be reached the PostgreSQL half is skipped locally, and fails under CI (CI=true).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from backend import clock, migrate
from backend.db import dispose_engines, normalise_url, session_factory
from backend.models import Base

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/tms_test"


def pg_url() -> str:
    return normalise_url(os.environ.get("TEST_DATABASE_URL", DEFAULT_PG))


def _ensure_pg_database(url: str) -> None:
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": parsed.database}
        )
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()


@pytest.fixture(scope="session")
def pg_migrated() -> str:
    url = pg_url()
    try:
        _ensure_pg_database(url)
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    except Exception as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required under CI and is not reachable: {exc}")
        pytest.skip(f"PostgreSQL not reachable ({exc}); set TEST_DATABASE_URL")
    migrate.upgrade(url)
    return url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    migrate.upgrade(f"sqlite:///{path}")
    return path


def _truncate_pg(url: str) -> None:
    engine = create_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A migrated, empty database; DATABASE_URL points at it for the test."""
    if request.param == "sqlite":
        path = tmp_path / "test.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("pg_migrated")
        _truncate_pg(url)
    monkeypatch.setenv("DATABASE_URL", url)
    yield url
    dispose_engines()


@pytest.fixture
def session(db_url: str) -> Iterator[Session]:
    """A session in a transaction that the test commits (or not) as it likes."""
    with session_factory(db_url)() as s:
        yield s


@pytest.fixture
def frozen_clock() -> Iterator[clock.FrozenClock]:
    with clock.frozen(datetime(2024, 12, 23, 8, 15, tzinfo=UTC)) as c:  # 2:00 PM in Kathmandu
        yield c


@pytest.fixture
def pg_db_url(pg_migrated: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An empty PostgreSQL database, for what must hold under real concurrency."""
    _truncate_pg(pg_migrated)
    monkeypatch.setenv("DATABASE_URL", pg_migrated)
    yield pg_migrated
    dispose_engines()


@pytest.fixture(scope="session")
def trained_model() -> Path:
    """The Rasa model, trained once per data change (see scripts/train.sh)."""
    from tests.processes import ROOT, train_model

    if not (ROOT / ".venv-rasa/bin/rasa").exists():
        pytest.fail("the Rasa environment is missing: run `make setup`")
    return train_model()
