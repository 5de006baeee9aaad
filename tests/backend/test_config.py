"""TMS_ENV=production refuses the public development defaults, for every process that serves;
`tms check-config` gives the same verdict without starting anything."""

from __future__ import annotations

import os
import subprocess

import pytest

from backend import cli
from backend.config import (
    DEVELOPMENT_SECRETS,
    Settings,
    config_verdict,
    production_problems,
    redact_url,
    start_or_refuse,
)
from tests.processes import ROOT

GOOD = {
    "TMS_ENV": "production",
    "WHATSAPP_APP_SECRET": "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6",
    "WHATSAPP_VERIFY_TOKEN": "verify-token-of-this-operator",
    "WHATSAPP_ACCESS_TOKEN": "EAAG-a-long-lived-system-user-token",
    "PAYMENT_WEBHOOK_SECRET": "whsec_0123456789abcdef0123",
    "ACTION_SERVER_SECRET": "action-secret-0123456789abcdef",
    "RASA_CHANNEL_SECRET": "rasa-channel-secret-0123456789",
    "DATABASE_URL": "postgresql+psycopg://tms@db.internal:5432/tms",
    "WHATSAPP_API_BASE_URL": "https://graph.facebook.com/v23.0",
    "LINK_SECRET": "link-secret-0123456789abcdef",
    "TRAVELLER_DATA_KEYS": "hGr3wAcS6dO3Y2oYt7yGJ0bd4oUuVNVqC9JNdRz8i1E=",
    "PAYMENT_PROVIDER": "stripe",
    "STRIPE_SECRET_KEY": "sk_live_0123456789",
    "STRIPE_WEBHOOK_SECRET": "whsec_live_0123456789",
    "PUBLIC_BASE_URL": "https://tours.example",
    "SMTP_URL": "smtps://mailer:secret@smtp.example:465",
    "METRICS_TOKEN": "metrics-token-0123456789abcdef",
    "PAYMENT_METHODS": "card",
}
SETTINGS_VARIABLES = (
    *GOOD,
    "BANK_ACCOUNT_NUMBER",
    "PAYMENT_CARD_LINK_URL",
    "TMS_CLOCK_FILE",
    "METRICS_TOKEN",
    "BACKEND_HOST",
    "ACTION_SERVER_HOST",
    "RASA_HOST",
    "REDIS_URL",
)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in SETTINGS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def production_env(**changes: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARIABLES}
    env |= GOOD
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def test_production_names_every_missing_or_default_secret(clean_env):
    clean_env.setenv("TMS_ENV", "production")
    clean_env.setenv("WHATSAPP_APP_SECRET", DEVELOPMENT_SECRETS["WHATSAPP_APP_SECRET"])
    problems = production_problems(Settings())
    text = "\n".join(problems)
    assert "WHATSAPP_APP_SECRET is the public development default" in text
    for name in ("WHATSAPP_VERIFY_TOKEN", "WHATSAPP_ACCESS_TOKEN", "PAYMENT_WEBHOOK_SECRET"):
        assert f"{name} is not set" in text
    assert "ACTION_SERVER_SECRET is not set" in text
    assert "DATABASE_URL is not set" in text
    fit, report = config_verdict(Settings())
    assert not fit and report.endswith("refused: fix the problems above")
    # The report names variables, never their values.
    assert DEVELOPMENT_SECRETS["WHATSAPP_APP_SECRET"] not in report


def test_production_refuses_sqlite_short_secrets_and_a_moved_clock(clean_env):
    for name, value in GOOD.items():
        clean_env.setenv(name, value)
    assert production_problems(Settings()) == []
    clean_env.setenv("DATABASE_URL", "sqlite:///var/tms.sqlite3")
    clean_env.setenv("PAYMENT_WEBHOOK_SECRET", "short")
    clean_env.setenv("TMS_CLOCK_FILE", "/tmp/clock.json")
    clean_env.setenv("WHATSAPP_API_BASE_URL", "http://127.0.0.1:8900/v23.0")
    text = "\n".join(production_problems(Settings()))
    assert "DATABASE_URL is SQLite" in text
    assert "PAYMENT_WEBHOOK_SECRET is shorter than 16 characters" in text
    assert "TMS_CLOCK_FILE is set" in text
    assert "WHATSAPP_API_BASE_URL is not an https:// URL" in text


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"PAYMENT_PROVIDER": None}, "PAYMENT_PROVIDER is not set"),
        ({"STRIPE_SECRET_KEY": None}, "STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET are needed"),
        ({"PUBLIC_BASE_URL": "http://tours.example"}, "PUBLIC_BASE_URL is not an https:// URL"),
        ({"PUBLIC_BASE_URL": None}, "PUBLIC_BASE_URL is not an https:// URL"),
        ({"LINK_SECRET": "dev-link-secret"}, "LINK_SECRET is the public development default"),
        ({"SMTP_URL": None}, "SMTP_URL is not set"),
        ({"SMTP_URL": "smtp://u:p@smtp.example:25"}, "SMTP_URL sends in clear to another host"),
        # The demo's bank details would take real customers' money: refused until set.
        (
            {"PAYMENT_METHODS": "card,bank_transfer"},
            "BANK_ACCOUNT_NUMBER is not set: the pay page would show the demo bank account",
        ),
        (
            {"PAYMENT_METHODS": "bank_card_link", "PAYMENT_PROVIDER": None},
            "PAYMENT_CARD_LINK_URL is not set: the pay page would link to the demo bank's card",
        ),
    ],
)
def test_production_needs_real_links_payments_and_mail(clean_env, changes, problem):
    for name, value in GOOD.items():
        clean_env.setenv(name, value)
    for name, value in changes.items():
        if value is None:
            clean_env.delenv(name)
        else:
            clean_env.setenv(name, value)
    assert problem in "\n".join(production_problems(Settings()))


