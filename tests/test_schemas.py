"""The request bodies declared once (#13, point 3): the services validate with them, the
API document shows them, and their words are the contract's."""

from __future__ import annotations

from typing import Any, get_args

import pytest

from certarchive.i18n import bilingual
from certarchive.schemas.bodies import (
    BODIES,
    OPTIONAL,
    Comment,
    HolderSignIn,
    PaperEventName,
    Payment,
    Revocation,
    RevocationCause,
)
from certarchive.schemas.errors import validated
from certarchive.services.certificates import PAPER_EVENTS, REVOCATION_CAUSES
from certarchive.services.errors import Invalid
from certarchive.validation.text import SURROGATE
from certarchive.views.openapi import COMPONENTS, DOCUMENT
from tests.i18n_support import both

TIME = "2026-11-20T10:00:00+08:00"


def test_the_document_shows_the_declared_bodies() -> None:
    """Each request body is a reference to the component generated from its model (and
    every model it uses is a component too)."""
    components = DOCUMENT["components"]["schemas"]
    for (path, method), model in BODIES.items():
        body = DOCUMENT["paths"][path][method]["requestBody"]
        ref = COMPONENTS.format(model=model.__name__)
        assert body["content"]["application/json"]["schema"] == {"$ref": ref}
        generated = model.model_json_schema(ref_template=COMPONENTS)
        for name, schema in generated.pop("$defs", {}).items():
            assert components[name] == schema
        assert components[model.__name__] == generated
        assert body["required"] == ((path, method) not in OPTIONAL)


def test_the_literals_are_the_services_names() -> None:
    assert set(get_args(RevocationCause)) == set(REVOCATION_CAUSES)
    assert set(get_args(PaperEventName)) == set(PAPER_EVENTS)


@pytest.mark.parametrize(
    ("payment", "fields"),
    [
        (
            {},
            {
                "receipt_no": "必填 / required",
                "amount": "必填 / required",
                "paid_at": "必填 / required",
            },
        ),
        (
            {"receipt_no": "  ", "amount": "-1", "paid_at": "2026-11-20"},
            {
                "receipt_no": "必填 / required",
                "amount": "须不小于0 / must be at least 0",
                "paid_at": "须为带时区的ISO 8601时间 / must be an ISO 8601 time with a time "
                "zone, e.g. 2026-11-20T10:00:00+08:00",
            },
        ),
        (
            {"receipt_no": 5, "amount": True, "paid_at": TIME, "extra": 1},
            {
                "receipt_no": "须为字符串 / must be a string",
                "amount": "须为数字 / must be a number",
                "extra": "未知字段 / unknown field",
            },
        ),
        (
            {"receipt_no": "R\ud800", "amount": "NaN", "paid_at": TIME},
            {
                "receipt_no": bilingual(SURROGATE),
                "amount": "须为有限数字 / must be a finite number",
            },
        ),
        (
            {"receipt_no": "x" * 65, "amount": 1, "paid_at": TIME},
            {"receipt_no": "不能超过64个字符 / must be at most 64 characters"},
        ),
    ],
)
def test_payment_refusals_name_every_field_in_the_contracts_words(
    payment: dict[str, Any], fields: dict[str, str]
) -> None:
    with pytest.raises(Invalid) as refused:
        validated(Payment, payment, "缴费信息无效 / the payment is invalid")
    assert both(refused.value.fields) == fields
    assert refused.value.status == 422


def test_a_valid_body_is_stripped_and_normalised() -> None:
    body = validated(Payment, {"receipt_no": " R1 ", "amount": "80.00", "paid_at": TIME}, "x")
    assert (body.receipt_no, str(body.amount), body.paid_at) == ("R1", "80.00", TIME)
    revocation = validated(Revocation, {"cause": "transfer", "reason": " 转移 "}, "x")
    assert revocation.reason == "转移" and revocation.case_no is None


@pytest.mark.parametrize("value", [None, [], "text", 3])
def test_a_body_that_is_not_an_object_is_refused(value: Any) -> None:
    with pytest.raises(Invalid) as refused:
        validated(Revocation, value, "x")
    assert both(refused.value.fields) == {"$": "须为JSON对象 / must be a JSON object"}


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"id_number": "必填 / required", "download_code": "必填 / required"}),
        (
            {"id_number": 41, "download_code": "x" * 33},
            {
                "id_number": "须为字符串 / must be a string",
                "download_code": "不能超过32个字符 / must be at most 32 characters",
            },
        ),
        (
            {"id_number": "4115\x00", "download_code": " "},
            {
                "id_number": "含有控制字符 / contains control characters",
                "download_code": "必填 / required",
            },
        ),
    ],
)
def test_the_holder_sign_in_body(body: dict[str, Any], fields: dict[str, str]) -> None:
    """H-2.2: the API and the holder page read the sign-in through one model."""
    with pytest.raises(Invalid) as refused:
        validated(HolderSignIn, body, "x")
    assert both(refused.value.fields) == fields
    signed = validated(HolderSignIn, {"id_number": " 4115x ", "download_code": "AB12"}, "x")
    assert (signed.id_number, signed.download_code) == ("4115x", "AB12")


def test_the_comment_body_is_optional_but_a_text_when_given() -> None:
    """Issuing again and filing take an optional comment; a non-string or an absurd one is
    refused (it was silently dropped or cut before it was declared)."""
    assert validated(Comment, {}, "x").comment == ""
    assert validated(Comment, {"comment": " 归档 "}, "x").comment == "归档"
    for comment, message in (
        (5, "须为字符串 / must be a string"),
        ("x" * 501, "不能超过500个字符 / must be at most 500 characters"),
    ):
        with pytest.raises(Invalid) as refused:
            validated(Comment, {"comment": comment}, "x")
        assert both(refused.value.fields) == {"comment": message}


def test_the_case_document_is_a_component_with_both_kinds() -> None:
    """The case document of the API document is the model's: a certificate is one of the
    two kinds, each closed, a party's fields as validated."""
    components = DOCUMENT["components"]["schemas"]
    case = components["CaseDocument"]
    assert set(case["required"]) == {"case_no", "registration_type", "recorded_at", "delivery"}
    assert case["properties"]["case_no"]["pattern"] == "^[0-9]{4}-[0-9]{6}-[0-9]{6,8}$"
    kinds = components["CertificateData"]["oneOf"]
    resolved = [components[k["$ref"].rsplit("/", 1)[1]] if "$ref" in k else k for k in kinds]
    assert {k["properties"]["kind"]["const"] for k in resolved} == {"right", "proof"}
    assert all(k["additionalProperties"] is False for k in resolved)
    assert components["Party"]["properties"]["phone"]["pattern"] == "^1[3-9][0-9]{9}$"
