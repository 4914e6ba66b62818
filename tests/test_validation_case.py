"""certarchive.validation.case: the case document of CONTRACT.md, field by field (Z-1, Z-3).

Documents start from ``sample_case`` (itself checked here to be valid and varied) and are
broken one rule at a time; ``errors(doc)`` returns the ``fields`` of the CaseInvalid raised.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from certarchive.validation.case import (
    ITEMS_MAX,
    LONG_TEXT_MAX,
    NAME_MAX,
    ROOT,
    CaseData,
    CaseInvalid,
    CertificateData,
    Party,
    validate_case,
    validate_certificate_changes,
)
from certarchive.validation.identifiers import credit_code_check_char, resident_id_check_char
from certarchive.validation.samples import MAX_N, sample_case
from tests.i18n_support import both

RIGHT_N, BOTH_N, PROOF_N = 0, 1, 2  # sample_case shapes: n % 3
BANK = {"name": "中国农业银行股份有限公司潢川县支行", "id_type": "credit_code",
        "id_number": "91411526706173245G"}
BAD_ID = "41152619800101001X"  # a valid body with the wrong check digit (it should be 1)


def person(index: int, **extra: str) -> dict[str, str]:
    """A natural person with a valid resident ID, distinct per ``index``."""
    body = f"41152619800101{index:03d}"
    return {"name": f"张{'三四五六七八九'[index % 7]}", "id_type": "resident_id",
            "id_number": body + resident_id_check_char(body), **extra}


def right_case(*holders: dict[str, str], co_ownership: str = "单独所有") -> dict[str, Any]:
    """sample_case(0), a right certificate under 按份共有, with other holders."""
    doc = sample_case(RIGHT_N)
    doc["certificates"][0].update(holders=list(holders), co_ownership=co_ownership)
    return doc


def errors(doc: Any) -> dict[str, str]:
    with pytest.raises(CaseInvalid) as caught:
        validate_case(doc)
    return both(caught.value.fields)


def change_errors(kind: str, current: dict[str, Any], changes: Any, **kw: Any) -> dict[str, str]:
    with pytest.raises(CaseInvalid) as caught:
        validate_certificate_changes(kind, current, changes, **kw)
    return both(caught.value.fields)


# -- samples -----------------------------------------------------------------------------------


def test_bank_fixture_is_a_valid_credit_code() -> None:
    """The BANK used below really is a legal person's valid code (GB 32100)."""
    assert credit_code_check_char(BANK["id_number"][:17]) == BANK["id_number"][17]


@pytest.mark.parametrize("n", [*range(60), 1000, 123_456, MAX_N])
def test_samples_are_valid_and_already_normalised(n: int) -> None:
    """Z-1: every sample passes, and validation changes nothing in it (round trip)."""
    case = validate_case(sample_case(n))
    assert case.to_dict() == sample_case(n)
    assert CaseData.from_dict(case.to_dict()) == case


def test_samples_are_deterministic_and_varied() -> None:
    """Same n, same document; across n: both kinds, every 共有情况, shares, banks, transfers."""
    docs = [sample_case(n) for n in range(300)]
    assert docs == [sample_case(n) for n in range(300)]
    assert len({d["case_no"] for d in docs}) == 300
    certificates = [c for d in docs for c in d["certificates"]]
    assert {c["kind"] for c in certificates} == {"right", "proof"}
    assert {c.get("co_ownership") for c in certificates} >= {"单独所有", "共同共有", "按份共有"}
    assert any("share" in h for c in certificates for h in c["holders"])
    assert {h["id_type"] for c in certificates if c["kind"] == "proof" for h in c["holders"]} == {
        "credit_code"}
    assert len({h["name"] for c in certificates for h in c["holders"]}) > 100
    assert {d["registration_type"] for d in docs} == {"first", "mortgage"}
    assert {d["delivery"] for d in docs} == {"electronic"}


def test_sample_with_replaces_is_a_valid_transfer() -> None:
    """H-4.2: a sample given serials is a transfer that replaces them."""
    case = validate_case(sample_case(4, replaces=["豫(2026)潢川县不动产权第0000001号"]))
    assert case.registration_type == "transfer"
    assert case.replaces == ("豫(2026)潢川县不动产权第0000001号",)


