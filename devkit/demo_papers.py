"""The demo's traveller file (issue 24): Emma's three travellers' papers, given in the chat's
WhatsApp Flow and on the papers page, chased two weeks before the trip, verified by operations
and exported as the permit worksheet; their insurers on the mountain.

The people and their papers are made up; every date is the story's (the trip's start and end,
the story's first day), never a literal.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx

from devkit.demo_reading import link_in, page_text

# devkit.demo.Director, which plays the people: importing it here would be a cycle (it
# imports this module to tell the papers' part of the story).
Director = Any


def travellers(today: date, start: date, end: date) -> dict[int, dict[str, str]]:
    """Emma's party of three, by position (1 is Emma, the booker), by field name
    (backend/domain/travellers.py FIELDS). Oliver's cover stops at 5,000 m, below Kala
    Patthar (5,545 m): operations see a flag."""
    expiry = (end + timedelta(days=4 * 365)).isoformat()
    arrival = (start - timedelta(days=2)).isoformat()
    return {
        1: {
            "full_name": "Emma Clarke",
            "nationality": "GB",
            "passport_number": "533184276",
            "passport_expiry": expiry,
            "date_of_birth": (today - timedelta(days=34 * 365 + 71)).isoformat(),
            "sex": "F",
            "insurer": "World Nomads",
            "policy_number": "WN-58213377",
            "assistance_phone": "+442038650411",
            "covers_helicopter": "yes",
            "cover_altitude_m": "6000",
            "emergency_name": "David Clarke",
            "emergency_relationship": "Father",
            "emergency_phone": "+447911123456",
            "diet": "",
            "medical": "",
            "arrival_flight": "QR650",
            "arrival_date": arrival,
        },
        2: {
            "full_name": "Oliver Clarke",
            "nationality": "GB",
            "passport_number": "548812903",
            "passport_expiry": (end + timedelta(days=6 * 365)).isoformat(),
            "date_of_birth": (today - timedelta(days=36 * 365 + 204)).isoformat(),
            "sex": "M",
            "insurer": "True Traveller",
            "policy_number": "TT-4471902",
            "assistance_phone": "+441617100800",
            "covers_helicopter": "yes",
            "cover_altitude_m": "5000",
            "emergency_name": "David Clarke",
            "emergency_relationship": "Father",
            "emergency_phone": "+447911123456",
            "diet": "",
            "medical": "Mild asthma (inhaler)",
            "arrival_flight": "QR650",
            "arrival_date": arrival,
        },
        3: {
            "full_name": "Chloe Nguyen",
            "nationality": "AU",
            "passport_number": "PA4417290",
            "passport_expiry": (end + timedelta(days=3 * 365)).isoformat(),
            "date_of_birth": (today - timedelta(days=31 * 365 + 12)).isoformat(),
            "sex": "F",
            "insurer": "Cover-More",
            "policy_number": "CM-20931144",
            "assistance_phone": "+61280559300",
            "covers_helicopter": "yes",
            "cover_altitude_m": "6000",
            "emergency_name": "Linh Nguyen",
            "emergency_relationship": "Mother",
            "emergency_phone": "+61412555019",
            "diet": "Vegetarian",
            "medical": "",
            "arrival_flight": "TG319",
            "arrival_date": (start - timedelta(days=3)).isoformat(),
        },
    }


def photo_jpeg(kind: str, seed: int) -> bytes:
    """A small generated photo: a passport's photo page (landscape) or a portrait."""
    from PIL import Image, ImageDraw

    size = (640, 450) if kind == "passport_photo" else (360, 480)
    image = Image.new("RGB", size, (200 + seed * 10, 190, 170 - seed * 20))
    draw = ImageDraw.Draw(image)
    draw.ellipse((40, 60, 200, 260), fill=(120, 90, 70))
    for row in range(5):
        draw.rectangle((240, 80 + row * 40, 600 - seed * 30, 96 + row * 40), fill=(60, 60, 90))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def _api_names() -> dict[str, str]:
    from backend.domain.travellers import FIELDS

    return {f.name: f.api for f in FIELDS}


def _page_url(d: Director, phone: str) -> str:
    url = next(
        (u for t in reversed(d.received.get(phone, [])) if (u := link_in(t, "papers"))), None
    )
    if url is None:
        print(f"    (no papers link in the last message to {d.who(phone)})")
        raise SystemExit(1)
    return url


