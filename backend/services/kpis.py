"""The workflows' impact metrics, measured from what the product records: lead capture and
response times, conversion, holds and waitlist offers, incident response, notices delivered,
messages answered (nothing lost) and the guests' ratings. One report for a date range (the
operator's calendar days, both ends included), as a page, JSON or CSV.

Percentiles interpolate between ranks, as PostgreSQL's `percentile_cont` does."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.config import get_settings
from backend.models import (
    Booking,
    Hold,
    InboundMessage,
    Incident,
    Lead,
    LedgerKind,
    LedgerMethod,
    OutboundMessage,
    Staff,
    WaitlistEntry,
)
from backend.services import feedback, ledger, message_prices
from backend.services.ledger_export import decimal_text, totals_of


def percentile(values: Iterable[float], fraction: float) -> float | None:
    ordered = sorted(values)
    if not ordered:
        return None
    position = (len(ordered) - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    value = ordered[low] + (ordered[high] - ordered[low]) * (position - low)
    return round(value, 1)


@dataclass(frozen=True)
class Spread:
    """Minutes: how many, the median and the 90th percentile."""

    count: int
    p50: float | None
    p90: float | None

    @classmethod
    def of(cls, minutes: list[float]) -> Spread:
        return cls(len(minutes), percentile(minutes, 0.5), percentile(minutes, 0.9))


def _minutes(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 60


def _rate(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


@dataclass
class Report:
    since: date
    until: date
    leads: int = 0
    enquiry_to_lead_seconds: Spread = field(default_factory=lambda: Spread(0, None, None))
    first_contact: Spread = field(default_factory=lambda: Spread(0, None, None))
    to_quote: Spread = field(default_factory=lambda: Spread(0, None, None))
    first_contact_by_rep: dict[str, Spread] = field(default_factory=dict)
    to_quote_by_rep: dict[str, Spread] = field(default_factory=dict)
    contacted_within_sla: float | None = None
    funnel: dict[str, int] = field(default_factory=dict)
    conversion: dict[str, float | None] = field(default_factory=dict)
    holds: dict[str, Any] = field(default_factory=dict)
    waitlist: dict[str, Any] = field(default_factory=dict)
    incidents: int = 0
    acknowledge_by_severity: dict[str, Spread] = field(default_factory=dict)
    resolve_by_severity: dict[str, Spread] = field(default_factory=dict)
    notices: dict[str, Any] = field(default_factory=dict)
    inbound: dict[str, Any] = field(default_factory=dict)
    satisfaction: dict[str, Any] = field(default_factory=dict)
    weeks: list[dict[str, Any]] = field(default_factory=list)
    # Money collected by method and currency (payments and surcharges; credits are not
    # money): only for those who may see payments (`report(..., with_money=True)`).
    collected: list[dict[str, Any]] = field(default_factory=list)
    # What the WhatsApp messages delivered in the range cost (Meta's per-message prices), by
    # month, purpose and country: with the money too (`message_prices.spend`).
    spend: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["since"], data["until"] = self.since.isoformat(), self.until.isoformat()
        return data

    def rows(self) -> Iterator[tuple[str, str, Any]]:
        """Flat (metric, group, value) rows for the CSV."""
        yield "leads", "all", self.leads
        for name, spread in (
            ("enquiry_to_lead_seconds", self.enquiry_to_lead_seconds),
            ("lead_to_first_contact_minutes", self.first_contact),
            ("lead_to_quote_minutes", self.to_quote),
        ):
            yield f"{name}_p50", "all", spread.p50
            yield f"{name}_p90", "all", spread.p90
        for rep, spread in self.first_contact_by_rep.items():
            yield "lead_to_first_contact_minutes_p50", rep, spread.p50
        for rep, spread in self.to_quote_by_rep.items():
            yield "lead_to_quote_minutes_p50", rep, spread.p50
        yield "contacted_within_sla_percent", "all", self.contacted_within_sla
        for key, value in {**self.funnel, **self.conversion, **self.holds, **self.waitlist}.items():
            yield key, "all", value
        for severity, spread in self.acknowledge_by_severity.items():
            yield "incident_acknowledge_minutes_p50", severity, spread.p50
            yield "incident_acknowledge_minutes_p90", severity, spread.p90
        for severity, spread in self.resolve_by_severity.items():
            yield "incident_resolve_minutes_p50", severity, spread.p50
            yield "incident_resolve_minutes_p90", severity, spread.p90
        for key, value in {**self.notices, **self.inbound}.items():
            yield key, "all", value
        yield "rating_average", "all", self.satisfaction.get("average")
        yield "ratings", "all", self.satisfaction.get("ratings")
        yield "rating_response_rate", "all", self.satisfaction.get("response_rate")
        for row in self.collected:
            group = f"{row['method']}:{row['currency']}"
            yield "collected_entries", group, row["count"]
            yield "collected_amount", group, decimal_text(row["amount_minor"])
            yield "collected_base_amount", group, decimal_text(row["base_amount_minor"])
        if self.spend:
            yield "whatsapp_messages_delivered", "all", self.spend["messages"]
            yield "whatsapp_messages_billable", "all", self.spend["billable"]
            yield "whatsapp_messages_unpriced", "all", self.spend["unpriced"]
            for currency, amount in self.spend["total"].items():
                yield "whatsapp_spend", currency, amount
            for key, name in (
                ("byMonth", "month"),
                ("byPurpose", "purpose"),
                ("byCountry", "country"),
            ):
                for line in self.spend[key]:
                    yield (
                        f"whatsapp_spend_by_{name}",
                        f"{line[name]}:{line['currency']}",
                        line["amount"],
                    )


def _bounds(since: date, until: date) -> tuple[datetime, datetime]:
    tz = get_settings().tz
    return (
        datetime.combine(since, time.min, tzinfo=tz),
        datetime.combine(until + timedelta(days=1), time.min, tzinfo=tz),
    )


def report(session: Session, since: date, until: date, *, with_money: bool = False) -> Report:
    """The range's figures; `with_money`: the money collected and the WhatsApp spend too (OPS
    and ADMIN see it)."""
    start, end = _bounds(since, until)
    result = Report(since, until)
    _leads(session, result, start, end)
    _holds_and_waitlist(session, result, start, end)
    _incidents(session, result, start, end)
    _messages(session, result, start, end)
    summary = feedback.satisfaction(session, since=start, until=end)
    result.satisfaction = {
        "ratings": summary["count"],
        "average": summary["average"],
        "response_rate": summary["responseRate"],
        "distribution": summary["distribution"],
    }
    if with_money:
        result.collected = collected(session, start, end)
        result.spend = message_prices.spend(session, start, end).as_dict()
    return result


def collected(session: Session, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Money in (payments and surcharges) recorded in [start, end), by method and currency:
    entries, the amount received and its value in the base currency. Credits spent are not
    money collected; refunds are money out."""
    entries = [
        e
        for e in ledger.between(session, start, end)
        if e.kind in (LedgerKind.PAYMENT, LedgerKind.SURCHARGE) and e.method != LedgerMethod.CREDIT
    ]
    return [asdict(total) for total in totals_of(entries)]


