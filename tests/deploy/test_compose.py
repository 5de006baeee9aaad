"""deploy/compose.yml held against the product itself; no container engine runs here.

The file is parsed with PyYAML and interpolated the way Compose does it (`${VAR:?message}`,
`${VAR:-default}`). What it is checked against is read from the product's sources, never
listed here: the settings backend/config.py reads, the `${...}` placeholders of
scripts/rasa.sh, endpoints.yml and credentials.yml (and what the addons Rasa loads read), the
modules' own argument parsers, Rasa's own command line, the production verdict the services
refuse to start without.

Each check returns the problems it finds. The tests run every check on the real file (no
problem) and on broken copies of it (the mutations at the end), so a check that could not fail
fails.
"""

from __future__ import annotations

import argparse
import ast
import base64
import contextlib
import copy
import functools
import hashlib
import importlib
import importlib.util
import inspect
import io
import json
import os
import re
import subprocess
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

import pytest
import yaml

from backend.config import DEVELOPMENT_SECRETS, PROJECT_ROOT, Settings, config_verdict

DEPLOY = PROJECT_ROOT / "deploy"
COMPOSE_FILE = DEPLOY / "compose.yml"
DOCKERFILE = DEPLOY / "Dockerfile"
ENV_EXAMPLE = DEPLOY / "env.example"
CADDYFILE = DEPLOY / "Caddyfile"
RASA_SCRIPT = "scripts/rasa.sh"
RASA_PYTHON = PROJECT_ROOT / ".venv-rasa" / "bin" / "python"

# What a variable's name says about it: its value is a credential.
SECRET_NAME = re.compile(r"SECRET|TOKEN|PASSWORD")
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
# The variables the third-party images document (postgres: its entrypoint's; redis: none).
THIRD_PARTY_VARIABLES = {
    "postgres": {"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB", "PGDATA"},
    "redis": set(),
}
REDIS_PORT = 6379

Compose = dict[str, Any]


# -- Compose's interpolation ---------------------------------------------------------------------

_REFERENCE = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"(?:(?P<operator>:-|-|:\?|\?|:\+|\+)(?P<argument>[^}]*))?\}"
    r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)


@dataclass(frozen=True)
class Reference:
    name: str
    operator: str  # "" | ":-" | "-" | ":?" | "?" | ":+" | "+"
    argument: str

    @property
    def required(self) -> bool:
        return self.operator in (":?", "?")


class MissingVariable(Exception):
    pass


def references(text: str) -> list[Reference]:
    found = []
    for match in _REFERENCE.finditer(text):
        if match["name"]:
            found.append(Reference(match["name"], match["operator"] or "", match["argument"] or ""))
        elif match["bare"]:
            found.append(Reference(match["bare"], "", ""))
    return found


def interpolate(text: str, env: Mapping[str, str]) -> str:
    """One string as Compose interpolates it (no nesting: the file uses none)."""

    def replace(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name = match["name"] or match["bare"]
        operator, argument = match["operator"] or "", match["argument"] or ""
        value = env.get(name)
        present = value is not None and (value != "" or not operator.startswith(":"))
        if operator in (":?", "?"):
            if not present:
                raise MissingVariable(f"{name}: {argument}")
            return str(value)
        if operator in (":-", "-"):
            return str(value) if present else argument
        if operator in (":+", "+"):
            return argument if present else ""
        return value or ""

    return _REFERENCE.sub(replace, text)


def interpolate_all(node: Any, env: Mapping[str, str]) -> Any:
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, dict):
        return {key: interpolate_all(value, env) for key, value in node.items()}
    if isinstance(node, list):
        return [interpolate_all(item, env) for item in node]
    return node


