"""Sharing institutions (H-N2, H-4.4, H-5.2.5): scoped keys; every call and its response
(status, size, SM3 of the body) in the separate sharing log, refused calls included."""

from __future__ import annotations

from urllib.parse import quote

from certarchive.crypto.sm import sm3_hex
from tests.test_web_support import Site, site_fixture, web_fixture  # noqa: F401


def share_entries(site: Site) -> list[dict]:
    return [e for e in site.entries("sharing") if e["action"].startswith("share.")]


def test_each_bank_call_is_in_the_sharing_log(site: Site) -> None:
    _doc, paid = site.issued()
    serial = paid["certificates"][0]["serial"]
    base = f"/api/v1/certificates/{quote(serial)}"
    before = len(share_entries(site))
    responses = [
        site.web().get(base + tail, headers=site.headers("bank"))
        for tail in ("", "/pdf", "/history", "/versions")
    ]
    entries = share_entries(site)[before:]
    assert [e["action"] for e in entries] == [
        "share.api.certificate",
        "share.api.certificate.pdf",
        "share.api.certificate.history",
        "share.api.certificate.versions",
    ]
    for entry, response in zip(entries, responses, strict=True):
        assert entry["actor"] == "client:bank" and entry["result"] == "ok"
        assert entry["object"] == f"certificate:{serial}"
        assert entry["detail"]["status"] == 200
        assert entry["detail"]["size"] == len(response.body)
        assert entry["detail"]["sm3"] == sm3_hex(response.body)
        assert entry["client"] == "192.0.2.10" and entry["request_id"]
    # the log holds digests, not what was returned
    holder = _doc["certificates"][0]["holders"][0]
    assert holder["id_number"] not in repr(entries)


def test_refused_bank_calls_are_in_the_sharing_log_too(site: Site) -> None:
    _doc, paid = site.issued()
    serial = quote(paid["certificates"][0]["serial"])
    before = len(share_entries(site))
    forbidden = site.web().get(
        f"/api/v1/certificates/{serial}/versions/1", headers=site.headers("bank"), status=403
    )
    missing = site.web().get(
        "/api/v1/certificates/nothing-here", headers=site.headers("bank"), status=404
    )
    entries = share_entries(site)[before:]
    assert [e["detail"]["status"] for e in entries] == [403, 404]
    assert all(e["result"] == "refused" for e in entries)
    assert entries[0]["detail"]["sm3"] == sm3_hex(forbidden.body)
    assert entries[1]["detail"]["sm3"] == sm3_hex(missing.body)


def test_other_callers_are_not_in_the_sharing_log(site: Site) -> None:
    _doc, paid = site.issued()
    serial = quote(paid["certificates"][0]["serial"])
    before = len(share_entries(site))
    site.web().get(f"/api/v1/certificates/{serial}", headers=site.headers("manager"))
    site.web().get(f"/api/v1/certificates/{serial}", headers=site.headers("upstream"))
    site.web().get(f"/v/{paid['certificates'][0]['verify_url'].rsplit('/', 1)[1]}.json")
    assert len(share_entries(site)) == before
    # and sharing entries never land in the audit log
    assert not any(e["action"].startswith("share.") for e in site.entries("audit"))
