"""Cost as conversations grow, on PostgreSQL: the time of one turn of a customer who has
already written 0 (the first turn), 10, 100 and 1,000 turns in the same session, as a ratio
to the first. Target: every ratio within 1.5×.

Two Rasa servers with the same model, action server and tracker database server, measured
alternately in the same run: Rasa's stock SQL tracker store (the baseline: it reloads the
whole session every turn) and the project's bounded store (endpoints.yml,
addons/stores/bounded_tracker_store.py).

The earlier turns are real: one turn of the customer goes through Rasa, then its events are
written into the tracker database again and again (later timestamps, same session) instead
of running a thousand turns through Rasa; one more real turn follows, so each store has seen
the conversation as it would have (the bounded store moves its window there), then the
measured turns. Each figure is the median of several customers or turns; the machine is
shared and noisy, so compare within one run.

    python bench/conversation_growth_bench.py [--levels 0,10,100,1000] [--repeat 7]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import yaml
from benchdb import URL
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from backend import clock, migrate
from backend.assistant_protocol import RASA_CHANNEL_PATH
from backend.config import PROJECT_ROOT
from backend.db import dispose_engines, transaction
from backend.stack import Part, Stack, free_port, trained_model
from backend.whatsapp.inbox_worker import rasa_channel_headers
from devkit.demo_data import StoryCalendar, load

PY = str(PROJECT_ROOT / ".venv/bin/python")
# A customer's question that goes to a custom action and the backend's catalog.
QUESTION = "what's included in the Everest Base Camp trek?"
ANSWER = "Everest Base Camp Trek includes"  # every measured turn must get the real answer
STORES = ("stock", "bounded")
TARGET = 1.5


# -- databases (our own, so other benchmarks resetting tms_bench do not collide) ---------------
def database(suffix: str) -> str:
    url = make_url(URL)
    return url.set(database=f"{url.database}_growth{suffix}").render_as_string(hide_password=False)


def rasa_url(url: str) -> str:
    """The same database as Rasa's SQLAlchemy 1.4 and psycopg2 spell it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


# -- the servers --------------------------------------------------------------------------------
def stock_endpoints(directory: Path) -> Path:
    """endpoints.yml with Rasa's own SQL tracker store instead of the bounded one."""
    endpoints = yaml.safe_load((PROJECT_ROOT / "endpoints.yml").read_text())
    endpoints["tracker_store"] = {
        "type": "SQL",
        "dialect": "${TRACKER_DIALECT}",
        "url": "${TRACKER_STORE_URL}",
    }
    path = directory / "endpoints-stock.yml"
    path.write_text(yaml.safe_dump(endpoints, sort_keys=False))
    return path


def rasa_part(name: str, model: Path, port: int, tracker: str, extra: list[str]) -> Part:
    return Part(
        name,
        ["bash", "scripts/rasa.sh", "run", "--model", str(model), "--port", str(port), *extra],
        f"http://127.0.0.1:{port}/",
        {"TRACKER_DIALECT": "postgresql", "TRACKER_STORE_URL": rasa_url(tracker)},
    )


# -- the conversation ---------------------------------------------------------------------------
class Store:
    def __init__(self, name: str, port: int, tracker: str) -> None:
        self.name = name
        self.client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=120)
        self.engine = create_engine(tracker)
        self.senders = 0
        self.messages = 0

    def new_sender(self, level: int) -> str:
        """A valid mobile number (the actions answer an invalid one with the help text)."""
        self.senders += 1
        return f"+614{STORES.index(self.name)}{level:04d}{self.senders:03d}"

    async def turn(self, sender: str) -> float:
        self.messages += 1
        started = time.perf_counter()
        answer = await self.client.post(
            RASA_CHANNEL_PATH,
            json={
                "sender": sender,
                "message": QUESTION,
                # As the backend's inbox sends it (the actions keep a receipt per wamid).
                "metadata": {"wamid": f"wamid.GROWTH{self.name}{self.messages:07d}"},
            },
            headers=rasa_channel_headers(),
        )
        elapsed = time.perf_counter() - started
        answer.raise_for_status()
        replies = [m.get("text") or "" for m in answer.json()]
        if not any(ANSWER in reply for reply in replies):
            raise RuntimeError(f"{self.name}: {sender} got {replies!r}, not the answer")
        return elapsed

    def repeat_last_turn(self, sender: str, times: int) -> None:
        """Write the sender's last turn (its last user message up to the action listen that
        ends it) `times` times more, with later timestamps, as if the customer had asked it
        again and again in the same session."""
        if times <= 0:
            return
        with self.engine.begin() as conn:
            rows = conn.execute(
                text(
                    "SELECT type_name, intent_name, action_name, data FROM events "
                    "WHERE sender_id = :s AND id >= (SELECT max(id) FROM events "
                    "WHERE sender_id = :s AND type_name = 'user') ORDER BY id"
                ),
                {"s": sender},
            ).all()
            start = time.time()
            step = 0.0001
            batch = []
            for n in range(times):
                for k, row in enumerate(rows):
                    data = json.loads(row.data)
                    data["timestamp"] = start + (n * len(rows) + k) * step
                    batch.append(
                        {
                            "s": sender,
                            "t": row.type_name,
                            "ts": data["timestamp"],
                            "i": row.intent_name,
                            "a": row.action_name,
                            "d": json.dumps(data),
                        }
                    )
            conn.execute(
                text(
                    "INSERT INTO events (sender_id, type_name, timestamp, intent_name, "
                    "action_name, data) VALUES (:s, :t, :ts, :i, :a, :d)"
                ),
                batch,
            )
        # The last written turn must lie before the next real one.
        time.sleep(max(0.0, start + times * len(rows) * step - time.time()) + 0.01)

    def events_of(self, sender: str) -> int:
        with self.engine.connect() as conn:
            return int(
                conn.scalar(text("SELECT count(*) FROM events WHERE sender_id = :s"), {"s": sender})
            )


