"""What every page template is given: the translation function, labels and formats.

Templates are written in Chinese; ``_("中文")`` (or ``_(value)`` for a message or a label)
gives the text in the reader's language through the request's localizer (see
:mod:`certarchive.i18n`).  :data:`LABELS` names stored codes in Chinese, each marked for
the catalog.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import partial
from typing import Any

from certarchive.i18n import DEFAULT_LANGUAGE, Message, _, request_translate
from certarchive.services.certdata import ON_REQUEST
from certarchive.services.corrections import RESOLUTIONS
from certarchive.services.issuance import CHINA


def fmt_time(value: Any) -> str:
    """An ISO time or datetime as China time, ``2026-11-20 10:00``."""
    if not value:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        return moment.strftime("%Y-%m-%d %H:%M")
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


def page_translate(request: Any, value: Any, mapping: dict[str, Any] | None = None) -> str:
    """A template's ``_("中文")``, or ``_("共 ${total} 条", mapping={...})`` with values."""
    return request_translate(request, Message(value, mapping) if mapping else value)


_PATH = re.compile(r"(?P<list>holders|obligors)\[(?P<index>\d+)\]\.(?P<field>\w+)")


def field_words(request: Any, path: str) -> str:
    """A field's name in words: ``holders[0].id_number`` → 第1权利人的证件号码."""
    match = _PATH.fullmatch(path)
    if match is None:
        label = LABELS["field"].get(path) or LABELS["form_field"].get(path)
        return request_translate(request, label) if label else path
    words = _(
        "第${number}${role}的${field}",
        mapping={
            "number": int(match["index"]) + 1,
            "role": LABELS["field"][match["list"]],
            "field": LABELS["party_field"].get(match["field"], match["field"]),
        },
    )
    return request_translate(request, words)


def renderer_globals(event: dict[str, Any]) -> None:
    from certarchive.views.menu import SEARCH_PERMISSION, menu_for
    from certarchive.views.security import known_identity

    request = event.get("request")
    lang = request.locale_name if request is not None else DEFAULT_LANGUAGE
    identity = known_identity(request) if request is not None else None
    event.setdefault("_", partial(page_translate, request))
    event.setdefault("lang", lang)
    event.setdefault("labels", LABELS)
    event.setdefault("fmt_time", fmt_time)
    event.setdefault("field_words", partial(field_words, request))
    event.setdefault("identity", identity)
    event.setdefault("menu", menu_for(identity.actor) if identity else [])
    event.setdefault("search_permission", SEARCH_PERMISSION)
    event.setdefault("csrf", identity.session.get("csrf", "") if identity else "")
    event.setdefault("here", request.path_qs if request is not None else "/")
    agency = request.registry.runtime.settings.agency.agency_name if request else ""
    event.setdefault("agency_name", agency)


