"""Configuration, read from the environment in one place.

Every variable has an embedded default so the product runs with no configuration at all
(SQLite file in ./var, the fake Graph API, the local payment provider).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _default_database_url() -> str:
    var_dir = Path(_env("TMS_VAR_DIR", str(PROJECT_ROOT / "var")))
    return f"sqlite:///{var_dir / 'tms.sqlite3'}"


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=lambda: _env("DATABASE_URL", _default_database_url()))
    operator_name: str = field(default_factory=lambda: _env("OPERATOR_NAME", "Adventure Treks"))
    operator_timezone: str = field(
        default_factory=lambda: _env("OPERATOR_TIMEZONE", "Asia/Kathmandu")
    )
    default_region: str = field(default_factory=lambda: _env("DEFAULT_PHONE_REGION", "NP"))
    emergency_phone: str = field(default_factory=lambda: _env("EMERGENCY_PHONE", "+9771440000"))
    payment_base_url: str = field(
        default_factory=lambda: _env("PAYMENT_BASE_URL", "https://pay.tms.com")
    )
    hold_hours: int = field(default_factory=lambda: int(_env("HOLD_HOURS", "24")))
    waitlist_offer_hours: int = field(
        default_factory=lambda: int(_env("WAITLIST_OFFER_HOURS", "2"))
    )
    waitlist_payment_minutes: int = field(
        default_factory=lambda: int(_env("WAITLIST_PAYMENT_MINUTES", "30"))
    )
    lock_timeout_ms: int = field(default_factory=lambda: int(_env("LOCK_TIMEOUT_MS", "5000")))

    # -- timed outreach (the scheduler) -----------------------------------------------------------
    scheduler_enabled: bool = field(
        default_factory=lambda: _env("SCHEDULER_ENABLED", "1") not in ("0", "false", "no")
    )
    lead_sla_hours: float = field(default_factory=lambda: float(_env("LEAD_SLA_HOURS", "2")))
    # A lead past its SLA goes to the next available rep as well as alerting operations.
    lead_sla_reassign: bool = field(
        default_factory=lambda: _env("LEAD_SLA_REASSIGN", "1") not in ("0", "false", "no")
    )
    pre_departure_days: int = field(default_factory=lambda: int(_env("PRE_DEPARTURE_DAYS", "14")))
    balance_reminder_days: tuple[int, ...] = field(
        default_factory=lambda: tuple(
            sorted(
                {int(d) for d in _env("BALANCE_REMINDER_DAYS", "7,1").split(",") if d.strip()},
                reverse=True,
            )
        )
    )
    # Local time of day at which date-based notices (reminders, pre-departure) go out.
    notice_local_time: str = field(default_factory=lambda: _env("NOTICE_LOCAL_TIME", "09:00"))
    assignment_response_hours: float = field(
        default_factory=lambda: float(_env("ASSIGNMENT_RESPONSE_HOURS", "24"))
    )
    checkin_grace_minutes: int = field(
        default_factory=lambda: int(_env("CHECKIN_GRACE_MINUTES", "60"))
    )
    # Hours after the last day of a trip (local midnight) before feedback is asked for.
    feedback_delay_hours: float = field(
        default_factory=lambda: float(_env("FEEDBACK_DELAY_HOURS", "12"))
    )
    incident_ack_minutes: int = field(
        default_factory=lambda: int(_env("INCIDENT_ACK_MINUTES", "15"))
    )
    # A reminder found this late (the service was down) is skipped rather than sent stale.
    notice_stale_hours: float = field(
        default_factory=lambda: float(_env("NOTICE_STALE_HOURS", "48"))
    )
    # The advisory lock that elects the scheduler (per database).
    scheduler_lock_key: int = field(
        default_factory=lambda: int(_env("SCHEDULER_LOCK_KEY", str(0x746D735F73636864)))
    )
    scheduler_workers: int = field(default_factory=lambda: int(_env("SCHEDULER_WORKERS", "4")))
    scheduler_leader_poll_seconds: float = field(
        default_factory=lambda: float(_env("SCHEDULER_LEADER_POLL_SECONDS", "5"))
    )
    scheduler_drain_seconds: float = field(
        default_factory=lambda: float(_env("SCHEDULER_DRAIN_SECONDS", "1"))
    )
    scheduler_reconcile_minutes: float = field(
        default_factory=lambda: float(_env("SCHEDULER_RECONCILE_MINUTES", "15"))
    )

    # -- WhatsApp Cloud API ---------------------------------------------------------------------
    whatsapp_app_secret: str = field(
        default_factory=lambda: _env("WHATSAPP_APP_SECRET", "dev-app-secret")
    )
    whatsapp_verify_token: str = field(
        default_factory=lambda: _env("WHATSAPP_VERIFY_TOKEN", "dev-verify-token")
    )
    whatsapp_access_token: str = field(
        default_factory=lambda: _env("WHATSAPP_ACCESS_TOKEN", "dev-access-token")
    )
    whatsapp_phone_number_id: str = field(
        default_factory=lambda: _env("WHATSAPP_PHONE_NUMBER_ID", "100000000000001")
    )
    whatsapp_business_phone: str = field(
        default_factory=lambda: _env("WHATSAPP_BUSINESS_PHONE", "+9779800000000")
    )
    whatsapp_api_base_url: str = field(
        default_factory=lambda: _env("WHATSAPP_API_BASE_URL", "https://graph.facebook.com/v23.0")
    )
    # Meta's default throughput per business number, and the per-recipient pacing.
    whatsapp_rate_per_second: float = field(
        default_factory=lambda: float(_env("WHATSAPP_RATE_PER_SECOND", "80"))
    )
    recipient_burst: int = field(default_factory=lambda: int(_env("RECIPIENT_BURST", "10")))
    recipient_interval_seconds: float = field(
        default_factory=lambda: float(_env("RECIPIENT_INTERVAL_SECONDS", "6"))
    )
    # Free-form text stops this long before the 24-hour window closes.
    window_margin_minutes: int = field(
        default_factory=lambda: int(_env("WINDOW_MARGIN_MINUTES", "10"))
    )
    send_max_attempts: int = field(default_factory=lambda: int(_env("SEND_MAX_ATTEMPTS", "8")))
    inbox_max_attempts: int = field(default_factory=lambda: int(_env("INBOX_MAX_ATTEMPTS", "12")))

    payment_webhook_secret: str = field(
        default_factory=lambda: _env("PAYMENT_WEBHOOK_SECRET", "dev-payment-secret")
    )

    # -- the other processes ----------------------------------------------------------------------
    rasa_url: str = field(default_factory=lambda: _env("RASA_URL", "http://127.0.0.1:5005"))
    action_server_url: str = field(
        default_factory=lambda: _env("ACTION_SERVER_URL", "http://127.0.0.1:5055")
    )
    backend_port: int = field(default_factory=lambda: int(_env("BACKEND_PORT", "8000")))

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.operator_timezone)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def get_settings() -> Settings:
    """Fresh settings from the current environment (cheap; tests change the environment)."""
    return Settings()
