"""The messaging settings (``certarchive.sms_gateway`` … in CONTRACT.md), validated at
start-up: a bad one stops the server and every command with exit 2, naming it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

PREFIX = "certarchive."


class MessagingConfigError(ValueError):
    """A messaging setting is wrong; the message names it."""


@dataclass(frozen=True)
class MessagingSettings:
    sms_gateway: str | None = None
    sms_gateway_key: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 25
    mail_from: str | None = None
    wechat_api: str | None = None
    wechat_appid: str | None = None
    wechat_secret: str | None = None
    templates: Path | None = None  # an ini file of templates replacing the built-in ones
    per_phone_per_hour: int = 5  # messages to one recipient per hour; more wait
    per_minute: int = 120  # messages per minute from one process, all channels
    give_up_after_hours: float = 24.0  # then the message is undeliverable, shown to registrars
    timeout: float = 10.0  # seconds a channel may take to answer; past it the answer is lost

    @property
    def channels(self) -> tuple[str, ...]:
        """The channels that are configured, in the order they are preferred."""
        configured = (
            ("sms", self.sms_gateway),
            ("wechat", self.wechat_api),
            ("email", self.smtp_host),
        )
        return tuple(name for name, value in configured if value)


def setting(raw: Mapping[str, str], key: str) -> str | None:
    value = str(raw.get(PREFIX + key, "")).strip()
    return value or None


def url_setting(raw: Mapping[str, str], key: str) -> str | None:
    value = setting(raw, key)
    if value is not None:
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise MessagingConfigError(f"setting {PREFIX}{key} must be an http(s) URL")
    return value.rstrip("/") if value else None


def positive_setting(raw: Mapping[str, str], key: str, default: float, kind: type) -> float:
    value = setting(raw, key)
    if value is None:
        return default
    try:
        number = kind(value)
    except ValueError:
        raise MessagingConfigError(f"setting {PREFIX}{key} must be a number") from None
    if not number > 0 or number != number or number == float("inf"):
        raise MessagingConfigError(f"setting {PREFIX}{key} must be a positive number")
    return number


def needs_settings(raw: Mapping[str, str], key: str, *others: str) -> None:
    if setting(raw, key):
        missing = [other for other in others if not setting(raw, other)]
        if missing:
            raise MessagingConfigError(
                f"setting {PREFIX}{key} needs {', '.join(PREFIX + m for m in missing)}"
            )


def messaging_settings(raw: Mapping[str, str]) -> MessagingSettings:
    needs_settings(raw, "sms_gateway", "sms_gateway_key")
    needs_settings(raw, "smtp_host", "mail_from")
    needs_settings(raw, "wechat_api", "wechat_appid", "wechat_secret")
    templates = setting(raw, "message_templates")
    if templates and not Path(templates).is_file():
        raise MessagingConfigError(f"setting {PREFIX}message_templates: no such file")
    return MessagingSettings(
        sms_gateway=url_setting(raw, "sms_gateway"),
        sms_gateway_key=setting(raw, "sms_gateway_key"),
        smtp_host=setting(raw, "smtp_host"),
        smtp_port=int(positive_setting(raw, "smtp_port", 25, int)),
        mail_from=setting(raw, "mail_from"),
        wechat_api=url_setting(raw, "wechat_api"),
        wechat_appid=setting(raw, "wechat_appid"),
        wechat_secret=setting(raw, "wechat_secret"),
        templates=Path(templates) if templates else None,
        per_phone_per_hour=int(positive_setting(raw, "messages_per_recipient_hour", 5, int)),
        per_minute=int(positive_setting(raw, "messages_per_minute", 120, int)),
        give_up_after_hours=float(positive_setting(raw, "messages_give_up_hours", 24.0, float)),
        timeout=float(positive_setting(raw, "messages_timeout", 10.0, float)),
    )
