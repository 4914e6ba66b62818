"""What holders are told, and when (Z-4, H-2.2): each message queued in the transaction of
the change that causes it (see :mod:`certarchive.messaging`).

- ``payment_notice`` when a case is recorded (登簿): to every natural-person holder;
- ``certificate_ready`` when a certificate is issued (after payment, or re-issued), with
  its download code;
- ``download_code`` when a code is re-sent: asked for by the holder with ID number and
  phone (:func:`request_code`), or at the counter by a registrar who checked the holder's
  ID in person (:func:`resend_code`).

Only channels that are configured get messages: SMS at the phone and e-mail at the address
of the case document, WeChat at the openid the holder bound.
"""

from __future__ import annotations

from typing import Any

from certarchive.content.casefile import CaseFile
from certarchive.content.certificate import Certificate
from certarchive.i18n import _
from certarchive.messaging.outbox import LIBRARY, enqueue, of_case
from certarchive.services.certdata import read_data
from certarchive.services.context import Context
from certarchive.services.download_codes import issue_code
from certarchive.services.errors import Invalid
from certarchive.validation.identifiers import normalize


def _agency_name(ctx: Context, agency: str) -> str:
    return str(ctx.agency(agency).settings["agency_name"])


def _queue(
    ctx: Context,
    case_no: str | None,
    template: str,
    recipients: dict[str, set[str]],
    params: dict[str, str],
) -> int:
    """Queue the message for each recipient of each configured channel; the count."""
    configured = _channels(ctx)
    count = 0
    for channel, addresses in recipients.items():
        if channel not in configured:
            continue
        for address in sorted(addresses):
            enqueue(
                ctx.registry.messages,
                ctx.keyring,
                channel=channel,
                template=template,
                recipient=address,
                params=params,
                case_no=case_no,
                now=ctx.now(),
            )
            count += 1
    # No entry of its own: the change that queues a message (a recording, an issuance, a
    # code asked for) has its entry, and every attempt to deliver it has one.
    return count


def recipients_of(ctx: Context, people: Any) -> dict[str, set[str]]:
    """Where each person can be reached: SMS at the phone, e-mail at the address of the
    case document, WeChat at the openid the holder bound (:func:`bind_wechat`)."""
    found: dict[str, set[str]] = {"sms": set(), "email": set(), "wechat": set()}
    bindings = ctx.registry.wechat_bindings
    for person in people or ():
        if person.get("phone"):
            found["sms"].add(person["phone"])
        if person.get("email"):
            found["email"].add(person["email"])
        key = binding_key(ctx, person["id_number"])
        sealed = bindings.get(key)
        if sealed is not None:
            found["wechat"].add(ctx.keyring.decrypt("personal", sealed, _aad(key)).decode())
    return found


def _merged(groups: list[dict[str, set[str]]]) -> dict[str, set[str]]:
    merged: dict[str, set[str]] = {}
    for group in groups:
        for channel, addresses in group.items():
            merged.setdefault(channel, set()).update(addresses)
    return merged


def _channels(ctx: Context) -> tuple[str, ...]:
    return ctx.runtime.settings.messaging.channels


def notify_recorded(ctx: Context, case: CaseFile, certificates: Any, fee: str | None) -> int:
    """The payment notice to the holders of a recorded case, with the fee when the case
    document gives it."""
    if not _channels(ctx):
        return 0  # no channel: not even the recipients are worked out
    recipients = _merged([recipients_of(ctx, data.get("holders")) for data in certificates])
    params = {
        "agency": _agency_name(ctx, case.agency),
        "case_no": case.case_no,
        "amount_text": f"应缴登记费{fee}元，" if fee else "",
    }
    return _queue(ctx, case.case_no, "payment_notice", recipients, params)


def notify_issued(ctx: Context, cert: Certificate, code: str) -> int:
    """``certificate_ready`` with the certificate's download code, to its holders."""
    if not _channels(ctx):
        return 0
    params = {
        "agency": _agency_name(ctx, cert.agency),
        "case_no": cert.case_no,
        "serials": str(cert.serial),
        "download_code": code,
    }
    holders = read_data(ctx, cert).get("holders")
    return _queue(ctx, cert.case_no, "certificate_ready", recipients_of(ctx, holders), params)


