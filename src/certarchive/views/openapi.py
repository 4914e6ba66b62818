"""The OpenAPI 3.1 document served at /api/openapi.json, written as data.

It lists every JSON and public route of :data:`certarchive.views.ROUTES` (a test checks
both ways: each documented operation has a view, each such view is documented).  The
staff and holder HTML pages are not part of the API and are left out.
"""

from __future__ import annotations

from typing import Any

from pyramid.request import Request
from pyramid.view import view_config

from certarchive.audit.queue import LOG_NAMES
from certarchive.content.principals import SCOPES
from certarchive.schemas.bodies import BODIES
from certarchive.services.audit import MAX_ENTRIES, MAX_SEQ
from certarchive.services.certificates import PAPER_EVENTS, REVOCATION_CAUSES
from certarchive.validation.case import (
    CO_OWNERSHIPS,
    DELIVERIES,
    ID_TYPES,
    KINDS,
    PROVED_RIGHTS,
    REGISTRATION_TYPES,
)

JSON = "application/json"
CERT_STATES = ["draft", "issued", "downloaded", "archived", "revoked"]
CASE_STATES = ["received", "recorded", "paid", "certified", "filed"]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return {"$ref": f"#/components/responses/{description}"}


def _body(schema: dict[str, Any], required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {JSON: {"schema": schema}}}


SERIAL = {
    "name": "serial",
    "in": "path",
    "required": True,
    "description": "证书编号（两种括号均可）或证书id / serial (either bracket form) or id",
    "schema": {"type": "string", "maxLength": 100},
    "example": "豫(2026)潢川县不动产权第0000001号",
}
CASE_NO = {
    "name": "case_no",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "maxLength": 40},
    "example": "2026-411526-000001",
}
TOKEN = {
    "name": "token",
    "in": "path",
    "required": True,
    "description": "二维码中的验证令牌 / the verification token of the QR code",
    "schema": {"type": "string", "maxLength": 100},
}

STAFF = [{"bearerKey": []}, {"staffSession": []}]
HOLDER = [{"holderToken": []}]
PUBLIC: list[dict[str, list[str]]] = []

