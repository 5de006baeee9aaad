"""A SQL tracker store whose cost per turn does not grow with the conversation.

Rasa's `SQLTrackerStore` rebuilds a conversation from every event since its last session
start, and the policies then featurize all of them, so each turn of a long session is slower
than the one before. A session only ends after a day of silence (`session_config`), and a guide
on a three-week trek or a customer who writes every few hours never has one: their sessions
grow for months.

This store writes Rasa's `events` table exactly as the stock store does (every event, in
order: the full history stays there for analytics and for Rasa's own "all sessions" API) and
keeps one small row per conversation in `tms_tracker_windows`: the id of the event where the
conversation's *window* starts (always at a user turn, or at the session start) and the tracker
state just before it, written as the few events that recreate it (slot values, an active form,
a paused conversation). A turn loads that row and the events from the window on, so it reads,
replays and featurizes a bounded number of events however long the conversation is. The
state in front is the state *at the window's start*, not the latest one, so every dialogue
state after the window's first is featurized exactly as a full replay featurizes it (the
policies look at the last `max_history` of them; what the product needs from older turns
lives in the backend's database, not in the tracker).

The window holds the last `window_turns` user turns before the current one: each save that
ends a turn moves it forward by a turn (one row rewritten in the same transaction), so every
turn costs the same. It prefers to start where no form is active (a form's turns are
featurized relative to its activation) unless the form has run for more than four windows.
A new session moves the window to the session start, as the stock store's session query
would.

Saving: Rasa's store counts the stored events of the session to know which events of a tracker
are new; a windowed tracker holds fewer events than the session, so this store remembers, on
each tracker it loads or saves, how many synthetic events are in front and which stored rows
follow, and appends exactly the events after those. A tracker it did not load (a new
conversation, or one built by Rasa's HTTP API) is saved by the stock rule.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import json
import logging
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActiveLoop,
    ConversationPaused,
    Event,
    LoopInterrupted,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy.orm import Session, declarative_base

logger = logging.getLogger(__name__)

DEFAULT_WINDOW_TURNS = 5
MIN_WINDOW_TURNS = 4
# Past this many windows a form that never ends no longer keeps the window open.
_FORM_WINDOWS = 4
# Where a tracker remembers what it holds from the database (see `_Stored`).
_STORED_ATTRIBUTE = "_tms_stored"

WindowBase: Any = declarative_base()


class TrackerWindow(WindowBase):
    """Where a conversation's window starts, and the state just before it."""

    __tablename__ = "tms_tracker_windows"

    sender_id = sa.Column(sa.String(255), primary_key=True)
    # `events.id` of the window's first event; every event of the sender from it on is loaded.
    start_id = sa.Column(sa.Integer, nullable=False)
    # JSON list of serialised events that recreate the state before `start_id`.
    prefix = sa.Column(sa.Text, nullable=False)
    updated_at = sa.Column(sa.Float)


@dataclass
class _Stored:
    """What a tracker holds from the database: `prefix` synthetic events in front (never
    stored), then the stored events `ids` (in order); `rows` counts the sender's rows from
    `first_id` on that this tracker has seen, to notice rows written behind its back."""

    prefix: int
    first_id: int | None
    rows: int
    ids: list[int] = field(default_factory=list)
    # Whether the conversation's window row describes this tracker's start.
    windowed: bool = False


@dataclass
class _State:
    """The part of a tracker's state that events before a window carry into it."""

    slots: dict[str, Any]
    loop: str | None
    loop_rejected: bool
    loop_interrupted: bool
    paused: bool

    @classmethod
    def of(cls, tracker: DialogueStateTracker) -> _State:
        loop = tracker.active_loop
        return cls(
            # `has_been_set`, not "differs from the initial value": featurization omits unset
            # slots (`omit_unset_slots`), so a slot set to its initial value must stay set.
            slots={name: slot.value for name, slot in tracker.slots.items() if slot.has_been_set},
            loop=tracker.active_loop_name,
            loop_rejected=bool(loop and loop.rejected),
            loop_interrupted=bool(loop and loop.is_interrupted),
            paused=tracker.is_paused(),
        )

    def as_events(self, timestamp: float) -> list[Event]:
        events: list[Event] = [
            SlotSet(name, value, timestamp=timestamp) for name, value in self.slots.items()
        ]
        if self.loop:
            # As events, not as patched attributes: a reverted turn replays the tracker's
            # events from the front (`UserUtteranceReverted`), and this state must survive it.
            events.append(ActiveLoop(self.loop, timestamp=timestamp))
            if self.loop_rejected:
                events.append(ActionExecutionRejected(self.loop, timestamp=timestamp))
            if self.loop_interrupted:
                events.append(LoopInterrupted(True, timestamp=timestamp))
        if self.paused:
            events.append(ConversationPaused(timestamp=timestamp))
        return events


