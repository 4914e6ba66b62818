"""When scheduled exports run and which snapshots retention keeps: the two settings parsed.

``certarchive.backup_schedule`` is ``daily HH:MM`` or ``weekly DAY HH:MM`` (DAY: mon … sun),
China time, like the registration centre's working hours; empty or ``off`` runs nothing.
``certarchive.backup_keep`` is borg's and restic's familiar ``daily=7 weekly=4
monthly=12``: keep the newest snapshot of each of the last 7 days, 4 ISO weeks and 12
months that have one.  Both are parsed here, once, so that :mod:`certarchive.config` can
refuse a bad value at start-up naming the setting, and the worker never meets one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone

from certarchive.i18n import _

CHINA = timezone(timedelta(hours=8), "CST")  # no daylight saving: a fixed offset is exact
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PERIODS = ("daily", "weekly", "monthly", "yearly")
_TIME = re.compile(r"([01]\d|2[0-3]):([0-5]\d)\Z")


class ScheduleError(ValueError):
    """A schedule or retention text is malformed; the message says what is expected."""


@dataclass(frozen=True)
class Schedule:
    at: time
    weekday: int | None = None  # None: every day

    def slot(self, now: datetime) -> datetime:
        """The latest scheduled moment at or before ``now`` (aware, China time)."""
        local = now.astimezone(CHINA)
        moment = datetime.combine(local.date(), self.at, CHINA)
        if moment > local:
            moment -= timedelta(days=1)
        if self.weekday is not None:
            moment -= timedelta(days=(moment.weekday() - self.weekday) % 7)
        return moment

    def describe(self) -> str:
        when = f"{self.at:%H:%M}"
        return f"daily {when}" if self.weekday is None else f"weekly {DAYS[self.weekday]} {when}"


def parse_schedule(text: str) -> Schedule | None:
    words = text.split()
    if not words or words == ["off"]:
        return None
    if words[0] == "daily" and len(words) == 2:
        weekday, clock = None, words[1]
    elif words[0] == "weekly" and len(words) == 3 and words[1].lower() in DAYS:
        weekday, clock = DAYS.index(words[1].lower()), words[2]
    else:
        raise ScheduleError(
            _("${text}: 应为 'daily HH:MM' 或 'weekly DAY HH:MM'", mapping={"text": repr(text)})
        )
    match = _TIME.match(clock)
    if not match:
        raise ScheduleError(_("${clock}: 时间应为 HH:MM", mapping={"clock": repr(clock)}))
    return Schedule(time(int(match[1]), int(match[2])), weekday)


def parse_keep(text: str) -> dict[str, int]:
    """``daily=7 weekly=4`` -> ``{"daily": 7, "weekly": 4}``; empty: keep everything."""
    keep: dict[str, int] = {}
    for token in text.replace(",", " ").split():
        period, equals, count = token.partition("=")
        if period not in PERIODS or not equals or not count.isdigit() or period in keep:
            raise ScheduleError(
                _(
                    "${token}: 应为 周期=个数（${periods_join}）",
                    mapping={"token": repr(token), "periods_join": ", ".join(PERIODS)},
                )
            )
        if not 1 <= int(count) <= 1000:
            raise ScheduleError(_("${token}: 个数须为 1–1000", mapping={"token": repr(token)}))
        keep[period] = int(count)
    return keep