def _leads(session: Session, result: Report, start: datetime, end: datetime) -> None:
    found = list(
        session.scalars(
            select(Lead)
            .where(Lead.created_at >= start, Lead.created_at < end)
            .order_by(Lead.created_at)
        )
    )
    result.leads = len(found)
    names = {s.id: s.name for s in session.scalars(select(Staff))}
    contact, quote = [], []
    contact_by: dict[str, list[float]] = defaultdict(list)
    quote_by: dict[str, list[float]] = defaultdict(list)
    sla = get_settings().lead_sla_hours * 60
    for lead in found:
        rep = names.get(lead.assigned_staff_id or "", "unassigned")
        if lead.contacted_at:
            contact.append(_minutes(lead.created_at, lead.contacted_at))
            contact_by[rep].append(contact[-1])
        if lead.quoted_at:
            quote.append(_minutes(lead.created_at, lead.quoted_at))
            quote_by[rep].append(quote[-1])
    result.first_contact = Spread.of(contact)
    result.to_quote = Spread.of(quote)
    result.first_contact_by_rep = {rep: Spread.of(v) for rep, v in sorted(contact_by.items())}
    result.to_quote_by_rep = {rep: Spread.of(v) for rep, v in sorted(quote_by.items())}
    result.contacted_within_sla = _rate(sum(1 for m in contact if m <= sla), len(found))
    result.enquiry_to_lead_seconds = Spread.of(_capture_seconds(session, found))

    lead_ids = [lead.id for lead in found]
    held = (
        {
            b.lead_id: b
            for b in session.scalars(select(Booking).where(Booking.lead_id.in_(lead_ids)))
            if b.lead_id
        }
        if lead_ids
        else {}
    )
    quoted = sum(1 for lead in found if lead.quoted_at)
    paid = sum(1 for b in held.values() if b.paid_minor > 0)
    result.funnel = {
        "leads": len(found),
        "quoted": quoted,
        "held": len(held),
        "paid": paid,
        "lost": sum(1 for lead in found if lead.status == "LOST"),
    }
    result.conversion = {
        "lead_to_quote_percent": _rate(quoted, len(found)),
        "quote_to_hold_percent": _rate(len(held), quoted),
        "hold_to_paid_percent": _rate(paid, len(held)),
    }
    weeks: dict[date, dict[str, Any]] = {}
    tz = get_settings().tz
    for lead in found:
        day = lead.created_at.astimezone(tz).date()
        monday = day - timedelta(days=day.weekday())
        week = weeks.setdefault(monday, {"week": monday.isoformat(), "leads": 0, "contact": []})
        week["leads"] += 1
        if lead.contacted_at:
            week["contact"].append(_minutes(lead.created_at, lead.contacted_at))
    result.weeks = [
        {"week": w["week"], "leads": w["leads"], "first_contact_p50": percentile(w["contact"], 0.5)}
        for _, w in sorted(weeks.items())
    ]


