"""Several processes take one conversation's lock at once through a Redis lock store, in Rasa's
own environment, and count how often two of them were inside it together, and how often one
could not get it at all (JSON on stdout):

    .venv-rasa/bin/python -m tests.assistant.lock_store_probe REDIS_URL CLASS PROCESSES TURNS

CLASS is `atomic` (addons/stores/redis_lock_store.py) or `rasa` (Rasa's RedisLockStore).
Each process starts its turns at the same moment as the others (a barrier), as when one
customer's messages reach two Rasa processes at once.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import sys
import uuid
from typing import Any

import redis
from rasa.core.lock_store import LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

from addons.stores.lock_store import lock_store_config
from addons.stores.redis_lock_store import AtomicRedisLockStore


def make_store(redis_url: str, kind: str) -> RedisLockStore:
    config = lock_store_config(redis_url)
    config.pop("type")
    host = config.pop("url")
    if kind == "atomic":
        return AtomicRedisLockStore(EndpointConfig(url=host, **config))
    return RedisLockStore(host=host, **config)


def worker(
    redis_url: str, kind: str, conversation: str, turns: int, barrier: Any, out: Any
) -> None:
    store = make_store(redis_url, kind)
    counter = redis.Redis.from_url(redis_url)
    inside = f"probe:{conversation}:inside"

    async def run() -> tuple[int, int]:
        overlaps = errors = 0
        for _ in range(turns):
            barrier.wait()
            try:
                async with store.lock(conversation, lock_lifetime=30, wait_time_in_seconds=0.01):
                    if counter.incr(inside) > 1:
                        overlaps += 1
                    await asyncio.sleep(0.005)
                    counter.decr(inside)
            except LockError:  # Rasa would drop the message
                errors += 1
        return overlaps, errors

    out.put(asyncio.run(run()))


def main(argv: list[str]) -> int:
    redis_url, kind, processes, turns = argv[0], argv[1], int(argv[2]), int(argv[3])
    conversation = f"+probe-{uuid.uuid4().hex[:12]}"
    context = multiprocessing.get_context("fork")
    barrier, out = context.Barrier(processes), context.Queue()
    workers = [
        context.Process(target=worker, args=(redis_url, kind, conversation, turns, barrier, out))
        for _ in range(processes)
    ]
    for process in workers:
        process.start()
    results = [out.get(timeout=300) for _ in workers]
    for process in workers:
        process.join(timeout=60)
    redis.Redis.from_url(redis_url).delete(f"probe:{conversation}:inside")
    print(
        json.dumps(
            {
                "kind": kind,
                "turns": processes * turns,
                "overlaps": sum(overlaps for overlaps, _ in results),
                "lock_errors": sum(errors for _, errors in results),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
