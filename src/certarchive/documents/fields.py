"""The data page's rows: which labels, in which order, and how each value is written.

This is the paper form's content (H-1.2) kept apart from drawing, so the order rule
(附记 right after 权利其他状况) and the privacy rule (names only, never id numbers or
phones, H-5.2.3) are plain data that tests can read without opening a PDF.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from certarchive.documents.model import KIND_PROOF, KIND_RIGHT, CertificateDocument
from certarchive.i18n import N_

#: The 不动产权证书 data page, with 附记 moved right after 权利其他状况 (H-1.2).
RIGHT_LABELS = (
    N_("权利人"),
    N_("共有情况"),
    N_("坐落"),
    N_("不动产单元号"),
    N_("权利类型"),
    N_("权利性质"),
    N_("用途"),
    N_("面积"),
    N_("使用期限"),
    N_("权利其他状况"),
    N_("附记"),
)

#: The 不动产登记证明 data page.
PROOF_LABELS = (
    N_("证明权利或事项"),
    N_("权利人（申请人）"),
    N_("义务人"),
    N_("坐落"),
    N_("不动产单元号"),
    N_("其他"),
    N_("附记"),
)

#: The labels whose cells are given room to grow, as on the paper form.
ROOMY_LABELS = frozenset({"权利其他状况", "附记", "其他"})

BY_SHARE = "按份共有"
NAME_SEPARATOR = "、"
SHARE_SEPARATOR = "，"


def holder_names(people: Iterable[Mapping[str, Any]] | None) -> str:
    """Names joined with 、 as the form writes them; nothing else about a person is printed."""
    return NAME_SEPARATOR.join(str(person.get("name", "")) for person in people or ())


def co_ownership_text(co_ownership: str, holders: Iterable[Mapping[str, Any]] | None) -> str:
    """单独所有 / 共同共有 as given; 按份共有 followed by each holder's share."""
    if co_ownership != BY_SHARE:
        return co_ownership
    shares = SHARE_SEPARATOR.join(
        f"{holder.get('name', '')} {holder.get('share', '')}".strip() for holder in holders or ()
    )
    return f"{BY_SHARE}：{shares}" if shares else BY_SHARE


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    return "" if value is None else str(value)


def data_rows(doc: CertificateDocument) -> list[tuple[str, str]]:
    """(label, printed value) pairs of the data page, in the form's order."""
    return rows_of(doc.kind, doc.data)


def rows_of(kind: str, data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The data page's rows for certificate data of ``kind`` (the verification page shows
    them too, with personal data masked first)."""
    if kind == KIND_RIGHT:
        values = (
            holder_names(data.get("holders")),
            co_ownership_text(_text(data, "co_ownership"), data.get("holders")),
            _text(data, "location"),
            _text(data, "unit_number"),
            _text(data, "right_type"),
            _text(data, "right_nature"),
            _text(data, "use"),
            _text(data, "area"),
            _text(data, "term"),
            _text(data, "other_status"),
            _text(data, "notes"),
        )
        return list(zip(RIGHT_LABELS, values, strict=True))
    if kind == KIND_PROOF:
        values = (
            _text(data, "proved_right"),
            holder_names(data.get("holders")),
            holder_names(data.get("obligors")),
            _text(data, "location"),
            _text(data, "unit_number"),
            _text(data, "other"),
            _text(data, "notes"),
        )
        return list(zip(PROOF_LABELS, values, strict=True))
    raise ValueError(f"unknown certificate kind {kind!r}")
