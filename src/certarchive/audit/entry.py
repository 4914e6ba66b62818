"""What one audit entry says (H-5.2.4), as canonical bytes.

An entry is plain data: time, actor, role, action, object, SM3 of the state before and
after, result, request id and client address.  Personal data never goes into an entry:
objects are named by id or serial, states by their digest.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

FIELDS = (
    "time",
    "actor",
    "role",
    "action",
    "object",
    "before",
    "after",
    "result",
    "request_id",
    "client",
)


def make_entry(**values: Any) -> dict[str, Any]:
    unknown = set(values) - set(FIELDS) - {"detail"}
    if unknown:
        raise ValueError(f"unknown audit fields {sorted(unknown)}")
    entry = {field: values.get(field) for field in FIELDS}
    if values.get("detail"):
        entry["detail"] = values["detail"]
    return entry


def canonical(entry: Mapping[str, Any]) -> bytes:
    """The exact bytes the Merkle leaf hashes: sorted keys, no spaces, UTF-8."""
    return json.dumps(entry, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
