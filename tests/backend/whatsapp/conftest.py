"""The gateway tests' stack: the backend service receiving the fake Graph API's signed status
webhooks, on PostgreSQL."""

from __future__ import annotations

import httpx
import pytest

from tests.processes import start_backend, start_fake_graph


@pytest.fixture(scope="module")
def gateway(pg_migrated, tmp_path_factory):
    logs = tmp_path_factory.mktemp("gateway-logs")
    backend, backend_port = start_backend(pg_migrated, logs, workers=False)
    fake, fake_port = start_fake_graph(f"http://127.0.0.1:{backend_port}/webhooks/whatsapp", logs)
    try:
        backend.wait_ready(60)
        fake.wait_ready(60)
        yield f"http://127.0.0.1:{fake_port}"
    finally:
        fake.stop()
        backend.stop()


@pytest.fixture
def fake(gateway, pg_db_url, monkeypatch):
    httpx.post(f"{gateway}/_fake/reset").raise_for_status()
    monkeypatch.setenv("WHATSAPP_API_BASE_URL", f"{gateway}/v23.0")
    return gateway
