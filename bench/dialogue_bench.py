"""Dialogue end to end on PostgreSQL, against stock Rasa measured in the same run.

The product: customers post signed WhatsApp webhooks to the backend (the body Meta sends, built
by the fake Graph API's own `inbound_payload`) and wait for the reply at the fake Graph API;
webhook → inbox → Rasa (SQL tracker store on PostgreSQL) → action server → outbox → sender →
fake Graph API. Each customer writes the workflow's lines (a trek, its price, what is included,
dates, the party size) one at a time, the next only after the reply to the last has arrived
(a closed loop, as people chat), 20 customers at once.

The baseline: `rasa init`'s default bot (its own config and data, trained once and cached by
its data hash under var/bench/), served over its REST channel from the same `.venv-rasa`,
20 senders writing its own example lines the same way.

Printed, for 1, 2 and 4 Rasa processes: messages/s, p50/p99 per message under load, p50 for
one customer at a time, and the ratio to stock Rasa (the issue's targets: ≥ 4× and ≤ 150 ms).
Stock Rasa is measured before and after the product runs; the ratio is to their mean.

    python bench/dialogue_bench.py [--customers 20] [--messages 240] [--rasa 1,2,4]
        [--only baseline,product] [--lone 2] [--profile var/bench/profile]

`--profile DIR` records the product's processes with py-spy during each load phase (Rasa, action
server, backend) and prints where the time goes; `--variant` runs the product again with a lever
applied (a setting, another trained model), in the same run, for a before → after.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import phonenumbers
from benchdb import URL, reset_database
from gateway_bench import pct
from sqlalchemy import create_engine, text

from backend import clock
from backend.config import PROJECT_ROOT, get_settings
from backend.db import dispose_engines, transaction
from backend.stack import Part, Ports, Stack, free_port, product_parts, trained_model
from backend.whatsapp.signature import sign
from devkit.demo_data import StoryCalendar, load
from devkit.fake_graph import FakeMeta

BENCH_DIR = PROJECT_ROOT / "var" / "bench"
STOCK_DIR = BENCH_DIR / "stock-rasa"
# Rasa's trackers for the product: PostgreSQL, one database shared by every replica.
TRACKER_DB = os.environ.get("BENCH_TRACKER_DB", "tms_bench_rasa")
TRACKER_URL = f"postgresql://postgres@127.0.0.1:5432/{TRACKER_DB}"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")

# The customer's side of workflow 1 and the travellers' questions: a trek for a party in a
# month, its price, what it includes, its dates, the party changing, another trek.
CUSTOMER_LINES = [
    "Hi! I'm interested in the Everest Base Camp Trek for 3 people in March",
    "how much is it?",
    "what's included?",
    "what dates do you have?",
    "we are 4 people now",
    "what about Annapurna instead?",
]
# Australian mobile blocks (+614xx…) for the customers' phones, three per run (lone, load,
# warm-up): only blocks where every number is valid (some, like 41 and 43, are unallocated and
# the backend rightly refuses them), and never 12, the demo world's guests.
PHONE_BLOCKS = [
    block
    for block in range(100)
    if block != 12
    and all(
        phonenumbers.is_valid_number(phonenumbers.parse(f"+614{block:02d}{n:06d}"))
        for n in (0, 999999)
    )
]
# The stock bot's own example lines (its data/nlu.yml).
STOCK_LINES = [
    "hello there",
    "I am feeling very good",
    "are you a bot?",
    "I am sad",
    "yes",
    "goodbye",
]


# -- stock Rasa --------------------------------------------------------------------------------
def rasa_sh(*args: str, log: Path, cwd: Path = PROJECT_ROOT) -> None:
    with log.open("ab") as out:
        subprocess.run(
            ["bash", str(PROJECT_ROOT / "scripts/rasa.sh"), *args],
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=True,
        )


def stock_model(logs: Path) -> Path:
    """`rasa init`'s bot, trained once per version of its config and data (models/stock-<hash>).
    `rasa init --no-prompt` scaffolds and trains in one go; its model is renamed to the hash."""
    log = logs / "stock-train.log"
    if not (STOCK_DIR / "config.yml").exists():
        STOCK_DIR.mkdir(parents=True, exist_ok=True)
        print(f"  creating the stock bot in {STOCK_DIR} (rasa init; log: {log})", flush=True)
        rasa_sh("init", "--no-prompt", "--init-dir", str(STOCK_DIR), log=log)
    inputs = [STOCK_DIR / "config.yml", STOCK_DIR / "domain.yml"]
    inputs += sorted((STOCK_DIR / "data").glob("*.yml"))
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in inputs)).hexdigest()[:16]
    models = STOCK_DIR / "models"
    model = models / f"stock-{digest}.tar.gz"
    if model.exists():
        return model
    fresh = sorted(
        (m for m in models.glob("*.tar.gz") if not m.name.startswith("stock-")),
        key=lambda m: m.stat().st_mtime,
    )
    if fresh:
        fresh[-1].rename(model)  # the one `rasa init` just trained
        return model
    print(f"  training the stock bot (log: {log})", flush=True)
    rasa_sh(
        "train",
        "--config",
        "config.yml",
        "--domain",
        "domain.yml",
        "--data",
        "data",
        "--out",
        "models",
        "--fixed-model-name",
        f"stock-{digest}",
        log=log,
        cwd=STOCK_DIR,
    )
    return model


def stock_stack(model: Path, port: int, logs: Path) -> Stack:
    """Stock Rasa as `rasa init` leaves it: its REST channel, its in-memory tracker store."""
    return Stack(
        [
            Part(
                "stock-rasa",
                [
                    "bash",
                    "scripts/rasa.sh",
                    "run",
                    "--model",
                    str(model),
                    "--port",
                    str(port),
                    "--credentials",
                    str(STOCK_DIR / "credentials.yml"),
                    "--endpoints",
                    str(STOCK_DIR / "endpoints.yml"),
                ],
                f"http://127.0.0.1:{port}/",
            )
        ],
        logs,
    )


# -- measuring ---------------------------------------------------------------------------------
@dataclass
class Figures:
    label: str
    rate: float = 0.0
    latencies: list[float] = field(default_factory=list)
    lone: list[float] = field(default_factory=list)
    errors: int = 0
    cpu: dict[str, float] = field(default_factory=dict)  # CPU ms per message, by process


Turn = Callable[[int, int], Awaitable[float]]


async def closed_loop(customers: int, per_customer: int, turn: Turn) -> tuple[float, list[float]]:
    """Every customer writes `per_customer` lines, each after the reply to the one before;
    all customers at once. Messages per second over the whole run, and each turn's time."""
    latencies: list[float] = []

    async def customer(c: int) -> None:
        for i in range(per_customer):
            latencies.append(await turn(c, i))

    started = time.perf_counter()
    await asyncio.gather(*(customer(c) for c in range(customers)))
    return len(latencies) / (time.perf_counter() - started), latencies


