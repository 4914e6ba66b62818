"""The report sent to the city's e-licence library (CONTRACT.md "Reporting to the
e-licence library", H-2.1, H-4.2, H-4.4): an event and the certificate's catalogue entry.

Each field names, in its ``standard`` metadata, the GB/T 36902 catalogue item or GB/T
36903 metadata element it carries: that is the one declaration of the mapping, which
docs/reporting.md lists (a test holds the two together) and the refusal of an
incomplete entry quotes.  The entry is validated before it leaves: an item the standard
requires and the registry lacks is refused naming the item, never sent empty.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from certarchive.i18n import _
from certarchive.schemas.case import ID_TYPES, Choice
from certarchive.schemas.types import AwareTime, Text

EVENTS = ("issued", "revoked")
SM3_HEX = r"^[0-9a-f]{64}$"
MAX_FILE_BASE64 = 64 * 2**20  # a certificate file is tens of kilobytes; refuse the absurd


def _item(standard: str, description: str) -> Any:
    return {"description": description, "json_schema_extra": {"standard": standard}}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LibraryHolder(_Strict):
    """One holder (持证主体): the library is a government platform that shares the
    certificate with other departments (H-4.4), so it gets the ID number itself."""

    name: Text(100) = Field(**_item("GB/T 36903 持证主体", "holder's name"))  # type: ignore[valid-type]
    id_type: Choice(*ID_TYPES) = Field(  # type: ignore[valid-type]
        **_item("GB/T 36903 持证主体代码类型", "resident_id, credit_code, passport, other")
    )
    id_number: Text(64) = Field(**_item("GB/T 36903 持证主体代码", "ID or credit code"))  # type: ignore[valid-type]


class CatalogueEntry(_Strict):
    """The catalogue entry of one certificate, as it stands at the event."""

    licence_id: Text(128) = Field(  # type: ignore[valid-type]
        **_item("GB/T 36902 证照标识 (GB/T 36904)", "the licence identifier")
    )
    serial: Text(40) = Field(**_item("GB/T 36903 证照编号", "the H-1.6 serial"))  # type: ignore[valid-type]
    type_code: Text(40) = Field(**_item("GB/T 36903 证照类型代码", "licence type code"))  # type: ignore[valid-type]
    type_name: Text(40) = Field(**_item("GB/T 36903 证照类型名称", "不动产权证书 or 证明"))  # type: ignore[valid-type]
    holders: list[LibraryHolder] = Field(
        min_length=1, max_length=100, **_item("GB/T 36903 持证主体", "every holder")
    )
    agency: Text(100) = Field(**_item("GB/T 36903 证照颁发机构", "issuing agency's name"))  # type: ignore[valid-type]
    agency_code: Text(18, 18) = Field(  # type: ignore[valid-type]
        **_item("GB/T 36903 证照颁发机构代码", "its GB 32100 credit code")
    )
    unit_number: Text(28) = Field(  # type: ignore[valid-type]
        **_item("GB/T 36903 照面信息 (不动产单元号, GB/T 37346)", "real-estate unit")
    )
    issued_at: AwareTime = Field(**_item("GB/T 36903 证照颁发日期", "time of issue"))
    status: Literal["valid", "revoked"] = Field(
        **_item("GB/T 36902 证照状态", "valid, or revoked (注销)")
    )
    revoked_at: AwareTime | None = Field(
        None, **_item("GB/T 36902 注销日期", "time of revocation, when revoked")
    )
    revocation_cause: Text(200) | None = Field(  # type: ignore[valid-type]
        None, **_item("GB/T 36902 注销原因", "转移登记, 变更登记, 注销登记 or 更正登记")
    )
    replaces: Text(40) | None = Field(  # type: ignore[valid-type]
        None, **_item("GB/T 36902 关联证照标识", "serial this certificate re-issues")
    )
    replaced_by: Text(40) | None = Field(  # type: ignore[valid-type]
        None, **_item("GB/T 36902 关联证照标识", "serial that re-issues this one")
    )
    file_sm3: str = Field(
        pattern=SM3_HEX, **_item("GB/T 36905 文件摘要 (SM3)", "SM3 of the sealed file")
    )
    file_format: Literal["ofd", "pdf"] = Field(
        **_item("GB/T 36905 文件格式", "ofd where produced, else pdf")
    )
    file: str = Field(
        min_length=1,
        max_length=MAX_FILE_BASE64,
        **_item("GB/T 36905 电子证照文件", "the sealed file, base64"),
    )

    @model_validator(mode="after")
    def _revocation(self) -> CatalogueEntry:
        revoked = self.status == "revoked"
        if revoked != (self.revoked_at is not None) or revoked != bool(self.revocation_cause):
            raise ValueError(_("注销状态与注销日期、原因不符"))
        return self


class LibraryReport(_Strict):
    """The body of one ``POST``: the same ``id`` on every attempt of an event."""

    id: str = Field(pattern=r"^[0-9a-f]{32}$", description="unique event id")
    event: Literal["issued", "revoked"]
    licence: CatalogueEntry


def standard_item(path: str) -> str | None:
    """The standard's item a field path (``licence.holders[0].id_number``) carries."""
    model: type[BaseModel] = LibraryReport
    item = None
    for part in path.replace("[", ".").replace("]", "").split("."):
        if part.isdigit():
            continue
        field = model.model_fields.get(part)
        if field is None:
            return item
        extra = field.json_schema_extra
        item = extra.get("standard") if isinstance(extra, dict) else item
        annotation = field.annotation
        inner = getattr(annotation, "__args__", (annotation,))[0]
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            model = inner
    return item