_PARTY = {
    "type": "object",
    "required": ["name", "id_type", "id_number"],
    "properties": {
        "name": {"type": "string", "maxLength": 100},
        "id_type": {"enum": list(ID_TYPES)},
        "id_number": {"type": "string", "maxLength": 100},
        "phone": {"type": "string", "pattern": "^1[3-9][0-9]{9}$"},
        "share": {"type": "string", "examples": ["1/2", "30%"]},
    },
}
_MASKED_PARTY = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "description": "张* for natural persons"},
        "id_type": {"enum": list(ID_TYPES)},
        "id_number": {"type": "string", "description": "4101**********1234"},
    },
}
_CERTIFICATE_DATA = {
    "type": "object",
    "required": ["kind", "holders", "location", "unit_number"],
    "properties": {
        "kind": {"enum": list(KINDS)},
        "holders": {"type": "array", "items": _ref("Party"), "maxItems": 100},
        "obligors": {"type": "array", "items": _ref("Party"), "maxItems": 100},
        "co_ownership": {"enum": list(CO_OWNERSHIPS)},
        "proved_right": {"enum": list(PROVED_RIGHTS)},
        "location": {"type": "string", "maxLength": 500},
        "unit_number": {"type": "string", "description": "28 characters, GB/T 37346"},
        "right_type": {"type": "string"},
        "right_nature": {"type": "string"},
        "use": {"type": "string"},
        "area": {"type": "string"},
        "term": {"type": "string"},
        "other_status": {"type": "string"},
        "other": {"type": "string"},
        "notes": {"type": "string"},
    },
}
_CASE_DOCUMENT = {
    "type": "object",
    "required": ["case_no", "registration_type", "recorded_at", "delivery"],
    "properties": {
        "case_no": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{6}-[0-9]{6,8}$"},
        "registration_type": {"enum": list(REGISTRATION_TYPES)},
        "recorded_at": {"type": "string", "format": "date-time"},
        "delivery": {"enum": list(DELIVERIES)},
        "certificates": {
            "type": "array",
            "items": _ref("CertificateData"),
            "maxItems": 100,
            "description": "required, except for a cancellation, which issues none",
        },
        "replaces": {"type": "array", "items": {"type": "string"}},
    },
}
_CERT_BRIEF = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "kind": {"enum": list(KINDS)},
        "state": {"enum": CERT_STATES},
        "serial": {"type": ["string", "null"]},
    },
}
_CASE = {
    "type": "object",
    "properties": {
        "case_no": {"type": "string"},
        "registration_type": {"enum": list(REGISTRATION_TYPES)},
        "state": {"enum": CASE_STATES},
        "delivery": {"enum": list(DELIVERIES)},
        "recorded_at": {"type": "string", "format": "date-time"},
        "replaces": {"type": "array", "items": {"type": "string"}},
        "paid": {"type": "boolean"},
        "filed_at": {"type": ["string", "null"], "format": "date-time"},
        "certificates": {"type": "array", "items": _ref("CertificateBrief")},
        "history": {"type": "array", "items": _ref("HistoryEntry")},
    },
}
_HISTORY = {
    "type": "object",
    "properties": {
        "number": {"type": "integer"},
        "at": {"type": "string", "format": "date-time"},
        "actor": {"type": "string"},
        "role": {"type": "string"},
        "transition": {"type": "string"},
        "from": {"type": "string"},
        "to": {"type": "string"},
        "comment": {"type": "string"},
    },
}
_METADATA = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "kind": {"enum": list(KINDS)},
        "state": {"enum": CERT_STATES},
        "serial": {"type": ["string", "null"]},
        "case_no": {"type": "string"},
        "unit_number": {"type": "string"},
        "location": {"type": "string"},
        "holders": {
            "type": "array",
            "items": {"anyOf": [_ref("Party"), _ref("MaskedParty")]},
            "description": "masked unless the caller may read personal data",
        },
        "obligors": {"type": "array", "items": {"anyOf": [_ref("Party"), _ref("MaskedParty")]}},
        "issued_at": {"type": ["string", "null"], "format": "date-time"},
        "first_downloaded_at": {
            "type": ["string", "null"],
            "format": "date-time",
            "description": "collection time (H-2.2)",
        },
        "version": {"type": "integer"},
        "sm3": {"type": ["string", "null"], "description": "SM3 of the current file, hex"},
        "paper_status": {"enum": [None, *PAPER_EVENTS]},
        "revocation": {"type": ["object", "null"]},
        "replaces": {"type": ["string", "null"]},
        "replaced_by": {"type": ["string", "null"]},
    },
}
_VERSION = {
    "type": "object",
    "properties": {
        "number": {"type": "integer"},
        "at": {"type": "string", "format": "date-time"},
        "actor": {"type": "string"},
        "comment": {"type": "string"},
        "changed_fields": {"type": "array", "items": {"type": "string"}},
        "digest": {"type": "string", "description": "SM3 of the version's canonical data"},
        "file_digests": {"type": "array", "items": {"type": "string"}},
    },
}
_PUBLIC_VIEW = {
    "type": "object",
    "properties": {
        "status": {"enum": ["valid", "revoked", "superseded", "withdrawn"]},
        "status_text": {"type": "string"},
        "kind": {"enum": list(KINDS)},
        "kind_title": {"type": "string"},
        "serial": {"type": "string"},
        "holders": {"type": "array", "items": _ref("MaskedParty")},
        "obligors": {"type": "array", "items": _ref("MaskedParty")},
        "location": {"type": "string"},
        "unit_number": {"type": "string"},
        "issued_on": {"type": "string", "format": "date"},
        "agency": {"type": "string"},
        "seal": {
            "type": "object",
            "properties": {"name": {"type": "string"}, "number": {"type": "string"}},
        },
        "sm3": {"type": "string"},
        "signed_with": {"oneOf": [_ref("SigningCertificate"), {"type": "null"}]},
        "revocation": {
            "type": ["object", "null"],
            "properties": {
                "revoked_on": {"type": "string", "format": "date"},
                "cause": {"enum": list(REVOCATION_CAUSES)},
                "cause_label": {"type": "string"},
            },
        },
        "replaced_by": {"type": ["string", "null"]},
        "verify_url": {"type": "string"},
    },
}
_SIGNING_CERTIFICATE = {
    "type": "object",
    "description": "the seal certificate that signed a file (H-5.1.1)",
    "properties": {
        "subject": {"type": "string"},
        "issuer": {"type": "string"},
        "serial_number": {"type": "string", "description": "hexadecimal"},
        "not_before": {"type": "string", "format": "date-time"},
        "not_after": {"type": "string", "format": "date-time"},
        "sm3": {"type": "string", "description": "SM3 of the certificate's DER, hex"},
    },
}
_VERIFICATION = {
    "type": "object",
    "properties": {
        "result": {
            "enum": [
                "valid",
                "revoked",
                "superseded",
                "withdrawn",
                "invalid",
                "unknown",
                "mismatch",
            ]
        },
        "result_text": {"type": "string"},
        "summary": {"type": "array", "items": {"type": "string"}},
        "problems": {"type": "array", "items": {"type": "string"}},
        "file_sm3": {"type": "string"},
        "size": {"type": "integer"},
        "signature": {
            "type": "object",
            "properties": {
                "valid": {"type": "boolean"},
                "format": {
                    "enum": ["standard", "earlier", None],
                    "description": "standard: CMS (SM2/SM3) in /Adobe.PPKLite; earlier: the "
                    "format of files issued before standard signatures",
                },
                "format_text": {"type": "string"},
                "signatures": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "signer": {"type": "string"},
                            "reason": {"type": "string"},
                            "signed_at": {"type": ["string", "null"], "format": "date-time"},
                            "format": {"enum": ["standard", "earlier"]},
                            "intact": {"type": "boolean"},
                            "certificate": {
                                "oneOf": [_ref("SigningCertificate"), {"type": "null"}]
                            },
                        },
                    },
                },
            },
        },
        "revocation_stamp": {"type": ["object", "null"]},
        "registry": {"type": "object"},
        "certificate": {"oneOf": [_ref("PublicCertificate"), {"type": "null"}]},
    },
}

