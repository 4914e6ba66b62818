"""Staff pages: dashboard, search, case and certificate pages with their forms, the filing
queue (one by one or in bulk, H-2.5) and correction requests (Z-5).  The admin's pages are
in :mod:`.admin_pages`, the backup operator's in :mod:`.backup_pages`.

Every form posts to a view that calls one service function in the request's transaction;
a refusal raises, the transaction is aborted and the error page says why.  Pages work
without JavaScript.
"""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPForbidden, HTTPFound
from pyramid.renderers import render_to_response
from pyramid.request import Request
from pyramid.response import Response
from pyramid.view import view_config

from certarchive.content.certificate import Certificate
from certarchive.i18n import _
from certarchive.services import (
    backup_jobs,
    case_documents,
    cases,
    certificates,
    corrections,
    notifications,
    overview,
    reporting,
    sharing,
)
from certarchive.services.certificates import get_certificate
from certarchive.services.errors import Invalid, NotFound, ServiceError
from certarchive.validation.case import CO_OWNERSHIPS, ID_TYPES, PROVED_RIGHTS
from certarchive.views.common import file_response, pdf_response
from certarchive.views.security import resolve_identity

TEXT_FIELDS = {
    "right": (
        "co_ownership",
        "location",
        "unit_number",
        "right_type",
        "right_nature",
        "use",
        "area",
        "term",
        "other_status",
        "notes",
    ),
    "proof": ("proved_right", "location", "unit_number", "other", "notes"),
}
PARTY_LISTS = {"right": ("holders",), "proof": ("holders", "obligors")}
PARTY_FIELDS = ("name", "id_type", "id_number", "phone", "share")
ACTIONS = ("rollback", "correct", "issue", "reissue", "revoke", "paper", "code")


def _can(request: Request, permission: str) -> bool:
    found = resolve_identity(request)
    return found is not None and permission in found.actor.permissions


# --- dashboard and search ---------------------------------------------------------------


@view_config(route_name="staff.dashboard", request_method="GET")
def dashboard(request: Request) -> Any:
    found = resolve_identity(request)
    if found is None or found.kind != "staff":
        raise HTTPForbidden()
    may = found.actor.permissions
    if "desk.read" not in may:
        if "institution.lookup" in may:  # institutions' clerks
            return HTTPFound(location=request.route_path("institution"))
        if "audit.read" in may:  # auditors
            return HTTPFound(location=request.route_path("staff.audit"))
        if "backup.status" in may:  # backup operators
            from certarchive.views.backup_pages import backups_page

            return render_to_response("backups.jinja2", backups_page(request), request=request)
        return render_to_response("no_pages.jinja2", {}, request=request)
    board = overview.dashboard(request.ctx)
    alarm = backup_jobs.failure_alarm(request.ctx) if _can(request, "backup.status") else None
    reports = reporting.counts(request.ctx) if _can(request, "certificate.manage") else None
    return render_to_response(
        "dashboard.jinja2",
        {"board": board, "backup_alarm": alarm, "reports": reports},
        request=request,
    )


@view_config(
    route_name="staff.search",
    request_method="GET",
    renderer="search.jinja2",
    permission="desk.read",
)
def search(request: Request) -> dict[str, Any]:
    return {"found": overview.search(request.ctx, request.params.get("q", ""))}


# --- a case ------------------------------------------------------------------------------


@view_config(
    route_name="staff.case", request_method="GET", renderer="case.jinja2", permission="case.read"
)
def case_page(request: Request) -> dict[str, Any]:
    ctx = request.ctx
    case = cases.get_case(ctx, request.matchdict["case_no"])
    summary = cases.case_summary(ctx, case)
    agency = ctx.agency(case.agency)
    certs = [agency.certificates[i] for i in case.certificate_ids]
    readable = _can(request, "certificate.read")
    ready = ctx.engine.refusal(ctx.engine.workflows["case"], case, "file", ctx.actor, ctx)
    return {
        "case": summary,
        "certificates": [certificates.metadata(ctx, c) for c in certs] if readable else [],
        "files": {c.id: _files(c) for c in certs},
        "documents": case_documents.list_documents(ctx, case.case_no),
        "can_read_documents": _can(request, "certificate.read_personal"),
        "can_file": case.state == "certified" and ready is None,
        "file_refusal": None if ready is None else ready.message,
        "messages": notifications.delivery_status(ctx, case.case_no),
        "reports": reporting.of_case(ctx, case.case_no),
    }


