"""Messages to holders (Z-4) through real processes standing for the channels: an SMS
gateway and the WeChat platform (tests/gateways.py, HTTP servers of their own), and an
SMTP server (aiosmtpd).  Retries with back-off, the same id on every attempt, a repeat
only where the channel's answer was lost, nothing lost across a restart, undeliverable
after a day, and nothing personal in clear."""

from __future__ import annotations

import json
import mailbox
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from certarchive.config import load_settings
from certarchive.messaging.delivery import Courier
from certarchive.messaging.outbox import enqueue
from certarchive.services import cases
from certarchive.services.audit import sequence_logs
from certarchive.services.notifications import delivery_status
from certarchive.services.permissions import SYSTEM
from certarchive.services.runtime import Runtime
from certarchive.services.setup import initialise
from certarchive.validation.samples import sample_case
from tests.conftest import file_settings, log_entries
from tests.servers import free_port
from tests.test_web_support import confirm, make_site

ROOT = Path(__file__).resolve().parents[1]
PAYMENT = {"receipt_no": "R-1", "amount": "80.00", "paid_at": "2026-11-21T09:00:00+08:00"}


def _wait_for(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            assert process.poll() is None, "the server process ended"
            assert time.monotonic() < deadline, "the server process did not start"
            time.sleep(0.05)


@contextmanager
def gateway(kind: str, folder: Path, mode: str = "ok") -> Iterator[str]:
    """A gateway process of ``kind``; yields its base URL."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "mode").write_text(mode)
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.gateways", kind, str(port), str(folder)], cwd=ROOT
    )
    try:
        _wait_for(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def received(folder: Path) -> list[dict[str, Any]]:
    path = folder / "received"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


class Clock:
    """The courier's clock, moved on by the test (back-off waits are minutes)."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC) + timedelta(minutes=1)  # after what the test queues

    def __call__(self) -> datetime:
        return self.now

    def forward(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def open_registry(var: Path, **messaging: str) -> Runtime:
    settings = load_settings(file_settings(var, **messaging))
    runtime = Runtime.open(settings, create_keys=True)
    runtime.run(initialise, SYSTEM, settings.agency)
    return runtime


def sms_settings(url: str, **more: str) -> dict[str, str]:
    return {
        "certarchive.sms_gateway": url,
        "certarchive.sms_gateway_key": "gateway-secret",
        "certarchive.messages_timeout": "2",
        **more,
    }


def phones_of(document: dict[str, Any]) -> set[str]:
    return {
        holder["phone"]
        for cert in document["certificates"]
        for holder in cert["holders"]
        if holder.get("phone")
    }


def test_sms_retries_with_the_same_id_and_survives_a_restart(tmp_path: Path) -> None:
    folder = tmp_path / "sms"
    clock = Clock()
    document = sample_case(7)
    with gateway("sms", folder, mode="fail") as url:
        runtime = open_registry(tmp_path / "var", **sms_settings(url))
        runtime.run(cases.record_case, SYSTEM, document)
        queued = runtime.run(delivery_status, SYSTEM, document["case_no"])
        assert len(queued) == len(phones_of(document)) > 0
        assert {m["template"] for m in queued} == {"payment_notice"}
        counts = Courier(runtime, runtime.settings.messaging, clock).deliver_due()
        assert counts == {"sent": 0, "retry": len(queued), "undeliverable": 0}
        first = received(folder)
        assert {r["body"]["to"] for r in first} == phones_of(document)
        assert {r["authorization"] for r in first} == {"Bearer gateway-secret"}
        runtime.close()  # the server stops with every message still to send

        (folder / "mode").write_text("ok")
        runtime = open_registry(tmp_path / "var", **sms_settings(url))
        courier = Courier(runtime, runtime.settings.messaging, clock)
        assert courier.deliver_due() == {}  # not due yet: back-off
        clock.forward(seconds=31)
        assert courier.deliver_due()["sent"] == len(queued)
        clock.forward(hours=2)
        assert courier.deliver_due() == {}  # sent once accepted: never again
        runtime.close()
    ids = [r["body"]["id"] for r in received(folder)]
    assert sorted(ids) == sorted(ids[: len(queued)] * 2)  # each id twice: refused, accepted
    assert [r["mode"] for r in received(folder)][len(queued) :] == ["ok"] * len(queued)


def test_a_message_is_repeated_only_where_its_answer_was_lost(tmp_path: Path) -> None:
    folder = tmp_path / "sms"
    clock = Clock()
    with gateway("sms", folder, mode="lost") as url:
        runtime = open_registry(tmp_path / "var", **sms_settings(url))
        runtime.run(cases.record_case, SYSTEM, sample_case(3))
        courier = Courier(runtime, runtime.settings.messaging, clock)
        assert courier.deliver_due()["retry"] >= 1
        (folder / "mode").write_text("ok")
        clock.forward(seconds=31)
        sent = courier.deliver_due()["sent"]
        clock.forward(hours=3)
        assert courier.deliver_due() == {}
        sequence_logs(runtime)
        entries = runtime.run(log_entries, SYSTEM)
        runtime.close()
    records = received(folder)
    assert len(records) == 2 * sent
    lost = [r["body"]["id"] for r in records if r["mode"] == "lost"]
    repeated = [r["body"]["id"] for r in records if r["mode"] == "ok"]
    assert lost == repeated  # the gateway can drop the repeat: same id
    answers = [e["detail"]["answer"] for e in entries if e["action"] == "message.retry"]
    assert answers and set(answers) == {"no answer"}


def test_a_silent_gateway_times_out_and_a_day_later_the_message_is_undeliverable(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "sms"
    clock = Clock()
    document = sample_case(9)  # two holders with phones
    with gateway("sms", folder, mode="silent") as url:
        runtime = open_registry(
            tmp_path / "var", **sms_settings(url, **{"certarchive.messages_give_up_hours": "1"})
        )
        runtime.run(cases.record_case, SYSTEM, document)
        courier = Courier(runtime, runtime.settings.messaging, clock)
        started = time.monotonic()
        assert courier.deliver_due()["retry"] >= 1
        assert time.monotonic() - started < 20  # the 2 s timeout, per message
        (folder / "mode").write_text("fail")
        clock.forward(hours=1, seconds=1)
        assert courier.deliver_due()["undeliverable"] >= 1
        status = runtime.run(delivery_status, SYSTEM, document["case_no"])
        runtime.close()
    assert {m["state"] for m in status} == {"undeliverable"}
    assert all(m["last_answer"] == "503" for m in status)


def test_nothing_personal_is_stored_or_logged_in_clear(tmp_path: Path) -> None:
    folder = tmp_path / "sms"
    document = sample_case(6)
    with gateway("sms", folder) as url:
        runtime = open_registry(tmp_path / "var", **sms_settings(url))
        runtime.run(cases.record_case, SYSTEM, document)
        paid = runtime.run(cases.confirm_payment, SYSTEM, document["case_no"], PAYMENT)
        clock = Clock()
        Courier(runtime, runtime.settings.messaging, clock).deliver_due()
        sequence_logs(runtime)
        entries = json.dumps(runtime.run(log_entries, SYSTEM), ensure_ascii=False)
        runtime.close()
    codes = [c["download_code"] for c in paid["certificates"]]
    ready = [r["body"] for r in received(folder) if r["body"]["template"] == "certificate_ready"]
    assert sorted(r["params"]["download_code"] for r in ready) == sorted(
        code for code in codes for _ in phones_of(document)
    )
    stored = b"".join(p.read_bytes() for p in (tmp_path / "var").glob("*.fs"))
    for secret in [*phones_of(document), *codes]:
        assert secret.encode() not in stored
        assert secret not in entries


def test_email_through_a_real_smtp_server(tmp_path: Path) -> None:
    port = free_port()
    box = tmp_path / "maildir"
    smtp = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}",
         "-c", "aiosmtpd.handlers.Mailbox", str(box)],
    )  # fmt: skip
    try:
        _wait_for(port, smtp)
        runtime = open_registry(
            tmp_path / "var",
            **{
                "certarchive.smtp_host": "127.0.0.1",
                "certarchive.smtp_port": str(port),
                "certarchive.mail_from": "bdc@example.gov.cn",
            },
        )

        def queue(ctx: Any) -> str:
            message = enqueue(
                ctx.registry.messages,
                ctx.keyring,
                channel="email",
                template="download_code",
                recipient="holder@example.cn",
                params={"agency": "潢川县自然资源局", "serials": "豫(2026)潢川县不动产权第1号",
                        "download_code": "ABCDEFGHJK"},
                case_no=None,
                now=ctx.now(),
            )  # fmt: skip
            return message.id

        message_id = runtime.run(queue, SYSTEM)
        assert Courier(runtime, runtime.settings.messaging, Clock()).deliver_due()["sent"] == 1
        runtime.close()
    finally:
        smtp.terminate()
        smtp.wait(timeout=10)
    (mail,) = list(mailbox.Maildir(str(box)))
    assert mail["To"] == "holder@example.cn" and message_id in mail["Message-ID"]
    body = mail.get_payload(decode=True).decode("utf-8")
    assert "ABCDEFGHJK" in body and "原下载码已失效" in body


