"""Transactions: a read-only one does not hold SQLite's write lock."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import text

from backend import migrate
from backend.db import dispose_engines, read_transaction, transaction


def test_a_read_transaction_does_not_block_writers_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'read.sqlite3'}"
    migrate.upgrade(url)
    wrote = threading.Event()

    def writer() -> None:
        with transaction(url) as session:
            session.execute(
                text("INSERT INTO reference_counters (prefix, last_value) VALUES ('X', 1)")
            )
        wrote.set()

    try:
        with read_transaction(url) as session:
            assert session.execute(text("SELECT count(*) FROM reference_counters")).scalar() == 0
            thread = threading.Thread(target=writer)
            thread.start()
            # With BEGIN IMMEDIATE here the writer would wait for this block to end.
            assert wrote.wait(5)
            thread.join()
    finally:
        dispose_engines()
