"""Configuration, read from the environment in one place.

Every variable has an embedded default so the product runs with no configuration at all
(SQLite file in ./var, the fake Graph API, the local payment provider).
"""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def var_dir() -> Path:
    """Where the product keeps its local files (the SQLite file, logs, the caught mail)."""
    return Path(_env("TMS_VAR_DIR", str(PROJECT_ROOT / "var")))


def _default_database_url() -> str:
    return f"sqlite:///{var_dir() / 'tms.sqlite3'}"


# The development defaults of the secrets: public (they are in this file), so production
# refuses to start with any of them (`production_problems`).
DEVELOPMENT_SECRETS = {
    "WHATSAPP_APP_SECRET": "dev-app-secret",
    "WHATSAPP_VERIFY_TOKEN": "dev-verify-token",
    "WHATSAPP_ACCESS_TOKEN": "dev-access-token",
    "PAYMENT_WEBHOOK_SECRET": "dev-payment-secret",
    "ACTION_SERVER_SECRET": "dev-action-secret",
    "RASA_CHANNEL_SECRET": "dev-rasa-secret",
    "LINK_SECRET": "dev-link-secret",
    # A Fernet key (urlsafe base64 of 32 bytes); in production a comma-separated list, the
    # newest first (backend/sealing.py: key rotation).
    "TRAVELLER_DATA_KEYS": "F7jBiVvQhcizpzI6c3a9EG04dPiMK5qNt8jRxnjhjdI=",
}
MIN_SECRET_LENGTH = 16


