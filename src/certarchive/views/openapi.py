"""The OpenAPI 3.1 document served at /api/openapi.json: paths and operations, whose
bodies are the pydantic models of :mod:`certarchive.schemas`.

Every request and response body is a ``$ref`` into ``components/schemas``, generated from
the models the services validate with (:data:`certarchive.schemas.bodies.BODIES`) and the
answers are checked against (:mod:`certarchive.schemas.answers`,
:mod:`certarchive.schemas.public`), so the document cannot drift from either (#13).  What
is still written here: paths, parameters, statuses, security, and the two multipart
uploads (a file is not a JSON body).

It lists every JSON and public route of :data:`certarchive.views.ROUTES` (a test checks
both ways: each documented operation has a view, each such view is documented).  The
staff and holder HTML pages are not part of the API and are left out.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from pyramid.request import Request
from pyramid.view import view_config

from certarchive.audit.queue import LOG_NAMES
from certarchive.content.principals import SCOPES
from certarchive.schemas.answers import (
    AuditEntries,
    Case,
    CertificateMetadata,
    CheckpointDocument,
    CodeAccepted,
    ConsistencyProof,
    Error,
    FilingQueue,
    Health,
    History,
    HolderCertificates,
    HolderSession,
    HolderShares,
    InclusionProof,
    PaymentResult,
    ScannedDocument,
    ScannedDocuments,
    ShareCreated,
    VersionDetail,
    Versions,
)
from certarchive.schemas.bodies import BODIES, OPTIONAL
from certarchive.schemas.public import PublicCertificate, VerificationResult
from certarchive.services.audit import MAX_ENTRIES, MAX_SEQ
from certarchive.views.openapi_backups import BACKUP_PATHS
from certarchive.views.openapi_backups import MODELS as BACKUP_MODELS

JSON = "application/json"
COMPONENTS = "#/components/schemas/{model}"

#: Every model the document shows; filled by :func:`_ref` while the paths are built.
MODELS: list[type[BaseModel]] = []


def _ref(model: type[BaseModel]) -> dict[str, str]:
    """A reference to ``model``'s schema, which :func:`_components` generates."""
    if model not in MODELS:
        MODELS.append(model)
    return {"$ref": COMPONENTS.format(model=model.__name__)}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return {"$ref": f"#/components/responses/{description}"}


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

STAFF = [{"bearerKey": []}, {"staffSession": []}]
HOLDER = [{"holderToken": []}]
PUBLIC: list[dict[str, list[str]]] = []

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


def _ok(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"200": _json(schema, description)}


def _serial_listing(title: str, model: type[BaseModel]) -> dict[str, Any]:
    """GET of a certificate's list of records (history, versions)."""
    return {"get": _op(title, "registry", STAFF, {**_ok(_ref(model)), **_REFUSALS}, [SERIAL])}


def _pdf(media: str = "application/pdf") -> dict[str, Any]:
    return {
        "200": {
            "description": "the certificate file",
            "headers": {"Content-Disposition": {"schema": {"type": "string"}}},
            "content": {media: {"schema": {"type": "string", "format": "binary"}}},
        }
    }


def _count(name: str, description: str, minimum: int, maximum: int | None = None) -> dict[str, Any]:
    """An optional whole-number query parameter."""
    schema: dict[str, Any] = {"type": "integer", "minimum": minimum}
    if maximum is not None:
        schema["maximum"] = maximum
    return {"name": name, "in": "query", "description": description, "schema": schema}


def _audit_read(
    summary: str, model: type[BaseModel], parameters: list[dict[str, Any]], text: str
) -> dict[str, Any]:
    """GET of one of a log's documents; 422 names each bad parameter, 404 an unknown log."""
    responses = {**_ok(_ref(model)), "422": _error("Invalid"), **_REFUSALS}
    if parameters:
        responses["409"] = _error("Conflict")
    return {"get": _op(summary, "audit", STAFF, responses, [LOG, *parameters], description=text)}


