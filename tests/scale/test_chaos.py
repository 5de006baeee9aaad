"""Staying up: the stack `tms serve` runs, with each part killed in turn during traffic.

The real processes (action server, Rasa, the fake Graph API, the backend with its workers) are
started and watched by `tms serve`'s own process starter and supervisor (backend/stack.py's
`product_parts`, `Stack.start` and `Stack.run`). Twenty customers send four questions each as
signed webhooks through the fake Graph API, some twice (Meta's retries), and a webhook that
fails is sent again until it is taken, as Meta does. Rasa, then the action server, then the
backend are killed with SIGKILL, each once the one before is running again; the supervisor
restarts them by itself (this test restarts nothing). Then: every message stored once and
DONE, one reply queued per question (nothing answered twice), each customer's replies on the
wire in the order of their questions, and every question answered within ANSWER_BOUND seconds
of being sent.

The sender delivers at least once (see backend/whatsapp/sender.py): the Graph API has no
idempotency key, so a reply the killed backend had handed to Meta but not yet recorded goes
out again once its lease has run out. What the sender guarantees, and this test checks, is that
such a copy comes right after the first, before the customer's next reply, and that a reply is
never on the wire more often than its row counts attempts.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from backend.db import dispose_engines, transaction
from backend.domain.enums import InboxStatus
from backend.models import InboundMessage, OutboundMessage
from backend.stack import Part, Ports, Stack, free_port, product_parts
from devkit.demo_data import load

pytestmark = pytest.mark.rasa

CUSTOMERS = 20
# Four practical questions with four different answers (the same ones test_scale_out checks):
# a customer's replies show which question each answers, so their order is checked too.
QUESTIONS = [
    "do I need a visa for Nepal?",
    "what should I pack?",
    "is there wifi on the trek?",
    "how much should we tip?",
]
# The longest a question may wait for its answer, from the webhook's first attempt to the
# reply at the fake Graph API, kills included. Measured on the 2-core development machine
# (shared with other test runs): worst 58.7 s, 66.0 s and 72.2 s in three runs, nearly all of it
# Rasa reloading its model (44-49 s); the bound is 2.5 times the worst.
ANSWER_BOUND = 180.0
WEBHOOK_RETRY_FOR = 180.0  # Meta retries a failed webhook for much longer; the test stops here


def customer(n: int) -> str:
    return f"+6141277{n:04d}"


def wamid(n: int, round_: int) -> str:
    return f"wamid.CHAOS{n:04d}R{round_}"


def question_of(n: int, round_: int) -> str:
    """Each customer asks the four questions in its own order."""
    return QUESTIONS[(n + round_) % len(QUESTIONS)]


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.2)


class Wire(threading.Thread):
    """Reads what the fake Graph API accepted, as it arrives (only what is new each time, so
    the fake's loop is not kept busy), and keeps when each message arrived."""

    def __init__(self, fake_url: str) -> None:
        super().__init__(daemon=True)
        self.fake_url = fake_url
        self.arrived: list[tuple[float, str, str]] = []  # monotonic, to (+E.164), text
        self.stopping = threading.Event()
        self.lock = threading.Lock()

    def run(self) -> None:
        with httpx.Client(timeout=10) as client:
            while not self.stopping.is_set():
                try:
                    found = client.get(
                        f"{self.fake_url}/_fake/messages", params={"since": len(self.arrived)}
                    ).json()["messages"]
                except (httpx.HTTPError, ValueError, KeyError):
                    found = []  # the fake is never killed here; a slow answer is read next time
                now = time.monotonic()
                with self.lock:
                    self.arrived += [(now, f"+{m['to']}", m["text"] or "") for m in found]
                self.stopping.wait(0.25)

    def to(self, phone: str) -> list[tuple[float, str]]:
        with self.lock:
            return [(at, text) for at, to, text in self.arrived if to == phone]

    def count(self, phones: set[str]) -> int:
        with self.lock:
            return sum(1 for _, to, _ in self.arrived if to in phones)

    def read(self) -> int:
        with self.lock:
            return len(self.arrived)


@dataclass
class Chaos:
    stack: Stack
    fake_url: str
    database_url: str
    wire: Wire
    first_sent: dict[str, float] = field(default_factory=dict)  # wamid → first attempt
    webhook_attempts: Counter[str] = field(default_factory=Counter)

    def part(self, name: str) -> Part:
        return next(p for p in self.stack.parts if p.name == name)

    def send(self, phone: str, text: str, id_: str) -> None:
        """One phone message, delivered as Meta delivers it: sent again until the backend takes
        the webhook (a killed backend refuses it or does not answer)."""
        self.first_sent.setdefault(id_, time.monotonic())
        deadline = time.monotonic() + WEBHOOK_RETRY_FOR
        with httpx.Client(base_url=self.fake_url, timeout=30) as client:
            while True:
                self.webhook_attempts[id_] += 1
                try:
                    answer = client.post(
                        "/_fake/inbound", json={"from": phone, "text": text, "id": id_}
                    )
                    if answer.status_code == 200 and answer.json()["webhook_status"] == 200:
                        return
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, f"the webhook for {id_} was never taken"
                time.sleep(0.5)  # Meta's retry, not a wait for a condition

    def send_round(self, round_: int) -> None:
        """Every customer's next question, eight webhooks at a time; then some again (the
        same wamids), as Meta retries webhooks it thinks were lost."""
        with ThreadPoolExecutor(8) as pool:
            list(
                pool.map(
                    lambda n: self.send(customer(n), question_of(n, round_), wamid(n, round_)),
                    range(CUSTOMERS),
                )
            )
            list(
                pool.map(
                    lambda n: self.send(customer(n), question_of(n, round_), wamid(n, round_)),
                    [n for n in range(CUSTOMERS) if (n * 3 + round_) % 5 == 0],
                )
            )

    def kill(self, name: str) -> None:
        """SIGKILL the part's whole process group (Rasa runs under a shell script)."""
        part = self.part(name)
        assert part.process is not None and part.state == "running", part.status()
        os.killpg(part.process.pid, signal.SIGKILL)

    def wait_restarted(self, name: str, timeout: float) -> None:
        part = self.part(name)
        wait_for(
            lambda: part.restarts == 1 and part.state == "running",
            timeout,
            f"the supervisor to restart {name} ({part.status()})",
        )


@pytest.fixture
def chaos(trained_model: Path, pg_db_url: str, tmp_path: Path) -> Iterator[Chaos]:
    with transaction(pg_db_url) as session:
        load(session)
    dispose_engines()
    ports = Ports(
        actions=free_port(), rasa=free_port(), backend=free_port(), fake_graph=free_port()
    )
    everyone = {
        "DATABASE_URL": pg_db_url,
        # Rasa's tracker store, the status file /healthz reads: this test's own.
        "TMS_VAR_DIR": str(tmp_path / "var"),
        "LOG_LEVEL": "WARNING",
    }
    parts = product_parts(
        trained_model,
        ports,
        env=everyone,
        backend_env={
            "PAYMENT_PROVIDER": "local",
            "SMTP_URL": "smtp://127.0.0.1:9",  # nothing listens: e-mails stay queued
        },
    )
    stack = Stack(parts, tmp_path / "logs", tmp_path / "var" / "run" / "stack.json")
    stopping = threading.Event()
    supervisor = threading.Thread(target=stack.run, args=(stopping,), daemon=True)
    fake_url = f"http://127.0.0.1:{ports.fake_graph}"
    wire = Wire(fake_url)
    try:
        stack.start(timeout=400)
        supervisor.start()
        wire.start()
        yield Chaos(stack, fake_url, pg_db_url, wire)
    finally:
        wire.stopping.set()
        stopping.set()
        if supervisor.is_alive():
            supervisor.join(timeout=30)
        stack.stop()
        dispose_engines()


def reference_answers(chaos: Chaos) -> dict[str, str]:
    """What each question is answered, asked one at a time by a customer of its own."""
    reference = customer(9999)
    for i, question in enumerate(QUESTIONS):
        chaos.send(reference, question, f"wamid.CHAOSREF{i}")
        wait_for(lambda i=i: len(chaos.wire.to(reference)) > i, 120, f"the answer to {question!r}")
    answers = {q: text for q, (_, text) in zip(QUESTIONS, chaos.wire.to(reference), strict=True)}
    assert len(set(answers.values())) == len(QUESTIONS), answers
    return answers


def test_each_part_killed_in_turn_loses_nothing_answers_once_in_order_and_in_time(
    chaos: Chaos,
) -> None:
    started = time.monotonic()
    answers = reference_answers(chaos)
    phones = {customer(n) for n in range(CUSTOMERS)}
    replies = lambda: chaos.wire.count(phones)  # noqa: E731
    timeline: list[tuple[str, float]] = []

    def mark(what: str) -> None:
        timeline.append((what, round(time.monotonic() - started, 1)))

    # Rasa, killed while the first round is being answered; the second round arrives while it
    # reloads its model.
    chaos.send_round(0)
    wait_for(lambda: replies() >= 3, 120, "the first replies")
    chaos.kill("rasa")
    mark(f"rasa killed after {replies()} replies")
    chaos.send_round(1)
    chaos.wait_restarted("rasa", 240)
    mark("rasa running again")

    # The action server, killed while the backlog is being answered.
    before = replies()
    wait_for(lambda: replies() >= before + 2, 120, "replies after Rasa came back")
    chaos.kill("action-server")
    mark(f"action server killed after {replies()} replies")
    chaos.wait_restarted("action-server", 120)
    mark("action server running again")

    # The backend (webhook, inbox worker, sender), killed while the third round is being
    # answered; the fourth round's webhooks fail until it is back, and are sent again.
    chaos.send_round(2)
    before = replies()
    wait_for(lambda: replies() >= before + 2, 120, "replies to the third round")
    chaos.kill("backend")
    mark(f"backend killed after {replies()} replies")
    fourth = threading.Thread(target=chaos.send_round, args=(3,))
    fourth.start()
    chaos.wait_restarted("backend", 120)
    mark("backend running again")
    fourth.join(timeout=WEBHOOK_RETRY_FOR + 30)
    assert not fourth.is_alive()

    everything = CUSTOMERS * len(QUESTIONS)
    wait_for(lambda: replies() >= everything, 300, f"{everything} replies")
    mark("every reply arrived")

    def settled() -> bool:
        """Nothing left to process or to send (a reply sent twice would be on the wire)."""
        with transaction(chaos.database_url) as session:
            inbox = session.scalars(
                select(InboundMessage.status).where(InboundMessage.wamid.like("wamid.CHAOS%"))
            ).all()
            outbox = session.scalars(
                select(OutboundMessage.status).where(OutboundMessage.recipient_phone.in_(phones))
            ).all()
        return set(inbox) == {InboxStatus.DONE} and all(
            s not in ("queued", "sending") for s in outbox
        )

    wait_for(settled, 120, "the inbox and the outbox to settle")
    # A copy sent again makes the count above whole before the last reply is out: once the
    # outbox has settled, the fake has taken everything, and this reads it all.
    taken = httpx.get(f"{chaos.fake_url}/_fake/health", timeout=30).json()["messages"]
    wait_for(lambda: chaos.wire.read() >= taken, 30, f"the {taken} messages the fake took")

    with transaction(chaos.database_url) as session:
        stored = session.execute(
            select(InboundMessage.wamid, InboundMessage.status).where(
                InboundMessage.wamid.like("wamid.CHAOS0%")
            )
        ).all()
        queued = session.scalars(
            select(OutboundMessage)
            .where(OutboundMessage.recipient_phone.in_(phones))
            .order_by(OutboundMessage.id)
        ).all()
        outbox: dict[str, list[str]] = defaultdict(list)
        for row in queued:
            outbox[row.recipient_phone].append(row.body or "")
        attempts = {(r.recipient_phone, r.body or ""): r.attempts for r in queued}
    dispose_engines()

    expected = {
        customer(n): [answers[question_of(n, r)] for r in range(len(QUESTIONS))]
        for n in range(CUSTOMERS)
    }
    # Stored once each (Meta's duplicates and retries recognised), all processed.
    assert sorted(w for w, _ in stored) == sorted(
        wamid(n, r) for n in range(CUSTOMERS) for r in range(len(QUESTIONS))
    )
    assert Counter(status for _, status in stored) == {InboxStatus.DONE: len(stored)}
    # One reply queued per question, in the order asked.
    for phone in sorted(phones):
        assert outbox[phone] == expected[phone], phone

    # On the wire, in order. A reply the killed backend had handed to Meta but not yet
    # recorded goes out again: its copy comes right after it (a later reply never in between),
    # and no reply is on the wire more often than its row was attempted.
    slowest: list[tuple[float, str]] = []
    sent_again = []
    for n in range(CUSTOMERS):
        phone = customer(n)
        wire = chaos.wire.to(phone)
        collapsed: list[tuple[float, str]] = []
        for at, text in wire:
            if collapsed and collapsed[-1][1] == text:
                sent_again.append((phone, text))
                continue
            collapsed.append((at, text))
        assert [text for _, text in collapsed] == expected[phone], (phone, wire)
        copies = Counter(text for _, text in wire)
        assert all(copies[text] <= attempts[phone, text] for text in copies), (phone, wire)
        for r, (at, _) in enumerate(collapsed):
            slowest.append((at - chaos.first_sent[wamid(n, r)], wamid(n, r)))

    slowest.sort(reverse=True)
    worst, worst_wamid = slowest[0]
    for name in ("rasa", "action-server", "backend"):
        assert chaos.part(name).restarts == 1, chaos.part(name).status()
    assert chaos.part("fake-graph").restarts == 0
    duplicates = sum(a - 1 for a in chaos.webhook_attempts.values())
    print(
        f"\nchaos: {len(stored)} messages from {CUSTOMERS} customers, {duplicates} webhooks "
        f"sent again, {len(sent_again)} replies sent again after the kill; slowest answers "
        f"{[(round(s, 1), w) for s, w in slowest[:3]]}; timeline {timeline}; "
        f"{time.monotonic() - started:.0f} s"
    )
    assert worst <= ANSWER_BOUND, (worst_wamid, worst, timeline)
