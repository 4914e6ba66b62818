"""The registry's life cycle through the service layer, on a real FileStorage.

Rules: Z-1 (validation), Z-3 (legal persons), Z-4 (only after payment), H-1.6 (serials),
H-2.2 (first download), H-2.5 (filing), H-4.2 (replacing registrations revoke),
H-4.3 (rollback / re-issue), H-5.2.4 (every change audited).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from certarchive.services import cases, certificates
from certarchive.services.context import Context
from certarchive.services.errors import Conflict, Forbidden, Invalid, NotFound
from certarchive.services.permissions import holder_actor
from certarchive.validation.samples import sample_case
from tests.conftest import ARCHIVIST, REGISTRAR, log_entries
from tests.i18n_support import raises_matching

HOLDER = holder_actor("test")
PAYMENT = {"receipt_no": "R-0001", "amount": "80.00", "paid_at": "2026-11-20T10:00:00+08:00"}


def issued_case(run: Any, n: int = 0) -> dict[str, Any]:
    document = sample_case(n)
    run(cases.record_case, document)
    return run(cases.confirm_payment, document["case_no"], PAYMENT)


def cert_attr(run: Any, key: str, attr: str) -> Any:
    return run(lambda ctx: getattr(certificates.get_certificate(ctx, key), attr))


def audit_actions(run: Any) -> list[str]:
    return [e["action"] for e in run(log_entries)]


def test_record_creates_drafts_and_audits(run: Any) -> None:
    result = run(cases.record_case, sample_case(1))
    assert result["created"] is True
    assert result["state"] == "recorded"
    assert [c["state"] for c in result["certificates"]] == ["draft", "draft"]
    assert [c["kind"] for c in result["certificates"]] == ["right", "proof"]
    actions = audit_actions(run)
    assert actions.count("certificate.create") == 2
    assert "case.record" in actions


def test_invalid_case_names_every_field_and_stores_nothing(run: Any) -> None:
    document = sample_case(0)
    document["delivery"] = "carrier pigeon"
    document["certificates"][0]["unit_number"] = "123"
    with pytest.raises(Invalid) as invalid:
        run(cases.record_case, document)
    assert set(invalid.value.fields) >= {"delivery", "certificates[0].unit_number"}
    assert run(lambda ctx: len(ctx.agency().cases)) == 0
    assert set(audit_actions(run)) == {"admin.init"}


def test_repeated_recording_is_idempotent_and_other_content_conflicts(run: Any) -> None:
    document = sample_case(0)
    first = run(cases.record_case, document)
    again = run(cases.record_case, copy.deepcopy(document))
    assert again["created"] is False
    assert again["certificates"] == first["certificates"]
    changed = copy.deepcopy(document)
    changed["certificates"][0]["location"] += "（更正）"
    with pytest.raises(Conflict):
        run(cases.record_case, changed)
    assert run(lambda ctx: len(ctx.agency().certificates)) == 1


def test_no_issue_before_payment_z4(run: Any) -> None:
    created = run(cases.record_case, sample_case(0))
    cert_id = created["certificates"][0]["id"]
    with raises_matching(Conflict, "Z-4"):
        run(_on(cert_id, certificates.issue_again), actor=REGISTRAR)
    assert cert_attr(run, cert_id, "state") == "draft"


def test_payment_issues_with_gapless_serials_h16(run: Any) -> None:
    first = issued_case(run, 0)
    second = issued_case(run, 1)
    serials = [c["serial"] for c in first["certificates"] + second["certificates"]]
    assert serials == [
        "豫(2026)潢川县不动产权第0000001号",
        "豫(2026)潢川县不动产权第0000002号",
        "豫(2026)潢川县不动产证明第0000001号",
    ]
    for cert in first["certificates"] + second["certificates"]:
        assert cert["state"] == "issued"
        assert cert["verify_url"].startswith("http://127.0.0.1:6543/v/")
        token = cert["verify_url"].rsplit("/", 1)[1]
        assert len(token) >= 32 and cert["serial"] not in token
        assert len(cert["download_code"]) == 10
    assert first["state"] == "certified"


def test_repeated_payment_issues_nothing_twice(run: Any) -> None:
    document = sample_case(0)
    run(cases.record_case, document)
    first = run(cases.confirm_payment, document["case_no"], PAYMENT)
    again = run(cases.confirm_payment, document["case_no"], dict(PAYMENT))
    assert again == first
    assert audit_actions(run).count("certificate.issue") == 1
    with pytest.raises(Conflict):
        run(cases.confirm_payment, document["case_no"], PAYMENT | {"receipt_no": "R-other"})


@pytest.mark.parametrize(
    ("payment", "field"),
    [
        ({"amount": "80", "paid_at": "2026-11-20T10:00:00+08:00"}, "receipt_no"),
        ({"receipt_no": "R", "amount": "-1", "paid_at": "2026-11-20T10:00:00+08:00"}, "amount"),
        ({"receipt_no": "R", "amount": "NaN", "paid_at": "2026-11-20T10:00:00+08:00"}, "amount"),
        ({"receipt_no": "R", "amount": "1", "paid_at": "2026-11-20T10:00:00"}, "paid_at"),
        ({"receipt_no": "R", "amount": "1", "paid_at": "x", "tip": 1}, "tip"),
    ],
)
def test_bad_payments_are_refused_by_field(run: Any, payment: dict, field: str) -> None:
    document = sample_case(0)
    run(cases.record_case, document)
    with pytest.raises(Invalid) as invalid:
        run(cases.confirm_payment, document["case_no"], payment)
    assert field in invalid.value.fields
    assert run(lambda ctx: ctx.agency().cases[document["case_no"]].state) == "recorded"


def test_first_download_sets_collection_time_once_h22(run: Any) -> None:
    serial = issued_case(run, 0)["certificates"][0]["serial"]
    first_pdf = run(
        lambda ctx: certificates.download_by_holder(ctx, certificates.get_certificate(ctx, serial)),
        actor=HOLDER,
    )
    assert first_pdf.startswith(b"%PDF")
    collected = cert_attr(run, serial, "first_downloaded_at")
    assert collected is not None
    run(
        lambda ctx: certificates.download_by_holder(ctx, certificates.get_certificate(ctx, serial)),
        actor=HOLDER,
    )
    assert cert_attr(run, serial, "first_downloaded_at") == collected
    assert cert_attr(run, serial, "state") == "downloaded"
    assert audit_actions(run).count("certificate.download") == 1


def _on(serial: str, fn: Any, *args: Any) -> Any:
    return lambda ctx: fn(ctx, certificates.get_certificate(ctx, serial), *args)


def test_rollback_correct_and_issue_again_keeps_serial_h43(run: Any) -> None:
    serial = issued_case(run, 0)["certificates"][0]["serial"]
    run(_on(serial, certificates.rollback, "坐落填写错误"), actor=REGISTRAR)
    assert cert_attr(run, serial, "state") == "draft"
    run(
        _on(serial, certificates.correct, {"location": "潢川县春申街道跃进路8号"}, "更正坐落"),
        actor=REGISTRAR,
    )
    run(_on(serial, certificates.issue_again), actor=REGISTRAR)
    assert cert_attr(run, serial, "state") == "issued"
    assert cert_attr(run, serial, "serial") == serial
    versions = run(_on(serial, certificates.versions), actor=REGISTRAR)
    assert [v["number"] for v in versions] == [1, 2]
    assert versions[1]["changed_fields"] == ["location"]
    assert "payload" not in versions[0]
    diff = run(_on(serial, certificates.version_diff, 1, 2), actor=REGISTRAR)
    assert list(diff) == ["location"] and diff["location"]["new"] == "潢川县春申街道跃进路8号"
    files = run(lambda ctx: list(certificates.get_certificate(ctx, serial).files))
    assert [f["version"] for f in files] == [1, 2]


def test_rollback_refused_after_download_h43(run: Any) -> None:
    serial = issued_case(run, 0)["certificates"][0]["serial"]
    run(_on(serial, certificates.download_by_holder), actor=HOLDER)
    with raises_matching(Conflict, "downloaded"):
        run(_on(serial, certificates.rollback, "wrong"), actor=REGISTRAR)
    assert cert_attr(run, serial, "state") == "downloaded"


def test_correcting_an_issued_certificate_is_refused(run: Any) -> None:
    serial = issued_case(run, 0)["certificates"][0]["serial"]
    with raises_matching(Conflict, "draft"):
        run(_on(serial, certificates.correct, {"location": "x"}, "c"), actor=REGISTRAR)


def test_invalid_correction_names_the_field(run: Any) -> None:
    serial = issued_case(run, 0)["certificates"][0]["serial"]
    run(_on(serial, certificates.rollback, "r"), actor=REGISTRAR)
    with pytest.raises(Invalid) as invalid:
        run(_on(serial, certificates.correct, {"unit_number": "bad"}, "c"), actor=REGISTRAR)
    assert "unit_number" in invalid.value.fields
    assert cert_attr(run, serial, "version") == 1


def test_reissue_revokes_and_links_a_new_serial_h43(run: Any) -> None:
    serial = issued_case(run, 0)["certificates"][0]["serial"]
    run(_on(serial, certificates.download_by_holder), actor=HOLDER)
    new = run(
        _on(serial, certificates.reissue, "用途错误", {"use": "城镇住宅用地/住宅"}),
        actor=REGISTRAR,
    )
    assert new["serial"] != serial and new["state"] == "issued"
    assert new["replaces"] == serial
    assert cert_attr(run, serial, "state") == "revoked"
    assert cert_attr(run, serial, "replaced_by") == new["serial"]
    assert cert_attr(run, serial, "revocation")["cause"] == "correction"


def test_transfer_revokes_what_it_replaces_h42(run: Any) -> None:
    serial = issued_case(run, 0)["certificates"][0]["serial"]
    transfer = sample_case(5, replaces=[serial])
    transfer["certificates"][0]["unit_number"] = sample_case(0)["certificates"][0]["unit_number"]
    run(cases.record_case, transfer)
    assert cert_attr(run, serial, "state") == "revoked"
    assert cert_attr(run, serial, "revocation")["cause"] == "transfer"
    files = run(lambda ctx: [f["reason"] for f in certificates.get_certificate(ctx, serial).files])
    assert files == ["issued", "revoked"]


def test_transfer_naming_an_unknown_serial_is_invalid(run: Any) -> None:
    with pytest.raises(Invalid) as invalid:
        run(cases.record_case, sample_case(5, replaces=["豫(2026)潢川县不动产权第0009999号"]))
    assert "replaces[0]" in invalid.value.fields
    assert run(lambda ctx: len(ctx.agency().cases)) == 0


def test_revoke_validates_cause_and_refuses_twice(run: Any) -> None:
    serial = issued_case(run, 0)["certificates"][0]["serial"]
    with pytest.raises(Invalid) as invalid:
        run(_on(serial, certificates.revoke, "boredom", "x"), actor=REGISTRAR)
    assert "cause" in invalid.value.fields
    run(_on(serial, certificates.revoke, "cancellation", "注销登记"), actor=REGISTRAR)
    with pytest.raises(Conflict):
        run(_on(serial, certificates.revoke, "cancellation", "again"), actor=REGISTRAR)


def test_filing_waits_for_every_collection_h25(run: Any) -> None:
    result = issued_case(run, 1)  # a right and a proof
    case_no = result["case_no"]
    right, proof = (c["serial"] for c in result["certificates"])
    with raises_matching(Conflict, r"H-2\.5"):
        run(cases.file_case, case_no, actor=ARCHIVIST)
    assert run(cases.filing_queue, actor=ARCHIVIST) == []
    run(_on(right, certificates.download_by_holder), actor=HOLDER)
    run(_on(proof, certificates.download_by_holder), actor=HOLDER)
    assert [c["case_no"] for c in run(cases.filing_queue, actor=ARCHIVIST)] == [case_no]
    filed = run(cases.file_case, case_no, actor=ARCHIVIST)
    assert filed["state"] == "filed"
    assert {c["state"] for c in filed["certificates"]} == {"archived"}


def test_paper_hand_over_allows_filing_h25_h23(run: Any) -> None:
    result = issued_case(run, 0)
    serial = result["certificates"][0]["serial"]
    run(_on(serial, certificates.paper_event, "issued"), actor=REGISTRAR)
    filed = run(cases.file_case, result["case_no"], actor=ARCHIVIST)
    assert filed["certificates"][0]["state"] == "archived"


def test_paper_return_only_after_revocation_h42(run: Any) -> None:
    serial = issued_case(run, 0)["certificates"][0]["serial"]
    with pytest.raises(Conflict):
        run(_on(serial, certificates.paper_event, "returned"), actor=REGISTRAR)
    run(_on(serial, certificates.paper_event, "issued"), actor=REGISTRAR)
    with pytest.raises(Conflict):
        run(_on(serial, certificates.paper_event, "returned"), actor=REGISTRAR)
    run(_on(serial, certificates.revoke, "transfer", "转移"), actor=REGISTRAR)
    run(_on(serial, certificates.paper_event, "lost_announced"), actor=REGISTRAR)
    assert cert_attr(run, serial, "paper_status") == "lost_announced"


def test_legal_person_gets_no_paper_z3(run: Any) -> None:
    result = issued_case(run, 2)  # a mortgage proof held by a bank
    serial = result["certificates"][0]["serial"]
    with raises_matching(Conflict, "Z-3"):
        run(_on(serial, certificates.paper_event, "issued"), actor=REGISTRAR)


def test_roles_are_enforced(run: Any) -> None:
    serial = issued_case(run, 0)["certificates"][0]["serial"]
    with pytest.raises(Forbidden):
        run(_on(serial, certificates.rollback, "x"), actor=ARCHIVIST)
    with pytest.raises(Forbidden):
        run(cases.record_case, sample_case(3), actor=REGISTRAR)


def test_metadata_masks_personal_data_unless_allowed(run: Any) -> None:
    serial = issued_case(run, 0)["certificates"][0]["serial"]
    holder = sample_case(0)["certificates"][0]["holders"][0]
    masked = run(_on(serial, certificates.metadata), actor=ARCHIVIST)
    full = run(_on(serial, certificates.metadata), actor=REGISTRAR)
    assert full["holders"][0]["id_number"] == holder["id_number"]
    assert masked["holders"][0]["id_number"] != holder["id_number"]
    assert holder["id_number"] not in repr(masked)


def test_holder_index_finds_by_id_number(run: Any) -> None:
    serial = issued_case(run, 0)["certificates"][0]["serial"]
    id_number = sample_case(0)["certificates"][0]["holders"][0]["id_number"]
    found = run(lambda ctx: [c.serial for c in certificates.by_holder_blind_index(ctx, id_number)])
    assert found == [serial]


def test_unknown_certificate_is_not_found(run: Any) -> None:
    with pytest.raises(NotFound):
        run(lambda ctx: certificates.get_certificate(ctx, "豫(2026)潢川县不动产权第0000042号"))


def test_both_bracket_forms_find_the_same_certificate(run: Any) -> None:
    serial = issued_case(run, 0)["certificates"][0]["serial"]
    full_width = serial.replace("(", "（").replace(")", "）")
    assert cert_attr(run, full_width, "serial") == serial


def test_history_replays_to_the_current_state(run: Any) -> None:
    from certarchive.workflow.definitions import CERTIFICATE
    from certarchive.workflow.engine import replay

    serial = issued_case(run, 0)["certificates"][0]["serial"]
    run(_on(serial, certificates.rollback, "r"), actor=REGISTRAR)
    run(_on(serial, certificates.issue_again), actor=REGISTRAR)
    run(_on(serial, certificates.download_by_holder), actor=HOLDER)

    def check(ctx: Context) -> None:
        cert = certificates.get_certificate(ctx, serial)
        assert replay(CERTIFICATE, cert.history) == cert.state == "downloaded"

    run(check)


def test_cancellation_revokes_and_files_without_certificates_h42(run: Any) -> None:
    serial = issued_case(run, 0)["certificates"][0]["serial"]
    document = sample_case(7, replaces=[serial])
    document["registration_type"] = "cancellation"
    del document["certificates"]
    recorded = run(cases.record_case, document)
    assert recorded["certificates"] == []
    assert cert_attr(run, serial, "revocation")["cause"] == "cancellation"
    run(cases.confirm_payment, document["case_no"], PAYMENT)
    assert run(cases.file_case, document["case_no"], actor=ARCHIVIST)["state"] == "filed"


def test_holder_search_accepts_a_lower_case_x(run: Any) -> None:
    document = sample_case(0)
    holder = document["certificates"][0]["holders"][0]
    run(cases.record_case, document)
    found = run(lambda ctx: certificates.by_holder_blind_index(ctx, holder["id_number"].lower()))
    assert len(found) == 1
