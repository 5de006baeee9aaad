"""`make demo`: the whole product on the embedded defaults, playing the four workflows.

A fresh SQLite file, the fake Graph API and the local payment provider; the real backend,
Rasa server and action server. Customers and guides write through the fake Graph API (signed
webhooks, exactly as Meta sends them), staff act through the admin API, payments arrive as
signed webhooks. Every chat is printed as a transcript, then the final states.

The story runs on the workflows' calendar, whatever day it is run: every process reads one
shared clock (`backend.clock`), which the director moves as the story moves (Dec 23, 2024,
13:50 for the enquiry; Feb 21 for the balance reminder; March 15 for the check-in; 10:30 to
11:20 for workflow 3's breakdown; the next season's March 13 for workflow 4's move). The
scheduler fires the story's timers on its own when the clock reaches them.
"""

from __future__ import annotations

import base64
import os
import re
import signal
import socket
import sys
import time
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from backend import clock
from backend.config import PROJECT_ROOT, get_settings
from backend.scheduler.kinds import local_moment
from backend.stack import Ports, Stack, free_port, product_parts, trained_model
from devkit import demo_languages, demo_papers
from devkit.chat import tap_for
from devkit.demo_data import STAFF, STORY
from devkit.demo_reading import link_in, page_text

WIDTH = 78


