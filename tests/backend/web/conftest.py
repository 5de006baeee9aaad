"""The backend service in its own process (workers off, the local payment provider), shared
by the page tests: one for the package (each module started its own). With the workers off it
only answers requests; every test empties the database (`pg_db_url`)."""

from __future__ import annotations

import pytest

from tests.processes import start_backend


@pytest.fixture(scope="package")
def backend_url(pg_migrated, tmp_path_factory):
    server, port = start_backend(
        pg_migrated,
        tmp_path_factory.mktemp("web-logs"),
        workers=False,
        # The fuzzing sends hundreds of requests a minute from one address; the rate limits
        # have their own tests (test_limits.py).
        extra_env={"PAGE_REQUESTS_PER_MINUTE": "0", "CHECKOUT_REQUESTS_PER_HOUR": "0"},
    )
    try:
        server.wait_ready(60)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
