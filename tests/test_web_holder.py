"""Holders (H-2.2, Z-4): sign-in with ID number and download code, their own certificates
only, the collection time set exactly once even when two downloads race, rate limits and
lockout, the holder's pages."""

from __future__ import annotations

import threading
import time
import urllib.request
from datetime import timedelta
from urllib.parse import quote

from waitress.server import create_server
from webtest import TestApp

from certarchive.services.context import utc_now
from tests.test_web_support import Site, at, csrf_of, site_fixture, web_fixture  # noqa: F401


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def pdf_url(serial: str) -> str:
    return f"/api/v1/holder/certificates/{quote(serial)}/pdf"


def sign_in(web: TestApp, id_number: str, code: str, status: int | str = "*") -> object:
    return web.post_json(
        "/api/v1/holder/session", {"id_number": id_number, "download_code": code}, status=status
    )


def test_sign_in_list_and_download_once(site: Site) -> None:
    doc, paid = site.issued()
    serial = paid["certificates"][0]["serial"]
    holder = doc["certificates"][0]["holders"][0]
    response = sign_in(
        site.web(), holder["id_number"].lower(), paid["certificates"][0]["download_code"].lower()
    )
    assert response.status_int == 201 and response.json["certificates"] >= 1
    token = response.json["token"]
    listed = site.web().get("/api/v1/holder/certificates", headers=bearer(token)).json
    assert serial in [c["serial"] for c in listed["certificates"]]
    first = site.web().get(pdf_url(serial), headers=bearer(token))
    assert first.body.startswith(b"%PDF-") and first.headers["Cache-Control"] == "no-store"
    assert first.headers["Content-Disposition"].startswith('attachment; filename="certificate-')
    collected = (
        site.web().get(f"/api/v1/certificates/{quote(serial)}", headers=site.headers("bank")).json
    )
    assert collected["state"] == "downloaded" and collected["first_downloaded_at"]
    later = site.web().get(pdf_url(serial), headers=bearer(token))
    assert later.body == first.body
    again = (
        site.web().get(f"/api/v1/certificates/{quote(serial)}", headers=site.headers("bank")).json
    )
    assert again["first_downloaded_at"] == collected["first_downloaded_at"]
    entries = [e for e in site.entries() if e["object"] == f"certificate:{serial}"]
    assert [e["action"] for e in entries].count("certificate.download") == 1
    assert [e["action"] for e in entries].count("certificate.holder_download") == 2