_REFUSALS = {
    "400": _error("BadRequest"),
    "401": _error("Unauthorized"),
    "403": _error("Forbidden"),
    "404": _error("NotFound"),
}


def _op(
    summary: str,
    tag: str,
    security: list[dict[str, list[str]]],
    responses: dict[str, Any],
    parameters: list[dict[str, Any]] | None = None,
    body: dict[str, Any] | None = None,
    description: str = "",
) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": summary,
        "tags": [tag],
        "security": security,
        "responses": responses,
    }
    if description:
        op["description"] = description
    if parameters:
        op["parameters"] = parameters
    if body:
        op["requestBody"] = body
    return op


def _serial_listing(title: str, key: str, item: str) -> dict[str, Any]:
    """GET of a certificate's list of ``item`` records (history, versions)."""
    listing = {
        "type": "object",
        "properties": {
            "serial": {"type": ["string", "null"]},
            key: {"type": "array", "items": _ref(item)},
        },
    }
    return {"get": _op(title, "registry", STAFF, {**_ok(listing), **_REFUSALS}, [SERIAL])}


def _ok(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"200": _json(schema, description)}


def _pdf(media: str = "application/pdf") -> dict[str, Any]:
    return {
        "200": {
            "description": "the certificate file",
            "headers": {"Content-Disposition": {"schema": {"type": "string"}}},
            "content": {media: {"schema": {"type": "string", "format": "binary"}}},
        }
    }


_SCANNED_DOCUMENT = {
    "type": "object",
    "properties": {
        "number": {"type": "integer"},
        "name": {"type": "string"},
        "content_type": {"enum": ["application/pdf", "image/jpeg", "image/png"]},
        "size": {"type": "integer"},
        "digest": {"type": "string", "description": "SM3 of the document, hex"},
        "at": {"type": "string", "format": "date-time"},
        "actor": {"type": "string"},
    },
}
DOCUMENT_NUMBER = {
    "name": "number",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": "^[0-9]+$"},
}

LOG = {
    "name": "log",
    "in": "path",
    "required": True,
    "description": "audit: 审计日志 / the audit log; sharing: 共享服务日志 / the sharing log "
    "(H-5.2.5)",
    "schema": {"enum": list(LOG_NAMES)},
}


def _count(name: str, description: str, minimum: int, maximum: int | None = None) -> dict[str, Any]:
    """An optional whole-number query parameter."""
    schema: dict[str, Any] = {"type": "integer", "minimum": minimum}
    if maximum is not None:
        schema["maximum"] = maximum
    return {"name": name, "in": "query", "description": description, "schema": schema}


