"""Outgoing email, optional: set `SMTP_URL` (`smtp://user:password@host:587?starttls=true`,
or `smtps://...` for TLS from the start). Sent from a worker thread; a server that refuses or
does not answer within `SMTP_TIMEOUT_SECONDS` is an error the caller turns into a 503."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

from app.config import Settings


class MailUnavailable(Exception):
    """The message could not be handed to the SMTP server."""


def _send(settings: Settings, message: EmailMessage) -> None:
    assert settings.smtp_url is not None
    url = urlsplit(settings.smtp_url.get_secret_value())
    secure = url.scheme == "smtps"
    port = url.port or (465 if secure else 25)
    starttls = parse_qs(url.query).get("starttls", ["false"])[0].lower() == "true"
    timeout = settings.smtp_timeout_seconds
    client_class = smtplib.SMTP_SSL if secure else smtplib.SMTP
    try:
        with client_class(url.hostname or "localhost", port, timeout=timeout) as client:
            if starttls:
                client.starttls(context=ssl.create_default_context())
            if url.username:
                client.login(unquote(url.username), unquote(url.password or ""))
            client.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailUnavailable(type(exc).__name__) from None


async def send(settings: Settings, *, to: str, subject: str, body: str) -> None:
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    await asyncio.to_thread(_send, settings, message)
