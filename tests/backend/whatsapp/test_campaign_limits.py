"""The issue's campaign (issue 26) over the fake Graph API: 1,000 opted-in customers and a
messaging limit of 250. Only the limit's broadcast share goes out in the 24 hours, the rest
waits queued; opted-out and 131050-suppressed customers never get it; sending again sends
nobody twice; a message about a booking still goes; Meta's 131048 never comes."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select

from backend import clock
from backend.db import transaction
from backend.domain.enums import OutboxStatus
from backend.models import Campaign, OutboundMessage
from backend.services import campaigns, contacts, messaging_limits, outbox
from tests.backend.services.test_campaigns import ADMIN, build_world, seed_of
from tests.backend.whatsapp.test_sender import open_window, run_sender, wait_for


def _due() -> int:
    with transaction() as s:
        return int(
            s.scalar(
                select(func.count())
                .select_from(OutboundMessage)
                .where(
                    OutboundMessage.status == OutboxStatus.QUEUED,
                    (OutboundMessage.next_attempt_at.is_(None))
                    | (OutboundMessage.next_attempt_at <= clock.now()),
                )
            )
            or 0
        )


def _send_all_due() -> None:
    for _ in range(40):  # a bound: each pass claims up to a batch
        if not _due():
            return
        run_sender(passes=1, whatsapp_rate_per_second="400")
    raise AssertionError("the outbox never drained")


def test_a_campaign_to_1000_respects_the_limit_the_opt_outs_and_sends_each_once(fake):
    httpx.post(f"{fake}/_fake/config", json={"rate_per_second": 1000}).raise_for_status()
    # Meta says the limit (the webhook reaches the backend, which stores it).
    answer = httpx.post(f"{fake}/_fake/messaging_limit", json={"tier": "TIER_250"}).json()
    assert answer["webhook"] == 200
    with transaction() as s:
        assert messaging_limits.status(s)["tier"] == "TIER_250"
        assert messaging_limits.status(s)["source"] == "webhook"
        world = build_world(s, opted_in=1000, declined=20, stopped_by_meta=20)
        campaign = campaigns.create(
            s,
            name="Spring on Everest",
            template_name="departure_news",
            params=["Everest Base Camp", "Spring departures are open."],
            audience={"kind": "past_travellers", "product": "EBC"},
            actor=ADMIN,
            seed=seed_of("departure_news"),
        )
        assert campaigns.count_audience(s, campaign.audience)["optedIn"] == 1000
        assert campaigns.send(s, campaign.id, ADMIN)["queued"] == 1000
        campaign_id = campaign.id

    _send_all_due()
    sent = httpx.get(f"{fake}/_fake/messages").json()["messages"]
    news = [m for m in sent if m["template"] == "departure_news"]
    share = 250 - 25  # a tenth of the limit is left for messages about bookings
    assert len(news) == len({m["to"] for m in news}) == share
    reached = {f"+{m['to']}" for m in news}
    assert reached <= set(world.opted_in)
    assert not reached & set(world.declined + world.stopped_by_meta)
    with transaction() as s:
        campaign = s.get(Campaign, campaign_id)
        progress = campaigns.stats(s, campaign)
        assert (progress["queued"], progress["sent"], progress["waiting"]) == (1000, share, 775)

    # Sending again queues nobody twice.
    with transaction() as s:
        assert campaigns.send(s, campaign_id, ADMIN) == {"queued": 0, "already": 1000}
    _send_all_due()

    # A booking's message to someone new still goes: it comes first.
    with transaction() as s:
        guest = contacts.get_or_create_contact(s, "+61499000001")
        outbox.enqueue_text(
            s,
            to_phone="+61499000001",
            contact_id=guest.id,
            body="Your hold ends soon",
            purpose="customer_update",
            template_params=["Your hold ends soon"],
        )
    _send_all_due()
    assert [
        m["template"]
        for m in httpx.get(f"{fake}/_fake/messages", params={"to": "+61499000001"}).json()[
            "messages"
        ]
    ] == ["customer_update"]

    limit = httpx.get(f"{fake}/_fake/messaging_limit").json()
    assert limit["refused"] == 0 and limit["initiated"] == share + 1
    # Statuses come back: delivery and read counts.
    progress = wait_for(lambda: _read_all(campaign_id, share), timeout=30)
    assert progress["delivered"] == share and progress["replied"] == 0
    # A customer answers: an ordinary message in the inbox, counted as the campaign's reply.
    open_window(fake, sorted(reached)[0])
    with transaction() as s:
        campaign = s.get(Campaign, campaign_id)
        assert campaign is not None
        assert campaigns.stats(s, campaign)["replied"] == 1


def _read_all(campaign_id: str, share: int) -> dict[str, int] | None:
    with transaction() as s:
        campaign = s.get(Campaign, campaign_id)
        assert campaign is not None
        progress = campaigns.stats(s, campaign)
    return progress if progress["read"] == share else None


def test_the_tier_is_read_from_the_phone_number(fake, capsys):
    import asyncio

    from backend.cli import main
    from backend.whatsapp import limit_sync

    httpx.post(
        f"{fake}/_fake/messaging_limit", json={"tier": "TIER_2K", "notify": False}
    ).raise_for_status()
    status = asyncio.run(limit_sync.sync())
    assert (status["tier"], status["limit"], status["source"]) == ("TIER_2K", 2000, "api")
    assert main(["messaging-limit"]) == 0
    assert "TIER_2K (2,000 users a day" in capsys.readouterr().out


def test_the_workers_read_the_tier_at_start_and_survive_meta_out_of_reach(fake):
    import asyncio

    from backend.config import Settings
    from backend.whatsapp import limit_sync
    from backend.whatsapp.client import GraphClient

    settings = Settings()

    async def start(base_url: str) -> None:
        client = GraphClient(
            base_url, settings.whatsapp_phone_number_id, settings.whatsapp_access_token
        )
        try:
            await limit_sync.read_at_start(client)
        finally:
            await client.aclose()

    httpx.post(
        f"{fake}/_fake/messaging_limit", json={"tier": "TIER_10K", "notify": False}
    ).raise_for_status()
    asyncio.run(start("http://127.0.0.1:9/v23.0"))  # nobody there: logged, nothing stored
    with transaction() as s:
        assert messaging_limits.status(s)["source"] == "assumed"
    asyncio.run(start(settings.whatsapp_api_base_url))
    with transaction() as s:
        assert messaging_limits.status(s)["tier"] == "TIER_10K"