_AUDIT_ENTRY = {
    "type": "object",
    "properties": {
        "seq": {"type": "integer", "description": "position in the log, from 0"},
        "integrated_at": {"type": "string", "format": "date-time"},
        "time": {"type": "string", "format": "date-time"},
        "actor": {"type": ["string", "null"]},
        "role": {"type": ["string", "null"]},
        "action": {"type": "string"},
        "object": {
            "type": ["string", "null"],
            "description": "ID and phone numbers typed into URLs are masked unless the caller "
            "may read personal data (H-5.2.3)",
        },
        "before": {"type": ["string", "null"], "description": "SM3 of the state before"},
        "after": {"type": ["string", "null"], "description": "SM3 of the state after"},
        "result": {"type": ["string", "null"]},
        "request_id": {"type": ["string", "null"]},
        "client": {"type": ["string", "null"]},
        "detail": {"type": "object"},
    },
}
_CHECKPOINT = {
    "type": "object",
    "properties": {
        "log": {"enum": list(LOG_NAMES)},
        "size": {"type": "integer"},
        "root": {"type": "string", "description": "Merkle tree root (SM3), hex"},
        "time": {"type": "string", "format": "date-time"},
        "key": {"type": "string", "description": "fingerprint of the log's SM2 key"},
        "signature": {"type": "string", "description": "SM2 signature, hex"},
    },
}
_HEXES = {"type": "array", "items": {"type": "string"}, "description": "node hashes, hex"}


def _audit_read(
    summary: str, schema: dict[str, Any], parameters: list[dict[str, Any]], text: str
) -> dict[str, Any]:
    """GET of one of a log's documents; 422 names each bad parameter, 404 an unknown log."""
    responses = {**_ok(schema), "422": _error("Invalid"), **_REFUSALS}
    if parameters:
        responses["409"] = _error("Conflict")
    return {"get": _op(summary, "audit", STAFF, responses, [LOG, *parameters], description=text)}


_AUDIT_PATHS = {
    "/api/v1/audit/{log}/entries": _audit_read(
        "日志条目 / log entries (H-5.2.4)",
        {
            "type": "object",
            "properties": {
                "log": {"enum": list(LOG_NAMES)},
                "size": {"type": "integer", "description": "entries sequenced so far"},
                "entries": {"type": "array", "items": _ref("AuditEntry")},
            },
        },
        [
            _count("start", "first entry (seq), default 0", 0, MAX_SEQ),
            _count("limit", "entries at most, default 100", 1, MAX_ENTRIES),
        ],
        "Auditors (role auditor, admin; scope audit:read). Each read is itself audited "
        "(audit.read).",
    ),
    "/api/v1/audit/{log}/checkpoint": _audit_read(
        "最新检查点 / the newest signed checkpoint and the log's public key",
        {
            "type": "object",
            "properties": {
                "checkpoint": {"oneOf": [_ref("Checkpoint"), {"type": "null"}]},
                "public_key_pem": {"type": "string"},
            },
        },
        [],
        "The document `certarchive audit checkpoint` prints; keep it outside and check the "
        "log against it later (`audit verify --checkpoint FILE`).",
    ),
    "/api/v1/audit/{log}/proofs/inclusion": _audit_read(
        "包含证明 / inclusion proof of an entry (RFC 6962)",
        {
            "type": "object",
            "properties": {
                "log": {"enum": list(LOG_NAMES)},
                "seq": {"type": "integer"},
                "size": {"type": "integer"},
                "leaf_hash": {"type": "string"},
                "proof": _HEXES,
            },
        },
        [
            {**_count("seq", "the entry", 0), "required": True},
            _count("size", "tree size, default the whole sequenced log", 1),
        ],
        "Check the path against the root of a checkpoint of that size; recompute the leaf "
        "from the entry.",
    ),
    "/api/v1/audit/{log}/proofs/consistency": _audit_read(
        "一致性证明 / consistency proof between two tree sizes (RFC 6962)",
        {
            "type": "object",
            "properties": {
                "log": {"enum": list(LOG_NAMES)},
                "first": {"type": "integer"},
                "second": {"type": "integer"},
                "proof": _HEXES,
            },
        },
        [
            {**_count("first", "the older tree size", 1), "required": True},
            _count("second", "the newer tree size, default the whole sequenced log", 1),
        ],
        "Shows that a kept checkpoint of size first still heads a prefix of the log.",
    ),
}