def test_a_local_smtp_relay_without_tls_is_fine(clean_env):
    for name, value in GOOD.items():
        clean_env.setenv(name, value)
    clean_env.setenv("SMTP_URL", "smtp://127.0.0.1:25")
    assert production_problems(Settings()) == []


def test_development_allows_the_defaults(clean_env):
    fit, report = config_verdict(Settings())
    assert fit and report.startswith("TMS_ENV=development")


@pytest.mark.parametrize("module", ["backend.server", "actions.server"])
def test_a_production_process_with_defaults_refuses_to_start(module):
    env = production_env(WHATSAPP_APP_SECRET=None, ACTION_SERVER_SECRET="dev-action-secret")
    result = subprocess.run(
        [str(ROOT / ".venv/bin/python"), "-m", module],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert "refusing to start" in result.stderr
    assert "WHATSAPP_APP_SECRET is not set" in result.stderr
    assert "ACTION_SERVER_SECRET is the public development default" in result.stderr


def test_check_config_prints_the_verdict_without_starting_anything(clean_env, capsys):
    clean_env.setenv("TMS_ENV", "production")
    assert cli.main(["check-config"]) == 2
    out = capsys.readouterr().out
    assert "problem: WHATSAPP_APP_SECRET is not set" in out and "refused" in out
    for name, value in GOOD.items():
        clean_env.setenv(name, value)
    clean_env.setenv("RASA_HOST", "10.0.0.5")
    assert cli.main(["check-config"]) == 0
    out = capsys.readouterr().out
    assert "\nok\n" in out
    assert "note: RASA_HOST=10.0.0.5" in out
    # The local pay pages mark bookings paid with no money: never in production.
    clean_env.setenv("PAYMENT_PROVIDER", "local")
    assert cli.main(["check-config"]) == 2
    assert "problem: PAYMENT_PROVIDER=local" in capsys.readouterr().out


def test_a_development_setup_listening_beyond_loopback_is_refused(clean_env):
    # A deployer who forgot TMS_ENV: the public default secrets on a public interface.
    clean_env.setenv("BACKEND_HOST", "0.0.0.0")
    fit, report = config_verdict(Settings())
    assert not fit and "BACKEND_HOST=0.0.0.0 exposes a development setup" in report
    for name, value in GOOD.items():
        if name != "TMS_ENV":
            clean_env.setenv(name, value)
    assert config_verdict(Settings())[0]  # real secrets: their choice to listen there


# -- issue 21 --------------------------------------------------------------------------------------
@pytest.mark.parametrize("typo", ["prod", "Production ", "staging", "dev"])
def test_a_tms_env_typo_is_refused_naming_the_variable(clean_env, capsys, typo):
    # Everything production asks for is set: only the typo stands in the way.
    for name, value in GOOD.items():
        clean_env.setenv(name, value)
    clean_env.setenv("TMS_ENV", typo)
    fit, report = config_verdict(Settings())
    assert not fit and "problem: TMS_ENV must be development or production" in report
    assert cli.main(["check-config"]) == 2
    assert "TMS_ENV must be development or production" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exited:
        start_or_refuse(Settings(), "backend")
    assert exited.value.code == 2
    assert "TMS_ENV must be development or production" in capsys.readouterr().err


def test_production_refuses_to_start_without_a_metrics_token(clean_env):
    for name, value in GOOD.items():
        clean_env.setenv(name, value)
    clean_env.delenv("METRICS_TOKEN")
    assert "METRICS_TOKEN is not set: /metrics would answer anyone who reaches it" in (
        production_problems(Settings())
    )
    assert not config_verdict(Settings())[0]


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://:s3cret-pass@redis:6379/1", "redis://:***@redis:6379/1"),
        (
            "rediss://default:s3cret-pass@cache.example:6380/0",
            "rediss://default:***@cache.example:6380/0",
        ),
        (
            "postgresql+psycopg://tms:s3cret-pass@db.internal:5432/tms",
            "postgresql+psycopg://tms:***@db.internal:5432/tms",
        ),
        (
            "smtps://bookings%40x.example:s3cret-pass@smtp.x.example:465",
            "smtps://bookings%40x.example:***@smtp.x.example:465",
        ),
        ("redis://redis:6379/1", "redis://redis:6379/1"),
        ("sqlite:////var/tms.sqlite3", "sqlite:////var/tms.sqlite3"),
        ("redis://u:s3cret-pass@[::1]:6379", "redis://u:***@[::1]:6379"),
    ],
)
def test_redact_url_hides_the_password_only(url, shown):
    assert redact_url(url) == shown
    assert "s3cret-pass" not in redact_url(url)


