"""Gateway benchmarks on PostgreSQL. Prints figures; each has a baseline measured in the same
run, because this machine is shared and noisy.

1. Webhook ingest: signed single-message webhooks against the backend service (workers off)
   over 32 keep-alive connections, with 1 and 2 backend processes: messages stored per second
   and p50/p99 time to the 200, against the same server answering the GET handshake (no
   database) as the baseline, the two taking turns.
2. End to end: customers writing through the fake Graph API → webhook → inbox → Rasa → action
   server → outbox → fake Graph API; messages per second and p50/p99 time from the customer's
   message to the reply, against Rasa's REST channel alone as the baseline.

    python bench/gateway_bench.py [--only ingest,e2e]

The sender has its own: bench/sender_bench.py (several processes sharing the number's limit).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from benchdb import URL, reset_database
from sqlalchemy import create_engine, text

from backend import clock
from backend.assistant_protocol import RASA_CHANNEL_PATH
from backend.config import PROJECT_ROOT
from backend.db import dispose_engines, transaction
from backend.stack import Part, Ports, Stack, product_parts, trained_model
from backend.whatsapp.inbox_worker import rasa_channel_headers
from backend.whatsapp.signature import sign
from devkit.demo_data import StoryCalendar, load

PY = str(PROJECT_ROOT / ".venv/bin/python")
PNID = "100000000000001"


def truncate_db() -> None:
    from backend.models import Base

    dispose_engines()
    engine = create_engine(URL)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


def pct(values: list[float], q: int) -> float:
    return (
        statistics.quantiles(values, n=100)[q - 1] * 1000 if len(values) > 1 else values[0] * 1000
    )


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def webhook_body(i: int) -> bytes:
    import json

    wa = f"6141{i % 500:08d}"
    return json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": "W",
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": {"display_phone_number": "1", "phone_number_id": PNID},
                                "contacts": [{"profile": {"name": "B"}, "wa_id": wa}],
                                "messages": [
                                    {
                                        "from": wa,
                                        "id": f"wamid.BENCH{time.time_ns()}{i}",
                                        "timestamp": "1735000000",
                                        "type": "text",
                                        "text": {"body": "hello"},
                                    }
                                ],
                            },
                        }
                    ],
                }
            ],
        }
    ).encode()


HANDSHAKE = (
    "/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=dev-verify-token&hub.challenge=1"
)


def get_request(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n".encode()


def signed_post(path: str, body: bytes) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
        f"X-Hub-Signature-256: {sign(body, 'dev-app-secret')}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def http_load(
    port: int, requests: list[bytes], connections: int
) -> tuple[float, list[float]]:
    """Send prepared HTTP/1.1 requests over `connections` keep-alive connections, each sending
    its next request once the previous answer is in; requests/s and each one's latency.

    A bare client on purpose: httpx tops out near 400 requests/s on this machine, so it
    measured itself rather than the server (and took the CPU the server needed)."""
    queue = list(reversed(requests))
    latencies: list[float] = []

    async def connection() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while queue:
                request = queue.pop()
                started = time.perf_counter()
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                answer = await reader.readexactly(length)
                latencies.append(time.perf_counter() - started)
                assert head[9:12] == b"200", (head + answer).decode(errors="replace")
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(connections)))
    return len(latencies) / (time.perf_counter() - started), latencies


def run_client(coroutine):  # type: ignore[no-untyped-def]
    """The client on uvloop when it is there (it is with Sanic): less of the CPU for itself."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


_bodies = itertools.count()


def signed_posts(n: int) -> list[bytes]:
    """n signed single-message webhooks, each with a wamid of its own (500 senders)."""
    return [signed_post("/webhooks/whatsapp", webhook_body(next(_bodies))) for _ in range(n)]


def stored_messages() -> int:
    engine = create_engine(URL)
    with engine.connect() as conn:
        count = int(conn.execute(text("SELECT count(*) FROM inbound_messages")).scalar_one())
    engine.dispose()
    return count