class Director:
    """Plays the people of the workflows and prints what they see."""

    def __init__(
        self,
        backend_url: str,
        fake_url: str,
        names: dict[str, str],
        tokens: dict[str, str],
        mail_dir: Path | None = None,
        files_dir: Path | None = None,
    ) -> None:
        self.backend_url = backend_url
        self.fake_url = fake_url
        self.names = names
        self.tokens = tokens
        self.mail_dir = mail_dir
        self.files_dir = files_dir  # where the files staff download are saved (var/demo)
        self.mails_seen = 0
        self.received: dict[str, list[str]] = {}  # what each person got, oldest first
        self.shown: dict[str, list[dict[str, Any]]] = {}  # the same, as the fake API has them
        self.seen = 0
        # Who the workflow being played is about: messages to anyone else (other guests'
        # reminders, say) are counted, not printed.
        self.cast: set[str] = set()
        # Who writes from a WhatsApp username (phone → username), and each writer's
        # business-scoped user ID as WhatsApp gives it (phone → BSUID).
        self.usernames: dict[str, str] = {}
        self.user_ids: dict[str, str] = {}
        self.shown_day: date | None = None

    def _stamp(self) -> str:
        return clock.local_now().strftime("%H:%M")

    def at(self, day: date, hhmm: str) -> None:
        """The story moves to `day` at `hhmm` (the operator's time): every process follows."""
        clock.move_to(STORY.at(day, hhmm))
        today = clock.local_today()
        if today != self.shown_day:
            print(f"\n--- {today:%A}, {today:%B} {today.day}, {today.year} ---")
            self.shown_day = today

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
        """Print every message the product sent since the last call, once `expect` messages
        to `wait_for` arrived and things are quiet. A notice to every guest is one block."""
        deadline = time.monotonic() + timeout
        quiet_until = time.monotonic() + settle
        arrived: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            data = httpx.get(f"{self.fake_url}/_fake/messages", params={"since": self.seen}).json()
            if data["messages"]:
                arrived += data["messages"]
                quiet_until = time.monotonic() + settle
            self.seen = data["total"]
            got = sum(1 for m in arrived if "+" + m["to"] == wait_for)
            if (not wait_for or got >= expect) and time.monotonic() > quiet_until:
                break
            time.sleep(0.15)
        else:
            print(
                f"    (still waiting for a message to {self.who(wait_for or '')} after {timeout:.0f}s)"
            )
        for message in arrived:
            self.received.setdefault("+" + message["to"], []).append(_rendered(message))
            self.shown.setdefault("+" + message["to"], []).append(message)
        elsewhere: Counter[str] = Counter()
        alike: Counter[tuple[str, str]] = Counter()  # (to whom, which kind): after the first
        for text, phones in _same_text_together(arrived):
            shown = [p for p in phones if p in self.cast]
            if not shown:
                first = text.splitlines()[0]
                kind = _kind_of(first)
                elsewhere[f"{kind} …" if kind else first] += len(phones)
                continue
            others = len(phones) - len(shown)
            to = ", ".join(self.who(p) for p in shown)
            kind = _kind_of(text)
            if kind is not None:
                alike[(to, kind)] += 1
                if alike[(to, kind)] > 1:
                    continue
            self.print_block(f"WhatsApp → {to}" + (f" and {others} others" if others else ""), text)
        for (to, kind), count in alike.items():
            if count > 1:
                print(f"    (and {count - 1} more like it to {to}: “{kind} …”)")
        for first_line, count in elsewhere.items():
            print(f"    (also sent to other guests and staff: {count} × “{first_line}”)")

    def says(self, phone: str, text: str, expect: int = 1) -> None:
        self.print_block(f"{self.who(phone)} writes on WhatsApp", text)
        # Someone with a WhatsApp username shares no phone: the fake then names them by their
        # business-scoped user ID alone (and keeps doing so), as Meta does.
        username = {"username": self.usernames[phone]} if phone in self.usernames else {}
        answer = httpx.post(
            f"{self.fake_url}/_fake/inbound",
            json={"from": phone, "text": text, "name": self.who(phone), **username},
        )
        answer.raise_for_status()
        self.user_ids[phone] = answer.json()["user_id"]
        self.flush(wait_for=phone, expect=expect)

    def taps(self, phone: str, title: str, expect: int = 1) -> None:
        """Tap a button (or list row) on the last message that shows it, as the phone does."""
        tap = tap_for(title, self.shown.get(phone, []))
        if tap is None:
            raise SystemExit(f"demo: no [{title}] button was shown to {self.who(phone)}")
        self.print_block(f"{self.who(phone)} taps on WhatsApp", f"[ {title} ]")
        httpx.post(
            f"{self.fake_url}/_fake/inbound",
            json={"from": phone, "name": self.who(phone), **tap},
        ).raise_for_status()
        self.flush(wait_for=phone, expect=expect)

    def sends_photo(self, phone: str, path: Path, caption: str) -> None:
        """A photo from the phone: uploaded to the (fake) Graph API, then sent as a message
        that carries only its media id, as WhatsApp does."""
        self.print_block(
            f"{self.who(phone)} sends a photo on WhatsApp", f"📷 {path.name}: “{caption}”"
        )
        uploaded = httpx.post(
            f"{self.fake_url}/_fake/media",
            json={
                "content_base64": base64.b64encode(path.read_bytes()).decode(),
                "mime_type": "image/jpeg",
            },
        ).json()
        httpx.post(
            f"{self.fake_url}/_fake/inbound",
            json={
                "from": phone,
                "name": self.who(phone),
                "type": "image",
                "content": {"id": uploaded["id"], "mime_type": "image/jpeg", "caption": caption},
            },
        ).raise_for_status()
        self.flush(wait_for=phone)

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
        if answer.status_code not in (200, 201):
            self.print_block("admin API answered", f"{answer.status_code} {answer.text}")
            raise SystemExit(1)
        self.flush()
        return answer.json()

    def scheduler_fires(
        self, when: datetime, kind: str, what: str, wait_for: str, expect: int = 1
    ) -> None:
        """Time passes until `when`; the backend's scheduler fires its timer on its own."""
        local = when.astimezone(get_settings().tz)
        self.at(local.date(), f"{local:%H:%M}")
        self.print_block(f"⏩ {what}", f"the scheduler's {kind} timer fires")
        self.flush(wait_for=wait_for, expect=expect)

    def opens(
        self,
        phone: str,
        purpose: str,
        *,
        press: str | None = None,
        form: dict[str, str] | None = None,
    ) -> str:
        """The person taps the `purpose` link of the latest message that has one: the page is
        printed as they read it; `press`/`form` submits its form (a button's value, or fields)
        and the page they land on is printed too. Returns the last page's text."""
        url = next(
            (u for t in reversed(self.received.get(phone, [])) if (u := link_in(t, purpose))),
            None,
        )
        if url is None:
            print(f"    (no {purpose} link in the last message to {self.who(phone)})")
            raise SystemExit(1)
        page = httpx.get(url, timeout=30)
        shown = page_text(page.text)
        if purpose == "track":  # the itinerary's other days are on the page, not in the transcript
            shown = "\n".join(
                line
                for line in shown.splitlines()
                if not line.startswith("Day ") or "· today" in line
            )
        self.print_block(f"{self.who(phone)} opens {purpose} link ({page.status_code})", shown)
        if press is None and form is None:
            return shown
        fields = dict(form or {})
        if press is not None:
            name, _, value = press.partition("=")
            fields[name] = value
        self.print_block(
            f"{self.who(phone)} submits", ", ".join(f"{k}={v}" for k, v in fields.items())
        )
        answer = httpx.post(url, data=fields, timeout=60, follow_redirects=True)
        shown = page_text(answer.text)
        self.print_block(f"{self.who(phone)} sees ({answer.status_code})", shown)
        self.flush()
        return shown

    def mail(self, wait_for: str, timeout: float = 30.0) -> None:
        """Print the e-mails the local SMTP server received since the last call, once one to
        `wait_for` (an address) arrived."""
        from devkit import local_smtp

        assert self.mail_dir is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            new = local_smtp.captured(self.mail_dir)[self.mails_seen :]
            if any(wait_for in m.to for m in new):
                break
            time.sleep(0.2)
        else:
            print(f"    (no e-mail to {wait_for} after {timeout:.0f}s)")
            return
        self.mails_seen += len(new)
        for mail in new:
            files = ", ".join(
                f"{name} ({size // 1024} KB PDF)" for name, _, size in mail.attachments
            )
            lines = [line for line in mail.text.splitlines() if line.strip()][:14]
            subject = " ".join(mail.subject.split())
            body = "\n".join([f"Subject: {subject}", *lines, "…"])
            if files:
                body += f"\n📎 {files}"
            self.print_block(f"E-mail → {mail.to}", body)


def _rendered(message: dict[str, Any]) -> str:
    """What the person sees: the text and its buttons, or a template's parameters."""
    if message["type"] == "template":
        buttons = "".join(f"  [ {b} ]" for b in message.get("buttons") or [])
        return (
            f"(template {message['template']}, outside the 24-hour window)\n"
            + (message.get("rendered") or "\n".join(message["template_params"]))
            + (f"\n{buttons.strip()}" if buttons else "")
        )
    text = message["text"] or ""
    if message.get("flow"):  # a WhatsApp Flow: its button opens the form in the chat
        text += f"\n[ {message['flow'].get('flow_cta')} ]"
    elif message.get("interactive") == "list":
        text += "\n☰ " + "\n☰ ".join(message.get("buttons") or [])
    elif message.get("buttons"):
        text += "\n" + "  ".join(f"[ {b} ]" for b in message["buttons"])
    return text


