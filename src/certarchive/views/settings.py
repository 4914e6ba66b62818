"""The web layer's own settings, read once from the ini file's ``certarchive.*`` keys.

=====================================  ===========  ==============================================
setting                                default      meaning
=====================================  ===========  ==============================================
certarchive.trusted_proxies            (none)       addresses or networks (CIDR) of reverse
                                                    proxies whose X-Forwarded-For is believed
certarchive.ratelimit.verify           60/60        public verification requests per client
                                                    address: requests/seconds
certarchive.ratelimit.holder           20/900       holder sign-in attempts per client address
certarchive.verify_max_bytes           5242880      largest file POST /verify accepts (413)
certarchive.api_max_bytes              1048576      largest JSON body the API accepts (413)
certarchive.json_max_depth             32           deepest nesting of objects and lists in a
                                                    JSON body (400)
certarchive.json_max_digits            40           most digits in one JSON number (400)
certarchive.ratelimit.login            4/900        failed staff sign-ins per client address:
                                                    failures/seconds; then 429 until the window
                                                    passes (below the account lockout's 5, so
                                                    one address cannot lock an account)
certarchive.cookie_secure              auto         auto: Secure cookies on https requests;
                                                    true / false to force
certarchive.verify_cache_seconds       5            how long a finished public verification
                                                    page may be served again (0: never); see
                                                    :mod:`certarchive.views.page_cache`
certarchive.verify_cache_entries       10000        how many such pages one process keeps
=====================================  ===========  ==============================================
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from certarchive.config import ConfigError
from certarchive.jsonread import MAX_DEPTH, MAX_DIGITS, JsonLimits
from certarchive.services.ratelimit import parse_rate

PREFIX = "certarchive."
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class WebSettings:
    trusted_proxies: tuple[Network, ...]
    verify_rate: tuple[int, float]
    holder_rate: tuple[int, float]
    login_rate: tuple[int, float]
    verify_max_bytes: int
    api_max_bytes: int
    json_max_depth: int
    json_max_digits: int
    cookie_secure: str  # auto | true | false
    verify_cache_seconds: float
    verify_cache_entries: int

    @property
    def json_limits(self) -> JsonLimits:
        return JsonLimits(self.api_max_bytes, self.json_max_depth, self.json_max_digits)

    def is_trusted_proxy(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.trusted_proxies)


def _get(raw: Mapping[str, Any], key: str, default: str) -> str:
    return str(raw.get(PREFIX + key, "") or "").strip() or default


def _size(raw: Mapping[str, Any], key: str, default: int) -> int:
    text = _get(raw, key, str(default))
    if not text.isdigit() or int(text) < 1024:
        raise ConfigError(f"setting {PREFIX}{key} must be a whole number of bytes, >= 1024")
    return int(text)


def _count(raw: Mapping[str, Any], key: str, default: int, lowest: int) -> int:
    text = _get(raw, key, str(default))
    if not text.isascii() or not text.isdigit() or not lowest <= int(text) <= 10_000:
        raise ConfigError(f"setting {PREFIX}{key} must be a whole number from {lowest} to 10000")
    return int(text)


def _rate(raw: Mapping[str, Any], key: str, default: str) -> tuple[int, float]:
    try:
        return parse_rate(_get(raw, key, default))
    except ValueError as exc:
        raise ConfigError(f"setting {PREFIX}{key}: {exc}") from None


def _number(raw: Mapping[str, Any], key: str, default: str, kind: type[int | float]) -> Any:
    """A finite number >= 0 (``nan`` and ``inf`` parse as floats but mean nothing here)."""
    text = _get(raw, key, default)
    try:
        value = kind(text)
    except ValueError:
        value = -1
    if not math.isfinite(value) or value < 0:
        raise ConfigError(f"setting {PREFIX}{key} must be a number >= 0, not {text!r}")
    return value


def load_web_settings(raw: Mapping[str, Any]) -> WebSettings:
    proxies = []
    for item in _get(raw, "trusted_proxies", "").replace(",", " ").split():
        try:
            proxies.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ConfigError(
                f"setting {PREFIX}trusted_proxies: {item!r} is not an address or network"
            ) from None
    secure = _get(raw, "cookie_secure", "auto").lower()
    if secure not in ("auto", "true", "false"):
        raise ConfigError(f"setting {PREFIX}cookie_secure must be auto, true or false")
    return WebSettings(
        trusted_proxies=tuple(proxies),
        verify_rate=_rate(raw, "ratelimit.verify", "60/60"),
        holder_rate=_rate(raw, "ratelimit.holder", "20/900"),
        login_rate=_rate(raw, "ratelimit.login", "4/900"),
        verify_max_bytes=_size(raw, "verify_max_bytes", 5 * 1024 * 1024),
        api_max_bytes=_size(raw, "api_max_bytes", 1024 * 1024),
        json_max_depth=_count(raw, "json_max_depth", MAX_DEPTH, 4),
        json_max_digits=_count(raw, "json_max_digits", MAX_DIGITS, 20),
        cookie_secure=secure,
        verify_cache_seconds=_number(raw, "verify_cache_seconds", "5", float),
        verify_cache_entries=_number(raw, "verify_cache_entries", "10000", int),
    )
