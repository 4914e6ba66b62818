"""Settings: read once at start-up, validated, and refused with a message that names them.

The PasteDeploy ini file's ``[app:main]`` section carries every setting under the
``certarchive.`` prefix.  A missing or malformed setting stops start-up with
:class:`ConfigError` (the command line turns it into exit status 2) rather than
failing later in the middle of a request.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from certarchive.documents.model import STATEMENT_PROOF, STATEMENT_RIGHT
from certarchive.validation.identifiers import check_credit_code

PREFIX = "certarchive."

DATABASE_NAMES = ("main", "audit", "sharing")


class ConfigError(Exception):
    """A setting is missing or malformed; the message names it."""


@dataclass(frozen=True)
class AgencyConfig:
    """The registration agency that ``init`` creates by default (H-1.6, H-3.1)."""

    name: str  # short, stable identifier used in URLs and indexes, e.g. "huangchuan"
    province: str  # province abbreviation printed in serials, e.g. 豫
    county: str  # county printed in serials, e.g. 潢川县
    county_code: str  # 6-digit administrative division code, e.g. 411526
    agency_name: str
    seal_name: str
    seal_number: str
    serial_width: int
    statement: str  # the 不动产权证书 seal page's statement (older forms cite 物权法)
    statement_proof: str  # the 不动产登记证明's
    # GB/T 36904 licence identifier parts: the issuer's unified social credit code and, per
    # kind, the licence type code (defining body's credit code + 3 digits).  The defaults
    # are well-formed placeholders: configure the codes the e-licence platform assigned.
    credit_code: str
    licence_type_right: str
    licence_type_proof: str


@dataclass(frozen=True)
class Settings:
    databases: Mapping[str, str]  # database name -> zodburi URI
    keys_dir: Path
    public_base_url: str
    agency: AgencyConfig
    font_path: Path | None


def _required(raw: Mapping[str, str], key: str) -> str:
    value = str(raw.get(PREFIX + key, "")).strip()
    if not value:
        raise ConfigError(f"setting {PREFIX}{key} is missing")
    return value


def _optional(raw: Mapping[str, str], key: str, default: str) -> str:
    value = str(raw.get(PREFIX + key, "")).strip()
    return value or default


def _database_uri(raw: Mapping[str, str], name: str) -> str:
    key = f"zodb.{name}"
    uri = _required(raw, key)
    scheme = urlsplit(uri).scheme
    if scheme not in {"file", "zeo", "postgres", "memory", "zconfig", "demo", "sqlite", "mysql"}:
        raise ConfigError(f"setting {PREFIX}{key}: unsupported storage scheme {scheme!r}")
    return uri


def agency_config(raw: Mapping[str, str]) -> AgencyConfig:
    """The ``certarchive.agency.*`` settings of ``raw``, validated (also for ``agency add``)."""
    county_code = _optional(raw, "agency.county_code", "411526")
    if not re.fullmatch(r"\d{6}", county_code):
        raise ConfigError(f"setting {PREFIX}agency.county_code must be 6 digits")
    width_text = _optional(raw, "agency.serial_width", "7")
    if not width_text.isdigit() or not 5 <= int(width_text) <= 10:
        raise ConfigError(f"setting {PREFIX}agency.serial_width must be a whole number 5..10")
    name = _optional(raw, "agency.name", "huangchuan")
    if not re.fullmatch(r"[a-z][a-z0-9-]{1,40}", name):
        raise ConfigError(f"setting {PREFIX}agency.name must be lower-case letters, digits, '-'")
    return AgencyConfig(
        name=name,
        province=_optional(raw, "agency.province", "豫"),
        county=_optional(raw, "agency.county", "潢川县"),
        county_code=county_code,
        agency_name=_optional(raw, "agency.agency_name", "潢川县自然资源局"),
        seal_name=_optional(raw, "agency.seal_name", "潢川县自然资源局不动产登记专用章"),
        seal_number=_optional(raw, "agency.seal_number", "4115260000001"),
        serial_width=int(width_text),
        statement=_optional(raw, "agency.statement", STATEMENT_RIGHT),
        statement_proof=_optional(raw, "agency.statement_proof", STATEMENT_PROOF),
        credit_code=_credit_code(raw, "agency.credit_code", "114115260053012329"),
        licence_type_right=_licence_type(raw, "agency.licence_type_right", "11100000000001900W001"),
        licence_type_proof=_licence_type(raw, "agency.licence_type_proof", "11100000000001900W002"),
    )


def _credit_code(raw: Mapping[str, str], key: str, default: str) -> str:
    value = _optional(raw, key, default)
    if check_credit_code(value):
        raise ConfigError(f"setting {PREFIX}{key} is not a valid unified social credit code")
    return value


def _licence_type(raw: Mapping[str, str], key: str, default: str) -> str:
    value = _optional(raw, key, default)
    if len(value) != 21 or check_credit_code(value[:18]) or not value[18:].isdigit():
        raise ConfigError(f"setting {PREFIX}{key} must be a credit code followed by 3 digits")
    return value


def load_settings(raw: Mapping[str, str]) -> Settings:
    """Validate the raw ini settings; raise :class:`ConfigError` naming the first bad one."""
    base_url = _required(raw, "public_base_url").rstrip("/")
    if urlsplit(base_url).scheme not in {"http", "https"} or not urlsplit(base_url).netloc:
        raise ConfigError(f"setting {PREFIX}public_base_url must be an http(s) URL")
    font = _optional(raw, "font_path", "")
    if font and not Path(font).is_file():
        raise ConfigError(f"setting {PREFIX}font_path: no such file")
    return Settings(
        databases={name: _database_uri(raw, name) for name in DATABASE_NAMES},
        keys_dir=Path(_required(raw, "keys_dir")),
        public_base_url=base_url,
        agency=agency_config(raw),
        font_path=Path(font) if font else None,
    )