# Alerts that come by the dozen about the seeded bookings (each about another booking): the
# first is printed, the others counted.
ALIKE = (re.compile(r"📋 Papers incomplete: "),)


def _kind_of(text: str) -> str | None:
    return next((m.group(0).strip() for p in ALIKE if (m := p.search(text))), None)


def _same_text_together(messages: list[dict[str, Any]]) -> list[tuple[str, list[str]]]:
    """Messages with the same text (a notice to every guest) as one block, in the order of
    their first copy."""
    blocks: dict[str, list[str]] = {}
    for message in messages:
        blocks.setdefault(_rendered(message), []).append("+" + message["to"])
    return list(blocks.items())


def heading(title: str) -> None:
    print("\n" + "=" * WIDTH + f"\n{title}\n" + "=" * WIDTH)


def run_demo(*, serve: bool = False) -> int:
    from backend import migrate
    from backend.db import dispose_engines, transaction
    from devkit import demo_data

    var_dir = Path(os.environ.get("TMS_VAR_DIR", PROJECT_ROOT / "var"))
    demo_dir = var_dir / "demo"
    demo_dir.mkdir(parents=True, exist_ok=True)
    for old in demo_dir.glob("*.sqlite3*"):
        old.unlink()
    database_url = f"sqlite:///{demo_dir / 'demo.sqlite3'}"
    os.environ["DATABASE_URL"] = database_url
    # One clock for the demo and every process it starts, on the story's morning.
    clock.use_file(demo_dir / "clock.json")
    clock.move_to(STORY.morning)
    migrate.upgrade(database_url)
    # `--serve` keeps the console at a steady address (8000 unless taken or DEMO_PORT says).
    backend_port = _serve_port() if serve else free_port()
    # The links in the transcript open the demo's own pages (this process makes some too).
    os.environ["PUBLIC_BASE_URL"] = f"http://127.0.0.1:{backend_port}"
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
        actions=free_port(),
        rasa=free_port(),
        backend=backend_port,
        fake_graph=free_port(),
        smtp=free_port(),
    )
    # The local SMTP server keeps what it receives here: `tms mail list` shows it.
    mail_dir = var_dir / "mail"
    mail_dir.mkdir(parents=True, exist_ok=True)
    for old in mail_dir.glob("*.eml"):
        old.unlink()
    stack = Stack(
        product_parts(
            model,
            ports,
            env={
                "DATABASE_URL": database_url,
                "LOG_LEVEL": "WARNING",
                "PAYMENT_PROVIDER": "local",
                "MAIL_CAPTURE_DIR": str(mail_dir),
                "PUBLIC_BASE_URL": os.environ["PUBLIC_BASE_URL"],
            },
            tracker_url=f"sqlite:///{demo_dir / 'tracker.sqlite3'}",
            # The scheduler checks its clock every second: the story moves it by months.
            backend_env={"RECIPIENT_BURST": "30", "SCHEDULER_LEADER_POLL_SECONDS": "1"},
        ),
        demo_dir / "logs",
    )
    print("Starting the stack (the Rasa server takes about a minute to load)...", flush=True)
    try:
        stack.start(timeout=400)
        names = {EMMA: "Emma Clarke (customer)", LIAM: "Liam Walsh (customer)"}
        names |= demo_languages.NAMES
        names |= {phone: f"{name} ({roles[0].lower()})" for name, phone, roles in demo_data.STAFF}
        with transaction() as session:
            from backend.models import Contact

            for contact in session.scalars(select(Contact)):
                names.setdefault(contact.address, f"{contact.display_name} (guest)")
        tokens = {
            "Sarah": world.staff_tokens["Sarah Gurung"],
            "Priya": world.staff_tokens["Priya Thapa"],
        }
        director = Director(
            f"http://127.0.0.1:{ports.backend}",
            f"http://127.0.0.1:{ports.fake_graph}",
            names,
            tokens,
            mail_dir,
            demo_dir,
        )
        workflow_1(director)
        workflow_2(director)
        workflow_3(director)
        workflow_4(director)
        demo_languages.in_their_languages(director, heading, STORY, SARAH)
        final_states(director)
        print(f"\nE-mail the local SMTP server received: `.venv/bin/tms mail list` ({mail_dir})")
        print(f"Logs of every process: {demo_dir / 'logs'}")
        console(
            f"http://127.0.0.1:{ports.backend}", f"http://127.0.0.1:{ports.fake_graph}", serve=serve
        )
        if serve:
            print("\nThe stack keeps running for the console; Ctrl-C stops it.", flush=True)
            # Ctrl-C even when started in the background (a non-interactive shell's `&` starts
            # a process with SIGINT ignored), and a plain `kill` as well.
            signal.signal(signal.SIGINT, signal.default_int_handler)
            signal.signal(signal.SIGTERM, signal.default_int_handler)
            try:
                while True:
                    stack.check_alive()  # a part that dies ends the demo with its log's name
                    time.sleep(2)
            except KeyboardInterrupt:
                print("\nStopping.")
        return 0
    finally:
        stack.stop()
        dispose_engines()


EMMA, LIAM = "+61499000001", "+61499000002"
EMMA_EMAIL = "emma.clarke@example.com"
SARAH, PRIYA, RAJESH, AMIT = (phone for _, phone, _ in STAFF[:4])


