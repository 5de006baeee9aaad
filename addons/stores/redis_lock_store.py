"""Rasa's Redis lock store, with its read-modify-write steps made atomic.

Rasa takes a ticket lock per sender around each turn. Its `RedisLockStore` keeps the lock as one
JSON value and changes it by GET, change in Python, SET: when two Rasa processes receive a
message of the same sender at the same moment, both read "no lock", both write a lock holding
only their own ticket, and both run the turn at once, interleaving the sender's events. (A known
problem: RasaHQ/rasa#9213; Rasa's concurrent variant, #11256, was reverted from Rasa Open
Source.) The backend sends each sender to one replica, but a replica that goes down hands its
senders to the next one while messages are in flight, so the lock must hold on its own.

This store keeps Rasa's lock format, key and ticket semantics (FIFO tickets with a lifetime)
and does each change inside a Redis optimistic transaction (WATCH, then MULTI/EXEC, retried
when another process changed the key meanwhile): issuing a ticket, dropping expired tickets,
and handing the lock on (or deleting it when nobody waits). Reading the lock needs no change.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

import redis
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

T = TypeVar("T")
# A change of the lock returns its result and the lock to keep (None: delete the key).
Change = Callable[[TicketLock | None], tuple[T, TicketLock | None]]


class AtomicRedisLockStore(RedisLockStore):
    """`RedisLockStore` whose ticket changes cannot be lost to another process's."""

    def __init__(self, endpoint_config: EndpointConfig | None = None, **kwargs: Any) -> None:
        # Rasa builds a lock store named by its module path with `endpoint_config=` only.
        if endpoint_config is not None:
            kwargs = {
                "host": endpoint_config.url or "localhost",
                **endpoint_config.kwargs,
                **kwargs,
            }
        super().__init__(**kwargs)

    def _change(self, conversation_id: str, change: Change[T]) -> T:
        key = self.key_prefix + conversation_id
        with self.red.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    raw = pipe.get(key)
                    lock = TicketLock.from_dict(json.loads(raw)) if raw else None
                    result, keep = change(lock)
                    pipe.multi()
                    if keep is None:
                        pipe.delete(key)
                    else:
                        pipe.set(key, keep.dumps())
                    pipe.execute()
                    return result
                except redis.WatchError:
                    continue  # another process changed the lock first: read it again

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        def issue(lock: TicketLock | None) -> tuple[int, TicketLock | None]:
            lock = lock or self.create_lock(conversation_id)
            return lock.issue_ticket(lock_lifetime), lock

        try:
            return self._change(conversation_id, issue)
        except Exception as error:  # as Rasa's own issue_ticket reports it
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    def update_lock(self, conversation_id: str) -> None:
        def drop_expired(lock: TicketLock | None) -> tuple[None, TicketLock | None]:
            if lock is not None:
                lock.remove_expired_tickets()
            return None, lock

        self._change(conversation_id, drop_expired)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        def finish(lock: TicketLock | None) -> tuple[None, TicketLock | None]:
            if lock is not None:
                lock.remove_ticket_for(ticket_number)
            return None, lock

        self._change(conversation_id, finish)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        # One step, so a ticket issued in between is never deleted with the lock.
        def finish_and_release(lock: TicketLock | None) -> tuple[None, TicketLock | None]:
            if lock is None:
                return None, None
            lock.remove_ticket_for(ticket_number)
            return None, lock if lock.is_someone_waiting() else None

        self._change(conversation_id, finish_and_release)
