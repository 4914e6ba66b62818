"""The case document of CONTRACT.md, checked whole before anything is recorded (Z-1).

``validate_case`` reads an untrusted JSON value and either returns a frozen ``CaseData`` or
raises ``CaseInvalid``, whose ``fields`` maps the JSON path of every bad field
(``certificates[0].holders[1].id_number``) to a "中文 / English" message. All fields are
checked in one pass so that the upstream system can fix a case in one round trip; messages
name the problem, never the submitted value (H-5.2.3).

Normalisation, so that one text has one stored form: strings are stripped and full-width
parentheses （） become ASCII (), the form serials are printed in (``format_serial``);
identifiers are upper-cased; null, blank strings and empty lists count as absent.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from fractions import Fraction
from typing import Any

from certarchive.validation import identifiers as ids
from certarchive.validation.text import text_problem

ROOT = "$"  # the path reported when the document itself is not an object

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

# Case number: year of acceptance, 6-digit county code (GB/T 2260), sequence of that year
# zero-padded to 6 digits and allowed to grow to 8, e.g. 2026-411526-000123.
_CASE_NO = re.compile(r"[0-9]{4}-[0-9]{6}-[0-9]{6,8}")
_PHONE = ids.MOBILE_PHONE
_PASSPORT = re.compile(r"[0-9A-Z]{5,20}")
_SHARE_RATIO = re.compile(r"([0-9]{1,6})/([0-9]{1,6})")
_SHARE_PERCENT = re.compile(r"[0-9]{1,3}(\.[0-9]{1,6})?%")
_PARENTHESES = str.maketrans("（）", "()")
_SHARE_SYMBOLS = str.maketrans("／％", "/%")

_REQUIRED = "必填 / required"
_UNKNOWN = "未知字段 / unknown field"
_NOT_OBJECT = "须为JSON对象 / must be a JSON object"
_NOT_LIST = "须为数组 / must be a list"
_NOT_STRING = "须为字符串 / must be a string"
_Z3 = "法人或其他组织仅发电子证书 / legal persons receive electronic certificates only"


class CaseInvalid(ValueError):
    """A case document (or certificate change) that breaks the rules; ``fields`` says where.

    The exception text lists the paths only, so logging it leaks no personal data.
    """

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("invalid fields: " + ", ".join(fields))
        self.fields = fields


# -- the validated data ---------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """JSON-able form of a field value of the dataclasses below."""
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Party | CertificateData):
        return value.to_dict()
    return value


def _compact(obj: Party | CertificateData | CaseData) -> dict[str, Any]:
    """The fields of ``obj`` that are set, as plain data (absent ones are left out)."""
    values = ((f.name, getattr(obj, f.name)) for f in fields(obj))
    return {name: _plain(value) for name, value in values if value is not None and value != ()}


@dataclass(frozen=True)
class Party:
    """A holder (权利人) or obligor (义务人). ``share`` only under 按份共有, e.g. "1/2"."""

    name: str
    id_type: str
    id_number: str
    phone: str | None = None
    share: str | None = None

    @property
    def is_legal_person(self) -> bool:
        """Holders with a credit code are legal persons or other organisations (Z-3)."""
        return self.id_type == LEGAL_PERSON_ID_TYPE

    def to_dict(self) -> dict[str, Any]:
        """Plain data, as in the case document."""
        return _compact(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Party:
        """Inverse of ``to_dict``; trusts its input (use ``validate_case`` for foreign data)."""
        return cls(**data)


@dataclass(frozen=True)
class CertificateData:
    """One certificate's data page. Fields of the other kind stay None or empty.

    right: co_ownership, right_type, right_nature, use, area, term, other_status;
    proof: proved_right, obligors, other; both: holders, location, unit_number, notes.
    """

    kind: str
    holders: tuple[Party, ...]
    location: str
    unit_number: str
    co_ownership: str | None = None
    right_type: str | None = None
    right_nature: str | None = None
    use: str | None = None
    area: str | None = None
    term: str | None = None
    other_status: str | None = None
    proved_right: str | None = None
    obligors: tuple[Party, ...] = ()
    other: str | None = None
    notes: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain data, as in the case document (what the registry stores and the PDF shows)."""
        return _compact(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CertificateData:
        """Inverse of ``to_dict``; trusts its input (use ``validate_case`` for foreign data)."""
        parties = {
            key: tuple(Party.from_dict(p) for p in data[key])
            for key in ("holders", "obligors")
            if key in data
        }
        return cls(**{**data, **parties})


@dataclass(frozen=True)
class CaseData:
    """A recorded case: what upstream sent, validated and normalised."""

    case_no: str
    registration_type: str
    recorded_at: datetime
    delivery: str
    certificates: tuple[CertificateData, ...]
    replaces: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain data, as in the case document."""
        return _compact(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CaseData:
        """Inverse of ``to_dict``; trusts its input (use ``validate_case`` for foreign data)."""
        return cls(
            **{
                **data,
                "recorded_at": datetime.fromisoformat(data["recorded_at"]),
                "certificates": tuple(
                    CertificateData.from_dict(c) for c in data.get("certificates", ())
                ),
                "replaces": tuple(data.get("replaces", ())),
            }
        )


# -- reading untrusted JSON -------------------------------------------------------------------


class _Errors(dict[str, str]):
    """Problems found so far, by JSON path. A path keeps its first problem: later checks
    that depend on an already bad value would only repeat it less precisely."""

    def add(self, path: str, message: str) -> None:
        self.setdefault(path, message)


_Parser = Callable[[_Errors, Any, str], Any]  # (errors, raw value, path) -> value or None
_Spec = Mapping[str, tuple[bool, _Parser]]  # field -> (required, parser)


def _join(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)


def _is_absent(raw: Any) -> bool:
    return raw is None or raw == [] or (isinstance(raw, str) and not raw.strip())


def _read_object(errors: _Errors, raw: Any, path: str, spec: _Spec) -> dict[str, Any] | None:
    """Each field of ``spec`` parsed (None when absent or bad); unknown fields reported."""
    if not isinstance(raw, dict):
        errors.add(path or ROOT, _NOT_OBJECT)
        return None
    for key in raw:
        if key not in spec:
            errors.add(_join(path, key), _UNKNOWN)
    return {key: _field(errors, raw, path, key, *field) for key, field in spec.items()}


def _field(
    errors: _Errors, raw: dict[str, Any], path: str, key: str, required: bool, parse: _Parser
) -> Any:
    """Field ``key`` of the object ``raw`` parsed, or None when absent or bad."""
    value = raw.get(key)
    if not _is_absent(value):
        return parse(errors, value, _join(path, key))
    if required:
        errors.add(_join(path, key), _REQUIRED)
    return None


def _string(errors: _Errors, raw: Any, path: str, limit: int) -> str | None:
    """``raw`` stripped, with ASCII parentheses, if it is a string of at most ``limit``."""
    if not isinstance(raw, str):
        errors.add(path, _NOT_STRING)
        return None
    text = raw.strip().translate(_PARENTHESES)
    if len(text) > limit:
        errors.add(path, f"不能超过{limit}个字符 / must be at most {limit} characters")
    elif problem := text_problem(text):
        errors.add(path, problem)
    else:
        return text
    return None


def _text(limit: int) -> _Parser:
    def parse(errors: _Errors, raw: Any, path: str) -> str | None:
        return _string(errors, raw, path, limit)

    return parse


def _one_of(*options: str) -> _Parser:
    message = f"须为以下之一：{'、'.join(options)} / must be one of: {', '.join(options)}"

    def parse(errors: _Errors, raw: Any, path: str) -> str | None:
        text = _string(errors, raw, path, NAME_MAX)
        if text is not None and text not in options:
            errors.add(path, message)
            return None
        return text

    return parse


def _matching(pattern: re.Pattern[str], message: str) -> _Parser:
    def parse(errors: _Errors, raw: Any, path: str) -> str | None:
        text = _string(errors, raw, path, NAME_MAX)
        if text is not None and not pattern.fullmatch(text):
            errors.add(path, message)
            return None
        return text

    return parse


def _list_of(item: _Parser) -> _Parser:
    """A list of at most ITEMS_MAX items, each parsed at its own path ``path[i]``."""

    def parse(errors: _Errors, raw: Any, path: str) -> tuple[Any, ...] | None:
        if not isinstance(raw, list):
            errors.add(path, _NOT_LIST)
            return None
        if len(raw) > ITEMS_MAX:
            errors.add(path, f"不能超过{ITEMS_MAX}项 / must have at most {ITEMS_MAX} items")
            return None
        return tuple(item(errors, value, f"{path}[{i}]") for i, value in enumerate(raw))

    return parse


def _checked(
    errors: _Errors, text: str, path: str, check: Callable[[str], list[str]]
) -> str | None:
    """The normalised identifier ``text`` if ``check`` finds no problem, else None."""
    problems = check(text)
    if problems:
        errors.add(path, "; ".join(problems))
        return None
    return ids.normalize(text)


def _unit_number(errors: _Errors, raw: Any, path: str) -> str | None:
    text = _string(errors, raw, path, NAME_MAX)
    return None if text is None else _checked(errors, text, path, ids.check_unit_number)


def _timestamp(errors: _Errors, raw: Any, path: str) -> datetime | None:
    text = _string(errors, raw, path, NAME_MAX)
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        errors.add(
            path,
            "须为带时区的ISO 8601时间 / must be an ISO 8601 time with a time zone, "
            "e.g. 2026-11-20T10:00:00+08:00",
        )
        return None
    return moment


def _serial(errors: _Errors, raw: Any, path: str) -> str | None:
    text = _string(errors, raw, path, NAME_MAX)
    if text is None:
        return None
    try:
        return ids.normalize_serial(text)
    except ValueError as exc:
        errors.add(path, str(exc))
        return None


def _share_value(text: str) -> Fraction | None:
    """The share "1/2" or "30%" as a fraction, None if it is neither form."""
    if match := _SHARE_RATIO.fullmatch(text):
        return None if int(match[2]) == 0 else Fraction(int(match[1]), int(match[2]))
    if _SHARE_PERCENT.fullmatch(text):
        return Fraction(text[:-1]) / 100
    return None


def _share(errors: _Errors, raw: Any, path: str) -> str | None:
    text = _string(errors, raw, path, NAME_MAX)
    if text is None:
        return None
    text = text.translate(_SHARE_SYMBOLS)
    value = _share_value(text)
    if value is None:
        errors.add(path, "份额须写作1/2或30% / share must be written like 1/2 or 30%")
    elif not 0 < value <= 1:
        errors.add(path, "份额须大于0且不超过1 / share must be greater than 0 and at most 1")
    else:
        return text
    return None


def _check_passport(text: str) -> list[str]:
    if _PASSPORT.fullmatch(ids.normalize(text)):
        return []
    return ["护照号须为5至20位字母或数字 / passport number must be 5 to 20 letters or digits"]


def _check_nothing(text: str) -> list[str]:
    """Other documents have no common format: only the generic string limits apply."""
    return []


_ID_CHECKS: dict[str, Callable[[str], list[str]]] = {
    "resident_id": ids.check_resident_id,
    "credit_code": ids.check_credit_code,
    "passport": _check_passport,
    "other": _check_nothing,
}

_PARTY_FIELDS: _Spec = {
    "name": (True, _text(NAME_MAX)),
    "id_type": (True, _one_of(*ID_TYPES)),
    "id_number": (True, _text(NAME_MAX)),
    "phone": (
        False,
        _matching(
            _PHONE, "手机号须为11位大陆手机号码 / phone must be an 11-digit mainland mobile number"
        ),
    ),
    "share": (False, _share),
}


def _party(errors: _Errors, raw: Any, path: str) -> Party | None:
    """A party, or None if any of its fields is bad (the problems are in ``errors``)."""
    before = len(errors)
    values = _read_object(errors, raw, path, _PARTY_FIELDS)
    if values is None:
        return None
    if values["id_type"] and values["id_number"]:
        values["id_number"] = _checked(
            errors, values["id_number"], _join(path, "id_number"), _ID_CHECKS[values["id_type"]]
        )
    return Party(**values) if len(errors) == before else None


_PARTIES = _list_of(_party)
_COMMON_FIELDS: _Spec = {
    "kind": (True, _one_of(*KINDS)),
    "holders": (True, _PARTIES),
    "location": (True, _text(TEXT_MAX)),
    "unit_number": (True, _unit_number),
    "notes": (False, _text(LONG_TEXT_MAX)),
}
_CERTIFICATE_FIELDS: dict[str, _Spec] = {
    "right": {
        **_COMMON_FIELDS,
        "co_ownership": (True, _one_of(*CO_OWNERSHIPS)),
        "right_type": (True, _text(TEXT_MAX)),
        "right_nature": (True, _text(TEXT_MAX)),
        "use": (True, _text(TEXT_MAX)),
        "area": (True, _text(TEXT_MAX)),
        "term": (True, _text(TEXT_MAX)),
        "other_status": (False, _text(LONG_TEXT_MAX)),
    },
    "proof": {
        **_COMMON_FIELDS,
        "proved_right": (True, _one_of(*PROVED_RIGHTS)),
        "obligors": (False, _PARTIES),
        "other": (False, _text(LONG_TEXT_MAX)),
    },
}


def _check_parties(
    errors: _Errors, path: str, parties: tuple[Party | None, ...], shared: bool | None
) -> None:
    """Each party at most once; a share for every party under 按份共有 and for no one else.

    ``shared`` is None when 共有情况 is missing or bad: shares are then not judged.
    """
    seen: set[tuple[str, str]] = set()
    for i, party in enumerate(parties):
        if party is None:
            continue
        if (party.id_type, party.id_number) in seen:
            errors.add(
                f"{path}[{i}].id_number", "与前面的当事人重复 / same person as an earlier entry"
            )
        seen.add((party.id_type, party.id_number))
        if shared and party.share is None:
            errors.add(
                f"{path}[{i}].share", "按份共有须填写每人份额 / 按份共有 needs each holder's share"
            )
        elif shared is False and party.share is not None:
            errors.add(
                f"{path}[{i}].share", "仅按份共有填写份额 / a share is only given under 按份共有"
            )


def _check_co_ownership(
    errors: _Errors, path: str, co_ownership: str, holders: tuple[Party | None, ...]
) -> None:
    """Holder count fits 共有情况, and 按份共有 shares add up to exactly one."""
    if co_ownership == SOLE and len(holders) != 1:
        errors.add(path, "单独所有须恰有一个权利人 / 单独所有 needs exactly one holder")
    elif co_ownership != SOLE and len(holders) < 2:
        errors.add(path, "共有须至少两个权利人 / co-ownership needs at least two holders")
    elif co_ownership == SHARED:
        shares = [h.share for h in holders if h is not None and h.share]
        if len(shares) == len(holders) and sum(_share_value(s) or 0 for s in shares) != 1:
            errors.add(path, "按份共有的份额之和须为1 / shares must add up to exactly one")


def _certificate(
    errors: _Errors, raw: Any, path: str, paper_path: str | None
) -> CertificateData | None:
    """One certificate, or None if anything in it is bad (the problems are in ``errors``).

    ``paper_path`` is where to report Z-3 when delivery includes paper (None otherwise);
    a holder counts as a legal person once its own fields are valid.
    """
    before = len(errors)
    if not isinstance(raw, dict):
        errors.add(path or ROOT, _NOT_OBJECT)
        return None
    kind = _field(errors, raw, path, "kind", *_COMMON_FIELDS["kind"])
    if kind is None:  # the other fields depend on it
        return None
    values = _read_object(errors, raw, path, _CERTIFICATE_FIELDS[kind])
    assert values is not None  # raw is a dict
    holders, co_ownership = values["holders"] or (), values.get("co_ownership")
    holders_path = _join(path, "holders")
    known = kind == "proof" or co_ownership is not None
    _check_parties(errors, holders_path, holders, shared=co_ownership == SHARED if known else None)
    _check_parties(errors, _join(path, "obligors"), values.get("obligors") or (), shared=False)
    if co_ownership and holders:
        _check_co_ownership(errors, holders_path, co_ownership, holders)
    if values.get("proved_right") == MORTGAGE and not values["obligors"]:
        errors.add(
            _join(path, "obligors"),
            "抵押权证明须列明义务人 / a mortgage proof must name its obligors",
        )
    valid = len(errors) == before
    if paper_path and any(h is not None and h.is_legal_person for h in holders):
        errors.add(paper_path, _Z3)
    return CertificateData(**{k: v for k, v in values.items() if v is not None}) if valid else None


def _passthrough(errors: _Errors, raw: Any, path: str) -> Any:
    """Items read later, once the fields they depend on are known (certificates: delivery)."""
    return raw


_CASE_FIELDS: _Spec = {
    "case_no": (
        True,
        _matching(
            _CASE_NO, "案件编号须形如2026-411526-000123 / case_no must look like 2026-411526-000123"
        ),
    ),
    "registration_type": (True, _one_of(*REGISTRATION_TYPES)),
    "recorded_at": (True, _timestamp),
    "delivery": (True, _one_of(*DELIVERIES)),
    "certificates": (False, _list_of(_passthrough)),
    "replaces": (False, _list_of(_serial)),
}


def _check_replaces(
    errors: _Errors, registration_type: str | None, replaces: tuple[str | None, ...] | None
) -> None:
    """Transfer, change and cancellation name what they replace (H-4.2); no other type does."""
    if registration_type in REPLACING_TYPES and replaces is None:
        errors.add(
            "replaces",
            "转移、变更、注销登记须列明被替换的证书 / transfer, change and "
            "cancellation cases must list the certificates they replace",
        )
    elif registration_type not in (None, *REPLACING_TYPES) and replaces is not None:
        errors.add(
            "replaces",
            "仅转移、变更、注销登记可替换证书 / only transfer, change and "
            "cancellation cases replace certificates",
        )
    seen = set()
    for i, serial in enumerate(replaces or ()):
        if serial in seen:
            errors.add(f"replaces[{i}]", "证书编号重复 / serial listed twice")
        if serial is not None:
            seen.add(serial)


def _check_certificates_present(
    errors: _Errors, registration_type: str | None, certificates: tuple[Any, ...] | None
) -> None:
    """A cancellation (注销登记) ends rights and issues nothing; every other case issues."""
    if registration_type == "cancellation" and certificates:
        errors.add("certificates", "注销登记不颁发证书 / a cancellation issues no certificate")
    elif registration_type != "cancellation" and not certificates:
        errors.add("certificates", _REQUIRED)


def validate_case(doc: Any) -> CaseData:
    """The case document ``doc`` (parsed JSON) validated and normalised (Z-1, Z-3).

    Raises ``CaseInvalid`` naming every bad field; never another exception for bad input.
    """
    errors = _Errors()
    values = _read_object(errors, doc, "", _CASE_FIELDS)
    if values is None:
        raise CaseInvalid(dict(errors))
    paper_path = "delivery" if values["delivery"] in PAPER_DELIVERIES else None
    certificates = tuple(
        _certificate(errors, raw, f"certificates[{i}]", paper_path)
        for i, raw in enumerate(values["certificates"] or ())
    )
    _check_replaces(errors, values["registration_type"], values["replaces"])
    _check_certificates_present(errors, values["registration_type"], values["certificates"])
    if errors:
        raise CaseInvalid(dict(errors))
    values.update(certificates=certificates or ())
    return CaseData(**{k: v for k, v in values.items() if v is not None})


def validate_certificate_changes(
    kind: str, current: Mapping[str, Any], changes: Any, *, delivery: str | None = None
) -> dict[str, Any]:
    """A registrar's correction of a draft: ``current`` with ``changes`` applied, revalidated.

    ``changes`` maps certificate fields to new values (a list such as ``holders`` is replaced
    whole; null removes an optional field). The whole certificate is checked with the case
    rules and errors use the same shape, with paths relative to the certificate
    (``holders[0].name``). ``kind`` cannot change. Given the case's ``delivery``, Z-3 is
    enforced too and reported at ``holders``. Returns the certificate's new plain data.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")
    if not isinstance(changes, dict):
        raise CaseInvalid({"changes": _NOT_OBJECT})
    errors = _Errors()
    if "kind" in changes and changes["kind"] != kind:
        errors.add("kind", "证书种类不可更改 / kind cannot be changed")
    paper_path = "holders" if delivery in PAPER_DELIVERIES else None
    certificate = _certificate(errors, {**current, **changes, "kind": kind}, "", paper_path)
    if errors or certificate is None:
        raise CaseInvalid(dict(errors))
    return certificate.to_dict()