def test_wechat_template_messages_renew_a_refused_token(tmp_path: Path) -> None:
    folder = tmp_path / "wechat"
    with gateway("wechat", folder) as url:
        runtime = open_registry(
            tmp_path / "var",
            **{
                "certarchive.wechat_api": url,
                "certarchive.wechat_appid": "wx-app",
                "certarchive.wechat_secret": "wx-secret",
            },
        )

        def queue(ctx: Any, n: int) -> None:
            enqueue(
                ctx.registry.messages,
                ctx.keyring,
                channel="wechat",
                template="certificate_ready",
                recipient=f"openid-{n}",
                params={"agency": "潢川县自然资源局", "case_no": "2026-411526-000001",
                        "serials": "豫(2026)潢川县不动产权第1号", "download_code": "ABCDEFGHJK"},
                case_no=None,
                now=ctx.now(),
            )  # fmt: skip

        courier = Courier(runtime, runtime.settings.messaging, Clock())
        runtime.run(queue, SYSTEM, 1)
        assert courier.deliver_due()["sent"] == 1
        (folder / "stale").write_text("token-1")  # the platform revokes the cached token
        runtime.run(queue, SYSTEM, 2)
        assert courier.deliver_due()["sent"] == 1
        runtime.close()
    sent = received(folder)
    assert [r["token"] for r in sent] == ["token-1", "token-2"]
    assert [r["body"]["touser"] for r in sent] == ["openid-1", "openid-2"]
    assert sent[0]["body"]["template_id"] == "certificate_ready"
    assert "ABCDEFGHJK" in sent[0]["body"]["data"]["first"]["value"]


