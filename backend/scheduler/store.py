"""APScheduler's SQLAlchemyJobStore, with the bulk operations reconciliation needs.

Reconciling 100,000 timers one `add_job` at a time would be 100,000 transactions; these
methods do the same writes (APScheduler's own row format) in chunks. They are used only while
the scheduler is paused, so nothing processes jobs underneath them.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterable, Sequence
from typing import Any

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.util import datetime_to_utc_timestamp
from sqlalchemy import func, select, text

CHUNK = 2000


class TimerJobStore(SQLAlchemyJobStore):
    def run_times(self, ids: Iterable[str] | None = None) -> dict[str, float | None]:
        """Job id → next run time (a UTC timestamp), without unpickling any job."""
        table = self.jobs_t
        result: dict[str, float | None] = {}
        with self.engine.connect() as connection:
            if ids is None:
                query = select(table.c.id, table.c.next_run_time)
                result.update((row[0], row[1]) for row in connection.execute(query))
                return result
            wanted = list(ids)
            for start in range(0, len(wanted), CHUNK):
                query = select(table.c.id, table.c.next_run_time).where(
                    table.c.id.in_(wanted[start : start + CHUNK])
                )
                result.update((row[0], row[1]) for row in connection.execute(query))
        return result

    def count(self) -> int:
        with self.engine.connect() as connection:
            return int(connection.scalar(select(func.count()).select_from(self.jobs_t)) or 0)

    def put_jobs(self, jobs: Sequence[dict[str, Any]]) -> None:
        """Insert or replace jobs given as APScheduler job states (`Job.__getstate__()`'s
        format), in one transaction."""
        table = self.jobs_t
        with self.engine.begin() as connection:
            for start in range(0, len(jobs), CHUNK):
                chunk = jobs[start : start + CHUNK]
                connection.execute(table.delete().where(table.c.id.in_([j["id"] for j in chunk])))
                connection.execute(
                    table.insert(),
                    [
                        {
                            "id": state["id"],
                            "next_run_time": datetime_to_utc_timestamp(state["next_run_time"]),
                            "job_state": pickle.dumps(state, self.pickle_protocol),
                        }
                        for state in chunk
                    ],
                )

    def delete_jobs(self, ids: Sequence[str]) -> None:
        table = self.jobs_t
        with self.engine.begin() as connection:
            for start in range(0, len(ids), CHUNK):
                connection.execute(
                    table.delete().where(table.c.id.in_(list(ids[start : start + CHUNK])))
                )

    def remove_job(self, job_id: str) -> None:
        """As APScheduler's, but a row already gone is not an error: another process (a
        `tms timers run-due`, a scheduler stepping down) may have taken it, and an exception
        here would abort APScheduler's processing pass before it sets its next wake-up."""
        self.take(job_id)

    def take(self, job_id: str) -> bool:
        """Delete the job; True if this call removed it."""
        with self.engine.begin() as connection:
            result = connection.execute(self.jobs_t.delete().where(self.jobs_t.c.id == job_id))
            return bool(result.rowcount)

    def refresh_statistics(self) -> None:
        """After a bulk load: without fresh statistics PostgreSQL plans APScheduler's
        every-wakeup "what is due" query as a parallel scan (20 ms instead of under 1 ms at
        100,000 jobs) until autovacuum gets round to it."""
        if self.engine.dialect.name == "postgresql":
            with self.engine.connect() as connection:
                connection.execution_options(isolation_level="AUTOCOMMIT").execute(
                    text(f"ANALYZE {self.jobs_t.name}")
                )

    def shutdown(self) -> None:
        # The engine is the service's shared one: leave it open for everything else.
        pass