async def measure_stock(port: int, customers: int, per_customer: int, lone: int) -> Figures:
    figures = Figures("stock Rasa (rasa init, REST channel)")
    run = time.time_ns()
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}",
        timeout=90,
        limits=httpx.Limits(max_connections=customers + 4),
    ) as client:

        def turn_of(prefix: str) -> Turn:
            async def turn(c: int, i: int) -> float:
                started = time.perf_counter()
                answer = await client.post(
                    "/webhooks/rest/webhook",
                    json={"sender": f"{prefix}-{run}-{c}", "message": STOCK_LINES[i % 6]},
                )
                took = time.perf_counter() - started
                if answer.status_code != 200 or not answer.json():
                    figures.errors += 1
                return took

            return turn

        await closed_loop(customers, 2, turn_of("warm"))  # the first calls build TF graphs
        for c in range(lone):
            for i in range(per_customer):
                figures.lone.append(await turn_of("lone")(c, i))
        figures.rate, figures.latencies = await closed_loop(
            customers, per_customer, turn_of("load")
        )
    return figures


class Customers:
    """Customers on WhatsApp: signed webhooks to the backend, replies read at the fake Graph
    API with its long poll. How many replies each line gets is learnt from the lone customers
    (who wait for stragglers after the first reply) and then awaited under load, so a turn's
    time runs to its last reply and no reply is taken for the next line's."""

    def __init__(self, backend: int, fake_graph: int, tag: int) -> None:
        settings = get_settings()
        self.secret = settings.whatsapp_app_secret
        self.meta = FakeMeta(
            webhook_url="",
            app_secret=self.secret,
            access_token=settings.whatsapp_access_token,
            phone_number_id=settings.whatsapp_phone_number_id,
        )
        self.webhook = f"http://127.0.0.1:{backend}/webhooks/whatsapp"
        self.fake = f"http://127.0.0.1:{fake_graph}"
        self.tag = tag  # the run: its phones are its own (see `phone`)
        self.client = httpx.AsyncClient(timeout=120, limits=httpx.Limits(max_connections=200))
        self.seen: dict[str, int] = {}  # phone → the fake's message count after its last reply
        self.replies_per_line: dict[int, int] = {}
        self.errors = 0
        self.sent = 0
        self.show = False  # print the lone customers' conversations

    def phone(self, group: int, c: int) -> str:
        # Australian mobiles, away from the demo world's +61412… guests.
        return f"+614{PHONE_BLOCKS[(3 * self.tag + group) % len(PHONE_BLOCKS)]:02d}{c:06d}"

    async def total(self) -> int:
        return int((await self.client.get(f"{self.fake}/_fake/health")).json()["messages"])

    async def open_window(self, phones: list[str]) -> None:
        """Each customer says hello through the fake (which opens their 24-hour window there,
        as Meta does), and the conversation exists before anything is timed."""
        since = await self.total()
        await asyncio.gather(
            *(
                self.client.post(
                    f"{self.fake}/_fake/inbound", json={"from": p, "text": "hi", "name": "Bench"}
                )
                for p in phones
            )
        )
        got = await asyncio.gather(*(self.wait(p, since, 1, 120) for p in phones))
        silent = [p for p, answer in zip(phones, got, strict=True) if not answer["messages"]]
        if silent:
            raise RuntimeError(f"no reply to {silent[:3]} in 120 s: see the backend's log")
        await asyncio.sleep(1.0)  # a greeting's second reply, if any, lands before the lines
        total = await self.total()
        self.seen.update({p: total for p in phones})

    async def wait(self, phone: str, since: int, count: int, timeout: float) -> dict[str, Any]:
        """The fake's messages to `phone` after `since`, once there are `count` (or when
        `timeout` has passed); asked in polls shorter than the fake's 60 s response timeout."""
        deadline = time.perf_counter() + timeout
        while True:
            left = max(0.0, deadline - time.perf_counter())
            answer = await self.client.get(
                f"{self.fake}/_fake/wait",
                params={
                    "to": phone.lstrip("+"),
                    "since": since,
                    "count": count,
                    "timeout": min(left, 30.0),
                },
            )
            answer.raise_for_status()
            got: dict[str, Any] = answer.json()
            if len(got["messages"]) >= count or left <= 30.0:
                return got

    async def say(self, phone: str, line: int, *, learn: bool = False) -> float:
        wa_id = phone.lstrip("+")
        self.sent += 1
        message = {
            "from": wa_id,
            "id": f"wamid.DLG{time.time_ns()}{self.sent}",
            "timestamp": str(int(time.time())),
            "type": "text",
            "text": {"body": CUSTOMER_LINES[line % len(CUSTOMER_LINES)]},
        }
        raw = json.dumps(self.meta.inbound_payload(message, "Bench")).encode()
        since = self.seen[phone]
        expected = 1 if learn else self.replies_per_line.get(line, 1)
        started = time.perf_counter()
        posted = await self.client.post(
            self.webhook,
            content=raw,
            headers={
                "Content-Type": "application/json",
                "X-Hub-Signature-256": sign(raw, self.secret),
            },
        )
        got = await self.wait(phone, since, expected, 90)
        took = time.perf_counter() - started
        if posted.status_code != 200 or len(got["messages"]) < expected:
            self.errors += 1
        if learn:
            while True:  # stragglers: more replies to the same line
                more = await self.wait(phone, since, len(got["messages"]) + 1, 0.5)
                if len(more["messages"]) <= len(got["messages"]):
                    break
                got = more
            self.replies_per_line[line] = len(got["messages"])
            if self.show:
                said = " | ".join(
                    (m["text"] or "")[:90].replace("\n", " ") for m in got["messages"]
                )
                print(f"    {message['text']['body'][:50]!r:<54} → {said}", flush=True)
        self.seen[phone] = got["total"]
        return took

    async def aclose(self) -> None:
        await self.client.aclose()


