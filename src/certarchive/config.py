"""Settings: read once at start-up, validated, and refused with a message that names them.

The PasteDeploy ini file's ``[app:main]`` section carries every setting under the
``certarchive.`` prefix.  A missing or malformed setting stops start-up with
:class:`ConfigError` (the command line turns it into exit status 2) rather than
failing later in the middle of a request.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from certarchive.audit.queue import QUEUE_PLACES
from certarchive.backup.schedule import Schedule, ScheduleError, parse_keep, parse_schedule
from certarchive.documents.model import STATEMENT_PROOF, STATEMENT_RIGHT
from certarchive.i18n import _, message_of
from certarchive.messaging.settings import (
    MessagingConfigError,
    MessagingSettings,
    messaging_settings,
)
from certarchive.messaging.templates import TemplateError, load_templates
from certarchive.reporting.settings import ReportingSettings, reporting_settings
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
class WorkCalendar:
    """Which days are working days, for deadlines counted in working days (Z-5).

    Monday to Friday, except the configured public holidays, plus the configured make-up
    working days (调休): the weekend days the State Council's yearly notice makes working
    days to bridge a holiday block.  Without a configuration it knows weekends only.
    """

    holidays: frozenset[date] = field(default_factory=frozenset)
    workdays: frozenset[date] = field(default_factory=frozenset)

    def is_working_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays


@dataclass(frozen=True)
class Settings:
    databases: Mapping[str, str]  # database name -> zodburi URI
    keys_dir: Path
    public_base_url: str
    agency: AgencyConfig
    font_path: Path | None
    calendar: WorkCalendar = field(default_factory=WorkCalendar)
    audit_queue: str = "main"  # where log entries commit with their change: main | log
    messaging: MessagingSettings = field(default_factory=MessagingSettings)
    reporting: ReportingSettings = field(default_factory=ReportingSettings)
    backups: BackupSettings = field(default_factory=lambda: BackupSettings(None))
    #: The file formats issued, revoked and served: PDF, OFD (GB/T 33190) or both.
    formats: frozenset[str] = frozenset({"pdf", "ofd"})


@dataclass(frozen=True)
class BackupSettings:
    """Where the server's backup jobs write, when they run, what retention keeps."""

    repository: Path | None  # None: var/backups beside the keys folder
    schedule: Schedule | None = None
    keep: Mapping[str, int] = field(default_factory=dict)  # empty: keep every snapshot
    copy_to: Path | None = None  # a second repository that receives every snapshot

    def repository_path(self, keys_dir: Path) -> Path:
        return self.repository or keys_dir.parent / "backups"


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


_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
MAX_RANGE_DAYS = 31  # a holiday block is a few days: a longer range is a typo in a year


