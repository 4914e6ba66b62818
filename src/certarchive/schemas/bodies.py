"""The JSON bodies of the registrar's and the upstream system's certificate actions."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from certarchive.i18n import _
from certarchive.schemas.case import CaseDocument
from certarchive.schemas.types import AwareTime, Text
from certarchive.validation.identifiers import MOBILE_PHONE

REASON_MAX = 500
RevocationCause = Literal["transfer", "change", "cancellation", "correction"]
PaperEventName = Literal["issued", "returned", "lost_announced"]


class _Body(BaseModel):
    """Unknown fields are ignored, as the API always did, unless a body says otherwise."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class Payment(_Body):
    """Z-4: the payment that issues a case's certificates."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    receipt_no: Text(64)  # type: ignore[valid-type]
    amount: Decimal = Field(ge=0, allow_inf_nan=False, description="元, e.g. 80.00")
    paid_at: AwareTime


class Revocation(_Body):
    """H-4.2 / H-4.3: why a certificate is revoked."""

    cause: RevocationCause
    reason: Text(REASON_MAX)  # type: ignore[valid-type]
    case_no: Text(40) | None = None  # type: ignore[valid-type]


class PaperEvent(_Body):
    """H-2.3, H-2.4, H-4.2: the paper certificate handed over, back, or lost."""

    event: PaperEventName
    comment: Text(REASON_MAX, min_length=0) = ""  # type: ignore[valid-type]


class Rollback(_Body):
    """H-4.3: an issued certificate never downloaded goes back to draft."""

    reason: Text(REASON_MAX)  # type: ignore[valid-type]


class Reissue(_Body):
    """H-4.3, Z-5: revoke and issue anew with corrections (a new serial)."""

    reason: Text(REASON_MAX)  # type: ignore[valid-type]
    changes: dict[str, Any] = Field(default_factory=dict)


class Correction(_Body):
    """H-4.3: a draft corrected: whole fields replaced, a new version."""

    changes: dict[str, Any]
    comment: Text(REASON_MAX)  # type: ignore[valid-type]


class Comment(_Body):
    """Issuing a corrected draft again, filing a case: an optional word for the history."""

    comment: Text(REASON_MAX, min_length=0) = ""  # type: ignore[valid-type]


class HolderSignIn(_Body):
    """H-2.2: a holder signs in with an ID number and a download code (the API and the
    holder page's form read the same body)."""

    id_number: Text(64)  # type: ignore[valid-type]
    download_code: Text(32)  # type: ignore[valid-type]


class CodeRequest(_Body):
    """Z-4: a holder asks for a new download code, sent to the phone of the case document."""

    id_number: Text(64)  # type: ignore[valid-type]
    phone: str = Field(pattern=MOBILE_PHONE.pattern, description="11-digit mainland mobile")


class WechatBinding(_Body):
    """Z-4: the openid the WeChat official account's page got for the signed-in holder."""

    openid: str = Field(pattern=r"^[A-Za-z0-9_-]{10,64}$", description="the account's openid")


SHARE_DAYS_MAX = 90


class ShareRequest(_Body):
    """授权用证: a holder shares a certificate with an institution, for a purpose and time."""

    serial: Text(64)  # type: ignore[valid-type]
    institution: Text(60)  # type: ignore[valid-type]
    purpose: Text(60)  # type: ignore[valid-type]
    days: int = Field(ge=1, le=SHARE_DAYS_MAX, strict=True)


#: Operation (path, method) -> the body model, for the API document; the bodies of
#: OPTIONAL may be left out.
BODIES: dict[tuple[str, str], type[BaseModel]] = {
    ("/api/v1/cases", "post"): CaseDocument,
    ("/api/v1/holder/session", "post"): HolderSignIn,
    ("/api/v1/holder/code", "post"): CodeRequest,
    ("/api/v1/holder/wechat", "post"): WechatBinding,
    ("/api/v1/holder/shares", "post"): ShareRequest,
    ("/api/v1/certificates/{serial}/issue", "post"): Comment,
    ("/api/v1/cases/{case_no}/file", "post"): Comment,
    ("/api/v1/cases/{case_no}/payment", "post"): Payment,
    ("/api/v1/certificates/{serial}/revoke", "post"): Revocation,
    ("/api/v1/certificates/{serial}/paper", "post"): PaperEvent,
    ("/api/v1/certificates/{serial}/rollback", "post"): Rollback,
    ("/api/v1/certificates/{serial}/reissue", "post"): Reissue,
    ("/api/v1/certificates/{serial}", "patch"): Correction,
}
OPTIONAL = {
    ("/api/v1/certificates/{serial}/issue", "post"),
    ("/api/v1/cases/{case_no}/file", "post"),
}


def _blank_is_none(value: Any) -> Any:
    """A form's empty field means "not given"."""
    return None if isinstance(value, str) and not value.strip() else value


SearchMode = Literal[
    "auto", "number", "unit_number", "id_number", "name", "address", "name_or_address"
]
SearchState = Literal["draft", "issued", "downloaded", "archived", "revoked", "rolled_back"]
CaseState = Literal["received", "recorded", "paid", "certified", "filed"]
Optional = BeforeValidator(_blank_is_none)


class SearchQuery(_Body):
    """The staff's search and list form: words and what they are, and the filters."""

    q: Text(100, min_length=0) = ""  # type: ignore[valid-type]
    by: Annotated[SearchMode, BeforeValidator(lambda v: _blank_is_none(v) or "auto")] = "auto"
    state: Annotated[SearchState | None, Optional] = None
    kind: Annotated[Literal["right", "proof"] | None, Optional] = None
    case_state: Annotated[CaseState | None, Optional] = None
    date_from: Annotated[date | None, Optional] = None
    date_to: Annotated[date | None, Optional] = None
    agency: Annotated[Text(100) | None, Optional] = None  # type: ignore[valid-type]
    page: Annotated[int, Optional, Field(ge=1, le=100_000)] = 1

    @field_validator("date_to")
    @classmethod
    def _dates_in_order(cls, value: date | None, info: ValidationInfo) -> date | None:
        first = info.data.get("date_from")
        if value and first and first > value:
            raise PydanticCustomError("date_order", _("截止日期早于起始日期"))
        return value
