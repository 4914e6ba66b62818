"""Correction requests (Z-5): a holder reports an error; the centre replies in one working day.

A request names the certificate, what is wrong (free text, kept sealed like the
certificate data because it may quote personal data), when it was received, and whether
the error is in the registry book: an error that is not → revoke and re-issue directly;
one that is → correction registration first, then re-issue (Z-5).  The reply is due one
working day after receipt: a request received on a working day is due at the same time
on the next working day; one received on a day off (a weekend, a public holiday) is due
at the end of the next working day.  Working days are Monday to Friday, less the public
holidays and plus the make-up working days (调休) configured as ``certarchive.holidays``
and ``certarchive.workdays`` (:class:`certarchive.config.WorkCalendar`).

Requests are kept per agency, as plain records in an OOBTree, and closed with the
resolution taken.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, time, timedelta
from typing import Any

from certarchive.config import WorkCalendar
from certarchive.content.agency import Agency
from certarchive.i18n import _
from certarchive.services.certificates import find_certificate
from certarchive.services.context import Context
from certarchive.services.errors import Conflict, Invalid, NotFound
from certarchive.services.issuance import CHINA

RESOLUTIONS = {
    "reissued": _("已注销并重新签发"),
    "rolled_back": _("已回退更正后重新签发"),
    "correction_registration": _("已转更正登记"),
    "no_error": _("经核实无误"),
}
CHANNELS = ("counter", "phone", "online", "other")
WEEKENDS_ONLY = WorkCalendar()


def _next_working_day(day: date, calendar: WorkCalendar) -> date:
    day += timedelta(days=1)
    while not calendar.is_working_day(day):
        day += timedelta(days=1)
    return day


def due_time(received: datetime, calendar: WorkCalendar = WEEKENDS_ONLY) -> datetime:
    """One working day after ``received``, China time (Z-5).

    Received on a working day: the same time on the next working day.  Received on a day
    off: the clock starts at the beginning of the next working day, so the reply is due
    when that day ends (midnight after it).
    """
    local = received.astimezone(CHINA)
    if calendar.is_working_day(local.date()):
        due_day, at = _next_working_day(local.date(), calendar), local.time()
    else:
        due_day, at = _next_working_day(local.date(), calendar) + timedelta(days=1), time(0)
    return datetime.combine(due_day, at, tzinfo=CHINA)


def _aad(agency: Agency, request_id: str) -> bytes:
    return f"correction:{agency.name}:{request_id}".encode()


def create_request(
    ctx: Context,
    serial: Any,
    description: Any,
    received_at: Any = None,
    in_registry_book: bool = False,
    channel: Any = "counter",
) -> dict[str, Any]:
    ctx.require("certificate.manage")
    problems = {}
    if not isinstance(description, str) or not 1 <= len(description.strip()) <= 2000:
        problems["description"] = _("必填，至多2000字")
    if channel not in CHANNELS:
        problems["channel"] = _(
            "须为（${channels_join}）", mapping={"channels_join": ", ".join(CHANNELS)}
        )
    received = ctx.now()
    if received_at not in (None, ""):
        try:
            received = datetime.fromisoformat(str(received_at))
            if received.tzinfo is None:
                received = received.replace(tzinfo=CHINA)
            if received > ctx.now() + timedelta(minutes=5):
                raise ValueError
        except ValueError:
            problems["received_at"] = _("须为不晚于现在的时间")
    cert = find_certificate(ctx, serial, missing_ok=True) if isinstance(serial, str) else None
    if cert is None or cert.serial is None:
        problems["serial"] = _("证书不存在")
    if problems:
        raise Invalid(_("更正申请无效"), problems)
    assert cert is not None
    agency = ctx.agency(cert.agency)
    request_id = f"{received.astimezone(CHINA):%Y%m%d}-{secrets.token_hex(3)}"
    record = {
        "id": request_id,
        "serial": cert.serial,
        "case_no": cert.case_no,
        "received_at": received.isoformat(),
        "due_at": due_time(received, ctx.runtime.settings.calendar).isoformat(),
        "channel": channel,
        "in_registry_book": bool(in_registry_book),
        "description_sealed": ctx.keyring.encrypt(
            "personal", description.strip().encode(), _aad(agency, request_id)
        ),
        "created_by": ctx.actor.name,
        "state": "open",
        "closed_at": None,
        "closed_by": None,
        "resolution": None,
    }
    agency.corrections[request_id] = record
    ctx.audit("correction.create", f"correction:{request_id}", detail={"serial": cert.serial})
    return _view(ctx, agency, record)


def _view(ctx: Context, agency: Agency, record: dict[str, Any]) -> dict[str, Any]:
    now = ctx.now()
    shown = {k: v for k, v in record.items() if k != "description_sealed"}
    shown["description"] = ctx.keyring.decrypt(
        "personal", record["description_sealed"], _aad(agency, record["id"])
    ).decode()
    shown["overdue"] = record["state"] == "open" and datetime.fromisoformat(record["due_at"]) < now
    shown["advice"] = (
        _("登记簿有误：先办理更正登记，再重新签发")
        if record["in_registry_book"]
        else _("登记簿无误：直接注销并重新签发")
    )
    return shown


def list_requests(ctx: Context, state: str | None = "open") -> list[dict[str, Any]]:
    """Requests of every agency the actor may see, oldest due first."""
    ctx.require("case.read")
    found = [
        (agency, r)
        for agency in ctx.visible_agencies()
        for r in agency.corrections.values()
        if state is None or r["state"] == state
    ]
    found.sort(key=lambda pair: pair[1]["due_at"])
    views = [_view(ctx, agency, r) for agency, r in found]
    if "certificate.read_personal" in ctx.actor.permissions:
        return views
    return [{k: v for k, v in view.items() if k != "description"} for view in views]


def close_request(ctx: Context, request_id: Any, resolution: Any) -> dict[str, Any]:
    ctx.require("certificate.manage")
    agency, record = None, None
    if isinstance(request_id, str):
        agency, record = next(
            (
                (a, a.corrections[request_id])
                for a in ctx.visible_agencies()
                if request_id in a.corrections
            ),
            (None, None),
        )
    if agency is None or record is None:
        raise NotFound(_("更正申请不存在"))
    if resolution not in RESOLUTIONS:
        raise Invalid(
            _("处理结果无效"),
            {
                "resolution": _(
                    "须为（${resolutions_join}）",
                    mapping={"resolutions_join": ", ".join(RESOLUTIONS)},
                )
            },
        )
    if record["state"] != "open":
        raise Conflict(_("更正申请已办结"))
    now = ctx.now()
    record = dict(
        record,
        state="closed",
        closed_at=now.isoformat(),
        closed_by=ctx.actor.name,
        resolution=resolution,
        replied_in_time=now <= datetime.fromisoformat(record["due_at"]),
    )
    agency.corrections[request_id] = record
    ctx.audit(
        "correction.close",
        f"correction:{request_id}",
        detail={"resolution": resolution, "in_time": record["replied_in_time"]},
    )
    return _view(ctx, agency, record)