def test_two_racing_first_downloads_collect_once(site: Site) -> None:
    """Two downloads at the same moment on a real waitress server: one commits the
    collection, ZODB refuses the other's commit, pyramid_retry repeats it."""
    doc, paid = site.issued()
    serial = paid["certificates"][0]["serial"]
    token = site.holder_token(doc, paid)
    server = create_server(site.other_app(), host="127.0.0.1", port=0, threads=4)
    runner = threading.Thread(target=server.run, daemon=True)
    runner.start()
    url = f"http://127.0.0.1:{server.effective_port}{pdf_url(serial)}"
    barrier = threading.Barrier(2)
    bodies: list[bytes] = []
    statuses: list[int] = []

    def download() -> None:
        barrier.wait()
        request = urllib.request.Request(url, headers=bearer(token))
        with urllib.request.urlopen(request, timeout=30) as response:
            statuses.append(response.status)
            bodies.append(response.read())

    try:
        threads = [threading.Thread(target=download) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        time.sleep(0.2)  # let waitress finish writing before it is shut down
        server.task_dispatcher.shutdown()
        server.close()
    assert statuses == [200, 200] and bodies[0] == bodies[1]
    history = (
        site.web()
        .get(f"/api/v1/certificates/{quote(serial)}/history", headers=site.headers("bank"))
        .json["history"]
    )
    assert [h["transition"] for h in history].count("download") == 1
    entries = [e for e in site.entries() if e["object"] == f"certificate:{serial}"]
    assert [e["action"] for e in entries].count("certificate.download") == 1


def test_another_holders_certificate_is_not_found(site: Site) -> None:
    doc, paid = site.issued()
    _other_doc, other_paid = site.issued()
    token = site.holder_token(doc, paid)
    theirs = site.web().get(
        pdf_url(other_paid["certificates"][0]["serial"]), headers=bearer(token), status=404
    )
    nothing = site.web().get(
        pdf_url("豫(2026)潢川县不动产权第9999999号"), headers=bearer(token), status=404
    )
    assert theirs.json == nothing.json
    listed = site.web().get("/api/v1/holder/certificates", headers=bearer(token)).json
    assert other_paid["certificates"][0]["serial"] not in [
        c["serial"] for c in listed["certificates"]
    ]


def test_another_holders_code_does_not_open_mine(site: Site) -> None:
    doc, _paid = site.issued()
    _other, other_paid = site.issued()
    holder = doc["certificates"][0]["holders"][0]
    sign_in(
        site.web(), holder["id_number"], other_paid["certificates"][0]["download_code"], status=401
    )


def test_unpaid_cases_cannot_be_reached(site: Site) -> None:
    doc = site.document()
    site.record(doc)
    holder = doc["certificates"][0]["holders"][0]
    refused = sign_in(site.web(), holder["id_number"], "ABCDEFGHJK", status=401)
    assert refused.json["error"] == "unauthorized"


def test_wrong_codes_lock_the_id_number(site: Site) -> None:
    doc, paid = site.issued()
    holder = doc["certificates"][0]["holders"][0]
    for _ in range(4):
        sign_in(site.web(), holder["id_number"], "WRONGCODE1", status=401)
    locked = sign_in(site.web(), holder["id_number"], "WRONGCODE1", status=429)
    assert locked.json["error"] == "rate_limited" and locked.headers["Retry-After"] == "900"
    # the right code from another address is refused while the lock lasts
    other_address = site.web(REMOTE_ADDR="198.51.100.7")
    sign_in(
        other_address, holder["id_number"], paid["certificates"][0]["download_code"], status=429
    )
    site.set_clock(at(utc_now() + timedelta(minutes=16)))
    try:
        sign_in(
            site.web(), holder["id_number"], paid["certificates"][0]["download_code"], status=201
        )
    finally:
        site.reset_clock()
    failures = [e for e in site.entries() if e["action"] == "holder.login.failed"]
    assert failures and holder["id_number"] not in repr(site.entries())


def test_sign_in_attempts_rate_limited_per_address(site: Site) -> None:
    limited = TestApp(
        site.other_app(**{"certarchive.ratelimit.holder": "3/60"}),
        extra_environ={"REMOTE_ADDR": "203.0.113.5"},
    )
    for _ in range(3):
        sign_in(limited, "410101199001011237", "NOPE", status=401)
    refused = sign_in(limited, "410101199001011237", "NOPE", status=429)
    assert int(refused.headers["Retry-After"]) > 0


def test_incomplete_sign_in_is_422(site: Site) -> None:
    response = site.web().post_json("/api/v1/holder/session", {"id_number": ""}, status=422)
    assert set(response.json["fields"]) == {"id_number", "download_code"}


def test_holder_token_is_not_a_staff_key_and_expires(site: Site) -> None:
    doc, paid = site.issued()
    token = site.holder_token(doc, paid)
    serial = paid["certificates"][0]["serial"]
    site.web().get(f"/api/v1/certificates/{quote(serial)}", headers=bearer(token), status=403)
    site.web().get("/api/v1/holder/certificates", headers=site.headers("bank"), status=403)
    site.set_clock(at(utc_now() + timedelta(minutes=16)))
    try:
        site.web().get("/api/v1/holder/certificates", headers=bearer(token), status=401)
    finally:
        site.reset_clock()


def test_holder_sign_out(site: Site) -> None:
    doc, paid = site.issued()
    token = site.holder_token(doc, paid)
    site.web().delete("/api/v1/holder/session", headers=bearer(token), status=204)
    site.web().get("/api/v1/holder/certificates", headers=bearer(token), status=401)


def test_holder_pages(site: Site, web: TestApp) -> None:
    doc, paid = site.issued()
    serial = paid["certificates"][0]["serial"]
    holder = doc["certificates"][0]["holders"][0]
    form = web.get("/holder").forms[0]
    form["id_number"] = holder["id_number"]
    form["download_code"] = "WRONG"
    refused = form.submit()
    assert "证件号码或下载码不正确" in refused.text
    # the ID number typed stays in the form (the code does not), with the tries left
    assert refused.forms[0]["id_number"].value == holder["id_number"]
    assert refused.forms[0]["download_code"].value == ""
    assert "还可尝试" in refused.text and "<strong>4</strong>" in refused.text
    assert "下载码遗失或已过期" in refused.text
    form = refused.forms[0]
    form["id_number"] = holder["id_number"]
    form["download_code"] = paid["certificates"][0]["download_code"]
    listing = form.submit().follow()
    assert serial in listing.text and "尚未下载" in listing.text
    token = csrf_of(listing)
    url = f"/holder/certificates/{quote(serial)}/download"
    web.post(url, status=403)  # no CSRF token
    pdf = web.post(url, {"csrf_token": token})
    assert pdf.content_type == "application/pdf"
    assert "尚未下载" not in web.get("/holder/certificates").text
    # signed out, the list is gone
    web.post("/logout", {"csrf_token": token})
    assert web.get("/holder/certificates").location.endswith("/holder")


def test_holder_list_sets_revoked_and_superseded_apart(site: Site, web: TestApp) -> None:
    """A re-issued certificate's holder sees the old one marked, with a link to the new."""
    doc, paid = site.issued()
    serial = paid["certificates"][0]["serial"]
    holder = doc["certificates"][0]["holders"][0]
    reissued = site.web().post_json(
        f"/api/v1/certificates/{quote(serial)}/reissue",
        {"reason": "更正坐落", "changes": {}},
        headers=site.headers("manager"),
    ).json
    form = web.get("/holder").forms[0]
    form["id_number"] = holder["id_number"]
    form["download_code"] = paid["certificates"][0]["download_code"]
    listing = form.submit().follow()
    rows = listing.html.select("tr.not-current")
    assert len(rows) == 1 and serial in rows[0].text
    assert "下载注销件" in rows[0].text and reissued["serial"] in rows[0].text
    assert rows[0].select_one("a")["href"].startswith("#c")