@view_config(route_name="staff.case.file", request_method="POST", permission="case.file")
def file_case(request: Request) -> Response:
    case_no = request.matchdict["case_no"]
    cases.file_case(request.ctx, case_no, _text(request, "comment"))
    return HTTPFound(
        location=request.route_path("staff.case", case_no=case_no, _query={"done": "file"})
    )


# --- a certificate -------------------------------------------------------------------------


def _files(cert: Certificate) -> list[dict[str, Any]]:
    return [{k: v for k, v in record.items() if k != "blob"} for record in cert.files]


@view_config(
    route_name="staff.certificate",
    request_method="GET",
    renderer="certificate.jinja2",
    permission="certificate.read",
)
def certificate_page(request: Request) -> dict[str, Any]:
    ctx = request.ctx
    cert = get_certificate(ctx, request.matchdict["serial"])
    personal = _can(request, "certificate.read_personal")
    versions = certificates.versions(ctx, cert)
    diffs = {}
    if personal:
        for record in versions[1:]:
            number = record["number"]
            diffs[number] = certificates.version_diff(ctx, cert, number - 1, number)
    allowed = {t.name for t in ctx.engine.allowed("certificate", cert, ctx.actor, ctx)}
    manage = _can(request, "certificate.manage")
    actions = {
        "rollback": "rollback" in allowed,
        "correct": manage and cert.state == "draft",
        "issue": "issue" in allowed,
        "reissue": manage and "revoke" in allowed and cert.replaced_by is None,
        "revoke": "revoke" in allowed,
        "paper": manage and cert.state != "draft",
        "code": manage and cert.state in ("issued", "downloaded", "archived"),
        "correction": manage and cert.serial is not None,
        "download": _can(request, "certificate.download_file") and certificates.has_file(cert),
    }
    return {
        "cert": certificates.metadata(ctx, cert),
        "data": certificates.data_of(ctx, cert) if personal else None,
        "history": certificates.history(ctx, cert),
        "versions": versions,
        "diffs": diffs,
        "files": _files(cert),
        "formats": certificates.formats_of(ctx, cert),
        "shares": sharing.shares_of(ctx, cert.agency, cert.id),
        "actions": actions,
        "text_fields": TEXT_FIELDS[cert.kind],
        "party_lists": PARTY_LISTS[cert.kind],
        "choices": {
            "co_ownership": CO_OWNERSHIPS,
            "proved_right": PROVED_RIGHTS,
            "id_type": ID_TYPES,
            "cause": certificates.REVOCATION_CAUSES,
            "event": certificates.PAPER_EVENTS,
            "channel": corrections.CHANNELS,
        },
        "requests": [r for r in corrections.list_requests(ctx, None) if r["serial"] == cert.serial]
        if cert.serial
        else [],
        "done": request.params.get("done"),
    }


@view_config(
    route_name="staff.certificate.pdf", request_method="GET", permission="certificate.download_file"
)
def certificate_pdf(request: Request) -> Response:
    ctx = request.ctx
    cert = get_certificate(ctx, request.matchdict["serial"])
    return pdf_response(cert, certificates.file_for_staff(ctx, cert))


@view_config(
    route_name="staff.certificate.ofd", request_method="GET", permission="certificate.download_file"
)
def certificate_ofd(request: Request) -> Response:
    ctx = request.ctx
    cert = get_certificate(ctx, request.matchdict["serial"])
    return file_response(cert, certificates.file_for_staff(ctx, cert, "ofd"), "ofd")


def _text(request: Request, name: str) -> str:
    value = request.POST.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def form_changes(request: Request, kind: str, current: dict[str, Any]) -> dict[str, Any]:
    """The fields the registrar changed on the form, as a ``changes`` object."""
    changes: dict[str, Any] = {}
    for name in TEXT_FIELDS[kind]:
        if f"field-{name}" not in request.POST:
            continue
        new = _text(request, f"field-{name}")
        if new != (current.get(name) or ""):
            changes[name] = new or None
    for key in PARTY_LISTS[kind]:
        parties = []
        for index in range(len(current.get(key, ()))):
            prefix = f"{key}-{index}-"
            if f"{prefix}name" not in request.POST:
                break
            party = {f: _text(request, prefix + f) for f in PARTY_FIELDS}
            parties.append({f: v for f, v in party.items() if v})
        if parties and parties != current.get(key):
            changes[key] = parties
    return changes


def _holder_number(request: Request) -> int:
    """The holder (1-based) whose code a registrar re-sends, from the form, once the
    registrar confirmed checking the holder's ID in person."""
    if _text(request, "checked") != "yes":
        raise Invalid(
            _("请先当面核验权利人身份证件"),
            {"checked": "required"},
        )
    text = _text(request, "holder")
    if not text.isdigit():
        raise Invalid(_("请选择权利人"), {"holder": "required"})
    return int(text)


