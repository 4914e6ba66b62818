"""Message templates (CONTRACT.md): Chinese texts an operator can replace.

Three templates, each with the parameters CONTRACT.md gives it.  The SMS gateway is
sent the template's name and parameters (the gateway keeps the registered SMS text, as
Chinese SMS providers require); e-mail and WeChat carry the text rendered here.  An
operator replaces the built-in texts with an ini file (``certarchive.message_templates``)
of sections named after the templates, each with ``text``, and optionally ``subject``
(e-mail) and ``wechat_template_id``; a placeholder a template may not use stops start-up
with the template's name.
"""

from __future__ import annotations

import configparser
from dataclasses import dataclass
from pathlib import Path
from string import Template

#: template -> the parameters it is given (beyond ``agency``, always present).
PARAMETERS = {
    "payment_notice": ("case_no", "amount_text"),
    "certificate_ready": ("case_no", "serials", "download_code"),
    "download_code": ("serials", "download_code"),
}


@dataclass(frozen=True)
class MessageTemplate:
    name: str
    text: str
    subject: str
    wechat_template_id: str

    def render(self, params: dict[str, str]) -> str:
        return Template(self.text).substitute(params)


BUILT_IN = {
    "payment_notice": MessageTemplate(
        "payment_notice",
        "【$agency】您申请的不动产登记（案卷号$case_no）已登簿，$amount_text"
        "请按缴费通知缴纳登记费用。缴费后即可下载电子证照。",
        "不动产登记缴费通知",
        "payment_notice",
    ),
    "certificate_ready": MessageTemplate(
        "certificate_ready",
        "【$agency】您的不动产电子证照（$serials）已签发，下载码$download_code，90天内有效。"
        "请凭身份证件号码和下载码下载；首次下载时间即为领证时间。",
        "不动产电子证照已签发",
        "certificate_ready",
    ),
    "download_code": MessageTemplate(
        "download_code",
        "【$agency】您的不动产电子证照（$serials）新下载码为$download_code，90天内有效，"
        "原下载码已失效。如非本人申请，请联系登记中心。",
        "不动产电子证照下载码",
        "download_code",
    ),
}


class TemplateError(ValueError):
    """A template file that cannot be used; the message names the template and why."""


def _placeholders(text: str) -> set[str]:
    return {
        match.group("named") or match.group("braced")
        for match in Template.pattern.finditer(text)
        if match.group("named") or match.group("braced")
    }


def load_templates(path: Path | None) -> dict[str, MessageTemplate]:
    """The built-in templates, with those the file at ``path`` replaces."""
    templates = dict(BUILT_IN)
    if path is None:
        return templates
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, configparser.Error) as error:
        raise TemplateError(f"message templates {path}: {type(error).__name__}") from None
    for name in parser.sections():
        if name not in BUILT_IN:
            raise TemplateError(f"message template [{name}] is not one of {', '.join(BUILT_IN)}")
        section = parser[name]
        built_in = BUILT_IN[name]
        text = section.get("text", built_in.text)
        unknown = _placeholders(text) - {"agency", *PARAMETERS[name]}
        if unknown:
            raise TemplateError(
                f"message template [{name}] uses ${', $'.join(sorted(unknown))}: it may use "
                f"$agency, ${', $'.join(PARAMETERS[name])}"
            )
        templates[name] = MessageTemplate(
            name,
            text,
            section.get("subject", built_in.subject),
            section.get("wechat_template_id", built_in.wechat_template_id),
        )
    return templates
