"""Run Alembic programmatically (what `tms db upgrade` calls)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from backend.config import get_settings
from backend.db import normalise_url

ALEMBIC_INI = Path(__file__).with_name("alembic.ini")


def alembic_config(url: str | None = None) -> Config:
    config = Config(str(ALEMBIC_INI))
    config.set_main_option("sqlalchemy.url", normalise_url(url or get_settings().database_url))
    return config


def upgrade(url: str | None = None, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str | None = None, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)


def recreate_database(url: str) -> None:
    """Drop and create the PostgreSQL database `url` names (empty, no schema): for the tests'
    and benchmarks' own databases. Connects to the server's `postgres` database to do it."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    parsed = make_url(normalise_url(url))
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    finally:
        admin.dispose()
