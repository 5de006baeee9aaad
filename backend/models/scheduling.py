"""What the scheduler keeps in the database besides the domain data it reads.

- `timer_touches`: "this object changed, look at its timers again", written in the same
  transaction as the change (by `change_state`/`log_created`), so no process needs a running
  scheduler to keep it in step; the leader drains the rows.
- `sent_notices`: one row per timed notice that went out (or was deliberately skipped), unique
  on (kind, subject): the guard that nothing is sent twice, even by two schedulers at once.
- `apscheduler_jobs`: APScheduler's own SQLAlchemyJobStore table, declared here so migrations
  create it and tests truncate it; its layout is APScheduler's.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Float, Index, LargeBinary, String, Table, Unicode, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, BigId

APSCHEDULER_TABLE = "apscheduler_jobs"


class TimerTouch(Base):
    __tablename__ = "timer_touches"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    object_type: Mapped[str] = mapped_column(String(24))
    object_id: Mapped[str] = mapped_column(String(36))
    touched_at: Mapped[datetime]


class SentNotice(Base):
    __tablename__ = "sent_notices"
    __table_args__ = (UniqueConstraint("kind", "subject_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[str] = mapped_column(String(36))
    outcome: Mapped[str] = mapped_column(String(24))  # sent | skipped
    detail: Mapped[str | None] = mapped_column(String(200))
    recorded_at: Mapped[datetime]


apscheduler_jobs = Table(
    APSCHEDULER_TABLE,
    Base.metadata,
    # 191 and Float(25): APScheduler's own column definitions.
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25)),
    Column("job_state", LargeBinary, nullable=False),
    Index("ix_apscheduler_jobs_next_run_time", "next_run_time"),
)