def _send_new_code(ctx: Context, cert: Certificate, phone: str) -> None:
    code = issue_code(ctx, cert)  # replaces the stored code: earlier codes stop working
    params = {
        "agency": _agency_name(ctx, cert.agency),
        "serials": str(cert.serial),
        "download_code": code,
    }
    _queue(ctx, cert.case_no, "download_code", {"sms": {phone}}, params)


# --- WeChat: holders bind their openid ------------------------------------------------------


def binding_key(ctx: Context, id_number: str) -> str:
    """The keyed digest a holder's WeChat binding is kept under (never the ID number)."""
    return ctx.keyring.blind_index(f"wechat:{normalize(id_number)}")


def _aad(key: str) -> bytes:
    return f"wechat-binding:{key}".encode()


def bind_wechat(ctx: Context, session: dict[str, Any], openid: str) -> None:
    """A signed-in holder binds the WeChat openid the official account's page got for them
    (Z-4: notices by WeChat); a later binding replaces it."""
    key = session["wechat_key"]
    sealed = ctx.keyring.encrypt("personal", openid.encode(), _aad(key))
    ctx.registry.wechat_bindings[key] = sealed
    ctx.audit("holder.wechat.bind", f"holder:{session.get('label')}")


def unbind_wechat(ctx: Context, session: dict[str, Any]) -> None:
    key = session["wechat_key"]
    if key in ctx.registry.wechat_bindings:
        del ctx.registry.wechat_bindings[key]
        ctx.audit("holder.wechat.unbind", f"holder:{session.get('label')}")


def live_certificates_of(ctx: Context, id_number: str, phone: str) -> list[Certificate]:
    """Issued, unrevoked certificates naming a holder with this ID number and phone."""
    normalized = normalize(id_number)
    blind = ctx.keyring.blind_index(normalized)
    found = []
    for agency in ctx.visible_agencies():
        for cert_id in agency.catalog.holder.get(blind):
            cert = agency.certificates[cert_id]
            if cert.state in ("draft", "revoked") or cert.serial is None:
                continue
            holders = read_data(ctx, cert).get("holders", ())
            if any(
                normalize(h["id_number"]) == normalized and h.get("phone") == phone for h in holders
            ):
                found.append(cert)
    return found


def request_code(ctx: Context, id_number: str, phone: str) -> int:
    """A holder asks for a new code (CONTRACT.md ``POST /api/v1/holder/code``): when the pair
    is a holder's of live certificates, each gets a new code, sent to that phone.  The
    caller answers the same whatever the pair, so nothing can be enumerated."""
    found = live_certificates_of(ctx, id_number, phone)
    for cert in found:
        _send_new_code(ctx, cert, phone)
    ctx.audit(
        "holder.code.request",
        "holder",
        result="ok" if found else "refused",
        detail={"certificates": len(found)},
    )
    return len(found)


def resend_code(ctx: Context, cert: Certificate, holder_number: int) -> None:
    """A registrar re-sends a holder's code at the counter, after checking the holder's ID
    in person: to the phone of the case document, never to one typed at the counter."""
    ctx.require("certificate.manage")
    holders = read_data(ctx, cert).get("holders", ())
    if not 1 <= holder_number <= len(holders) or not holders[holder_number - 1].get("phone"):
        raise Invalid(
            _("该权利人没有登记手机号"),
            {"holder": "no phone on record"},
        )
    _send_new_code(ctx, cert, holders[holder_number - 1]["phone"])
    ctx.audit(
        "certificate.code.resend",
        f"certificate:{cert.serial}",
        detail={"holder": holder_number},
    )


def delivery_status(ctx: Context, case_no: str) -> list[dict[str, Any]]:
    """The case's messages for its page: template, channel, state, attempts; no recipient.
    (Its reports to the e-licence library are :func:`certarchive.services.reporting.of_case`.)"""
    return [
        message.summary()
        for message in of_case(ctx.registry.messages, case_no)
        if message.channel != LIBRARY
    ]
