"""Engines and transactions.

One business operation is one transaction: callers open it with `transaction()`, services
receive the session and never commit themselves.

SQLite (the embedded default) serialises writers: every transaction starts with
`BEGIN IMMEDIATE`, so the "lock, re-check, write" of the inventory holds there too.
PostgreSQL uses row locks (`SELECT ... FOR UPDATE`) with a lock timeout.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from threading import Lock
from typing import Any

from sqlalchemy import Engine, Result, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from backend.config import get_settings

READ_ONLY = "tms_read_only"
_engines: dict[str, Engine] = {}
_factories: dict[str, sessionmaker[Session]] = {}
_lock = Lock()


def normalise_url(url: str) -> str:
    """Accept plain `postgresql://` URLs and route them to psycopg 3."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def is_sqlite(engine_or_session: Engine | Session) -> bool:
    bind = (
        engine_or_session.get_bind()
        if isinstance(engine_or_session, Session)
        else engine_or_session
    )
    return bind.dialect.name == "sqlite"


def create_db_engine(url: str) -> Engine:
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=10,
            max_overflow=20,
        )
        _make_sqlite_transactional(engine)
        return engine
    return create_engine(url, pool_size=10, max_overflow=60, pool_pre_ping=True)


def _make_sqlite_transactional(engine: Engine) -> None:
    # pysqlite's own transaction handling defers BEGIN and cannot take a write lock up
    # front; take over: no implicit BEGIN, and BEGIN IMMEDIATE ourselves.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        # A read-only transaction (read_transaction) does not need the write lock.
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def get_engine(url: str | None = None) -> Engine:
    url = normalise_url(url or get_settings().database_url)
    with _lock:
        if url not in _engines:
            _engines[url] = create_db_engine(url)
            _factories[url] = sessionmaker(_engines[url], expire_on_commit=False)
        return _engines[url]


def session_factory(url: str | None = None) -> sessionmaker[Session]:
    url = normalise_url(url or get_settings().database_url)
    get_engine(url)
    return _factories[url]


@contextmanager
def transaction(url: str | None = None) -> Iterator[Session]:
    """One unit of work: commit when the block ends, roll back on any exception."""
    with session_factory(url).begin() as session:
        yield session


@contextmanager
def read_transaction(url: str | None = None) -> Iterator[Session]:
    """A transaction that only reads. On SQLite it does not take the write lock, so a long
    scan (the scheduler's reconciliation) does not hold up every writer."""
    with session_factory(url)() as session:
        session.connection(execution_options={READ_ONLY: True})
        try:
            yield session
        finally:
            session.rollback()


def dispose_engines() -> None:
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
        _factories.clear()


def rows_affected(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE touched (its cursor's rowcount)."""
    return int(getattr(result, "rowcount", 0) or 0)
