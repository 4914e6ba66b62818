"""What the key holder last saw of each repository: the defence against a rolled-back one.

Inside a repository the chain of manifests (sequence numbers and SM3 links) shows a
manifest removed from the middle or replaced.  It cannot show the newest snapshots
removed, manifests and chunks together: what remains is a valid older repository.  Only
someone who remembers a later state can tell, as borg's and restic's clients remember the
last manifest they saw.  Here that memory sits beside the backup key, in the trusted
keys folder (``backup.seen.json``, mode 0600): each export and each successful verify
records the newest sequence number and manifest digest per repository id, and verify
refuses a repository that ends before it.  Copy the file along with the key to a restore
site, or compare ``backup list`` with the operations log there.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from certarchive.backup.keys import BackupKey
from certarchive.backup.manifest import Manifest
from certarchive.crypto.keyring import write_atomically


def seen_path(key: BackupKey) -> Path:
    return key.path.with_name(key.path.stem + ".seen.json")


def _read(key: BackupKey) -> dict[str, Any]:
    try:
        document = json.loads(seen_path(key).read_bytes())
    except FileNotFoundError:
        return {}
    except ValueError:
        raise ValueError(f"{seen_path(key)}: not a record of seen snapshots") from None
    return document if isinstance(document, dict) else {}


def recall(key: BackupKey, repository: str) -> dict[str, Any] | None:
    """``{"sequence", "snapshot", "sm3", "at"}`` of the newest snapshot seen, if any."""
    entry = _read(key).get(repository)
    return entry if isinstance(entry, dict) and isinstance(entry.get("sequence"), int) else None


def remember(key: BackupKey, manifest: Manifest) -> None:
    """Record ``manifest`` as seen unless a later one was seen already."""
    document = _read(key)
    entry = recall(key, manifest.repository)
    if entry is not None and entry["sequence"] >= manifest.sequence:
        return
    document[manifest.repository] = {
        "sequence": manifest.sequence,
        "snapshot": manifest.snapshot,
        "sm3": manifest.digest,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    text = json.dumps(document, indent=1, sort_keys=True) + "\n"
    write_atomically(seen_path(key), text.encode())
