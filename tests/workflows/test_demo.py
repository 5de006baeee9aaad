"""`make demo`'s command, as a new user runs it: the four workflows through the real stack on
the embedded defaults (a fresh SQLite file, the fake Graph API, the local payment provider)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from datetime import date
from pathlib import Path

import httpx
import pytest

from devkit.demo_data import STORY
from tests.processes import ROOT

pytestmark = pytest.mark.rasa


def _run_demo_and_serve(env: dict[str, str], transcript: Path) -> tuple[str, subprocess.Popen]:
    """`tms demo --serve` (the demo, then the stack stays up): its transcript once it serves."""
    with transcript.open("w") as out:
        process = subprocess.Popen(
            [str(ROOT / ".venv/bin/tms"), "demo", "--serve"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        text = transcript.read_text()
        if "Ctrl-C stops it" in text or process.poll() is not None:
            return text, process
        time.sleep(1)
    process.send_signal(signal.SIGINT)
    raise AssertionError(
        "the demo did not finish in 15 minutes:\n" + transcript.read_text()[-3000:]
    )


def _console_opens_with_the_printed_link(out: str) -> None:
    """The console the demo leaves running opens with Sarah's one-time link, and its KPIs
    page shows the seeded past."""
    link = re.search(r"One-time sign-in link for Sarah \(sales\): (\S+)", out)
    assert link, out[-2000:]
    with httpx.Client(timeout=30) as browser:
        page = browser.get(link.group(1))
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        signed = browser.post(link.group(1), data={"csrf": csrf})
        assert signed.status_code == 303
        base = link.group(1).split("/console/")[0]
        kpis = browser.get(f"{base}/console/kpis")
        # The seeded past's leads, Emma's and Jonas's (the German speaker) in the last 90 days.
        leads = re.search(r'data-kpi="leads">(\d+) <small>', kpis.text)
        assert kpis.status_code == 200 and leads and int(leads.group(1)) >= 3, kpis.text[-2000:]
        inbox = browser.get(f"{base}/console/leads")
        assert "Emma Clarke" in inbox.text
    # Priya (operations) sees Amit's photo on the workflow 3 incident.
    link = re.search(r"One-time sign-in link for Priya \(operations\): (\S+)", out)
    assert link, out[-2000:]
    with httpx.Client(timeout=30) as browser:
        page = browser.get(link.group(1))
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        assert browser.post(link.group(1), data={"csrf": csrf}).status_code == 303
        base = link.group(1).split("/console/")[0]
        board = browser.get(f"{base}/console/incidents").text
        pages = [
            browser.get(f"{base}/console/incidents/{found}").text
            for found in dict.fromkeys(
                re.findall(r'href="/console/incidents/([0-9a-f-]{36})"', board)
            )
        ]
        page = next((p for p in pages if "Vehicle breakdown at Pokhara checkpoint" in p), "")
        photo = re.search(r'<img src="(/console/media/[0-9a-f-]{36})"', page)
        assert photo and "Engine failure, waiting at the checkpoint" in page, page[-3000:]
        served = browser.get(base + photo.group(1))
        assert served.headers["content-type"] == "image/jpeg" and served.content[:2] == b"\xff\xd8"


def test_the_demo_plays_the_four_workflows(trained_model, tmp_path):
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL",)}
    env["TMS_VAR_DIR"] = str(tmp_path)
    env["DEMO_PORT"] = "0"  # any free port: tests may run next to a demo on 8000
    out, process = _run_demo_and_serve(env, tmp_path / "transcript.txt")
    try:
        assert process.poll() is None, out[-3000:]
        _console_opens_with_the_printed_link(out)
    finally:
        process.send_signal(signal.SIGINT)
        # Each part has 20 s to stop after Ctrl-C before it is killed: a condition, not a sleep.
        process.wait(timeout=180)
    assert process.returncode == 0, out[-3000:]
    year, season = STORY.season - 1, STORY.season
    # The workflows' calendar and numbers, on whatever day the demo runs.
    for line in (
        "Workflow 1: Customer Enquiry → Booking → Trip Completion",
        f"--- Monday, December 23, {year} ---",
        "[13:50] Emma Clarke (customer) writes on WhatsApp",
        "I've created your enquiry (Ref: EBC",
        f"📅 Departure: March 15-28, {season} (14 days)",
        "Early bird discount (book before Jan 31): $6,840",
        "Perfect! I've reserved 3 spots on our March 15 EBC Trek.",
        f"⏰ Hold expires: Dec 24, {year} 2:00 PM",
        "1. Pay deposit: $2,052 (30%)",
        "🎉 Booking Confirmed!",
        f"Balance: $4,788 (due Feb 28, {season})",
        f"--- Friday, February 21, {season} ---",
        f"💳 Reminder: the balance for EBC-{year % 100}12",
        f"is due on Feb 28, {season}.",
        f"--- Saturday, March 1, {season} ---",
        "Hi! Your EBC Trek starts in 14 days! 🏔️",
        "Pre-departure checklist:",
        "Balance payment: $4,788",  # Emma's, two weeks before: she pays it in cash on arrival
        "Balance: fully paid ✓",  # Liam's, paid in full
        "✓ Assignment confirmed!",
        "Start date: March 15, 6:00 AM",
        f"--- Saturday, March 15, {season} ---",
        "✓ Checked in to EBC Trek",
        "Your EBC Trek has started! 🎉",
        "Severity: Medium",
        "Payroll: $800 added.",
        "Workflow 2: Slot Full → Waitlist → Auto-Confirm",
        "March 20: FULLY BOOKED ❌",
        "March 27: Available ✓",
        "Position: #3 on waitlist",
        f"--- Monday, March 10, {season} ---",
        # Issue 23: the customer who cancelled chooses a refund the policy allows; it is paid.
        "Under our cancellation policy (cancelled 10 days before departure",
        "chose a refund of $1,620",
        "We've refunded $1,620 for ANN-",
        # Issue 26: Meta pauses a template (its webhook); operations are told, the update
        # inside the customer's window goes as a normal message; Meta approves it again.
        "Meta (webhook message_template_status_update)",
        "template customer_update (en): PAUSED",
        "⚠️ WhatsApp template customer_update (en): Meta paused it for low quality",
        "inside their 24-hour window the update went as a normal message",
        "template customer_update (en): APPROVED",
        "🎉 SPOT AVAILABLE!",
        "Your patience paid off! 🎉",
        "Date: March 20-April 3",
        "Workflow 3: Guide Reports Issue → Ops Resolution → Customer Notification",
        # Issue 25: travellers in their own language.
        "Vielen Dank für Ihr Interesse",
        "[ Plätze reservieren ]",
        "Jonas's booking: HELD",
        "Italian",
        "[10:30] Amit Sharma (guide) writes on WhatsApp",
        "Severity: High",
        "Time: 10:30 AM",
        # Every choice is a tap, and the guide's photo is filed on the incident.
        "[ Hold my seats ]  [ Not now ]",
        "Rajesh Kumar (guide) taps on WhatsApp",
        "☰ Waitlist Mar 20",
        "Liam Walsh (customer) taps on WhatsApp",
        "[10:31] Amit Sharma (guide) sends a photo on WhatsApp",
        "is added to the open issue on TRP",
        "✓ RESOLVED",
        "Incident closed: 11:20 AM",
        "Response time: 50 minutes",
        "✅ All Set!",
        "Booking EBC-",
        "RESOLVED, response time 50 min",
        "timers waiting in the job store",
        # Issue 26: the month's WhatsApp spend, as the KPIs page shows it to operations.
        "(GET /api/message-spend?since=",
        "    by purpose: ",
        "    by country: ",
        # The story's money in the ledger, and the accountant's CSV that balances.
        "payment by bank_transfer, 2,052.00 USD (proof:",
        "payment by cash, 4,788.00 USD (CR-EBC",
        "refund by local, -1,620.00 USD",
        "every booking's rows add up to what it has paid ✓",
        # The links: followed, and the pages tell the chat's story.
        "Emma Clarke (customer) opens pay link (200)",
        "[ Pay deposit (30%) $2,052 ]",
        # Issue 23: the deposit by bank transfer, its receipt checked; the balance in cash.
        "🏦 Pay by bank transfer",
        "Emma Clarke (customer) sends a photo on WhatsApp",
        "We've received your payment receipt for EBC-",
        "POST /api/payment-proofs/",
        f"PAID EBC-{year % 100}12",
        f"🧾 Cash receipt CR-EBC{year % 100}12",
        "Paid in full ✓",
        "E-mail → emma.clarke@example.com",
        "Subject: Booking confirmed: Everest Base Camp Trek",
        f"pre-trek-guide-ebc-{season}-03-15.pdf",
        "E-mail → rajesh@adventure-treks.example",
        "Emma Clarke (customer) opens track link (200)",
        "Lead guide: Rajesh Kumar",
        "Emma Clarke (customer) opens feedback link (200)",
        "Thank you! 🙏",
        "Liam Walsh (customer) opens book link (200)",
        "Spot reserved ✓",
        "opens track link (200)",
        "Travel update 📍",
        # Issue 24: the travellers' papers, in the chat's Flow and on the page, chased two
        # weeks before the trip, verified and exported; their insurers on the mountain.
        "Tap below to add traveller 1's details (1 of 3)",
        "[ Add details ]",
        "Emma Clarke (customer) fills in the Flow on WhatsApp",
        "Thanks! Emma Clarke's details are saved. Still to come:",
        "Tap below to add traveller 2's details (2 of 3)",
        "Emma Clarke (customer) fills in traveller 2 on the papers page",
        "Emma Clarke (customer) fills in traveller 3 on the papers page",
        "Traveller 3: Chloe Nguyen\n    Saved ✓",
        "Your insurance cover ends below the trek's highest point: our operations team will be in touch.",
        "(template papers_reminder, outside the 24-hour window)",
        "we still need: Emma Clarke: a portrait photo; Oliver Clarke: the two photos; "
        "Chloe Nguyen: the two photos.",
        "Photo received ✓",
        "Chloe Nguyen's papers are verified ✓",
        "3 of 3 complete, 3 verified; flags: cover_below_altitude",
        "permits.csv: ",
        " traveller rows",
        "permits.pdf: ",
        "World Nomads policy WN-58213377, 24-hour assistance +442038650411",
        "Satisfaction: 1 rating, average 5.0",
        "Seeded 140 past leads",
        "Console: http://127.0.0.1:",
        "tms mail list",
    ):
        assert line in out, f"missing from the demo transcript: {line!r}"
    assert "still waiting for a message" not in out
    # Issue 26: the spend of the story's last priced month (workflow 4's), per purpose and
    # country, as the KPIs page shows it to operations.
    spent = re.search(
        r"WhatsApp spend, \w+ \d{4} \(GET /api/message-spend\?since=\S+\): ([\d.]+) USD for", out
    )
    assert spent and float(spent.group(1)) > 0, out[-3000:]
    assert re.search(r"    by purpose: [a-z]+ [\d.]+ USD \(\d+\)", out), out[-3000:]
    assert re.search(r"    by country: [A-Z]{2} [\d.]+ USD \(\d+\)", out), out[-3000:]
    # The seeded bookings' papers alerts to operations are counted, not printed one by one.
    assert out.count("📋 Papers incomplete:") <= 4, out.count("📋 Papers incomplete:")
    assert "no e-mail to" not in out and "link in the last message" not in out
    assert "COMPLETED, payments FULL_PAID" in out and "TRP" in out and ": ENDED" in out
    assert (tmp_path / "demo" / "demo.sqlite3").exists()
    # The permit worksheet Priya downloaded is a PDF in var/demo, as the transcript says.
    saved = re.search(r"permits\.pdf: \d+ KB saved to (\S+\.pdf)", out)
    assert saved and Path(saved.group(1)).read_bytes()[:5] == b"%PDF-", out[-3000:]
    # `tms mail list` shows what the demo's local SMTP server caught.
    listed = subprocess.run(
        [str(ROOT / ".venv/bin/tms"), "mail", "list"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    assert "emma.clarke@example.com" in listed and "rajesh@adventure-treks.example" in listed
    assert "pre-trek-guide-ebc" in listed
    _workflow_4_moved_the_departure(out)


def _workflow_4_moved_the_departure(out: str) -> None:
    """Issue 27: the next season's March 15 EBC departure moved to March 17 through the admin
    API; each party answered in the chat (two took the new dates, one chose March 29 from the
    list); Rajesh accepted the new dates' assignment."""
    nxt = STORY.season + 1
    part = out[out.index("Workflow 4: Lukla Flights Cancelled") :]
    for line in (
        f"--- {date(nxt, 3, 13):%A}, March 13, {nxt} ---",
        "Priya (admin API)\n    POST /api/departures/",
        "/move  # the departure moves two days later",
        f"the EBC departure of March 15-28, {nxt} cannot run on its dates (no flights to Lukla "
        "on March 13 and 14 because of the weather).",
        f"We have kept your 2 seat(s) on March 17-30, {nxt}.",
        "[ Accept new dates ]  [ Other dates ]  [ Cancel ]",
        "Hannah Weber (customer) taps on WhatsApp\n    [ Accept new dates ]",
        "Tom Fischer (customer) taps on WhatsApp\n    [ Accept new dates ]",
        "Maya Okafor (customer) taps on WhatsApp\n    [ Other dates ]",
        f"☰ March 29-April 11, {nxt}",
        f"Maya Okafor (customer) taps on WhatsApp\n    [ March 29-April 11, {nxt} ]",
        f"is now on EBC from March 17-30, {nxt}. Everything is paid",
        f"is now on EBC from March 29-April 11, {nxt}. Everything is paid",
        "Trek: EBC - March 17-30",
        "Rajesh Kumar (guide) taps on WhatsApp\n    [ Accept ]",
        "✓ Assignment confirmed!",
        "The move's board, as Priya reads it",
    ):
        assert line in part, f"missing from workflow 4's transcript: {line!r}"
    # Every offer went out as a message with its buttons (the window open), and nobody waited.
    assert part.count("⚠️ Important news about booking EBC-") == 3, part[:6000]
    assert "waiting: -" in part and "to_call: -" in part
    # The final states: the move, every booking's answer and where it is now, the guide.
    moved = re.search(
        rf"Departure moved: EBC {nxt}-03-15 → {nxt}-03-17 \(no flights to Lukla[^)]*\)\n"
        r"((?:    .*\n)+)",
        out,
    )
    assert moved, out[-4000:]
    rows = moved.group(1).splitlines()
    answers = [re.search(r"answered (\w+), now on (\S+), (\w+),", r) for r in rows]
    answered = sorted((a.group(1), a.group(2), a.group(3)) for a in answers if a)
    assert answered == [
        ("ACCEPTED", f"{nxt}-03-17", "CONFIRMED"),
        ("ACCEPTED", f"{nxt}-03-17", "CONFIRMED"),
        ("MOVED_ELSEWHERE", f"{nxt}-03-29", "CONFIRMED"),
    ], rows
    assert any("Maya Okafor" in r and f"now on {nxt}-03-29" in r for r in rows), rows
    assert any(
        r.startswith(f"    Rajesh Kumar (LEAD_GUIDE) on the {nxt}-03-17 trip TRP")
        and r.endswith(": ACCEPTED")
        for r in rows
    ), rows
