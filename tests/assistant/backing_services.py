"""What the scale-out tests of the assistant run on besides Rasa: a fresh PostgreSQL tracker
database next to the test database (TEST_DATABASE_URL), so nothing else's conversations are
in it, and Redis (REDIS_URL, or the local one), whose tests are skipped when it is absent."""

from __future__ import annotations

import json
import os
import socket
import subprocess
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine, make_url

from backend import migrate
from tests.conftest import pg_url
from tests.processes import ROOT

REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"


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
        migrate.recreate_database(url.render_as_string(hide_password=False))
    except Exception as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required under CI and is not reachable: {exc}")
        pytest.skip(f"PostgreSQL not reachable ({exc}); set TEST_DATABASE_URL")
    return TrackerDatabase(
        url=url.render_as_string(hide_password=False),
        rasa_url=url.set(drivername="postgresql").render_as_string(hide_password=False),
    )


def redis_problem(url: str = REDIS_URL) -> str | None:
    """None when Redis answers at `url`, else why not (the tests that need it are skipped)."""
    parts = urlsplit(url)
    where = f"{parts.hostname or 'localhost'}:{parts.port or 6379}"
    try:
        with socket.create_connection((parts.hostname or "localhost", parts.port or 6379), 2) as s:
            s.sendall(b"PING\r\n")
            answer = s.recv(64)
    except OSError as error:
        return f"Redis at {where} does not answer ({error})"
    if not answer.startswith((b"+", b"-")):  # +PONG, or -NOAUTH: a Redis that answers
        return f"not a Redis at {where}: {answer!r}"
    return None


def rasa_probe(module: str, *args: str, timeout: int = 600) -> tuple[dict[str, Any], str]:
    """Run `python -m tests.assistant.<module> ARGS…` in Rasa's environment (.venv-rasa); the
    probe prints its findings as one JSON line last. Returns them and the probe's stderr."""
    result = subprocess.run(
        [str(ROOT / ".venv-rasa/bin/python"), "-m", f"tests.assistant.{module}", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(ROOT), "SQLALCHEMY_SILENCE_UBER_WARNING": "1"},
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout.strip().splitlines()[-1]), result.stderr
