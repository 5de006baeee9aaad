"""The backend service in its own process (workers off), shared by the API tests: one for the
package (each module started its own, 3-5 s apiece). Every test empties the database
(`pg_db_url`) and nothing the API tests look at lives in the process: with the workers off it
only answers requests."""

from __future__ import annotations

import pytest

from tests.processes import start_backend


@pytest.fixture(scope="package")
def backend_url(pg_migrated, tmp_path_factory):
    server, port = start_backend(pg_migrated, tmp_path_factory.mktemp("api-logs"), workers=False)
    try:
        server.wait_ready(60)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
