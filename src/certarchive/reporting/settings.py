"""``certarchive.licence_library_url`` / ``licence_library_key`` / ``licence_library_timeout``,
validated at start-up like the messaging settings (a bad one stops with exit 2)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from certarchive.messaging.settings import (
    MessagingConfigError,
    needs_settings,
    positive_setting,
    setting,
    url_setting,
)


@dataclass(frozen=True)
class ReportingSettings:
    url: str | None = None
    key: str | None = field(default=None, repr=False)  # a secret: never in a repr or a log
    timeout: float = 30.0  # seconds the library may take; past it the answer is lost

    @property
    def configured(self) -> bool:
        return bool(self.url and self.key)


def reporting_settings(raw: Mapping[str, str]) -> ReportingSettings:
    """The library's settings; :class:`MessagingConfigError` names a bad one."""
    needs_settings(raw, "licence_library_url", "licence_library_key")
    needs_settings(raw, "licence_library_key", "licence_library_url")
    key = setting(raw, "licence_library_key")
    if key is not None and (len(key) < 16 or not key.isprintable() or " " in key):
        raise MessagingConfigError(
            "setting certarchive.licence_library_key must be at least 16 printable characters "
            "without spaces"
        )
    return ReportingSettings(
        url=url_setting(raw, "licence_library_url"),
        key=key,
        timeout=float(positive_setting(raw, "licence_library_timeout", 30.0, float)),
    )
