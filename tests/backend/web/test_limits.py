"""Limits on what a stranger can send (issue 21): request bodies per route refused with 413
before they are read, rates per client address on the customer pages and on checkouts (429 with
Retry-After), none on the signed webhooks; and what production adds (HSTS, the metrics token,
a private OpenAPI document, no local payment webhook)."""

from __future__ import annotations

import itertools
import select
import socket
import time
from urllib.parse import urlsplit

import httpx
import pytest

from backend import links
from backend.db import transaction
from backend.domain.actor import SYSTEM
from backend.domain.enums import Role
from backend.services import staff as staff_service
from backend.web.limits import BODY_LIMITS, KIB, RateLimiter, body_limit_for
from tests.backend.test_config import GOOD
from tests.processes import start_backend

_addresses = itertools.count(1)


def a_client() -> dict[str, str]:
    """A client address of its own (the backend trusts one proxy here), so that each test
    starts with full buckets."""
    return {"X-Forwarded-For": f"198.51.100.{next(_addresses)}"}


@pytest.fixture(scope="module")
def limited(pg_migrated, tmp_path_factory):
    """A backend with small rate limits, behind one (pretend) proxy."""
    server, port = start_backend(
        pg_migrated,
        tmp_path_factory.mktemp("limits-logs"),
        workers=False,
        extra_env={
            "PAGE_REQUESTS_PER_MINUTE": "5",
            "CHECKOUT_REQUESTS_PER_HOUR": "2",
            "TRUSTED_PROXIES": "1",
        },
    )
    try:
        server.wait_ready(60)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="module")
def production(pg_migrated, tmp_path_factory):
    """A backend with TMS_ENV=production (and the settings production asks for)."""
    server, port = start_backend(
        pg_migrated,
        tmp_path_factory.mktemp("production-logs"),
        workers=False,
        extra_env={
            **GOOD,
            "DATABASE_URL": pg_migrated,
            "SMTP_URL": "smtp://127.0.0.1:9",
            "METRICS_TOKEN": "metrics-token-0123456789abcdef",
            "TMS_CLOCK_FILE": "",  # production refuses a moved clock
        },
    )
    try:
        server.wait_ready(60)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


# -- bodies ----------------------------------------------------------------------------------------
def test_every_customer_page_and_webhook_has_its_own_limit():
    assert body_limit_for("/webhooks/whatsapp") == 512 * KIB
    assert body_limit_for("/webhooks/payments") == 64 * KIB
    assert body_limit_for("/webhooks/stripe") == 64 * KIB
    assert body_limit_for("/console/sign-in/code") == 8 * KIB
    assert body_limit_for("/console/leads/1/reply") == 128 * KIB
    assert body_limit_for("/feedback/abc") == 32 * KIB
    assert body_limit_for("/api/leads") == 256 * KIB
    assert body_limit_for("/healthz") == 16 * KIB


