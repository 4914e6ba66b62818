"""The certificate page's actions (rollback, correct, issue, re-issue, revoke, paper
events, resending a code): each asks on a confirmation page first (:mod:`.confirm`) and
then calls one service function in the request's transaction."""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPFound
from pyramid.request import Request
from pyramid.response import Response
from pyramid.view import view_config

from certarchive.content.certificate import Certificate
from certarchive.i18n import _
from certarchive.services import certificates, notifications
from certarchive.services.certificates import get_certificate
from certarchive.services.errors import Invalid, NotFound
from certarchive.validation.case import CO_OWNERSHIPS, ID_TYPES, PROVED_RIGHTS
from certarchive.views.confirm import confirm_or_run, posted, require
from certarchive.views.staff import PARTY_LISTS, TEXT_FIELDS

PARTY_FIELDS = ("name", "id_type", "id_number", "phone", "share")
ACTIONS = ("rollback", "correct", "issue", "reissue", "revoke", "paper", "code")


def form_changes(request: Request, kind: str, current: dict[str, Any]) -> dict[str, Any]:
    """The fields the registrar changed on the form, as a ``changes`` object."""
    changes: dict[str, Any] = {}
    for name in TEXT_FIELDS[kind]:
        if f"field-{name}" not in request.POST:
            continue
        new = posted(request, f"field-{name}")
        if new != (current.get(name) or ""):
            changes[name] = new or None
    for key in PARTY_LISTS[kind]:
        parties = []
        for index in range(len(current.get(key, ()))):
            prefix = f"{key}-{index}-"
            if f"{prefix}name" not in request.POST:
                break
            party = {f: posted(request, prefix + f) for f in PARTY_FIELDS}
            parties.append({f: v for f, v in party.items() if v})
        if parties and parties != current.get(key):
            changes[key] = parties
    return changes


def _holder_number(request: Request) -> int:
    """The holder (1-based) whose code a registrar re-sends, from the form, once the
    registrar confirmed checking the holder's ID in person."""
    if posted(request, "checked") != "yes":
        raise Invalid(
            _("请先当面核验权利人身份证件"),
            {"checked": _("必填")},
        )
    text = posted(request, "holder")
    if not text.isdigit():
        raise Invalid(_("请选择权利人"), {"holder": _("请选择")})
    return int(text)


#: The permission each action needs (the workflow's guards and the services' checks).
ACTION_PERMISSIONS = {
    "rollback": "certificate.manage",
    "correct": "certificate.manage",
    "issue": "certificate.issue",
    "reissue": "certificate.manage",
    "revoke": "certificate.revoke",
    "paper": "certificate.manage",
    "code": "certificate.manage",
}
#: action: (title, what will happen, the fields the confirmation page asks for, danger)
CONFIRMS: dict[str, tuple[str, str, tuple[str, ...], bool]] = {
    "rollback": (
        _("回退证书"),
        _("证书回到草稿状态并保留编号，已签发的文件作废；更正后须重新签发（H-4.3）。"),
        ("reason",),
        True,
    ),
    "correct": (
        _("保存更正"),
        _("按下列内容保存为草稿的新版本，原版本保留。"),
        ("comment",),
        False,
    ),
    "issue": (
        _("签发证书"),
        _("按当前版本生成并签章证照文件，证书生效，权利人将收到下载码。"),
        ("comment",),
        False,
    ),
    "reissue": (
        _("注销并更正重发"),
        _("原证书注销并加注“已注销”，不可恢复；按下列内容签发一份新编号的证书（H-4.3、Z-5）。"),
        ("reason",),
        True,
    ),
    "revoke": (
        _("注销证书"),
        _("证书注销，证照文件加注“已注销”水印，不可恢复（H-4.2）。"),
        ("cause", "reason", "case_no"),
        True,
    ),
    "paper": (
        _("登记纸质证书事项"),
        _("纸质证书事项记入登记簿，登记后不能撤销。"),
        ("event", "comment"),
        False,
    ),
    "code": (
        _("重新发送下载码"),
        _("新下载码发送至登记簿中该权利人的手机号，原下载码随即失效。"),
        ("holder", "checked"),
        True,
    ),
}


@view_config(
    route_name="staff.certificate.action", request_method="POST", permission="certificate.read"
)
def certificate_action(request: Request) -> Any:
    """Every certificate action: the confirmation page first, then the change."""
    action = request.matchdict["action"]
    if action not in ACTIONS:
        raise NotFound(_("未找到"))
    ctx = request.ctx
    cert = get_certificate(ctx, request.matchdict["serial"])
    ctx.require(ACTION_PERMISSIONS[action])  # no confirmation page for who may not act
    title, what, fields, danger = CONFIRMS[action]
    target = cert.serial or cert.id
    values: dict[str, Any] = {
        "title": title,
        "what": what,
        "fields": fields,
        "danger": danger,
        "subject": cert.serial,
        "optional": ("comment",) if action == "issue" else (),
        "back": request.route_path("staff.certificate", serial=target),
        "choices": {
            "cause": certificates.REVOCATION_CAUSES,
            "event": certificates.PAPER_EVENTS,
            "id_type": ID_TYPES,
            "co_ownership": CO_OWNERSHIPS,
            "proved_right": PROVED_RIGHTS,
        },
    }
    if action in ("correct", "reissue"):
        ctx.require("certificate.manage")
        current = certificates.data_of(ctx, cert)
        changes = form_changes(request, cert.kind, current)
        values.update(
            data=current | changes,
            changes=changes,
            text_fields=TEXT_FIELDS[cert.kind],
            party_lists=PARTY_LISTS[cert.kind],
        )
    if action == "code":
        values["holders"] = [p["name"] for p in certificates.data_of(ctx, cert)["holders"]]
    return confirm_or_run(request, values, lambda: _act(request, cert, action, values))


def _act(request: Request, cert: Certificate, action: str, values: dict[str, Any]) -> Response:
    ctx = request.ctx
    if action == "rollback":
        result = certificates.rollback(ctx, cert, posted(request, "reason"))
    elif action == "correct":
        result = certificates.correct(ctx, cert, values["changes"], posted(request, "comment"))
    elif action == "issue":
        result = certificates.issue_again(ctx, cert, posted(request, "comment"))
    elif action == "reissue":
        result = certificates.reissue(ctx, cert, posted(request, "reason"), values["changes"])
    elif action == "revoke":
        result = certificates.revoke(
            ctx,
            cert,
            posted(request, "cause"),
            posted(request, "reason"),
            posted(request, "case_no") or None,
        )
    elif action == "code":
        notifications.resend_code(ctx, cert, _holder_number(request))
        result = {}
    else:
        require(request, "event", "comment")
        result = certificates.paper_event(
            ctx, cert, posted(request, "event"), posted(request, "comment")
        )
    serial = result.get("serial") or cert.serial or cert.id
    return HTTPFound(
        location=request.route_path("staff.certificate", serial=serial, _query={"done": action})
    )
