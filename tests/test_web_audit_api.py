"""The auditors' HTTP door to the logs (H-5.2.4, H-5.2.5): entries, checkpoints and RFC 6962
proofs under /api/v1/audit/{log}/…, for the auditor role and the audit:read scope only;
personal data masked (H-5.2.3); each read of entries audited."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from webtest import TestApp

from certarchive.audit import merkle
from certarchive.audit.entry import make_entry
from certarchive.audit.log import get_log, leaf_data
from certarchive.audit.verify import checkpoint_signature_ok
from certarchive.crypto.sm import SM2PublicKey, sm3
from certarchive.services import audit as audit_services
from certarchive.services.errors import Conflict
from certarchive.services.permissions import staff_actor
from certarchive.web import make_app
from tests.conftest import file_settings
from tests.test_web_support import Site, site_fixture, web_fixture  # noqa: F401

ENDPOINTS = (
    "/api/v1/audit/audit/entries",
    "/api/v1/audit/audit/checkpoint",
    "/api/v1/audit/audit/proofs/inclusion?seq=0",
    "/api/v1/audit/audit/proofs/consistency?first=1",
)
AUDITOR = staff_actor("sun_auditor", "auditor")


def integrate(site: Site) -> dict[str, Any]:
    """Sequence pending entries, as the server's periodic job does."""
    return site.run(audit_services.integrate_logs)


def read(site: Site, url: str, status: int = 200, client: str = "audit") -> Any:
    return site.web().get(url, headers=site.headers(client), status=status)


def all_entries(site: Site, log: str, client: str = "audit") -> list[dict[str, Any]]:
    """Every sequenced entry of ``log``, page by page, through the HTTP door."""
    found: list[dict[str, Any]] = []
    while True:
        page = read(
            site, f"/api/v1/audit/{log}/entries?start={len(found)}&limit=1000", client=client
        )
        if not page.json["entries"]:
            return found
        found += page.json["entries"]


def leaf_of(entry: dict[str, Any]) -> bytes:
    """The Merkle leaf an entry read through the API commits to, recomputed by the reader."""
    body = {k: v for k, v in entry.items() if k not in ("seq", "integrated_at")}
    return merkle.leaf_hash(sm3, leaf_data(entry["seq"], entry["integrated_at"], body))


def test_audit_key_and_auditor_session_read_the_entries_the_system_holds(site: Site) -> None:
    site.issued()
    integrate(site)
    by_key = read(site, "/api/v1/audit/audit/entries?start=0&limit=1000").json
    system = site.run(audit_services.entries, "audit", 0, 1000)
    assert by_key["log"] == "audit" and by_key["size"] >= len(by_key["entries"]) > 0
    assert by_key["entries"] == system  # nothing here is masked: no personal data
    assert [e["seq"] for e in by_key["entries"]] == list(range(len(system)))
    assert {"case.create", "certificate.issue"} <= {e["action"] for e in system}

    web = site.web()
    site.login(web, "auditor")
    page = web.get("/api/v1/audit/audit/entries?start=2&limit=3").json
    assert page["entries"] == system[2:5]
    default = web.get("/api/v1/audit/audit/entries").json
    assert default["entries"] == site.run(audit_services.entries, "audit", 0, 100)


def test_reading_entries_is_itself_audited(site: Site) -> None:
    integrate(site)
    read(site, "/api/v1/audit/sharing/entries?start=0&limit=7")
    reads = [e for e in site.entries() if e["action"] == "audit.read"]
    assert reads[-1]["actor"] == "client:audit" and reads[-1]["object"] == "log:sharing"
    assert reads[-1]["detail"]["start"] == 0 and reads[-1]["detail"]["count"] <= 7
    # checkpoints and proofs hold hashes only and are not audited, like metadata reads
    count = len(reads)
    read(site, "/api/v1/audit/audit/checkpoint")
    assert len([e for e in site.entries() if e["action"] == "audit.read"]) == count


