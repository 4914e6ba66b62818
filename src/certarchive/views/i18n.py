"""Chinese first, English second: a dictionary translation of the page texts.

Pages are written in Chinese; ``_("中文")`` looks the text up in :data:`EN` when the reader
chose English (the ``lang`` cookie, set by ``/language/en``).  Messages from the services
already carry both languages as ``"中文 / English"``; :func:`pick` shows the reader's half.
A text missing from :data:`EN` is shown in Chinese (a test lists the missing ones).
"""

# ruff: noqa: E501 - a translation table: one text per line reads best

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from pyramid.request import Request

from certarchive.services.corrections import RESOLUTIONS
from certarchive.services.issuance import CHINA

LANGUAGES = ("zh", "en")


def locale_negotiator(request: Request) -> str:
    lang = request.cookies.get("lang")
    return lang if lang in LANGUAGES else "zh"


def pick(message: Any, lang: str) -> str:
    """The reader's half of a ``"中文 / English"`` message (the whole text otherwise)."""
    text = "" if message is None else str(message)
    if " / " not in text:
        return text
    chinese, english = text.split(" / ", 1)
    return english if lang == "en" else chinese


def translate(text: Any, lang: str) -> str:
    text = "" if text is None else str(text)
    return EN.get(text, text) if lang == "en" else text


def fmt_time(value: Any) -> str:
    """An ISO time or datetime as China time, ``2026-11-20 10:00``."""
    if not value:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        return moment.strftime("%Y-%m-%d %H:%M")
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


def renderer_globals(event: dict[str, Any]) -> None:
    from certarchive.views.security import known_identity

    request = event.get("request")
    lang = locale_negotiator(request) if request is not None else "zh"
    identity = known_identity(request) if request is not None else None
    event.setdefault("_", partial(translate, lang=lang))
    event.setdefault("pick", partial(pick, lang=lang))
    event.setdefault("lang", lang)
    event.setdefault("labels", LABELS)
    event.setdefault("fmt_time", fmt_time)
    event.setdefault("identity", identity)
    event.setdefault("csrf", identity.session.get("csrf", "") if identity else "")
    event.setdefault("here", request.path_qs if request is not None else "/")
    agency = request.registry.runtime.settings.agency.agency_name if request else ""
    event.setdefault("agency_name", agency)


LABELS: dict[str, dict[Any, str]] = {
    "certificate_state": {
        "draft": "草稿",
        "issued": "已签发",
        "downloaded": "已下载",
        "archived": "已归档",
        "revoked": "已注销",
    },
    "case_state": {
        "received": "已受理",
        "recorded": "已登簿",
        "paid": "已缴费",
        "certified": "已出证",
        "filed": "已归档",
    },
    "kind": {"right": "不动产权证书", "proof": "不动产登记证明"},
    "transition": {
        "issue": "签发",
        "rollback": "回退",
        "download": "首次下载",
        "archive": "归档",
        "revoke": "注销",
        "record": "登簿",
        "pay": "缴费",
        "certify": "出证",
        "file": "归档",
    },
    "registration_type": {
        "first": "首次登记",
        "transfer": "转移登记",
        "change": "变更登记",
        "cancellation": "注销登记",
        "correction": "更正登记",
        "mortgage": "抵押登记",
    },
    "delivery": {"electronic": "电子证照", "paper": "纸质证书", "both": "电子证照和纸质证书"},
    "field": {
        "holders": "权利人",
        "co_ownership": "共有情况",
        "location": "坐落",
        "unit_number": "不动产单元号",
        "right_type": "权利类型",
        "right_nature": "权利性质",
        "use": "用途",
        "area": "面积",
        "term": "使用期限",
        "other_status": "权利其他状况",
        "notes": "附记",
        "proved_right": "证明权利或事项",
        "obligors": "义务人",
        "other": "其他",
        "kind": "种类",
    },
    "id_type": {
        "resident_id": "居民身份证",
        "credit_code": "统一社会信用代码",
        "passport": "护照",
        "other": "其他证件",
    },
    "paper": {
        "issued": "已领取纸质证书",
        "returned": "纸质证书已交回",
        "lost_announced": "纸质证书遗失已公告",
    },
    "paper_event": {
        "issued": "纸质证书已领取",
        "returned": "纸质证书已交回",
        "lost_announced": "纸质证书遗失并已公告",
    },
    "file_reason": {"issued": "签发", "revoked": "注销水印"},
    "role": {
        "admin": "系统管理员",
        "registrar": "登记人员",
        "archivist": "档案人员",
        "backup_operator": "备份操作员",
        "auditor": "审计人员",
    },
    "channel": {"counter": "窗口", "phone": "电话", "online": "网上", "other": "其他"},
    "resolution": {key: text.split(" / ")[0] for key, text in RESOLUTIONS.items()},
    "status": {
        400: "请求有误",
        401: "需要登录",
        403: "无权访问",
        404: "未找到",
        405: "方法不允许",
        409: "当前状态不允许此操作",
        413: "文件过大",
        415: "格式不支持",
        422: "数据有误",
        429: "请求过于频繁",
        500: "服务器内部错误",
    },
    "search_mode": {
        "case_no": "按案卷号",
        "serial": "按证书编号",
        "unit_number": "按不动产单元号",
        "holder_id": "按证件号码",
    },
    "done": {
        "rollback": "证书已回退为草稿。",
        "correct": "已保存更正后的新版本。",
        "issue": "证书已签发。",
        "reissue": "原证书已注销，新证书已签发。",
        "revoke": "证书已注销。",
        "paper": "纸质证书事项已登记。",
    },
}
LABELS["any_state"] = {**LABELS["case_state"], **LABELS["certificate_state"]}

