"""The manifest: what a snapshot holds, signed with SM2, chained to its predecessor.

A manifest is JSON. Its signature covers the canonical form of every other field (sorted
keys, no spaces, UTF-8), so the file may be pretty-printed and still verify.  The chain
field ``previous`` carries the SM3 of the previous manifest's file bytes and ``sequence``
counts snapshots from 1: a manifest cannot be dropped from the middle, swapped for
another or rolled back to an older one without breaking a link (see :mod:`.verify`).

Per database the manifest records the transaction range (``after_tid`` exclusive, the
previous snapshot's ``last_tid``; ``last_tid`` inclusive, the boundary captured at the
start of the export), counts to check a restore against, and the chunk list
``[[sm3, size], ...]`` in stream order.  No personal data is in a manifest.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from certarchive.backup.keys import BackupKey
from certarchive.crypto.sm import sm3_hex

FORMAT = "certarchive-backup/1"
KINDS = ("full", "incremental")
COUNTS = ("transactions", "records", "objects", "blobs", "blob_bytes", "missing_blobs")
_HEX_TID = re.compile(r"[0-9a-f]{16}\Z")
_HEX_SM3 = re.compile(r"[0-9a-f]{64}\Z")


class ManifestError(Exception):
    """A manifest file is not a well-formed manifest; the message names the file."""


def snapshot_id(sequence: int, created: datetime) -> str:
    """``000042-20261120T100000Z``: sorts by sequence, and says when at a glance."""
    return f"{sequence:06d}-{created:%Y%m%dT%H%M%SZ}"


def canonical(document: Mapping[str, Any]) -> bytes:
    """The bytes the signature covers: every field but the signature, canonical JSON."""
    body = {key: value for key, value in document.items() if key != "signature"}
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def sign(document: dict[str, Any], key: BackupKey) -> bytes:
    """Name the key, sign, and return the file bytes to write."""
    document["key"] = {"id": key.key_id, "sm2_public": key.public_key.to_bytes().hex()}
    document["signature"] = key.sign(canonical(document)).hex()
    text = json.dumps(document, ensure_ascii=False, sort_keys=True, indent=1)
    return (text + "\n").encode()


def _check_database(name: str, entry: Any) -> None:
    if not isinstance(entry, dict):
        raise ValueError(f"database {name} is not an object")
    for tid_field in ("after_tid", "first_tid", "last_tid"):
        value = entry.get(tid_field)
        if not (value is None and tid_field != "last_tid") and not (
            isinstance(value, str) and _HEX_TID.match(value)
        ):
            raise ValueError(f"database {name}: {tid_field} malformed")
    for count in (*COUNTS, "stream_bytes"):
        if not isinstance(entry.get(count), int) or entry[count] < 0:
            raise ValueError(f"database {name}: {count} malformed")
    chunks = entry.get("chunks")
    if not isinstance(chunks, list) or not all(
        isinstance(c, list)
        and len(c) == 2
        and isinstance(c[0], str)
        and _HEX_SM3.match(c[0])
        and isinstance(c[1], int)
        for c in chunks
    ):
        raise ValueError(f"database {name}: chunk list malformed")


def _check_shape(document: Any) -> None:
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError(f"not a {FORMAT} manifest")
    for name, kind in (
        ("repository", str),
        ("snapshot", str),
        ("sequence", int),
        ("created", str),
        ("signature", str),
        ("chunk_size", int),
        ("key", dict),
        ("databases", dict),
    ):
        if not isinstance(document.get(name), kind):
            raise ValueError(f"field {name} missing or malformed")
    if document.get("kind") not in KINDS:
        raise ValueError("field kind malformed")
    previous = document.get("previous")
    if previous is not None and not (
        isinstance(previous, dict)
        and isinstance(previous.get("snapshot"), str)
        and isinstance(previous.get("sm3"), str)
    ):
        raise ValueError("field previous malformed")
    for name, entry in document["databases"].items():
        _check_database(name, entry)


class Manifest:
    """One manifest file as read: its bytes (for the chain digest) and its fields."""

    def __init__(self, path: Path, raw: bytes, document: dict[str, Any]) -> None:
        self.path = path
        self.raw = raw
        self.document = document

    @classmethod
    def parse(cls, path: Path, raw: bytes) -> Manifest:
        try:
            document = json.loads(raw)
            _check_shape(document)
        except ValueError as error:  # json.JSONDecodeError and UnicodeDecodeError included
            raise ManifestError(f"{path.name}: {error}") from None
        return cls(path, raw, document)

    @property
    def digest(self) -> str:
        """SM3 of the file bytes: what the next manifest's ``previous`` names."""
        return sm3_hex(self.raw)

    @property
    def snapshot(self) -> str:
        return self.document["snapshot"]

    @property
    def sequence(self) -> int:
        return self.document["sequence"]

    @property
    def kind(self) -> str:
        return self.document["kind"]

    @property
    def repository(self) -> str:
        return self.document["repository"]

    @property
    def key_id(self) -> Any:
        return self.document["key"].get("id")

    @property
    def previous(self) -> dict[str, str] | None:
        return self.document.get("previous")

    @property
    def databases(self) -> dict[str, dict[str, Any]]:
        return self.document["databases"]

    def signature_ok(self, key: BackupKey) -> bool:
        """Whether ``key`` signed exactly these fields (never trusts the key named inside)."""
        try:
            signature = bytes.fromhex(self.document["signature"])
        except ValueError:
            return False
        return key.verify(canonical(self.document), signature)

    def size(self) -> int:
        """Bytes of chunk files this snapshot added to the repository."""
        return sum(size for entry in self.databases.values() for _, size in entry["chunks"])