@pytest.mark.parametrize("url", ENDPOINTS)
def test_everyone_else_is_refused(site: Site, url: str) -> None:
    doc, paid = site.issued()
    integrate(site)
    for client in ("upstream", "bank", "bank_read", "manager", "filer"):
        refused = read(site, url, status=403, client=client)
        assert refused.json["error"] == "forbidden"
    holder = site.holder_token(doc, paid)
    site.web().get(url, headers={"Authorization": f"Bearer {holder}"}, status=403)
    for role in ("registrar", "archivist"):
        web = site.web()
        site.login(web, role)
        web.get(url, status=403)
    anonymous = site.web().get(url, status=401)
    assert anonymous.json["error"] == "unauthorized"
    assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    site.web().get(url, headers={"Authorization": "Bearer ca_nothing.wrong"}, status=401)
    # the auditor's own session and key do get through
    web = site.web()
    site.login(web, "auditor")
    web.get(url, status=200)
    read(site, url, status=200)


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ("start=-1", {"start"}),
        ("start=abc", {"start"}),
        ("limit=0", {"limit"}),
        ("limit=1001", {"limit"}),
        ("limit=1.5", {"limit"}),
        ("start=", {"start"}),
        ("start=x&limit=5000", {"start", "limit"}),
    ],
)
def test_bad_entry_parameters_are_422_naming_each(site: Site, query: str, fields: set[str]) -> None:
    response = read(site, f"/api/v1/audit/audit/entries?{query}", status=422)
    assert set(response.json) == {"error", "message", "fields"}
    assert response.json["error"] == "invalid" and set(response.json["fields"]) == fields


def test_the_largest_page_and_the_last_start_are_allowed(site: Site) -> None:
    integrate(site)
    page = read(site, "/api/v1/audit/audit/entries?limit=1000&start=2147483647").json
    assert page["entries"] == []
    beyond = read(site, "/api/v1/audit/audit/entries?start=2147483648", status=422)
    assert set(beyond.json["fields"]) == {"start"}


def test_bad_proof_parameters_are_422_naming_each(site: Site) -> None:
    site.issued()
    size = integrate(site)["audit"]["size"]
    base = "/api/v1/audit/audit/proofs"
    cases = {
        "/inclusion": {"seq"},
        f"/inclusion?seq={size}": {"seq"},
        f"/inclusion?seq=0&size={size + 1}": {"size"},
        "/inclusion?seq=0&size=0": {"size"},
        "/inclusion?seq=3&size=3": {"seq"},
        f"/inclusion?seq=-1&size={size + 5}": {"seq", "size"},
        "/consistency": {"first"},
        "/consistency?first=0": {"first"},
        "/consistency?first=4&second=3": {"first"},
        f"/consistency?first=1&second={size + 1}": {"second"},
        f"/consistency?first={size + 1}": {"first"},
    }
    for tail, fields in cases.items():
        response = read(site, base + tail, status=422)
        assert set(response.json["fields"]) == fields, tail


@pytest.mark.parametrize("url", [u.replace("/audit/audit/", "/audit/nope/") for u in ENDPOINTS])
def test_an_unknown_log_is_not_found(site: Site, url: str) -> None:
    response = read(site, url, status=404)
    assert response.json["error"] == "not_found"


def test_the_checkpoint_is_signed_by_the_published_key(site: Site) -> None:
    site.issued()
    newest = integrate(site)["audit"]
    document = read(site, "/api/v1/audit/audit/checkpoint").json
    assert document == site.run(audit_services.checkpoint_document, "audit")
    assert document["checkpoint"] == newest
    key = SM2PublicKey.from_pem(document["public_key_pem"].encode())
    assert checkpoint_signature_ok(document["checkpoint"], key)
    assert not checkpoint_signature_ok({**document["checkpoint"], "size": newest["size"] - 1}, key)
    sharing = read(site, "/api/v1/audit/sharing/checkpoint").json
    assert sharing["public_key_pem"] != document["public_key_pem"]


