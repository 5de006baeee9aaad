"""Shared fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL comes from TEST_DATABASE_URL (default: the local server's `tms_test`). When it
cannot be reached the PostgreSQL half is skipped locally, and fails under CI (CI=true).

Time: the suite runs on a shared clock file (`backend.clock`), so this process and every
server it starts (backend, scheduler, action server, fake Graph API) read the same "now".
Tests that depend on the date or the time of day fix it: `frozen_clock` (this process only)
or `story_clock` (every process). `--clock-at` (or TMS_TEST_CLOCK_AT) starts the shared
clock at another moment, to prove that nothing else depends on the day the suite runs.
"""

from __future__ import annotations

import copy
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

# Before anything imports backend.clock: this process and its children share one clock.
os.environ.setdefault(
    "TMS_CLOCK_FILE", str(Path(tempfile.mkdtemp(prefix="tms-clock-")) / "clock.json")
)
# Every Sanic server the tests start (the backend, Rasa) reads SANIC_* from its environment.
# Stopping, Sanic waits up to GRACEFUL_SHUTDOWN_TIMEOUT (15 s by default, production keeps it)
# for open connections to close: a console page's event stream or a kept-alive client held
# five modules' teardown for 16 s each. The workers stop before that wait (before_server_stop),
# so a test server loses nothing by dropping its connections after a second.
os.environ.setdefault("SANIC_GRACEFUL_SHUTDOWN_TIMEOUT", "1")

import pytest
from sqlalchemy import Table, create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from backend import clock, migrate
from backend.db import dispose_engines, normalise_url, session_factory, transaction
from backend.models import Base
from devkit.demo_data import STORY, DemoWorld, load

# Shared fixtures: `browser` (Chromium), `console_server`/`console` (backend + fake Graph API).
pytest_plugins = ["tests.browser", "tests.live_stack"]

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


def truncate_pg(url: str) -> None:
    engine = create_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    # A server of another test module (the workflows' stack lives for the session) may be
    # reading at that moment: PostgreSQL then breaks the deadlock, and we try again.
    for attempt in range(5):
        try:
            with engine.begin() as conn:
                conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            break
        except OperationalError:
            if attempt == 4:
                raise
            time.sleep(0.2 * (attempt + 1))
    # The house cancellation policy is seeded by migration 0014: put it back as it was.
    from backend.services.cancellation_policy import HOUSE_LINES, replace_lines

    with Session(engine) as session:
        replace_lines(session, None, HOUSE_LINES)
        session.commit()
    engine.dispose()


@dataclass
class _WorldCopy:
    """The demo world as its first load left the database: each table's rows, the counters."""

    world: DemoWorld
    seeded: frozenset[str]  # the tables holding rows before the load (the migrations' seeds)
    rows: list[tuple[Table, list[dict[str, object]]]]
    counters: list[tuple[str, object]]  # PostgreSQL's sequences, SQLite's sqlite_sequence
    loaded_after: timedelta  # how far past the story's morning the clock stood once loaded


_world_copies: dict[tuple[object, ...], _WorldCopy] = {}


def _tables_with_rows(session: Session) -> frozenset[str]:
    tables = Base.metadata.sorted_tables
    probe = " UNION ALL ".join(
        f"SELECT '{t.name}' WHERE EXISTS (SELECT 1 FROM \"{t.name}\")" for t in tables
    )
    return frozenset(session.execute(text(probe)).scalars())