def _wait_for_flow(d: Director, phone: str, timeout: float = 30.0) -> None:
    """The Flow goes out with the deposit's confirmation: wait until the phone has it."""
    deadline = time.monotonic() + timeout
    while not any(m.get("flow") for m in d.shown.get(phone, [])):
        if time.monotonic() > deadline:
            print(
                f"    (still waiting for a message to {d.who(phone)}: no Flow after {timeout:.0f}s)"
            )
            raise SystemExit(1)
        d.flush(timeout=2)


def _wait_for_each(d: Director, before: dict[str, int], timeout: float = 60.0) -> None:
    """Print what arrives until each phone got more messages than `before` says it had."""
    deadline = time.monotonic() + timeout
    while missing := [p for p, n in before.items() if len(d.received.get(p, [])) <= n]:
        if time.monotonic() > deadline:
            who = ", ".join(d.who(p) for p in missing)
            print(f"    (still waiting for a message to {who} after {timeout:.0f}s)")
            raise SystemExit(1)
        d.flush(timeout=10)


def workflow_1(d: Director) -> None:
    from backend.db import transaction
    from backend.models import Booking, Incident, Lead, Staff
    from backend.services import catalog

    heading("Workflow 1: Customer Enquiry → Booking → Trip Completion")
    d.cast = {EMMA, SARAH, PRIYA, RAJESH}
    # Emma writes from a WhatsApp username: WhatsApp gives the operator her business-scoped
    # user ID, not her phone number, and she books exactly like everyone else.
    d.usernames[EMMA] = "emma.clarke"
    print("(Emma has a WhatsApp username: the operator sees her user ID, never her number.)")
    d.at(STORY.today, "13:50")
    d.says(EMMA, "Hi! I'm interested in the Everest Base Camp Trek for 3 people in March 2025")
    d.says(
        EMMA,
        "We're flexible, any date mid-March works. We hike every weekend. One of us is vegetarian.",
    )
    with transaction() as s:
        lead = s.scalars(select(Lead).where(Lead.contact.has(user_id=d.user_ids[EMMA]))).one()
        assert lead.contact.phone is None  # known by her BSUID alone
        assert lead.product is not None
        departure = catalog.departures_of(s, lead.product, from_date=STORY.today)[0]
        lead_id, reference, departure_id = lead.id, lead.reference, departure.id
        rajesh_id = s.scalar(select(Staff.id).where(Staff.name == "Rajesh Kumar"))
    d.at(STORY.today, "13:55")
    d.staff(
        "Sarah",
        "POST",
        f"/api/leads/{lead_id}/quote",
        "the quote, sent on WhatsApp",
        {"departure_id": departure_id, "party_size": 3},
    )
    d.at(STORY.today, "14:00")
    d.says(EMMA, "Yes! Please hold the spots. What's next?")
    d.at(STORY.today, "14:02")
    d.says(EMMA, EMMA_EMAIL)
    with transaction() as s:
        booking_ref = s.scalar(select(Booking.reference).where(Booking.lead_id == lead_id))
    assert booking_ref is not None
    d.at(STORY.today, "14:20")
    # Step 4: Emma opens the payment link to see the ways to pay, pays the deposit by bank
    # transfer from her bank's app and sends the receipt in the chat; Priya checks it.
    d.opens(EMMA, "pay")
    d.at(STORY.today, "14:35")
    d.sends_photo(EMMA, TRANSFER_RECEIPT, "Deposit sent by bank transfer")
    d.at(STORY.today, "15:10")
    waiting = d.staff(
        "Priya", "GET", "/api/payment-proofs?status=pending", "proofs waiting to be checked"
    )
    proof = next(p for p in waiting["proofs"] if p["booking"] == booking_ref)
    with transaction() as s:
        booking = s.scalars(select(Booking).where(Booking.reference == booking_ref)).one()
        deposit = f"{booking.deposit_minor / 100:.2f}"
        due, start = booking.balance_due_date, booking.departure.start_date
        end = booking.departure.end_date
    d.staff(
        "Priya",
        "POST",
        f"/api/payment-proofs/{proof['id']}/verify",
        "the transfer is in the operator's account: amount, currency and value date as received",
        {"amount": deposit, "currency": "USD", "valueDate": STORY.today.isoformat()},
    )
    d.mail(wait_for=EMMA_EMAIL)
    # Issue 24: the travellers' papers, asked for right after the deposit (the page's link
    # and the WhatsApp Flow for traveller 1). Emma answers the Flow for herself in the chat;
    # the Flow for traveller 2 follows, but she has the others' passports at hand and fills
    # travellers 2 and 3 on the page, with her passport's photo page.
    party = demo_papers.travellers(STORY.today, start, end)
    _wait_for_flow(d, EMMA)
    d.at(STORY.today, "15:20")
    demo_papers.answers_flow(d, EMMA, party[1])
    d.at(STORY.today, "15:30")
    demo_papers.fills_page(d, EMMA, 2, party[2])
    demo_papers.fills_page(d, EMMA, 3, party[3])
    demo_papers.uploads_photos(d, EMMA, [(1, "passport_photo")])
    notice_at = get_settings().notice_local_time
    d.scheduler_fires(
        local_moment(due - timedelta(days=7), notice_at, get_settings()),
        "balance-reminder-7d",
        "a week before the balance is due",
        wait_for=EMMA,
    )
    d.scheduler_fires(
        local_moment(start - timedelta(days=14), notice_at, get_settings()),
        "pre-departure",
        "Step 5: two weeks before departure",
        wait_for=EMMA,
        expect=2,  # the checklist, and the papers reminder naming what is still missing
    )
    d.at(start - timedelta(days=14), "11:00")
    d.staff(
        "Priya",
        "POST",
        f"/api/departures/{departure_id}/assignments",
        "Lead Guide: Rajesh Kumar",
        {"staff_id": rajesh_id, "role": "LEAD_GUIDE", "compensation_minor": 800_00},
    )
    d.at(start - timedelta(days=14), "11:10")
    d.taps(RAJESH, "Accept")
    d.mail(wait_for="rajesh@")
    # The reminder worked: the photos still missing, on the page; Priya checks each traveller's
    # photos against the details, verifies them and exports the permit worksheet.
    d.at(start - timedelta(days=14), "12:00")
    demo_papers.uploads_photos(
        d,
        EMMA,
        [
            (1, "portrait_photo"),
            (2, "passport_photo"),
            (2, "portrait_photo"),
            (3, "passport_photo"),
            (3, "portrait_photo"),
        ],
    )
    d.at(start - timedelta(days=14), "12:30")
    demo_papers.verifies(d, "Priya", PRIYA, booking_ref, [1, 2, 3])
    demo_papers.readiness(d, "Priya", departure_id, booking_ref)
    assert d.files_dir is not None
    demo_papers.exports(d, "Priya", departure_id, d.files_dir)
    d.at(start, "05:45")
    # Emma pays the balance in cash on arrival in Kathmandu; Rajesh records it.
    with transaction() as s:
        balance = s.scalars(select(Booking).where(Booking.reference == booking_ref)).one()
        owed = f"{balance.balance_minor // 100}"
    d.says(RAJESH, f"PAID {booking_ref} {owed} USD CASH")
    d.at(start, "06:00")
    d.says(RAJESH, f"CHECKIN {reference}")
    d.at(start, "06:30")
    d.opens(EMMA, "track")
    d.at(start + timedelta(days=4), "16:00")  # day 5
    d.says(
        RAJESH,
        f"ISSUE {reference} One guest showing altitude sickness symptoms. Monitoring closely. May need early descent.",
    )
    with transaction() as s:
        incident_id = s.scalar(select(Incident.id).order_by(Incident.reported_at.desc()))
        emma_booking = s.scalar(select(Booking.id).where(Booking.reference == booking_ref))
    assert incident_id is not None
    d.at(start + timedelta(days=4), "16:10")
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
    # Operations see the guests' insurers: one call to the insurer before any helicopter.
    demo_papers.insurers_on_the_mountain(d, "Priya", incident_id, booking_ref)
    d.at(start + timedelta(days=4), "16:20")
    d.opens(EMMA, "track")  # the track link from the trip's start: the notice is on it
    d.at(end, "17:00")
    d.says(
        RAJESH,
        f"CHECKOUT {reference} Trip completed successfully! All 12 guests safe. Amazing journey! 🎉",
    )
    d.at(end, "20:00")
    d.opens(
        EMMA,
        "feedback",
        form={"rating": "5", "comment": "Rajesh kept us safe and laughing. Unforgettable!"},
    )


