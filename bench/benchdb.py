"""What every benchmark shares: the database it runs on and a clean schema to start from."""

from __future__ import annotations

import os

from sqlalchemy import create_engine, text

from backend import migrate

URL = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/tms_bench")


def reset_database() -> None:
    """Drop everything in the bench database and migrate it to the latest schema."""
    engine = create_engine(URL)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    migrate.upgrade(URL)