def _capture_seconds(session: Session, found: list[Lead]) -> list[float]:
    """For each lead: from the customer's message that opened it to the lead on file."""
    seconds = []
    for lead in found:
        opened_by = session.scalar(
            select(InboundMessage.stored_at)
            .where(
                InboundMessage.from_phone == lead.contact.address,
                InboundMessage.stored_at <= lead.created_at,
                InboundMessage.stored_at > lead.created_at - timedelta(hours=1),
            )
            .order_by(InboundMessage.stored_at.desc())
            .limit(1)
        )
        if opened_by is not None:
            seconds.append((lead.created_at - opened_by).total_seconds())
    return seconds


def _holds_and_waitlist(session: Session, result: Report, start: datetime, end: datetime) -> None:
    holds = list(
        session.scalars(select(Hold).where(Hold.created_at >= start, Hold.created_at < end))
    )
    closed = [h for h in holds if h.status != "ACTIVE"]
    expired = sum(1 for h in closed if h.status == "EXPIRED")
    result.holds = {
        "holds": len(holds),
        "holds_converted": sum(1 for h in closed if h.status == "CONVERTED"),
        "holds_expired": expired,
        "hold_expiry_percent": _rate(expired, len(closed)),
    }
    offers = list(
        session.scalars(
            select(WaitlistEntry).where(
                WaitlistEntry.offered_at >= start, WaitlistEntry.offered_at < end
            )
        )
    )
    accepted = sum(1 for w in offers if w.status == "ACCEPTED")
    lapsed = sum(1 for w in offers if w.status == "EXPIRED")
    result.waitlist = {
        "waitlist_offers": len(offers),
        "waitlist_offers_accepted": accepted,
        "waitlist_offers_expired": lapsed,
        "waitlist_accept_percent": _rate(accepted, accepted + lapsed),
    }


def _incidents(session: Session, result: Report, start: datetime, end: datetime) -> None:
    found = list(
        session.scalars(
            select(Incident).where(Incident.reported_at >= start, Incident.reported_at < end)
        )
    )
    result.incidents = len(found)
    acknowledge: dict[str, list[float]] = defaultdict(list)
    resolve: dict[str, list[float]] = defaultdict(list)
    for incident in found:
        if incident.acknowledged_at:
            acknowledge[incident.severity].append(
                _minutes(incident.reported_at, incident.acknowledged_at)
            )
        if incident.resolved_at:
            resolve[incident.severity].append(_minutes(incident.reported_at, incident.resolved_at))
    order = ["CRITICAL", "HIGH", "MEDIUM", "LOW"]
    result.acknowledge_by_severity = {
        s: Spread.of(acknowledge[s]) for s in order if s in acknowledge
    }
    result.resolve_by_severity = {s: Spread.of(resolve[s]) for s in order if s in resolve}


def _messages(session: Session, result: Report, start: datetime, end: datetime) -> None:
    notices = list(
        session.scalars(
            select(OutboundMessage.status).where(
                OutboundMessage.purpose == "customer_update",
                OutboundMessage.created_at >= start,
                OutboundMessage.created_at < end,
            )
        )
    )
    result.notices = {
        "guest_notices": len(notices),
        "guest_notices_delivered": sum(1 for s in notices if s in ("delivered", "read")),
        "guest_notices_read": sum(1 for s in notices if s == "read"),
        "guest_notices_failed": sum(1 for s in notices if s == "failed"),
    }
    inbound = list(
        session.execute(
            select(InboundMessage.status, InboundMessage.attempts).where(
                InboundMessage.stored_at >= start, InboundMessage.stored_at < end
            )
        )
    )
    by_status: dict[str, int] = defaultdict(int)
    for status, _ in inbound:
        by_status[status] += 1
    # Nothing is deleted: every message stored is answered, failed (and retried from the
    # console or `POST /api/inbox/retry`) or waiting its turn; the page shows all three.
    result.inbound = {
        "inbound_messages": len(inbound),
        "inbound_answered": by_status.get("DONE", 0),
        "inbound_retried": sum(1 for _, attempts in inbound if attempts > 1),
        "inbound_failed_now": by_status.get("FAILED", 0),
        "inbound_waiting": by_status.get("PENDING", 0) + by_status.get("PROCESSING", 0),
    }
