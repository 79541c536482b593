"""Webhook signing secrets at rest: encrypted, readable back only to sign."""

from __future__ import annotations

from datetime import timedelta

from app.config import Settings
from app.core.clock import utcnow
from app.core.crypto import fernet
from app.webhooks.models import Webhook

PURPOSE = "webhook-secret"


def seal(settings: Settings, secret: str) -> bytes:
    return fernet(settings, PURPOSE).encrypt(secret.encode())


def unseal(settings: Settings, sealed: bytes) -> str:
    return fernet(settings, PURPOSE).decrypt(sealed).decode()


def in_force(settings: Settings, webhook: Webhook) -> list[str]:
    """The current secret, and the previous one during its grace period."""
    secrets = [unseal(settings, webhook.secret_encrypted)]
    if (
        webhook.previous_secret_encrypted is not None
        and webhook.previous_secret_expires_at is not None
        and webhook.previous_secret_expires_at > utcnow()
    ):
        secrets.append(unseal(settings, webhook.previous_secret_encrypted))
    return secrets


def rotate(settings: Settings, webhook: Webhook, new_secret: str) -> None:
    webhook.previous_secret_encrypted = webhook.secret_encrypted
    webhook.previous_secret_expires_at = utcnow() + timedelta(
        hours=settings.webhook_secret_grace_hours
    )
    webhook.secret_encrypted = seal(settings, new_secret)
