"""Translations (#17 point 7): Chinese msgids in the code, English in the gettext catalog.

The catalog is checked against the code the way ``make messages`` reads it (Babel's
extraction with babel.cfg: the Python sources and the jinja2 templates), so a text added
without its English fails here; the compiled ``.mo`` must match the ``.po``; no
``"中文 / English"`` literal may come back (merges of older branches).  The web follows
the ``lang`` cookie, else ``Accept-Language``, else Chinese; the API's ``message`` too.
"""

from __future__ import annotations

import ast
import gettext
import pickle
import re
from pathlib import Path
from urllib.parse import quote

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from certarchive.i18n import Message, _, bilingual, in_language
from tests.test_web_support import Site, site_fixture  # noqa: F401 - the fixture

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src/certarchive"
PO = PACKAGE / "locale/en/LC_MESSAGES/certarchive.po"
MO = PO.with_suffix(".mo")
PLACEHOLDER = re.compile(r"\$\{(\w+)\}")
HAN = re.compile(r"[\u3400-\u9fff]")
#: The OpenAPI document is a developers' reference, kept in both languages on purpose.
BILINGUAL_DOCUMENTS = {"views/openapi.py", "views/openapi_backups.py"}
KEEP = "# i18n: keep"
#: Chinese, " / " (or "/ " after a full-width character), English.
BILINGUAL = re.compile(
    r"[\u3400-\u9fff][^/]*(?: /|[\u3000-\u303f\uff00-\uffef]/) "
    r"(?:[\"'(\[]?[A-Za-z{$]|[\u3400-\u9fff]+ [A-Za-z])"
)


def catalog() -> dict[str, tuple[str, bool]]:
    with PO.open("rb") as handle:
        return {m.id: (m.string, m.fuzzy) for m in read_po(handle) if m.id}


def extracted() -> dict[str, list[str]]:
    """msgid -> where it is used, exactly as ``make messages`` extracts it."""
    with (ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    found: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(PACKAGE), method_map, options_map
    ):
        ids = message if isinstance(message, tuple) else (message,)
        for msgid in ids:
            if msgid:
                found.setdefault(msgid, []).append(f"{filename}:{lineno}")
    return found


def test_every_message_in_the_code_has_its_english() -> None:
    used, known = extracted(), catalog()
    assert len(used) > 500, "the extraction found too little: is babel.cfg right?"
    missing = {msgid: where[0] for msgid, where in used.items() if msgid not in known}
    assert not missing, f"not in {PO.name} (run `make messages`, then translate): {missing}"
    untranslated = sorted(m for m in used if not known[m][0] or known[m][1])
    assert not untranslated, f"empty or fuzzy English in {PO.name}: {untranslated}"


def test_every_catalog_entry_is_translated_and_keeps_its_placeholders() -> None:
    for msgid, (english, fuzzy) in catalog().items():
        assert english and not fuzzy, msgid
        assert HAN.search(msgid), f"a msgid is the Chinese text: {msgid!r}"
        extra = set(PLACEHOLDER.findall(english)) - set(PLACEHOLDER.findall(msgid))
        assert not extra, f"{msgid!r}: the English names values the Chinese lacks: {extra}"


def test_the_compiled_catalog_is_the_current_one() -> None:
    assert MO.exists(), f"{MO} is missing: `make translations` compiles it"
    with MO.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)._catalog  # type: ignore[attr-defined]
    wanted = {msgid: english for msgid, (english, _fuzzy) in catalog().items()}
    stale = {m for m in wanted if compiled.get(m) != wanted[m]}
    assert not stale, f"{MO.name} is older than {PO.name}: run `make translations` ({stale})"


def _bilingual_literals(path: Path) -> list[str]:
    source = path.read_text()
    lines = source.splitlines()
    tree = ast.parse(source)
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):  # its parts are checked as one text
            skip |= {id(inner) for inner in ast.walk(node) if inner is not node}
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            skip.add(id(body[0].value))  # a docstring
        if isinstance(node, ast.keyword) and node.arg == "description":
            skip |= {id(inner) for inner in ast.walk(node.value)}
    found = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
        elif isinstance(node, ast.JoinedStr):
            text = "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
        else:
            continue
        if BILINGUAL.search(text):
            marked = lines[max(node.lineno - 2, 0) : node.end_lineno]
            if not any(KEEP in line for line in marked):
                where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
                found.append(f"{where}:{node.lineno}: {text[:50]!r}")
    return found


