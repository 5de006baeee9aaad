"""Sender benchmark on PostgreSQL: the business number's rate held by several backend processes
sharing one limit, and the sender's speed with the limit lifted. Prints figures; the baseline
is the configured rate (the fake Graph API refuses anything above it with 130429, as Meta does,
and counts the busiest second).

    python bench/sender_bench.py [--messages 2000] [--processes 1,2]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import httpx
from benchdb import URL, reset_database
from gateway_bench import PY, free_port, truncate_db

from backend.db import transaction
from backend.stack import Part, Stack


def _fake_part(port: int) -> Part:
    return Part(
        "fake-graph",
        [PY, "-m", "devkit.fake_graph", "--port", str(port), "--webhook-url", ""],
        f"http://127.0.0.1:{port}/_fake/health",
    )


def _backend_part(n: int, port: int, fake_port: int, rate: float) -> Part:
    return Part(
        f"backend-{n}",
        [PY, "-m", "backend.server"],
        f"http://127.0.0.1:{port}/webhooks/whatsapp?x=1",
        {
            "DATABASE_URL": URL,
            "BACKEND_PORT": str(port),
            "LOG_LEVEL": "WARNING",
            "SCHEDULER_ENABLED": "0",
            "RASA_URL": "http://127.0.0.1:9",
            "WHATSAPP_API_BASE_URL": f"http://127.0.0.1:{fake_port}/v23.0",
            "WHATSAPP_RATE_PER_SECOND": str(rate),
            "RECIPIENT_BURST": "10",
        },
    )


def _queue(messages: int) -> None:
    from backend.services import contacts, outbox

    truncate_db()
    with transaction(URL) as s:
        for i in range(messages):
            phone = f"+6141{i:07d}"
            contacts.touch_inbound(contacts.get_or_create_contact(s, phone))
            outbox.enqueue_text(s, to_phone=phone, body=f"bench {i}", purpose="reply")


def run(rate: float, processes: int, messages: int, logs: Path) -> dict[str, float]:
    """Queue `messages`, start `processes` backends (senders on), wait until the fake Graph API
    has them all; returns what the fake measured."""
    fake_port = free_port()
    _queue(messages)
    fake = Stack([_fake_part(fake_port)], logs)
    fake.start()
    fake_url = f"http://127.0.0.1:{fake_port}"
    httpx.post(
        f"{fake_url}/_fake/config", json={"rate_per_second": rate, "statuses": []}
    ).raise_for_status()
    backends = Stack(
        [_backend_part(n, free_port(), fake_port, rate) for n in range(processes)], logs
    )
    try:
        backends.start()
        deadline = time.monotonic() + 60 + messages / rate * 3
        while time.monotonic() < deadline:
            stats = httpx.get(f"{fake_url}/_fake/stats").json()
            if stats["messages"] >= messages:
                break
            time.sleep(0.2)
        listing = httpx.get(f"{fake_url}/_fake/messages", timeout=60).json()["messages"]
    finally:
        backends.stop()
        fake.stop()
    times = sorted(datetime.fromisoformat(m["at"]).timestamp() for m in listing)
    sent_per_second = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0
    return {
        "sent": len(times),
        "per_second": sent_per_second,
        "busiest_second": stats["busiest_second"],
        "refused": stats["refused_rate"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--processes", default="1,2")
    parser.add_argument("--limits", default="80,lifted", help="80 (Meta's), lifted, or both")
    args = parser.parse_args()
    counts = [int(n) for n in args.processes.split(",")]
    reset_database()
    logs = Path(tempfile.mkdtemp(prefix="sender-bench-"))
    print(f"Sender: {args.messages} messages to {args.messages} recipients (logs: {logs})")
    print(
        f"  {'limit':<14}{'processes':>10}{'sent/s':>9}{'of limit':>10}"
        f"{'busiest 1 s':>13}{'refused':>9}"
    )
    limits = {"80": (80.0, "80/s (Meta)"), "lifted": (100_000.0, "lifted")}
    for rate, label in (limits[name] for name in args.limits.split(",")):
        for processes in counts:
            figures = run(rate, processes, args.messages, logs)
            share = f"{figures['per_second'] / rate:.3f}" if rate < 1000 else "-"
            print(
                f"  {label:<14}{processes:>10}{figures['per_second']:>9.1f}{share:>10}"
                f"{figures['busiest_second']:>13}{figures['refused']:>9}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
