"""The case document of CONTRACT.md, checked whole before anything is recorded (Z-1).

The document is declared once, as the pydantic models of :mod:`certarchive.schemas.case`
(the rules, the GB/T checks, the normalisation, and the JSON Schema /api/openapi.json
shows).  This module is the facade its callers always used: ``validate_case`` reads an
untrusted JSON value and either returns the validated, frozen document or raises
``CaseInvalid``, whose ``fields`` maps the JSON path of every bad field
(``certificates[0].holders[1].id_number``) to a "中文 / English" message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from certarchive.i18n import _
from certarchive.schemas.case import (
    CO_OWNERSHIPS,
    DELIVERIES,
    ID_TYPES,
    ITEMS_MAX,
    KINDS,
    LONG_TEXT_MAX,
    NAME_MAX,
    PAPER,
    PAPER_DELIVERIES,
    PROVED_RIGHTS,
    REGISTRATION_TYPES,
    TEXT_MAX,
    CertificateData,
    Party,
)
from certarchive.schemas.case import CaseDocument as CaseData
from certarchive.schemas.errors import ROOT, checked

__all__ = [
    "CO_OWNERSHIPS",
    "DELIVERIES",
    "ID_TYPES",
    "ITEMS_MAX",
    "KINDS",
    "LONG_TEXT_MAX",
    "NAME_MAX",
    "PROVED_RIGHTS",
    "REGISTRATION_TYPES",
    "ROOT",
    "TEXT_MAX",
    "CaseData",
    "CaseInvalid",
    "CertificateData",
    "Party",
    "validate_case",
    "validate_certificate_changes",
]

_NOT_OBJECT = _("须为JSON对象")


class CaseInvalid(ValueError):
    """A case document (or certificate change) that breaks the rules; ``fields`` says where.

    The exception text lists the paths only, so logging it leaks no personal data.
    """

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("invalid fields: " + ", ".join(fields))
        self.fields = fields


def validate_case(doc: Any) -> CaseData:
    """The case document ``doc`` (parsed JSON) validated and normalised (Z-1, Z-3).

    Raises ``CaseInvalid`` naming every bad field; never another exception for bad input.
    """
    result = checked(CaseData, doc)
    if isinstance(result, dict):
        raise CaseInvalid(result)
    return result


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
    errors: dict[str, str] = {}
    if "kind" in changes and changes["kind"] != kind:
        errors["kind"] = _("证书种类不可更改")
    context = {PAPER: delivery in PAPER_DELIVERIES}
    result = checked(CertificateData, {**current, **changes, "kind": kind}, context)
    if isinstance(result, dict):
        raise CaseInvalid({**result, **errors})
    if errors:
        raise CaseInvalid(errors)
    return result.to_dict()