def test_no_bilingual_literal_is_left_in_the_sources() -> None:
    """Each message exists once, in Chinese, its English in the catalog: a "中文 / English"
    literal (say from a merged branch) fails here; /tmp-style conversion or ``_()``."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if str(path.relative_to(PACKAGE)) not in BILINGUAL_DOCUMENTS:
            found += _bilingual_literals(path)
    assert not found, found
    table = ast.parse((PACKAGE / "views/i18n.py").read_text())
    names = {t.id for n in ast.walk(table) for t in ast.walk(n) if isinstance(t, ast.Name)}
    assert "EN" not in names, "a hand-kept EN table is back in views/i18n.py"


def test_the_check_finds_a_bilingual_literal(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        'X = f"证书 {serial} 不存在 / no certificate {serial}"\nY = _("中文")\n'
        'Z = "单独所有须恰有一个权利人 / 单独所有 needs exactly one holder"\n'
        'W = "份额须写作1/2或30%"\n'
    )
    assert len(_bilingual_literals(sample)) == 2


def test_a_message_reads_as_chinese_and_translates_with_its_values() -> None:
    message = _("证书 ${serial} 不存在", mapping={"serial": "X-1"})
    assert message == "证书 X-1 不存在" and str(message) == "证书 X-1 不存在"
    assert message.msgid == "证书 ${serial} 不存在" and message.domain == "certarchive"
    kept = pickle.loads(pickle.dumps(message))  # noqa: S301 - our own bytes
    assert kept == "证书 X-1 不存在" and isinstance(kept, Message)  # a stored comment
    assert in_language(kept, "en") == in_language(message, "en")
    assert in_language(_("未找到"), "en") == "Not found"
    assert in_language(_("未找到"), "zh") == "未找到"
    # a nested message in the values is translated too
    nested = _("无法启动（${exc}）", mapping={"exc": _("未找到")})
    assert isinstance(nested, Message)
    assert in_language(nested, "zh") == "无法启动（未找到）"
    assert in_language(nested, "en") == "cannot start: Not found"
    # stored plain text (a comment kept in the registry) is looked up as a msgid
    assert in_language("证书已签发。", "en") == "The certificate was issued."
    assert in_language("不在目录中的文字", "en") == "不在目录中的文字"
    assert bilingual(_("未找到")) == "未找到 / Not found"
    # a comment stored before the catalogs ("中文 / English") shows the reader's half
    stored = "缴费后自动签发 / issued on payment"
    assert in_language(stored, "zh") == "缴费后自动签发"
    assert in_language(stored, "en") == "issued on payment"
    assert bilingual(stored) == stored
    assert in_language("份额 1/2", "en") == "份额 1/2"


def test_pages_follow_the_cookie_then_accept_language_then_chinese(site: Site) -> None:
    web = site.web()
    assert "工作人员登录" in web.get("/login").text
    english = web.get("/login", headers={"Accept-Language": "en-GB,en;q=0.9,zh;q=0.5"}).text
    assert "Staff sign-in" in english and "工作人员登录" not in english
    assert "工作人员登录" in web.get("/login", headers={"Accept-Language": "zh-CN"}).text
    assert "工作人员登录" in web.get("/login", headers={"Accept-Language": "fr"}).text
    web.get("/language/zh")  # the reader's choice wins over the browser's
    assert "工作人员登录" in web.get("/login", headers={"Accept-Language": "en"}).text
    web.get("/language/en")
    assert "Staff sign-in" in web.get("/login", headers={"Accept-Language": "zh"}).text


def test_the_api_message_follows_the_request_language(site: Site) -> None:
    missing = "/api/v1/certificates/" + quote("豫(2026)潢川县不动产权第9999999号")
    headers = site.headers("upstream")
    chinese = site.web().get(missing, headers=headers, status=404).json
    assert chinese["error"] == "not_found" and HAN.search(chinese["message"])
    english = site.web().get(
        missing, headers={**headers, "Accept-Language": "en"}, status=404
    ).json
    assert english["error"] == "not_found" and not HAN.search(english["message"])
    assert english["message"] == in_language(chinese["message"], "en")
    web = site.web()
    web.get("/language/en")
    assert not HAN.search(web.get(missing, headers=headers, status=404).json["message"])


def test_field_problems_are_translated_too(site: Site) -> None:
    doc = site.document()
    doc["delivery"] = "pigeon"
    refused = site.web().post_json(
        "/api/v1/cases",
        doc,
        headers={**site.headers("upstream"), "Accept-Language": "en"},
        status=422,
    ).json
    assert "must be one of" in refused["fields"]["delivery"], refused
    assert not HAN.search(refused["message"])


def test_english_error_pages_have_no_chinese_message(site: Site) -> None:
    page = site.web().get("/v/" + "A" * 32, headers={"Accept-Language": "en"}, status=404)
    main = re.search(r"<main.*</main>", page.text, re.S)
    assert main, page.text
    text = re.sub(r"<[^>]+>", " ", main.group(0))
    assert "Not found" in text and "no such certificate" in text
    assert not HAN.search(text), text
