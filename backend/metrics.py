"""What `/metrics` shows, with prometheus-client: counters the webhook moves, a latency
histogram the inbox worker feeds, and, read at each scrape, the queues' depths, the sender's
totals and the scheduler's state. One registry per app (tests run several in one process)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from backend.db import read_transaction
from backend.services import mail_outbox
from backend.whatsapp import inbox
from backend.whatsapp.sender import outbox_depth

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class ProductMetrics:
    def __init__(self, app_ctx: Any) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.inbound = Counter(
            "tms_inbound_messages", "WhatsApp messages stored from webhooks", registry=self.registry
        )
        self.duplicates = Counter(
            "tms_inbound_duplicates",
            "Webhook messages already stored (deduplicated)",
            registry=self.registry,
        )
        self.statuses = Counter(
            "tms_status_events", "Delivery status events stored", registry=self.registry
        )
        self.rejected = Counter(
            "tms_webhook_rejected", "Webhooks rejected", ["reason"], registry=self.registry
        )
        for reason in ("signature", "malformed"):
            self.rejected.labels(reason)
        self.processing = Histogram(
            "tms_inbox_processing_seconds",
            "Time from storing a message to its replies being queued",
            buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0),
            registry=self.registry,
        )
        self.registry.register(_LiveState(app_ctx))

    def render(self) -> bytes:
        """The exposition text (reads the database: call it off the event loop)."""
        return generate_latest(self.registry)


class _LiveState(Collector):
    """Read at each scrape: queue depths, the sender's totals, the scheduler's state."""

    def __init__(self, app_ctx: Any) -> None:
        self.app_ctx = app_ctx

    def describe(self) -> list[Metric]:
        return []  # collected live; nothing to check at registration

    def collect(self) -> Iterator[Metric]:
        with read_transaction() as session:
            inbox_depth = inbox.queue_depth(session)
            out_depth = outbox_depth(session)
            mail_depth = mail_outbox.depth(session)
        yield _gauge("tms_inbox_messages", "Inbox rows by status", "status", inbox_depth)
        yield _gauge("tms_outbox_messages", "Outbox rows by status", "status", out_depth)
        yield _gauge("tms_email_messages", "Mail outbox rows by status", "status", mail_depth)
        sender = getattr(self.app_ctx, "sender", None)
        if sender is not None:
            yield CounterMetricFamily(
                "tms_outbound_sent", "Messages accepted by the Graph API", value=sender.sent
            )
            yield CounterMetricFamily(
                "tms_outbound_failed", "Messages that failed for good", value=sender.failed
            )
            yield CounterMetricFamily(
                "tms_outbox_record_failures",
                "Batches whose outcomes could not be recorded at once (retried, logged)",
                value=sender.record_failures,
            )
        runner = getattr(self.app_ctx, "scheduler", None)
        if runner is None:
            return
        yield GaugeMetricFamily(
            "tms_scheduler_leader",
            "1 when this process runs the scheduler (holds the advisory lock)",
            value=1 if runner.is_leader else 0,
        )
        service = runner.service
        if service is None:
            return
        yield GaugeMetricFamily(
            "tms_scheduler_jobs", "Timer jobs in the job store", value=service.store.count()
        )
        timers = CounterMetricFamily(
            "tms_timers",
            "Timers run, by kind and outcome (done, noop, skipped, failed)",
            labels=["kind", "outcome"],
        )
        for (kind, outcome), count in sorted(dict(service.outcomes).items()):
            timers.add_metric([kind, outcome], count)
        yield timers


def _gauge(name: str, help_text: str, label: str, values: dict[str, int]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, help_text, labels=[label])
    for key, value in sorted(values.items()):
        family.add_metric([key], value)
    return family
