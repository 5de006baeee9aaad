"""`make demo`: the whole product on the embedded defaults, playing the three workflows.

A fresh SQLite file, the fake Graph API and the local payment provider; the real backend,
Rasa server and action server. Customers and guides write through the fake Graph API (signed
webhooks, exactly as Meta sends them), staff act through the admin API, payments arrive as
signed webhooks. Every chat is printed as a transcript, then the final states.
"""

from __future__ import annotations

import os
import socket
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from backend.config import PROJECT_ROOT, get_settings
from backend.scheduler.kinds import local_moment
from backend.stack import Ports, Stack, product_parts, trained_model

WIDTH = 78


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Director:
    """Plays the people of the workflows and prints what they see."""

    def __init__(
        self, backend_url: str, fake_url: str, names: dict[str, str], tokens: dict[str, str]
    ) -> None:
        self.backend_url = backend_url
        self.fake_url = fake_url
        self.names = names
        self.tokens = tokens
        self.seen = 0

    def _stamp(self) -> str:
        return datetime.now(get_settings().tz).strftime("%H:%M:%S")

    def who(self, phone: str) -> str:
        return self.names.get(phone, phone)

    def print_block(self, header: str, text: str) -> None:
        print(f"[{self._stamp()}] {header}")
        for line in text.splitlines() or [""]:
            print(f"    {line}")

    def flush(
        self,
        wait_for: str | None = None,
        expect: int = 1,
        timeout: float = 60.0,
        settle: float = 1.2,
    ) -> None:
        """Print every message the product sent since the last call; wait until `expect`
        messages to `wait_for` arrived, then until things are quiet."""
        deadline = time.monotonic() + timeout
        got = 0
        quiet_until = time.monotonic() + settle
        while time.monotonic() < deadline:
            data = httpx.get(f"{self.fake_url}/_fake/messages", params={"since": self.seen}).json()
            for message in data["messages"]:
                phone = "+" + message["to"]
                if message["type"] == "template":
                    text = (
                        f"(template {message['template']}: outside the 24-hour window)\n"
                        + "\n".join(message["template_params"])
                    )
                else:
                    text = message["text"] or ""
                    if message.get("buttons"):
                        text += "\n" + "  ".join(f"[ {b} ]" for b in message["buttons"])
                self.print_block(f"WhatsApp → {self.who(phone)}", text)
                if wait_for and phone == wait_for:
                    got += 1
                quiet_until = time.monotonic() + settle
            self.seen = data["total"]
            if (not wait_for or got >= expect) and time.monotonic() > quiet_until:
                return
            time.sleep(0.15)
        if wait_for and got < expect:
            print(f"    (still waiting for a message to {self.who(wait_for)} after {timeout:.0f}s)")

    def says(self, phone: str, text: str, expect: int = 1) -> None:
        self.print_block(f"{self.who(phone)} writes on WhatsApp", text)
        httpx.post(
            f"{self.fake_url}/_fake/inbound",
            json={"from": phone, "text": text, "name": self.who(phone)},
        ).raise_for_status()
        self.flush(wait_for=phone, expect=expect)

    def staff(
        self, who: str, method: str, path: str, what: str, body: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        self.print_block(
            f"{who} (admin API)", f"{method} {path}  # {what}" + (f"\n{body}" if body else "")
        )
        answer = httpx.request(
            method,
            f"{self.backend_url}{path}",
            json=body,
            timeout=30,
            headers={"Authorization": f"Bearer {self.tokens[who]}"},
        )
        if answer.status_code != 200:
            self.print_block("admin API answered", f"{answer.status_code} {answer.text}")
            raise SystemExit(1)
        self.flush()
        return answer.json()

    def time_passes(self, when: datetime, kind: str, subject_id: str, what: str) -> None:
        """Run one scheduler timer as if it were `when` (the real one fires then too, and
        finds the notice already sent)."""
        from backend import clock, texts
        from backend.scheduler import runner

        self.print_block(
            f"⏩ {texts.local_datetime(when)}: {what}",
            f"the scheduler's timer {kind} fires (the demo runs it now)",
        )
        with clock.frozen(when):
            outcome = runner.execute(kind, subject_id)
        self.print_block("scheduler", outcome)
        self.flush()

    def pays(self, reference: str, amount_minor: int, kind: str) -> None:
        from backend.payments.provider import payment_event, post_payment_webhook

        self.print_block(
            "Payment gateway (signed webhook)",
            f"{reference}: {kind} {amount_minor / 100:,.2f} USD paid",
        )
        answer = post_payment_webhook(
            self.backend_url, payment_event(reference, amount_minor, "USD", kind)
        )
        self.print_block("backend answered", f"{answer.status_code} {answer.json()}")
        self.flush()


def heading(title: str) -> None:
    print("\n" + "=" * WIDTH + f"\n{title}\n" + "=" * WIDTH)


def run_demo() -> int:
    from backend import demo_data, migrate
    from backend.db import dispose_engines, transaction

    var_dir = Path(os.environ.get("TMS_VAR_DIR", PROJECT_ROOT / "var"))
    demo_dir = var_dir / "demo"
    demo_dir.mkdir(parents=True, exist_ok=True)
    for old in demo_dir.glob("*.sqlite3*"):
        old.unlink()
    database_url = f"sqlite:///{demo_dir / 'demo.sqlite3'}"
    os.environ["DATABASE_URL"] = database_url
    migrate.upgrade(database_url)
    with transaction() as session:
        world = demo_data.load(session)
    heading(
        f"{get_settings().operator_name}: the demo (embedded defaults: SQLite, fake Graph API, local payments)"
    )
    print(
        "Training the assistant if its data changed (the first time takes a few minutes)...",
        flush=True,
    )
    model = trained_model()
    ports = Ports(
        actions=free_port(), rasa=free_port(), backend=free_port(), fake_graph=free_port()
    )
    stack = Stack(
        product_parts(
            model,
            ports,
            env={"DATABASE_URL": database_url, "LOG_LEVEL": "WARNING"},
            tracker_url=f"sqlite:///{demo_dir / 'tracker.sqlite3'}",
            backend_env={"RECIPIENT_BURST": "30"},
        ),
        demo_dir / "logs",
    )
    print("Starting the stack (the Rasa server takes about a minute to load)...", flush=True)
    try:
        stack.start(timeout=400)
        names = {"+61499000001": "Emma Clarke (customer)", "+61499000002": "Liam Walsh (customer)"}
        names |= {phone: f"{name} ({roles[0].lower()})" for name, phone, roles in demo_data.STAFF}
        with transaction() as session:
            from backend.models import Contact

            for contact in session.scalars(select(Contact)):
                names.setdefault(contact.phone, f"{contact.display_name} (guest)")
        tokens = {
            "Sarah": world.staff_tokens["Sarah Gurung"],
            "Priya": world.staff_tokens["Priya Thapa"],
        }
        director = Director(
            f"http://127.0.0.1:{ports.backend}",
            f"http://127.0.0.1:{ports.fake_graph}",
            names,
            tokens,
        )
        workflow_1(director)
        workflow_2(director)
        workflow_3(director)
        final_states()
        print(f"\nLogs of every process: {demo_dir / 'logs'}")
        return 0
    finally:
        stack.stop()
        dispose_engines()


def workflow_1(d: Director) -> None:
    from backend.db import transaction
    from backend.models import Booking, Lead, Staff
    from backend.services import catalog

    heading("Workflow 1: Customer Enquiry → Booking → Trip Completion")
    emma = "+61499000001"
    d.says(emma, "Hi! I'm interested in the Everest Base Camp Trek for 3 people in March 2025")
    d.says(
        emma,
        "We're flexible, any date mid-March works. We hike every weekend. One of us is vegetarian.",
    )
    with transaction() as s:
        lead = s.scalar(select(Lead).where(Lead.contact.has(phone=emma)))
        departure = catalog.departures_of(s, lead.product)[0]
        lead_id, reference, departure_id = lead.id, lead.reference, departure.id
        rajesh_id = s.scalar(select(Staff.id).where(Staff.name == "Rajesh Kumar"))
    d.staff(
        "Sarah",
        "POST",
        f"/api/leads/{lead_id}/quote",
        "the quote, sent on WhatsApp",
        {"departure_id": departure_id, "party_size": 3},
    )
    d.says(emma, "Yes! Please hold the spots. What's next?")
    with transaction() as s:
        booking_ref = s.scalar(select(Booking.reference).where(Booking.lead_id == lead_id))
    d.pays(booking_ref, 2_052_00, "DEPOSIT")
    with transaction() as s:
        booking = s.scalar(select(Booking).where(Booking.reference == booking_ref))
        booking_id, due, start = booking.id, booking.balance_due_date, booking.departure.start_date
    notice_at = get_settings().notice_local_time
    d.time_passes(
        local_moment(due - timedelta(days=7), notice_at, get_settings()),
        "balance-reminder-7d",
        booking_id,
        "a week before the balance is due",
    )
    d.pays(booking_ref, 4_788_00, "BALANCE")
    d.time_passes(
        local_moment(start - timedelta(days=14), notice_at, get_settings()),
        "pre-departure",
        booking_id,
        "Step 5: two weeks before departure",
    )
    d.staff(
        "Priya",
        "POST",
        f"/api/departures/{departure_id}/assignments",
        "Lead Guide: Rajesh Kumar",
        {"staff_id": rajesh_id, "role": "LEAD_GUIDE", "compensation_minor": 800_00},
    )
    rajesh = "+9779801000003"
    d.says(rajesh, "Accept")
    d.says(rajesh, f"CHECKIN {reference}")
    d.says(
        rajesh,
        f"ISSUE {reference} One guest showing altitude sickness symptoms. Monitoring closely. May need early descent.",
    )
    with transaction() as s:
        from backend.models import Incident

        incident_id = s.scalar(select(Incident.id).order_by(Incident.reported_at.desc()))
        emma_booking = s.scalar(select(Booking.id).where(Booking.reference == booking_ref))
    d.staff(
        "Priya",
        "POST",
        f"/api/incidents/{incident_id}",
        "helicopter on standby; guide and guest told",
        {
            "status": "IN_PROGRESS",
            "message_to_guide": "Helicopter on standby in Lukla.\nMonitor guest overnight.\nIf symptoms worsen, call: +977-1-4400000\n\nDr. available on call.",
            "message_to_bookings": {
                emma_booking: "We're monitoring your altitude acclimatization.\n\nOur guide and operations team are in constant contact.\n\nIf needed:\n✓ Helicopter evacuation ready\n✓ Medical support available\n✓ Your safety is our priority\n\nFeel better soon!"
            },
        },
    )
    d.says(
        rajesh,
        f"CHECKOUT {reference} Trip completed successfully! All 12 guests safe. Amazing journey! 🎉",
    )


def workflow_2(d: Director) -> None:
    from backend.db import transaction
    from backend.domain.enums import BookingStatus
    from backend.models import Booking
    from backend.services import catalog

    heading("Workflow 2: Slot Full → Waitlist → Auto-Confirm")
    liam = "+61499000002"
    with transaction() as s:
        full = catalog.departures_of(s, catalog.get_product(s, "ANN"))[0]
        day = f"{full.start_date:%B} {full.start_date.day}"
        cancelling = s.scalar(
            select(Booking.reference).where(
                Booking.departure_id == full.id, Booking.status == BookingStatus.CONFIRMED
            )
        )
    d.says(liam, f"Interested in Annapurna Circuit {day}")
    d.says(liam, "2")
    d.staff(
        "Sarah",
        "POST",
        f"/api/bookings/{cancelling}/cancel",
        "another customer cancels (3 seats free)",
        {"reason": "customer cancelled"},
    )
    d.says(liam, "CONFIRM")
    with transaction() as s:
        reference = s.scalar(select(Booking.reference).where(Booking.contact.has(phone=liam)))
    d.pays(reference, 1_800_00, "FULL")


def workflow_3(d: Director) -> None:
    from backend.db import transaction
    from backend.models import Incident, Trip
    from backend.services import catalog

    heading("Workflow 3: Guide Reports Issue → Ops Resolution → Customer Notification")
    amit = "+9779801000004"
    with transaction() as s:
        pokhara = catalog.departures_of(s, catalog.get_product(s, "PKR"))[0]
        reference = s.scalar(select(Trip.reference).where(Trip.departure_id == pokhara.id))
    d.says(
        amit,
        f"ISSUE {reference} Vehicle breakdown at Pokhara checkpoint. Engine failure. 15 guests waiting.",
    )
    with transaction() as s:
        incident_id = s.scalar(select(Incident.id).order_by(Incident.reported_at.desc()))
    d.staff(
        "Priya",
        "POST",
        f"/api/incidents/{incident_id}",
        "backup vehicle dispatched; guide and all guests told",
        {
            "status": "IN_PROGRESS",
            "resolution": "Backup vehicle en route",
            "eta": "11:20 AM",
            "message_to_guide": "Backup vehicle dispatched:\n- Vehicle: Toyota Coaster\n- Registration: BA-XXX\n- Driver: Ram Bahadur\n- ETA: 11:20 AM\n\nCurrent vehicle will be towed.\n\nKeep guests comfortable.\nRefreshments authorized.",
            "message_to_guests": "Current: Checkpoint (brief stop)\n\nWe're arranging a fresh vehicle for your comfort.\n\nNew vehicle arrives: 11:20 AM\nDelay: ~45 minutes",
        },
    )
    d.says(
        amit,
        f"UPDATE {reference} Backup vehicle arrived. Guests transferred. Resuming journey. All good!",
    )


def final_states() -> None:
    from backend.db import transaction
    from backend.models import Booking, Incident, Lead, PayrollEntry, Trip
    from backend.services import timeline

    heading("Final states")
    with transaction() as s:
        for lead in s.scalars(
            select(Lead).where(
                Lead.contact.has(
                    Lead.contact.property.mapper.class_.phone.in_(["+61499000001", "+61499000002"])
                )
            )
        ):
            print(f"Lead {lead.reference} ({lead.contact.display_name}): {lead.status}")
        for booking in s.scalars(select(Booking).where(Booking.lead_id.is_not(None))):
            print(
                f"Booking {booking.reference}: {booking.status}, payments {booking.payment_status}"
            )
        for trip in s.scalars(select(Trip).where(Trip.started_at.is_not(None))):
            print(f"Trip {trip.reference} ({trip.departure.product.name}): {trip.status}")
        for entry in s.scalars(select(PayrollEntry)):
            print(
                f"Payroll: {entry.amount_minor / 100:,.0f} {entry.currency} for trip {entry.trip_id[:8]}"
            )
        for incident in s.scalars(select(Incident).order_by(Incident.reported_at)):
            minutes = (
                f", response time {incident.response_minutes} min"
                if incident.response_minutes is not None
                else ""
            )
            print(
                f"Incident ({incident.severity}) on {incident.trip.reference}: {incident.status}{minutes}"
            )
            for event in timeline.for_object(s, "INCIDENT", incident.id):
                print(
                    f"    {event.occurred_at.astimezone(get_settings().tz):%H:%M:%S} {event.action} ({event.source})"
                )
        from collections import Counter

        from backend.models.scheduling import apscheduler_jobs

        kinds = Counter(job_id.split(":")[0] for job_id in s.scalars(select(apscheduler_jobs.c.id)))
        print(
            f"Scheduler: {sum(kinds.values())} timers waiting in the job store ("
            + ", ".join(f"{kind} {n}" for kind, n in sorted(kinds.items()))
            + "); `tms timers list` shows them"
        )


def main() -> None:
    sys.exit(run_demo())
