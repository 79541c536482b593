"""Settings, read once from the environment (and an optional `.env` file).

Every setting is listed with its default and meaning in `.env.example`.
"""

from __future__ import annotations

import ipaddress
import json
import os
from enum import StrEnum
from functools import lru_cache
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_SECRET_KEY = "dev-only-secret-change-me-in-production-0000"  # noqa: S105


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


class JobsExecutor(StrEnum):
    inline = "inline"
    celery = "celery"


class StellarNetwork(StrEnum):
    local = "local"  # a ledger simulated in the database (embedded default)
    testnet = "testnet"
    public = "public"


def _half_the_cores() -> int:
    return max(1, (os.cpu_count() or 2) // 2)


class Settings(BaseSettings):
    # hide_input_in_errors: a refused setting (a malformed secret seed) must not be echoed
    # into the logs of a failed start.
    model_config = SettingsConfigDict(
        env_file=".env", extra="ignore", case_sensitive=False, hide_input_in_errors=True
    )

    environment: Environment = Environment.development
    app_name: str = "ApexChainX"
    api_v1_prefix: str = "/api/v1"
    log_level: str = "INFO"
    log_json: bool | None = None  # None: JSON in production, console otherwise

    database_url: str = "sqlite+aiosqlite:///./apexchainx.db"
    database_pool_size: int = Field(default=10, ge=1, le=200)
    database_max_overflow: int = Field(default=20, ge=0, le=500)
    # PostgreSQL: every connection acts as this role (startup parameter `role`), which the
    # migrations create and to which row-level security applies. Empty: connect as the login
    # user, which must then be neither a superuser nor the tables' owner (the app refuses to
    # start otherwise).
    database_role: str = Field(default="apexchainx_app", pattern=r"^[a-z_][a-z0-9_]{0,62}$|^$")
    # PostgreSQL: the role whose transactions may cross tenants (background work: sweeps, job
    # claiming, audit chaining), which the migrations create. The application role is not a
    # member: a statement of a request cannot switch cross-tenant reads on (decision 0022).
    database_system_role: str = Field(
        default="apexchainx_system", pattern=r"^[a-z_][a-z0-9_]{0,62}$"
    )
    # The login for that background work, when it is not DATABASE_URL's: in production a
    # login that may become the system role, while DATABASE_URL's login may become only the
    # application role (docs/operations.md). Empty: DATABASE_URL.
    database_system_url: str | None = None
    redis_url: str | None = None
    # Redis calls on the request path (rate limits) wait at most this long; after
    # REDIS_BREAKER_FAILURES failures in a row Redis is not called for REDIS_BREAKER_OPEN_SECONDS
    # (sign-in and payment limits count in process memory meanwhile; the others are open).
    redis_timeout_seconds: float = Field(default=0.25, gt=0, le=10)
    redis_breaker_failures: int = Field(default=3, ge=1, le=100)
    redis_breaker_open_seconds: float = Field(default=5, gt=0, le=600)

    jobs_executor: JobsExecutor = JobsExecutor.inline
    # The Celery broker; defaults to REDIS_URL.
    celery_broker_url: str | None = None
    # Queued jobs not picked up this long after they were due are dispatched again by beat.
    jobs_redispatch_after_seconds: int = Field(default=30, ge=1, le=3600)
    jobs_poll_interval_seconds: float = Field(default=1.0, gt=0, le=60)
    jobs_lease_seconds: int = Field(default=15, ge=3, le=86400)

    secret_key: str = DEFAULT_SECRET_KEY
    # Former SECRET_KEYs, newest first (JSON list): what they encrypted still decrypts.
    previous_secret_keys: list[str] = []
    jwt_algorithm: str = "HS256"
    jwt_issuer: str = "apexchainx"
    jwt_audience: str = "apexchainx-api"
    argon2_time_cost: int = Field(default=3, ge=1, le=20)
    argon2_memory_cost_kib: int = Field(default=65536, ge=1024, le=1_048_576)
    argon2_parallelism: int = Field(default=4, ge=1, le=16)
    # Password hashes run at most this many at a time per process (each takes ~50 ms of a core
    # and ARGON2_MEMORY_COST_KIB of memory); default: half the cores, at least 1, so serving
    # keeps the rest. Waiters beyond PASSWORD_HASH_MAX_WAITING are refused with 429 at once.
    password_hash_concurrency: int = Field(default_factory=_half_the_cores, ge=1, le=64)
    password_hash_max_waiting: int = Field(default=500, ge=1, le=100_000)
    access_token_expire_minutes: int = Field(default=15, ge=1, le=1440)
    refresh_token_expire_days: int = Field(default=14, ge=1, le=365)

    max_request_body_size_bytes: int = Field(default=10_485_760, ge=1024)
    max_upload_size_bytes: int = Field(default=10_485_760, ge=1024)
    max_bulk_outages_count: int = Field(default=1000, ge=1)
    # The shape a JSON body may have (app/core/json_shape.py): the largest valid body (an
    # import of 1 000 outages with 100 services each) has ~115 000 values, 12 000 keys and
    # 3 000 containers; nothing the API takes nests deeper than 6.
    max_json_values: int = Field(default=150_000, ge=100)
    max_json_keys: int = Field(default=20_000, ge=100)
    max_json_containers: int = Field(default=10_000, ge=10)
    max_json_depth: int = Field(default=32, ge=4, le=256)
    max_affected_services_count: int = Field(default=100, ge=1)
    max_site_name_length: int = Field(default=255, ge=1)
    max_description_length: int = Field(default=5000, ge=1)
    max_webhook_name_length: int = Field(default=255, ge=1)
    max_webhook_url_length: int = Field(default=2048, ge=1)
    max_webhook_events_count: int = Field(default=50, ge=1)

    rate_limit_enabled: bool = True
    rate_limit_authenticated_per_minute: int = Field(default=100, ge=1)
    rate_limit_unauthenticated_per_minute: int = Field(default=20, ge=1)
    rate_limit_payments_per_minute: int = Field(default=10, ge=1)
    rate_limit_key_prefix: str = "rl"
    auth_ip_max_attempts: int = Field(default=10, ge=1)
    auth_ip_window_seconds: int = Field(default=300, ge=1)
    auth_max_failed_attempts: int = Field(default=5, ge=1)
    auth_rate_limit_window_seconds: int = Field(default=900, ge=1)
    auth_lockout_duration_minutes: int = Field(default=15, ge=1)

    idempotency_ttl_hours: int = Field(default=24, ge=1, le=720)

    wallet_cache_ttl_seconds: int = Field(default=60, ge=0)

    # Resolved faults expire (are purged) this many days after resolution.
    # A claimed MTTR (or a backdated `resolved_at`) further than this from the measured clock
    # is an override request a second person approves; the outcome stays on the clock.
    mttr_claim_tolerance_minutes: int = Field(default=1, ge=0, le=60)
    # A clock pause longer than this (or started further back than the tolerance) counts only
    # once a second person approves it.
    clock_pause_approval_minutes: int = Field(default=30, ge=0, le=10080)
    # How often every organization's payments are compared with the ledger (the sweep).
    reconcile_every_seconds: int = Field(default=86400, ge=60, le=30 * 86400)
    # A statement period closes (and its statement is frozen and anchored) this long after it
    # ends, so payments still on their way at midnight are confirmed first.
    statement_close_delay_hours: int = Field(default=24, ge=0, le=24 * 31)
    fault_ttl_days: int = Field(default=30, ge=1, le=3650)
    # A repeat of an unresolved fault (same resource and type) within this window folds into it.
    fault_dedup_window_seconds: int = Field(default=300, ge=0, le=86400)

    # Monthly incident quotas per plan: events (incidents reported) and investigations.
    quota_plans: dict[str, dict[str, int]] = {
        "free": {"events": 100, "investigations": 10},
        "standard": {"events": 500, "investigations": 50},
        "enterprise": {"events": 10000, "investigations": 1000},
    }

    # Deliveries to loopback, private, link-local and other non-public addresses are refused
    # unless this is true (local development and the test suite's receivers only).
    webhook_allow_private_targets: bool = False
    webhook_timeout_seconds: float = Field(default=10, gt=0, le=60)
    # After a secret rotation the previous secret keeps signing for this long.
    webhook_secret_grace_hours: int = Field(default=24, ge=0, le=720)
    webhook_max_consecutive_failures: int = Field(default=20, ge=1, le=1000)

    stellar_network: StellarNetwork = StellarNetwork.local
    stellar_horizon_url: str = "https://horizon-testnet.stellar.org"
    stellar_rpc_url: str = "https://soroban-testnet.stellar.org"
    # Overrides the passphrase that follows from STELLAR_NETWORK (a private network).
    stellar_network_passphrase: str | None = None
    # The pool account pays rewards and receives penalties. Required off the local ledger.
    stellar_pool_secret: SecretStr | None = None
    stellar_usdc_issuer: str | None = None
    soroban_contract_id: str | None = None
    # A payout envelope is valid this long; after it, a retry may build a new one.
    stellar_tx_timeout_seconds: int = Field(default=300, ge=30, le=86400)
    # Rewards from the pool go out up to this many per transaction (one payment operation
    # each; Stellar allows 100). 1 sends each payment as a transaction of its own.
    payout_batch_size: int = Field(default=1, ge=1, le=100)
    stellar_base_fee_stroops: int = Field(default=100, ge=100, le=10_000_000)
    stellar_request_timeout_seconds: float = Field(default=20, gt=0, le=120)

    # Password resets: a token lives this long; with SMTP_URL set it goes by mail to the user
    # (PASSWORD_RESET_URL, when set, is the link it carries; `{token}` is replaced).
    password_reset_ttl_minutes: int = Field(default=30, ge=5, le=1440)
    password_reset_url: str | None = None
    smtp_url: SecretStr | None = None
    smtp_from: str = "ApexChainX <no-reply@apexchainx.invalid>"
    smtp_timeout_seconds: float = Field(default=10, gt=0, le=120)

    # Every organization's audit chain head is anchored on the ledger this often, when it moved.
    audit_anchor_interval_seconds: int = Field(default=300, ge=10, le=86400)
    # GET /audit/verify fails when chained rows older than the interval plus this grace have no
    # anchor on the ledger (the sweep stopped, or the ledger refused its anchors).
    audit_anchor_grace_seconds: int = Field(default=600, ge=0, le=86400)
    # How far back GET /audit/verify reads the pool account's transactions for anchors (its
    # report says how far it got; record 0020).
    audit_verify_ledger_max_transactions: int = Field(default=2000, ge=1, le=100_000)

    # When set, GET /metrics wants `Authorization: Bearer <METRICS_TOKEN>`.
    metrics_token: SecretStr | None = None

    demo_seed: bool = False
    # Reverse proxies whose X-Forwarded-For is believed (CIDRs; comma-separated or a JSON
    # list). Empty: the socket peer is the client.
    trusted_proxies: Annotated[list[str], NoDecode] = []
    # Browser origins (scheme://host[:port]) allowed to call the API with credentials (CORS),
    # comma-separated or a JSON list. Empty (the default): no CORS; serve a frontend from the
    # same origin instead (docs/guides/browser-clients.md).
    cors_origins: Annotated[list[str], NoDecode] = []
    # The NOC frontend's compatibility surface (app/compat/noc): off unless asked for.
    compat_noc_enabled: bool = False
    compat_noc_prefix: str = "/compat/noc/v1"

    @field_validator("api_v1_prefix")
    @classmethod
    def _prefix_starts_with_slash(cls, value: str) -> str:
        if not value.startswith("/") or (value.endswith("/") and value != "/"):
            raise ValueError("API_V1_PREFIX must start with '/' and not end with '/'")
        return value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _origins(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            value = json.loads(text) if text.startswith("[") else text.split(",")
        if isinstance(value, list):
            value = [str(item).strip().rstrip("/") for item in value if str(item).strip()]
            for origin in value:
                parts = urlsplit(origin)
                if parts.scheme not in ("http", "https") or not parts.netloc or parts.path:
                    raise ValueError(f"CORS_ORIGINS: {origin!r} is not scheme://host[:port]")
        return value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _proxy_networks(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            value = json.loads(text) if text.startswith("[") else text.split(",")
        if isinstance(value, list):
            value = [str(item).strip() for item in value if str(item).strip()]
            for cidr in value:
                try:
                    ipaddress.ip_network(cidr, strict=False)
                except ValueError:
                    raise ValueError(
                        f"TRUSTED_PROXIES: {cidr!r} is not an address or CIDR"
                    ) from None
        return value

    @field_validator("stellar_pool_secret")
    @classmethod
    def _pool_secret_is_a_seed(cls, value: SecretStr | None) -> SecretStr | None:
        from stellar_sdk import StrKey

        if value is None or not value.get_secret_value():
            return None
        if not StrKey.is_valid_ed25519_secret_seed(value.get_secret_value()):
            raise ValueError("STELLAR_POOL_SECRET must be a Stellar secret seed (S...)")
        return value

    @field_validator("soroban_contract_id")
    @classmethod
    def _contract_id(cls, value: str | None) -> str | None:
        from stellar_sdk import StrKey

        if value and not StrKey.is_valid_contract(value):
            raise ValueError("SOROBAN_CONTRACT_ID must be a contract address (C...)")
        return value or None

    @field_validator("stellar_usdc_issuer")
    @classmethod
    def _issuer(cls, value: str | None) -> str | None:
        from stellar_sdk import StrKey

        if value and not StrKey.is_valid_ed25519_public_key(value):
            raise ValueError("STELLAR_USDC_ISSUER must be a public key (G...)")
        return value or None

    @model_validator(mode="after")
    def _stellar_needs_a_pool_key(self) -> Settings:
        if self.stellar_network is not StellarNetwork.local and self.stellar_pool_secret is None:
            raise ValueError(
                f"STELLAR_POOL_SECRET is required on the {self.stellar_network} network"
            )
        return self

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.environment is not Environment.production:
            return self
        refusals = [
            reason
            for unsafe, reason in (
                (
                    self.secret_key == DEFAULT_SECRET_KEY or len(self.secret_key) < 32,
                    "SECRET_KEY must be set to a random value of at least 32 characters",
                ),
                (self.is_sqlite, "DATABASE_URL must point at PostgreSQL"),
                (
                    self.stellar_network is StellarNetwork.local,
                    "STELLAR_NETWORK must be a real network (testnet or public)",
                ),
                (
                    self.webhook_allow_private_targets,
                    "WEBHOOK_ALLOW_PRIVATE_TARGETS must be false (webhooks to internal addresses)",
                ),
                (not self.rate_limit_enabled, "RATE_LIMIT_ENABLED must be true"),
                (
                    self.metrics_token is None,
                    "METRICS_TOKEN must be set (GET /metrics would be open to anyone)",
                ),
            )
            if unsafe
        ]
        if refusals:
            raise ValueError("refused in production: " + "; ".join(refusals))
        return self

    @property
    def is_production(self) -> bool:
        return self.environment is Environment.production

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def json_logs(self) -> bool:
        return self.is_production if self.log_json is None else self.log_json


@lru_cache
def get_settings() -> Settings:
    return Settings()