@dataclass(frozen=True)
class Settings:
    # development (the default: embedded defaults, the demo's conveniences) or production.
    environment: str = field(default_factory=lambda: _env("TMS_ENV", "development").lower())
    database_url: str = field(default_factory=lambda: _env("DATABASE_URL", _default_database_url()))
    operator_name: str = field(default_factory=lambda: _env("OPERATOR_NAME", "Adventure Treks"))
    operator_timezone: str = field(
        default_factory=lambda: _env("OPERATOR_TIMEZONE", "Asia/Kathmandu")
    )
    default_region: str = field(default_factory=lambda: _env("DEFAULT_PHONE_REGION", "NP"))
    emergency_phone: str = field(default_factory=lambda: _env("EMERGENCY_PHONE", "+9771440000"))
    # Where customers' links point (pay, book, track, feedback): the backend as the world sees
    # it (https, behind the reverse proxy, in production).
    public_base_url: str = field(
        default_factory=lambda: _env(
            "PUBLIC_BASE_URL", f"http://127.0.0.1:{_env('BACKEND_PORT', '8000')}"
        )
    )
    # Signs the customers' links (backend/links.py).
    link_secret: str = field(default_factory=lambda: _secret("LINK_SECRET"))
    # Seals traveller papers at rest (passport numbers, dates of birth, medical notes, photos).
    traveller_data_keys: str = field(default_factory=lambda: _secret("TRAVELLER_DATA_KEYS"))
    # Days after a trip ends before its travellers' papers are purged (an incident's dossier
    # keeps what it holds).
    traveller_purge_days: int = field(
        default_factory=lambda: int(_env("TRAVELLER_PURGE_DAYS", "90"))
    )
    traveller_photo_max_bytes: int = field(
        default_factory=lambda: int(_env("TRAVELLER_PHOTO_MAX_BYTES", str(8 * 1024 * 1024)))
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
    # Days before departure on which the booker hears what is still missing from the
    # travellers' papers, and the day operations are alerted about each booking still short.
    papers_reminder_days: tuple[int, ...] = field(
        default_factory=lambda: tuple(
            sorted(
                {
                    int(d)
                    for d in _env("PAPERS_REMINDER_DAYS", "30,14,7").split(",")
                    if d.strip() and int(d) > 0  # "0": none
                },
                reverse=True,
            )
        )
    )
    # 0 turns the alert off.
    papers_alert_days: int = field(default_factory=lambda: int(_env("PAPERS_ALERT_DAYS", "5")))
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
    whatsapp_app_secret: str = field(default_factory=lambda: _secret("WHATSAPP_APP_SECRET"))
    whatsapp_verify_token: str = field(default_factory=lambda: _secret("WHATSAPP_VERIFY_TOKEN"))
    whatsapp_access_token: str = field(default_factory=lambda: _secret("WHATSAPP_ACCESS_TOKEN"))
    # The published WhatsApp Flow asking for a traveller's papers in the chat (the Flow JSON
    # is backend/whatsapp/flows/traveller_papers.json). Empty: only the page's link is sent.
    whatsapp_papers_flow_id: str = field(
        default_factory=lambda: _env(
            "WHATSAPP_PAPERS_FLOW_ID",
            "" if _env("TMS_ENV", "development").lower() == "production" else "demo-papers-flow",
        )
    )
    whatsapp_phone_number_id: str = field(
        default_factory=lambda: _env("WHATSAPP_PHONE_NUMBER_ID", "100000000000001")
    )
    # The WhatsApp Business Account whose message templates `tms templates sync` reads.
    whatsapp_business_account_id: str = field(
        default_factory=lambda: _env("WHATSAPP_BUSINESS_ACCOUNT_ID", "WABA_FAKE")
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
    # The sender paces the number a little under that rate: a message that leaves a few
    # milliseconds late must not push Meta's one-second count over it.
    whatsapp_rate_headroom: float = field(
        default_factory=lambda: float(_env("WHATSAPP_RATE_HEADROOM", "0.96"))
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
    # Failure alerts to operations: at most one per window, with a count.
    alert_window_minutes: int = field(
        default_factory=lambda: int(_env("ALERT_WINDOW_MINUTES", "10"))
    )
    inbox_max_attempts: int = field(default_factory=lambda: int(_env("INBOX_MAX_ATTEMPTS", "12")))
    # How long a claimed message (inbox) or batch (outbox) stays with the process that claimed
    # it; a process that dies leaves its rows to the others when this runs out.
    inbox_lease_seconds: float = field(
        default_factory=lambda: float(_env("INBOX_LEASE_SECONDS", "15"))
    )
    outbox_lease_seconds: float = field(
        default_factory=lambda: float(_env("OUTBOX_LEASE_SECONDS", "15"))
    )

    payment_webhook_secret: str = field(default_factory=lambda: _secret("PAYMENT_WEBHOOK_SECRET"))
    # "local": the local provider's pay pages (the demo, the tests); "stripe": Stripe Checkout.
    # Unset: no pay pages at all.
    payment_provider: str = field(default_factory=lambda: _env("PAYMENT_PROVIDER", "").lower())
    stripe_secret_key: str = field(default_factory=lambda: _env("STRIPE_SECRET_KEY", ""))
    stripe_webhook_secret: str = field(default_factory=lambda: _env("STRIPE_WEBHOOK_SECRET", ""))
    # Stripe's API (the tests point it at a small fake of the two endpoints used).
    stripe_api_base: str = field(
        default_factory=lambda: _env("STRIPE_API_BASE", "https://api.stripe.com")
    )

    # -- ways to pay beside the card provider (docs/payments.md) ----------------------------------
    # Which methods the pay page and the chat offer, separated by commas: "card" (the provider
    # above, when set), "bank_transfer" (the bank details below, confirmed by a receipt the
    # customer sends), "bank_card_link" (a bank's card payment page, PAYMENT_CARD_LINK_URL, plus
    # a surcharge, confirmed by a receipt as a transfer is). Cash is recorded by staff.
    payment_methods: str = field(
        default_factory=lambda: _env("PAYMENT_METHODS", "card,bank_transfer,bank_card_link")
    )
    # The operator's account customers transfer to (shown on the pay page and in the chat).
    bank_account_name: str = field(
        default_factory=lambda: _env("BANK_ACCOUNT_NAME", "Adventure Treks Pvt. Ltd.")
    )
    bank_name: str = field(default_factory=lambda: _env("BANK_NAME", "Himalayan Demo Bank Ltd."))
    bank_account_number: str = field(
        default_factory=lambda: _env("BANK_ACCOUNT_NUMBER", "01234567890123")
    )
    bank_swift: str = field(default_factory=lambda: _env("BANK_SWIFT", "HDBLNPKA"))
    bank_branch: str = field(default_factory=lambda: _env("BANK_BRANCH", "Thamel, Kathmandu"))
    # The bank's card payment page ("{reference}" and "{amount}" are filled in when present);
    # empty: no card link is offered.
    card_link_url: str = field(
        default_factory=lambda: _env(
            "PAYMENT_CARD_LINK_URL", "https://pay.himalayan-demo-bank.example/adventure-treks"
        )
    )
    # What the bank charges on a card-link payment, in percent, added on top (decimal text).
    card_link_surcharge_percent: str = field(
        default_factory=lambda: _env("PAYMENT_CARD_LINK_SURCHARGE_PERCENT", "3.5")
    )
    # A verified receipt's value date older than this many days is flagged for a second look.
    proof_value_date_max_age_days: int = field(
        default_factory=lambda: int(_env("PAYMENT_PROOF_MAX_AGE_DAYS", "14"))
    )
    # A receipt uploaded on the pay page: at most this many bytes (photo or PDF).
    proof_max_bytes: int = field(
        default_factory=lambda: int(_env("PAYMENT_PROOF_MAX_BYTES", str(10 * 1024 * 1024)))
    )
    # After a rejected receipt the hold (kept while it was checked) runs this long again.
    proof_rejected_hold_hours: int = field(
        default_factory=lambda: int(_env("PAYMENT_PROOF_REJECTED_HOLD_HOURS", "24"))
    )

    # -- e-mail -------------------------------------------------------------------------------------
    # smtp://[user:pass@]host[:port] (STARTTLS when offered), smtp+starttls:// (STARTTLS
    # required) or smtps:// (TLS from the start). The default is the local capture server the
    # demo and the tests run (`python -m devkit.local_smtp`).
    smtp_url: str = field(default_factory=lambda: _env("SMTP_URL", "smtp://127.0.0.1:8025"))
    mail_from: str = field(
        default_factory=lambda: _env(
            "MAIL_FROM",
            f"{_env('OPERATOR_NAME', 'Adventure Treks')} <bookings@adventure-treks.example>",
        )
    )
    mail_max_attempts: int = field(default_factory=lambda: int(_env("MAIL_MAX_ATTEMPTS", "10")))

    # -- media from WhatsApp (photos, voice notes, documents) -----------------------------------
    # Where fetched files are kept: a folder (the default, under var/media). The store is one
    # small class (backend/whatsapp/media.py): an object store plugs in there.
    media_dir: str = field(default_factory=lambda: _env("MEDIA_DIR", str(var_dir() / "media")))
    media_max_attempts: int = field(default_factory=lambda: int(_env("MEDIA_MAX_ATTEMPTS", "12")))
    media_max_bytes: int = field(
        default_factory=lambda: int(_env("MEDIA_MAX_BYTES", str(100 * 1024 * 1024)))
    )

    # -- the other processes ----------------------------------------------------------------------
    # One Rasa, or several replicas separated by commas: each sender always goes to the same
    # replica (its turns stay in order), and to the next one while that replica is down.
    rasa_url: str = field(default_factory=lambda: _env("RASA_URL", "http://127.0.0.1:5005"))
    # Redis for what several processes share beyond the database (Rasa's lock store). Empty:
    # none, and the deployment runs one Rasa process.
    redis_url: str = field(default_factory=lambda: _env("REDIS_URL", ""))
    action_server_url: str = field(
        default_factory=lambda: _env("ACTION_SERVER_URL", "http://127.0.0.1:5055")
    )
    backend_port: int = field(default_factory=lambda: int(_env("BACKEND_PORT", "8000")))
    # The ports `tms serve` gives the parts it starts on this machine.
    action_server_port: int = field(default_factory=lambda: int(_env("ACTION_PORT", "5055")))
    rasa_port: int = field(default_factory=lambda: int(_env("RASA_PORT", "5005")))
    fake_graph_port: int = field(default_factory=lambda: int(_env("FAKE_GRAPH_PORT", "8900")))
    # The backend faces Meta and the payment gateway (usually behind a reverse proxy).
    backend_host: str = field(default_factory=lambda: _env("BACKEND_HOST", "127.0.0.1"))
    # 0: the webhook and the API only, no inbox worker, sender or scheduler in this process.
    workers_enabled: bool = field(default_factory=lambda: _env("TMS_WORKERS", "1") != "0")
    # Server processes of one backend service, sharing its port (1: a single process). Each
    # has its own loop, webhook writer and, unless TMS_WORKERS=0, background workers.
    backend_processes: int = field(
        default_factory=lambda: max(1, int(_env("BACKEND_PROCESSES", "1")))
    )
    log_level: str = field(default_factory=lambda: _env("LOG_LEVEL", "INFO").upper())
    # Rasa and the action server are internal: loopback unless a private network is chosen.
    rasa_host: str = field(default_factory=lambda: _env("RASA_HOST", "127.0.0.1"))
    action_server_host: str = field(default_factory=lambda: _env("ACTION_SERVER_HOST", "127.0.0.1"))
    # Rasa sends it to the action server with every call; anything else is refused.
    action_server_secret: str = field(default_factory=lambda: _secret("ACTION_SERVER_SECRET"))
    # The backend sends it to Rasa's channel with every message (addons/secure_channel.py).
    rasa_channel_secret: str = field(default_factory=lambda: _secret("RASA_CHANNEL_SECRET"))
    # How many reverse proxies stand in front of the backend (Caddy in deploy/compose.yml: 1):
    # the client's address is then read from X-Forwarded-For, as the rate limits need.
    trusted_proxies: int = field(default_factory=lambda: int(_env("TRUSTED_PROXIES", "0")))
    # Requests per client address to the customer pages (pay, book, track, feedback), and
    # checkouts started or looked up with the payment provider (each one reaches Stripe).
    # 0: no limit. Per backend process (backend/web/limits.py).
    page_requests_per_minute: int = field(
        default_factory=lambda: int(_env("PAGE_REQUESTS_PER_MINUTE", "60"))
    )
    checkout_requests_per_hour: int = field(
        default_factory=lambda: int(_env("CHECKOUT_REQUESTS_PER_HOUR", "20"))
    )
    # /metrics wants `Authorization: Bearer <token>`; production refuses to start without one.
    metrics_token: str = field(default_factory=lambda: _env("METRICS_TOKEN", ""))

    # -- staff sign-in (the console) and the admin API's tokens ------------------------------------
    # A console session ends after this long without a page, and in any case after the maximum.
    session_idle_minutes: int = field(
        default_factory=lambda: int(_env("SESSION_IDLE_MINUTES", "30"))
    )
    session_max_hours: float = field(default_factory=lambda: float(_env("SESSION_MAX_HOURS", "12")))
    # Changing roles, rotating tokens and deactivating staff want a sign-in this recent.
    fresh_sign_in_minutes: int = field(
        default_factory=lambda: int(_env("FRESH_SIGN_IN_MINUTES", "10"))
    )
    # An admin API token's lifetime unless set per token.
    api_token_days: int = field(default_factory=lambda: int(_env("API_TOKEN_DAYS", "90")))
    # Hosts the WhatsApp token may be sent to when fetching media (Meta's media servers),
    # separated by commas; "*.example.com" matches its subdomains.
    media_hosts: str = field(
        default_factory=lambda: _env(
            "MEDIA_HOSTS", "lookaside.fbsbx.com,*.fbsbx.com,*.fbcdn.net,*.whatsapp.net"
        )
    )
    # /api/openapi.json answers anyone only when set (the default in development).
    openapi_public: bool = field(
        default_factory=lambda: (
            _env(
                "OPENAPI_PUBLIC",
                "0" if _env("TMS_ENV", "development").lower() == "production" else "1",
            )
            not in ("0", "false", "no")
        )
    )

    @property
    def rasa_urls(self) -> list[str]:
        return [url.strip().rstrip("/") for url in self.rasa_url.split(",") if url.strip()]

    @property
    def enabled_payment_methods(self) -> set[str]:
        return {m.strip().lower() for m in self.payment_methods.split(",") if m.strip()}

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.operator_timezone)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def mail_from_address(self) -> str:
        return parseaddr(self.mail_from)[1]


def smtp_host(url: str) -> str:
    return urlsplit(url).hostname or ""


def redact_url(url: str) -> str:
    """`url` fit to print or log: the password (if any) replaced by `***`, the rest kept.
    The one way every URL from the settings (DATABASE_URL, REDIS_URL, SMTP_URL, ...) is shown."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return "<an unreadable URL>"  # never echo what may hold a secret
    if not password:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = f"{user}:***@{host}" + (f":{port}" if port is not None else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


ENVIRONMENTS = ("development", "production")


def environment_problems(settings: Settings) -> list[str]:
    """TMS_ENV must be one of ENVIRONMENTS: a typo (`prod`) must not quietly turn every
    production check off."""
    if settings.environment in ENVIRONMENTS:
        return []
    return [
        f"TMS_ENV must be development or production, not {settings.environment!r} "
        "(a typo would turn the production checks off)"
    ]


def _secret(name: str) -> str:
    return _env(name, DEVELOPMENT_SECRETS[name])


def production_problems(settings: Settings) -> list[str]:
    """Why these settings are not fit for production (empty: they are). Each names the
    variable to set, never its value."""
    problems: list[str] = environment_problems(settings)
    for name, default in DEVELOPMENT_SECRETS.items():
        value = os.environ.get(name, "")
        if not value:
            problems.append(f"{name} is not set")
        elif value == default:
            problems.append(f"{name} is the public development default")
        elif len(value) < MIN_SECRET_LENGTH and name != "WHATSAPP_ACCESS_TOKEN":
            problems.append(f"{name} is shorter than {MIN_SECRET_LENGTH} characters")
    problems += _traveller_key_problems()
    if not os.environ.get("DATABASE_URL"):
        problems.append("DATABASE_URL is not set (the embedded SQLite file is for development)")
    elif settings.is_sqlite:
        problems.append("DATABASE_URL is SQLite; production needs PostgreSQL")
    if not settings.whatsapp_api_base_url.startswith("https://"):
        problems.append("WHATSAPP_API_BASE_URL is not an https:// URL (the fake Graph API?)")
    if os.environ.get("TMS_CLOCK_FILE"):
        problems.append("TMS_CLOCK_FILE is set: a moved clock is for the tests and the demo")
    if not settings.metrics_token:
        problems.append("METRICS_TOKEN is not set: /metrics would answer anyone who reaches it")
    elif len(settings.metrics_token) < MIN_SECRET_LENGTH:
        problems.append(f"METRICS_TOKEN is shorter than {MIN_SECRET_LENGTH} characters")
    if settings.payment_provider == "local":
        problems.append(
            "PAYMENT_PROVIDER=local: its pay pages mark bookings paid with no money; demo only"
        )
    elif settings.payment_provider != "stripe":
        if "card" in settings.enabled_payment_methods:
            problems.append(
                "PAYMENT_PROVIDER is not set: customers' pay links would lead nowhere (or take "
                "card out of PAYMENT_METHODS to take transfers and card links only)"
            )
    elif not settings.stripe_secret_key or not settings.stripe_webhook_secret:
        problems.append("STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET are needed with Stripe")
    problems += _demo_payment_details(settings)
    if not os.environ.get("SMTP_URL"):
        problems.append("SMTP_URL is not set: confirmation e-mails would go nowhere")
    elif not settings.smtp_url.startswith(("smtps://", "smtp+starttls://")) and smtp_host(
        settings.smtp_url
    ) not in ("127.0.0.1", "localhost", "::1"):
        problems.append("SMTP_URL sends in clear to another host: use smtps:// or smtp+starttls://")
    if not settings.public_base_url.startswith("https://"):
        problems.append("PUBLIC_BASE_URL is not an https:// URL (customers' links)")
    return problems


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _traveller_key_problems() -> list[str]:
    """Each TRAVELLER_DATA_KEYS entry must be a Fernet key (never echoed)."""
    keys = [k.strip() for k in os.environ.get("TRAVELLER_DATA_KEYS", "").split(",") if k.strip()]
    problems = []
    if DEVELOPMENT_SECRETS["TRAVELLER_DATA_KEYS"] in keys[1:]:
        problems.append("TRAVELLER_DATA_KEYS still holds the public development key")
    bad = 0
    for key in keys:
        try:
            if len(base64.urlsafe_b64decode(key.encode())) != 32:
                bad += 1
        except (ValueError, binascii.Error):
            bad += 1
    if bad:
        problems.append(
            f"TRAVELLER_DATA_KEYS has {bad} "
            f"{'entry that is not a Fernet key' if bad == 1 else 'entries that are not Fernet keys'}"
            " (make one with: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())')"
        )
    return problems


def _demo_payment_details(settings: Settings) -> list[str]:
    """The demo's bank account and card page are defaults so that the demo runs as it is; in
    production a customer would send real money to them: refused until set."""
    problems: list[str] = []
    methods = settings.enabled_payment_methods
    if "bank_transfer" in methods and not os.environ.get("BANK_ACCOUNT_NUMBER"):
        problems.append(
            "BANK_ACCOUNT_NUMBER is not set: the pay page would show the demo bank account (set "
            "the BANK_* variables, or take bank_transfer out of PAYMENT_METHODS)"
        )
    if "bank_card_link" in methods and not os.environ.get("PAYMENT_CARD_LINK_URL"):
        problems.append(
            "PAYMENT_CARD_LINK_URL is not set: the pay page would link to the demo bank's card "
            "page (set it, or take bank_card_link out of PAYMENT_METHODS)"
        )
    return problems


def exposed_development_problems(settings: Settings) -> list[str]:
    """A development setup (public default secrets) listening beyond this machine: most
    likely a deployment that forgot TMS_ENV=production. Refused, not guessed at."""
    if settings.is_production:
        return []
    hosts = {
        "BACKEND_HOST": settings.backend_host,
        "ACTION_SERVER_HOST": settings.action_server_host,
        "RASA_HOST": settings.rasa_host,
    }
    open_to = [f"{name}={host}" for name, host in hosts.items() if host not in LOOPBACK]
    defaults = [
        name for name, default in DEVELOPMENT_SECRETS.items() if _env(name, default) == default
    ]
    if not open_to or not defaults:
        return []
    return [
        f"{', '.join(open_to)} exposes a development setup with public default secrets "
        f"({', '.join(defaults)}): set TMS_ENV=production and real secrets, or listen on "
        "127.0.0.1"
    ]


def production_notes(settings: Settings) -> list[str]:
    """What is allowed in production but worth a second look."""
    notes: list[str] = []
    for name, host in (
        ("RASA_HOST", settings.rasa_host),
        ("ACTION_SERVER_HOST", settings.action_server_host),
    ):
        if host not in ("127.0.0.1", "localhost", "::1"):
            notes.append(f"{name}={host}: keep it on a private network")
    return notes


def config_verdict(settings: Settings) -> tuple[bool, str]:
    """(fit to start, the report `tms check-config` prints and a refused start shows)."""
    problems = environment_problems(settings) or (
        production_problems(settings)
        if settings.is_production
        else exposed_development_problems(settings)
    )
    lines = [f"TMS_ENV={settings.environment}"]
    if settings.environment == "development":
        lines.append("development: embedded defaults allowed (never expose this to the internet)")
    lines += [f"  problem: {p}" for p in problems]
    lines += [
        f"  note: {n}" for n in (production_notes(settings) if settings.is_production else [])
    ]
    lines.append("refused: fix the problems above" if problems else "ok")
    return not problems, "\n".join(lines)


def start_or_refuse(settings: Settings, process: str) -> None:
    """Start-up of a serving process: configure logging, and exit (status 2) naming every
    problem when the settings are not fit for TMS_ENV."""
    import logging
    import sys

    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    fit, report = config_verdict(settings)
    if not fit:
        print(f"{process}: refusing to start.\n{report}", file=sys.stderr)
        sys.exit(2)


_built: tuple[tuple[tuple[str, str], ...], Settings] | None = None


def get_settings() -> Settings:
    """The settings, built once from the environment and kept while the environment stays as
    it was. Building them reads and checks about a hundred variables (~90 µs); comparing the
    environment costs a sixth of that. Only the tests and the demo change the environment
    while running, and they get settings that follow it."""
    global _built
    environment = tuple(os.environ.items())
    if _built is None or _built[0] != environment:
        _built = (environment, Settings())
    return _built[1]
