"""APScheduler's SQLAlchemyJobStore, with the bulk operations reconciliation needs.

Reconciling 100,000 timers one `add_job` at a time would be 100,000 transactions; these
methods do the same writes (APScheduler's own row format) in chunks. They are used only while
the scheduler is paused, so nothing processes jobs underneath them.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterable, Sequence

from apscheduler.job import Job
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.util import datetime_to_utc_timestamp
from sqlalchemy import func, select

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

    def put_jobs(self, jobs: Sequence[Job]) -> None:
        """Insert or replace these jobs, in one transaction."""
        table = self.jobs_t
        with self.engine.begin() as connection:
            for start in range(0, len(jobs), CHUNK):
                chunk = jobs[start : start + CHUNK]
                connection.execute(table.delete().where(table.c.id.in_([j.id for j in chunk])))
                connection.execute(
                    table.insert(),
                    [
                        {
                            "id": job.id,
                            "next_run_time": datetime_to_utc_timestamp(job.next_run_time),
                            "job_state": pickle.dumps(job.__getstate__(), self.pickle_protocol),
                        }
                        for job in chunk
                    ],
                )

    def delete_jobs(self, ids: Sequence[str]) -> None:
        table = self.jobs_t
        with self.engine.begin() as connection:
            for start in range(0, len(ids), CHUNK):
                connection.execute(
                    table.delete().where(table.c.id.in_(list(ids[start : start + CHUNK])))
                )

    def shutdown(self) -> None:
        # The engine is the service's shared one: leave it open for everything else.
        pass
