"""The Dockerfile and docker-compose.yml stay consistent with the application (there is no
container engine here to run them; `docker compose config` needs a plugin this machine lacks)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from stellar_sdk import Keypair

from app.config import Settings
from app.serving import uvicorn_command

ROOT = Path(__file__).resolve().parent.parent


def test_compose_has_the_stack_and_a_valid_production_configuration() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"api", "worker", "beat", "migrate", "postgres", "redis"} <= set(services)
    environment = services["api"]["environment"]
    known = {name.upper() for name in Settings.model_fields}
    assert set(environment) <= known, set(environment) - known
    # ${VAR:?message} and ${VAR:-default}: what an operator would set.
    required = {"SECRET_KEY": "s" * 40, "STELLAR_POOL_SECRET": Keypair.random().secret}

    def fill(match: re.Match[str]) -> str:
        return required.get(match.group(1), match.group(2))

    pattern = r"\$\{(\w+):[?-]([^}]*)\}"
    values = {key: re.sub(pattern, fill, str(value)) for key, value in environment.items()}
    settings = Settings(**{k.lower(): v for k, v in values.items() if v != ""})
    assert settings.is_production and not settings.is_sqlite
    assert services["worker"]["command"][:4] == ["celery", "-A", "app.worker", "worker"]
    assert "payouts" in " ".join(services["worker"]["command"])


def test_the_image_is_multi_stage_small_and_unprivileged() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert len(re.findall(r"^FROM ", dockerfile, re.MULTILINE)) == 2
    assert re.search(r"^USER app$", dockerfile, re.MULTILINE)
    assert "slim" in dockerfile and "HEALTHCHECK" in dockerfile
    assert 'CMD ["apexchainx", "serve"' in dockerfile  # app/serving.py: graceful shutdown


def test_every_way_of_starting_the_api_uses_the_one_command_line() -> None:
    """uvicorn's proxy headers would rewrite the client address behind the application's
    back; every start goes through `app/serving.py`, which turns them off."""
    command = uvicorn_command()
    assert "--no-proxy-headers" in command and "--timeout-graceful-shutdown" in command
    assert "apexchainx serve" in (ROOT / "Makefile").read_text()
    assert '"apexchainx", "serve"' in (ROOT / "Dockerfile").read_text()
    sources = [ROOT / name for name in ("Makefile", "Dockerfile", "docker-compose.yml")]
    sources += [*(ROOT / "bench").glob("*.py"), *(ROOT / "tests").rglob("*.py")]
    sources += [*(ROOT / "app").rglob("*.py"), *(ROOT / "docs").rglob("*.md"), ROOT / "README.md"]
    for path in sources:
        text = path.read_text()
        for line in text.splitlines():
            if "proxy-headers" in line and "--no-proxy-headers" not in line:
                raise AssertionError(f"{path.relative_to(ROOT)} starts uvicorn with proxy headers")
        if path.name != "serving.py" and re.search(r'"uvicorn",\s*"app\.main', text):
            raise AssertionError(f"{path.relative_to(ROOT)} builds its own uvicorn command line")


def test_compose_gives_each_process_the_login_docs_operations_names() -> None:
    """Requests on a login that may become the application role only; background work on
    one that may cross; the migrations on the owner; no service on the superuser."""
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]

    def login(service: str, name: str = "DATABASE_URL") -> str:
        return str(services[service]["environment"][name]).split("://")[1].split(":")[0]

    assert login("api") == "apexchainx_api"
    assert login("api", "DATABASE_SYSTEM_URL") == "apexchainx_worker"
    assert login("worker") == login("beat") == "apexchainx_worker"
    assert login("migrate") == "apexchainx_owner"
    init = (ROOT / "deploy" / "postgres-init" / "01-roles.sh").read_text()
    assert (
        "./deploy/postgres-init:/docker-entrypoint-initdb.d:ro" in services["postgres"]["volumes"]
    )
    assert "LOGIN NOINHERIT" in init and "apexchainx_api LOGIN NOINHERIT" in init
    api_line = next(line for line in init.splitlines() if "CREATE ROLE apexchainx_api" in line)
    assert "IN ROLE apexchainx_app;" in api_line  # the application role only