def workflow_2(d: Director) -> None:
    from backend.db import transaction
    from backend.domain.enums import BookingStatus
    from backend.models import Booking, Lead
    from backend.services import catalog

    heading("Workflow 2: Slot Full → Waitlist → Auto-Confirm")
    d.cast = {LIAM, SARAH, PRIYA}
    with transaction() as s:
        full = catalog.departure_on(s, catalog.get_product(s, "ANN"), STORY.annapurna_full)
        assert full is not None
        day = f"{full.start_date:%B} {full.start_date.day}"
        cancelled = s.scalars(
            select(Booking).where(
                Booking.departure_id == full.id, Booking.status == BookingStatus.CONFIRMED
            )
        ).first()
        assert cancelled is not None
        cancelling, cancelling_phone = cancelled.reference, cancelled.contact.address
    d.at(STORY.on(3, 3), "10:00")
    d.says(LIAM, f"Interested in Annapurna Circuit {day}")
    d.says(LIAM, "2")
    d.says(LIAM, "Just me")  # the party size is asked, never guessed
    with transaction() as s:
        created = s.scalars(select(Lead.created_at).where(Lead.contact.has(phone=LIAM))).one()
    d.scheduler_fires(
        clock.as_utc(created) + timedelta(hours=get_settings().lead_sla_hours),
        "lead-sla",
        "two hours on, no rep has written to Liam yet",
        wait_for=PRIYA,
    )
    d.at(STORY.on(3, 10), "09:00")
    d.cast |= {cancelling_phone}  # the customer who cancels, until their refund is settled
    d.staff(
        "Sarah",
        "POST",
        f"/api/bookings/{cancelling}/cancel",
        "another customer cancels (3 seats free)",
        {"reason": "customer cancelled"},
    )
    # They choose a refund of what the policy gives back (they paid by card: it goes back
    # through the card provider); Priya approves it.
    # Meta pauses the template customers' updates go by outside the window (its quality fell):
    # operations are told; the refund's news reaches the customer all the same, as a normal
    # message, because the customer has just written. Meta approves it again before anything
    # else needs it.
    d.at(STORY.on(3, 10), "09:03")
    meta_sets_template(d, "customer_update", "PAUSED", wait_for=PRIYA)
    d.at(STORY.on(3, 10), "09:05")
    d.says(cancelling_phone, "REFUND")  # outside 24 hours the template carries no buttons
    d.staff(
        "Priya",
        "POST",
        f"/api/bookings/{cancelling}/refunds",
        "the refund the customer chose, approved",
        {"approve": True},
    )
    print(
        "    (customer_update is paused: the customer wrote a minute ago, so inside their 24-hour"
        " window the update went as a normal message; outside it, operations would be alerted"
        " with its text instead)"
    )
    d.at(STORY.on(3, 10), "09:08")
    meta_sets_template(d, "customer_update", "APPROVED")
    d.cast -= {cancelling_phone}
    d.at(STORY.on(3, 10), "09:10")
    d.taps(LIAM, "Confirm")
    d.says(LIAM, "skip")
    d.at(STORY.on(3, 10), "09:12")
    d.opens(LIAM, "book")  # the offer's "Confirm:" link: the page agrees with the chat
    d.at(STORY.on(3, 10), "09:25")
    d.opens(LIAM, "pay", press="kind=full")


