"""The OFD file everywhere a file goes: staff and holder downloads (the first download of
either format is the collection, H-2.2), ``POST /verify``, revocation, certificates that
had no OFD yet, and the ``certarchive.formats`` setting."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from certarchive.config import ConfigError, load_settings
from certarchive.crypto.sm import sm3_hex
from certarchive.documents.verify import OFD
from certarchive.ofd.verify import verify_ofd
from certarchive.services.certdata import ON_REQUEST
from certarchive.services.certificates import get_certificate
from certarchive.services.seals import registry_trust
from tests.conftest import file_settings
from tests.i18n_support import raises_matching
from tests.ofd_support import rezip, unzip
from tests.test_web_support import Site, make_site, site_fixture, web_fixture  # noqa: F401


def path(serial: str, tail: str = "") -> str:
    return f"/api/v1/certificates/{quote(serial)}{tail}"


def holder_path(serial: str, tail: str) -> str:
    return f"/api/v1/holder/certificates/{quote(serial)}{tail}"


def _upload(site: Site, data: bytes, name: str = "certificate.ofd") -> dict[str, Any]:
    response = site.web().post("/verify", {"format": "json"}, upload_files=[("file", name, data)])
    return response.json


def _issued_serial(site: Site) -> tuple[dict, dict, str]:
    doc, paid = site.issued()
    return doc, paid, paid["certificates"][0]["serial"]


def test_staff_download_is_a_sealed_ofd_that_is_not_the_collection(site: Site) -> None:
    _doc, _paid, serial = _issued_serial(site)
    response = site.web().get(path(serial, "/ofd"), headers=site.headers("bank"))
    assert response.content_type == "application/ofd"
    assert response.headers["Content-Disposition"].endswith('.ofd"')
    assert response.headers["Cache-Control"] == "no-store"
    report = verify_ofd(response.body, site.run(registry_trust))
    assert report.valid, report.problems
    assert report.metadata["licenceNumber"] == serial
    site.web().get(path(serial, "/ofd"), headers=site.headers("bank_read"), status=403)
    metadata = site.web().get(path(serial), headers=site.headers("bank")).json
    assert metadata["first_downloaded_at"] is None and metadata["state"] == "issued"


def test_the_ofd_issued_is_stored_encrypted_with_its_digest(site: Site) -> None:
    _doc, _paid, serial = _issued_serial(site)
    body = site.web().get(path(serial, "/ofd"), headers=site.headers("bank")).body

    def records(ctx: Any) -> list[dict[str, Any]]:
        cert = get_certificate(ctx, serial)
        return [
            {"digest": r["digest"], "reason": r["reason"], "blob": r["blob"]}
            for r in cert.file_log("ofd")
        ]

    (record,) = site.run(records)
    assert record["digest"] == sm3_hex(body) and record["reason"] == "issued"
    with record["blob"].open("r") as stored:
        assert b"Doc_0" not in stored.read()  # the zip's names are not in clear


def test_the_holders_first_ofd_download_is_the_collection(site: Site) -> None:
    doc, paid, serial = _issued_serial(site)
    token = site.holder_token(doc, paid)
    listed = (
        site.web()
        .get("/api/v1/holder/certificates", headers={"Authorization": f"Bearer {token}"})
        .json["certificates"]
    )
    assert listed[0]["ofd"] == listed[0]["pdf"].removesuffix("/pdf") + "/ofd"
    first = site.web().get(
        holder_path(serial, "/ofd"), headers={"Authorization": f"Bearer {token}"}
    )
    assert first.content_type == "application/ofd"
    metadata = site.web().get(path(serial), headers=site.headers("bank")).json
    collected = metadata["first_downloaded_at"]
    assert collected is not None and metadata["state"] != "issued"
    site.web().get(holder_path(serial, "/pdf"), headers={"Authorization": f"Bearer {token}"})
    again = site.web().get(path(serial), headers=site.headers("bank")).json
    assert again["first_downloaded_at"] == collected


def test_post_verify_accepts_an_ofd_and_finds_it_in_the_registry(site: Site) -> None:
    _doc, _paid, serial = _issued_serial(site)
    body = site.web().get(path(serial, "/ofd"), headers=site.headers("bank")).body
    result = _upload(site, body)
    assert result["result"] == "valid", result
    assert result["file_format"] == "ofd"
    assert result["signature"]["format"] == OFD
    assert result["registry"]["file_record"]["number"] == 1
    files = unzip(body)
    files["Doc_0/Pages/Page_1/Content.xml"] = files["Doc_0/Pages/Page_1/Content.xml"].replace(
        b"<ofd:TextCode", b"<ofd:TextCode ", 1
    )
    tampered = _upload(site, rezip(files))
    assert tampered["result"] == "invalid"
    assert any("签名后" in problem for problem in tampered["problems"])  # Chinese by default


def test_a_revoked_certificates_ofd_carries_the_watermark_signature(site: Site) -> None:
    _doc, _paid, serial = _issued_serial(site)
    site.web().post_json(
        path(serial, "/revoke"),
        {"cause": "cancellation", "reason": "注销登记"},
        headers=site.headers("upstream"),
    )
    body = site.web().get(path(serial, "/ofd"), headers=site.headers("bank")).body
    report = verify_ofd(body, site.run(registry_trust))
    assert report.valid, report.problems
    assert len(report.signatures) == 2 and report.revoked is not None
    assert _upload(site, body)["result"] == "revoked"


def test_a_certificate_without_an_ofd_gets_one_on_first_request(site: Site) -> None:
    """Certificates issued before OFD existed have no OFD log (the class default)."""
    _doc, _paid, serial = _issued_serial(site)

    def forget(ctx: Any) -> None:
        get_certificate(ctx, serial).ofd_files = None

    site.run(forget)
    first = site.web().get(path(serial, "/ofd"), headers=site.headers("bank")).body
    assert verify_ofd(first, site.run(registry_trust)).valid
    second = site.web().get(path(serial, "/ofd"), headers=site.headers("bank")).body
    assert first == second  # made once, then stored like any file
    reasons = site.run(lambda ctx: [r["reason"] for r in get_certificate(ctx, serial).ofd_files])
    assert reasons == [ON_REQUEST]  # a code the pages label, like "issued"
    assert _upload(site, first)["result"] == "valid"


def test_formats_setting_is_validated_at_start_up(tmp_path) -> None:
    raw = file_settings(tmp_path / "var")
    assert load_settings(raw).formats == {"pdf", "ofd"}
    assert load_settings({**raw, "certarchive.formats": "ofd"}).formats == {"ofd"}
    with raises_matching(ConfigError, "formats must be one of"):
        load_settings({**raw, "certarchive.formats": "docx"})


@pytest.fixture(scope="module")
def pdf_only(tmp_path_factory: pytest.TempPathFactory):
    built = make_site(tmp_path_factory.mktemp("pdf-only") / "var", **{"certarchive.formats": "pdf"})
    yield built
    built.runtime.close()


def test_with_pdf_only_no_ofd_is_made_or_served(pdf_only: Site) -> None:
    _doc, _paid, serial = _issued_serial(pdf_only)
    pdf_only.web().get(path(serial, "/pdf"), headers=pdf_only.headers("bank"))
    refused = pdf_only.web().get(path(serial, "/ofd"), headers=pdf_only.headers("bank"), status=404)
    assert "OFD" in refused.json["message"]
    assert pdf_only.run(lambda ctx: get_certificate(ctx, serial).file_log("ofd")) is None


def test_the_holder_pages_offer_the_ofd(site: Site) -> None:
    from tests.test_web_support import csrf_of

    doc, paid, serial = _issued_serial(site)
    web = site.web()
    form = web.get("/holder").forms[0]
    form["id_number"] = doc["certificates"][0]["holders"][0]["id_number"]
    form["download_code"] = paid["certificates"][0]["download_code"]
    listing = form.submit().follow()
    assert "下载OFD" in listing.text
    url = f"/holder/certificates/{quote(serial)}/download"
    ofd = web.post(url, {"csrf_token": csrf_of(listing), "format": "ofd"})
    assert ofd.content_type == "application/ofd"
    assert verify_ofd(ofd.body, site.run(registry_trust)).valid


def test_a_banks_ofd_download_is_in_the_sharing_log(site: Site) -> None:
    """Institutions' reads are logged in the sharing log (H-5.2.5), the OFD like the PDF:
    the route, the size and the SM3 of what was returned."""
    _doc, _paid, serial = _issued_serial(site)

    def shares() -> list[dict[str, Any]]:
        return [e for e in site.entries("sharing") if e["action"].startswith("share.")]

    before = len(shares())
    body = site.web().get(path(serial, "/ofd"), headers=site.headers("bank")).body
    (entry,) = shares()[before:]
    assert entry["action"] == "share.api.certificate.ofd" and entry["result"] == "ok"
    assert entry["object"] == f"certificate:{serial}"
    assert entry["detail"]["sm3"] == sm3_hex(body) and entry["detail"]["size"] == len(body)


def test_a_corrected_and_reissued_certificate_gets_a_new_ofd(site: Site) -> None:
    """H-4.3: rolled back, corrected and issued again, the certificate's OFD is the new
    version's; the earlier OFD is still found by POST /verify, as superseded."""
    _doc, _paid, serial = _issued_serial(site)
    manager, web = site.headers("manager"), site.web()
    before = web.get(path(serial, "/ofd"), headers=site.headers("bank")).body
    web.post_json(path(serial, "/rollback"), {"reason": "坐落有误"}, headers=manager)
    web.get(path(serial, "/ofd"), headers=site.headers("bank"), status=404)  # a draft
    new_location = "潢川县春申街道新址1号"
    web.patch_json(
        path(serial),
        {"changes": {"location": new_location}, "comment": "更正坐落"},
        headers=manager,
    )
    web.post_json(path(serial, "/issue"), {}, headers=manager)
    after = web.get(path(serial, "/ofd"), headers=site.headers("bank")).body
    report = verify_ofd(after, site.run(registry_trust))
    assert report.valid and report.metadata["version"] == "2"
    text = b"".join(data for name, data in unzip(after).items() if name.endswith("Content.xml"))
    assert new_location.encode() in text
    assert _upload(site, after)["result"] == "valid"
    assert _upload(site, before)["result"] == "superseded"