EN: dict[str, str] = {
    # states, kinds, transitions
    "草稿": "Draft",
    "已签发": "Issued",
    "已下载": "Downloaded",
    "已归档": "Archived",
    "已注销": "Revoked",
    "已受理": "Received",
    "已登簿": "Recorded",
    "已缴费": "Paid",
    "已出证": "Certified",
    "不动产权证书": "Property-right certificate",
    "不动产登记证明": "Registration proof",
    "签发": "Issue",
    "回退": "Roll back",
    "首次下载": "First download",
    "归档": "File",
    "注销": "Revoke",
    "登簿": "Record",
    "缴费": "Payment",
    "出证": "Certify",
    "首次登记": "First registration",
    "转移登记": "Transfer registration",
    "变更登记": "Change registration",
    "注销登记": "Cancellation registration",
    "更正登记": "Correction registration",
    "抵押登记": "Mortgage registration",
    "电子证照": "Electronic",
    "纸质证书": "Paper certificate",
    "电子证照和纸质证书": "Electronic and paper",
    # data page fields
    "权利人": "Holder",
    "共有情况": "Co-ownership",
    "坐落": "Location",
    "不动产单元号": "Unit number",
    "权利类型": "Right type",
    "权利性质": "Right nature",
    "用途": "Use",
    "面积": "Area",
    "使用期限": "Term",
    "权利其他状况": "Other status",
    "附记": "Notes",
    "证明权利或事项": "Proved right or matter",
    "义务人": "Obligor",
    "其他": "Other",
    "种类": "Kind",
    "居民身份证": "Resident ID card",
    "统一社会信用代码": "Unified social credit code",
    "护照": "Passport",
    "其他证件": "Other document",
    "已领取纸质证书": "Paper certificate handed over",
    "纸质证书已交回": "Paper returned",
    "纸质证书遗失已公告": "Paper lost, announced",
    "纸质证书已领取": "Paper handed over",
    "纸质证书遗失并已公告": "Paper lost and announced",
    "注销水印": "Revocation stamp",
    "系统管理员": "Administrator",
    "登记人员": "Registrar",
    "档案人员": "Archivist",
    "备份操作员": "Backup operator",
    "审计人员": "Auditor",
    "窗口": "Counter",
    "电话": "Phone",
    "网上": "Online",
    "已注销并重新签发": "Revoked and re-issued",
    "已回退更正后重新签发": "Rolled back, corrected, issued again",
    "已转更正登记": "Passed to correction registration",
    "经核实无误": "Checked: no error",
    "请求有误": "Bad request",
    "需要登录": "Sign-in required",
    "无权访问": "Forbidden",
    "未找到": "Not found",
    "方法不允许": "Method not allowed",
    "当前状态不允许此操作": "Not allowed in the current state",
    "文件过大": "Too large",
    "格式不支持": "Unsupported format",
    "数据有误": "Invalid data",
    "请求过于频繁": "Too many requests",
    "服务器内部错误": "Internal error",
    "出错了": "Error",
    "按案卷号": "by case number",
    "按证书编号": "by serial",
    "按不动产单元号": "by unit number",
    "按证件号码": "by ID number",
    "证书已回退为草稿。": "The certificate was rolled back to draft.",
    "已保存更正后的新版本。": "The corrected version was saved.",
    "证书已签发。": "The certificate was issued.",
    "原证书注销，新证书已签发。": "The old certificate was revoked and a new one issued.",
    "原证书已注销，新证书已签发。": "The old certificate was revoked and a new one issued.",
    "证书已注销。": "The certificate was revoked.",
    "纸质证书事项已登记。": "The paper certificate event was recorded.",
    "已完成。": "Done.",
    # page texts
    "上传文件验证": "Check a file",
    "上传电子证照PDF文件，核验电子印章签名、登记簿记录和证照状态。扫描证照左上角二维码也可查看状态。": "Upload a certificate PDF to check its seal signature, the registry's record and its "
    "status. Scanning the QR code at the top left of a certificate also shows its status.",
    "下载PDF": "Download PDF",
    "下载OFD": "Download OFD",
    "下载我的电子证照": "Download my e-certificates",
    "下载码": "Download code",
    "下载证照文件（PDF）": "Download the file (PDF)",
    "下载证照文件（OFD）": "Download the file (OFD)",
    "不动产登记中心": "Real-estate registration centre",
    "不动产登记电子证照服务": "Real-Estate Registration E-Certificates",
    "不动产登记电子证照采用国产密码算法（SM2/SM3/SM4）签章与保护": "E-certificates are sealed and protected with the national algorithms SM2/SM3/SM4",
    "不符": "does not match",
    "为保护个人信息，姓名和证件号码已部分隐去。可上传证照文件核对其SM3指纹和电子印章签名。": "Names and ID numbers are partly hidden to protect personal data. Upload the "
    "certificate file to check its SM3 fingerprint and seal signature.",
    "主菜单": "Main menu",
    "事项": "Event",
    "以下案卷的证书均已由权利人下载或已领取纸质证书，可以归档（H-2.5）。可逐件归档，也可勾选后批量归档。": "Every certificate of these cases was downloaded by its holder or handed over on "
    "paper, so the case files can be filed (H-2.5): one by one, or tick several and file "
    "them together.",
    "份额": "Share",
    "保存为新版本": "Save as a new version",
    "修改内容": "Changes",
    "修改前": "Before",
    "修改后": "After",
    "全部更正申请": "All correction requests",
    "内容未变": "No change",
    "凭身份证件号码和缴费后收到的下载码，下载本人名下的电子证照。": "Download the e-certificates in your name with your ID number and the download code "
    "you received after payment.",
    "初始版本": "First version",
    "办理": "Actions",
    "办理过程": "Workflow history",
    "办结": "Close",
    "办结时间": "Closed at",
    "动态口令": "One-time code",
    "原因": "Reason",
    "原证书注销，按更正后的内容签发新编号的证书（H-4.3、Z-5）。": "The certificate is revoked and a corrected one is issued under a new serial "
    "(H-4.3, Z-5).",
    "反映的错误": "Reported error",
    "发现的问题": "Problems found",
    "吊销": "Revoke",
    "名称": "Name",
    "回退原因": "Reason for the rollback",
    "回退（尚未下载的证书）": "Roll back (not yet downloaded)",
    "处理建议": "Advice",
    "处理结果": "Resolution",
    "大小": "Size",
    "姓名或名称": "Name",
    "完好": "intact",
    "密码": "Password",
    "密钥已吊销。": "The key was revoked.",
    "密钥编号": "Key id",
    "尚未下载": "Not downloaded yet",
    "尚未生成文件": "No file yet",
    "工作人员": "Staff",
    "工作人员登录": "Staff sign-in",
    "工作台": "Dashboard",
    "已办结": "Closed",
    "已吊销": "Revoked",
    "已由新证书替代": "Replaced by",
    "已被替代为": "Replaced by",
    "已设置": "Enrolled",
    "已超期": "Overdue",
    "已锁定": "Locked",
    "归档时间": "Filed at",
    "归档此案卷": "File this case",
    "归档队列": "Filing queue",
    "当前状态下您没有可办理的操作。": "Nothing you may do in the current state.",
    "待处理": "Open",
    "待处理更正申请": "Open correction requests",
    "待归档案卷": "Cases ready to file",
    "您的角色没有网页功能，请使用命令行工具（例如备份的导出、校验与恢复）。": "Your role has no web pages: use the command line (backup export, verify, restore).",
    "我的电子证照": "My e-certificates",
    "手机": "Mobile",
    "打开归档队列": "Open the queue",
    "批量归档所选案卷": "File the selected cases",
    "按期": "In time",
    "按证件号码查询需要查阅个人信息的权限。": "Searching by ID number needs the permission to read personal data.",
    "接口客户端": "API clients",
    "操作": "Action",
    "操作人": "By",
    "收到时间": "Received",
    "收到时间（留空为现在）": "Received at (empty: now)",
    "收到更正申请后须在一个工作日内答复。错误不在登记簿中的，直接注销并重新签发；错误在登记簿中的，先办理更正登记再重新签发（Z-5）。": "A correction request is answered within one working day. An error not in the "
    "registry book: revoke and re-issue directly; an error in the registry book: "
    "correction registration first, then re-issue (Z-5).",
    "收到更正申请后须在一个工作日内答复（Z-5）。": "Correction requests are answered within one working day (Z-5).",
    "文件SM3指纹": "File SM3 fingerprint",
    "签名证书": "Signing certificate",
    "序列号": "serial",
    "有效期": "valid",
    "签名格式": "Signature format",
    "文件SM3摘要": "File SM3 digest",
    "文件不超过": "At most",
    "文件只用于本次核验，不会保存。": "The file is used for this check only and is not kept.",
    "新增客户端请使用命令行：certarchive client add。密钥只显示一次，系统仅保存其摘要。": "Add clients on the command line: certarchive client add. The key is shown once; "
    "only its digest is stored.",
    "新增用户和设置动态口令请使用命令行：certarchive user add、certarchive user totp。": "Add users and enrol TOTP on the command line: certarchive user add, "
    "certarchive user totp.",
    "无": "None",
    "时间": "Time",
    "是否按期": "In time?",
    "暂不能归档：": "Cannot file yet: ",
    "暂无待处理的更正申请": "No open correction requests",
    "暂无待归档案卷": "No cases ready to file",
    "更正申请": "Correction requests",
    "更正申请已办结。": "The request was closed.",
    "更正申请已登记": "Request recorded",
    "更正草稿": "Correct the draft",
    "更正说明": "What was corrected",
    "替代": "Replaces",
    "替代证书": "Replaces",
    "有效": "Valid",
    "未缴费": "Not paid",
    "权限范围": "Scopes",
    "查询": "Search",
    "查询结果": "Results",
    "核验明细": "Details",
    "核验结论": "Result",
    "案卷": "Case",
    "案卷号": "Case number",
    "案卷号、证书编号、不动产单元号或证件号码": "Case number, serial, unit number or ID number",
    "案卷号/证书编号/单元号/证件号": "Case no., serial, unit no. or ID no.",
    "案卷已归档。": "The case was filed.",
    "正常": "Active",
    "没有可下载的电子证照。": "No e-certificates to download.",
    "没有找到相符的记录": "Nothing found",
    "注销原因": "Cause",
    "注销原因类别": "Cause of revocation",
    "注销并更正重发（已下载的证书）": "Revoke and re-issue corrected (already downloaded)",
    "注销并重发": "Revoke and re-issue",
    "注销日期": "Revoked on",
    "注销证书": "Revoke the certificate",
    "渠道": "Channel",
    "版本": "Version",
    "文件": "File",
    "状态": "State",
    "状态变化": "Change",
    "现行文件SM3指纹": "Current file SM3",
    "用户名": "User name",
    "申请人反映的错误": "The error reported",
    "电子不动产权证书和不动产登记证明由登记机构加盖电子印章，可在线下载、扫码验证。": "Electronic property-right certificates and registration proofs carry the "
    "registration agency's electronic seal: download them online, verify them by QR code.",
    "电子印章": "Electronic seal",
    "电子印章签名": "Seal signatures",
    "电子证照与纸质证书具有同等法律效力。如对证照信息有疑问，请携带身份证件到登记中心窗口咨询。": "E-certificates have the same legal force as paper ones. Questions: bring your ID to "
    "the registration centre's counter.",
    "电子证照状态统计": "Certificates by state",
    "电子证照验证": "E-certificate verification",
    "电子证照验证结果": "Verification result",
    "登录": "Sign in",
    "发证日期": "Issued on",
    "登簿时间": "Recorded at",
    "登记": "Record",
    "登记、归档等工作人员登录业务系统。": "Registrars and archive staff sign in here.",
    "登记更正申请": "Record a correction request",
    "登记机构": "Registration agency",
    "登记申请": "Record the request",
    "登记簿中的证照": "The registry's certificate",
    "登记簿存档": "Registry copy",
    "登记类型": "Registration type",
    "相关案卷号（可选）": "Related case number (optional)",
    "确认": "Confirm",
    "答复期限": "Reply due",
    "签发时间": "Issued at",
    "管理员账户需输入身份验证器应用显示的6位动态口令。": "Administrators give the 6-digit code their authenticator app shows.",
    "系统管理": "Administration",
    "编号": "No.",
    "草稿证书": "Draft certificate",
    "角色": "Role",
    "解锁": "Unlock",
    "证书": "Certificates",
    "证书信息": "Certificate",
    "证书内容（只需修改有误的项目）": "Certificate data (change only what is wrong)",
    "证书回到草稿状态并保留编号，原文件作废；更正后重新签发（H-4.3）。": "The certificate goes back to draft and keeps its serial; its file becomes invalid. "
    "Correct it, then issue it again (H-4.3).",
    "证书均已下载或已领取纸质证书的案卷，应归档（H-2.5）。": "Cases whose certificates were all downloaded or handed over on paper (H-2.5).",
    "证书编号": "Serial",
    "证件号码": "ID number",
    "证件类型": "ID type",
    "证照文件": "Files",
    "扫描件": "Scanned documents",
    "文件名": "File name",
    "下载": "Download",
    "证照验证": "Verify",
    "说明": "Comment",
    "请输入权利人的身份证件号码和缴费后短信收到的下载码。": "Enter the holder's ID number and the download code sent by SMS after payment.",
    "账户已解锁。": "The account was unlocked.",
    "超期": "Late",
    "跳到正文": "Skip to content",
    "返回": "Back",
    "进入": "Open",
    "连续5次输错密码，账户将锁定15分钟。会话闲置15分钟或登录满8小时后需重新登录。": "Five wrong passwords in a row lock the account for 15 minutes. Sessions end after "
    "15 minutes idle or 8 hours.",
    "退出": "Sign out",
    "选择": "Select",
    "选择电子证照PDF文件": "Choose the certificate PDF",
    "重新签发": "Issue again",
    "错误在登记簿中（须先办理更正登记）": "The error is in the registry book (correction registration first)",
    "项目": "Field",
    "领用时间": "Collected at",
    "领证方式": "Delivery",
    "首次下载的时间即为证书的领用时间。多次输错将暂停查询15分钟。": "The first download is the collection time. Repeated wrong attempts pause sign-in "
    "for 15 minutes.",
    "首页": "Home",
    "验证": "Check",
    "验证电子证照文件": "Check a certificate file",
    "（草稿，尚无编号）": "(draft, no serial yet)",
    "潢川县自然资源局": "Huangchuan County Natural Resources Bureau",
}