def _counters(session: Session) -> list[tuple[str, object]]:
    if session.get_bind().dialect.name == "postgresql":
        found = session.execute(
            text("SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'")
        )
    else:
        exists = session.scalar(text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'"))
        found = session.execute(text("SELECT name, seq FROM sqlite_sequence")) if exists else []
    return [(str(name), value) for name, value in found]


def _restore(session: Session, copy: _WorldCopy) -> None:
    for name in copy.seeded:
        session.execute(text(f'DELETE FROM "{name}"'))
    for table, rows in copy.rows:
        if rows:
            session.execute(table.insert(), rows)
    if session.get_bind().dialect.name == "postgresql":
        for name, value in copy.counters:
            if value is None:
                session.execute(text("SELECT setval(:s, 1, false)"), {"s": name})
            else:
                session.execute(text("SELECT setval(:s, :v, true)"), {"s": name, "v": value})
    elif copy.counters:
        session.execute(text("DELETE FROM sqlite_sequence"))
        for name, value in copy.counters:
            session.execute(
                text("INSERT INTO sqlite_sequence (name, seq) VALUES (:n, :v)"),
                {"n": name, "v": value},
            )


def load_demo_world(url: str) -> DemoWorld:
    """`devkit.demo_data.load` into the emptied database at `url`, the clock on the story's
    morning (`story_clock`): what console, API, action and workflow tests start from.

    The load runs the services (some 1,100 statements, a second or more each time, a few
    hundred times a run): its first result on each database kind is kept, rows and counters,
    and later calls copy it back (the same rows, the same tokens) and put the clock where the
    load would have left it. Only on the story's morning, the database as emptied and the same
    settings; otherwise, or if the copy is refused, the services load it."""
    shared = clock.shared()
    since = clock.now() - STORY.morning
    on_the_morning = shared is not None and timedelta(0) <= since < timedelta(seconds=5)
    environment = tuple(
        sorted(
            (k, v)
            for k, v in os.environ.items()
            if k not in ("PYTEST_CURRENT_TEST", "DATABASE_URL")
        )
    )
    key = (make_url(url).get_backend_name(), environment)
    kept = _world_copies.get(key) if on_the_morning else None
    with session_factory(url)() as session:
        seeded = _tables_with_rows(session)
        if kept is not None and seeded == kept.seeded:
            try:
                _restore(session, kept)
                session.commit()
            except Exception:
                session.rollback()  # then the services load it
            else:
                assert shared is not None
                if clock.now() - STORY.morning < kept.loaded_after:
                    shared.move_to(STORY.morning + kept.loaded_after)
                return copy.deepcopy(kept.world)
        session.rollback()
    with transaction(url) as session:
        world = load(session)
    if on_the_morning and key not in _world_copies:
        loaded_after = clock.now() - STORY.morning
        with session_factory(url)() as session:
            rows = [
                (table, [dict(row) for row in session.execute(select(table)).mappings()])
                for table in Base.metadata.sorted_tables
            ]
            _world_copies[key] = _WorldCopy(
                copy.deepcopy(world), seeded, rows, _counters(session), loaded_after
            )
    return world


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
        truncate_pg(url)
    monkeypatch.setenv("DATABASE_URL", url)
    yield url
    dispose_engines()


@pytest.fixture
def session(db_url: str) -> Iterator[Session]:
    """A session in a transaction that the test commits (or not) as it likes."""
    with session_factory(db_url)() as s:
        yield s


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--clock-at",
        default=os.environ.get("TMS_TEST_CLOCK_AT") or None,
        help="start the shared clock of the suite and its servers at this ISO moment "
        "(e.g. 2031-02-28T23:50:00+05:45) instead of the machine's now",
    )


def pytest_configure(config: pytest.Config) -> None:
    shared = clock.shared()
    assert shared is not None, "tests/conftest.py sets TMS_CLOCK_FILE before importing backend"
    at = config.getoption("--clock-at")
    if at:
        moment = datetime.fromisoformat(at)
        if moment.tzinfo is None:
            raise pytest.UsageError("--clock-at needs a timezone, e.g. +05:45")
        shared.move_to(moment)
    else:
        shared.set_offset(timedelta(0))
    config.stash[_BASE_OFFSET] = shared.offset()


_BASE_OFFSET = pytest.StashKey[timedelta]()


class StoryClock:
    """The shared clock of every process, put on the workflows' calendar (`STORY`)."""

    def __init__(self, shared: clock.ClockFile) -> None:
        self.shared = shared
        self.calendar = STORY

    def move_to(self, at: datetime) -> datetime:
        self.shared.move_to(at)
        return at

    def at(self, day: object, hhmm: str) -> datetime:
        """Move every process to `day` (a date, or an ISO date) at `hhmm` local time."""
        from datetime import date

        when = day if isinstance(day, date) else date.fromisoformat(str(day))
        return self.move_to(self.calendar.at(when, hhmm))

    def advance(self, **delta: float) -> datetime:
        return self.move_to(clock.now() + timedelta(**delta))


@pytest.fixture
def story_clock(request: pytest.FixtureRequest) -> Iterator[StoryClock]:
    """Every process's clock on the story's day (the morning the demo world is loaded);
    back where the suite started it afterwards."""
    shared = clock.shared()
    assert shared is not None
    story = StoryClock(shared)
    story.move_to(STORY.morning)
    yield story
    shared.set_offset(request.config.stash[_BASE_OFFSET])


@pytest.fixture
def frozen_clock() -> Iterator[clock.FrozenClock]:
    """This process's clock stands at the workflows' hold: Dec 23, 2:00 PM in Kathmandu."""
    with clock.frozen(STORY.at(STORY.today, "14:00")) as c:
        yield c


@pytest.fixture
def pg_db_url(pg_migrated: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An empty PostgreSQL database, for what must hold under real concurrency."""
    truncate_pg(pg_migrated)
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