def bench_ingest(
    logs: Path, processes: list[int], requests: int, rounds: int, connections: int = 32
) -> None:
    """Webhook ingest against its baseline, for each number of backend processes: the GET
    handshake (no database) and the signed POST (verify, dedupe, store, 200) take turns,
    `rounds` times, so both see the same load from whatever else runs on the machine."""
    print(
        f"Webhook ingest (PostgreSQL, {connections} connections, {rounds} rounds x "
        f"{requests} requests of each kind, taking turns)"
    )
    print(f"  {'':<46}{'req/s':>8}{'msg/s':>8}{'ratio':>7}{'p50 ms':>8}{'p99 ms':>8}")
    for count in processes:
        reset_database()
        port = free_port()
        stack = Stack(
            [
                Part(
                    f"backend-x{count}",
                    [PY, "-m", "backend.server"],
                    f"http://127.0.0.1:{port}/webhooks/whatsapp?x=1",
                    {
                        "DATABASE_URL": URL,
                        "BACKEND_PORT": str(port),
                        "BACKEND_PROCESSES": str(count),
                        "TMS_WORKERS": "0",
                        "LOG_LEVEL": "WARNING",
                    },
                )
            ],
            logs,
        )
        stack.start()
        try:
            gets = [get_request(HANDSHAKE)] * requests
            warm_up = min(requests, 1000)  # connections, caches, prepared statements
            run_client(http_load(port, gets[:warm_up], connections))
            run_client(http_load(port, signed_posts(warm_up), connections))
            base_lat: list[float] = []
            lat: list[float] = []
            base_time = post_time = 0.0
            before = stored_messages()
            for _ in range(rounds):
                rate, got = run_client(http_load(port, gets, connections))
                base_time += len(got) / rate
                base_lat += got
                bodies = signed_posts(requests)
                rate, got = run_client(http_load(port, bodies, connections))
                post_time += len(got) / rate
                lat += got
            stored = stored_messages() - before
            assert stored == requests * rounds, f"{stored} of {requests * rounds} stored"
            base_rate, rate = len(base_lat) / base_time, len(lat) / post_time
            label = f"{count} process{'es' if count > 1 else ''}"
            print(
                f"  {label + ': GET handshake (baseline, no DB)':<46}{base_rate:>8.0f}{'':>8}"
                f"{1:>7.2f}{pct(base_lat, 50):>8.1f}{pct(base_lat, 99):>8.1f}"
            )
            print(
                f"  {label + ': POST signed webhook, stored':<46}{rate:>8.0f}"
                f"{stored / post_time:>8.0f}{rate / base_rate:>7.2f}"
                f"{pct(lat, 50):>8.1f}{pct(lat, 99):>8.1f}"
            )
            met = stored / post_time >= 1000 and pct(lat, 99) <= 50
            print(f"  {'':<46}target >= 1,000/s, p99 <= 50 ms: {'met' if met else 'NOT met'}")
        finally:
            stack.stop()