def _section(page: str, n: int) -> list[str]:
    """What the page says about traveller n: its heading, Saved, what is still needed, the
    flags, a photo received (not the form's labels)."""
    lines = page.splitlines()
    starts = [i for i, line in enumerate(lines) if re.match(rf"Traveller {n}\b", line)]
    if not starts:
        return []
    kept: list[str] = []
    needed = False
    for line in lines[starts[0] :]:
        if kept and re.match(r"Traveller \d", line):
            break
        if re.match(r"Traveller \d|Saved ✓|Photo received ✓|Your .*be in touch", line):
            kept.append(line)
            needed = False
        elif line.startswith("Still needed"):
            kept.append(line)
            needed = True
        elif needed and line[:1].islower() and len(kept) < 12:
            kept.append(f"  • {line}")
        else:
            needed = False
    return kept


def answers_flow(d: Director, phone: str, values: dict[str, str]) -> None:
    """The phone opens the Flow of the latest message that carries one and submits it
    (the fake Graph API sends it back as Meta's nfm_reply with the Flow's token)."""
    message = next((m for m in reversed(d.shown.get(phone, [])) if m.get("flow")), None)
    if message is None:
        print(f"    (no Flow in the messages to {d.who(phone)})")
        raise SystemExit(1)
    flow = message["flow"]
    shown = {k: v for k, v in values.items() if v}
    d.print_block(
        f"{d.who(phone)} fills in the Flow on WhatsApp",
        f"[ {flow.get('flow_cta')} ] → {shown['full_name']}, {shown['nationality']} passport, "
        f"{shown['insurer']} (helicopter to {int(shown['cover_altitude_m']):,} m), "
        f"emergency contact {shown['emergency_name']}, arriving {shown['arrival_flight']} "
        f"on {shown['arrival_date']} … [ Submit ]",
    )
    httpx.post(
        f"{d.fake_url}/_fake/inbound",
        json={
            "from": phone,
            "name": d.who(phone),
            "type": "flow_reply",
            "flow_token": flow["flow_token"],
            "response": shown,
            "context_id": message["id"],
        },
    ).raise_for_status()
    # The answer, and the Flow for the next traveller still missing something.
    d.flush(wait_for=phone, expect=2)


def fills_page(d: Director, phone: str, n: int, values: dict[str, str]) -> str:
    """Traveller n's section of the papers page, filled in and saved (the form posts the
    fields under their API names); what the page then says about traveller n is printed."""
    url = _page_url(d, phone)
    names = _api_names()
    d.print_block(
        f"{d.who(phone)} fills in traveller {n} on the papers page",
        f"{values['full_name']}, {values['nationality']} passport, {values['insurer']} "
        f"(helicopter to {int(values['cover_altitude_m']):,} m), emergency contact "
        f"{values['emergency_name']}, {values['arrival_flight']} on {values['arrival_date']}"
        + (f", diet: {values['diet']}" if values.get("diet") else "")
        + "  [ Save ]",
    )
    answer = httpx.post(
        f"{url}/{n}",
        data={names[k]: v for k, v in values.items()},
        timeout=60,
        follow_redirects=True,
    )
    return _show_section(d, phone, answer, n)


def _show_section(d: Director, phone: str, answer: httpx.Response, n: int) -> str:
    section = _section(_page_text(answer.text), n)
    d.print_block(f"{d.who(phone)} sees ({answer.status_code})", "\n".join(section))
    if answer.status_code != 200:
        raise SystemExit(1)
    d.flush()
    return "\n".join(section)


def uploads_photos(d: Director, phone: str, photos: list[tuple[int, str]]) -> str:
    """Photos added on the papers page, one form (one post) each."""
    url = _page_url(d, phone)
    token = url.rstrip("/").rsplit("/", 1)[1]
    base = url.split("/papers/")[0]
    words = {"passport_photo": "passport photo page", "portrait_photo": "portrait"}
    d.print_block(
        f"{d.who(phone)} adds photos on the papers page",
        "\n".join(f"📷 traveller {n}: {words[kind]}  [ Send ]" for n, kind in photos),
    )
    said: list[str] = []
    for n, kind in photos:
        answer = httpx.post(
            f"{base}/papers-photo/{token}/{n}/{kind}",
            files={"photo": (f"{kind}-{n}.jpg", photo_jpeg(kind, n), "image/jpeg")},
            timeout=60,
            follow_redirects=True,
        )
        if answer.status_code != 200 or "Photo received ✓" not in answer.text:
            d.print_block(f"papers page answered ({answer.status_code})", _page_text(answer.text))
            raise SystemExit(1)
        name = next(
            (line for line in _section(_page_text(answer.text), n) if line.startswith("Trav")),
            f"Traveller {n}",
        )
        said.append(f"{name}, {words[kind]}: Photo received ✓")
    d.print_block(f"{d.who(phone)} sees (200)", "\n".join(said))
    d.flush()
    return "\n".join(said)


def _page_text(html: str) -> str:
    return page_text(html)