LABELS: dict[str, dict[Any, str]] = {
    "certificate_state": {
        "draft": _("草稿"),
        "issued": _("已签发"),
        "downloaded": _("已下载"),
        "archived": _("已归档"),
        "revoked": _("已注销"),
    },
    "case_state": {
        "received": _("已受理"),
        "recorded": _("已登簿"),
        "paid": _("已缴费"),
        "certified": _("已出证"),
        "filed": _("已归档"),
    },
    "kind": {"right": _("不动产权证书"), "proof": _("不动产登记证明")},
    "transition": {
        "issue": _("签发"),
        "rollback": _("回退"),
        "download": _("首次下载"),
        "archive": _("归档"),
        "revoke": _("注销"),
        "record": _("登簿"),
        "pay": _("缴费"),
        "certify": _("出证"),
        "file": _("归档"),
    },
    "registration_type": {
        "first": _("首次登记"),
        "transfer": _("转移登记"),
        "change": _("变更登记"),
        "cancellation": _("注销登记"),
        "correction": _("更正登记"),
        "mortgage": _("抵押登记"),
    },
    "delivery": {
        "electronic": _("电子证照"),
        "paper": _("纸质证书"),
        "both": _("电子证照和纸质证书"),
    },
    "field": {
        "holders": _("权利人"),
        "co_ownership": _("共有情况"),
        "location": _("坐落"),
        "unit_number": _("不动产单元号"),
        "right_type": _("权利类型"),
        "right_nature": _("权利性质"),
        "use": _("用途"),
        "area": _("面积"),
        "term": _("使用期限"),
        "other_status": _("权利其他状况"),
        "notes": _("附记"),
        "proved_right": _("证明权利或事项"),
        "obligors": _("义务人"),
        "other": _("其他"),
        "kind": _("种类"),
    },
    "id_type": {
        "resident_id": _("居民身份证"),
        "credit_code": _("统一社会信用代码"),
        "passport": _("护照"),
        "other": _("其他证件"),
    },
    "paper": {
        "issued": _("已领取纸质证书"),
        "returned": _("纸质证书已交回"),
        "lost_announced": _("纸质证书遗失已公告"),
    },
    "paper_event": {
        "issued": _("纸质证书已领取"),
        "returned": _("纸质证书已交回"),
        "lost_announced": _("纸质证书遗失并已公告"),
    },
    "file_reason": {"issued": _("签发"), "revoked": _("注销水印"), ON_REQUEST: _("首次请求时生成")},
    "backup_kind": {"export": _("导出"), "verify": _("校验"), "drill": _("恢复演练")},
    "backup_phase": {
        "queued": _("排队中"),
        "export": _("导出中"),
        "verify": _("校验中"),
        "drill": _("演练中"),
        "prune": _("清理旧快照"),
        "copy": _("复制到副本仓库"),
        "verify copy": _("校验副本"),
        "finished": _("已结束"),
        "interrupted": _("已中断"),
    },
    "backup_trigger": {"web": _("网页"), "api": _("接口"), "schedule": _("计划任务")},
    "role": {
        "admin": _("系统管理员"),
        "registrar": _("登记人员"),
        "archivist": _("档案人员"),
        "backup_operator": _("备份操作员"),
        "auditor": _("审计人员"),
        "institution": _("机构用户"),
    },
    "log": {"audit": _("审计日志"), "sharing": _("共享日志")},
    "channel": {"counter": _("窗口"), "phone": _("电话"), "online": _("网上"), "other": _("其他")},
    "message_template": {
        "payment_notice": _("缴费通知"),
        "certificate_ready": _("证照签发通知"),
        "download_code": _("下载码"),
    },
    "message_channel": {"sms": _("短信"), "email": _("电子邮件"), "wechat": _("微信")},
    "message_state": {
        "pending": _("待发送"),
        "sent": _("已送达"),
        "undeliverable": _("无法送达"),
        "waiting": _("排队等待前一上报"),
        "refused": _("被拒收"),
    },
    "report_event": {"issued": _("签发"), "revoked": _("注销")},
    "resolution": RESOLUTIONS,
    "status": {
        400: _("请求有误"),
        401: _("需要登录"),
        403: _("无权访问"),
        404: _("未找到"),
        405: _("方法不允许"),
        409: _("当前状态不允许此操作"),
        413: _("文件过大"),
        415: _("格式不支持"),
        422: _("数据有误"),
        429: _("请求过于频繁"),
        500: _("服务器内部错误"),
    },
    "search_mode": {
        "auto": _("自动判断"),
        "number": _("按证书编号或案卷号（任意一段）"),
        "unit_number": _("按不动产单元号"),
        "id_number": _("按证件号码"),
        "name": _("按权利人或义务人全名"),
        "address": _("按坐落地址中的词"),
        "name_or_address": _("按全名或坐落地址中的词"),
    },
    "list_state": {"rolled_back": _("已回退、待重新签发")},
    "confirm_choice": {
        "cause": {
            "transfer": _("转移登记"),
            "change": _("变更登记"),
            "cancellation": _("注销登记"),
            "correction": _("更正登记"),
        },
        "event": {
            "issued": _("纸质证书已领取"),
            "returned": _("纸质证书已交回"),
            "lost_announced": _("纸质证书遗失并已公告"),
        },
        "resolution": dict(RESOLUTIONS),
    },
    "party_field": {
        "name": _("姓名或名称"),
        "id_type": _("证件类型"),
        "id_number": _("证件号码"),
        "phone": _("手机"),
        "share": _("份额"),
    },
    "form_field": {
        "reason": _("原因"),
        "comment": _("说明"),
        "cause": _("注销原因类别"),
        "case_no": _("相关案卷号"),
        "event": _("事项"),
        "holder": _("权利人"),
        "checked": _("当面核验"),
        "resolution": _("处理结果"),
        "confirm": _("确认"),
        "file": _("文件"),
        "name": _("文件名"),
        "content_type": _("文件类型"),
        "changes": _("更正内容"),
        "serial": _("证书编号"),
        "description": _("申请人反映的错误"),
        "received_at": _("收到时间"),
        "channel": _("渠道"),
    },
    "done": {
        "rollback": _("证书已回退为草稿。"),
        "correct": _("已保存更正后的新版本。"),
        "issue": _("证书已签发。"),
        "reissue": _("原证书已注销，新证书已签发。"),
        "revoke": _("证书已注销。"),
        "paper": _("纸质证书事项已登记。"),
    },
}
LABELS["any_state"] = {**LABELS["case_state"], **LABELS["certificate_state"]}
