"""The console's tests share one backend (with its workers) and fake Graph API for the package:
each module started its own (a backend and a fake, 4-5 s apiece). Each test still starts from
an empty database with the demo world and an empty fake (`console`); the one thing the process
keeps, the count of a session's open live streams, is per sign-in session, and every test
signs in anew."""

from __future__ import annotations

import pytest

from tests.live_stack import serve_console


@pytest.fixture(scope="package")
def console_server(pg_migrated, tmp_path_factory):
    yield from serve_console(pg_migrated, tmp_path_factory)