def test_sample_refuses_numbers_outside_its_range() -> None:
    """Case numbers have at most 8 sequence digits; beyond that they would collide."""
    with pytest.raises(ValueError, match="between"):
        sample_case(MAX_N + 1)
    with pytest.raises(ValueError, match="between"):
        sample_case(-1)


# -- the data classes --------------------------------------------------------------------------


def test_validated_case_is_typed_and_frozen() -> None:
    """CaseData holds parsed values (an aware datetime, Party objects) and cannot change."""
    case = validate_case(sample_case(BOTH_N))
    assert case.recorded_at.tzinfo is not None
    right, proof = case.certificates
    assert isinstance(right.holders[0], Party) and proof.holders[0].is_legal_person
    assert not right.holders[0].is_legal_person
    with pytest.raises(AttributeError):
        case.delivery = "paper"  # type: ignore[misc]


def test_certificate_from_dict_inverts_to_dict() -> None:
    """What the registry stores (to_dict) reads back into equal objects."""
    for certificate in validate_case(sample_case(BOTH_N)).certificates:
        assert CertificateData.from_dict(certificate.to_dict()) == certificate


# -- document shape ----------------------------------------------------------------------------


@pytest.mark.parametrize("doc", [None, [], "case", 42, True, [sample_case(0)]])
def test_a_document_that_is_not_an_object_is_a_field_error(doc: Any) -> None:
    """Z-1: wrong JSON at the top is reported, not raised as some other exception."""
    assert errors(doc) == {ROOT: "须为JSON对象 / must be a JSON object"}


def test_missing_fields_are_all_required() -> None:
    """Every required top-level field is named when absent."""
    assert errors({}) == dict.fromkeys(
        ("case_no", "registration_type", "recorded_at", "delivery", "certificates"),
        "必填 / required")


def test_unknown_fields_are_named() -> None:
    """Unknown top-level, certificate and party fields are refused by path."""
    doc = sample_case(BOTH_N)
    doc["priority"] = "high"
    doc["certificates"][0]["colour"] = "red"
    doc["certificates"][1]["co_ownership"] = "单独所有"  # a right field on a proof
    doc["certificates"][1]["holders"][0]["nickname"] = "阿三"
    assert errors(doc) == dict.fromkeys(
        ("priority", "certificates[0].colour", "certificates[1].co_ownership",
         "certificates[1].holders[0].nickname"), "未知字段 / unknown field")


def test_an_email_and_a_fee_are_checked_when_given() -> None:
    """Z-4: the e-mail a holder is told at and the fee the payment notice states."""
    doc = sample_case(BOTH_N)
    doc["certificates"][0]["holders"][0]["email"] = "not an address"
    doc["fee"] = "80 元"
    found = errors(doc)
    assert "email" in found["certificates[0].holders[0].email"]
    assert "fee" in found["fee"]
    doc["certificates"][0]["holders"][0]["email"] = "holder@example.cn"
    doc["fee"] = "80.00"
    assert validate_case(doc).to_dict()["fee"] == "80.00"


@pytest.mark.parametrize(("path", "value", "message"), [
    (("certificates",), {"kind": "right"}, "must be a list"),
    (("certificates",), [], "required"),
    (("certificates", 0), "right", "must be a JSON object"),
    (("certificates", 0, "holders"), "张三", "must be a list"),
    (("certificates", 0, "holders", 0), ["张三"], "must be a JSON object"),
    (("certificates", 0, "holders", 0, "name"), 7, "must be a string"),
    (("certificates", 0, "area"), 120.5, "must be a string"),
    (("certificates", 0, "kind"), None, "required"),
    (("certificates", 0, "kind"), "deed", "must be one of: right, proof"),
    (("case_no",), ["2026-411526-000001"], "must be a string"),
    (("delivery",), {"paper": True}, "must be a string"),
])
def test_wrong_json_types_are_field_errors(path: tuple[Any, ...], value: Any,
                                           message: str) -> None:
    """Z-1: each wrong type is reported at its own path, never raised."""
    doc = sample_case(RIGHT_N)
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    json_path = "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in path).lstrip(".")
    found = errors(doc)
    assert list(found) == [json_path]
    assert message in found[json_path]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=3),
    max_leaves=10,
)


