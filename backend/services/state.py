"""The one place where statuses change: check the machine, write, log to the timeline."""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from backend.db import rows_affected
from backend.domain.actor import Actor
from backend.domain.errors import ConcurrentChange
from backend.domain.guard import allow_status_write
from backend.domain.states import StateMachine
from backend.services import timeline, timers


def change_state(
    session: Session,
    obj: Any,
    machine: StateMachine,
    target: str,
    actor: Actor,
    **content: Any,
) -> None:
    """Move `obj` to `target` or raise IllegalTransition having changed nothing.

    The TimelineEvent is added to the same session, so it commits or rolls back with the change.
    """
    current = getattr(obj, machine.attribute)
    machine.check(current, str(target))
    if inspect(obj).persistent:
        # Compare-and-set: the row must still hold the status the transition was checked
        # against. A concurrent change (committed, or waited for on PostgreSQL's row lock)
        # makes this write nothing and the transaction fail, instead of a lost update.
        model = type(obj)
        written = session.execute(
            update(model)
            .where(model.id == obj.id, getattr(model, machine.attribute) == current)
            .values({machine.attribute: str(target)})
            .execution_options(synchronize_session=False)
        )
        if rows_affected(written) != 1:
            raise ConcurrentChange(
                f"{machine.name} {obj.id} is no longer {current}: it changed meanwhile; look again"
            )
        set_committed_value(obj, machine.attribute, str(target))
    else:
        with allow_status_write():
            setattr(obj, machine.attribute, str(target))
    timeline.record(
        session,
        object_type=machine.object_type,
        object_id=obj.id,
        event_type="STATUS_CHANGE",
        action=f"{machine.action_prefix}.{str(target).lower()}",
        actor=actor,
        content={"field": machine.attribute, "from": current, "to": str(target), **content},
    )
    timers.touch(session, machine.object_type, obj.id)


def lock_row(session: Session, obj: Any) -> None:
    """Lock `obj`'s row for the rest of the transaction and load what it holds now (its
    eagerly joined relations stay unlocked: PostgreSQL refuses FOR UPDATE across them)."""
    model = type(obj)
    session.scalar(
        select(model)
        .where(model.id == obj.id)
        .with_for_update(of=model)
        .execution_options(populate_existing=True)
    )


def lock_for_change(session: Session, obj: Any, machine: StateMachine) -> None:
    """Lock `obj`'s row and re-read it before acting on it. If its status changed since the
    caller read it, raise ConcurrentChange: the caller decided on a view that is gone."""
    seen = getattr(obj, machine.attribute)
    lock_row(session, obj)
    now = getattr(obj, machine.attribute)
    if now != seen:
        raise ConcurrentChange(
            f"{machine.name} {obj.id} changed meanwhile (it was {seen}, it is {now}); look again"
        )


def log_created(session: Session, obj: Any, object_type: str, actor: Actor, **content: Any) -> None:
    """The first event of an entity's life, with its initial status."""
    session.flush()
    timeline.record(
        session,
        object_type=object_type,
        object_id=obj.id,
        event_type="CREATED",
        action=f"tms.{str(object_type).lower()}.created",
        actor=actor,
        content=content,
    )
    timers.touch(session, object_type, obj.id)
