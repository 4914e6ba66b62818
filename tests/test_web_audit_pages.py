"""The auditors' pages (H-5.2.4, H-5.2.5; issue #17 point 5): the logs filtered and paged,
an entry's inclusion proof checked on its page, a filtered range exported as JSON lines
that ``certarchive audit verify --checkpoint FILE`` checks offline."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from webtest import TestApp

from certarchive.audit.entry import make_entry
from certarchive.audit.log import get_log
from certarchive.services import audit as audit_services
from certarchive.services import audit_browse
from certarchive.services.audit_browse import PAGE_SIZE
from certarchive.services.context import Context
from certarchive.services.issuance import CHINA
from certarchive.services.permissions import SYSTEM
from tests.test_web_support import Site, site_fixture  # noqa: F401

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def sequence(site: Site) -> None:
    audit_services.sequence_logs(site.runtime)


def auditor(site: Site) -> TestApp:
    web = site.web()
    site.login(web, "auditor")
    return web


def test_filter_paginate_and_count(site: Site) -> None:
    site.issued()
    sequence(site)
    while get_log_size(site) <= PAGE_SIZE:  # more than one page
        site.issued()
        sequence(site)
    web = auditor(site)
    everything = web.get("/staff/audit")
    size = get_log_size(site)
    assert f"日志共 {size} 条" in everything.text
    assert everything.text.count("查看与验证") == PAGE_SIZE  # a full first page
    issued = web.get("/staff/audit", {"action": "certificate.issue"})
    count = int(re.search(r"共 (\d+) 条相符", issued.text).group(1))
    assert count >= 2
    upper = web.get("/staff/audit", {"action": "CERTIFICATE.ISSUE"})  # any case
    assert f"共 {count} 条相符" in upper.text
    rows = re.findall(r'class="mono wrap-anywhere">([^<]+)</td>', issued.text)
    assert rows and all("certificate.issue" in row for row in rows)
    pages = -(-size // PAGE_SIZE)
    second = web.get("/staff/audit", {"page": "2"})
    assert f"第 2 / {pages} 页" in second.text and 'rel="prev"' in second.text
    # newest first, and page 2 continues where page 1 stopped
    first_seqs = [int(s) for s in re.findall(r'<td data-label="序号">(\d+)</td>', everything.text)]
    second_seqs = [int(s) for s in re.findall(r'<td data-label="序号">(\d+)</td>', second.text)]
    assert first_seqs == sorted(first_seqs, reverse=True)
    assert second_seqs[0] == first_seqs[-1] - 1
    by_actor = web.get("/staff/audit", {"actor": "client:upstream", "object": "case:"})
    actors = re.findall(r'<td data-label="操作者" class="wrap-anywhere">([^<]+)', by_actor.text)
    assert actors and {a.strip() for a in actors} == {"client:upstream"}
    # the browsing itself is audited
    assert any(e["action"] == "audit.browse" for e in site.entries())


def get_log_size(site: Site) -> int:
    return site.runtime.run(lambda ctx: get_log(ctx.conn, "audit").size, None)


def test_a_bad_filter_is_named_inline_with_the_input_kept(site: Site) -> None:
    web = auditor(site)
    bad = web.get(
        "/staff/audit", {"from": "2026-13-40", "to": "yesterday", "actor": "zhao"}, status=422
    )
    assert "筛选条件无效" in bad.text and "日期格式为 年-月-日" in bad.text
    assert 'value="2026-13-40"' in bad.text and 'value="zhao"' in bad.text
    backwards = web.get("/staff/audit", {"from": "2026-05-02", "to": "2026-05-01"}, status=422)
    assert "结束日期早于开始日期" in backwards.text
    assert "没有这个登记机构" in web.get("/staff/audit", {"agency": "nowhere"}, status=422).text
    assert "页码须为正整数" in web.get("/staff/audit", {"page": "0"}, status=422).text
    web.get("/staff/audit", {"log": "other"}, status=422)


def test_time_range_and_agency(site: Site) -> None:
    site.issued()
    sequence(site)
    web = auditor(site)
    none = web.get("/staff/audit", {"from": "2000-01-01", "to": "2000-12-31"})
    assert "共 0 条相符" in none.text and "没有相符的条目" in none.text
    # the day of the newest entry: from that day some match, from the next day none
    newest = site.entries()[-1]["time"]
    day = datetime.fromisoformat(newest).astimezone(CHINA).date()
    some = web.get("/staff/audit", {"from": day.isoformat()})
    assert int(re.search(r"共 (\d+) 条相符", some.text).group(1)) > 0
    later = web.get("/staff/audit", {"from": (day + timedelta(days=1)).isoformat()})
    assert "共 0 条相符" in later.text
    agency = site.runtime.settings.agency.name
    county = site.runtime.run(
        lambda ctx: ctx.registry.agencies[agency].settings["county_code"], None
    )
    mine = web.get("/staff/audit", {"agency": agency, "action": "case."})
    objects = re.findall(r'<td data-label="对象" class="wrap-anywhere">([^<]+)', mine.text)
    assert objects and all(county in o for o in objects)


def test_an_entry_shows_its_proof_verified_and_a_tampered_one_fails(site: Site) -> None:
    site.issued()
    sequence(site)
    web = auditor(site)
    page = web.get("/staff/audit/audit/3")
    assert "已验证" in page.text and "未通过验证" not in page.text
    assert "证明路径" in page.text
    # an entry altered in the database after it was sequenced fails, naming why

    def tamper(ctx: Context) -> bytes:
        log = get_log(ctx.conn, "audit")
        record = dict(log.entries[3])
        original = record["entry"]
        record["entry"] = original.replace(b'"result":"ok"', b'"result":"refused"')
        assert record["entry"] != original
        log.entries[3] = record
        return original

    original = site.runtime.run(tamper, None)
    failed = web.get("/staff/audit/audit/3")
    assert "未通过验证" in failed.text and "条目内容与其叶哈希不符" in failed.text

    def restore(ctx: Context) -> None:
        log = get_log(ctx.conn, "audit")
        log.entries[3] = dict(log.entries[3], entry=original)

    site.runtime.run(restore, None)
    assert "已验证" in web.get("/staff/audit/audit/3").text
    web.get("/staff/audit/audit/999999", status=404)
    web.get("/staff/audit/other/1", status=404)
    web.get("/staff/audit/audit/x1", status=404)


def test_export_verifies_offline_and_a_changed_line_fails(
    site: Site, tmp_path: Path, cli_run
) -> None:
    site.issued()
    sequence(site)
    web = auditor(site)
    exported = web.get("/staff/audit/export", {"action": "certificate."})
    assert exported.content_type == "application/x-ndjson"
    lines = exported.text.splitlines()
    header = json.loads(lines[0])
    assert header["format"] == "certarchive-audit-export/1" and header["checkpoint"]["size"] > 0
    assert len(lines) > 2 and all(
        "certificate." in json.loads(x)["entry"]["action"] for x in lines[1:]
    )
    good = tmp_path / "range.jsonl"
    good.write_text(exported.text, encoding="utf-8")
    result = cli_run("audit", "verify", "--checkpoint", str(good))
    assert result.exit_code == 0, result.output
    assert f"{len(lines) - 1} entries verified" in result.output
    changed = json.loads(lines[1])
    changed["entry"]["actor"] = "someone-else"
    bad = tmp_path / "changed.jsonl"
    bad.write_text(
        "\n".join([lines[0], json.dumps(changed, ensure_ascii=False), *lines[2:]]) + "\n"
    )
    refused = cli_run("audit", "verify", "--checkpoint", str(bad))
    assert refused.exit_code == 1 and "条目内容与其叶哈希不符" in refused.output
    assert any(e["action"] == "audit.export" for e in site.entries())


def test_only_auditors_and_admins_reach_the_pages(site: Site) -> None:
    for role, status in (("registrar", 403), ("archivist", 403), ("backup_operator", 403)):
        web = site.web()
        site.login(web, role)
        web.get("/staff/audit", status=status)
        web.get("/staff/audit/export", status=status)
    assert site.web().get("/staff/audit").status_int == 302  # to the sign-in


def test_an_older_unmasked_entry_is_exported_masked_and_its_path_still_verifies(
    site: Site, tmp_path: Path, cli_run: Any
) -> None:
    """An entry a version before masking wrote with an ID number (H-5.2.3) is shown and
    exported masked; the export marks it, and the offline check proves its path only."""
    id_number = "411524198811230021"

    def log_as_before(ctx: Context) -> None:
        entry = make_entry(time=ctx.now().isoformat(), action="refused.api.certificate")
        get_log(ctx.conn, "sharing").pending["0-older"] = {
            **entry,
            "object": f"certificate:{id_number}",
        }

    site.runtime.run(log_as_before, SYSTEM)
    sequence(site)
    web = auditor(site)
    page = web.get("/staff/audit", {"log": "sharing", "action": "refused.api.certificate"})
    assert "4115**********0021" in page.text and id_number not in page.text
    seq = int(re.search(r'<td data-label="序号">(\d+)</td>', page.text).group(1))
    assert "已验证" in web.get(f"/staff/audit/sharing/{seq}").text  # checked on the exact entry
    exported = web.get("/staff/audit/export", {"log": "sharing", "object": "4115**"}).text
    assert id_number not in exported
    (line,) = [json.loads(x) for x in exported.splitlines()[1:]]
    assert line["masked"] is True
    path = tmp_path / "sharing.jsonl"
    path.write_text(exported, encoding="utf-8")
    checked = cli_run("audit", "verify", "--checkpoint", str(path))
    assert checked.exit_code == 0 and "(1 masked: path only)" in checked.output


def test_an_export_too_large_is_refused_in_words(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    site.issued()
    sequence(site)
    monkeypatch.setattr(audit_browse, "MAX_EXPORT", 3)
    refused = auditor(site).get("/staff/audit/export", status=422)
    assert "一次最多导出3条，请缩小范围" in refused.text
    assert refused.content_type == "text/html"