async def measure_product(
    label: str,
    ports: Ports,
    customers: int,
    per_customer: int,
    lone: int,
    tag: int,
    during_load: Callable[[], Awaitable[None]] | None = None,
    show: bool = False,
    processes: dict[str, list[int]] | None = None,
) -> Figures:
    assert ports.fake_graph is not None
    figures = Figures(label)
    people = Customers(ports.backend, ports.fake_graph, tag)
    people.show = show
    try:
        # Rasa's first calls build its TensorFlow graphs: a round that is not timed.
        await people.open_window([people.phone(2, c) for c in range(customers)])
        for c in range(lone):
            phone = people.phone(0, c)
            await people.open_window([phone])
            for i in range(per_customer):
                figures.lone.append(await people.say(phone, i, learn=True))
        load_phones = [people.phone(1, c) for c in range(customers)]
        await people.open_window(load_phones)
        if during_load is not None:
            await during_load()

        async def turn(c: int, i: int) -> float:
            return await people.say(load_phones[c], i)

        before = await asyncio.to_thread(transactions)
        meter = CpuMeter(processes or {})
        figures.rate, figures.latencies = await closed_loop(customers, per_customer, turn)
        figures.cpu = meter.per_message(len(figures.latencies))
        await asyncio.sleep(1.5)  # PostgreSQL publishes its counters within a second
        after = await asyncio.to_thread(transactions)
        figures.errors = people.errors
        shown = ", ".join(f"{n}" for _, n in sorted(people.replies_per_line.items()))
        turns = len(figures.latencies)
        print(
            f"  replies per line: {shown}; database transactions per message: "
            f"product {(after[0] - before[0]) / turns:.1f}, "
            f"Rasa's trackers {(after[1] - before[1]) / turns:.1f}",
            flush=True,
        )
        print(
            "  CPU ms per message: " + ", ".join(f"{k} {v:.0f}" for k, v in figures.cpu.items()),
            flush=True,
        )
    finally:
        await people.aclose()
    return figures


TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """CPU seconds a live process has used (all its threads); 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def with_children(pids: list[int]) -> list[int]:
    """`pids` and their descendants (a multi-process server's workers)."""
    parent: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent[int(stat.parent.name)] = int(stat.read_text().rpartition(")")[2].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    found, todo = set(pids), list(pids)
    while todo:
        pid = todo.pop()
        children = [child for child, ppid in parent.items() if ppid == pid and child not in found]
        found.update(children)
        todo.extend(children)
    return sorted(found)


def postgres_backends() -> list[int]:
    """PostgreSQL's server processes for the product's and Rasa's connections."""
    engine = create_engine(URL)
    with engine.connect() as conn:
        pids = conn.execute(
            text(
                "SELECT pid FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
                "AND datname IN (current_database(), :trackers)"
            ),
            {"trackers": TRACKER_DB},
        ).scalars()
        found = [int(pid) for pid in pids]
    engine.dispose()
    return found


def machine_busy() -> float:
    """CPU seconds the whole machine has spent busy (every core, every user)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    return (sum(values[:8]) - idle) / TICKS


class CpuMeter:
    """Where the machine's CPU goes during a load phase: each of the product's processes
    (with its children), PostgreSQL's server processes, the bench itself, and everyone else
    on this shared machine. Started on creation."""

    def __init__(self, processes: dict[str, list[int]]) -> None:
        self.processes = {name: with_children(pids) for name, pids in processes.items()}
        self.processes["postgres"] = postgres_backends()
        self.processes["bench client"] = [os.getpid()]  # its children are the stack's parts
        self.start = {name: self._used(pids) for name, pids in self.processes.items()}
        self.machine = machine_busy()

    @staticmethod
    def _used(pids: list[int]) -> dict[int, float]:
        return {pid: cpu_seconds(pid) for pid in pids}

    def per_message(self, messages: int) -> dict[str, float]:
        machine = machine_busy() - self.machine
        used: dict[str, float] = {}
        for name, pids in self.processes.items():
            now = self._used(pids)
            # A process that ended meanwhile (a pooled connection closed) is left out.
            used[name] = sum(now[p] - self.start[name][p] for p in pids if now[p])
        ms = {name: 1000 * seconds / messages for name, seconds in used.items()}
        ms["others on the machine"] = 1000 * (machine - sum(used.values())) / messages
        return ms


def transactions() -> tuple[int, int]:
    """Transactions committed or rolled back so far in the product's database (the backend
    and the action server) and in Rasa's tracker database."""
    engine = create_engine(URL)
    with engine.connect() as conn:
        counts = dict(
            conn.execute(
                text(
                    "SELECT datname, xact_commit + xact_rollback FROM pg_stat_database "
                    "WHERE datname IN (current_database(), :trackers)"
                ),
                {"trackers": TRACKER_DB},
            ).all()
        )
        product = counts.get(conn.execute(text("SELECT current_database()")).scalar_one(), 0)
    engine.dispose()
    return int(product), int(counts.get(TRACKER_DB, 0))


# -- the product's stack -----------------------------------------------------------------------
def reset_trackers() -> None:
    """An empty tracker database: every run starts from the same place."""
    subprocess.run(["bash", "scripts/ensure-postgres.sh", TRACKER_DB], cwd=PROJECT_ROOT, check=True)
    engine = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:5432/{TRACKER_DB}")
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def redis_answers() -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


def product_stack(
    model: Path, replicas: int, logs: Path, extra: list[str]
) -> tuple[Stack, Ports, list[Part]]:
    """product_parts' stack with `replicas` Rasa processes sharing the PostgreSQL tracker store
    (and Redis's lock store when there are several), the backend spreading senders over them.
    `extra`: `[part:]KEY=VALUE` settings, for the parts whose name starts with `part` (or all)."""
    ports = Ports(
        actions=free_port(), rasa=free_port(), backend=free_port(), fake_graph=free_port()
    )
    settings = get_settings()
    env = {"DATABASE_URL": URL, "LOG_LEVEL": "WARNING", "TRACKER_DIALECT": "postgresql"}
    if replicas > 1 and redis_answers():
        env["REDIS_URL"] = REDIS_URL
    rasa_ports = [ports.rasa] + [free_port() for _ in range(replicas - 1)]
    urls = ",".join(f"http://{settings.rasa_host}:{p}" for p in rasa_ports)
    parts = product_parts(
        model,
        ports,
        env=env,
        tracker_url=TRACKER_URL,
        # The bench's customers write faster than Meta's one-per-six-seconds pace.
        backend_env={"RECIPIENT_BURST": "1000", "RASA_URL": urls},
    )
    rasa = next(p for p in parts if p.name == "rasa")
    at = parts.index(rasa)
    for k, port in enumerate(rasa_ports[1:], start=2):
        argv = [str(port) if a == str(ports.rasa) else a for a in rasa.argv]
        ready = rasa.ready_url.replace(f":{ports.rasa}/", f":{port}/")
        parts.insert(at + k - 1, replace(rasa, name=f"rasa-{k}", argv=argv, ready_url=ready))
    for setting in extra:
        head, colon, rest = setting.partition(":")
        where, assignment = (head, rest) if colon and "=" not in head else ("", setting)
        key, _, value = assignment.partition("=")
        for part in parts:
            if part.name.startswith(where):
                part.env = {**part.env, key: value}
    return Stack(parts, logs), ports, [p for p in parts if p.name.startswith("rasa")]


def cpu_groups(stack: Stack) -> dict[str, list[int]]:
    """The stack's processes by kind (the Rasa replicas together), for CpuMeter."""
    groups: dict[str, list[int]] = {}
    for part in stack.parts:
        if part.process is not None:
            kind = "rasa" if part.name.startswith("rasa") else part.name
            groups.setdefault(kind, []).append(part.process.pid)
    return groups


# -- profiling ---------------------------------------------------------------------------------
class Profiler:
    """py-spy on each process, from the start of a load phase until `stop`."""

    def __init__(self, out: Path, parts: list[Part]) -> None:
        self.out = out
        self.parts = parts
        self.recorders: list[tuple[str, Path, subprocess.Popen[bytes]]] = []

    async def start(self) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        py_spy = shutil.which("py-spy") or str(PROJECT_ROOT / ".venv/bin/py-spy")
        for part in self.parts:
            assert part.process is not None
            raw = self.out / f"{part.name}.txt"
            recorder = subprocess.Popen(
                # Non-blocking: the profiled process is not paused to be sampled.
                [
                    py_spy,
                    "record",
                    "--pid",
                    str(part.process.pid),
                    "--rate",
                    "100",
                    "--format",
                    "raw",
                    "--output",
                    str(raw),
                    "--nonblocking",
                    "--threads",
                ],
                stdout=subprocess.DEVNULL,
                stderr=(self.out / f"{part.name}.py-spy.log").open("wb"),
            )
            self.recorders.append((part.name, raw, recorder))
        await asyncio.sleep(1.0)  # py-spy attached

    def stop(self) -> None:
        for _, _, recorder in self.recorders:
            recorder.send_signal(signal.SIGINT)
        for _, _, recorder in self.recorders:
            try:
                recorder.wait(timeout=60)
            except subprocess.TimeoutExpired:
                recorder.kill()

    def report(self) -> None:
        for name, raw, _ in self.recorders:
            if raw.exists():
                summarise(name, raw)


# Where a sample's time goes: the first rule whose text is in one of its frames (`function
# (file)`) names it; the rules go from the specific to the general.
RASA_RULES = [
    ("_validate_action_result", "action call: jsonschema check of the answer"),
    ("current_state (rasa/shared/core/trackers.py)", "action call: tracker → JSON"),
    ("rasa/utils/endpoints.py", "action call: HTTP (a new aiohttp session per call)"),
    ("rasa/core/actions/action.py", "action call: the rest"),
    ("retrieve (rasa/core/tracker_store.py)", "tracker store: load"),
    ("retrieve_full_tracker (rasa/core/tracker_store.py)", "tracker store: load"),
    ("save (rasa/core/tracker_store.py)", "tracker store: save"),
    ("rasa/core/tracker_store.py", "tracker store: the rest"),
    ("rasa/core/lock_store.py", "lock store"),
    ("ted_policy.py", "policy: TEDPolicy"),
    ("unexpected_intent_policy.py", "policy: UnexpecTEDIntentPolicy"),
    ("rule_policy.py", "policy: RulePolicy"),
    ("memoization.py", "policy: MemoizationPolicy"),
    ("rasa/core/policies/", "policy: ensemble and featurising"),
    ("diet_classifier.py", "NLU: DIETClassifier"),
    ("response_selector.py", "NLU: ResponseSelector"),
    ("count_vectors_featurizer.py", "NLU: CountVectorsFeaturizer"),
    ("regex_featurizer.py", "NLU: RegexFeaturizer"),
    ("lexical_syntactic_featurizer.py", "NLU: LexicalSyntacticFeaturizer"),
    ("rasa/nlu/", "NLU: tokenizer, fallback, synonyms"),
    ("addons/", "NLU: the project's classifiers (addons/)"),
    ("rasa/engine/", "graph runner (dask) overhead"),
    ("rasa/core/processor.py", "processor: events, tracker updates"),
    ("rasa/core/channels/", "REST channel"),
    ("sanic/", "HTTP server (sanic)"),
]
PYTHON_RULES = [  # the backend and the action server (Python 3.11, SQLAlchemy 2, psycopg 3)
    ("InboxWorker._claim", "inbox: claim"),
    ("InboxWorker._arrive", "inbox: arrive (contact, conversation, timeline)"),
    ("InboxWorker._complete", "inbox: complete (replies to the outbox)"),
    ("RasaClient.send", "inbox: the call to Rasa"),
    ("backend/whatsapp/ingest.py", "webhook: store (messages and statuses)"),
    ("receive (backend/app.py)", "webhook: verify, parse"),
    ("apply_pending", "statuses: apply"),
    ("SendingSlots", "sender: the shared rate limit"),
    ("OutboxSender._claim_and_prepare", "sender: claim and prepare"),
    ("OutboxSender._record", "sender: record"),
    ("OutboxSender", "sender: the rest (Graph API call)"),
    ("backend/scheduler", "scheduler"),
    ("MailSender", "mail sender (polling)"),
    ("MediaFetcher", "media fetcher (polling)"),
    ("_extract_validation_events", "actions: form validation"),
    ("required_slots", "actions: form required slots"),
    ("TmsAction._run_in_transaction", "actions: the action's transaction"),
    ("rasa_sdk/", "actions: rasa-sdk (parse the call, answer)"),
    ("sanic/", "HTTP server (sanic)"),
    ("httpx/", "HTTP client (httpx)"),
]
IDLE = (  # an event loop or a pool thread waiting for work
    "serve (sanic/server/runners.py)",
    "_run_server_forever (sanic/server/runners.py)",
    "_worker (concurrent/futures/thread.py)",
)
DB_WAIT = ("Connection.wait (psycopg/connection.py)", "do_execute (sqlalchemy/engine/default.py)")


def summarise(name: str, raw: Path) -> None:
    """A process's busy samples by where they went (RASA_RULES or PYTHON_RULES), with the
    share spent waiting on PostgreSQL; the idle event loop is left out."""
    rules = RASA_RULES if name.startswith("rasa") else PYTHON_RULES
    spent: Counter[str] = Counter()
    waiting: Counter[str] = Counter()
    busy = idle = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        frames = [f.split(":")[0].rstrip(")") + ")" for f in stack.split(";")[1:] if f]
        n = int(count)
        if not frames or frames[-1].startswith(IDLE):
            idle += n
            continue
        busy += n
        where = next((label for key, label in rules if any(key in f for f in frames)), "other")
        spent[where] += n
        if frames[-1].startswith(DB_WAIT):
            waiting[where] += n
    if not busy:
        return
    print(f"\n  {name}: {busy} busy samples at 100/s ({100 * busy / (busy + idle):.0f}% of all)")
    for where, n in spent.most_common():
        wait = (
            f"  ({100 * waiting[where] / n:.0f}% waiting on PostgreSQL)" if waiting[where] else ""
        )
        print(f"    {100 * n / busy:5.1f}%  {where}{wait}")


# -- the run -----------------------------------------------------------------------------------
def print_table(stock: list[Figures], product: list[Figures]) -> None:
    base = statistics.mean(f.rate for f in stock) if stock else 0.0
    n = len((product or stock)[0].latencies)
    print(f"\nDialogue end to end ({n} messages per run, PostgreSQL)")
    print(
        f"  {'':<48}{'msg/s':>7}{'ratio':>7}{'p50 ms':>8}{'p99 ms':>8}{'lone p50':>10}{'errors':>8}"
    )
    for f in stock + product:
        ratio = f"{f.rate / base:>7.2f}" if base else f"{'-':>7}"
        print(
            f"  {f.label:<48}{f.rate:>7.1f}{ratio}{pct(f.latencies, 50):>8.0f}"
            f"{pct(f.latencies, 99):>8.0f}{pct(f.lone, 50):>10.0f}{f.errors:>8}"
        )
    if base:
        print(
            f"  (ratio: to stock Rasa's mean, {base:.1f} msg/s; targets ≥ 4.00, lone p50 ≤ 150 ms)"
        )


@dataclass
class Variant:
    """The product as it is, or with a lever applied: settings for some of its processes
    (`[part:]KEY=VALUE`) and maybe another trained model."""

    label: str
    settings: list[str] = field(default_factory=list)
    model: Path | None = None

    @classmethod
    def parse(cls, text: str) -> Variant:
        """`label=SETTING;SETTING…`, a SETTING being `[part:]KEY=VALUE` or `model=PATH`."""
        label, _, rest = text.partition("=")
        variant = cls(label)
        for setting in filter(None, rest.split(";")):
            if setting.startswith("model="):
                variant.model = Path(setting.removeprefix("model="))
            else:
                variant.settings.append(setting)
        return variant


def print_cpu(product: list[Figures]) -> None:
    """Where the machine's CPU went during each load phase, per message answered."""
    kinds = list(dict.fromkeys(k for f in product for k in f.cpu))
    if not kinds:
        return
    print("\nCPU ms per message during the load (2 cores: 2,000 ms of CPU per second)")
    print(f"  {'':<40}" + "".join(f"{k[:12]:>13}" for k in kinds))
    for f in product:
        print(f"  {f.label[:40]:<40}" + "".join(f"{f.cpu.get(k, 0):>13.0f}" for k in kinds))


def print_means(product: list[Figures]) -> None:
    """The repeated runs of each configuration: their mean and range."""
    print("\nMeans over the repeated runs")
    print(f"  {'':<48}{'msg/s':>7}{'range':>13}{'lone p50':>10}{'range':>13}")
    for label in dict.fromkeys(f.label for f in product):
        runs = [f for f in product if f.label == label]
        rates = [f.rate for f in runs]
        lone = [pct(f.lone, 50) for f in runs]
        print(
            f"  {label:<48}{statistics.mean(rates):>7.1f}{f'{min(rates):.1f}–{max(rates):.1f}':>13}"
            f"{statistics.mean(lone):>10.0f}{f'{min(lone):.0f}–{max(lone):.0f}':>13}"
        )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", default="baseline,product")
    parser.add_argument("--customers", type=int, default=20)
    parser.add_argument("--messages", type=int, default=240, help="per run, over all customers")
    parser.add_argument("--rasa", default="1,2,4", help="Rasa processes, one run each")
    parser.add_argument("--lone", type=int, default=2, help="customers timed one at a time")
    parser.add_argument(
        "--profile", type=Path, help="py-spy each product run's load (its cost skews the figures)"
    )
    parser.add_argument("--show", action="store_true", help="print the lone conversations")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="[PART:]KEY=VALUE",
        help="a setting for the product's processes whose name starts with PART (or all)",
    )
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="LABEL=SETTING;…",
        help="also run the product with a lever, in the same run: SETTING is "
        "[PART:]KEY=VALUE or model=PATH (a model trained from another config), "
        "e.g. 'no TED=model=var/bench/models/tms-no-ted.tar.gz'",
    )
    parser.add_argument(
        "--as-is", default="yes", choices=["yes", "no"], help="run the product as it is too"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run every (Rasa processes, variant) pair this many times, in turn: the machine "
        "is shared, and a drift in its load should not pass for a lever's effect",
    )
    args = parser.parse_args()
    only = set(args.only.split(","))
    per_customer = max(1, args.messages // args.customers)
    logs = Path(tempfile.mkdtemp(prefix="tms-dialogue-"))
    stock: list[Figures] = []
    product: list[Figures] = []
    variants = [Variant("", list(args.env))] if args.as_is == "yes" else []
    for spec in args.variant:
        variant = Variant.parse(spec)
        variant.settings = list(args.env) + variant.settings
        variants.append(variant)

    def baseline(when: str) -> None:
        model = stock_model(logs)
        port = free_port()
        stack = stock_stack(model, port, logs)
        stack.start(timeout=300)
        try:
            figures = asyncio.run(measure_stock(port, args.customers, per_customer, args.lone))
            figures.label = f"stock Rasa, {when}"
            stock.append(figures)
        finally:
            stack.stop()

    if "baseline" in only:
        baseline("before")
    if "product" in only:
        default_model = trained_model()
        runs = [
            (int(n), v) for _ in range(args.repeat) for n in args.rasa.split(",") for v in variants
        ]
        for run, (replicas, variant) in enumerate(runs):
            reset_database()
            dispose_engines()
            with transaction(URL) as s:
                load(s, StoryCalendar.next_season(clock.local_today()))
            reset_trackers()
            stack, ports, rasas = product_stack(
                variant.model or default_model,
                replicas,
                logs / f"run{run}-rasa{replicas}",
                variant.settings,
            )
            stack.start(timeout=600)
            profiler = None
            if args.profile:
                names = {"action-server", "backend"}
                profiler = Profiler(
                    args.profile / f"run{run}", rasas + [p for p in stack.parts if p.name in names]
                )
            label = f"product, {replicas} Rasa" + (f", {variant.label}" if variant.label else "")
            try:
                figures = asyncio.run(
                    measure_product(
                        label,
                        ports,
                        args.customers,
                        per_customer,
                        args.lone,
                        tag=run,
                        during_load=profiler.start if profiler else None,
                        show=args.show,
                        processes=cpu_groups(stack),
                    )
                )
                product.append(figures)
            finally:
                if profiler:
                    profiler.stop()
                stack.stop()
            print(f"  {label}: {figures.rate:.1f} msg/s, lone p50 {pct(figures.lone, 50):.0f} ms")
            if profiler:
                profiler.report()
        if "baseline" in only:
            baseline("after")
    if stock or product:
        print_table(stock, product)
    print_cpu(product)
    if args.repeat > 1:
        print_means(product)
    print(f"\n(logs: {logs})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
