import re
from pathlib import Path

import pytest
from pydantic import ValidationError
from stellar_sdk import Keypair

from app.config import DEFAULT_SECRET_KEY, Settings

ROOT = Path(__file__).resolve().parent.parent


def test_production_refuses_the_default_secret() -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(
            environment="production",
            secret_key=DEFAULT_SECRET_KEY,
            database_url="postgresql+asyncpg://db/x",
        )


def test_production_refuses_a_short_secret_and_sqlite() -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(
            environment="production", secret_key="short", database_url="postgresql+asyncpg://db/x"
        )
    with pytest.raises(ValidationError, match="PostgreSQL"):
        Settings(environment="production", secret_key="k" * 40, database_url="sqlite:///x.db")


def test_production_starts_with_real_secrets() -> None:
    settings = Settings(
        environment="production",
        secret_key="k" * 40,
        database_url="postgresql+asyncpg://db/x",
        stellar_network="testnet",
        stellar_pool_secret=Keypair.random().secret,
        metrics_token="m" * 32,
    )
    assert settings.json_logs is True


@pytest.mark.parametrize(
    ("unsafe", "reason"),
    [
        ({"webhook_allow_private_targets": True}, "WEBHOOK_ALLOW_PRIVATE_TARGETS must be false"),
        ({"rate_limit_enabled": False}, "RATE_LIMIT_ENABLED must be true"),
        ({"metrics_token": None}, "METRICS_TOKEN must be set"),
    ],
)
def test_production_refuses_unsafe_switches_with_a_reason(
    unsafe: dict[str, object], reason: str
) -> None:
    safe: dict[str, object] = {
        "environment": "production",
        "secret_key": "k" * 40,
        "database_url": "postgresql+asyncpg://db/x",
        "stellar_network": "testnet",
        "stellar_pool_secret": Keypair.random().secret,
        "metrics_token": "m" * 32,
    }
    Settings(**safe)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=reason):
        Settings(**{**safe, **unsafe})  # type: ignore[arg-type]


def test_production_refuses_the_simulated_ledger() -> None:
    with pytest.raises(ValidationError, match="STELLAR_NETWORK"):
        Settings(
            environment="production", secret_key="k" * 40, database_url="postgresql+asyncpg://db/x"
        )


def test_a_real_network_needs_a_pool_secret_that_is_a_seed() -> None:
    with pytest.raises(ValidationError, match="STELLAR_POOL_SECRET is required"):
        Settings(stellar_network="testnet")
    public = Keypair.random().public_key
    with pytest.raises(ValidationError, match="secret seed") as refused:
        Settings(stellar_network="testnet", stellar_pool_secret=public)
    assert public not in str(refused.value)  # a refused secret is never echoed
    with pytest.raises(ValidationError, match="contract"):
        Settings(soroban_contract_id="not-a-contract")


@pytest.mark.parametrize("prefix", ["api/v1", "/api/v1/", ""])
def test_the_api_prefix_must_start_with_a_slash(prefix: str) -> None:
    with pytest.raises(ValidationError):
        Settings(api_v1_prefix=prefix)


def test_a_custom_prefix_moves_the_routes() -> None:
    from app.main import create_app

    app = create_app(Settings(api_v1_prefix="/v2"), run_inline_executor=False)
    assert "/v2/auth/login" in app.openapi()["paths"]


def test_every_setting_is_documented_in_env_example() -> None:
    documented = set(
        re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE)
    )
    missing = {name.upper() for name in Settings.model_fields} - documented
    assert not missing, f"not in .env.example: {sorted(missing)}"