@settings(max_examples=300)
@given(st.sampled_from(["case_no", "registration_type", "recorded_at", "delivery",
                        "certificates", "replaces", "kind", "holders", "co_ownership",
                        "unit_number", "obligors", "proved_right", "name", "id_type",
                        "id_number", "phone", "share"]),
       json_values, st.integers(0, 2))
def test_any_json_anywhere_gives_a_result_or_case_invalid(field: str, value: Any,
                                                          n: int) -> None:
    """Z-1: whatever JSON replaces a field, at any level, the outcome is CaseData or
    CaseInvalid naming fields; no other exception escapes."""
    doc = sample_case(n)
    certificate = doc["certificates"][0]
    for target in (doc, certificate, certificate["holders"][0]):
        if field in target or target is certificate["holders"][0]:
            target[field] = value
            break
    try:
        validate_case(doc)
    except CaseInvalid as invalid:
        assert invalid.fields and all(isinstance(m, str) for m in invalid.fields.values())


@settings(max_examples=200)
@given(json_values)
def test_any_json_document_gives_a_result_or_case_invalid(doc: Any) -> None:
    """Z-1: arbitrary JSON as the whole document is refused with field errors only."""
    with pytest.raises(CaseInvalid):
        validate_case(doc)


# -- top-level fields --------------------------------------------------------------------------


@pytest.mark.parametrize("case_no", [
    "2026-411526-123", "26-411526-000123", "2026_411526_000123", "2026-41152-000123",
    "2026-411526-000000123", "２０２６-411526-000123"])
def test_case_numbers_follow_the_pattern(case_no: str) -> None:
    """case_no is year-county-sequence, e.g. 2026-411526-000123 (ASCII digits)."""
    doc = sample_case(0)
    doc["case_no"] = case_no
    assert "2026-411526-000123" in errors(doc)["case_no"]


@pytest.mark.parametrize(("field", "value"), [
    ("registration_type", "inheritance"),
    ("delivery", "fax"),
    ("recorded_at", "2026-11-20T10:00:00"),
    ("recorded_at", "2026-11-20"),
    ("recorded_at", "20 Nov 2026"),
])
def test_enumerations_and_timestamps(field: str, value: str) -> None:
    """Closed vocabularies of the contract; recorded_at must carry a time zone."""
    doc = sample_case(0)
    doc[field] = value
    assert list(errors(doc)) == [field]


def test_timestamps_with_any_offset_are_accepted() -> None:
    """ISO 8601 with Z or an offset is a point in time; it is kept as given."""
    doc = sample_case(0)
    doc["recorded_at"] = "2026-11-20T02:00:00Z"
    moment = validate_case(doc).recorded_at
    assert moment == datetime(2026, 11, 20, 10, tzinfo=timezone(timedelta(hours=8)))


# -- H-4.2 replaces ----------------------------------------------------------------------------


@pytest.mark.parametrize("registration_type", ["transfer", "change", "cancellation"])
def test_replacing_types_must_name_what_they_replace(registration_type: str) -> None:
    """H-4.2: transfer, change and cancellation revoke the certificates they replace."""
    doc = sample_case(0)
    doc["registration_type"] = registration_type
    assert "must list the certificates" in errors(doc)["replaces"]
    doc["replaces"] = []
    assert "must list the certificates" in errors(doc)["replaces"]


@pytest.mark.parametrize("registration_type", ["first", "correction", "mortgage"])
def test_other_types_must_not_replace(registration_type: str) -> None:
    """Only the replacing types carry ``replaces``."""
    doc = sample_case(0, replaces=["豫(2026)潢川县不动产权第0000001号"])
    doc["registration_type"] = registration_type
    assert "only transfer, change and cancellation" in errors(doc)["replaces"]


def test_replaced_serials_are_parsed_and_normalised() -> None:
    """H-1.6: full-width parentheses are accepted and stored as ASCII; bad and repeated
    serials are named by index."""
    doc = sample_case(0, replaces=["豫（2026）潢川县不动产权第0000001号"])
    assert validate_case(doc).replaces == ("豫(2026)潢川县不动产权第0000001号",)
    doc["replaces"] += ["豫(2026)潢川县不动产权第0000001号", "第1号", 17]
    found = errors(doc)
    assert "listed twice" in found["replaces[1]"]
    assert "serial must read like" in found["replaces[2]"]
    assert "must be a string" in found["replaces[3]"]


