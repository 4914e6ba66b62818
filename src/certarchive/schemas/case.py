"""The case document of CONTRACT.md (``POST /api/v1/cases``, ``certarchive import``),
declared once: these models validate it (Z-1, Z-3, H-4.2) and /api/openapi.json shows them.

The GB/T checks are the functions of :mod:`certarchive.validation.identifiers`, plugged in
as validators: GB 11643 resident IDs and GB 32100 credit codes (by ``id_type``, a rule of
:class:`Party`), GB/T 37346 unit numbers, H-1.6 serials in ``replaces``.  Rules across
fields (shares, 共有情况, obligors of a mortgage, Z-3, ``replaces``) are the models'
:meth:`~certarchive.schemas.rules.Checked.rules`, so that one pass names every bad field.

Normalisation, so that one text has one stored form: strings are stripped and full-width
parentheses （） become ASCII (), the form serials are printed in; identifiers are
upper-cased; null, blank strings and empty lists count as absent.  Messages name the
problem, never the submitted value (H-5.2.3).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from fractions import Fraction
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    GetJsonSchemaHandler,
    ModelWrapValidatorHandler,
    SerializeAsAny,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_serializer,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

from certarchive.i18n import _
from certarchive.schemas.rules import Checked, Partial, Problem, is_absent, line_error
from certarchive.schemas.types import NOT_STRING
from certarchive.validation import identifiers as ids
from certarchive.validation.text import text_problem

REGISTRATION_TYPES = ("first", "transfer", "change", "cancellation", "correction", "mortgage")
REPLACING_TYPES = ("transfer", "change", "cancellation")  # they revoke what they replace (H-4.2)
DELIVERIES = ("electronic", "paper", "both")
PAPER_DELIVERIES = ("paper", "both")
KINDS = ("right", "proof")
CO_OWNERSHIPS = ("单独所有", "共同共有", "按份共有")
SOLE, SHARED = "单独所有", "按份共有"
PROVED_RIGHTS = ("抵押权", "地役权", "预告登记", "异议登记")
MORTGAGE = "抵押权"
ID_TYPES = ("resident_id", "credit_code", "passport", "other")
LEGAL_PERSON_ID_TYPE = "credit_code"

# Limits that refuse absurd input, not ones a real certificate comes near. 附记-like fields
# get more room: they list shares, mortgage terms and past events.
NAME_MAX = 100
TEXT_MAX = 500
LONG_TEXT_MAX = 2000
ITEMS_MAX = 100

REQUIRED = _("必填")
Z3 = _("法人或其他组织仅发电子证书")
PAPER = "paper"  # validation context: the case's delivery includes paper (Z-3)

# Case number: year of acceptance, 6-digit county code (GB/T 2260), sequence of that year
# zero-padded to 6 digits and allowed to grow to 8, e.g. 2026-411526-000123.
CASE_NO_PATTERN = "[0-9]{4}-[0-9]{6}-[0-9]{6,8}"
PHONE_PATTERN = ids.MOBILE_PHONE.pattern  # mainland mobile numbers
EMAIL_PATTERN = r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,185}\.[A-Za-z]{2,24}"
FEE_PATTERN = r"[0-9]{1,9}(\.[0-9]{1,2})?"
_PASSPORT = re.compile(r"[0-9A-Z]{5,20}")
_SHARE_RATIO = re.compile(r"([0-9]{1,6})/([0-9]{1,6})")
_SHARE_PERCENT = re.compile(r"[0-9]{1,3}(\.[0-9]{1,6})?%")
_PARENTHESES = str.maketrans("（）", "()")
_SHARE_SYMBOLS = str.maketrans("／％", "/%")


def _fail(message: str) -> PydanticCustomError:
    return PydanticCustomError("case_field", message)


# -- field types -------------------------------------------------------------------------


def _case_text(value: object) -> str:
    """A JSON string, stripped, with ASCII parentheses, under the text rule."""
    if not isinstance(value, str):
        raise PydanticCustomError("text_type", NOT_STRING)
    text = value.strip().translate(_PARENTHESES)
    if problem := text_problem(text):
        raise PydanticCustomError("text_rule", problem)
    return text


def CaseText(max_length: int = NAME_MAX) -> Any:
    """A text of the case document, at most ``max_length`` characters once stripped."""
    return Annotated[str, BeforeValidator(_case_text), Field(max_length=max_length)]


def Choice(*options: str) -> Any:
    """One of the contract's words (a string first, so that 5 is "must be a string")."""
    return Annotated[Literal[options], BeforeValidator(_case_text)]  # type: ignore[valid-type]