def strings_in(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from strings_in(value)
    elif isinstance(node, list):
        for item in node:
            yield from strings_in(item)


# -- what the product reads ----------------------------------------------------------------------


def _is_environ(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "environ"
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
    )


def environment_reads(path: Path, readers: tuple[str, ...] = ()) -> set[str]:
    """The variables a Python file reads: `os.environ.get("X")`, `os.environ["X"]`,
    `os.getenv("X")`, and calls to its own `readers` (`_env("X", ...)`)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            reads = (isinstance(func, ast.Name) and func.id in readers) or (
                isinstance(func, ast.Attribute)
                and (
                    (func.attr == "get" and _is_environ(func.value))
                    or (
                        func.attr == "getenv"
                        and isinstance(func.value, ast.Name)
                        and func.value.id == "os"
                    )
                )
            )
            if reads and isinstance(node.args[0].value, str):
                names.add(node.args[0].value)
        elif (
            isinstance(node, ast.Subscript)
            and _is_environ(node.value)
            and isinstance(node.slice, ast.Constant)
        ):
            names.add(str(node.slice.value))
    return names


@functools.cache
def python_settings() -> frozenset[str]:
    """Every variable backend/config.py reads (`_env`, `_secret`, `os.environ`), and the
    development secrets' names."""
    config = PROJECT_ROOT / "backend" / "config.py"
    return frozenset(environment_reads(config, ("_env", "_secret")) | set(DEVELOPMENT_SECRETS))


@functools.cache
def rasa_settings() -> frozenset[str]:
    """Every variable the Rasa process reads: the `${...}` placeholders of endpoints.yml and
    credentials.yml, what scripts/rasa.sh takes from its environment (a name it only assigns
    itself, or loops over, is its own) and what the addons Rasa loads read."""
    names: set[str] = set()
    for config in ("endpoints.yml", "credentials.yml"):
        names |= set(
            re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", (PROJECT_ROOT / config).read_text())
        )
    script = (PROJECT_ROOT / RASA_SCRIPT).read_text()
    used = set(re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", script))
    own = {
        match[1]
        for match in re.finditer(
            r"^\s*(?:export\s+|local\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$", script, re.MULTILINE
        )
        if not re.search(rf"\$\{{?{match[1]}\b", match[2])
    }
    own |= set(re.findall(r"\bfor\s+([A-Za-z_][A-Za-z0-9_]*)\s+in\b", script))
    # The components Rasa loads from addons/ (the stores, the channel) read their own.
    for module in (PROJECT_ROOT / "addons").rglob("*.py"):
        names |= environment_reads(module)
    return frozenset(names | (used - own))


def is_secret_setting(name: str) -> bool:
    return name in DEVELOPMENT_SECRETS or bool(SECRET_NAME.search(name))


def caddy_placeholders() -> set[str]:
    return set(re.findall(r"\{\$([A-Za-z_][A-Za-z0-9_]*)", CADDYFILE.read_text()))


@functools.cache
def dockerfile_stages() -> dict[str, dict[str, Any]]:
    """Each stage of deploy/Dockerfile: its base image, working directory, COPY sources and
    `pip install -r` locks."""
    stages: dict[str, dict[str, Any]] = {}
    current: dict[str, Any] = {}
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    for line in text.splitlines():
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        instruction = words[0].upper()
        if instruction == "FROM":
            current = {"base": words[1], "workdir": "/", "copies": [], "locks": []}
            stages[words[3] if len(words) > 3 else words[1]] = current
        elif instruction == "WORKDIR":
            current["workdir"] = words[1]
        elif instruction == "COPY":
            current["copies"] += [w for w in words[1:-1] if not w.startswith("--")]
        elif instruction == "RUN":
            current["locks"] += re.findall(r"-r\s+(\S+)", line)
    return stages


# -- the services --------------------------------------------------------------------------------


def load_compose() -> Compose:
    return yaml.safe_load(COMPOSE_FILE.read_text())


@functools.cache
def example_environment() -> dict[str, str]:
    """deploy/env.example as an operator fills it in: every empty value becomes a random-looking
    one (the same on every run), 32 URL-safe characters."""
    env = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            made = hashlib.sha256(name.encode())
            # A Fernet key where one is asked for (the operator runs the line the file gives).
            filler = (
                base64.urlsafe_b64encode(made.digest()).decode()
                if name.strip() == "TRAVELLER_DATA_KEYS"
                else made.hexdigest()[:32]
            )
            env[name.strip()] = value.strip() or filler
    return env


def argv(service: Mapping[str, Any]) -> list[str]:
    command = service.get("command") or []
    return command.split() if isinstance(command, str) else [str(word) for word in command]


def environment(service: Mapping[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.partition("=")[::2] for item in env)
    return {str(key): "" if value is None else str(value) for key, value in env.items()}


def build_target(service: Mapping[str, Any]) -> str | None:
    """The deploy/Dockerfile stage a product service is built from (None: a third-party image)."""
    build = service.get("build")
    if not isinstance(build, dict):
        return None
    dockerfile = (
        COMPOSE_FILE.parent / build.get("context", ".") / build.get("dockerfile", "Dockerfile")
    ).resolve()
    return build.get("target", "") if dockerfile == DOCKERFILE.resolve() else None


def role(service: Mapping[str, Any]) -> str:
    """What a service is: a product process by its command, else the image it runs."""
    if build_target(service) is not None:
        words = argv(service)
        if words[:2] == ["bash", RASA_SCRIPT]:
            return "rasa"
        if words[:2] == ["python", "-m"] and len(words) > 2:
            return words[2]
        return words[0] if words else "no command"
    image = str(service.get("image", ""))
    return image.rsplit("/", 1)[-1].split(":")[0]


def services_of(compose: Compose, wanted: str) -> dict[str, dict[str, Any]]:
    return {name: s for name, s in compose["services"].items() if role(s) == wanted}


def listening_port(service: Mapping[str, Any]) -> int | None:
    words, env = argv(service), environment(service)
    if "--port" in words:
        return int(words[words.index("--port") + 1])
    if "BACKEND_PORT" in env:
        return int(env["BACKEND_PORT"])
    return None


def replicas(service: Mapping[str, Any]) -> int:
    return int((service.get("deploy") or {}).get("replicas", 1))


def networks(service: Mapping[str, Any]) -> list[str]:
    return list(service.get("networks") or ["default"])


def depends_on(service: Mapping[str, Any]) -> dict[str, str]:
    wanted = service.get("depends_on") or {}
    if isinstance(wanted, list):
        return dict.fromkeys(wanted, "service_started")
    return {name: (spec or {}).get("condition", "service_started") for name, spec in wanted.items()}


def is_product(service: Mapping[str, Any]) -> bool:
    return build_target(service) is not None


# -- entry points --------------------------------------------------------------------------------


class _Parsed(Exception):
    """Raised once a command's arguments are parsed: the process itself never starts."""


def arguments_problem(main: Callable[..., Any], words: list[str]) -> str | None:
    """Whether `main` (a module's, or a console script's) accepts these arguments, asked of
    its own argparse parser; a `main()` that takes none must be given none."""
    if not inspect.signature(main).parameters:
        return f"takes no arguments, given {words}" if words else None
    parse_args = argparse.ArgumentParser.parse_args

    def parse_then_stop(
        self: argparse.ArgumentParser, args: Any = None, namespace: Any = None
    ) -> Any:
        parse_args(self, args, namespace)
        raise _Parsed

    stderr = io.StringIO()
    with (
        mock.patch.object(argparse.ArgumentParser, "parse_args", parse_then_stop),
        contextlib.redirect_stderr(stderr),
    ):
        try:
            main(list(words))
        except _Parsed:
            return None
        except SystemExit:
            said = stderr.getvalue().strip().splitlines() or ["(nothing said)"]
            return f"rejects {words}: {said[-1]}"
    return "returned without parsing its arguments"


def python_entry_problem(module: str, words: list[str]) -> str | None:
    try:
        spec = importlib.util.find_spec(module)
    except ModuleNotFoundError:
        spec = None
    if spec is None or spec.origin is None:
        return f"no module {module}"
    if '__name__ == "__main__"' not in Path(spec.origin).read_text():
        return f"{module} does not run as `python -m {module}`"
    main = getattr(importlib.import_module(module), "main", None)
    if main is None:
        return f"{module} has no main()"
    return arguments_problem(main, words)


def console_script_problem(script: str, words: list[str]) -> str | None:
    scripts = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    if script not in scripts:
        return f"no console script {script!r} in pyproject.toml"
    module, _, func = scripts[script].partition(":")
    return arguments_problem(getattr(importlib.import_module(module), func), words)


@functools.cache
def rasa_parse(words: tuple[str, ...]) -> str | None:
    """Rasa's own command-line parser (in the Rasa environment) on these arguments."""
    if not RASA_PYTHON.exists():
        pytest.skip("no .venv-rasa (make setup builds it): Rasa's command line cannot be asked")
    probe = (
        "import json, sys\n"
        "from rasa.__main__ import create_argument_parser\n"
        "args = create_argument_parser().parse_args(json.loads(sys.argv[1]))\n"
        "sys.exit(0 if hasattr(args, 'func') else 3)\n"
    )
    result = subprocess.run(
        [str(RASA_PYTHON), "-c", probe, json.dumps(list(words))],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=120,
    )
    if result.returncode == 0:
        return None
    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    return f"rasa rejects {list(words)}: {errors[-1] if errors else 'no subcommand'}"


def check_entry_points(compose: Compose, env: Mapping[str, str]) -> list[str]:
    """Every product service runs one of the product's entry points, with arguments its parser
    takes, from the image that holds it."""
    problems = []
    stages = dockerfile_stages()
    for name, raw in compose["services"].items():
        target = build_target(raw)
        if target is None:
            continue
        service = interpolate_all(raw, env)
        words = argv(service)
        if target not in stages:
            problems.append(f"{name}: deploy/Dockerfile has no stage {target!r}")
            continue
        if words[:2] == ["bash", RASA_SCRIPT]:
            if not (PROJECT_ROOT / RASA_SCRIPT).exists():
                problems.append(f"{name}: {RASA_SCRIPT} does not exist")
            elif RASA_SCRIPT not in stages[target]["copies"]:
                problems.append(f"{name}: the {target} image has no {RASA_SCRIPT}")
            elif problem := rasa_parse(tuple(words[2:])):
                problems.append(f"{name}: {problem}")
            if "--model" in words:
                problems += model_problems(
                    name, service, words[words.index("--model") + 1], stages[target]
                )
        elif words[:2] == ["python", "-m"] and len(words) > 2:
            if (problem := python_entry_problem(words[2], words[3:])) is not None:
                problems.append(f"{name}: python -m {words[2]}: {problem}")
            elif words[2].split(".")[0] + "/" not in stages[target]["copies"]:
                problems.append(f"{name}: the {target} image has no {words[2].split('.')[0]}/")
        elif words:
            if (problem := console_script_problem(words[0], words[1:])) is not None:
                problems.append(f"{name}: {words[0]}: {problem}")
            elif "pyproject.toml" not in stages[target]["copies"]:
                problems.append(f"{name}: the {target} image does not install {words[0]}")
        else:
            problems.append(f"{name}: no command")
    return problems


def model_problems(
    name: str, service: Mapping[str, Any], model: str, stage: Mapping[str, Any]
) -> list[str]:
    """The model Rasa loads comes in through a volume (it is trained outside the image)."""
    path = Path(stage["workdir"]) / model
    for volume in service.get("volumes") or []:
        source, _, rest = str(volume).partition(":")
        target = rest.split(":")[0]
        if path.is_relative_to(target):
            if (COMPOSE_FILE.parent / source).resolve() != (PROJECT_ROOT / "models").resolve():
                return [f"{name}: the model's volume is {source}, not the models/ make train fills"]
            return []
    return [f"{name}: no volume holds the model {model}"]


# -- settings --------------------------------------------------------------------------------------


def settings_read_by(service: Mapping[str, Any]) -> frozenset[str] | None:
    """What the process of this service reads (None: not known to this test)."""
    what = role(service)
    if what == "rasa":
        return rasa_settings()
    if is_product(service):
        return python_settings()
    if what == "caddy":
        return frozenset(caddy_placeholders())
    if what in THIRD_PARTY_VARIABLES:
        return frozenset(THIRD_PARTY_VARIABLES[what])
    return None


def check_settings(compose: Compose, env: Mapping[str, str]) -> list[str]:
    """Every variable a service sets is one its process reads: a misspelt or invented setting
    would be ignored in silence."""
    problems = []
    for name, service in compose["services"].items():
        reads = settings_read_by(service)
        if reads is None:
            problems.append(f"{name}: unknown image {service.get('image')!r}")
            continue
        for variable in environment(service):
            if variable not in reads:
                problems.append(f"{name}: sets {variable}, which its process never reads")
    return problems


def check_secrets(compose: Compose, env: Mapping[str, str]) -> list[str]:
    """Secrets come from the environment, with no default: compose refuses to start without
    them. One setting has the same value in every service that sets it (the two ends of a
    shared secret, one database)."""
    problems = []
    for text in strings_in(compose["services"]):
        for ref in references(text):
            if is_secret_setting(ref.name) and not ref.required:
                problems.append(
                    f"${{{ref.name}{ref.operator}...}} gives a secret a default or lets it be empty: use ${{{ref.name}:?...}}"
                )
    seen: dict[str, tuple[str, str]] = {}
    for name, service in compose["services"].items():
        for variable, value in environment(service).items():
            if is_secret_setting(variable):
                refs = references(value)
                if not (
                    len(refs) == 1
                    and refs[0].required
                    and value == f"${{{refs[0].name}{refs[0].operator}{refs[0].argument}}}"
                ):
                    problems.append(
                        f"{name}: {variable} is not exactly a required variable (${{NAME:?...}})"
                    )
            # Compared without the messages: `${X:?one}` and `${X:?other}` are the same value.
            same = _REFERENCE.sub(lambda m: f"${{{m['name'] or m['bare'] or '$'}}}", value)
            if variable in seen and seen[variable][1] != same:
                problems.append(f"{name}: {variable} differs from {seen[variable][0]}'s")
            seen.setdefault(variable, (name, same))
    return problems


@contextlib.contextmanager
def only_environment(env: Mapping[str, str]) -> Iterator[None]:
    with mock.patch.dict(os.environ, env, clear=True):
        yield


def check_production(compose: Compose, env: Mapping[str, str]) -> list[str]:
    """Every product process runs as production and is given what production requires: the
    backend and the action server pass the very verdict they refuse to start without
    (backend/config.py); Rasa gets every secret scripts/rasa.sh refuses to start without."""
    problems = []
    for name, raw in compose["services"].items():
        if not is_product(raw):
            continue
        service = interpolate_all(raw, env)
        settings = environment(service)
        if settings.get("TMS_ENV") != "production":
            problems.append(f"{name}: TMS_ENV is {settings.get('TMS_ENV')!r}, not production")
        what = role(service)
        if what == "rasa":
            for secret in sorted(set(DEVELOPMENT_SECRETS) & rasa_settings()):
                if not settings.get(secret):
                    problems.append(f"{name}: Rasa needs {secret} in production")
            continue
        spec = importlib.util.find_spec(what) if "." in what else None
        if spec is None or "start_or_refuse(" not in Path(str(spec.origin)).read_text():
            continue  # a command (tms db upgrade) that does not refuse to start
        with only_environment(settings):
            fit, report = config_verdict(Settings())
        if not fit:
            problems.append(f"{name}: would refuse to start:\n{report}")
    return problems


# -- wiring ------------------------------------------------------------------------------------


def check_wiring(compose: Compose, env: Mapping[str, str]) -> list[str]:
    """Every URL a process is given leads to the service meant: RASA_URL lists exactly the
    Rasa services, REDIS_URL is the redis service, the databases are the postgres service's."""
    problems = []
    resolved = interpolate_all(compose, env)
    services = resolved["services"]
    rasa = services_of(resolved, "rasa")
    actions = services_of(resolved, "actions.server")
    redis = services_of(resolved, "redis")
    postgres = services_of(resolved, "postgres")
    backends = services_of(resolved, "backend.server")
    if len(rasa) < 2:
        problems.append(f"{len(rasa)} Rasa service(s): several are the point")
    for name, service in services.items():
        settings = environment(service)
        if "RASA_URL" in settings:
            listed = [urlsplit(url.strip()) for url in settings["RASA_URL"].split(",")]
            wanted = {(host, listening_port(s)) for host, s in rasa.items()}
            given = [(url.hostname, url.port) for url in listed]
            if sorted(given, key=str) != sorted(wanted, key=str):
                problems.append(
                    f"{name}: RASA_URL lists {given}, the Rasa services are {sorted(wanted, key=str)}"
                )
        for variable, path in (("ACTION_ENDPOINT_URL", "/webhook"), ("ACTION_SERVER_URL", "")):
            if variable in settings:
                url = urlsplit(settings[variable])
                if (
                    url.hostname not in actions
                    or url.port != listening_port(actions[url.hostname])
                    or url.path != path
                ):
                    problems.append(
                        f"{name}: {variable}={settings[variable]} is not the action server's {path or '/'}"
                    )
        if "REDIS_URL" in settings:
            url = urlsplit(settings["REDIS_URL"])
            if (
                url.scheme != "redis"
                or url.hostname not in redis
                or (url.port or REDIS_PORT) != REDIS_PORT
            ):
                problems.append(
                    f"{name}: REDIS_URL={settings['REDIS_URL']} is not the redis service"
                )
        elif role(service) == "rasa" and len(rasa) > 1:
            problems.append(f"{name}: several Rasa processes need REDIS_URL (the lock store)")
        for variable in ("DATABASE_URL", "TRACKER_STORE_URL"):
            if variable in settings:
                problems += database_problems(name, variable, settings[variable], postgres)
        if role(service) == "rasa" and "TRACKER_STORE_URL" in settings:
            dialect = urlsplit(settings["TRACKER_STORE_URL"]).scheme.split("+")[0]
            if settings.get("TRACKER_DIALECT") != dialect:
                problems.append(f"{name}: TRACKER_DIALECT is not {dialect}, the tracker store's")
    for name, service in {**rasa, **actions, **backends}.items():
        words, settings = argv(service), environment(service)
        host = (
            words[words.index("--interface") + 1]
            if "--interface" in words
            else settings.get("BACKEND_HOST", settings.get("ACTION_SERVER_HOST", "127.0.0.1"))
        )
        if host in LOOPBACK:
            problems.append(f"{name}: listens on {host}, where no other container reaches it")
    for name, service in {**actions, **backends}.items():
        completed = [
            other
            for other, condition in depends_on(service).items()
            if condition == "service_completed_successfully"
        ]
        if not any(
            argv(services.get(other, {}))[:3] == ["tms", "db", "upgrade"] for other in completed
        ):
            problems.append(f"{name}: does not wait for `tms db upgrade` to complete")
    upstream = dict(re.findall(r"^\s*(name|port)\s+(\S+)", CADDYFILE.read_text(), re.MULTILINE))
    for name, service in backends.items():
        if upstream != {"name": name, "port": str(listening_port(service))}:
            problems.append(
                f"{name}: the proxy sends to {upstream}, not to {name}:{listening_port(service)}"
            )
    return problems


def database_problems(
    name: str, variable: str, value: str, postgres: Mapping[str, Any]
) -> list[str]:
    url = urlsplit(value)
    if url.hostname not in postgres:
        return [f"{name}: {variable} is not on the postgres service"]
    server = environment(postgres[url.hostname])
    databases = {server.get("POSTGRES_DB", server.get("POSTGRES_USER"))}
    for volume in postgres[url.hostname].get("volumes") or []:
        source = COMPOSE_FILE.parent / str(volume).split(":")[0]
        if "/docker-entrypoint-initdb.d/" in str(volume) and source.is_file():
            databases |= set(
                re.findall(r"CREATE DATABASE (\w+)", source.read_text(), re.IGNORECASE)
            )
    problems = []
    if (url.username, url.password) != (
        server.get("POSTGRES_USER"),
        server.get("POSTGRES_PASSWORD"),
    ):
        problems.append(f"{name}: {variable} does not log in as the postgres service's user")
    if url.path.lstrip("/") not in databases:
        problems.append(
            f"{name}: {variable} names a database nobody creates ({url.path.lstrip('/')})"
        )
    return problems


# -- exposure, replicas, health ------------------------------------------------------------------


def check_exposure(compose: Compose, env: Mapping[str, str]) -> list[str]:
    """Only the TLS proxy publishes ports. Rasa, the action servers, PostgreSQL and Redis (and
    the migration) sit on internal networks only; the backend also reaches out (Meta, Stripe,
    mail) through a network that is not internal."""
    problems = []
    internal = {
        name
        for name, spec in (compose.get("networks") or {}).items()
        if (spec or {}).get("internal")
    }
    for name, service in compose["services"].items():
        what = role(service)
        if service.get("ports") and what != "caddy":
            problems.append(f"{name}: publishes {service['ports']}; only the proxy may")
        on = set(networks(service))
        if what in ("rasa", "actions.server", "postgres", "redis", "tms") and not on <= internal:
            problems.append(f"{name}: on {sorted(on - internal)}, which is not internal")
        if what in ("backend.server", "caddy") and on <= internal:
            problems.append(f"{name}: on internal networks only, out of reach")
    return problems


def check_replicas(compose: Compose, env: Mapping[str, str]) -> list[str]:
    """Several processes of each kind: the backend and the action server as replicas of one
    service, Rasa as services of their own (each needs a stable name)."""
    problems = []
    resolved = interpolate_all(compose, env)
    for what in ("backend.server", "actions.server"):
        found = services_of(resolved, what)
        if not found or sum(replicas(s) for s in found.values()) < 2:
            problems.append(f"fewer than 2 {what} processes")
        for name, service in found.items():
            if "container_name" in service:
                problems.append(f"{name}: container_name allows one replica only")
    for name, service in services_of(resolved, "rasa").items():
        if replicas(service) != 1:
            problems.append(f"{name}: Rasa replicas need names of their own (rasa-1, rasa-2)")
    return problems


def check_health(compose: Compose, env: Mapping[str, str]) -> list[str]:
    """Every long-running service says when it is up; a product process's check asks the port
    it listens on."""
    problems = []
    for name, service in interpolate_all(compose, env)["services"].items():
        if str(service.get("restart", "")) == "no":
            continue  # one-shot
        test = (service.get("healthcheck") or {}).get("test")
        if not test or service["healthcheck"].get("disable"):
            problems.append(f"{name}: no healthcheck")
        elif is_product(service) and f"127.0.0.1:{listening_port(service)}/" not in " ".join(test):
            problems.append(f"{name}: its healthcheck does not ask port {listening_port(service)}")
    return problems


def check_env_example(compose: Compose, env: Mapping[str, str]) -> list[str]:
    """deploy/env.example names every variable the file uses and gives no secret a value."""
    listed = {
        line.partition("=")[0].strip(): line.partition("=")[2].strip()
        for line in ENV_EXAMPLE.read_text().splitlines()
        if "=" in line and not line.lstrip().startswith("#")
    }
    problems = []
    for ref in {r.name for text in strings_in(compose["services"]) for r in references(text)}:
        if ref not in listed:
            problems.append(f"env.example does not list {ref}")
    for name, value in listed.items():
        if is_secret_setting(name) and value:
            problems.append(f"env.example gives the secret {name} a value")
    return problems


CHECKS: dict[str, Callable[[Compose, Mapping[str, str]], list[str]]] = {
    "entry points": check_entry_points,
    "settings": check_settings,
    "secrets": check_secrets,
    "production": check_production,
    "wiring": check_wiring,
    "exposure": check_exposure,
    "replicas": check_replicas,
    "health": check_health,
    "env.example": check_env_example,
}


# -- the real file ---------------------------------------------------------------------------------


@pytest.mark.parametrize("check", CHECKS)
def test_the_compose_file_passes(check: str) -> None:
    assert CHECKS[check](load_compose(), example_environment()) == []


def test_what_the_product_reads_is_found() -> None:
    # The parsers above find the settings, or every check on them would pass vacuously.
    assert {
        "DATABASE_URL",
        "RASA_URL",
        "REDIS_URL",
        "TMS_WORKERS",
        "LINK_SECRET",
    } <= python_settings()
    assert {
        "ACTION_ENDPOINT_URL",
        "ACTION_SERVER_SECRET",
        "RASA_CHANNEL_SECRET",
        "TRACKER_STORE_URL",
        "TMS_ENV",
    } <= rasa_settings()
    assert not {"VAR_DIR", "name", "default"} & rasa_settings()


def test_compose_refuses_to_start_without_each_secret() -> None:
    compose = load_compose()
    used = {r.name for text in strings_in(compose["services"]) for r in references(text)}
    for secret in sorted(filter(is_secret_setting, used)):
        env = {k: v for k, v in example_environment().items() if k != secret}
        with pytest.raises(MissingVariable, match=secret):
            interpolate_all(compose, env)


def test_the_images_build_from_the_projects_own_locks() -> None:
    """Each stage installs the lock scripts/setup.sh installs in the environment of the same
    Python, and copies only what exists."""
    setup = (PROJECT_ROOT / "scripts" / "setup.sh").read_text()
    pythons = {
        ".venv": re.search(r"PYTHON_BACKEND:-python(\d+\.\d+)", setup)[1],  # type: ignore[index]
        ".venv-rasa": re.search(r"PYTHON_RASA:-\S*?(\d+\.\d+)\.\d+", setup)[1],  # type: ignore[index]
    }
    stages = dockerfile_stages()
    assert {"backend", "rasa"} <= set(stages)
    for name, stage in stages.items():
        for source in stage["copies"]:
            assert (PROJECT_ROOT / source).exists(), f"{name}: COPY {source}"
        assert stage["locks"], f"{name}: installs no lock"
        for lock in stage["locks"]:
            installed = re.search(
                rf"(\.venv(?:-rasa)?)/bin/python -m pip install[^\n]*-r {re.escape(lock)}", setup
            )
            assert installed, f"{name}: scripts/setup.sh installs no {lock}"
            python = pythons[installed[1]]
            assert stage["base"].startswith(f"python:{python}-"), f"{name}: {lock} is for {python}"


# -- the checks catch a broken file ---------------------------------------------------------------


def env_of(compose: Compose, service: str) -> dict[str, Any]:
    environment: dict[str, Any] = compose["services"][service]["environment"]
    return environment


def set_command(service: str, *words: str) -> Callable[[Compose], None]:
    def mutate(compose: Compose) -> None:
        compose["services"][service]["command"] = list(words)

    return mutate


def set_env(service: str, variable: str, value: str | None) -> Callable[[Compose], None]:
    def mutate(compose: Compose) -> None:
        env = env_of(compose, service)
        if value is None:
            env.pop(variable)
        else:
            env[variable] = value

    return mutate


def set_key(service: str, key: str, value: Any) -> Callable[[Compose], None]:
    def mutate(compose: Compose) -> None:
        compose["services"][service] = {**compose["services"][service], key: value}

    return mutate


def drop_key(service: str, key: str) -> Callable[[Compose], None]:
    def mutate(compose: Compose) -> None:
        compose["services"][service] = {
            k: v for k, v in compose["services"][service].items() if k != key
        }

    return mutate


MODEL = "models/${RASA_MODEL:?}"
RASA_RUN = (
    "bash",
    RASA_SCRIPT,
    "run",
    "--model",
    MODEL,
    "--port",
    "5005",
    "--interface",
    "0.0.0.0",
)

MUTATIONS: list[tuple[str, Callable[[Compose], None], str]] = [
    (
        "a module that does not exist",
        set_command("backend", "python", "-m", "backend.servce"),
        "entry points",
    ),
    (
        "an option the action server has not",
        set_command(
            "actions", "python", "-m", "actions.server", "--port", "5055", "--threads", "4"
        ),
        "entry points",
    ),
    (
        "arguments to a main() that takes none",
        set_command("backend", "python", "-m", "backend.server", "--port", "8000"),
        "entry points",
    ),
    (
        "a tms command that does not exist",
        set_command("migrate", "tms", "db", "migrate"),
        "entry points",
    ),
    (
        "a Rasa subcommand that does not exist",
        set_command("rasa-1", "bash", RASA_SCRIPT, "serve", "--model", MODEL),
        "entry points",
    ),
    (
        "a Rasa option that does not exist",
        set_command("rasa-2", *RASA_RUN[:-4], "--ports", "5005", "--interface", "0.0.0.0"),
        "entry points",
    ),
    (
        "Rasa run from the backend's image",
        set_key(
            "rasa-1",
            "build",
            {"context": "..", "dockerfile": "deploy/Dockerfile", "target": "backend"},
        ),
        "entry points",
    ),
    ("a model no volume brings", drop_key("rasa-2", "volumes"), "entry points"),
    ("a setting the backend never reads", set_env("backend", "RASA_TIMEOUT", "5"), "settings"),
    (
        "a backend secret given to Rasa",
        set_env("rasa-1", "WHATSAPP_ACCESS_TOKEN", "${WHATSAPP_ACCESS_TOKEN:?x}"),
        "settings",
    ),
    (
        "a variable postgres does not know",
        set_env("postgres", "POSTGRES_PASS", "${POSTGRES_PASSWORD:?x}"),
        "settings",
    ),
    (
        "a secret with a default",
        set_env("backend", "LINK_SECRET", "${LINK_SECRET:-a-default-link-secret}"),
        "secrets",
    ),
    (
        "a secret written into the file",
        set_env("actions", "ACTION_SERVER_SECRET", "0123456789abcdef0123"),
        "secrets",
    ),
    (
        "a password that may be empty",
        set_env("postgres", "POSTGRES_PASSWORD", "${POSTGRES_PASSWORD}"),
        "secrets",
    ),
    (
        "two ends of a secret from two variables",
        set_env("rasa-2", "RASA_CHANNEL_SECRET", "${RASA_SECRET:?x}"),
        "secrets",
    ),
    (
        "a secret the backend needs in production left out",
        set_env("actions", "PAYMENT_WEBHOOK_SECRET", None),
        "production",
    ),
    (
        "the local payment provider in production",
        set_env("backend", "PAYMENT_PROVIDER", "local"),
        "production",
    ),
    (
        "a secret Rasa needs in production left out",
        set_env("rasa-2", "ACTION_SERVER_SECRET", None),
        "production",
    ),
    ("a process not in production", set_env("rasa-1", "TMS_ENV", "development"), "production"),
    ("RASA_URL without one Rasa", set_env("backend", "RASA_URL", "http://rasa-1:5005"), "wiring"),
    (
        "RASA_URL with a Rasa that does not exist",
        set_env("backend", "RASA_URL", "http://rasa-1:5005,http://rasa-2:5005,http://rasa-3:5005"),
        "wiring",
    ),
    (
        "RASA_URL on the wrong port",
        set_env("backend", "RASA_URL", "http://rasa-1:5005,http://rasa-2:5006"),
        "wiring",
    ),
    ("REDIS_URL elsewhere", set_env("rasa-1", "REDIS_URL", "redis://cache:6379/1"), "wiring"),
    ("several Rasa without the lock store", set_env("rasa-2", "REDIS_URL", None), "wiring"),
    (
        "the action endpoint on the wrong port",
        set_env("rasa-1", "ACTION_ENDPOINT_URL", "http://actions:5056/webhook"),
        "wiring",
    ),
    (
        "a tracker store in a database nobody creates",
        set_env(
            "rasa-1",
            "TRACKER_STORE_URL",
            "postgresql://tms:${POSTGRES_PASSWORD:?x}@postgres:5432/rasa",
        ),
        "wiring",
    ),
    (
        "the action server on loopback",
        set_env("actions", "ACTION_SERVER_HOST", "127.0.0.1"),
        "wiring",
    ),
    (
        "the backend before its schema",
        set_key("backend", "depends_on", {"postgres": {"condition": "service_healthy"}}),
        "wiring",
    ),
    ("postgres published", set_key("postgres", "ports", ["5432:5432"]), "exposure"),
    ("Rasa published", set_key("rasa-1", "ports", ["5005:5005"]), "exposure"),
    (
        "the action server on the outside network",
        set_key("actions", "networks", ["edge", "internal"]),
        "exposure",
    ),
    ("redis on the default network", drop_key("redis", "networks"), "exposure"),
    ("one backend", set_key("backend", "deploy", {"replicas": 1}), "replicas"),
    (
        "a backend that cannot be replicated",
        set_key("backend", "container_name", "tms-backend"),
        "replicas",
    ),
    ("a Rasa replicated behind one name", set_key("rasa-2", "deploy", {"replicas": 2}), "replicas"),
    ("no healthcheck", drop_key("actions", "healthcheck"), "health"),
    (
        "a healthcheck on another port",
        set_key(
            "backend", "healthcheck", {"test": ["CMD", "python", "-c", "'http://127.0.0.1:9000/'"]}
        ),
        "health",
    ),
    (
        "a variable env.example does not list",
        set_env("backend", "OPERATOR_NAME", "${TREK_OPERATOR:?x}"),
        "env.example",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "check"), [(m, c) for _, m, c in MUTATIONS], ids=[d for d, _, _ in MUTATIONS]
)
def test_a_broken_compose_file_is_caught(mutate: Callable[[Compose], None], check: str) -> None:
    compose = load_compose()
    # Each service a copy of its own: YAML aliases (rasa-2: *rasa) make two services one
    # mapping, and a mutation meant for one must not reach the other.
    compose["services"] = {name: copy.deepcopy(s) for name, s in compose["services"].items()}
    mutate(compose)
    env = {**example_environment(), "RASA_SECRET": "x" * 32, "TREK_OPERATOR": "x"}
    # New problems, not the real file's own (should it have any, its own test says so).
    found = set(CHECKS[check](compose, env)) - set(CHECKS[check](load_compose(), env))
    assert found, f"the {check} check missed it"


@pytest.mark.parametrize(
    ("text", "env", "expected"),
    [
        ("${A:?set A}", {"A": "1"}, "1"),
        ("x${A:-d}y", {}, "xdy"),
        ("${A:-d}", {"A": ""}, "d"),
        ("${A-d}", {"A": ""}, ""),
        ("$A/$$B", {"A": "a"}, "a/$B"),
        ("${A:+on}", {"A": "1"}, "on"),
    ],
)
def test_interpolation_is_composes(text: str, env: dict[str, str], expected: str) -> None:
    assert interpolate(text, env) == expected


@pytest.mark.parametrize(
    ("text", "env"), [("${A:?set A}", {}), ("${A:?set A}", {"A": ""}), ("${A?x}", {})]
)
def test_a_required_variable_missing_stops_interpolation(text: str, env: dict[str, str]) -> None:
    with pytest.raises(MissingVariable):
        interpolate(text, env)
