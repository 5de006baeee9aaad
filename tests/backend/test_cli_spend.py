"""`tms message-rates` (the rate card) and `tms spend` (what WhatsApp messages cost)."""

from __future__ import annotations

from datetime import timedelta

from backend import cli, clock
from backend.db import transaction
from tests.backend.whatsapp.test_message_prices import GERMAN, _line, _pricing, _sent, _status


def test_message_rates_set_and_list(db_url, capsys):
    later = (clock.local_today() + timedelta(days=2)).isoformat()
    assert (
        cli.main(["message-rates", "set", "Germany", "49", "marketing", "0.1500", "--from", later])
        == 0
    )
    assert f"0.15 USD per delivered message from {later}" in capsys.readouterr().out
    assert cli.main(["message-rates", "list"]) == 0
    assert "0.15 USD" in " ".join(capsys.readouterr().out.split())
    assert cli.main(["message-rates", "set", "Germany", "49", "gossip", "1"]) == 2
    assert "not one of Meta's categories" in capsys.readouterr().err


def test_spend_prints_month_purpose_and_country(db_url, capsys):
    with transaction(db_url) as session:
        _line(session, "49", "marketing", "0.1400")
        _sent(session, GERMAN, "wamid.C1", purpose="marketing", kind="template")
        _status(session, "wamid.C1", "delivered", GERMAN, _pricing("marketing"))
    assert cli.main(["spend"]) == 0
    out = capsys.readouterr().out
    assert "0.14 USD" in out and "1 billed" in out
    assert "campaigns" in out and "DE" in out and clock.now().strftime("%Y-") in out
