"""`python -m backend.server`: the backend server in the foreground (webhook, admin API, console,
customer pages and the workers). Not to be confused with `backend/services/`, the business rules."""

from __future__ import annotations

import gc
from functools import partial
from typing import Any

from sanic import Sanic
from sanic.worker.loader import AppLoader

from backend.app import create_app
from backend.config import Settings, get_settings, start_or_refuse


def serving_app(settings: Settings) -> Sanic:
    app = create_app(settings, workers=settings.workers_enabled)
    app.after_server_start(freeze_startup_heap)
    return app


async def freeze_startup_heap(app: Sanic) -> None:
    """Keep the garbage collector's pauses out of the webhook's answer times.

    What startup built (models, routes, templates) lives as long as the process: frozen, a
    full collection no longer walks it (it paused every request in flight for 150-650 ms
    under load). Collections then run less often: a request leaves little cyclic garbage, and
    each full collection of what came since still paused for 5-25 ms, every few seconds at
    1,000 webhooks/s (enough to set the p99 on its own)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 50, 100)  # CPython's defaults: 700, 10, 10


def main() -> None:
    settings = get_settings()
    start_or_refuse(settings, "backend")
    options: dict[str, Any] = {
        "host": settings.backend_host,
        "port": settings.backend_port,
        "access_log": False,
        "motd": False,
    }
    if settings.backend_processes == 1:
        serving_app(settings).run(single_process=True, **options)
        return
    # Several processes on one port: Sanic starts each from the factory in a process of its
    # own. What runs in each (the webhook writer, the inbox worker, the sender, the scheduler
    # runner) is already safe several times over: rows are claimed with SKIP LOCKED, dedupe is
    # in the database, one scheduler is elected.
    loader = AppLoader(factory=partial(serving_app, settings))
    app = loader.load()
    app.prepare(workers=settings.backend_processes, **options)
    Sanic.serve(primary=app, app_loader=loader)


if __name__ == "__main__":
    main()
