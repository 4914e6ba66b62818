"""Reports to the e-licence library (H-2.1, H-4.2, H-4.4): queued with the change, listed
for registrars, sent again after a correction, and backfilled for a library that joins
later (see :mod:`certarchive.reporting` for how they travel).

- :func:`report_issued` / :func:`report_revoked` are the workflow's subscribers behind
  ``issue`` (issuance, re-issue, issuing again after a correction) and ``revoke``: one
  report each, in the same transaction, when the library is configured;
- :func:`resend` puts a refused report back in line, under its event id;
- :func:`overview` is the registrars' page, :func:`counts` the dashboard's line;
- :func:`backfill` queues the catalogue of existing certificates in batches, skipping any
  certificate that has a report already, so that a second run queues nothing twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from certarchive.content.certificate import Certificate
from certarchive.i18n import _
from certarchive.messaging.outbox import (
    LIBRARY,
    PENDING,
    REFUSED,
    WAITING,
    Message,
    Outbox,
    ahead_of,
    enqueue,
    refusal_of,
    report_count,
    send_again,
)
from certarchive.messaging.outbox import (
    of_case as messages_of_case,
)
from certarchive.reporting.catalogue import reference
from certarchive.services.context import Context
from certarchive.services.errors import Conflict, NotFound
from certarchive.services.issuance import CHINA
from certarchive.workflow.engine import Actor
from certarchive.workflow.model import Transition

LISTED = 200  # reports of each kind shown on the page
BACKFILL_BATCH = 200  # certificates looked at per backfill transaction


def _outbox(ctx: Context) -> Outbox:
    return ctx.registry.messages


def licence_key(cert: Certificate) -> str:
    return f"{cert.agency}:{cert.id}"


def _configured(ctx: Context) -> bool:
    return ctx.runtime.settings.reporting.configured


def queue_report(ctx: Context, cert: Certificate, event: str) -> Message:
    """One report of ``event`` for ``cert``, in the caller's transaction.  No audit entry
    of its own: the issuance or revocation has its entry, and every attempt has one."""
    return enqueue(
        _outbox(ctx),
        ctx.keyring,
        channel=LIBRARY,
        template=event,
        recipient=LIBRARY,
        params=reference(cert, event),
        case_no=cert.case_no,
        now=ctx.now(),
        licence=licence_key(cert),
    )


def report_issued(cert: Certificate, transition: Transition, actor: Actor, ctx: Context) -> None:
    if _configured(ctx):
        queue_report(ctx, cert, "issued")


def report_revoked(cert: Certificate, transition: Transition, actor: Actor, ctx: Context) -> None:
    if _configured(ctx):
        queue_report(ctx, cert, "revoked")


# --- what registrars see ------------------------------------------------------------------


def _visible(ctx: Context) -> set[str]:
    return {agency.name for agency in ctx.visible_agencies()}


def _row(ctx: Context, message: Message) -> dict[str, Any]:
    """A report as the pages show it.  What the library said may quote the entry (names,
    ID numbers), so only those who may read personal data see it."""
    agency_name, cert_id = (message.licence or ":").split(":", 1)
    cert = ctx.agency(agency_name).certificates.get(cert_id)
    waiting = message.state == PENDING and ahead_of(_outbox(ctx), message) is not None
    return message.summary() | {
        "state": WAITING if waiting else message.state,
        "event": message.template,
        "agency": agency_name,
        "serial": cert.serial if cert is not None else None,
        "next_attempt_at": message.next_attempt_at.isoformat(),
        "library_said": refusal_of(message, ctx.keyring)
        if message.state == REFUSED and "certificate.read_personal" in ctx.actor.permissions
        else None,
    }


def _listed(ctx: Context, ids: Iterator[str]) -> list[dict[str, Any]]:
    visible, rows = _visible(ctx), []
    outbox = _outbox(ctx)
    for message_id in ids:
        message = outbox.messages[message_id]
        if (message.licence or "").split(":", 1)[0] in visible:
            rows.append(_row(ctx, message))
            if len(rows) >= LISTED:
                break
    return rows


def counts(ctx: Context) -> dict[str, int]:
    """Reports pending (due or waiting behind an earlier one), sent and refused, of the
    agencies the actor may see."""
    outbox = _outbox(ctx)
    visible = _visible(ctx)
    queued = sum(report_count(outbox, agency, "queued") for agency in visible)
    sent = sum(report_count(outbox, agency, "sent") for agency in visible)
    refused = sum(
        1
        for message_id in outbox.refused
        if (outbox.messages[message_id].licence or "").split(":", 1)[0] in visible
    )
    return {"pending": queued - sent - refused, "sent": sent, "refused": refused}


def overview(ctx: Context) -> dict[str, Any]:
    """The registrars' page: the counts, what is refused (with the library's answer),
    what is due next, and the latest sent."""
    ctx.require("certificate.manage")
    outbox = _outbox(ctx)
    return {
        "configured": _configured(ctx),
        "counts": counts(ctx),
        "refused": _listed(ctx, iter(outbox.refused)),
        "pending": _listed(ctx, (message_id for _moment, message_id in outbox.reports_due)),
        "sent": _listed(ctx, (message_id for _moment, message_id in outbox.reports_sent_at)),
    }


def of_case(ctx: Context, case_no: str) -> list[dict[str, Any]]:
    """The case's reports, oldest first, for its page: a refused one shows there with
    what the library (or the check before sending) said."""
    return [
        _row(ctx, message)
        for message in messages_of_case(_outbox(ctx), case_no)
        if message.channel == LIBRARY
    ]


def resend(ctx: Context, message_id: str) -> dict[str, Any]:
    """A registrar corrected what the library refused: the report is due now, under the
    same event id, built afresh from the registry when it is sent."""
    ctx.require("certificate.manage")
    outbox = _outbox(ctx)
    message = outbox.messages.get(message_id) if isinstance(message_id, str) else None
    if message is None or message.channel != LIBRARY or message.licence is None:
        raise NotFound(_("没有该上报"))
    if message.licence.split(":", 1)[0] not in _visible(ctx):
        raise NotFound(_("没有该上报"))
    if message.state != REFUSED:
        raise Conflict(_("该上报未被拒收，无需重发"))
    send_again(outbox, message, ctx.now())
    ctx.audit("report.resend", f"report:{message_id}", detail={"event": message.template})
    return _row(ctx, message)


# --- backfill -----------------------------------------------------------------------------


def _issued_on_or_after(cert: Certificate, since: date | None) -> bool:
    if cert.state == "draft" or cert.serial is None or cert.issued_at is None:
        return False
    return since is None or cert.issued_at.astimezone(CHINA).date() >= since


def backfill(
    ctx: Context, since: str | None, after: str | None, limit: int = BACKFILL_BATCH
) -> dict[str, Any]:
    """Queue the catalogue of up to ``limit`` certificates after the position ``after``
    (``agency:certificate id``): an ``issued`` report, or ``revoked`` for a revoked one
    (the entry carries the whole certificate either way).  A certificate that has any
    report already is skipped: reported since the library joined, or by an earlier run.
    Answers the counts and the position to continue from (None at the end)."""
    ctx.require("certificate.manage")
    first = date.fromisoformat(since) if since else None
    outbox = _outbox(ctx)
    queued = skipped = scanned = 0
    position = None
    start_agency, start_id = after.split(":", 1) if after else (None, None)
    for agency in ctx.visible_agencies():
        if start_agency is not None and agency.name < start_agency:
            continue
        minimum = start_id if agency.name == start_agency else None
        for cert_id in agency.certificates.keys(min=minimum):
            if agency.name == start_agency and cert_id == start_id:
                continue
            cert = agency.certificates[cert_id]
            scanned += 1
            position = licence_key(cert)
            if not _issued_on_or_after(cert, first):
                pass
            elif position in outbox.by_licence:
                skipped += 1
            else:
                queue_report(ctx, cert, "revoked" if cert.state == "revoked" else "issued")
                queued += 1
            if scanned >= limit:
                break
        if scanned >= limit:
            break
    else:
        position = None
    if queued:
        ctx.audit(
            "report.backfill",
            "registry",
            detail={"queued": queued, "skipped": skipped, "since": since},
        )
    return {"queued": queued, "skipped": skipped, "scanned": scanned, "next": position}


def certificates_to_scan(ctx: Context) -> int:
    """How many certificates a backfill looks at (for its progress)."""
    return sum(len(agency.certificates) for agency in ctx.visible_agencies())
