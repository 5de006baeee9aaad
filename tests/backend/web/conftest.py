"""The backend service in its own process (workers off, the local payment provider), shared
by the page tests."""

from __future__ import annotations

import pytest

from tests.processes import start_backend


@pytest.fixture(scope="module")
def backend_url(pg_migrated, tmp_path_factory):
    server, port = start_backend(pg_migrated, tmp_path_factory.mktemp("web-logs"), workers=False)
    try:
        server.wait_ready(60)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