def meta_sets_template(d: Director, name: str, status: str, wait_for: str | None = None) -> None:
    """Meta changes a template's status: the fake Graph API posts Meta's
    `message_template_status_update` webhook (English), as Meta does."""
    d.print_block(
        "Meta (webhook message_template_status_update)",
        f"template {name} (en): {status}",
    )
    answer = httpx.post(
        f"{d.fake_url}/_fake/templates",
        json={"name": name, "language": "en", "status": status},
        timeout=30,
    )
    answer.raise_for_status()
    d.flush(wait_for=wait_for)


BREAKDOWN_PHOTO = Path(__file__).resolve().parent / "demo_media" / "vehicle-breakdown.jpg"
TRANSFER_RECEIPT = Path(__file__).resolve().parent / "demo_media" / "transfer-receipt.jpg"


def workflow_3(d: Director) -> None:
    from backend.db import transaction
    from backend.models import Incident, Trip
    from backend.services import catalog, trips

    heading("Workflow 3: Guide Reports Issue → Ops Resolution → Customer Notification")
    with transaction() as s:
        pokhara = catalog.departure_on(s, catalog.get_product(s, "PKR"), STORY.pokhara)
        assert pokhara is not None
        trip = s.scalars(select(Trip).where(Trip.departure_id == pokhara.id)).one()
        reference = trip.reference
        guests = [b.contact.address for b in trips.guests_of(s, trip)]
    d.cast = {AMIT, PRIYA, guests[0]}  # one guest stands for the 15
    print(
        f"\nThe story's day again: the Pokhara Sightseeing trip {reference} has been under way "
        "since 08:00 with Amit Sharma and 15 guests."
    )
    d.shown_day = None
    d.at(STORY.pokhara, "10:30")
    d.says(
        AMIT,
        f"ISSUE {reference} Vehicle breakdown at Pokhara checkpoint. Engine failure. 15 guests waiting.",
    )
    d.at(STORY.pokhara, "10:31")
    d.sends_photo(AMIT, BREAKDOWN_PHOTO, "Engine failure, waiting at the checkpoint")
    with transaction() as s:
        incident_id = s.scalar(select(Incident.id).where(Incident.trip_id == trip.id))
    d.at(STORY.pokhara, "10:35")
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
    with transaction() as s:
        from backend import links
        from backend.models import Booking

        first = s.scalars(select(Booking).where(Booking.contact.has(phone=guests[0]))).first()
        assert first is not None
        # The track link from when the trip started this morning (sent before the story).
        d.received.setdefault(guests[0], []).append(links.track_url(first.ref_key))
    d.at(STORY.pokhara, "10:40")
    d.opens(guests[0], "track")
    d.at(STORY.pokhara, "11:20")
    d.says(
        AMIT,
        f"UPDATE {reference} Backup vehicle arrived. Guests transferred. Resuming journey. All good!",
    )


