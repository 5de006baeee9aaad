"""The backend service (Sanic): the WhatsApp webhook, the admin API, the payment webhook,
health and metrics, with the inbox worker and outbox sender running in its loop."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from typing import Any

import httpx
from sanic import Request, Sanic, response
from sqlalchemy import text

from backend.api import campaigns as _campaigns_api  # noqa: F401  (campaigns, the limit)
from backend.api import cash as _cash_api  # noqa: F401  (POST /api/payments/cash on `api`)
from backend.api import data_requests as _data_requests_api  # noqa: F401  (privacy requests)
from backend.api import disruption as _disruption_api  # noqa: F401  (a booking to another date)
from backend.api import incident_rescue as _rescue_api  # noqa: F401  (checklist, dossier)
from backend.api import message_rates as _message_rates_api  # noqa: F401  (Meta's prices)
from backend.api import money_admin as _money_admin  # noqa: F401  (rates, the policy)
from backend.api import proofs as _proofs  # noqa: F401  (the payment proofs' routes)
from backend.api import refunds as _refunds_api  # noqa: F401  (a booking's refunds)
from backend.api import translations as _translations_api  # noqa: F401  (the copy's wording)
from backend.api import traveller_exports as _traveller_exports  # noqa: F401  (its PDFs)
from backend.api import travellers as _travellers_api  # noqa: F401  (the traveller file)
from backend.api import trek_texts as _trek_texts_api  # noqa: F401  (a trek's texts)
from backend.api.common import ApiError, authenticate, error_response
from backend.api.openapi import document as openapi_document
from backend.api.payments_webhook import payments_bp, stripe_bp
from backend.api.routes import api
from backend.config import Settings, get_settings
from backend.console import live as _console_live  # noqa: F401  (the event stream's route)
from backend.console.routes import console_bp
from backend.db import transaction
from backend.http_common import access
from backend.mail.sender import MailSender
from backend.metrics import CONTENT_TYPE, ProductMetrics
from backend.scheduler.leader import SchedulerRunner
from backend.services import payment_methods, translations
from backend.supervision import restart_report
from backend.web import limits
from backend.web.pages import pages_bp, pay_bp
from backend.web.papers import papers_bp
from backend.whatsapp import inbox, limit_sync, signature
from backend.whatsapp.client import GraphClient
from backend.whatsapp.inbox_worker import InboxWorker, RasaClient
from backend.whatsapp.ingest import IngestWriter
from backend.whatsapp.media import MediaFetcher
from backend.whatsapp.sender import OutboxSender

logger = logging.getLogger(__name__)
_names = itertools.count(1)


def create_app(settings: Settings | None = None, *, workers: bool = True) -> Sanic:
    settings = settings or get_settings()
    app = Sanic(f"tms_backend_{next(_names)}")
    app.config.KEEP_ALIVE_TIMEOUT = 30
    app.ctx.settings = settings
    app.ctx.metrics = product_metrics = ProductMetrics(app.ctx)
    app.ctx.workers_enabled = workers
    # Behind the reverse proxy the client's address comes from X-Forwarded-For (rate limits).
    app.config.PROXIES_COUNT = settings.trusted_proxies
    limits.install_body_limits(app)
    app.ctx.page_limiter = (
        limits.RateLimiter(settings.page_requests_per_minute, 60.0)
        if settings.page_requests_per_minute > 0
        else None
    )
    app.ctx.checkout_limiter = (
        limits.RateLimiter(settings.checkout_requests_per_hour, 3600.0)
        if settings.checkout_requests_per_hour > 0
        else None
    )

    if settings.is_production:

        @app.on_response
        async def strict_transport_security(request: Request, resp) -> None:
            # Browsers that once reached us over https never try plain http again.
            resp.headers.setdefault(
                "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
            )

    @app.get("/webhooks/whatsapp")
    @access("Meta's subscription handshake: answers only the verify token")
    async def verify(request: Request):
        if request.args.get("hub.mode") == "subscribe" and signature.token_matches(
            request.args.get("hub.verify_token"), settings.whatsapp_verify_token
        ):
            return response.text(request.args.get("hub.challenge", ""))
        return response.text("forbidden", status=403)

    # One writer per process (per Sanic worker): concurrent webhooks share a transaction.
    app.ctx.ingest = ingest_writer = IngestWriter()

    @app.post("/webhooks/whatsapp")
    @access("Meta: the body signed with the app secret (X-Hub-Signature-256)")
    async def receive(request: Request):
        raw = request.body or b""
        header = request.headers.get("x-hub-signature-256")
        if not header:
            product_metrics.rejected.labels("signature").inc()
            return response.json({"error": "missing X-Hub-Signature-256"}, status=401)
        if not signature.signature_valid(raw, header, settings.whatsapp_app_secret):
            product_metrics.rejected.labels("signature").inc()
            return response.json({"error": "invalid signature"}, status=403)
        try:
            payload = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            product_metrics.rejected.labels("malformed").inc()
            return response.json({"error": "body is not JSON"}, status=400)
        try:
            # Checked whole before any write: a malformed body leaves nothing behind.
            parsed = inbox.parse_webhook(payload, settings.whatsapp_phone_number_id)
        except inbox.MalformedPayload as exc:
            product_metrics.rejected.labels("malformed").inc()
            return response.json({"error": str(exc)}, status=400)
        # Returns once the rows are committed (group commit with concurrent webhooks).
        result = await ingest_writer.store(parsed)
        product_metrics.inbound.inc(result.messages_new)
        product_metrics.duplicates.inc(result.messages_duplicate)
        product_metrics.statuses.inc(result.statuses_new)
        if result.messages_new and getattr(app.ctx, "inbox_wakeup", None):
            app.ctx.inbox_wakeup.set()
        return response.json(
            {
                "stored": result.messages_new,
                "duplicates": result.messages_duplicate,
                "statuses": result.statuses_new,
            }
        )

    @app.after_server_stop
    async def stop_ingest(app: Sanic) -> None:
        await app.ctx.ingest.aclose()  # what was handed to the writer is written first

    app.blueprint(api)
    if settings.payment_provider == "local":
        # The local provider's webhook marks bookings paid from a shared secret: with Stripe
        # (or no provider) it is not there to be tried.
        app.blueprint(payments_bp)
    app.blueprint(pages_bp)
    app.blueprint(papers_bp)
    app.blueprint(console_bp)
    if settings.payment_provider in ("local", "stripe") or payment_methods.proof_methods_enabled(
        settings
    ):
        app.blueprint(pay_bp)  # no provider and no transfer or card link: no pay pages
    if settings.payment_provider == "stripe":
        app.blueprint(stripe_bp)

    @app.get("/api/openapi.json")
    @access("public with OPENAPI_PUBLIC (development's default); else any staff API token")
    async def openapi(request: Request):
        if not settings.openapi_public:
            refused = await asyncio.to_thread(_staff_token_refusal, request)
            if refused is not None:
                return refused
        return response.json(openapi_document(request.app))

    @app.get("/healthz")
    @access("public: ok/degraded per part, no details")
    async def healthz(request: Request):
        checks = await _health(settings)
        ok = all(v == "ok" for v in checks.values())
        runner = getattr(app.ctx, "scheduler", None)
        return response.json(
            {
                "status": "ok" if ok else "degraded",
                "checks": checks,
                # leader | standby | stopped; "disabled" when SCHEDULER_ENABLED=0
                "scheduler": runner.role if runner is not None else "disabled",
                # What `tms serve` restarted, part by part (absent without its supervisor).
                **_supervised_parts(),
            },
            status=200 if ok else 503,
        )

    @app.get("/metrics")
    @access("the metrics token (always in production); unset in development: anyone local")
    async def metrics(request: Request):
        # Production refuses to start without a token; an empty one then matches nothing.
        needs_token = bool(settings.metrics_token) or settings.is_production
        if needs_token and not signature.token_matches(
            request.headers.get("authorization", "").removeprefix("Bearer ").strip(),
            settings.metrics_token,
        ):
            return response.text("a metrics token is required", status=401)
        return response.raw(
            await asyncio.to_thread(product_metrics.render), content_type=CONTENT_TYPE
        )

    @app.after_server_start
    async def load_staff_wording(app: Sanic) -> None:
        await asyncio.to_thread(translations.load_at_start)  # the Translations page's words

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
        app.ctx.rasa = RasaClient(settings.rasa_urls, secret=settings.rasa_channel_secret)
        app.ctx.inbox_worker = InboxWorker(
            app.ctx.rasa, settings, on_processed=product_metrics.processing.observe
        )
        app.ctx.sender = OutboxSender(app.ctx.graph, settings)
        app.ctx.mail = MailSender(settings)
        app.ctx.media = MediaFetcher(app.ctx.graph, settings)
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
            asyncio.create_task(app.ctx.mail.run(app.ctx.stop, idle_sleep=1.0)),
            asyncio.create_task(app.ctx.media.run(app.ctx.stop, idle_sleep=1.0)),
            asyncio.create_task(limit_sync.read_at_start(app.ctx.graph)),  # Meta's limit
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


def _supervised_parts() -> dict[str, Any]:
    report = restart_report()
    if report is None:
        return {}
    parts = {
        name: {"state": part.get("state"), "restarts": part.get("restarts", 0)}
        for name, part in report["parts"].items()
        if isinstance(part, dict)
    }
    return {"parts": parts}


async def _health(settings: Settings) -> dict[str, str]:
    checks: dict[str, str] = {}
    try:
        await asyncio.to_thread(_ping_db)
        checks["database"] = "ok"
    except Exception:
        # The reason goes to the log, not to whoever asks /healthz.
        logger.exception("healthz: the database does not answer")
        checks["database"] = "error"
    async with httpx.AsyncClient(timeout=3) as client:
        parts = [(f"rasa {i + 1}", f"{url}/") for i, url in enumerate(settings.rasa_urls)]
        if len(parts) == 1:
            parts = [("rasa", parts[0][1])]
        for name, url in (*parts, ("action_server", f"{settings.action_server_url}/health")):
            try:
                answer = await client.get(url)
                checks[name] = "ok" if answer.status_code < 500 else f"HTTP {answer.status_code}"
            except httpx.HTTPError:
                checks[name] = "unreachable"
    return checks


def _staff_token_refusal(request: Request):
    """None when the request carries a valid staff API token (any role), else the API's 401."""
    try:
        with transaction() as session:
            authenticate(session, request)
    except ApiError as exc:
        return error_response(exc.status, str(exc))
    return None


def _ping_db() -> None:
    with transaction() as session:
        session.execute(text("SELECT 1"))