PATHS: dict[str, dict[str, Any]] = {
    "/healthz": {
        "get": _op(
            "数据库可用 / the databases answer",
            "operations",
            PUBLIC,
            {
                "200": _json({"type": "object"}, "ok"),
                "503": _json({"type": "object"}, "uninitialised"),
            },
        )
    },
    "/api/openapi.json": {
        "get": _op("本文档 / this document", "operations", PUBLIC, _ok({"type": "object"}))
    },
    "/api/v1/cases": {
        "post": _op(
            "登簿案卷 / record a case (Z-1, H-4.2)",
            "upstream",
            [{"bearerKey": []}],
            {
                "201": _json(_ref("Case"), "recorded"),
                "200": _json(_ref("Case"), "the same case was recorded before (replay)"),
                "409": _error("Conflict"),
                "413": _error("TooLarge"),
                "415": _error("Unsupported"),
                "422": _error("Invalid"),
                **_REFUSALS,
            },
            body=_body(_ref("CaseDocument")),
            description="Scope cases:write. Repeating the same document answers 200 with the "
            "recorded case; the same case number with other content is 409.",
        )
    },
    "/api/v1/cases/{case_no}": {
        "get": _op(
            "案卷 / a case", "registry", STAFF, {**_ok(_ref("Case")), **_REFUSALS}, [CASE_NO]
        )
    },
    "/api/v1/cases/{case_no}/payment": {
        "post": _op(
            "确认缴费并出证 / confirm payment: issues the certificates (Z-4, H-2.1)",
            "upstream",
            [{"bearerKey": []}],
            {
                **_ok(_ref("PaymentResult")),
                "409": _error("Conflict"),
                "422": _error("Invalid"),
                **_REFUSALS,
            },
            [CASE_NO],
            description="Repeating the same receipt answers as the first time and issues nothing.",
        )
    },
    "/api/v1/cases/{case_no}/file": {
        "post": _op(
            "归档案卷 / file the case (H-2.5)",
            "archive",
            STAFF,
            {**_ok(_ref("Case")), "409": _error("Conflict"), **_REFUSALS},
            [CASE_NO],
            _body({"type": "object", "properties": {"comment": {"type": "string"}}}, False),
        )
    },
    "/api/v1/cases/{case_no}/documents": {
        "get": _op(
            "扫描件列表 / the case's scanned documents (metadata)",
            "registry",
            STAFF,
            {
                **_ok(
                    {
                        "type": "object",
                        "properties": {
                            "case_no": {"type": "string"},
                            "documents": {"type": "array", "items": _ref("ScannedDocument")},
                        },
                    }
                ),
                **_REFUSALS,
            },
            [CASE_NO],
        ),
        "post": _op(
            "上传扫描件 / add a scanned document (PDF, JPEG or PNG, stored encrypted)",
            "upstream",
            STAFF,
            {
                "201": _json(_ref("ScannedDocument"), "stored"),
                "413": _error("TooLarge"),
                "422": _error("Invalid"),
                **_REFUSALS,
            },
            [CASE_NO],
            {
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "required": ["file"],
                            "properties": {
                                "file": {"type": "string", "format": "binary"},
                                "name": {"type": "string", "maxLength": 100},
                            },
                        }
                    }
                },
            },
        ),
    },
    "/api/v1/cases/{case_no}/documents/{number}": {
        "get": _op(
            "下载扫描件 / download a scanned document",
            "registry",
            STAFF,
            {
                "200": {
                    "description": "the document as uploaded",
                    "content": {
                        media: {"schema": {"type": "string", "format": "binary"}}
                        for media in ("application/pdf", "image/jpeg", "image/png")
                    },
                },
                **_REFUSALS,
            },
            [CASE_NO, DOCUMENT_NUMBER],
            description="Needs the permission to read personal data (registrar); audited.",
        )
    },
    "/api/v1/filing-queue": {
        "get": _op(
            "待归档案卷 / cases ready to file (H-2.5)",
            "archive",
            STAFF,
            {
                **_ok(
                    {
                        "type": "object",
                        "properties": {"cases": {"type": "array", "items": _ref("Case")}},
                    }
                ),
                **_REFUSALS,
            },
        )
    },
    "/api/v1/certificates/{serial}": {
        "get": _op(
            "证书元数据 / certificate metadata",
            "registry",
            STAFF,
            {**_ok(_ref("CertificateMetadata")), **_REFUSALS},
            [SERIAL],
        ),
        "patch": _op(
            "更正草稿 / correct a draft: a new version (H-4.3)",
            "registrar",
            STAFF,
            {
                **_ok(_ref("CertificateMetadata")),
                "409": _error("Conflict"),
                "422": _error("Invalid"),
                **_REFUSALS,
            },
            [SERIAL],
        ),
    },
    "/api/v1/certificates/{serial}/pdf": {
        "get": _op(
            "证照文件 / the current file (no collection time)",
            "registry",
            STAFF,
            {**_pdf(), **_REFUSALS},
            [SERIAL],
        )
    },
    "/api/v1/certificates/{serial}/ofd": {
        "get": _op(
            "证照OFD文件 / the current file as OFD (GB/T 33190, sealed per GB/T 38540)",
            "registry",
            STAFF,
            {**_pdf("application/ofd"), **_REFUSALS},
            [SERIAL],
        )
    },
    "/api/v1/certificates/{serial}/history": _serial_listing(
        "办理过程 / workflow history", "history", "HistoryEntry"
    ),
    "/api/v1/certificates/{serial}/versions": _serial_listing(
        "版本 / versions (metadata only)", "versions", "Version"
    ),
    "/api/v1/certificates/{serial}/versions/{number}": {
        "get": _op(
            "某一版本的数据与修改 / one version's data and its changes",
            "registry",
            STAFF,
            {
                **_ok(
                    {
                        "allOf": [
                            _ref("Version"),
                            {
                                "type": "object",
                                "properties": {
                                    "data": _ref("CertificateData"),
                                    "changes": {"type": "object"},
                                },
                            },
                        ]
                    }
                ),
                **_REFUSALS,
            },
            [
                SERIAL,
                {
                    "name": "number",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "pattern": "^[0-9]+$"},
                },
            ],
            description="Needs the permission to read personal data (registrar, "
            "certificates:manage).",
        )
    },
    "/api/v1/certificates/{serial}/rollback": {
        "post": _op(
            "回退 / roll back an issued, never downloaded certificate (H-4.3)",
            "registrar",
            STAFF,
            {
                **_ok(_ref("CertificateMetadata")),
                "409": _error("Conflict"),
                "422": _error("Invalid"),
                **_REFUSALS,
            },
            [SERIAL],
        )
    },
    "/api/v1/certificates/{serial}/issue": {
        "post": _op(
            "重新签发 / issue a corrected draft again",
            "registrar",
            STAFF,
            {**_ok(_ref("CertificateMetadata")), "409": _error("Conflict"), **_REFUSALS},
            [SERIAL],
            _body({"type": "object", "properties": {"comment": {"type": "string"}}}, False),
        )
    },
    "/api/v1/certificates/{serial}/reissue": {
        "post": _op(
            "注销并重发 / revoke and re-issue with corrections, new serial (H-4.3, Z-5)",
            "registrar",
            STAFF,
            {
                "201": _json(_ref("CertificateMetadata"), "the new certificate"),
                "409": _error("Conflict"),
                "422": _error("Invalid"),
                **_REFUSALS,
            },
            [SERIAL],
        )
    },
    "/api/v1/certificates/{serial}/revoke": {
        "post": _op(
            "注销 / revoke (H-4.2, H-4.3): the file is stamped 已注销 (H-1.7)",
            "upstream",
            STAFF,
            {
                **_ok(_ref("CertificateMetadata")),
                "409": _error("Conflict"),
                "422": _error("Invalid"),
                **_REFUSALS,
            },
            [SERIAL],
        )
    },
    "/api/v1/certificates/{serial}/paper": {
        "post": _op(
            "纸质证书事项 / paper certificate event (H-2.3, H-2.4, H-4.2)",
            "registrar",
            STAFF,
            {
                **_ok(_ref("CertificateMetadata")),
                "409": _error("Conflict"),
                "422": _error("Invalid"),
                **_REFUSALS,
            },
            [SERIAL],
        )
    },
    "/api/v1/holder/session": {
        "post": _op(
            "权利人登录 / holder sign-in with ID number and download code (H-2.2)",
            "holder",
            PUBLIC,
            {
                "201": _json(
                    {
                        "type": "object",
                        "properties": {
                            "token": {"type": "string"},
                            "idle_timeout": {"type": "integer"},
                            "expires_in": {"type": "integer"},
                            "certificates": {"type": "integer"},
                        },
                    },
                    "signed in",
                ),
                "400": _error("BadRequest"),
                "401": _error("Unauthorized"),
                "422": _error("Invalid"),
                "429": _error("RateLimited"),
            },
            body=_body(
                {
                    "type": "object",
                    "required": ["id_number", "download_code"],
                    "properties": {
                        "id_number": {"type": "string", "maxLength": 64},
                        "download_code": {"type": "string", "maxLength": 32},
                    },
                }
            ),
        ),
        "delete": _op(
            "权利人退出 / holder sign-out",
            "holder",
            HOLDER,
            {
                "204": {"description": "signed out"},
                "401": _error("Unauthorized"),
                "403": _error("Forbidden"),
            },
        ),
    },
    "/api/v1/holder/certificates": {
        "get": _op(
            "我的证照 / the holder's certificates (only after payment, Z-4)",
            "holder",
            HOLDER,
            {
                **_ok(
                    {
                        "type": "object",
                        "properties": {
                            "certificates": {"type": "array", "items": _ref("HolderCertificate")}
                        },
                    }
                ),
                "401": _error("Unauthorized"),
                "403": _error("Forbidden"),
            },
        )
    },
    "/api/v1/holder/certificates/{serial}/pdf": {
        "get": _op(
            "下载 / download: the first download sets the collection time (H-2.2)",
            "holder",
            HOLDER,
            {
                **_pdf(),
                "401": _error("Unauthorized"),
                "403": _error("Forbidden"),
                "404": _error("NotFound"),
            },
            [SERIAL],
        )
    },
    "/api/v1/holder/certificates/{serial}/ofd": {
        "get": _op(
            "下载OFD / download as OFD: the first download of either format sets the "
            "collection time (H-2.2)",
            "holder",
            HOLDER,
            {
                **_pdf("application/ofd"),
                "401": _error("Unauthorized"),
                "403": _error("Forbidden"),
                "404": _error("NotFound"),
            },
            [SERIAL],
        )
    },
    **_AUDIT_PATHS,
    "/v/{token}": {
        "get": _op(
            "验证页面 / the verification page the QR code opens (HTML)",
            "public",
            PUBLIC,
            {
                "200": {
                    "description": "an HTML page",
                    "content": {"text/html": {"schema": {"type": "string"}}},
                },
                "404": _error("NotFound"),
                "429": _error("RateLimited"),
            },
            [TOKEN],
        )
    },
    "/v/{token}.json": {
        "get": _op(
            "验证数据 / the verification data (H-1.3, H-5.2.3)",
            "public",
            PUBLIC,
            {
                **_ok(_ref("PublicCertificate")),
                "404": _error("NotFound"),
                "429": _error("RateLimited"),
            },
            [TOKEN],
        )
    },
    "/verify": {
        "get": _op(
            "上传验证页面 / the upload form (HTML)",
            "public",
            PUBLIC,
            {
                "200": {
                    "description": "an HTML page",
                    "content": {"text/html": {"schema": {"type": "string"}}},
                }
            },
        ),
        "post": _op(
            "验证文件 / check an uploaded file: signature, registry, status (H-5.1.2, H-5.2.6)",
            "public",
            PUBLIC,
            {
                "200": {
                    "description": "JSON with Accept: application/json or ?format=json, "
                    "else an HTML page",
                    "content": {
                        JSON: {"schema": _ref("VerificationResult")},
                        "text/html": {"schema": {"type": "string"}},
                    },
                },
                "413": _error("TooLarge"),
                "422": _error("Invalid"),
                "429": _error("RateLimited"),
            },
            body={
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "required": ["file"],
                            "properties": {"file": {"type": "string", "format": "binary"}},
                        }
                    }
                },
            },
        ),
    },
}