def bench_e2e(logs: Path, messages: int, senders: int) -> None:
    reset_database()
    with transaction(URL) as s:
        load(s, StoryCalendar.next_season(clock.local_today()))  # a world ahead of today
    model = trained_model()
    tracker = f"sqlite:///{logs / 'tracker.sqlite3'}"
    ports = Ports(
        actions=free_port(), rasa=free_port(), backend=free_port(), fake_graph=free_port()
    )
    stack = Stack(
        product_parts(
            model,
            ports,
            env={"DATABASE_URL": URL, "LOG_LEVEL": "WARNING"},
            tracker_url=tracker,
            backend_env={"RECIPIENT_BURST": "100"},
        ),
        logs,
    )
    stack.start(timeout=400)
    question = "what's included in the Everest Base Camp trek?"
    try:

        async def baseline() -> tuple[float, list[float]]:
            async with httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{ports.rasa}", timeout=60
            ) as client:
                latencies: list[float] = []

                async def one(i: int) -> None:
                    started = time.perf_counter()
                    answer = await client.post(
                        RASA_CHANNEL_PATH,
                        json={"sender": f"+6149{i % senders:07d}", "message": question},
                        headers=rasa_channel_headers(),
                    )
                    assert answer.json(), "no reply"
                    latencies.append(time.perf_counter() - started)

                started = time.perf_counter()
                for chunk in range(0, messages, senders):
                    await asyncio.gather(
                        *(one(i) for i in range(chunk, min(chunk + senders, messages)))
                    )
                return messages / (time.perf_counter() - started), latencies

        async def through_gateway() -> tuple[float, list[float]]:
            async with httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{ports.fake_graph}", timeout=60
            ) as client:
                sent_at: dict[str, list[float]] = {}
                started = time.perf_counter()

                async def one(i: int) -> None:
                    phone = f"+6148{i % senders:07d}"
                    sent_at.setdefault(phone.lstrip("+"), []).append(time.perf_counter())
                    await client.post("/_fake/inbound", json={"from": phone, "text": question})

                for chunk in range(0, messages, senders):
                    await asyncio.gather(
                        *(one(i) for i in range(chunk, min(chunk + senders, messages)))
                    )
                latencies: list[float] = []
                seen = 0
                deadline = time.perf_counter() + 600
                while seen < messages and time.perf_counter() < deadline:
                    got = (await client.get("/_fake/messages", params={"since": seen})).json()
                    now = time.perf_counter()
                    for message in got["messages"]:
                        queue = sent_at.get(message["to"])
                        if queue:
                            latencies.append(now - queue.pop(0))
                    seen = got["total"]
                    await asyncio.sleep(0.05)
                return seen / (time.perf_counter() - started), latencies

        async def lone(n: int = 15) -> tuple[list[float], list[float]]:
            """One customer at a time: the latency a person feels, without queueing."""
            direct, gateway = [], []
            async with httpx.AsyncClient(timeout=60) as client:
                for i in range(n):
                    started = time.perf_counter()
                    await client.post(
                        f"http://127.0.0.1:{ports.rasa}{RASA_CHANNEL_PATH}",
                        json={"sender": f"+6147{i:07d}", "message": question},
                        headers=rasa_channel_headers(),
                    )
                    direct.append(time.perf_counter() - started)
                    phone = f"+6146{i:07d}"
                    total = (
                        await client.get(f"http://127.0.0.1:{ports.fake_graph}/_fake/messages")
                    ).json()["total"]
                    started = time.perf_counter()
                    await client.post(
                        f"http://127.0.0.1:{ports.fake_graph}/_fake/inbound",
                        json={"from": phone, "text": question},
                    )
                    while not (
                        await client.get(
                            f"http://127.0.0.1:{ports.fake_graph}/_fake/messages",
                            params={"since": total, "to": phone},
                        )
                    ).json()["messages"]:
                        await asyncio.sleep(0.01)
                    gateway.append(time.perf_counter() - started)
            return direct, gateway

        direct, gateway = asyncio.run(lone())
        base_rate, base_lat = asyncio.run(baseline())
        rate, lat = asyncio.run(through_gateway())
        print(
            f"\nEnd to end through Rasa ({messages} messages from {senders} customers, PostgreSQL)"
        )
        print(f"  {'':<40}{'msg/s':>8}{'ratio':>8}{'p50 ms':>9}{'p99 ms':>9}")
        print(
            f"  {'Rasa REST channel alone (baseline)':<40}{base_rate:>8.1f}{1:>8.2f}{pct(base_lat, 50):>9.0f}{pct(base_lat, 99):>9.0f}"
        )
        print(
            f"  {'webhook → inbox → Rasa → outbox → Graph':<40}{rate:>8.1f}{rate / base_rate:>8.2f}{pct(lat, 50):>9.0f}{pct(lat, 99):>9.0f}"
        )
        print("  (under load the times include queueing: all messages are sent at once)")
        print(f"\nOne customer at a time ({len(direct)} messages): time to the reply")
        print(f"  {'Rasa REST channel alone (baseline)':<40}{'p50':>8}{pct(direct, 50):>9.0f} ms")
        print(
            f"  {'through the whole gateway':<40}{'p50':>8}{pct(gateway, 50):>9.0f} ms"
            f"  (ratio {statistics.median(gateway) / statistics.median(direct):.1f}x)"
        )
    finally:
        stack.stop()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", default="ingest,e2e")
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--senders", type=int, default=20)
    parser.add_argument(
        "--ingest-processes", default="1,2", help="backend processes to measure ingest with"
    )
    parser.add_argument("--ingest-requests", type=int, default=5000)
    parser.add_argument("--ingest-rounds", type=int, default=3)
    args = parser.parse_args()
    logs = Path(tempfile.mkdtemp(prefix="tms-bench-"))
    only = set(args.only.split(","))
    if "ingest" in only:
        bench_ingest(
            logs,
            [int(n) for n in args.ingest_processes.split(",")],
            args.ingest_requests,
            args.ingest_rounds,
        )
    if "e2e" in only:
        bench_e2e(logs, args.messages, args.senders)
    print(f"\n(logs: {logs})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
