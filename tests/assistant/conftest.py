"""The assistant's tests need the trained model (trained once per data change) and, for the
HTTP tests, a running Rasa server and action server (started once per session)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.processes import ROOT

pytestmark = pytest.mark.rasa


@pytest.fixture(scope="session")
def results_dir() -> Iterator[Path]:
    path = ROOT / "results"
    path.mkdir(exist_ok=True)
    yield path


@pytest.fixture(scope="session")
def assistant_stack(trained_model, pg_migrated, tmp_path_factory):
    """A real action server and Rasa server (REST channel) on the PostgreSQL test database."""
    from tests.processes import start_action_server, start_rasa

    logs = tmp_path_factory.mktemp("assistant-logs")
    actions, action_port = start_action_server(pg_migrated, logs)
    tracker = f"sqlite:///{logs / 'tracker.sqlite3'}"
    rasa, rasa_port = start_rasa(trained_model, action_port, tracker, logs)
    stack = {
        "rasa_url": f"http://127.0.0.1:{rasa_port}",
        "action_port": action_port,
        "actions": actions,
        "rasa": rasa,
        "logs": logs,
        "database_url": pg_migrated,
    }
    try:
        actions.wait_ready(90)
        rasa.wait_ready(300)
        yield stack
    finally:
        stack["rasa"].stop()
        stack["actions"].stop()  # a test may have replaced it with a restarted one


@pytest.fixture
def demo_world_pg(pg_db_url, story_clock):
    """The demo world, freshly loaded into the PostgreSQL test database."""
    from tests.conftest import load_demo_world

    load_demo_world(pg_db_url)
    return pg_db_url