def test_check_config_shows_the_urls_without_their_passwords(clean_env, capsys):
    for name, value in GOOD.items():
        clean_env.setenv(name, value)
    clean_env.setenv("DATABASE_URL", "postgresql+psycopg://tms:db-s3cret@db.internal:5432/tms")
    clean_env.setenv("REDIS_URL", "redis://:redis-s3cret@redis:6379/1")
    assert cli.main(["check-config"]) == 0
    out = capsys.readouterr().out
    assert "REDIS_URL=redis://:***@redis:6379/1" in out
    assert "DATABASE_URL=postgresql+psycopg://tms:***@db.internal:5432/tms" in out
    assert "SMTP_URL=smtps://mailer:***@smtp.example:465" in out
    assert "s3cret" not in out and "secret@" not in out


def test_serve_in_production_checks_the_configuration_before_starting_anything(
    clean_env, capsys, monkeypatch
):
    import backend.stack

    started: list[bool] = []
    monkeypatch.setattr(backend.stack, "serve", lambda *a, **k: started.append(True) or 0)
    clean_env.setenv("TMS_ENV", "production")
    clean_env.setenv("WHATSAPP_APP_SECRET", DEVELOPMENT_SECRETS["WHATSAPP_APP_SECRET"])
    assert cli.main(["serve"]) == 2
    assert started == []  # nothing was started
    err = capsys.readouterr().err
    assert "serve: refusing to start" in err
    # Every problem, each naming its variable.
    for name in ("WHATSAPP_APP_SECRET", "LINK_SECRET", "DATABASE_URL", "METRICS_TOKEN"):
        assert f"problem: {name}" in err
    for name, value in GOOD.items():
        clean_env.setenv(name, value)
    assert cli.main(["serve"]) == 0 and started == [True]


@pytest.mark.parametrize(
    "command",
    [["demo"], ["demo", "load"], ["chat", "--phone", "+61412000001"], ["mail", "list"]],
)
def test_production_refuses_the_development_kits_commands(clean_env, capsys, command):
    for name, value in GOOD.items():
        clean_env.setenv(name, value)
    clean_env.setenv("TMS_ENV", "production")
    assert cli.main(command) == 2
    assert "development kit" in capsys.readouterr().err


def test_the_production_image_leaves_the_development_kit_out():
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    copied = [line.split()[1] for line in dockerfile.splitlines() if line.startswith("COPY ")]
    assert "backend/" in copied and not any(path.startswith("devkit") for path in copied)


def test_production_refuses_traveller_keys_that_are_not_fernet_keys_or_the_public_one(clean_env):
    for name, value in GOOD.items():
        clean_env.setenv(name, value)
    clean_env.setenv("TRAVELLER_DATA_KEYS", "not-a-fernet-key-but-long-enough")
    assert production_problems(Settings()) == [
        "TRAVELLER_DATA_KEYS has 1 entry that is not a Fernet key (make one with: python -c "
        "'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')"
    ]
    public = DEVELOPMENT_SECRETS["TRAVELLER_DATA_KEYS"]
    clean_env.setenv("TRAVELLER_DATA_KEYS", f"{GOOD['TRAVELLER_DATA_KEYS']},{public}")
    assert production_problems(Settings()) == [
        "TRAVELLER_DATA_KEYS still holds the public development key"
    ]
    clean_env.setenv("TRAVELLER_DATA_KEYS", public)
    assert production_problems(Settings()) == [
        "TRAVELLER_DATA_KEYS is the public development default"
    ]