def _matching(pattern: str, message: str) -> Any:
    """A text matching ``pattern`` whole, refused with the contract's own example."""
    compiled = re.compile(pattern)

    def check(text: str) -> str:
        if not compiled.fullmatch(text):
            raise _fail(message)
        return text

    return Annotated[
        str,
        BeforeValidator(_case_text),
        Field(max_length=NAME_MAX, json_schema_extra={"pattern": f"^{pattern}$"}),
        AfterValidator(check),
    ]


def _identifier(check: Callable[[str], list[str]]) -> Callable[[str], str]:
    """A validator from a GB/T check of :mod:`~certarchive.validation.identifiers`."""

    def validate(text: str) -> str:
        if problems := check(text):
            raise _fail("; ".join(problems))
        return ids.normalize(text)

    return validate


def _serial(text: str) -> str:
    try:
        return ids.normalize_serial(text)
    except ValueError as bad:
        raise _fail(str(bad)) from None


def share_value(text: str) -> Fraction | None:
    """The share "1/2" or "30%" as a fraction, None if it is neither form."""
    if match := _SHARE_RATIO.fullmatch(text):
        return None if int(match[2]) == 0 else Fraction(int(match[1]), int(match[2]))
    if _SHARE_PERCENT.fullmatch(text):
        return Fraction(text[:-1]) / 100
    return None


def _share(text: str) -> str:
    text = text.translate(_SHARE_SYMBOLS)
    value = share_value(text)
    if value is None:
        raise _fail(_("份额须写作1/2或30%"))
    if not 0 < value <= 1:
        raise _fail(_("份额须大于0且不超过1"))
    return text


def _moment(value: object) -> datetime:
    """An ISO 8601 time with a zone (the instant the case was recorded)."""
    text = _case_text(value)
    try:
        moment: datetime | None = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise _fail(_("须为带时区的ISO 8601时间"))
    return moment


def _check_passport(text: str) -> list[str]:
    if _PASSPORT.fullmatch(ids.normalize(text)):
        return []
    return [_("护照号须为5至20位字母或数字")]


def _check_nothing(text: str) -> list[str]:
    """Other documents have no common format: only the generic string limits apply."""
    return []


#: id_type -> the check of its id_number (GB 11643, GB 32100).
ID_CHECKS: dict[str, Callable[[str], list[str]]] = {
    "resident_id": ids.check_resident_id,
    "credit_code": ids.check_credit_code,
    "passport": _check_passport,
    "other": _check_nothing,
}

UnitNumber = Annotated[
    CaseText(),
    AfterValidator(_identifier(ids.check_unit_number)),
    Field(description="28 characters, GB/T 37346"),
]
Serial = Annotated[
    CaseText(), AfterValidator(_serial), Field(examples=["豫(2026)潢川县不动产权第0000001号"])
]
Share = Annotated[CaseText(), AfterValidator(_share), Field(examples=["1/2", "30%"])]
RecordedAt = Annotated[datetime, BeforeValidator(_moment)]
IdNumber = Annotated[
    CaseText(),
    AfterValidator(ids.normalize),
    Field(description="checked by id_type: GB 11643 check digit, GB 32100 check character"),
]


# -- the document ----------------------------------------------------------------------------