class BoundedSQLTrackerStore(SQLTrackerStore):
    """Rasa's SQL tracker store, loading a bounded window of each conversation."""

    def __init__(
        self,
        domain: Domain | None = None,
        window_turns: int | str = DEFAULT_WINDOW_TURNS,
        event_broker: EventBroker | None = None,
        **kwargs: Any,
    ) -> None:
        # endpoints.yml gives the number as text when it comes from an environment variable.
        self.window_turns = int(window_turns or DEFAULT_WINDOW_TURNS)
        # Each turn of a window gives the policies at least one state (every turn ends with an
        # action listen) exactly as a full replay does; only the state before the window
        # differs. The policies look at the current state and max_history = 4 before it
        # (config.yml), so four turns always suffice.
        if self.window_turns < MIN_WINDOW_TURNS:
            raise ValueError(f"window_turns must be at least {MIN_WINDOW_TURNS}")
        super().__init__(domain=domain, event_broker=event_broker, **kwargs)
        self._create_window_table()

    def _create_window_table(self) -> None:
        # Several Rasa processes may start together: whoever creates the table or the index
        # first wins, the others' errors are harmless (as in SQLTrackerStore.__init__).
        try:
            WindowBase.metadata.create_all(self.engine)
        except (sa.exc.OperationalError, sa.exc.ProgrammingError, sa.exc.IntegrityError) as e:
            logger.warning(f"Could not create {TrackerWindow.__tablename__}: {e}")
        if self.engine.dialect.name in ("postgresql", "sqlite"):
            # Rasa indexes `events` by sender only; a window is a range of one sender's ids.
            try:
                with self.engine.begin() as connection:
                    connection.execute(
                        sa.text(
                            "CREATE INDEX IF NOT EXISTS ix_events_sender_id_id "
                            "ON events (sender_id, id)"
                        )
                    )
            except (sa.exc.OperationalError, sa.exc.ProgrammingError, sa.exc.IntegrityError) as e:
                logger.warning(f"Could not create the index ix_events_sender_id_id: {e}")

    @contextlib.contextmanager
    def _session(self) -> Iterator[Session]:
        # Not `session_scope()`: it exits the whole server on any ValueError raised inside it
        # (meant for a missing PostgreSQL schema), and a turn's error must stay that turn's.
        session = self.sessionmaker()
        try:
            yield session
        finally:
            session.close()

    # -- loading --------------------------------------------------------------------------------

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """The conversation's window (or, before it has one, its latest session)."""
        with self._session() as session:
            window = session.get(TrackerWindow, sender_id)
            prefix = self._prefix_of(window) if window is not None else None
            if prefix is None:
                window = None
            if window is not None:
                rows = (
                    session.query(self.SQLEvent.id, self.SQLEvent.data)
                    .filter(
                        self.SQLEvent.sender_id == sender_id,
                        self.SQLEvent.id >= window.start_id,
                    )
                    .order_by(self.SQLEvent.id)
                    .all()
                )
            else:
                # A conversation stored before this store (or by the stock store): its latest
                # session, as Rasa loads it. The next save gives it a window.
                prefix = []
                rows = (
                    self._event_query(session, sender_id, fetch_events_from_all_sessions=False)
                    .with_entities(self.SQLEvent.id, self.SQLEvent.data)
                    .all()
                )
        return self._tracker(sender_id, prefix, rows, windowed=window is not None)

    async def retrieve_full_tracker(self, conversation_id: str) -> DialogueStateTracker | None:
        """Every event of every session (Rasa's HTTP API asks for it; never a turn)."""
        with self._session() as session:
            rows = (
                self._event_query(session, conversation_id, fetch_events_from_all_sessions=True)
                .with_entities(self.SQLEvent.id, self.SQLEvent.data)
                .all()
            )
        return self._tracker(conversation_id, [], rows, windowed=False)

    def _prefix_of(self, window: TrackerWindow) -> list[dict[str, Any]] | None:
        try:
            prefix = json.loads(window.prefix)
        except ValueError:
            logger.error(f"Unreadable window of '{window.sender_id}'; loading its session.")
            return None
        # A slot the current model no longer has would only log errors on replay.
        known = {slot.name for slot in self.domain.slots}
        return [e for e in prefix if e.get("event") != SlotSet.type_name or e.get("name") in known]

    def _tracker(
        self,
        sender_id: str,
        prefix: list[dict[str, Any]],
        rows: Sequence[Any],
        *,
        windowed: bool,
    ) -> DialogueStateTracker | None:
        if not (self.domain and rows):
            return None
        events: list[Event] = []
        ids: list[int] = []
        for event_data in itertools.chain(
            ((None, e) for e in prefix), ((r.id, json.loads(r.data)) for r in rows)
        ):
            row_id, data = event_data
            event = Event.from_parameters(data)
            if event is None:  # as `deserialise_events`: an unknown event is skipped
                logger.warning(f"Unable to parse event {data} of '{sender_id}'.")
                continue
            events.append(event)
            if row_id is not None:
                ids.append(row_id)
        tracker = DialogueStateTracker.from_events(sender_id, events, self.domain.slots)
        stored = _Stored(
            prefix=len(events) - len(ids),
            first_id=rows[0].id,
            rows=len(rows),
            ids=ids,
            windowed=windowed,
        )
        setattr(tracker, _STORED_ATTRIBUTE, stored)
        logger.debug(
            f"Loaded '{sender_id}' from event {rows[0].id}: {len(rows)} events "
            f"after {stored.prefix} carrying the state before them."
        )
        return tracker

    # -- saving ---------------------------------------------------------------------------------

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Append the tracker's new events; move its window forward when it has grown."""
        stored: _Stored | None = getattr(tracker, _STORED_ATTRIBUTE, None)
        if stored is not None:
            # A copy: the tracker learns what is stored only once the commit succeeded.
            stored = dataclasses.replace(stored, ids=list(stored.ids))
        with self._session() as session:
            if stored is None:
                stored, new_events = self._new_events_by_count(session, tracker)
            else:
                new_events = list(
                    itertools.islice(tracker.events, stored.prefix + len(stored.ids), None)
                )
                if self._rows_since(session, tracker.sender_id, stored.first_id) != stored.rows:
                    # Another process wrote this conversation while we held it: the lock store
                    # is not shared (two Rasa processes need REDIS_URL). Keep every event, and
                    # let the next turn rebuild from the whole session.
                    logger.error(
                        f"Events of '{tracker.sender_id}' were stored by someone else during "
                        f"this turn; is the lock store shared by every Rasa process?"
                    )
                    self._forget_window(session, tracker.sender_id)
                    stored = None
            rows = [self._row(tracker.sender_id, event) for event in new_events]
            session.add_all(rows)
            if stored is not None:
                session.flush()  # the new rows' ids, for the window
                stored.ids.extend(row.id for row in rows)
                stored.rows += len(rows)
                if stored.first_id is None and rows:
                    stored.first_id = rows[0].id
                window = self._next_window(tracker, stored) if stored.ids else None
                if window is not None:
                    self._write_window(session, tracker.sender_id, *window)
                    stored.windowed = True
            session.commit()
        if stored is not None:
            setattr(tracker, _STORED_ATTRIBUTE, stored)
        elif hasattr(tracker, _STORED_ATTRIBUTE):
            delattr(tracker, _STORED_ATTRIBUTE)
        if self.event_broker is not None and new_events:
            await self._stream_new_events(self.event_broker, new_events, tracker.sender_id)
        logger.debug(f"Tracker with sender_id '{tracker.sender_id}' stored to database")

    def _new_events_by_count(
        self, session: Session, tracker: DialogueStateTracker
    ) -> tuple[_Stored | None, list[Event]]:
        """A tracker this store did not load: Rasa's rule (the events after as many as the
        session has stored are new). Tracked from now on only if nothing was stored yet."""
        count = self._event_query(
            session, tracker.sender_id, fetch_events_from_all_sessions=False
        ).count()
        new_events = list(itertools.islice(tracker.events, count, None))
        if count == 0:
            return _Stored(prefix=0, first_id=None, rows=0), new_events
        # Built from events elsewhere (Rasa's HTTP API replacing a tracker): its events and
        # the stored rows no longer line up, so the window is rebuilt from the session.
        self._forget_window(session, tracker.sender_id)
        return None, new_events

    def _rows_since(self, session: Session, sender_id: str, first_id: int | None) -> int:
        query = session.query(sa.func.count(self.SQLEvent.id)).filter(
            self.SQLEvent.sender_id == sender_id
        )
        if first_id is not None:
            query = query.filter(self.SQLEvent.id >= first_id)
        return int(query.scalar() or 0)

    def _row(self, sender_id: str, event: Event) -> Any:
        # The same columns as SQLTrackerStore.save writes.
        data = event.as_dict()
        return self.SQLEvent(
            sender_id=sender_id,
            type_name=event.type_name,
            timestamp=data.get("timestamp"),
            intent_name=data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
            action_name=data.get("name"),
            data=json.dumps(data),
        )

    # -- the window -----------------------------------------------------------------------------

    def _next_window(
        self, tracker: DialogueStateTracker, stored: _Stored
    ) -> tuple[int, list[Event]] | None:
        """Where the conversation's window starts from now on (an event id) and the state
        carried in front of it, or None when it stays where it is."""
        try:
            return self._choose_window(tracker, stored)
        except Exception:
            # Never lose a turn's events over the window: it stays, and the loads grow a
            # little until a later turn moves it.
            logger.exception(f"Could not move the window of '{tracker.sender_id}'.")
            return None

    def _choose_window(
        self, tracker: DialogueStateTracker, stored: _Stored
    ) -> tuple[int, list[Event]] | None:
        events = list(tracker.events)
        first = stored.prefix  # the first stored event the tracker holds
        # The latest session start: no window reaches back before it (as Rasa's session query).
        floor = max(
            (i for i in range(first, len(events)) if isinstance(events[i], SessionStarted)),
            default=first,
        )
        start = floor
        user_turns = [i for i in range(floor, len(events)) if isinstance(events[i], UserUttered)]
        if len(user_turns) > self.window_turns:
            turn_start = self._turn_start(tracker, events, floor, user_turns)
            if turn_start is not None:
                start = turn_start
        if start == first and stored.windowed:
            return None
        if isinstance(events[start], SessionStarted):
            prefix: list[Event] = []  # a session start resets everything before it
        else:
            prefix = self._states_at(tracker, events, [start])[start].as_events(
                events[start].timestamp
            )
        return stored.ids[start - first], prefix

    def _turn_start(
        self,
        tracker: DialogueStateTracker,
        events: list[Event],
        floor: int,
        user_turns: list[int],
    ) -> int | None:
        """Where a window keeping the last `window_turns` user turns (or more, to start
        before an active form) starts: at the action listen before a user message."""

        def boundary(user_index: int) -> int:
            before = user_index - 1
            if (
                before >= floor
                and isinstance(events[before], ActionExecuted)
                and events[before].action_name == ACTION_LISTEN_NAME
            ):
                return before
            return user_index

        # The turns the policies see: a reverted message, or a form's answers folded into the
        # form's run, gives them no state, so the kept turns are counted among the others.
        applied = {id(event) for event in tracker.applied_events()}
        seen = [i for i in user_turns if id(events[i]) in applied]
        # Most recent first: the start keeping `window_turns` seen turns, then earlier ones.
        latest = seen[-self.window_turns] if len(seen) >= self.window_turns else None
        candidates = [boundary(i) for i in reversed(user_turns) if latest and i <= latest]
        states = self._states_at(tracker, events, [*candidates, floor])
        for candidate in candidates:
            if states[candidate].loop is None:
                return candidate
        # Inside a form: once the window already starts inside it, or the form has been active
        # for several windows, it no longer holds the window open.
        if states[floor].loop is not None or len(user_turns) > _FORM_WINDOWS * self.window_turns:
            return candidates[0] if candidates else boundary(user_turns[-self.window_turns])
        return None

    @staticmethod
    def _states_at(
        tracker: DialogueStateTracker, events: list[Event], indices: Iterable[int]
    ) -> dict[int, _State]:
        """The tracker's state just before each of `indices`, by replaying its events."""
        wanted = set(indices)
        replay = tracker.init_copy()  # the domain's slots, reset
        states: dict[int, _State] = {}
        for index in range(max(wanted) + 1):
            if index in wanted:
                states[index] = _State.of(replay)
            if index < max(wanted):
                replay.update(events[index])
        return states

    def _write_window(
        self, session: Session, sender_id: str, start_id: int, prefix: list[Event]
    ) -> None:
        values = {
            "sender_id": sender_id,
            "start_id": start_id,
            "prefix": json.dumps([event.as_dict() for event in prefix]),
            "updated_at": time.time(),
        }
        table = TrackerWindow.__table__
        dialect = self.engine.dialect.name
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        elif dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert
        else:
            session.merge(TrackerWindow(**values))
            return
        statement = insert(table).values(**values)
        session.execute(
            statement.on_conflict_do_update(
                index_elements=[table.c.sender_id],
                set_={
                    name: statement.excluded[name] for name in ("start_id", "prefix", "updated_at")
                },
            )
        )

    @staticmethod
    def _forget_window(session: Session, sender_id: str) -> None:
        session.query(TrackerWindow).filter(TrackerWindow.sender_id == sender_id).delete(
            synchronize_session=False
        )
