"""Which lock store `rasa run` uses: Redis's when REDIS_URL is set, in-memory otherwise.

Rasa takes a per-sender lock around every turn. The in-memory lock only orders the turns
inside one process; with several Rasa processes on one tracker store, two of them could
handle the same sender at once and interleave its events. Rasa's Redis lock store shares the
lock between processes (addons/stores/redis_lock_store.py: Rasa's, with its ticket changes
made atomic), so REDIS_URL (the setting the backend reads too) makes several Rasa processes
safe. Without it the deployment runs one Rasa process, as it always did.

endpoints.yml cannot say "if", so `scripts/rasa.sh run` calls this first:

    python -m addons.stores.lock_store endpoints.yml var/endpoints.redis.yml

It prints the endpoints file to run with: endpoints.yml itself when REDIS_URL is empty, or a
copy with a Redis `lock_store` section appended (its host, port, db, password and TLS taken
from the URL) when Redis answers. When REDIS_URL is set and Redis does not answer, it refuses
under TMS_ENV=production (exit 2: several processes without a shared lock would corrupt
conversations) and, for development, warns and keeps the in-memory lock store.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

REDIS_SCHEMES = {"redis": False, "rediss": True}  # scheme -> TLS
LOCK_STORE_CLASS = "addons.stores.redis_lock_store.AtomicRedisLockStore"


def lock_store_config(redis_url: str) -> dict[str, Any]:
    """The keys of the `lock_store` section for a redis:// URL (those of Rasa's
    `type: redis`, which the atomic variant takes as they are)."""
    parts = urlsplit(redis_url)
    if parts.scheme not in REDIS_SCHEMES:
        # The scheme only: the rest of the URL may hold the password.
        raise ValueError(
            f"REDIS_URL must start with redis:// or rediss://, not {parts.scheme or '(none)'}://"
        )
    config: dict[str, Any] = {
        "type": LOCK_STORE_CLASS,
        "url": parts.hostname or "localhost",
        "port": parts.port or 6379,
        # Redis URLs name the database in the path (redis://host:6379/2); none means 0.
        "db": int(parts.path.strip("/") or 0),
    }
    if parts.username:
        config["username"] = unquote(parts.username)
    if parts.password:
        config["password"] = unquote(parts.password)
    if REDIS_SCHEMES[parts.scheme]:
        config["use_ssl"] = True
    return config


def endpoints_with_lock_store(endpoints: str, redis_url: str) -> str:
    """endpoints.yml's text with the lock store appended (JSON scalars are valid YAML)."""
    if any(line.startswith("lock_store:") for line in endpoints.splitlines()):
        raise ValueError("endpoints.yml already has a lock_store section")
    lines = [
        "",
        "# Appended by scripts/rasa.sh because REDIS_URL is set (addons/stores/lock_store.py).",
    ]
    lines.append("lock_store:")
    lines += [
        f"  {key}: {json.dumps(value)}" for key, value in lock_store_config(redis_url).items()
    ]
    return endpoints.rstrip("\n") + "\n" + "\n".join(lines) + "\n"


def redis_answers(redis_url: str, timeout: float = 3.0) -> str | None:
    """None when Redis answers PING, else why not."""
    import redis  # a dependency of Rasa

    try:
        client = redis.Redis.from_url(
            redis_url, socket_connect_timeout=timeout, socket_timeout=timeout
        )
        client.ping()
        client.close()
    except (redis.RedisError, OSError, ValueError) as error:
        return str(error) or type(error).__name__
    return None


def write_atomically(path: Path, text: str) -> None:
    # Several Rasa processes may start at once: each renames a complete file into place. The
    # file may hold the Redis password, so only its owner reads it.
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(handle, 0o600)
        with os.fdopen(handle, "w") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m addons.stores.lock_store ENDPOINTS OUTPUT", file=sys.stderr)
        return 2
    endpoints, output = Path(argv[0]), Path(argv[1])
    redis_url = os.environ.get("REDIS_URL", "").strip()
    if not redis_url:
        print(endpoints)
        return 0
    try:
        text = endpoints_with_lock_store(endpoints.read_text(), redis_url)
    except ValueError as error:
        print(f"rasa: {error}", file=sys.stderr)
        return 2
    problem = redis_answers(redis_url)
    if problem is not None:
        where = f"{urlsplit(redis_url).hostname}:{urlsplit(redis_url).port or 6379}"
        if os.environ.get("TMS_ENV", "development") == "production":
            print(
                f"rasa: refusing to start: REDIS_URL is set but Redis at {where} does not "
                f"answer ({problem}); several Rasa processes need its lock store",
                file=sys.stderr,
            )
            return 2
        print(
            f"rasa: Redis at {where} does not answer ({problem}): using the in-memory lock "
            f"store, so run only one Rasa process",
            file=sys.stderr,
        )
        print(endpoints)
        return 0
    write_atomically(output, text)
    print(output)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