def workflow_4(d: Director) -> None:
    """Issue 27: the weather grounds the Lukla flights before the next season's March 15
    departure. Operations move it to March 17 with the admin API (a new departure); each
    party answers the offer in the chat with its buttons (two accept, one chooses March 29
    from the list), and Rajesh accepts the new dates' assignment."""
    from backend import texts
    from backend.db import transaction
    from backend.models import Departure
    from devkit.demo_data import NEXT_SEASON_GUESTS, load_next_season

    heading("Workflow 4: Lukla Flights Cancelled → Departure Moved → Guests Answer in the Chat")
    guests = [phone for _, phone, _ in NEXT_SEASON_GUESTS]
    for name, phone, _ in NEXT_SEASON_GUESTS:
        d.names[phone] = f"{name} (customer)"
    # The next season: whatever the year's timers still had to send goes out (counted only).
    d.cast = set()
    d.shown_day = None
    d.at(STORY.next_ebc - timedelta(days=2), "07:00")
    print(
        f"\nThe next season. Three parties ({', '.join(n for n, _, _ in NEXT_SEASON_GUESTS)}) "
        f"have booked and paid the EBC departure of {STORY.next_ebc:%B} {STORY.next_ebc.day}; "
        "Rajesh Kumar leads it. Two days before it, cloud grounds every flight to Lukla on "
        "March 13 and 14: the group cannot reach the trailhead on its dates."
    )
    d.flush(settle=3.0)
    with transaction() as s:
        season = load_next_season(s)
    ids = season.departures
    d.tokens["Priya"] = season.ops_token  # her program's token for this season
    d.flush(settle=3.0)  # what their new bookings' timers send at once (counted only)
    d.cast = {*guests, PRIYA, RAJESH}
    # The guests have heard: each asks in the chat (which also opens the 24-hour window, so
    # the offer's buttons reach them).
    for hhmm, phone, text in (
        (
            "07:30",
            guests[0],
            "if the lukla flights get cancelled and the trek can't go ahead, do we get our "
            "money back or only a new date?",
        ),
        ("07:40", guests[1], "will you pay us back if the flights to Lukla are cancelled?"),
        (
            "07:45",
            guests[2],
            "what if the trek is cancelled because of bad weather, do I get a refund?",
        ),
    ):
        d.at(STORY.next_ebc - timedelta(days=2), hhmm)
        d.says(phone, text)
    d.at(STORY.next_ebc - timedelta(days=2), "08:00")
    before = {phone: len(d.received.get(phone, [])) for phone in (*guests, RAJESH)}
    d.staff(
        "Priya",
        "POST",
        f"/api/departures/{ids['EBC next']}/move",
        "the departure moves two days later: a new departure, every party asked in the chat",
        {
            "startDate": STORY.next_ebc_moved.isoformat(),
            "reason": "no flights to Lukla on March 13 and 14 because of the weather",
        },
    )
    _wait_for_each(d, before)  # every offer, and Rajesh's assignment for the new dates
    d.at(STORY.next_ebc - timedelta(days=2), "08:10")
    d.taps(guests[0], "Accept new dates")
    d.at(STORY.next_ebc - timedelta(days=2), "08:12")
    d.taps(guests[1], "Accept new dates")
    # The third party would rather go two weeks later: the list of departures with seats.
    d.at(STORY.next_ebc - timedelta(days=2), "08:20")
    d.taps(guests[2], "Other dates")
    with transaction() as s:
        later = s.get(Departure, ids["EBC next later"])
        assert later is not None
        row = texts.reschedule_row_title(later)  # the list row's title, as the product writes it
    d.at(STORY.next_ebc - timedelta(days=2), "08:21")
    d.taps(guests[2], row)
    d.at(STORY.next_ebc - timedelta(days=2), "08:30")
    d.taps(RAJESH, "Accept")
    d.mail(wait_for="rajesh@")
    d.at(STORY.next_ebc - timedelta(days=2), "09:00")
    board = d.staff(
        "Priya",
        "GET",
        f"/api/departures/{ids['EBC next']}/move",
        "the move's board: who answered what",
    )
    lines = [f"Moving to {board['move']['toDate']}: {board['move']['reason']}"]
    for column, rows in board["board"].items():
        who = ", ".join(
            f"{r['customer']['name']} ({r['booking']}, {r['partySize']} pax)" for r in rows
        )
        lines.append(f"{column}: {who or '-'}")
    d.print_block("The move's board, as Priya reads it", "\n".join(lines))


def final_states(d: Director | None = None) -> None:
    from backend.db import transaction
    from backend.models import Booking, Incident, Lead, PayrollEntry, Trip
    from backend.services import feedback, mail_outbox, timeline

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
        _moves(s)
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
        _ledger(s)
        from collections import Counter

        from backend.models.scheduling import apscheduler_jobs

        figures = feedback.satisfaction(s)
        print(
            f"Satisfaction: {figures['count']} rating{'s' if figures['count'] != 1 else ''}, "
            f"average {figures['average']}"
            + "".join(f"; {g['name']} {g['average']} ({g['count']})" for g in figures["guides"])
            + " (GET /api/feedback/summary)"
        )
        mails = mail_outbox.depth(s)
        print("E-mails: " + ", ".join(f"{n} {status}" for status, n in sorted(mails.items())))
        kinds = Counter(job_id.split(":")[0] for job_id in s.scalars(select(apscheduler_jobs.c.id)))
        print(
            f"Scheduler: {sum(kinds.values())} timers waiting in the job store ("
            + ", ".join(f"{kind} {n}" for kind, n in sorted(kinds.items()))
            + "); `tms timers list` shows them"
        )
    if d is not None:
        _whatsapp_spend(d)


def _whatsapp_spend(d: Director) -> None:
    """The WhatsApp spend of the story's last month with billed messages (Meta prices each
    delivered message from 1 July 2025: workflow 4's month), as the console's KPIs page shows
    it to operations, from the admin API with Priya's token."""

    def spend(since: date, until: date) -> tuple[str, dict[str, Any]]:
        path = f"/api/message-spend?since={since.isoformat()}&until={until.isoformat()}"
        answer = httpx.get(
            f"{d.backend_url}{path}",
            headers={"Authorization": f"Bearer {d.tokens['Priya']}"},
            timeout=30,
        )
        answer.raise_for_status()
        return path, answer.json()

    start = STORY.today.replace(day=1)
    _, story = spend(start, STORY.today.replace(year=STORY.today.year + 3))
    months = sorted(m["month"] for m in story["byMonth"])
    if months:
        year, month = (int(part) for part in months[-1].split("-"))
        start = date(year, month, 1)
    end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    path, spent = spend(start, end)

    def line(items: list[dict[str, Any]], key: str) -> str:
        return (
            ", ".join(f"{i[key]} {i['amount']} {i['currency']} ({i['messages']})" for i in items)
            or "nothing billed"
        )

    total = ", ".join(f"{v} {c}" for c, v in spent["total"].items()) or "0"
    print(
        f"WhatsApp spend, {start:%B %Y} (GET {path}): {total} for"
        f" {spent['billable']} billed of {spent['messages']} delivered messages"
    )
    print(f"    by purpose: {line(spent['byPurpose'], 'purpose')}")
    print(f"    by country: {line(spent['byCountry'], 'country')}")