_ERROR_SCHEMA = {
    "type": "object",
    "required": ["error", "message", "fields"],
    "properties": {
        "error": {"type": "string", "examples": ["invalid", "not_found", "forbidden"]},
        "message": {"type": "string", "description": "中文 / English"},
        "fields": {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": "JSON path of every bad field -> problem",
        },
    },
}
_ERRORS = {
    "BadRequest": "请求格式错误 / malformed request (not JSON, not an object)",
    "Unauthorized": "缺少或无效的凭据 / no or invalid credentials",
    "Forbidden": "权限不足或CSRF校验失败 / missing permission or scope, or CSRF",
    "NotFound": "不存在，或调用者无权看到 / no such object, or not visible to the caller",
    "Conflict": "状态不允许 / the object's state refuses the request",
    "TooLarge": "请求体过大 / body too large",
    "Unsupported": "请求体类型不支持 / body is not application/json",
    "Invalid": "字段无效，fields列出每一个 / invalid fields, each named in fields",
    "RateLimited": "请求过于频繁 / rate limited (Retry-After)",
    "Busy": "系统繁忙，未做任何更改 / busy after repeated conflicts: nothing changed, retry",
}


def _page_error(name: str) -> dict[str, Any]:
    """A refusal on a public page: JSON for JSON callers, else an HTML page."""
    return {
        "description": _ERRORS[name],
        "content": {
            JSON: {"schema": _ref("Error")},
            "text/html": {"schema": {"type": "string"}},
        },
    }