# -- certificates ------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["holders", "co_ownership", "location", "unit_number",
                                   "right_type", "right_nature", "use", "area", "term"])
def test_right_certificates_require_their_fields(field: str) -> None:
    """The data page of a 不动产权证书 (H-1.2): every line but 权利其他状况 and 附记."""
    doc = right_case(person(1))
    del doc["certificates"][0][field]
    assert errors(doc) == {f"certificates[0].{field}": "必填 / required"}


@pytest.mark.parametrize("field", ["proved_right", "holders", "location", "unit_number"])
def test_proof_certificates_require_their_fields(field: str) -> None:
    """The 不动产登记证明: 证明权利或事项, 权利人, 坐落, 不动产单元号 are required."""
    doc = sample_case(PROOF_N)
    del doc["certificates"][0][field]
    assert errors(doc) == {f"certificates[0].{field}": "必填 / required"}


def test_optional_fields_may_be_absent_or_blank() -> None:
    """附记 and the like are optional; blank counts as absent and is not stored."""
    doc = sample_case(BOTH_N)
    right, proof = doc["certificates"]
    right.update(other_status="", notes="   ")
    proof.update(other=None, notes="")
    case = validate_case(doc)
    assert case.certificates[0].notes is None and "notes" not in case.certificates[0].to_dict()
    assert case.certificates[1].other is None


def test_mortgage_proofs_need_obligors_other_proofs_do_not() -> None:
    """A 抵押权 proof names its 义务人; an 异议登记 may have none."""
    doc = sample_case(PROOF_N)
    del doc["certificates"][0]["obligors"]
    assert "must name its obligors" in errors(doc)["certificates[0].obligors"]
    doc["certificates"][0]["proved_right"] = "异议登记"
    assert validate_case(doc).certificates[0].obligors == ()


def test_proved_right_is_one_of_the_four() -> None:
    """不动产登记证明 proves 抵押权, 地役权, 预告登记 or 异议登记."""
    doc = sample_case(PROOF_N)
    doc["certificates"][0]["proved_right"] = "所有权"
    assert "抵押权、地役权、预告登记、异议登记" in errors(doc)["certificates[0].proved_right"]


@pytest.mark.parametrize(("unit", "problem"), [
    ("411526001002GB00011F0001", "unit number must be 28 characters"),
    ("411526001002XB00011F00010001", "position 13: parcel feature must be G, J or Z"),
])
def test_unit_numbers_are_checked(unit: str, problem: str) -> None:
    """GB/T 37346: the unit number's own problems appear at its path."""
    doc = sample_case(RIGHT_N)
    doc["certificates"][0]["unit_number"] = unit
    assert problem in errors(doc)["certificates[0].unit_number"]


def test_texts_are_stripped_and_parentheses_normalised() -> None:
    """One stored form: blanks trimmed, （） as (); lower-case x in IDs upper-cased."""
    doc = right_case({**person(1), "id_number": "11010519491231002x", "name": " 张三 "})
    doc["certificates"][0]["location"] = "  潢川县春申街道（跃进路）1号  "
    certificate = validate_case(doc).certificates[0]
    assert certificate.location == "潢川县春申街道(跃进路)1号"
    assert certificate.holders[0].id_number == "11010519491231002X"
    assert certificate.holders[0].name == "张三"


@pytest.mark.parametrize(("field", "limit"), [("location", 500), ("notes", LONG_TEXT_MAX),
                                              ("other_status", LONG_TEXT_MAX)])
def test_absurdly_long_texts_are_refused(field: str, limit: int) -> None:
    """Length limits keep out absurd input; the limit itself is accepted."""
    doc = sample_case(RIGHT_N)
    doc["certificates"][0][field] = "潢" * limit
    validate_case(doc)
    doc["certificates"][0][field] = "潢" * (limit + 1)
    assert f"at most {limit}" in errors(doc)[f"certificates[0].{field}"]


def test_control_characters_are_refused() -> None:
    """Text reaches the PDF; control characters other than line breaks and tabs do not."""
    doc = sample_case(RIGHT_N)
    doc["certificates"][0]["notes"] = "第一行\n第二行\t完"
    validate_case(doc)
    doc["certificates"][0]["notes"] = "附记\x00"
    assert "control characters" in errors(doc)["certificates[0].notes"]


