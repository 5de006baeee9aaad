"""The webhook over real HTTP, against the backend service in its own process (PostgreSQL)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import httpx
import pytest
from sqlalchemy import func, select

from backend.db import transaction
from backend.models import InboundMessage, MessageStatusEvent
from tests.backend.whatsapp import payloads as p
from tests.processes import start_backend


@pytest.fixture(scope="module")
def backend_url(pg_migrated, tmp_path_factory):
    server, port = start_backend(pg_migrated, tmp_path_factory.mktemp("logs"), workers=False)
    try:
        server.wait_ready(60)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def _stored(url) -> int:
    with transaction(url) as s:
        return s.scalar(select(func.count()).select_from(InboundMessage))


def test_handshake(backend_url, pg_db_url):
    ok = httpx.get(
        f"{backend_url}/webhooks/whatsapp",
        params={
            "hub.mode": "subscribe",
            "hub.verify_token": "dev-verify-token",
            "hub.challenge": "1158201444",
        },
    )
    assert (ok.status_code, ok.text) == (200, "1158201444") and ok.headers[
        "content-type"
    ].startswith("text/plain")
    for params in (
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": "dev-verify-token", "hub.challenge": "1"},
        {},
    ):
        assert httpx.get(f"{backend_url}/webhooks/whatsapp", params=params).status_code == 403


def test_signature_missing_wrong_and_over_a_reserialised_body_store_nothing(backend_url, pg_db_url):
    raw, headers = p.signed(p.webhook([p.text_message("61412000001", "hi")]))
    missing = httpx.post(
        f"{backend_url}/webhooks/whatsapp",
        content=raw,
        headers={"Content-Type": "application/json"},
    )
    assert missing.status_code == 401
    wrong = httpx.post(
        f"{backend_url}/webhooks/whatsapp",
        content=raw,
        headers={**headers, "X-Hub-Signature-256": "sha256=" + "0" * 64},
    )
    assert wrong.status_code == 403
    reserialised = json.dumps(json.loads(raw), indent=2).encode()  # same JSON, other bytes
    assert (
        httpx.post(
            f"{backend_url}/webhooks/whatsapp", content=reserialised, headers=headers
        ).status_code
        == 403
    )
    assert _stored(pg_db_url) == 0
    assert (
        httpx.post(f"{backend_url}/webhooks/whatsapp", content=raw, headers=headers).status_code
        == 200
    )
    assert _stored(pg_db_url) == 1


def test_malformed_json_with_a_valid_signature_is_400_and_the_server_is_unharmed(
    backend_url, pg_db_url
):
    for raw in (
        b"{not json",
        b"[]",
        b'{"entry": [{"changes": [{"value": {"metadata": {"phone_number_id": "'
        + p.PHONE_NUMBER_ID.encode()
        + b'"}, "messages": [{"bad": 1}]}}]}]}',
    ):
        from backend.whatsapp.signature import sign

        answer = httpx.post(
            f"{backend_url}/webhooks/whatsapp",
            content=raw,
            headers={"X-Hub-Signature-256": sign(raw, p.APP_SECRET)},
        )
        assert answer.status_code == 400
    assert _stored(pg_db_url) == 0
    raw, headers = p.signed(p.webhook([p.text_message("61412000001", "still fine")]))
    assert (
        httpx.post(f"{backend_url}/webhooks/whatsapp", content=raw, headers=headers).status_code
        == 200
    )


def test_a_batch_is_stored_whole(backend_url, pg_db_url):
    body = p.webhook(
        [
            p.text_message("61412000001", "one"),
            p.text_message("61412000002", "two"),
            p.location("61412000003"),
        ],
        [p.status("wamid.X", "sent"), p.status("wamid.X", "delivered")],
    )
    raw, headers = p.signed(body)
    answer = httpx.post(f"{backend_url}/webhooks/whatsapp", content=raw, headers=headers)
    assert answer.json() == {"stored": 3, "duplicates": 0, "statuses": 2}


def test_the_same_payload_sent_concurrently_is_stored_once(backend_url, pg_db_url):
    raw, headers = p.signed(p.webhook([p.text_message("61412000001", "dup")]))
    barrier = Barrier(20)

    def post(_: int) -> int:
        barrier.wait()
        return httpx.post(
            f"{backend_url}/webhooks/whatsapp", content=raw, headers=headers, timeout=30
        ).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        codes = list(pool.map(post, range(20)))
    assert codes == [200] * 20
    assert _stored(pg_db_url) == 1


def test_healthz_reports_each_dependency(backend_url, pg_db_url):
    answer = httpx.get(f"{backend_url}/healthz")
    checks = answer.json()["checks"]
    assert checks["database"] == "ok"
    # No Rasa or action server runs next to this backend: degraded, and says which.
    assert answer.status_code == 503 and checks["rasa"] == "unreachable"


def test_metrics_are_prometheus_text_with_counts_and_queue_depths(backend_url, pg_db_url):
    raw, headers = p.signed(p.webhook([p.text_message("61412000009", "count me")]))
    httpx.post(f"{backend_url}/webhooks/whatsapp", content=raw, headers=headers)
    text = httpx.get(f"{backend_url}/metrics").text
    assert "# TYPE tms_inbound_messages_total counter" in text
    assert 'tms_inbox_messages{status="PENDING"} 1.0' in text
    assert 'tms_webhook_rejected_total{reason="signature"}' in text
    assert "# TYPE tms_inbox_processing_seconds histogram" in text


def test_a_non_ascii_signature_is_refused_not_a_crash(backend_url, pg_db_url):
    raw, _ = p.signed(p.webhook([p.text_message("61412000001", "hi")]))
    for header in (
        "sha256=ünïcödé".encode("latin-1"),
        b"sha256=\xff\xfe",
        "ßha256=x".encode("latin-1"),
    ):
        answer = httpx.post(
            f"{backend_url}/webhooks/whatsapp",
            content=raw,
            headers={"Content-Type": "application/json", "X-Hub-Signature-256": header},
        )
        assert answer.status_code == 403, answer.text
    assert _stored(pg_db_url) == 0
    assert (
        httpx.get(f"{backend_url}/webhooks/whatsapp", params={"hub.mode": "x"}).status_code == 403
    )


def test_a_signed_status_with_an_odd_error_code_is_kept_not_a_crash(backend_url, pg_db_url):
    odd = p.status("wamid.ODD1", "failed")
    odd["errors"] = [{"code": "not-a-number", "title": "Something Meta-ish"}]
    stranger = p.status("wamid.ODD2", "failed")
    stranger["errors"] = "a string where a list should be"
    raw, headers = p.signed(p.webhook(statuses=[odd, stranger]))
    answer = httpx.post(f"{backend_url}/webhooks/whatsapp", content=raw, headers=headers)
    assert answer.status_code == 200 and answer.json()["statuses"] == 2
    with transaction(pg_db_url) as s:
        codes = s.scalars(select(MessageStatusEvent.error_code)).all()
        assert codes == [None, None]


def test_healthz_shows_no_exception_text_and_metrics_can_want_a_token(tmp_path, pg_migrated):
    broken = "postgresql+psycopg://postgres@127.0.0.1:5432/no_such_database_here"
    server, port = start_backend(
        broken, tmp_path, workers=False, extra_env={"METRICS_TOKEN": "metrics-token-0123456789"}
    )
    try:
        server.wait_ready(60)
        health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=30)
        assert health.status_code == 503 and health.json()["checks"]["database"] == "error"
        assert "no_such_database_here" not in health.text and "psycopg" not in health.text
        assert httpx.get(f"http://127.0.0.1:{port}/metrics").status_code == 401
        wrong = {"Authorization": "Bearer nope"}
        assert httpx.get(f"http://127.0.0.1:{port}/metrics", headers=wrong).status_code == 401
    finally:
        server.stop()
    server, port = start_backend(
        pg_migrated,
        tmp_path,
        workers=False,
        extra_env={"METRICS_TOKEN": "metrics-token-0123456789"},
    )
    try:
        server.wait_ready(60)
        right = {"Authorization": "Bearer metrics-token-0123456789"}
        answer = httpx.get(f"http://127.0.0.1:{port}/metrics", headers=right)
        assert answer.status_code == 200 and "tms_inbound_messages_total" in answer.text
    finally:
        server.stop()
