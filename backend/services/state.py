"""The one place where statuses change: check the machine, write, log to the timeline."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from backend.domain.actor import Actor
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