def test_too_many_items_are_refused() -> None:
    """Lists are capped at ITEMS_MAX."""
    doc = sample_case(RIGHT_N)
    doc["certificates"] = doc["certificates"] * (ITEMS_MAX + 1)
    assert f"at most {ITEMS_MAX} items" in errors(doc)["certificates"]


# -- parties -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("holder", "field", "message"), [
    ({**person(1), "id_number": BAD_ID}, "id_number",
     "身份证号校验位错误 / resident ID check digit is wrong"),
    ({**BANK, "id_number": "91411526706173245H"}, "id_number", "credit code check character"),
    ({**person(1), "id_type": "passport", "id_number": "E12-34"}, "id_number", "passport number"),
    ({**person(1), "id_type": "driving_licence"}, "id_type", "must be one of"),
    ({**person(1), "phone": "1380000000"}, "phone", "11-digit mainland mobile"),
    ({**person(1), "phone": "23800000000"}, "phone", "11-digit mainland mobile"),
    ({**person(1), "name": "张" * (NAME_MAX + 1)}, "name", f"at most {NAME_MAX}"),
    ({**person(1), "name": " "}, "name", "required"),
])
def test_party_fields_are_checked(holder: dict[str, str], field: str, message: str) -> None:
    """Each holder field is checked; id_number by its id_type (GB 11643, GB 32100)."""
    found = errors(right_case(holder))
    assert list(found) == [f"certificates[0].holders[0].{field}"]
    assert message in found[f"certificates[0].holders[0].{field}"]


@pytest.mark.parametrize(("id_type", "id_number"), [
    ("passport", "e12345678"), ("other", "港澳居民来往内地通行证H1234567")])
def test_passports_and_other_documents_are_accepted(id_type: str, id_number: str) -> None:
    """Foreign holders and other documents have no check digit to verify."""
    case = validate_case(right_case({**person(1), "id_type": id_type, "id_number": id_number}))
    assert case.certificates[0].holders[0].id_number == id_number.upper()


def test_the_same_person_twice_is_refused() -> None:
    """A holder listed twice (same ID) is a data error, named at the second entry."""
    found = errors(right_case(person(1), person(1), co_ownership="共同共有"))
    assert list(found) == ["certificates[0].holders[1].id_number"]


def test_messages_never_contain_the_submitted_personal_data() -> None:
    """H-5.2.3: a case full of bad personal data reports each field without its value."""
    holders = [{**person(1), "id_number": BAD_ID, "phone": "1380013800"},
               {**BANK, "id_number": "91411526706173245H", "phone": "99999999999"}]
    doc = right_case(*holders, co_ownership="共同共有")
    with pytest.raises(CaseInvalid) as caught:
        validate_case(doc)
    text = str(caught.value) + " ".join(caught.value.fields.values())
    assert len(caught.value.fields) == 4
    for secret in (BAD_ID, "1380013800", "91411526706173245H", "99999999999"):
        assert secret not in text


# -- 共有情况 and shares ---------------------------------------------------------------------------


def test_sole_ownership_needs_exactly_one_holder() -> None:
    """单独所有 means one holder."""
    found = errors(right_case(person(1), person(2)))
    assert "exactly one holder" in found["certificates[0].holders"]


@pytest.mark.parametrize("co_ownership", ["共同共有", "按份共有"])
def test_co_ownership_needs_two_holders(co_ownership: str) -> None:
    """共有 takes at least two holders."""
    found = errors(right_case(person(1), co_ownership=co_ownership))
    assert "at least two holders" in found["certificates[0].holders"]


@pytest.mark.parametrize("shares", [("1/3", "1/3", "1/3"), ("50%", "1/2"), ("12.5%", "7/8"),
                                    ("33.3%", "33.3%", "33.4%"), ("1／2", "50％")])
def test_shares_adding_up_to_one_are_accepted(shares: tuple[str, ...]) -> None:
    """按份共有: shares in either notation add up to exactly one (exact fractions)."""
    holders = [person(i, share=share) for i, share in enumerate(shares)]
    case = validate_case(right_case(*holders, co_ownership="按份共有"))
    assert [h.share for h in case.certificates[0].holders] == [
        s.replace("／", "/").replace("％", "%") for s in shares]