def _headers_only(url: str, path: str, headers: dict[str, str]) -> tuple[bytes, bool]:
    """Send a POST's head only; (the answer's first bytes, whether the server closed)."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\n{head}\r\n".encode())
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(65536)
            if not chunk:
                return answer, True
            answer += chunk
        return answer, False


@pytest.mark.parametrize(
    ("path", "limit"),
    [
        ("/webhooks/whatsapp", 512 * KIB),
        ("/webhooks/payments", 64 * KIB),
        ("/feedback/not-a-token", 32 * KIB),
        ("/console/sign-in", 8 * KIB),
        ("/api/leads/1/quote", 256 * KIB),
    ],
)
def test_a_body_over_the_routes_limit_is_refused_before_it_is_sent(limited, path, limit):
    # Only the head goes out: a 413 that comes back proves the body was never waited for.
    answer, _ = _headers_only(
        limited,
        path,
        {"Content-Type": "application/json", "Content-Length": str(limit + 1), **a_client()},
    )
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    # The rest of the body is never read, so the connection cannot serve another request.
    assert b"\r\nconnection: close\r\n" in answer.lower(), answer[:400]


def test_a_body_within_the_limit_is_read_as_usual(limited):
    answer = httpx.post(
        f"{limited}/webhooks/whatsapp", content=b"{" + b" " * (300 * KIB) + b"}", timeout=30
    )
    assert answer.status_code == 401  # read whole, then refused for its missing signature


def test_a_chunked_body_is_cut_off_once_it_streams_past_the_limit(limited):
    parts = urlsplit(limited)
    chunk = b"x" * (4 * KIB)
    sent = 0
    answer = b""
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        head = f"POST /feedback/not-a-token HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        sock.sendall(f"{head}Transfer-Encoding: chunked\r\n\r\n".encode())
        try:
            # 4 KiB at a time, far past the feedback page's 32 KiB, until the server answers.
            while sent < 200 and not answer:
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent += 1
                if select.select([sock], [], [], 0.05)[0]:
                    answer = sock.recv(65536)
        except (BrokenPipeError, ConnectionResetError):
            pass  # closed on us: what it said is still to be read
        if not answer:
            answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    # Refused while streaming: well before the client had sent it all.
    assert sent < 100


# -- rates -----------------------------------------------------------------------------------------
def test_the_customer_pages_answer_429_with_retry_after_past_the_rate(limited):
    client = a_client()
    statuses = [
        httpx.get(f"{limited}/track/not-a-token", headers=client).status_code for _ in range(5)
    ]
    assert statuses == [404] * 5
    refused = httpx.get(f"{limited}/feedback/not-a-token", headers=client)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    # Another client address is not held back by this one.
    assert httpx.get(f"{limited}/track/not-a-token", headers=a_client()).status_code == 404


def test_checkouts_have_their_own_smaller_limit(limited):
    client = a_client()
    token = links.token_for("pay", "NOBOOKING", kind="deposit")
    looked_up = [
        httpx.get(f"{limited}/pay/{token}", params={"checkout": "cs_x"}, headers=client)
        for _ in range(2)
    ]
    assert all(a.status_code < 429 for a in looked_up)
    third = httpx.post(f"{limited}/pay/{token}", data={"kind": "deposit"}, headers=client)
    assert third.status_code == 429
    assert int(third.headers["retry-after"]) > 60  # 2 an hour: a new one in half an hour
    # The page itself (no checkout) still opens for this client.
    assert httpx.get(f"{limited}/pay/{token}", headers=client).status_code == 404


def test_the_signed_webhooks_are_never_rate_limited(limited):
    client = a_client()
    for _ in range(20):
        answer = httpx.post(f"{limited}/webhooks/whatsapp", content=b"{}", headers=client)
        assert answer.status_code == 401
        answer = httpx.post(f"{limited}/webhooks/payments", content=b"{}", headers=client)
        assert answer.status_code == 400


def test_a_bucket_refills_with_time():
    now = [0.0]
    bucket = RateLimiter(2, 60.0, clock=lambda: now[0])
    assert bucket.take("a") == 0 and bucket.take("a") == 0
    assert bucket.take("a") == pytest.approx(30.0)
    now[0] = 30.0
    assert bucket.take("a") == 0
    assert bucket.take("b") == 0  # per key


def test_the_bucket_forgets_idle_clients_when_there_are_many():
    now = [0.0]
    bucket = RateLimiter(2, 60.0, clock=lambda: now[0])
    bucket.MAX_KEYS = 10
    for n in range(10):
        bucket.take(f"client {n}")
    now[0] = 120.0  # all full again
    bucket.take("one more")
    assert len(bucket._buckets) == 1


# -- production --------------------------------------------------------------------------------
def test_production_sends_hsts_on_every_response(production, limited):
    for path in ("/healthz", "/webhooks/whatsapp?hub.mode=x", "/track/x", "/api/leads"):
        answer = httpx.get(f"{production}{path}", timeout=30)
        assert (
            answer.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
        ), path
    # Development serves plain http on loopback: no HSTS there.
    assert "strict-transport-security" not in httpx.get(f"{limited}/healthz").headers


def test_production_metrics_want_the_token(production):
    assert httpx.get(f"{production}/metrics").status_code == 401
    answer = httpx.get(
        f"{production}/metrics",
        headers={"Authorization": "Bearer metrics-token-0123456789abcdef"},
    )
    assert answer.status_code == 200 and "tms_inbound_messages" in answer.text


def test_production_openapi_wants_a_staff_token(production, pg_migrated):
    assert httpx.get(f"{production}/api/openapi.json").status_code == 401
    with transaction(pg_migrated) as s:
        _, token = staff_service.add_staff(
            s,
            name=f"Porter {time.monotonic_ns()}",
            phone=f"+97798030{time.monotonic_ns() % 100000:05d}",
            roles=[Role.PORTER],
            actor=SYSTEM,
        )
    answer = httpx.get(
        f"{production}/api/openapi.json", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200 and answer.json()["openapi"].startswith("3.")


def test_development_openapi_stays_public(limited):
    assert httpx.get(f"{limited}/api/openapi.json").status_code == 200


def test_with_stripe_the_local_payment_webhook_is_not_there(production, limited):
    assert httpx.post(f"{production}/webhooks/payments", content=b"{}").status_code == 404
    # The local provider (the demo, the tests) keeps it.
    assert httpx.post(f"{limited}/webhooks/payments", content=b"{}").status_code == 400


def test_the_limits_table_covers_every_customer_page():
    prefixes = {prefix for prefix, _ in BODY_LIMITS}
    assert {"/pay/", "/book/", "/track/", "/feedback/"} <= prefixes