class _Stored(Checked):
    """A part of the case document with the plain form the registry stores."""

    def to_dict(self) -> dict[str, Any]:
        """Plain data, as in the case document (absent fields left out)."""
        return _compact(self.model_dump(mode="json"))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Any:
        """Inverse of ``to_dict``."""
        return cls.model_validate(dict(data))


def _compact(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _compact(v) for k, v in value.items() if v is not None and v != []}
    if isinstance(value, list):
        return [_compact(item) for item in value]
    return value


class Party(_Stored):
    """A holder (权利人) or obligor (义务人). ``share`` only under 按份共有, e.g. "1/2"."""

    name: CaseText()  # type: ignore[valid-type]
    id_type: Choice(*ID_TYPES)  # type: ignore[valid-type]
    id_number: IdNumber
    phone: _matching(  # type: ignore[valid-type]
        PHONE_PATTERN,
        _("手机号须为11位大陆手机号码"),
    ) = None
    email: _matching(  # type: ignore[valid-type]
        EMAIL_PATTERN, _("电子邮箱格式不正确")
    ) = None
    share: Share | None = None

    @property
    def is_legal_person(self) -> bool:
        """Holders with a credit code are legal persons or other organisations (Z-3)."""
        return self.id_type == LEGAL_PERSON_ID_TYPE

    @classmethod
    def rules(
        cls, values: Mapping[str, Any], data: dict[str, Any], context: Mapping[str, Any]
    ) -> list[Problem]:
        """The ID number by its type's check (GB 11643, GB 32100, passports)."""
        id_type, id_number = values["id_type"], values["id_number"]
        if id_type is None or id_number is None:
            return []
        problems = ID_CHECKS[id_type](id_number)
        return [(("id_number",), "; ".join(problems))] if problems else []


Parties = Annotated[tuple[Party, ...], Field(max_length=ITEMS_MAX)]


def _party_rules(loc: str, parties: tuple[Party | None, ...], shared: bool | None) -> list[Problem]:
    """Each party at most once; a share for every party under 按份共有 and for no one else.

    ``shared`` is None when 共有情况 is missing or bad: shares are then not judged.
    """
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    for i, party in enumerate(parties):
        if party is None:
            continue
        if (party.id_type, party.id_number) in seen:
            problems.append(((loc, i, "id_number"), _("与前面的当事人重复")))
        seen.add((party.id_type, party.id_number))
        if shared and party.share is None:
            problems.append(((loc, i, "share"), _("按份共有须填写每人份额")))
        elif shared is False and party.share is not None:
            problems.append(((loc, i, "share"), _("仅按份共有填写份额")))
    return problems


def _co_ownership_rules(co_ownership: str, holders: tuple[Party | None, ...]) -> list[Problem]:
    """Holder count fits 共有情况, and 按份共有 shares add up to exactly one."""
    loc = ("holders",)
    if co_ownership == SOLE and len(holders) != 1:
        return [(loc, _("单独所有须恰有一个权利人"))]
    if co_ownership != SOLE and len(holders) < 2:
        return [(loc, _("共有须至少两个权利人"))]
    if co_ownership == SHARED:
        shares = [h.share for h in holders if h is not None and h.share]
        if len(shares) == len(holders) and sum(share_value(s) or 0 for s in shares) != 1:
            return [(loc, _("按份共有的份额之和须为1"))]
    return []


