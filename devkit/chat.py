"""`tms chat --phone +61412000001`: chat as that customer or guide through the real stack.

Each line you type goes to the fake Graph API, which sends it to the backend as a signed
webhook, exactly as Meta would; the replies are shown as the product sends them. Typing a
button's or list row's title exactly (e.g. `Accept`, `[Accept]`) taps it: what goes back is
the tap with its payload, as the phone would send it.
"""

from __future__ import annotations

import os
import sys
import time

import httpx

from backend.config import get_settings
from backend.domain.phones import normalise_phone, wa_id


def fake_url() -> str:
    return os.environ.get("FAKE_GRAPH_URL") or f"http://127.0.0.1:{get_settings().fake_graph_port}"


def show(message: dict) -> str:
    if message["type"] == "template":
        return f"[template {message['template']}] " + " | ".join(
            message.get("template_params") or []
        )
    text = message.get("text") or ""
    if message.get("interactive") == "list":
        text += "\n☰ " + "\n☰ ".join(message.get("buttons") or [])
    elif message.get("buttons"):
        text += "\n" + "  ".join(f"[{b}]" for b in message["buttons"])
    return text


def tap_for(text: str, shown: list[dict]) -> dict | None:
    """The inbound body of a tap when `text` is the title of a choice just shown, else None."""
    wanted = text.strip().strip("[]").strip().casefold()
    for message in reversed(shown):
        for choice in message.get("choices") or []:
            if choice["title"].casefold() == wanted:
                if message["type"] == "template":
                    return {"type": "button", "payload": choice["id"], "text": choice["title"]}
                kind = "list_reply" if message.get("interactive") == "list" else "button_reply"
                return {
                    "type": "interactive",
                    "reply_type": kind,
                    "payload": choice["id"],
                    "text": choice["title"],
                }
    return None


def send_and_collect(
    client: httpx.Client,
    phone: str,
    text: str,
    since: int,
    wait: float,
    tap: dict | None = None,
) -> tuple[list[dict], int]:
    """Send one message (or tap), then collect the replies until `wait` seconds pass quietly."""
    client.post(
        "/_fake/inbound", json={"from": phone, "text": text, "name": "tms chat", **(tap or {})}
    ).raise_for_status()
    replies: list[dict] = []
    deadline = time.monotonic() + wait
    quiet_until = None
    while time.monotonic() < deadline:
        answer = client.get("/_fake/messages", params={"since": since}).json()
        new = [m for m in answer["messages"] if m["to"] == wa_id(phone)]
        since = answer["total"]
        if new:
            replies += new
            quiet_until = time.monotonic() + 1.5
        if quiet_until and time.monotonic() > quiet_until:
            break
        time.sleep(0.2)
    return replies, since


def chat(phone: str, say: list[str] | None = None, wait: float = 30.0) -> int:
    phone = normalise_phone(phone)
    with httpx.Client(base_url=fake_url(), timeout=10) as client:
        try:
            since = client.get("/_fake/messages").json()["total"]
        except httpx.HTTPError:
            print(
                f"chat: the fake Graph API at {fake_url()} is not answering; start the stack with `make serve`",
                file=sys.stderr,
            )
            return 1
        lines = say
        shown: list[dict] = []
        if lines is None:
            print(f"Chatting as {phone}. Type a message; Ctrl-D to leave.")
        while True:
            if lines is None:
                try:
                    text = input("you> ").strip()
                except EOFError:
                    print()
                    return 0
            else:
                if not lines:
                    return 0
                text = lines.pop(0)
                print(f"you> {text}")
            if not text:
                continue
            replies, since = send_and_collect(
                client, phone, text, since, wait, tap=tap_for(text, shown)
            )
            shown = replies or shown
            for message in replies:
                print(
                    "\n".join(
                        f"bot> {line}" if i == 0 else f"     {line}"
                        for i, line in enumerate(show(message).splitlines())
                    )
                )
            if not replies:
                print("bot> (no reply yet; it will show with your next message)")