_AUDIT_PATHS = {
    "/api/v1/audit/{log}/entries": _audit_read(
        "日志条目 / log entries (H-5.2.4)",
        AuditEntries,
        [
            _count("start", "first entry (seq), default 0", 0, MAX_SEQ),
            _count("limit", "entries at most, default 100", 1, MAX_ENTRIES),
        ],
        "Auditors (role auditor, admin; scope audit:read). Each read is itself audited "
        "(audit.read).",
    ),
    "/api/v1/audit/{log}/checkpoint": _audit_read(
        "最新检查点 / the newest signed checkpoint and the log's public key",
        CheckpointDocument,
        [],
        "The document `certarchive audit checkpoint` prints; keep it outside and check the "
        "log against it later (`audit verify --checkpoint FILE`).",
    ),
    "/api/v1/audit/{log}/proofs/inclusion": _audit_read(
        "包含证明 / inclusion proof of an entry (RFC 6962)",
        InclusionProof,
        [
            {**_count("seq", "the entry", 0), "required": True},
            _count("size", "tree size, default the whole sequenced log", 1),
        ],
        "Check the path against the root of a checkpoint of that size; recompute the leaf "
        "from the entry.",
    ),
    "/api/v1/audit/{log}/proofs/consistency": _audit_read(
        "一致性证明 / consistency proof between two tree sizes (RFC 6962)",
        ConsistencyProof,
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
                "200": _json(_ref(Health), "ok"),
                "503": _json(_ref(Health), "uninitialised"),
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
                "201": _json(_ref(Case), "recorded"),
                "200": _json(_ref(Case), "the same case was recorded before (replay)"),
                "409": _error("Conflict"),
                "413": _error("TooLarge"),
                "415": _error("Unsupported"),
                "422": _error("Invalid"),
                **_REFUSALS,
            },
            description="Scope cases:write. Repeating the same document answers 200 with the "
            "recorded case; the same case number with other content is 409.",
        )
    },
    "/api/v1/cases/{case_no}": {
        "get": _op("案卷 / a case", "registry", STAFF, {**_ok(_ref(Case)), **_REFUSALS}, [CASE_NO])
    },
    "/api/v1/cases/{case_no}/payment": {
        "post": _op(
            "确认缴费并出证 / confirm payment: issues the certificates (Z-4, H-2.1)",
            "upstream",
            [{"bearerKey": []}],
            {
                **_ok(_ref(PaymentResult)),
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
            {**_ok(_ref(Case)), "409": _error("Conflict"), **_REFUSALS},
            [CASE_NO],
        )
    },
    "/api/v1/cases/{case_no}/documents": {
        "get": _op(
            "扫描件列表 / the case's scanned documents (metadata)",
            "registry",
            STAFF,
            {
                **_ok(_ref(ScannedDocuments)),
                **_REFUSALS,
            },
            [CASE_NO],
        ),
        "post": _op(
            "上传扫描件 / add a scanned document (PDF, JPEG or PNG, stored encrypted)",
            "upstream",
            STAFF,
            {
                "201": _json(_ref(ScannedDocument), "stored"),
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
                **_ok(_ref(FilingQueue)),
                **_REFUSALS,
            },
        )
    },
    "/api/v1/certificates/{serial}": {
        "get": _op(
            "证书元数据 / certificate metadata",
            "registry",
            STAFF,
            {**_ok(_ref(CertificateMetadata)), **_REFUSALS},
            [SERIAL],
        ),
        "patch": _op(
            "更正草稿 / correct a draft: a new version (H-4.3)",
            "registrar",
            STAFF,
            {
                **_ok(_ref(CertificateMetadata)),
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
        "办理过程 / workflow history", History
    ),
    "/api/v1/certificates/{serial}/versions": _serial_listing(
        "版本 / versions (metadata only)", Versions
    ),
    "/api/v1/certificates/{serial}/versions/{number}": {
        "get": _op(
            "某一版本的数据与修改 / one version's data and its changes",
            "registry",
            STAFF,
            {
                **_ok(_ref(VersionDetail)),
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
                **_ok(_ref(CertificateMetadata)),
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
            {**_ok(_ref(CertificateMetadata)), "409": _error("Conflict"), **_REFUSALS},
            [SERIAL],
        )
    },
    "/api/v1/certificates/{serial}/reissue": {
        "post": _op(
            "注销并重发 / revoke and re-issue with corrections, new serial (H-4.3, Z-5)",
            "registrar",
            STAFF,
            {
                "201": _json(_ref(CertificateMetadata), "the new certificate"),
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
                **_ok(_ref(CertificateMetadata)),
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
                **_ok(_ref(CertificateMetadata)),
                "409": _error("Conflict"),
                "422": _error("Invalid"),
                **_REFUSALS,
            },
            [SERIAL],
        )
    },
    "/api/v1/holder/code": {
        "post": _op(
            "权利人重新获取下载码 / a new download code by SMS (Z-4): 202 whatever the pair",
            "holder",
            PUBLIC,
            {
                "202": _json(
                    _ref(CodeAccepted),
                    "accepted: a new code goes to the phone if the pair is a holder's",
                ),
                "400": _error("BadRequest"),
                "422": _error("Invalid"),
                "429": _error("RateLimited"),
            },
        ),
    },
    "/api/v1/holder/wechat": {
        "post": _op(
            "绑定微信 / bind the holder's WeChat openid for notices (Z-4)",
            "holder",
            HOLDER,
            {"204": {"description": "bound"}},
        ),
        "delete": _op(
            "解除绑定 / unbind WeChat",
            "holder",
            HOLDER,
            {"204": {"description": "unbound"}},
        ),
    },
    "/api/v1/holder/shares": {
        "post": _op(
            "授权机构用证 / share a certificate with an institution: an annotated copy (加注件)",
            "holder",
            HOLDER,
            {
                "201": _json(_ref(ShareCreated), "the share: its address and code are given once"),
                "404": _error("NotFound"),
                "409": _error("Conflict"),
            },
        ),
        "get": _op(
            "我的授权 / the holder's shares",
            "holder",
            HOLDER,
            {
                "200": _json(_ref(HolderShares), "the shares the holder made"),
            },
        ),
    },
    "/api/v1/holder/shares/{share_id}": {
        "delete": _op(
            "撤回授权 / withdraw a share (410 from then on)",
            "holder",
            HOLDER,
            {"204": {"description": "withdrawn"}, "404": _error("NotFound")},
            parameters=[
                {"name": "share_id", "in": "path", "required": True, "schema": {"type": "string"}}
            ],
        ),
    },
    "/api/v1/holder/session": {
        "post": _op(
            "权利人登录 / holder sign-in with ID number and download code (H-2.2)",
            "holder",
            PUBLIC,
            {
                "201": _json(_ref(HolderSession), "signed in"),
                "400": _error("BadRequest"),
                "401": _error("Unauthorized"),
                "422": _error("Invalid"),
                "429": _error("RateLimited"),
            },
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
                **_ok(_ref(HolderCertificates)),
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
    **BACKUP_PATHS,
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
                **_ok(_ref(PublicCertificate)),
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
                        JSON: {"schema": _ref(VerificationResult)},
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
    "Gone": "授权已撤回或已过期 / the share was withdrawn or has expired",
    "Busy": "系统繁忙，未做任何更改 / busy after repeated conflicts: nothing changed, retry",
}


def _page_error(name: str) -> dict[str, Any]:
    """A refusal on a public page: JSON for JSON callers, else an HTML page."""
    return {
        "description": _ERRORS[name],
        "content": {
            JSON: {"schema": _ref(Error)},
            "text/html": {"schema": {"type": "string"}},
        },
    }


def _declared_bodies(paths: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each JSON request body is the model the service validates it with (BODIES)."""
    for (path, method), model in BODIES.items():
        content = {JSON: {"schema": _ref(model)}}
        required = (path, method) not in OPTIONAL
        paths[path][method]["requestBody"] = {"required": required, "content": content}
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


def _components(models: list[type[BaseModel]]) -> dict[str, Any]:
    """The JSON Schema of every model the paths refer to, and of the models they use, as
    pydantic generates it (the mode that validates: answers are checked by validating
    them).  Each model must come out under its own class name, which :func:`_ref` used."""
    refs, top = models_json_schema(
        [(model, "validation") for model in models], ref_template=COMPONENTS
    )
    for (model, _), ref in refs.items():
        assert ref == {"$ref": COMPONENTS.format(model=model.__name__)}, (model, ref)
    return top.get("$defs", {})


PATHS = _complete(_declared_bodies(PATHS))
_ref(Error)
for _backup_model in BACKUP_MODELS:
    _ref(_backup_model)

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
            "backups",
        )
    ],
    "paths": PATHS,
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
        "schemas": _components(MODELS),
        "responses": {name: _json(_ref(Error), text) for name, text in _ERRORS.items()},
    },
}


def document(base_url: str) -> dict[str, Any]:
    return {**DOCUMENT, "servers": [{"url": base_url}]}


@view_config(route_name="openapi", request_method="GET", renderer="json")
def openapi(request: Request) -> dict[str, Any]:
    return document(request.registry.runtime.settings.public_base_url)