class CertificateData(_Stored):
    """One certificate's data page: a :class:`RightCertificate` or a
    :class:`ProofCertificate`, chosen by ``kind`` (validating this class gives one of them;
    a missing or unknown kind is the only problem reported, the other fields depend on it).
    """

    kind: Choice(*KINDS)  # type: ignore[valid-type]
    holders: Parties
    location: CaseText(TEXT_MAX)  # type: ignore[valid-type]
    unit_number: UnitNumber
    notes: CaseText(LONG_TEXT_MAX) | None = None  # type: ignore[valid-type]

    @model_validator(mode="wrap")
    @classmethod
    def _by_kind(
        cls, data: Any, handler: ModelWrapValidatorHandler[Any], info: ValidationInfo
    ) -> Any:
        if cls is not CertificateData or not isinstance(data, dict):
            return handler(data)
        model = kind_model(data)
        if model is None:
            _kind_only(data.get("kind"))
        return model.model_validate(data, context=info.context)  # type: ignore[union-attr]

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """The document shows what validation accepts: one of the two kinds."""
        if cls is not CertificateData:
            return handler(schema)
        kinds = [handler(model.__pydantic_core_schema__) for model in KIND_MODELS.values()]
        return {"oneOf": kinds, "description": "by kind: right (不动产权证书), proof (证明)"}

    @classmethod
    def rules(
        cls, values: Mapping[str, Any], data: dict[str, Any], context: Mapping[str, Any]
    ) -> list[Problem]:
        """Z-3 when the caller says the delivery includes paper (corrections): reported at
        holders, once the holder's own fields are valid."""
        holders = values["holders"] or ()
        if context.get(PAPER) and any(h is not None and h.is_legal_person for h in holders):
            return [(("holders",), Z3)]
        return []


def _kind_only(kind: object) -> None:
    """Refuse a certificate by its kind alone (missing, not a string, or unknown)."""
    if is_absent(kind):
        errors = [{"type": "missing", "loc": ("kind",), "input": None}]
    else:
        try:
            TypeAdapter(Choice(*KINDS)).validate_python(kind)
        except ValidationError as invalid:
            errors = [line_error({**e, "loc": ("kind",)}) for e in invalid.errors()]
    raise ValidationError.from_exception_data("CertificateData", errors)  # type: ignore[arg-type]


class RightCertificate(CertificateData):
    """不动产权证书 (H-1.2): every line of the data page but 权利其他状况 and 附记."""

    kind: Literal["right"]  # type: ignore[assignment]
    co_ownership: Choice(*CO_OWNERSHIPS)  # type: ignore[valid-type]
    right_type: CaseText(TEXT_MAX)  # type: ignore[valid-type]
    right_nature: CaseText(TEXT_MAX)  # type: ignore[valid-type]
    use: CaseText(TEXT_MAX)  # type: ignore[valid-type]
    area: CaseText(TEXT_MAX)  # type: ignore[valid-type]
    term: CaseText(TEXT_MAX)  # type: ignore[valid-type]
    other_status: CaseText(LONG_TEXT_MAX) | None = None  # type: ignore[valid-type]

    @classmethod
    def rules(
        cls, values: Mapping[str, Any], data: dict[str, Any], context: Mapping[str, Any]
    ) -> list[Problem]:
        """共有情况 against the holders and their shares."""
        holders, co_ownership = values["holders"] or (), values["co_ownership"]
        shared = None if co_ownership is None else co_ownership == SHARED
        problems = _party_rules("holders", holders, shared)
        if co_ownership and holders:
            problems += _co_ownership_rules(co_ownership, holders)
        return problems + super().rules(values, data, context)


class ProofCertificate(CertificateData):
    """不动产登记证明: 证明权利或事项, 权利人, 义务人 (a mortgage names them), 坐落, 单元号."""

    kind: Literal["proof"]  # type: ignore[assignment]
    proved_right: Choice(*PROVED_RIGHTS)  # type: ignore[valid-type]
    obligors: Parties = ()
    other: CaseText(LONG_TEXT_MAX) | None = None  # type: ignore[valid-type]

    @classmethod
    def rules(
        cls, values: Mapping[str, Any], data: dict[str, Any], context: Mapping[str, Any]
    ) -> list[Problem]:
        """No shares on a proof; a 抵押权 proof names its obligors."""
        problems = _party_rules("holders", values["holders"] or (), False)
        problems += _party_rules("obligors", values["obligors"] or (), False)
        if values["proved_right"] == MORTGAGE and not values["obligors"]:
            problems.append((("obligors",), _("抵押权证明须列明义务人")))
        return problems + super().rules(values, data, context)