@pytest.mark.parametrize("shares", [("1/2", "1/3"), ("1/3", "1/3", "33.33%"), ("60%", "60%")])
def test_shares_not_adding_up_to_one_are_refused(shares: tuple[str, ...]) -> None:
    """1/2 + 1/3 is not a whole; neither is 1/3 + 1/3 + 33.33%."""
    holders = [person(i, share=share) for i, share in enumerate(shares)]
    found = errors(right_case(*holders, co_ownership="按份共有"))
    assert found == {"certificates[0].holders": "按份共有的份额之和须为1 / shares must add up "
                                                "to exactly one"}


@pytest.mark.parametrize(("share", "message"), [
    ("half", "written like"), ("1/0", "written like"), ("0/2", "greater than 0"),
    ("3/2", "at most 1"), ("120%", "at most 1"), ("0%", "greater than 0"), ("0.5", "written like")])
def test_malformed_shares_are_refused(share: str, message: str) -> None:
    """A share is a positive fraction a/b or a percentage, at most the whole."""
    doc = right_case(person(1, share=share), person(2, share="1/2"), co_ownership="按份共有")
    assert message in errors(doc)["certificates[0].holders[0].share"]


def test_shares_belong_to_shared_ownership_only() -> None:
    """按份共有 needs every share; other 共有情况 and proofs take none."""
    found = errors(right_case(person(1, share="1/2"), person(2), co_ownership="按份共有"))
    assert list(found) == ["certificates[0].holders[1].share"]
    found = errors(right_case(person(1, share="1/2"), person(2), co_ownership="共同共有"))
    assert "only given under 按份共有" in found["certificates[0].holders[0].share"]
    doc = sample_case(PROOF_N)
    doc["certificates"][0]["obligors"][0]["share"] = "1/2"
    assert list(errors(doc)) == ["certificates[0].obligors[0].share"]


def test_shares_are_not_judged_when_co_ownership_is_bad() -> None:
    """A misspelt 共有情况 is reported once, not echoed on every holder's share."""
    doc = right_case(person(1, share="1/2"), person(2, share="1/2"), co_ownership="按份共用")
    assert list(errors(doc)) == ["certificates[0].co_ownership"]


# -- Z-3 delivery ------------------------------------------------------------------------------


@pytest.mark.parametrize("delivery", ["paper", "both"])
def test_legal_person_holders_get_electronic_certificates_only(delivery: str) -> None:
    """Z-3: a bank (credit code) as holder refuses paper delivery, reported at delivery."""
    doc = sample_case(PROOF_N)
    doc["delivery"] = delivery
    assert errors(doc) == {"delivery": "法人或其他组织仅发电子证书 / legal persons receive "
                                       "electronic certificates only (Z-3)"}


@pytest.mark.parametrize("delivery", ["paper", "both"])
def test_natural_persons_may_choose_paper(delivery: str) -> None:
    """Z-3 looks at holders only: a buyer's 预告登记 against a developer (a legal person as
    obligor) may still be delivered on paper."""
    doc = sample_case(PROOF_N)
    doc["certificates"][0].update(
        proved_right="预告登记", holders=[person(1)],
        obligors=[{**BANK, "name": "潢川县某房地产开发有限公司"}])
    doc["delivery"] = delivery
    assert validate_case(doc).delivery == delivery


def test_legal_person_as_right_holder_refuses_paper() -> None:
    """Z-3 applies to right certificates held by a company too."""
    doc = right_case(BANK)
    doc["delivery"] = "paper"
    assert list(errors(doc)) == ["delivery"]


# -- Z-1: everything at once -------------------------------------------------------------------


def test_a_case_with_many_errors_reports_every_one() -> None:
    """Z-1: one pass names every bad field, at every level, including Z-3."""
    doc = sample_case(BOTH_N)
    doc.update(case_no="123", recorded_at="yesterday", delivery="paper", extra=1)
    right, proof = doc["certificates"]
    right.update(holders=[{**person(1), "id_number": BAD_ID, "phone": "123"},
                          person(2, share="1/2")],
                 co_ownership="共同共有", unit_number="411526", term=None)
    proof.update(proved_right="抵押权", obligors=[])
    assert set(errors(doc)) == {
        "case_no", "recorded_at", "extra", "delivery",
        "certificates[0].holders[0].id_number", "certificates[0].holders[0].phone",
        "certificates[0].holders[1].share", "certificates[0].unit_number",
        "certificates[0].term", "certificates[1].obligors",
    }


