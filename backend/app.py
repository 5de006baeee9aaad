"""The backend service (Sanic): the WhatsApp webhook, the admin API, the payment webhook,
health and metrics, with the inbox worker and outbox sender running in its loop."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import statistics
from typing import Any

import httpx
from sanic import Request, Sanic, response
from sqlalchemy import text

from backend.api.openapi import document as openapi_document
from backend.api.payments_webhook import payments_bp
from backend.api.routes import api
from backend.config import Settings, get_settings
from backend.db import transaction
from backend.scheduler.leader import SchedulerRunner
from backend.whatsapp import inbox, signature, statuses
from backend.whatsapp.client import GraphClient
from backend.whatsapp.inbox_worker import InboxWorker, RasaClient
from backend.whatsapp.sender import OutboxSender, outbox_depth

logger = logging.getLogger(__name__)
_names = itertools.count(1)


def create_app(settings: Settings | None = None, *, workers: bool = True) -> Sanic:
    settings = settings or get_settings()
    app = Sanic(f"tms_backend_{next(_names)}")
    app.config.KEEP_ALIVE_TIMEOUT = 30
    app.ctx.settings = settings
    app.ctx.counters = {
        "inbound_messages": 0,
        "inbound_duplicates": 0,
        "statuses": 0,
        "rejected_signature": 0,
        "malformed": 0,
    }
    app.ctx.workers_enabled = workers

    @app.get("/webhooks/whatsapp")
    async def verify(request: Request):  # type: ignore[no-untyped-def]
        if request.args.get("hub.mode") == "subscribe" and signature.token_matches(
            request.args.get("hub.verify_token"), settings.whatsapp_verify_token
        ):
            return response.text(request.args.get("hub.challenge", ""))
        return response.text("forbidden", status=403)

    @app.post("/webhooks/whatsapp")
    async def receive(request: Request):  # type: ignore[no-untyped-def]
        raw = request.body or b""
        header = request.headers.get("x-hub-signature-256")
        if not header:
            app.ctx.counters["rejected_signature"] += 1
            return response.json({"error": "missing X-Hub-Signature-256"}, status=401)
        if not signature.signature_valid(raw, header, settings.whatsapp_app_secret):
            app.ctx.counters["rejected_signature"] += 1
            return response.json({"error": "invalid signature"}, status=403)
        try:
            payload = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            app.ctx.counters["malformed"] += 1
            return response.json({"error": "body is not JSON"}, status=400)
        try:
            result = await asyncio.to_thread(_store, payload, settings.whatsapp_phone_number_id)
        except inbox.MalformedPayload as exc:
            app.ctx.counters["malformed"] += 1
            return response.json({"error": str(exc)}, status=400)
        app.ctx.counters["inbound_messages"] += result.messages_new
        app.ctx.counters["inbound_duplicates"] += result.messages_duplicate
        app.ctx.counters["statuses"] += result.statuses_new
        if result.messages_new and getattr(app.ctx, "inbox_wakeup", None):
            app.ctx.inbox_wakeup.set()
        return response.json(
            {
                "stored": result.messages_new,
                "duplicates": result.messages_duplicate,
                "statuses": result.statuses_new,
            }
        )

    app.blueprint(api)
    app.blueprint(payments_bp)

    @app.get("/api/openapi.json")
    async def openapi(request: Request):  # type: ignore[no-untyped-def]
        return response.json(openapi_document())

    @app.get("/healthz")
    async def healthz(request: Request):  # type: ignore[no-untyped-def]
        checks = await _health(settings)
        ok = all(v == "ok" for v in checks.values())
        runner = getattr(app.ctx, "scheduler", None)
        return response.json(
            {
                "status": "ok" if ok else "degraded",
                "checks": checks,
                # leader | standby | stopped; "disabled" when SCHEDULER_ENABLED=0
                "scheduler": runner.role if runner is not None else "disabled",
            },
            status=200 if ok else 503,
        )

    @app.get("/metrics")
    async def metrics(request: Request):  # type: ignore[no-untyped-def]
        return response.text(
            await asyncio.to_thread(_metrics_text, app), content_type="text/plain; version=0.0.4"
        )

    @app.after_server_start
    async def start_workers(app: Sanic) -> None:
        if not app.ctx.workers_enabled:
            return
        app.ctx.stop = asyncio.Event()
        app.ctx.inbox_wakeup = asyncio.Event()
        app.ctx.sender_wakeup = asyncio.Event()
        app.ctx.graph = GraphClient(
            settings.whatsapp_api_base_url,
            settings.whatsapp_phone_number_id,
            settings.whatsapp_access_token,
        )
        app.ctx.rasa = RasaClient(settings.rasa_url)
        app.ctx.inbox_worker = InboxWorker(app.ctx.rasa, settings)
        app.ctx.sender = OutboxSender(app.ctx.graph, settings)
        app.ctx.scheduler = None
        if settings.scheduler_enabled:
            app.ctx.scheduler = SchedulerRunner(settings)
            app.ctx.scheduler.start()
        app.ctx.tasks = [
            asyncio.create_task(
                app.ctx.inbox_worker.run(
                    app.ctx.stop,
                    idle_sleep=0.5,
                    wakeup=app.ctx.inbox_wakeup,
                    replies_queued=app.ctx.sender_wakeup,
                )
            ),
            asyncio.create_task(
                app.ctx.sender.run(app.ctx.stop, idle_sleep=0.5, wakeup=app.ctx.sender_wakeup)
            ),
        ]

    @app.before_server_stop
    async def stop_workers(app: Sanic) -> None:
        if not app.ctx.workers_enabled or not hasattr(app.ctx, "stop"):
            return
        app.ctx.stop.set()
        if app.ctx.scheduler is not None:
            await asyncio.to_thread(app.ctx.scheduler.stop)
        await asyncio.gather(*app.ctx.tasks, return_exceptions=True)
        await app.ctx.graph.aclose()
        await app.ctx.rasa.aclose()

    return app


def _store(payload: Any, phone_number_id: str) -> inbox.StoreResult:
    with transaction() as session:
        result = inbox.store_webhook(session, payload, phone_number_id)
        statuses.apply_pending(session, result.new_status_wamids)
        return result


async def _health(settings: Settings) -> dict[str, str]:
    checks: dict[str, str] = {}
    try:
        await asyncio.to_thread(_ping_db)
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {exc}"[:200]
    async with httpx.AsyncClient(timeout=3) as client:
        for name, url in (
            ("rasa", f"{settings.rasa_url}/"),
            ("action_server", f"{settings.action_server_url}/health"),
        ):
            try:
                answer = await client.get(url)
                checks[name] = "ok" if answer.status_code < 500 else f"HTTP {answer.status_code}"
            except httpx.HTTPError as exc:
                checks[name] = f"unreachable: {type(exc).__name__}"
    return checks


def _ping_db() -> None:
    with transaction() as session:
        session.execute(text("SELECT 1"))


def _metrics_text(app: Sanic) -> str:
    with transaction() as session:
        inbox_depth = inbox.queue_depth(session)
    out_depth = outbox_depth()
    lines = []

    def metric(name: str, kind: str, help_text: str, samples: list[tuple[str, float]]) -> None:
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} {kind}")
        lines.extend(f"{name}{labels} {value}" for labels, value in samples)

    counters = app.ctx.counters
    metric(
        "tms_inbound_messages_total",
        "counter",
        "WhatsApp messages stored from webhooks",
        [("", counters["inbound_messages"])],
    )
    metric(
        "tms_inbound_duplicates_total",
        "counter",
        "Webhook messages already stored (deduplicated)",
        [("", counters["inbound_duplicates"])],
    )
    metric(
        "tms_status_events_total",
        "counter",
        "Delivery status events stored",
        [("", counters["statuses"])],
    )
    metric(
        "tms_webhook_rejected_total",
        "counter",
        "Webhooks rejected",
        [
            ('{reason="signature"}', counters["rejected_signature"]),
            ('{reason="malformed"}', counters["malformed"]),
        ],
    )
    metric(
        "tms_inbox_messages",
        "gauge",
        "Inbox rows by status",
        [(f'{{status="{k}"}}', v) for k, v in sorted(inbox_depth.items())],
    )
    metric(
        "tms_outbox_messages",
        "gauge",
        "Outbox rows by status",
        [(f'{{status="{k}"}}', v) for k, v in sorted(out_depth.items())],
    )
    worker = getattr(app.ctx, "inbox_worker", None)
    if worker is not None and worker.latencies:
        recent = worker.latencies[-1000:]
        quantiles = statistics.quantiles(recent, n=100) if len(recent) > 1 else [recent[0]] * 99
        metric(
            "tms_inbox_processing_seconds",
            "summary",
            "Time from storing a message to its replies being queued",
            [
                ('{quantile="0.5"}', round(quantiles[49], 4)),
                ('{quantile="0.99"}', round(quantiles[98], 4)),
                ("_count", len(worker.latencies)),
            ],
        )
    sender = getattr(app.ctx, "sender", None)
    if sender is not None:
        metric(
            "tms_outbound_sent_total",
            "counter",
            "Messages accepted by the Graph API",
            [("", sender.sent)],
        )
        metric(
            "tms_outbound_failed_total",
            "counter",
            "Messages that failed for good",
            [("", sender.failed)],
        )
    runner = getattr(app.ctx, "scheduler", None)
    if runner is not None:
        metric(
            "tms_scheduler_leader",
            "gauge",
            "1 when this process runs the scheduler (holds the advisory lock)",
            [("", 1 if runner.is_leader else 0)],
        )
        service = runner.service
        if service is not None:
            metric(
                "tms_scheduler_jobs",
                "gauge",
                "Timer jobs in the job store",
                [("", service.store.count())],
            )
            by_category: dict[tuple[str, str], int] = dict(service.outcomes)
            metric(
                "tms_timers_total",
                "counter",
                "Timers run, by kind and outcome (done, noop, skipped, failed)",
                [
                    (f'{{kind="{kind}",outcome="{category}"}}', count)
                    for (kind, category), count in sorted(by_category.items())
                ],
            )
    return "\n".join(lines) + "\n"