@view_config(
    route_name="staff.certificate.action", request_method="POST", permission="certificate.read"
)
def certificate_action(request: Request) -> Response:
    action = request.matchdict["action"]
    if action not in ACTIONS:
        raise NotFound(_("未找到"))
    ctx = request.ctx
    cert = get_certificate(ctx, request.matchdict["serial"])
    if action == "rollback":
        result = certificates.rollback(ctx, cert, _text(request, "reason"))
    elif action == "correct":
        ctx.require("certificate.manage")
        changes = form_changes(request, cert.kind, certificates.data_of(ctx, cert))
        result = certificates.correct(ctx, cert, changes, _text(request, "comment"))
    elif action == "issue":
        result = certificates.issue_again(ctx, cert, _text(request, "comment"))
    elif action == "reissue":
        ctx.require("certificate.manage")
        changes = form_changes(request, cert.kind, certificates.data_of(ctx, cert))
        result = certificates.reissue(ctx, cert, _text(request, "reason"), changes)
    elif action == "revoke":
        result = certificates.revoke(
            ctx,
            cert,
            _text(request, "cause"),
            _text(request, "reason"),
            _text(request, "case_no") or None,
        )
    elif action == "code":
        notifications.resend_code(ctx, cert, _holder_number(request))
        result = {}
    else:
        result = certificates.paper_event(ctx, cert, _text(request, "event"))
    serial = result.get("serial") or cert.serial or cert.id
    return HTTPFound(
        location=request.route_path("staff.certificate", serial=serial, _query={"done": action})
    )


# --- filing queue (H-2.5) ------------------------------------------------------------------


@view_config(
    route_name="staff.filing",
    request_method="GET",
    renderer="filing.jinja2",
    permission="desk.read",
)
def filing_page(request: Request) -> dict[str, Any]:
    return {
        "queue": cases.filing_queue(request.ctx),
        "filed": [],
        "failed": [],
        "done": request.params.get("done"),
    }


@view_config(
    route_name="staff.filing",
    request_method="POST",
    renderer="filing.jinja2",
    permission="case.file",
)
def file_in_bulk(request: Request) -> dict[str, Any]:
    """File each ticked case; one that is refused is rolled back alone (a savepoint)."""
    ctx = request.ctx
    filed, failed = [], []
    for case_no in dict.fromkeys(request.POST.getall("case_no")):
        if not isinstance(case_no, str) or len(case_no) > 40:
            continue
        savepoint = request.tm.savepoint()
        try:
            cases.file_case(ctx, case_no, _("批量归档"))
        except ServiceError as refused:
            savepoint.rollback()
            ctx.audit(
                "case.file", f"case:{case_no}", result="refused", detail={"code": refused.code}
            )
            failed.append({"case_no": case_no, "message": refused.message})
        else:
            filed.append(case_no)
    return {"queue": cases.filing_queue(ctx), "filed": filed, "failed": failed, "done": None}


# --- correction requests (Z-5) ---------------------------------------------------------------


@view_config(
    route_name="staff.corrections",
    request_method="GET",
    renderer="corrections.jinja2",
    permission="desk.read",
)
def corrections_page(request: Request) -> dict[str, Any]:
    ctx = request.ctx
    every = corrections.list_requests(ctx, None)
    return {
        "open": [r for r in every if r["state"] == "open"],
        "closed": [r for r in every if r["state"] != "open"],
        "resolutions": corrections.RESOLUTIONS,
        "channels": corrections.CHANNELS,
        "can_manage": _can(request, "certificate.manage"),
        "serial": request.params.get("serial", ""),
        "done": request.params.get("done"),
    }


@view_config(route_name="staff.corrections", request_method="POST", permission="certificate.manage")
def create_correction(request: Request) -> Response:
    record = corrections.create_request(
        request.ctx,
        _text(request, "serial"),
        _text(request, "description"),
        _text(request, "received_at") or None,
        request.POST.get("in_registry_book") == "yes",
        _text(request, "channel") or "counter",
    )
    return HTTPFound(
        location=request.route_path("staff.corrections", _query={"done": record["id"]})
    )


@view_config(
    route_name="staff.correction.close", request_method="POST", permission="certificate.manage"
)
def close_correction(request: Request) -> Response:
    corrections.close_request(
        request.ctx, request.matchdict["request_id"], _text(request, "resolution")
    )
    return HTTPFound(location=request.route_path("staff.corrections", _query={"done": "closed"}))