def _moves(s: Any) -> None:
    """Workflow 4: each moved departure, where each of its bookings is now and what it
    answered, and the staff on the new dates' trip."""
    from backend.models import Assignment, DepartureMove, Staff, Trip
    from backend.services import departure_moves

    for move in s.scalars(select(DepartureMove).order_by(DepartureMove.created_at)):
        source, target = move.departure, move.to_departure
        print(
            f"Departure moved: {source.product.code} {source.start_date} → {target.start_date} "
            f"({move.reason})"
        )
        for offer in departure_moves.offers_of(s, move):
            b = offer.booking
            print(
                f"    Booking {b.reference} ({b.contact.display_name}, {b.party_size} pax): "
                f"answered {offer.status}, now on {b.departure.start_date}, {b.status}, "
                f"payments {b.payment_status}"
            )
        for assignment, member in s.execute(
            select(Assignment, Staff)
            .join(Staff, Staff.id == Assignment.staff_id)
            .join(Trip, Trip.id == Assignment.trip_id)
            .where(Trip.departure_id == target.id)
        ):
            print(
                f"    {member.name} ({assignment.role}) on the {target.start_date} trip "
                f"{assignment.trip.reference}: {assignment.status}"
            )


def _ledger(s: Any) -> None:
    """The story's money, as the ledger has it, and the accountant's CSV: its rows add up to
    what every booking in it has paid."""
    import csv
    import io
    from collections import defaultdict
    from decimal import Decimal

    from sqlalchemy import func

    from backend.models import Booking, LedgerEntry, LedgerKind
    from backend.services import ledger, ledger_export

    refunded = select(LedgerEntry.booking_id).where(LedgerEntry.kind == str(LedgerKind.REFUND))
    story = s.scalars(
        select(Booking)
        .where(Booking.lead_id.is_not(None) | Booking.id.in_(refunded))
        .order_by(Booking.created_at)
    ).all()
    for booking in story:
        for e in ledger.entries_of(s, booking):
            ref = e.receipt_number or e.provider_ref or e.note or ""
            print(
                f"Ledger {booking.reference}: {e.kind} by {e.method}, "
                f"{e.amount_minor / 100:,.2f} {e.currency} ({ref[:40]})"
            )
    # From the first movement to the last (the story's clock ends back on its first day).
    first, last = s.execute(
        select(func.min(LedgerEntry.recorded_at), func.max(LedgerEntry.recorded_at))
    ).one()
    start, end = (clock.as_utc(at).astimezone(get_settings().tz).date() for at in (first, last))
    text = ledger_export.csv_text(
        s, ledger_export.day_start(start), ledger_export.day_start(end + timedelta(days=1))
    )
    rows = list(csv.DictReader(io.StringIO(text)))
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        if row["kind"] != LedgerKind.SURCHARGE:
            sums[row["booking"]] += Decimal(row["base_amount"])
    paid = {b.reference: Decimal(b.paid_minor) / 100 for b in s.scalars(select(Booking))}
    balanced = all(paid.get(ref) == total for ref, total in sums.items())
    print(
        f"Ledger CSV for the accountant (GET /api/ledger.csv?from={start}&to={end}): "
        f"{len(rows)} movements of {len(sums)} bookings; "
        + ("every booking's rows add up to what it has paid ✓" if balanced else "DOES NOT BALANCE")
    )


def console(base_url: str, fake_graph_url: str, *, serve: bool) -> None:
    """A past for the KPIs page, then the console's address and one-time sign-in links."""
    from backend.db import transaction
    from backend.domain.actor import SYSTEM
    from backend.services import staff as staff_service
    from backend.services import staff_auth
    from devkit.demo_history import seed_history

    heading("The staff console")
    with transaction() as s:
        history = seed_history(s)
        links = {}
        for name, phone in (("Sarah (sales)", SARAH), ("Priya (operations)", PRIYA)):
            member = staff_service.by_phone(s, phone)
            assert member is not None
            links[name] = staff_auth.login_link(s, member, SYSTEM)
    print(
        f"Seeded {history.leads} past leads, {history.bookings} paid bookings, "
        f"{history.trips} finished trips and {history.incidents} incidents for the KPIs page."
    )
    print(f"Console: {base_url}/console/")
    for name, link in links.items():
        print(f"One-time sign-in link for {name}: {link}")
    if serve:
        print(
            "Write as a customer while the console is open (a new lead shows up live): "
            f"FAKE_GRAPH_URL={fake_graph_url} .venv/bin/tms chat --phone +61412000777"
        )
    else:
        print(
            "The demo's stack stops now, so these links close with it: `make demo-serve` "
            "(`.venv/bin/tms demo --serve`) runs the same demo and keeps the console open."
        )


def _serve_port() -> int:
    wanted = int(os.environ.get("DEMO_PORT", "8000") or 0)
    if wanted == 0:
        return free_port()
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", wanted))
        except OSError:
            return free_port()
    return wanted


def main() -> None:
    sys.exit(run_demo(serve="--serve" in sys.argv))