KIND_MODELS: dict[str, type[CertificateData]] = {
    "right": RightCertificate,
    "proof": ProofCertificate,
}


def kind_model(raw: dict[str, Any]) -> type[CertificateData] | None:
    """The model of a raw certificate's kind, None when missing or not one of ours."""
    kind = raw.get("kind")
    return KIND_MODELS.get(kind.strip()) if isinstance(kind, str) else None


def _legal_person_holder(certificate: CertificateData | None, raw: Any) -> bool:
    """Whether a certificate (validated, or else raw) has a valid legal-person holder."""
    if certificate is not None:
        return any(h.is_legal_person for h in certificate.holders)
    if not isinstance(raw, dict) or not isinstance(raw.get("holders"), list):
        return False
    if kind_model(raw) is None:
        return False  # a certificate without a valid kind is not read further
    holders = Partial(CertificateData, raw, None)["holders"] or ()
    return any(h is not None and h.is_legal_person for h in holders)


class CaseDocument(_Stored):
    """A recorded case: what upstream sends (Z-1), and, validated, what the registry keeps."""

    case_no: _matching(  # type: ignore[valid-type]
        CASE_NO_PATTERN,
        _("案件编号须形如2026-411526-000123"),
    )
    registration_type: Choice(*REGISTRATION_TYPES)  # type: ignore[valid-type]
    recorded_at: RecordedAt
    delivery: Choice(*DELIVERIES)  # type: ignore[valid-type]
    certificates: Annotated[
        tuple[SerializeAsAny[CertificateData], ...],
        Field(
            max_length=ITEMS_MAX,
            description="required, except for a cancellation, which issues none",
        ),
    ] = ()
    fee: _matching(  # type: ignore[valid-type]
        FEE_PATTERN, _("登记费应为金额，如80.00")
    ) = None
    replaces: Annotated[
        tuple[Serial, ...],
        Field(
            max_length=ITEMS_MAX,
            description="the serials a transfer, change or cancellation replaces (H-4.2)",
        ),
    ] = ()

    @field_serializer("recorded_at")
    def _iso(self, moment: datetime) -> str:
        return moment.isoformat()

    @classmethod
    def rules(
        cls, values: Mapping[str, Any], data: dict[str, Any], context: Mapping[str, Any]
    ) -> list[Problem]:
        """Z-3 (reported at delivery), what a case replaces (H-4.2), what it issues."""
        problems: list[Problem] = []
        certificates = values["certificates"]
        raws = data.get("certificates") if isinstance(data.get("certificates"), list) else []
        if values["delivery"] in PAPER_DELIVERIES and any(
            _legal_person_holder(certificates[i] if certificates else None, raw)
            for i, raw in enumerate(raws)
        ):
            problems.append((("delivery",), Z3))
        problems += _replaces_rules(values["registration_type"], values["replaces"] or None)
        registration_type = values["registration_type"]
        if registration_type == "cancellation" and certificates:
            problems.append((("certificates",), _("注销登记不颁发证书")))
        elif registration_type != "cancellation" and not certificates:
            problems.append((("certificates",), REQUIRED))
        return problems


def _replaces_rules(
    registration_type: str | None, replaces: tuple[str | None, ...] | None
) -> list[Problem]:
    """Transfer, change and cancellation name what they replace (H-4.2); no other type does."""
    problems: list[Problem] = []
    if registration_type in REPLACING_TYPES and replaces is None:
        problems.append(
            (
                ("replaces",),
                _("转移、变更、注销登记须列明被替换的证书"),
            )
        )
    elif registration_type not in (None, *REPLACING_TYPES) and replaces is not None:
        problems.append(
            (
                ("replaces",),
                _("仅转移、变更、注销登记可替换证书"),
            )
        )
    seen = set()
    for i, serial in enumerate(replaces or ()):
        if serial in seen:
            problems.append((("replaces", i), _("证书编号重复")))
        if serial is not None:
            seen.add(serial)
    return problems
