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

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.operator_timezone)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def get_settings() -> Settings:
    """Fresh settings from the current environment (cheap; tests change the environment)."""
    return Settings()