def _day(text: str, key: str) -> date:
    try:
        if _DAY.fullmatch(text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise ConfigError(
        _(
            "setting ${prefix}${key}: ${text} 不是日期",
            mapping={"prefix": PREFIX, "key": key, "text": repr(text)},
        )
    )


def _days(raw: Mapping[str, str], key: str) -> frozenset[date]:
    """Dates and inclusive ranges ``A..B``, separated by spaces, commas or new lines."""
    days: set[date] = set()
    for token in re.split(r"[\s,]+", _optional(raw, key, "")):
        if not token:
            continue
        first_text, dots, last_text = token.partition("..")
        first = _day(first_text, key)
        last = _day(last_text, key) if dots else first
        span = (last - first).days
        if not 0 <= span < MAX_RANGE_DAYS:
            raise ConfigError(
                _(
                    "setting ${prefix}${key}: ${token} 范围须在${max_range_days}天内且先早后晚",
                    mapping={
                        "prefix": PREFIX,
                        "key": key,
                        "token": repr(token),
                        "max_range_days": MAX_RANGE_DAYS,
                    },
                )
            )
        days.update(first + timedelta(days=n) for n in range(span + 1))
    return frozenset(days)


def work_calendar(raw: Mapping[str, str]) -> WorkCalendar:
    """``certarchive.holidays`` and ``certarchive.workdays``, validated: a make-up working
    day must be a Saturday or Sunday and no day may be both (either is a typo that would
    silently move every deadline)."""
    holidays = _days(raw, "holidays")
    workdays = _days(raw, "workdays")
    weekday = min((day for day in workdays if day.weekday() < 5), default=None)
    if weekday is not None:
        raise ConfigError(
            _(
                "setting ${prefix}workdays: ${weekday_isoformat} 不是周六或周日",
                mapping={"prefix": PREFIX, "weekday_isoformat": weekday.isoformat()},
            )
        )
    both = min(holidays & workdays, default=None)
    if both is not None:
        raise ConfigError(
            _(
                "setting ${prefix}workdays: ${both_isoformat} 也列在 ${prefix}holidays 中",
                mapping={"prefix": PREFIX, "both_isoformat": both.isoformat()},
            )
        )
    return WorkCalendar(holidays, workdays)


def backup_settings(raw: Mapping[str, str], keys_dir: Path) -> BackupSettings:
    """``certarchive.backup_dir``, ``backup_schedule``, ``backup_keep``, ``backup_copy_to``."""
    parsed: dict[str, object] = {}
    for key, parse in (("backup_schedule", parse_schedule), ("backup_keep", parse_keep)):
        try:
            parsed[key] = parse(_optional(raw, key, ""))
        except ScheduleError as error:
            raise ConfigError(f"setting {PREFIX}{key}: {error}") from None
    folder = _optional(raw, "backup_dir", "")
    copy_to = _optional(raw, "backup_copy_to", "")
    repository = Path(folder) if folder else None
    primary = BackupSettings(repository).repository_path(keys_dir)
    if copy_to and Path(copy_to).resolve() == primary.resolve():
        raise ConfigError(
            _(
                "setting ${prefix}backup_copy_to: 须为另一目录（${primary}）",
                mapping={"prefix": PREFIX, "primary": primary},
            )
        )
    return BackupSettings(
        repository=repository,
        schedule=parsed["backup_schedule"],  # type: ignore[arg-type]
        keep=parsed["backup_keep"],  # type: ignore[arg-type]
        copy_to=Path(copy_to) if copy_to else None,
    )


def load_settings(raw: Mapping[str, str]) -> Settings:
    """Validate the raw ini settings; raise :class:`ConfigError` naming the first bad one."""
    base_url = _required(raw, "public_base_url").rstrip("/")
    if urlsplit(base_url).scheme not in {"http", "https"} or not urlsplit(base_url).netloc:
        raise ConfigError(f"setting {PREFIX}public_base_url must be an http(s) URL")
    audit_queue = _optional(raw, "audit_queue", "main")
    if audit_queue not in QUEUE_PLACES:
        raise ConfigError(f"setting {PREFIX}audit_queue must be one of: {', '.join(QUEUE_PLACES)}")
    font = _optional(raw, "font_path", "")
    formats = _formats(raw)
    if font and not Path(font).is_file():
        raise ConfigError(f"setting {PREFIX}font_path: no such file")
    keys_dir = Path(_required(raw, "keys_dir"))
    try:
        messaging = messaging_settings(raw)
        load_templates(messaging.templates)  # a template that cannot be used stops start-up
        reporting = reporting_settings(raw)
    except (MessagingConfigError, TemplateError) as error:
        raise ConfigError(message_of(error)) from None
    return Settings(
        messaging=messaging,
        reporting=reporting,
        databases={name: _database_uri(raw, name) for name in DATABASE_NAMES},
        keys_dir=keys_dir,
        public_base_url=base_url,
        agency=agency_config(raw),
        font_path=Path(font) if font else None,
        calendar=work_calendar(raw),
        audit_queue=audit_queue,
        backups=backup_settings(raw, keys_dir),
        formats=formats,
    )


FORMAT_CHOICES = {"pdf": {"pdf"}, "ofd": {"ofd"}, "both": {"pdf", "ofd"}}


def _formats(raw: Mapping[str, str]) -> frozenset[str]:
    """``certarchive.formats``: pdf, ofd or both (the default)."""
    value = _optional(raw, "formats", "both").strip().lower()
    if value not in FORMAT_CHOICES:
        raise ConfigError(f"setting {PREFIX}formats must be one of: pdf, ofd, both")
    return frozenset(FORMAT_CHOICES[value])