def test_inclusion_proofs_verify_with_the_projects_merkle_functions(site: Site) -> None:
    site.issued()
    checkpoint = integrate(site)["audit"]
    size, root = checkpoint["size"], bytes.fromhex(checkpoint["root"])
    entries = {e["seq"]: e for e in all_entries(site, "audit")}
    for seq in sorted({0, 1, size // 2, size - 2, size - 1}):
        answer = read(site, f"/api/v1/audit/audit/proofs/inclusion?seq={seq}&size={size}").json
        assert (answer["log"], answer["seq"], answer["size"]) == ("audit", seq, size)
        leaf = leaf_of(entries[seq])
        assert answer["leaf_hash"] == leaf.hex()
        proof = [bytes.fromhex(node) for node in answer["proof"]]
        assert merkle.verify_inclusion(sm3, seq, size, leaf, proof, root)
        # the proof binds the entry: an entry read differently does not verify
        altered = leaf_of({**entries[seq], "actor": "someone else"})
        assert not merkle.verify_inclusion(sm3, seq, size, altered, proof, root)
    # the default size is the whole sequenced log
    assert read(site, "/api/v1/audit/audit/proofs/inclusion?seq=0").json["size"] == size


def test_consistency_proof_between_two_checkpoints_verifies(site: Site) -> None:
    site.issued()
    old = integrate(site)["audit"]
    site.issued()
    new = integrate(site)["audit"]
    assert new["size"] > old["size"]
    answer = read(
        site, f"/api/v1/audit/audit/proofs/consistency?first={old['size']}&second={new['size']}"
    ).json
    assert (answer["first"], answer["second"]) == (old["size"], new["size"])
    proof = [bytes.fromhex(node) for node in answer["proof"]]
    old_root, new_root = bytes.fromhex(old["root"]), bytes.fromhex(new["root"])
    assert merkle.verify_consistency(sm3, old["size"], new["size"], old_root, new_root, proof)
    assert not merkle.verify_consistency(sm3, old["size"], new["size"], new_root, new_root, proof)
    default = read(site, f"/api/v1/audit/audit/proofs/consistency?first={old['size']}").json
    assert default["second"] == new["size"] and default["proof"] == answer["proof"]


def test_entries_hold_no_personal_data_by_construction(site: Site) -> None:
    """Record a case, pay, sign the holder in (wrongly, then rightly), download, sign staff
    in: none of the holders' names, ID numbers or phones is in any entry, masked or not."""
    doc, paid = site.issued(shape=1)
    holder = doc["certificates"][0]["holders"][0]
    site.web().post_json(
        "/api/v1/holder/session",
        {"id_number": holder["id_number"], "download_code": "WRONGCODE9"},
        status=401,
    )
    token = site.holder_token(doc, paid)
    serial = paid["certificates"][0]["serial"]
    site.web().get(
        f"/api/v1/holder/certificates/{quote(serial)}/pdf",
        headers={"Authorization": f"Bearer {token}"},
    )
    site.login(site.web(), "registrar")
    site.web().get(f"/api/v1/certificates/{quote(serial)}", headers=site.headers("bank"))
    integrate(site)
    personal = {
        value
        for cert in doc["certificates"]
        for party in (*cert["holders"], *cert.get("obligors", ()))
        for value in (party["name"], party["id_number"], party.get("phone"))
        if value and party["id_type"] != "credit_code"
    }
    assert len(personal) >= 3
    for log in ("audit", "sharing"):
        unmasked = json.dumps(site.run(audit_services.entries, log, 0, 1000), ensure_ascii=False)
        served = json.dumps(all_entries(site, log), ensure_ascii=False)
        assert serial in unmasked  # the entries really are about this case
        for value in personal:
            assert value not in unmasked and value not in served, log
    actions = {e["action"] for e in all_entries(site, "audit")}
    assert {
        "holder.login.failed",
        "holder.login",
        "certificate.holder_download",
        "login",
    } <= actions


def log_files(site: Site) -> bytes:
    """The raw bytes of the audit and sharing storage files."""
    return b"".join(
        Path(site.raw[f"certarchive.zodb.{name}"].removeprefix("file://")).read_bytes()
        for name in ("audit", "sharing")
    )


def test_an_id_number_typed_into_a_url_never_reaches_the_logs(site: Site) -> None:
    """Refused and shared calls name the object from the URL the caller typed: a bank or a
    clerk who puts an ID number there instead of a serial must not write it into a log
    (H-5.2.3): it is masked before the entry is made."""
    id_number, phone = "411524197303257442", "17511742081"
    site.web().get(f"/api/v1/certificates/{id_number}", headers=site.headers("bank"), status=404)
    web = site.web()
    site.login(web, "registrar")
    web.get(f"/api/v1/certificates/{phone}", status=404)
    integrate(site)
    masked_id, masked_phone = "4115**********7442", "175****2081"
    shared = [e["object"] for e in all_entries(site, "sharing")]
    refused = [e["object"] for e in all_entries(site, "audit")]
    assert f"certificate:{masked_id}" in shared and f"certificate:{masked_phone}" in refused
    system = [e["object"] for e in site.run(audit_services.entries, "sharing", 0, 1000)]
    assert f"certificate:{masked_id}" in system and f"certificate:{id_number}" not in system
    raw = log_files(site)
    assert masked_id.encode() in raw  # the search finds what is there
    assert id_number.encode() not in raw and phone.encode() not in raw


def test_an_id_number_an_older_version_logged_is_masked_for_auditors(site: Site) -> None:
    """Entries written before objects were masked stay as they are hashed in the log; an
    auditor or admin (audit.read without the right to read personal data) sees them masked."""
    id_number = "411524198811230021"

    def log_as_before(ctx: Any) -> None:
        """Queued as older versions queued: a dict in the log's own pending tree."""
        entry = make_entry(time=ctx.now().isoformat(), action="refused.api.certificate")
        get_log(ctx.conn, "sharing").pending["0-older"] = {
            **entry,
            "object": f"certificate:{id_number}",
        }

    site.run(log_as_before)
    integrate(site)
    system = [e["object"] for e in site.run(audit_services.entries, "sharing", 0, 1000)]
    assert f"certificate:{id_number}" in system
    masked = "certificate:4115**********0021"
    assert masked in [e["object"] for e in all_entries(site, "sharing")]
    admin = site.web()
    site.login(admin, "admin")
    objects = [
        e["object"] for e in admin.get("/api/v1/audit/sharing/entries?limit=1000").json["entries"]
    ]
    assert masked in objects and f"certificate:{id_number}" not in objects


def test_a_proof_of_an_empty_log_is_a_conflict(run: Any) -> None:
    """A fresh registry's sharing log has nothing sequenced: no proof can exist yet."""
    with pytest.raises(Conflict):
        run(audit_services.inclusion_proof, "sharing", 0, actor=AUDITOR)
    with pytest.raises(Conflict):
        run(audit_services.consistency_proof, "sharing", 1, actor=AUDITOR)
    assert run(audit_services.checkpoint_document, "sharing", actor=AUDITOR)["checkpoint"] is None


def test_the_api_agrees_with_the_command_line(
    cli_run: Any, runtime_of: Any, tmp_path: Path
) -> None:
    """Entries match `certarchive audit export`, and the HTTP checkpoint document is a file
    `certarchive audit verify --checkpoint` accepts."""
    assert cli_run("init", "--demo", "3").exit_code == 0
    added = cli_run("client", "add", "auditor", "--scope", "audit:read", "--json")
    key = json.loads(added.output)["key"]
    runtime = runtime_of()
    try:
        web = TestApp(make_app(file_settings(tmp_path / "var"), runtime=runtime))
        headers = {"Authorization": f"Bearer {key}"}
        served = web.get("/api/v1/audit/audit/entries?limit=1000", headers=headers).json
        checkpoint = web.get("/api/v1/audit/audit/checkpoint", headers=headers).json
    finally:
        runtime.close()
    assert served["size"] == len(served["entries"]) == checkpoint["checkpoint"]["size"] > 10

    out = tmp_path / "audit.jsonl"
    assert cli_run("audit", "export", "--out", str(out)).exit_code == 0
    exported = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    # the export also holds what came after: the client's key, the API read itself
    assert exported[: served["size"]] == served["entries"]
    assert any(e["action"] == "audit.read" for e in exported[served["size"] :])

    kept = tmp_path / "kept.json"
    kept.write_text(json.dumps(checkpoint), encoding="utf-8")
    verified = cli_run("audit", "verify", "--checkpoint", str(kept), "--json")
    assert verified.exit_code == 0, verified.output
    assert json.loads(verified.output)["size"] > served["size"]