def test_holders_recover_a_code_by_id_number_and_phone(tmp_path: Path) -> None:
    """CONTRACT.md ``POST /api/v1/holder/code``: 202 whatever the pair; the right pair gets
    a new code by SMS and the earlier code stops working; limited per ID number."""
    folder = tmp_path / "sms"
    with gateway("sms", folder) as url:
        site = make_site(tmp_path / "var", **sms_settings(url))
        try:
            doc, paid = site.issued()
            holder = doc["certificates"][0]["holders"][0]
            old_code = paid["certificates"][0]["download_code"]
            web = site.web()
            wrong = {"id_number": holder["id_number"], "phone": "13900000000"}
            assert web.post_json("/api/v1/holder/code", wrong, status=202).json["accepted"]
            right = {"id_number": holder["id_number"], "phone": holder["phone"]}
            assert web.post_json("/api/v1/holder/code", right, status=202).json["accepted"]
            Courier(site.runtime, site.runtime.settings.messaging, Clock()).deliver_due()
            codes = [
                r["body"]["params"]["download_code"]
                for r in received(folder)
                if r["body"]["template"] == "download_code"
            ]
            assert len(codes) == 1 and codes[0] != old_code  # only the right pair got one
            session = {"id_number": holder["id_number"], "download_code": old_code}
            web.post_json("/api/v1/holder/session", session, status=401)
            session["download_code"] = codes[0]
            web.post_json("/api/v1/holder/session", session, status=201)
            web.post_json("/api/v1/holder/code", right, status=202)
            web.post_json("/api/v1/holder/code", right, status=429)  # 3 an hour per ID number
            bad = web.post_json("/api/v1/holder/code", {"id_number": "x", "phone": "1"}, status=422)
            assert "phone" in bad.json["fields"]
        finally:
            site.runtime.close()


def test_a_registrar_resends_a_code_at_the_counter(tmp_path: Path) -> None:
    folder = tmp_path / "sms"
    with gateway("sms", folder) as url:
        site = make_site(tmp_path / "var", **sms_settings(url))
        try:
            doc, paid = site.issued()
            serial = paid["certificates"][0]["serial"]
            staff = site.web()
            site.login(staff, "registrar")
            page = staff.get(f"/staff/certificates/{quote(serial)}")
            form = next(f for f in page.forms.values() if f.action.endswith("/code"))
            asked = form.submit()  # the confirmation page names what will happen
            assert "原下载码随即失效" in asked.text
            form = next(f for f in asked.forms.values() if "confirm" in f.fields)
            refused = form.submit(status=422)  # the in-person check not confirmed
            assert "当面核验" in refused.text
            confirm(refused, checked="yes").follow()
            Courier(site.runtime, site.runtime.settings.messaging, Clock()).deliver_due()
            sent = [r["body"] for r in received(folder) if r["body"]["template"] == "download_code"]
            assert [m["to"] for m in sent] == [doc["certificates"][0]["holders"][0]["phone"]]
            actions = [e["action"] for e in site.entries()]
            assert "certificate.code.resend" in actions
            case = staff.get(f"/staff/cases/{doc['case_no']}")
            assert "通知权利人" in case.text and "下载码" in case.text and "已送达" in case.text
            assert doc["certificates"][0]["holders"][0]["phone"] not in case.text
        finally:
            site.runtime.close()