@pytest.fixture(scope="module")
def ofd_only(tmp_path_factory: pytest.TempPathFactory):
    built = make_site(tmp_path_factory.mktemp("ofd-only") / "var", **{"certarchive.formats": "ofd"})
    yield built
    built.runtime.close()


def test_with_ofd_only_every_listing_reads_the_ofd(ofd_only: Site) -> None:
    """``certarchive.formats = ofd``: no PDF is made; staff metadata, the holder's list and
    page, the verification page and the collection time (H-2.2) all go by the OFD."""
    from tests.test_web_support import csrf_of

    site = ofd_only
    doc, paid, serial = _issued_serial(site)
    bank = site.headers("bank")
    body = site.web().get(path(serial, "/ofd"), headers=bank).body
    assert verify_ofd(body, site.run(registry_trust)).valid
    refused = site.web().get(path(serial, "/pdf"), headers=bank, status=404)
    assert "PDF" in refused.json["message"]
    assert site.web().get(path(serial), headers=bank).json["sm3"] == sm3_hex(body)
    token = paid["certificates"][0]["verify_url"].rsplit("/", 1)[1]
    assert site.web().get(f"/v/{token}.json").json["sm3"] == sm3_hex(body)

    holder = {"Authorization": f"Bearer {site.holder_token(doc, paid)}"}
    (listed,) = site.web().get("/api/v1/holder/certificates", headers=holder).json["certificates"]
    assert listed["formats"] == ["ofd"] and listed["pdf"] is None
    assert listed["sm3"] == sm3_hex(body)
    web = site.web()
    form = web.get("/holder").forms[0]
    form["id_number"] = doc["certificates"][0]["holders"][0]["id_number"]
    form["download_code"] = paid["certificates"][0]["download_code"]
    page = form.submit().follow()
    assert "下载OFD" in page.text and "下载PDF" not in page.text
    url = f"/holder/certificates/{quote(serial)}/download"
    got = web.post(url, {"csrf_token": csrf_of(page), "format": "ofd"})
    assert got.content_type == "application/ofd"
    after = site.web().get(path(serial), headers=bank).json
    assert after["state"] == "downloaded" and after["first_downloaded_at"]