# -- registrar corrections ---------------------------------------------------------------------


def current_right() -> dict[str, Any]:
    """A stored right certificate under 单独所有."""
    return validate_case(right_case(person(1))).certificates[0].to_dict()


def test_a_correction_is_applied_and_revalidated() -> None:
    """H-4.3: a draft's data with the changes applied, normalised like a new case."""
    updated = validate_certificate_changes("right", current_right(),
                                           {"location": " 潢川县春申街道（更正）1号 "})
    assert updated == {**current_right(), "location": "潢川县春申街道(更正)1号"}


def test_corrections_use_paths_relative_to_the_certificate() -> None:
    """Same error shape as cases: holders[0].id_number, not certificates[0]…."""
    found = change_errors("right", current_right(),
                          {"holders": [{**person(1), "id_number": BAD_ID}], "use": 5})
    assert set(found) == {"holders[0].id_number", "use"}


def test_a_correction_cannot_change_the_kind() -> None:
    """The kind of a certificate is fixed; repeating it is harmless."""
    assert "kind cannot be changed" in change_errors("right", current_right(),
                                                     {"kind": "proof"})["kind"]
    assert validate_certificate_changes("right", current_right(), {"kind": "right"})


def test_null_removes_an_optional_field_but_not_a_required_one() -> None:
    """null in a change removes the field; the whole certificate must still be complete."""
    current = {**current_right(), "notes": "旧附记"}
    assert "notes" not in validate_certificate_changes("right", current, {"notes": None})
    assert change_errors("right", current, {"term": None}) == {"term": "必填 / required"}


def test_corrections_refuse_unknown_fields_and_non_objects() -> None:
    """Unknown fields are named; changes that are not an object are refused whole."""
    assert change_errors("right", current_right(), {"colour": "red"}) == {
        "colour": "未知字段 / unknown field"}
    assert list(change_errors("right", current_right(), ["location"])) == ["changes"]


def test_corrections_enforce_z3_when_the_delivery_is_known() -> None:
    """Z-3: putting a legal person on a paper case's certificate is refused at holders."""
    changes = {"holders": [BANK]}
    assert list(change_errors("right", current_right(), changes, delivery="paper")) == [
        "holders"]
    assert validate_certificate_changes("right", current_right(), changes,
                                        delivery="electronic")["holders"] == [BANK]


def test_corrections_of_proofs_keep_proof_rules() -> None:
    """A proof's correction is checked with the proof rules (抵押权 needs obligors)."""
    current = validate_case(sample_case(PROOF_N)).certificates[0].to_dict()
    assert "must name its obligors" in change_errors("proof", current,
                                                     {"obligors": None})["obligors"]
    assert validate_certificate_changes("proof", current,
                                        {"other": "更正"})["other"] == "更正"


def test_a_cancellation_issues_no_certificate() -> None:
    """H-4.2: 注销登记 ends rights and names what it replaces, but issues nothing."""
    doc = sample_case(0, replaces=["豫(2026)潢川县不动产权第0000001号"])
    doc["registration_type"] = "cancellation"
    del doc["certificates"]
    assert validate_case(doc).certificates == ()
    doc["certificates"] = sample_case(0)["certificates"]
    assert "certificates" in errors(doc)


def test_every_other_case_needs_a_certificate() -> None:
    doc = sample_case(0)
    doc["certificates"] = []
    assert errors(doc) == {"certificates": "必填 / required"}


def test_unknown_fields_are_named_whatever_their_value() -> None:
    """null, "" and [] mean "absent" in a declared field only: an unknown field is named
    even when it carries one of them (the models drop absent values of their own fields)."""
    doc = sample_case(RIGHT_N)
    doc["priority"] = None
    doc["certificates"][0]["colour"] = ""
    doc["certificates"][0]["holders"][0]["nickname"] = []
    assert errors(doc) == dict.fromkeys(
        ("priority", "certificates[0].colour", "certificates[0].holders[0].nickname"),
        "未知字段 / unknown field")
