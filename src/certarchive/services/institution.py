"""Institutions' clerks at work (因特网从业端, H-N2, Z-8, H-4.4): a clerk of a bank or another
connected institution looks certificates up and downloads them, and the institution's own
admin adds and disables its clerks.

A clerk acts with exactly its institution's API client's scopes and agency
(:func:`certarchive.services.permissions.institution_actor`), and reads through the code
that serves the client's keys: :func:`certificates.metadata` (masked as the scopes allow,
H-5.2.3) and :func:`certificates.file_for_staff`.  Every look-up and every download goes
to the sharing log (H-5.2.5) under the clerk's name, with the purpose the clerk stated; a
look-up by ID number records neither the number nor anything derived from it.
"""

from __future__ import annotations

import re
from typing import Any

from certarchive.content.certificate import Certificate
from certarchive.content.principals import INSTITUTION_ROLE, ApiClient, User
from certarchive.crypto.sm import sm3_hex
from certarchive.i18n import _
from certarchive.services import accounts, certificates
from certarchive.services.context import Context
from certarchive.services.errors import Conflict, Invalid, NotFound
from certarchive.services.identity import set_totp
from certarchive.services.overview import SERIAL_HINT, UNIT_NUMBER
from certarchive.services.setup import add_user
from certarchive.validation.identifiers import normalize
from certarchive.validation.text import text_problem

LOOKUP_INVALID = _("查询条件无效")
PURPOSE_LIMITS = (2, 60)
ID_NUMBER = re.compile(r"[0-9A-Za-z()（）-]{5,40}")
#: How a look-up's text was read, as the sharing log records it.
MODES = ("serial", "unit_number", "holder_id")


def _purpose(value: Any, problems: dict[str, str]) -> str:
    text = value.strip() if isinstance(value, str) else ""
    low, high = PURPOSE_LIMITS
    if not low <= len(text) <= high:
        problems["purpose"] = _(
            "请说明用途，${low}至${high}个字", mapping={"low": low, "high": high}
        )
    elif text_problem(text):
        problems["purpose"] = text_problem(text) or ""
    return text


def client_of(ctx: Context) -> ApiClient:
    """The API client the signed-in clerk is bound to."""
    ctx.require("institution.lookup")
    user = ctx.registry.users.get(ctx.actor.name)
    client = ctx.registry.clients.get(user.institution or "") if user is not None else None
    if client is None:
        raise NotFound(_("机构不存在"))
    return client


def _found(ctx: Context, mode: str, text: str) -> list[Certificate]:
    if mode == "serial":
        cert = certificates.find_certificate(ctx, text, missing_ok=True)
        return [cert] if cert is not None else []
    if mode == "unit_number":
        return certificates.by_unit_number(ctx, text)
    return certificates.by_holder_blind_index(ctx, normalize(text))


def _mode(text: str, problems: dict[str, str]) -> str:
    if SERIAL_HINT.search(text):
        return "serial"
    if UNIT_NUMBER.fullmatch(text):
        return "unit_number"
    if not ID_NUMBER.fullmatch(text):
        problems["q"] = _("请输入证书编号、28位不动产单元号或权利人证件号码")
    return "holder_id"


def look_up(ctx: Context, query: Any, purpose: Any) -> dict[str, Any]:
    """Certificates by serial, unit number or holder's ID number, for a stated purpose."""
    client = client_of(ctx)
    ctx.require("certificate.read")
    problems: dict[str, str] = {}
    text = query.strip()[:100] if isinstance(query, str) else ""
    mode = _mode(text, problems)
    stated = _purpose(purpose, problems)
    if problems:
        raise Invalid(LOOKUP_INVALID, problems)
    found = [c for c in _found(ctx, mode, text) if c.state != "draft"]
    obj = {"serial": f"certificate:{text}", "unit_number": f"unit:{text.upper()}"}
    ctx.audit(
        "share.lookup",
        obj.get(mode, "catalog:holder"),
        detail={
            "institution": client.name,
            "purpose": stated,
            "by": mode,
            "results": [c.serial for c in found],
        },
        log="sharing",
    )
    return {
        "mode": mode,
        "purpose": stated,
        "certificates": [certificates.metadata(ctx, cert) for cert in found],
        "can_download": "certificate.download_file" in ctx.actor.permissions,
    }


def download(
    ctx: Context, serial: str, purpose: Any, file_format: str = "pdf"
) -> tuple[Certificate, bytes]:
    """The current file of a certificate the clerk looked up, for a stated purpose."""
    client = client_of(ctx)
    problems: dict[str, str] = {}
    stated = _purpose(purpose, problems)
    if problems:
        raise Invalid(LOOKUP_INVALID, problems)
    cert = certificates.get_certificate(ctx, serial)
    data = certificates.file_for_staff(ctx, cert, file_format)
    ctx.audit(
        "share.download",
        f"certificate:{cert.serial}",
        detail={
            "institution": client.name,
            "purpose": stated,
            "format": file_format,
            "size": len(data),
            "sm3": sm3_hex(data),
        },
        log="sharing",
    )
    return cert, data


# --- the institution's own admin ---------------------------------------------------------


def _clerks(ctx: Context) -> tuple[ApiClient, list[User]]:
    ctx.require("institution.users")
    client = client_of(ctx)
    users = ctx.registry.users.values()
    return client, [
        u for u in users if u.role == INSTITUTION_ROLE and u.institution == client.key_id
    ]


def list_clerks(ctx: Context) -> dict[str, Any]:
    client, clerks = _clerks(ctx)
    return {
        "institution": client.name,
        "scopes": list(client.scopes),
        "agency": client.agency,
        "clerks": [
            {
                "name": u.name,
                "admin": u.institution_admin,
                "disabled": accounts.is_disabled(u),
                "totp": u.totp_secret_sealed is not None,
            }
            for u in clerks
        ],
    }


def add_clerk(ctx: Context, name: Any, password: Any, admin: bool = False) -> dict[str, str]:
    """A new clerk of the admin's own institution; returns its TOTP secret, shown once."""
    client = _clerks(ctx)[0]
    checked = accounts.check_new_password(password)
    add_user(
        ctx,
        name if isinstance(name, str) else "",
        INSTITUTION_ROLE,
        checked,
        None,
        client.key_id,
        admin,
    )
    return set_totp(ctx, ctx.registry.users[name])


def _own_clerk(ctx: Context, name: Any) -> User:
    _client, clerks = _clerks(ctx)
    found = next((u for u in clerks if u.name == name), None)
    if found is None:
        raise NotFound(_("本机构没有这个用户"))
    return found


def disable_clerk(ctx: Context, name: Any, reason: str = "") -> None:
    clerk = _own_clerk(ctx, name)
    if clerk.name == ctx.actor.name:
        raise Conflict(_("不能停用自己的账户"))
    accounts.disable_account(ctx, clerk, reason)


def enable_clerk(ctx: Context, name: Any) -> None:
    accounts.enable_account(ctx, _own_clerk(ctx, name))