@pytest.mark.parametrize(
    ("setting", "value", "named"),
    [
        ("certarchive.sms_gateway", "ftp://gateway", "sms_gateway"),
        ("certarchive.messages_timeout", "-1", "messages_timeout"),
        ("certarchive.message_templates", "/nonexistent.ini", "message_templates"),
    ],
)
def test_bad_messaging_settings_stop_start_up(
    tmp_path: Path, setting: str, value: str, named: str
) -> None:
    from certarchive.config import ConfigError

    raw = file_settings(tmp_path / "var", **{**sms_settings("http://127.0.0.1:9"), setting: value})
    with pytest.raises(ConfigError, match=named):
        load_settings(raw)


def test_a_template_with_an_unknown_placeholder_is_refused(tmp_path: Path) -> None:
    from certarchive.config import ConfigError

    templates = tmp_path / "messages.ini"
    templates.write_text("[payment_notice]\ntext = 您好 $name，案卷 $case_no\n", encoding="utf-8")
    raw = file_settings(tmp_path / "var", **{"certarchive.message_templates": str(templates)})
    with pytest.raises(ConfigError, match=r"payment_notice.*\$name"):
        load_settings(raw)


def test_a_holder_is_told_by_every_channel_they_can_be_reached_by(tmp_path: Path) -> None:
    """The payment notice of a later case reaches the holder by SMS (with the fee), by
    e-mail at the address of the case document, and by WeChat at the openid they bound."""
    port = free_port()
    smtp = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}",
         "-c", "aiosmtpd.handlers.Mailbox", str(tmp_path / "maildir")],
    )  # fmt: skip
    try:
        _wait_for(port, smtp)
        with gateway("sms", tmp_path / "sms") as sms, gateway("wechat", tmp_path / "wx") as wx:
            settings = {
                **sms_settings(sms),
                "certarchive.smtp_host": "127.0.0.1",
                "certarchive.smtp_port": str(port),
                "certarchive.mail_from": "bdc@example.gov.cn",
                "certarchive.wechat_api": wx,
                "certarchive.wechat_appid": "wx-app",
                "certarchive.wechat_secret": "wx-secret",
            }
            site = make_site(tmp_path / "var", **settings)
            try:
                doc, paid = site.issued()
                holder = doc["certificates"][0]["holders"][0]
                token = site.holder_token(doc, paid)
                web = site.web()
                bearer = {"Authorization": f"Bearer {token}"}
                web.post_json("/api/v1/holder/wechat", {"openid": "x"}, headers=bearer, status=422)
                web.post_json(
                    "/api/v1/holder/wechat", {"openid": "oWx_holder_0001"}, headers=bearer,
                    status=204,
                )  # fmt: skip
                later = site.document(0)
                later["fee"] = "80.00"
                later["certificates"][0]["holders"] = [
                    {**holder, "email": "holder@example.cn", "share": None}
                ]
                later["certificates"][0]["co_ownership"] = "单独所有"
                later["certificates"][0]["holders"][0].pop("share")
                site.record(later)
                Courier(site.runtime, site.runtime.settings.messaging, Clock()).deliver_due()
                status = site.run(delivery_status, later["case_no"])
            finally:
                site.runtime.close()
            texts = [r["body"] for r in received(tmp_path / "sms")]
            notice = [b for b in texts if b["template"] == "payment_notice"]
            assert notice[-1]["params"]["amount_text"] == "应缴登记费80.00元，"
            wechat = [r["body"] for r in received(tmp_path / "wx")]
            assert wechat[-1]["touser"] == "oWx_holder_0001"
            assert "应缴登记费80.00元" in wechat[-1]["data"]["first"]["value"]
    finally:
        smtp.terminate()
        smtp.wait(timeout=10)
    assert {m["channel"] for m in status} == {"sms", "email", "wechat"}
    assert {m["state"] for m in status} == {"sent"}
    (mail,) = list(mailbox.Maildir(str(tmp_path / "maildir")))
    assert mail["To"] == "holder@example.cn"
    assert later["case_no"] in mail.get_payload(decode=True).decode("utf-8")
