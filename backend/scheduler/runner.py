"""What runs when a timer fires: re-read the data, then act through a service, or do nothing.

`run_timer` is the job function APScheduler stores (by its textual reference, so a pickled job
survives a deploy); it finds the running `TimerService` for retries and statistics.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Protocol

from backend import clock
from backend.db import transaction
from backend.scheduler.kinds import TimerSpec, timer_specs
from backend.services import timers, translations

logger = logging.getLogger(__name__)
JOB_FUNCTION = "backend.scheduler.runner:run_timer"
# A handler due this close to now counts as due (APScheduler may fire a hair early).
_EARLY_TOLERANCE = timedelta(seconds=1)


class ActiveTimers(Protocol):
    """What a fired job needs of the running timer service (`service.TimerService`), named
    here so that the runner, which the service imports, does not import the service."""

    @property
    def url(self) -> str | None: ...

    def retry_later(self, kind: str, subject_id: str, attempt: int) -> None: ...

    def timer_done(self, kind: str, subject_id: str, outcome: str) -> None: ...

    def count(self, kind: str, outcome: str) -> None: ...

    def schedule(self, kind: str, subject_id: str, run_at: datetime) -> None: ...


_active: ActiveTimers | None = None


def activate(service: ActiveTimers | None) -> None:
    global _active
    _active = service


def active_service() -> ActiveTimers | None:
    return _active


def spec_for(kind: str) -> TimerSpec | None:
    return next((spec for spec in timer_specs() if spec.kind == kind), None)


def run_timer(kind: str, subject_id: str, attempt: int = 0) -> str:
    service = _active
    try:
        outcome = execute(kind, subject_id, url=service.url if service else None)
    except Exception as exc:
        logger.exception("timer %s:%s failed (attempt %d)", kind, subject_id, attempt + 1)
        outcome = f"failed: {type(exc).__name__}: {exc}"[:300]
        if service is not None:
            service.retry_later(kind, subject_id, attempt + 1)
    else:
        if service is not None:
            service.timer_done(kind, subject_id, outcome)
    logger.info("timer %s:%s → %s", kind, subject_id, outcome)
    if service is not None:
        service.count(kind, outcome)
    return outcome


def execute(kind: str, subject_id: str, *, url: str | None = None) -> str:
    """One timer, in one transaction: is it still wanted, and at this time? Then act."""
    spec = spec_for(kind)
    if spec is None:
        return "nothing to do: no such timer under the current configuration"
    with transaction(url) as session:
        # A reminder reads staff's current wording, even on a replica no customer wrote to.
        translations.refresh(session)
        due = next((at for _, at in spec.wanted(session, [subject_id])), None)
        now = clock.now()
        if due is None:
            return "nothing to do: no longer applies"
        if due <= now + _EARLY_TOLERANCE:
            if spec.stale_after is not None and now - due > spec.stale_after:
                late = now - due
                timers.record_notice(
                    session, kind, subject_id, outcome="skipped", detail=f"{late} late when found"
                )
                return f"skipped: {late} late"
            return spec.handle(session, subject_id)
    # The data moved the time later: put the job there, after this transaction (on SQLite
    # the job store's write would wait for the lock this transaction holds).
    service = _active
    if service is not None:
        service.schedule(kind, subject_id, due)
    return f"not yet due: moved to {due.isoformat()}"


def outcome_category(outcome: str) -> str:
    for prefix, category in (
        ("nothing to do", "noop"),
        ("not yet due", "noop"),
        ("skipped", "skipped"),
        ("failed", "failed"),
    ):
        if outcome.startswith(prefix):
            return category
    return "done"
