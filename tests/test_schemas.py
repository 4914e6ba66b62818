"""The request bodies declared once (#13, point 3): the services validate with them, the
API document shows them, and their words are the contract's."""

from __future__ import annotations

from typing import Any, get_args

import pytest

from certarchive.schemas.bodies import (
    BODIES,
    OPTIONAL,
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
                "paid_at": "须为带时区的ISO 8601时间 / must be an ISO 8601 time with a time zone",
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
                "receipt_no": SURROGATE,
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
    assert refused.value.fields == fields
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
    assert refused.value.fields == {"$": "须为JSON对象 / must be a JSON object"}