def _declared_bodies(paths: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The request bodies declared once in :mod:`certarchive.schemas.bodies`, as the
    services validate them, replace any hand-written schema."""
    for (path, method), model in BODIES.items():
        paths[path][method]["requestBody"] = _body(model.model_json_schema())
    return paths


def _complete(paths: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Add to every operation the refusals any request can meet, so that the document
    lists every status the server answers: 400 (a URL or body it cannot decode), 503
    (busy); 401/403 where credentials are needed; 413/415/422 where a JSON body is read
    (422: a string breaking the text rule, anywhere in the body).  Public pages answer
    browsers with HTML, so their refusals carry both types."""
    for path, item in paths.items():
        for operation in item.values():
            responses = operation["responses"]
            wanted = {"400": "BadRequest", "503": "Busy"}
            if operation["security"]:
                wanted |= {"401": "Unauthorized", "403": "Forbidden"}
            if JSON in operation.get("requestBody", {}).get("content", {}):
                wanted |= {"413": "TooLarge", "415": "Unsupported", "422": "Invalid"}
            for status, name in wanted.items():
                responses.setdefault(status, _error(name))
            if path.startswith(("/v/", "/verify")):
                for status, response in responses.items():
                    if "$ref" in response:
                        responses[status] = _page_error(response["$ref"].rsplit("/", 1)[1])
    return paths


DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "certarchive API: 不动产登记电子证照",
        "version": "1.0.0",
        "description": "Issue, keep, prove and share electronic real-estate certificates. "
        'Errors: {"error", "message", "fields"}. See docs/api.md.',
    },
    "tags": [
        {"name": name}
        for name in (
            "upstream",
            "registry",
            "registrar",
            "archive",
            "holder",
            "audit",
            "public",
            "operations",
        )
    ],
    "paths": _complete(_declared_bodies(PATHS)),
    "components": {
        "securitySchemes": {
            "bearerKey": {
                "type": "http",
                "scheme": "bearer",
                "description": "API client key ca_<id>.<secret>; scopes: " + ", ".join(SCOPES),
            },
            "holderToken": {
                "type": "http",
                "scheme": "bearer",
                "description": "holder token hs_… from POST /api/v1/holder/session",
            },
            "staffSession": {
                "type": "apiKey",
                "in": "cookie",
                "name": "ca_session",
                "description": "staff session from /login; unsafe methods need "
                "the X-CSRF-Token header",
            },
        },
        "schemas": {
            "Error": _ERROR_SCHEMA,
            "Party": _PARTY,
            "MaskedParty": _MASKED_PARTY,
            "CertificateData": _CERTIFICATE_DATA,
            "CaseDocument": _CASE_DOCUMENT,
            "CertificateBrief": _CERT_BRIEF,
            "Case": _CASE,
            "HistoryEntry": _HISTORY,
            "CertificateMetadata": _METADATA,
            "Version": _VERSION,
            "ScannedDocument": _SCANNED_DOCUMENT,
            "AuditEntry": _AUDIT_ENTRY,
            "Checkpoint": _CHECKPOINT,
            "PaymentResult": {
                "type": "object",
                "properties": {
                    "case_no": {"type": "string"},
                    "state": {"enum": CASE_STATES},
                    "certificates": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "id": {"type": "string"},
                                "kind": {"enum": list(KINDS)},
                                "serial": {"type": "string"},
                                "state": {"enum": CERT_STATES},
                                "verify_url": {"type": "string"},
                                "download_code": {"type": ["string", "null"]},
                            },
                        },
                    },
                },
            },
            "HolderCertificate": {
                "type": "object",
                "properties": {
                    "serial": {"type": "string"},
                    "kind": {"enum": list(KINDS)},
                    "state": {"enum": CERT_STATES},
                    "location": {"type": "string"},
                    "unit_number": {"type": "string"},
                    "issued_at": {"type": ["string", "null"]},
                    "first_downloaded_at": {"type": ["string", "null"]},
                    "revoked": {"type": "boolean"},
                    "replaced_by": {"type": ["string", "null"]},
                    "sm3": {"type": ["string", "null"]},
                    "pdf": {"type": "string"},
                    "ofd": {"type": "string"},
                },
            },
            "PublicCertificate": _PUBLIC_VIEW,
            "SigningCertificate": _SIGNING_CERTIFICATE,
            "VerificationResult": _VERIFICATION,
        },
        "responses": {name: _json(_ref("Error"), text) for name, text in _ERRORS.items()},
    },
}


def document(base_url: str) -> dict[str, Any]:
    return {**DOCUMENT, "servers": [{"url": base_url}]}


@view_config(route_name="openapi", request_method="GET", renderer="json")
def openapi(request: Request) -> dict[str, Any]:
    return document(request.registry.runtime.settings.public_base_url)
