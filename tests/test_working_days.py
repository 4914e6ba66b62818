"""Working days with public holidays and make-up working days (调休) for the Z-5 deadline:
a correction request is answered within one working day of its receipt."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from pyramid.paster import get_appsettings

from certarchive.cli.main import cli
from certarchive.config import ConfigError, WorkCalendar, load_settings, work_calendar
from certarchive.services import cases, corrections
from certarchive.services.corrections import due_time
from certarchive.services.issuance import CHINA
from certarchive.services.permissions import SYSTEM
from certarchive.services.runtime import Runtime
from certarchive.services.setup import initialise
from certarchive.validation.samples import sample_case
from tests.conftest import REGISTRAR, UPSTREAM, file_settings, write_ini
from tests.i18n_support import raises_matching

REPOSITORY = Path(__file__).resolve().parent.parent
# The State Council's 2026 National Day block: 10-01 (Thu) to 10-07 (Wed) off; Sunday
# 09-20 and Saturday 10-10 worked.  Spring Festival: 02-15..02-23 off, 02-14 and 02-28 worked.
HOLIDAYS = "2026-02-15..2026-02-23, 2026-10-01..2026-10-07"
WORKDAYS = "2026-02-14 2026-02-28 2026-09-20 2026-10-10"


def china(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=CHINA)


@pytest.fixture(scope="module")
def calendar() -> WorkCalendar:
    return work_calendar({"certarchive.holidays": HOLIDAYS, "certarchive.workdays": WORKDAYS})


def test_the_day_before_a_holiday_block_is_due_after_it(calendar: WorkCalendar) -> None:
    wednesday = china(2026, 9, 30, 10, 0)
    assert due_time(wednesday, calendar) == china(2026, 10, 8, 10, 0)
    # without the holidays it would have been due on National Day itself
    assert due_time(wednesday) == china(2026, 10, 1, 10, 0)


def test_a_request_during_a_holiday_is_due_at_the_end_of_the_first_working_day(
    calendar: WorkCalendar,
) -> None:
    # 10-05 is a Monday, but a holiday: the clock starts on Thursday 10-08
    assert due_time(china(2026, 10, 5, 9, 15), calendar) == china(2026, 10, 9, 0, 0)
    assert due_time(china(2026, 10, 3, 23, 59), calendar) == china(2026, 10, 9, 0, 0)
    assert due_time(china(2026, 2, 20, 12, 0), calendar) == china(2026, 2, 25, 0, 0)


def test_a_make_up_saturday_is_a_working_day(calendar: WorkCalendar) -> None:
    # received on the make-up Saturday 10-10: due on Monday, Sunday 10-11 is a day off
    assert due_time(china(2026, 10, 10, 16, 30), calendar) == china(2026, 10, 12, 16, 30)
    # received on Friday 10-09: due on the make-up Saturday, not on Monday
    assert due_time(china(2026, 10, 9, 15, 0), calendar) == china(2026, 10, 10, 15, 0)
    # the make-up Saturday before Spring Festival: due after the nine days off
    assert due_time(china(2026, 2, 14, 11, 0), calendar) == china(2026, 2, 24, 11, 0)
    # the make-up Sunday 09-20 counts too
    assert due_time(china(2026, 9, 19, 10, 0), calendar) == china(2026, 9, 21, 0, 0)
    assert due_time(china(2026, 9, 20, 10, 0), calendar) == china(2026, 9, 21, 10, 0)


def test_an_ordinary_weekend_is_unchanged(calendar: WorkCalendar) -> None:
    assert due_time(china(2026, 11, 20, 15, 0), calendar) == china(2026, 11, 23, 15, 0)
    assert due_time(china(2026, 11, 21, 10, 0), calendar) == china(2026, 11, 24, 0, 0)
    # a UTC time is read in China time: Friday 20:00 UTC is Saturday 04:00 in China
    utc = datetime.fromisoformat("2026-11-20T20:00:00+00:00")
    assert due_time(utc, calendar) == china(2026, 11, 24, 0, 0)


def test_the_shipped_ini_carries_the_2026_schedule() -> None:
    raw = get_appsettings(str(REPOSITORY / "etc" / "certarchive.ini"), name="main")
    calendar = load_settings(raw).calendar
    assert len(calendar.holidays) == 33  # 3 + 9 + 3 + 5 + 3 + 3 + 7 days off
    assert {date(2026, 1, 1), date(2026, 2, 23), date(2026, 10, 7)} <= calendar.holidays
    assert calendar.workdays == {
        date(2026, 1, 4),
        date(2026, 2, 14),
        date(2026, 2, 28),
        date(2026, 5, 9),
        date(2026, 9, 20),
        date(2026, 10, 10),
    }
    assert not calendar.is_working_day(date(2026, 5, 5))  # a Tuesday, Labour Day block
    assert calendar.is_working_day(date(2026, 5, 9))  # the Saturday worked for it


@pytest.mark.parametrize(
    ("setting", "value", "problem"),
    [
        ("holidays", "2026-13-01", "not a date"),
        ("holidays", "2026-02-30", "not a date"),
        ("holidays", "2026-10-1", "not a date"),
        ("holidays", "20261001", "not a date"),
        ("holidays", "tomorrow", "not a date"),
        ("holidays", "2026-10-01..", "not a date"),
        ("holidays", "2026-10-07..2026-10-01", "run forwards"),
        ("holidays", "2026-01-01..2027-01-07", "at most 31 days"),
        ("workdays", "2026-10-09", "not a Saturday or Sunday"),
        ("workdays", "2026-10-03", "also listed"),
    ],
)
def test_a_bad_calendar_setting_is_refused_naming_it(
    setting: str, value: str, problem: str
) -> None:
    raw = {"certarchive.holidays": "2026-10-01..2026-10-07", f"certarchive.{setting}": value}
    with raises_matching(ConfigError, problem) as refused:
        work_calendar(raw)
    assert f"certarchive.{setting}" in str(refused.value)


def test_a_bad_calendar_stops_every_command_with_exit_2(tmp_path: Path) -> None:
    raw = file_settings(tmp_path / "var") | {"certarchive.workdays": "2026-10-10 2026-10-12"}
    ini = write_ini(tmp_path / "bad.ini", raw)
    result = CliRunner().invoke(cli, ["-c", str(ini), "init"])
    assert result.exit_code == 2
    assert "certarchive.workdays" in result.output and "2026-10-12" in result.output
    assert not (tmp_path / "var").exists()


def test_no_calendar_settings_means_weekends_only() -> None:
    assert work_calendar({}) == WorkCalendar()
    assert work_calendar({"certarchive.holidays": " ", "certarchive.workdays": ""}) == (
        WorkCalendar()
    )


@pytest.fixture
def runtime_with_holidays(tmp_path: Path) -> Iterator[Runtime]:
    raw = file_settings(
        tmp_path / "var", **{"certarchive.holidays": HOLIDAYS, "certarchive.workdays": WORKDAYS}
    )
    settings = load_settings(raw)
    runtime = Runtime.open(settings, create_keys=True)
    runtime.run(initialise, SYSTEM, settings.agency)
    yield runtime
    runtime.close()


def test_a_recorded_request_is_due_by_the_configured_calendar(
    runtime_with_holidays: Runtime,
) -> None:
    """The setting reaches the service through the runtime's settings: a request received
    the day before National Day is due after the block."""
    runtime = runtime_with_holidays
    document = sample_case(0)
    runtime.run(cases.record_case, UPSTREAM, document)
    payment = {"receipt_no": "R-1", "amount": "80.00", "paid_at": document["recorded_at"]}
    paid: Any = runtime.run(cases.confirm_payment, UPSTREAM, document["case_no"], payment)
    serial = paid["certificates"][0]["serial"]
    before = runtime.run(
        corrections.create_request, REGISTRAR, serial, "面积有误", "2026-09-30T10:00:00+08:00"
    )
    assert before["due_at"] == "2026-10-08T10:00:00+08:00"
    during = runtime.run(
        corrections.create_request, REGISTRAR, serial, "坐落有误", "2026-10-02T09:00:00+08:00"
    )
    assert during["due_at"] == "2026-10-09T00:00:00+08:00"