def console_client(d: Director, phone: str) -> httpx.Client:
    """A browser signed in to the console with a one-time link (as `tms staff link` gives)."""
    from backend.db import transaction
    from backend.domain.actor import SYSTEM
    from backend.services import staff as staff_service
    from backend.services import staff_auth

    with transaction() as s:
        member = staff_service.by_phone(s, phone)
        assert member is not None
        link = staff_auth.login_link(s, member, SYSTEM)
    browser = httpx.Client(timeout=30)
    page = browser.get(link)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf, page.text[-1000:]
    signed = browser.post(link, data={"csrf": csrf.group(1)})
    if signed.status_code != 303:
        print(f"    (the console sign-in answered {signed.status_code})")
        raise SystemExit(1)
    return browser


def verifies(d: Director, who: str, phone: str, reference: str, positions: list[int]) -> None:
    """Operations check each traveller's photos against the details and press Verified on the
    booking's papers page in the console."""
    browser = console_client(d, phone)
    base = d.backend_url
    path = f"/console/bookings/{reference}/travellers"
    try:
        page = browser.get(base + path)
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert page.status_code == 200 and csrf, page.text[-1000:]
        d.print_block(
            f"{who} (console)",
            f"GET {path}  # the papers and both photos of each traveller, checked"
            + "".join(f"\n[ Verified ] traveller {n}" for n in positions),
        )
        said = []
        for n in positions:
            done = browser.post(
                f"{base}{path}/verify",
                data={"position": str(n), "csrf": csrf.group(1)},
                follow_redirects=True,
            )
            found = re.search(r"[^>]*papers are verified", done.text)
            if done.status_code != 200 or found is None:
                d.print_block(f"console answered ({done.status_code})", _page_text(done.text))
                raise SystemExit(1)
            said.append(found.group(0).replace("&#39;", "'").strip() + " ✓")
    finally:
        browser.close()
    d.print_block(f"{who} sees", "\n".join(said))
    d.flush()


def readiness(d: Director, who: str, departure_id: str, reference: str) -> None:
    found = d.staff(
        who, "GET", f"/api/departures/{departure_id}/readiness", "the departure's papers"
    )
    ours = next(b for b in found["bookings"] if b["booking"] == reference)
    flags = ", ".join(dict.fromkeys(f for t in ours["travellers"] for f in t.get("flags") or []))
    print(
        f"    {reference}: {ours['complete']} of {ours['total']} complete, "
        f"{ours['verified']} verified"
        + (f"; flags: {flags}" if flags else "")
        + f" · the departure: {found['complete']} of {found['total']} complete, "
        f"{found['verified']} verified"
    )


def exports(d: Director, who: str, departure_id: str, files_dir: Path) -> None:
    """The permit worksheet as CSV (its header and rows) and as a PDF saved for the reader."""
    for kind in ("csv", "pdf"):
        path = f"/api/departures/{departure_id}/permits.{kind}"
        d.print_block(f"{who} (admin API)", f"GET {path}  # the permit worksheet")
        answer = httpx.get(
            d.backend_url + path,
            timeout=60,
            headers={"Authorization": f"Bearer {d.tokens[who]}"},
        )
        if answer.status_code != 200:
            d.print_block("admin API answered", f"{answer.status_code} {answer.text[:500]}")
            raise SystemExit(1)
        if kind == "csv":
            rows = list(csv.reader(io.StringIO(answer.text)))
            print(f"    permits.csv: {', '.join(rows[0])}")
            print(f"    permits.csv: {len(rows) - 1} traveller rows")
        else:
            name = re.search(r'filename="([^"]+)"', answer.headers.get("content-disposition", ""))
            target = files_dir / (name.group(1) if name else "permits.pdf")
            target.write_bytes(answer.content)
            print(f"    permits.pdf: {len(answer.content) // 1024} KB saved to {target}")
    d.flush()


def insurers_on_the_mountain(d: Director, who: str, incident_id: str, reference: str) -> None:
    """The incident's guests as operations see them: Emma's group's insurers and their 24-hour
    assistance lines (one tap from calling them on the console's incident page)."""
    found: dict[str, Any] = d.staff(
        who,
        "GET",
        f"/api/incidents/{incident_id}/rescue?everyone=1",
        "the guests' insurers and emergency contacts",
    )
    guests = [g for g in found.get("guests") or [] if g["booking"] == reference]
    for g in guests:
        cover = (
            f"helicopter to {g['coverAltitudeM']:,} m"
            if g.get("coversHelicopter") and g.get("coverAltitudeM")
            else "no helicopter cover"
            if g.get("coversHelicopter") is False
            else "helicopter cover"
        )
        print(
            f"    {g['fullName']}: {g['insurer']} policy {g['policyNumber']}, "
            f"24-hour assistance {g['assistancePhone']} ({cover}); "
            f"emergency contact {g['emergencyName']} {g['emergencyPhone']}"
        )
    if not guests:
        print(f"    (no guest of {reference} in the incident's details)")
