"""Staff pages: dashboard, search and lists, case and certificate pages, every stored file,
the filing queue (one by one or in bulk, H-2.5) and correction requests (Z-5).  The
certificate's actions are in :mod:`.certificate_actions`, a case's scans in
:mod:`.case_scans`, the admin's pages in :mod:`.admin_pages`, the backup operator's in
:mod:`.backup_pages`.

Every form posts to a view that calls one service function in the request's transaction;
what cannot be undone asks on a confirmation page first (:mod:`.confirm`), and a refusal
is shown on the form with the input kept.  Pages work without JavaScript.
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
from certarchive.schemas.bodies import SearchQuery
from certarchive.services import (
    backup_jobs,
    case_documents,
    cases,
    certificates,
    corrections,
    notifications,
    overview,
    reporting,
    search,
    sharing,
)
from certarchive.services.actors import actor_names
from certarchive.services.certificates import get_certificate
from certarchive.services.errors import Invalid, NotFound, ServiceError
from certarchive.validation.case import CO_OWNERSHIPS, ID_TYPES, PROVED_RIGHTS
from certarchive.views.common import download_name, file_response, pdf_response
from certarchive.views.confirm import confirm_or_run, posted, require
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


SEARCH_FIELDS = tuple(SearchQuery.model_fields)


@view_config(
    route_name="staff.search",
    request_method="GET",
    renderer="search.jinja2",
    permission="desk.read",
)
def search_page(request: Request) -> Any:
    """Search and lists in one page: the words and filters stay in the form, a bad one is
    named beside its field (422), the results are counted and paginated."""
    ctx = request.ctx
    params = {name: request.GET.get(name, "") for name in SEARCH_FIELDS}
    values = {
        "params": params,
        "agencies": [(a.name, a.settings["agency_name"]) for a in ctx.visible_agencies()],
        "states": search.states(),
        "case_states": search.case_states(),
        "errors": {},
        "found": None,
    }
    try:
        values["found"] = search.search(ctx, {k: v for k, v in params.items() if v})
    except Invalid as invalid:
        values["errors"] = invalid.fields
        response = render_to_response("search.jinja2", values, request=request)
        response.status = 422
        return response
    return values


# --- a case ------------------------------------------------------------------------------


@view_config(
    route_name="staff.case", request_method="GET", renderer="case.jinja2", permission="case.read"
)
def case_page(request: Request, errors: dict[str, str] | None = None) -> dict[str, Any]:
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
        "can_read_documents": _can(request, "certificate.read_personal")
        or _can(request, "case.scan"),
        "can_add_documents": _can(request, "case.scan"),
        "can_download": _can(request, "certificate.download_file"),
        "images": case_documents.IMAGES,
        "max_mib": case_documents.MAX_BYTES // 2**20,
        "upload_errors": errors or {},
        "actors": actor_names(ctx, None, [row["actor"] for row in case.history]),
        "done": request.params.get("done"),
        "can_file": case.state == "certified" and ready is None,
        "file_refusal": None if ready is None else ready.message,
        "messages": notifications.delivery_status(ctx, case.case_no),
        "reports": reporting.of_case(ctx, case.case_no),
    }


FILE_CONFIRM = {
    "title": _("归档案卷"),
    "what": _("案卷归档，其中已签发或已下载的证书转为已归档，归档后不能撤销（H-2.5）。"),
    "fields": ("comment",),
    "danger": False,
}


@view_config(route_name="staff.case.file", request_method="POST", permission="case.file")
def file_case(request: Request) -> Any:
    case_no = request.matchdict["case_no"]
    request.ctx.require("case.file")
    cases.get_case(request.ctx, case_no)  # an unknown case is 404 before any page

    def run() -> Response:
        require(request, "comment")
        cases.file_case(request.ctx, case_no, posted(request, "comment"))
        return HTTPFound(
            location=request.route_path("staff.case", case_no=case_no, _query={"done": "file"})
        )

    values = {
        **FILE_CONFIRM,
        "subject": case_no,
        "back": request.route_path("staff.case", case_no=case_no),
    }
    return confirm_or_run(request, values, run)


# --- a certificate -------------------------------------------------------------------------


def _files(cert: Certificate) -> list[dict[str, Any]]:
    """Every stored file, PDF and OFD, newest first, without its blob."""
    rows = [
        {k: v for k, v in record.items() if k != "blob"} | {"format": file_format}
        for file_format in ("pdf", "ofd")
        for record in (cert.file_log(file_format) or ())
    ]
    return sorted(rows, key=lambda row: (row["at"], row["format"]), reverse=True)


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
        replaced = certificates.replaced_diff(ctx, cert)
        if replaced is not None:
            diffs[1] = replaced
        for record in versions[1:]:
            number = record["number"]
            diffs[number] = certificates.version_diff(ctx, cert, number - 1, number)
    history = certificates.history(ctx, cert)
    actors = [row["actor"] for row in (*history, *versions, *cert.paper_events)]
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
        "download_any": _can(request, "certificate.download_file"),
    }
    return {
        "cert": certificates.metadata(ctx, cert),
        "data": certificates.data_of(ctx, cert) if personal else None,
        "history": history,
        "actors": actor_names(ctx, cert, actors),
        "record": certificates.record_fields(ctx, cert),
        "paper_events": list(cert.paper_events),
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


@view_config(
    route_name="staff.certificate.file",
    request_method="GET",
    permission="certificate.download_file",
)
def certificate_file(request: Request) -> Response:
    """Any stored file of the certificate, earlier ones included (audited)."""
    ctx = request.ctx
    cert = get_certificate(ctx, request.matchdict["serial"])
    file_format, number = request.matchdict["format"], request.matchdict["number"]
    if file_format not in ("pdf", "ofd") or not number.isdigit() or len(number) > 6:
        raise NotFound(_("文件不存在"))
    data = certificates.stored_file(ctx, cert, file_format, int(number))
    response = file_response(cert, data, file_format)
    name = download_name(cert, file_format).replace(".", f"-{number}.", 1)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


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


@view_config(route_name="staff.filing", request_method="POST", permission="case.file")
def file_in_bulk(request: Request) -> Any:
    """File each ticked case once confirmed with a comment; one that is refused is rolled
    back alone (a savepoint)."""
    ticked = [
        case_no
        for case_no in dict.fromkeys(request.POST.getall("case_no"))
        if isinstance(case_no, str) and 0 < len(case_no) <= 40
    ]
    if not ticked:
        raise Invalid(_("请勾选要归档的案卷"), {"case_no": _("请勾选")})
    values = {
        **FILE_CONFIRM,
        "what": _("以下案卷归档，其中已签发或已下载的证书转为已归档，归档后不能撤销（H-2.5）。"),
        "subject": None,
        "cases": ticked,
        "back": request.route_path("staff.filing"),
    }
    return confirm_or_run(request, values, lambda: _file_each(request, ticked))


def _file_each(request: Request, ticked: list[str]) -> Response:
    ctx = request.ctx
    require(request, "comment")
    comment = posted(request, "comment")
    filed, failed = [], []
    for case_no in ticked:
        savepoint = request.tm.savepoint()
        try:
            cases.file_case(ctx, case_no, comment)
        except ServiceError as refused:
            savepoint.rollback()
            ctx.audit(
                "case.file", f"case:{case_no}", result="refused", detail={"code": refused.code}
            )
            failed.append({"case_no": case_no, "message": refused.message})
        else:
            filed.append(case_no)
    values = {"queue": cases.filing_queue(ctx), "filed": filed, "failed": failed, "done": None}
    return render_to_response("filing.jinja2", values, request=request)


# --- correction requests (Z-5) ---------------------------------------------------------------


@view_config(
    route_name="staff.corrections",
    request_method="GET",
    renderer="corrections.jinja2",
    permission="desk.read",
)
def corrections_page(request: Request, errors: dict[str, str] | None = None) -> dict[str, Any]:
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
        "errors": errors or {},
        "form": dict(request.POST.items()) if errors else {},
    }


@view_config(route_name="staff.corrections", request_method="POST", permission="certificate.manage")
def create_correction(request: Request) -> Response:
    """Record a correction request; a refused one is named on the same form, kept (422)."""
    try:
        record = corrections.create_request(
            request.ctx,
            posted(request, "serial"),
            posted(request, "description"),
            posted(request, "received_at") or None,
            request.POST.get("in_registry_book") == "yes",
            posted(request, "channel") or "counter",
        )
    except Invalid as invalid:
        values = corrections_page(request, invalid.fields)
        response = render_to_response("corrections.jinja2", values, request=request)
        response.status = 422
        return response
    return HTTPFound(
        location=request.route_path("staff.corrections", _query={"done": record["id"]})
    )


@view_config(
    route_name="staff.correction.close", request_method="POST", permission="certificate.manage"
)
def close_correction(request: Request) -> Any:
    """Closing a request (Z-5): no resolution is preset; the reader picks one and confirms."""
    request_id = request.matchdict["request_id"]

    def run() -> Response:
        corrections.close_request(request.ctx, request_id, posted(request, "resolution"))
        return HTTPFound(
            location=request.route_path("staff.corrections", _query={"done": "closed"})
        )

    values = {
        "title": _("办结更正申请"),
        "what": _(
            "更正申请按所选结果办结，办结后不能重新打开；答复是否及时按当前时间记录（Z-5）。"
        ),
        "fields": ("resolution",),
        "danger": False,
        "subject": request_id,
        "choices": {"resolution": corrections.RESOLUTIONS},
        "back": request.route_path("staff.corrections"),
    }
    return confirm_or_run(request, values, run)