async def measure(stores: dict[str, Store], levels: list[int], repeat: int) -> dict:
    results: dict[str, dict[int, list[float]]] = {name: {} for name in stores}
    events: dict[str, dict[int, int]] = {name: {} for name in stores}
    for level in levels:
        print(f"  {level:>5} earlier turns ...", flush=True)
        if level == 0:
            # The first turn of a new customer, `repeat` customers, the stores alternating.
            for _ in range(repeat):
                for store in stores.values():
                    sender = store.new_sender(level)
                    results[store.name].setdefault(level, []).append(await store.turn(sender))
            continue
        senders = {}
        for store in stores.values():
            sender = senders[store.name] = store.new_sender(level)
            await store.turn(sender)  # turn 1, through Rasa
            store.repeat_last_turn(sender, level - 2)  # turns 2 .. level-1, written
            await store.turn(sender)  # turn `level`, through Rasa again
            events[store.name][level] = store.events_of(sender)
        for _ in range(repeat):
            for store in stores.values():
                elapsed = await store.turn(senders[store.name])
                results[store.name].setdefault(level, []).append(elapsed)
    return {"times": results, "events": events}


def report(figures: dict, levels: list[int]) -> bool:
    times = figures["times"]
    medians = {
        name: {level: statistics.median(times[name][level]) for level in levels} for name in times
    }
    print()
    print("Cost as conversations grow (PostgreSQL; median turn time, ratio to the first turn)")
    header = f"{'earlier turns':>14} | {'events stored':>13} |"
    header += "".join(f" {name + ' store':>22} |" for name in STORES)
    print(header)
    print("-" * len(header))
    ok = True
    for level in levels:
        stored = figures["events"]["bounded"].get(level, 0)
        line = f"{level:>14} | {stored:>13} |"
        for name in STORES:
            ms = medians[name][level] * 1000
            ratio = medians[name][level] / medians[name][levels[0]]
            line += f" {ms:>9.0f} ms  {ratio:>6.2f}x   |"
            if name == "bounded" and ratio > TARGET:
                ok = False
        print(line)
    worst = max(medians["bounded"][lv] / medians["bounded"][levels[0]] for lv in levels)
    print(
        f"\nbounded store: worst ratio {worst:.2f}x (target ≤ {TARGET}x): "
        f"{'met' if ok else 'NOT met'}; stock store at {levels[-1]} earlier turns: "
        f"{medians['stock'][levels[-1]] / medians['stock'][levels[0]]:.2f}x"
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--levels", default="0,10,100,1000")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    levels = [int(level) for level in args.levels.split(",")]
    if levels[0] != 0:
        levels.insert(0, 0)

    backend_db = database("")
    trackers = {name: database(f"_{name}") for name in STORES}
    for url in (backend_db, *trackers.values()):
        migrate.recreate_database(url)
    migrate.upgrade(backend_db)
    with transaction(backend_db) as s:
        load(s, StoryCalendar.next_season(clock.local_today()))
    dispose_engines()

    logs = Path(tempfile.mkdtemp(prefix="tms-growth-bench-"))
    model = trained_model()
    action_port = free_port()
    ports = {name: free_port() for name in STORES}
    env = {"LOG_LEVEL": "WARNING", "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{action_port}/webhook"}
    parts = [
        Part(
            "action-server",
            [PY, "-m", "actions.server", "--port", str(action_port)],
            f"http://127.0.0.1:{action_port}/health",
            {"DATABASE_URL": backend_db},
        ),
        rasa_part(
            "rasa-stock",
            model,
            ports["stock"],
            trackers["stock"],
            ["--endpoints", str(stock_endpoints(logs))],
        ),
        rasa_part("rasa-bounded", model, ports["bounded"], trackers["bounded"], []),
    ]
    for part in parts:
        part.env = {**env, **part.env}
    print(f"conversation growth bench (logs: {logs})", flush=True)
    stack = Stack(parts, logs)
    try:
        stack.start(timeout=600)
        stores = {name: Store(name, ports[name], trackers[name]) for name in STORES}

        async def run() -> dict:
            # One unmeasured turn each: the first call to a fresh server is slower.
            for store in stores.values():
                await store.turn(store.new_sender(9999))
            try:
                return await measure(stores, levels, args.repeat)
            finally:
                for store in stores.values():
                    await store.client.aclose()

        figures = asyncio.run(run())
    finally:
        stack.stop()
    report(figures, levels)
    return 0


if __name__ == "__main__":
    sys.exit(main())
