"""The backup key: one file, apart from the data keys, that is all a restore needs.

It holds an SM4 key that encrypts the chunks and an SM2 key pair that signs the manifests.
It is deliberately not in ``datakeys.json``: the data keys may be lost together with the
server a backup must replace, and whoever holds the backup key (a backup operator, an
off-site safe) must not thereby hold the data keys, because certificate data and files
inside a snapshot are still ciphertexts under those.  Keep a copy of this file away from
both the server and the backup repository; without it no snapshot can be read.

The file (default ``<keys_dir>/backup.key``, mode 0600) is JSON: a random key id, the SM4
key and the SM2 private scalar, in hex.  Manifests name the key id, so a wrong key is
recognised as such instead of as a thousand corrupt chunks.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from pathlib import Path

from certarchive.crypto.keyring import KeyringError, read_private_file, write_atomically
from certarchive.crypto.sm import (
    SM4_KEY_SIZE,
    SM2PrivateKey,
    SM2PublicKey,
    random_key,
    sm4_gcm_decrypt,
    sm4_gcm_encrypt,
)
from certarchive.i18n import message_of

KEY_FILE = "backup.key"
FORMAT = "certarchive-backup-key/1"


class BackupKeyError(Exception):
    """The backup key file is missing, unreadable, malformed or exists already."""


class BackupKey:
    """The backup key in memory; its repr names the key id only."""

    __slots__ = ("_sm4", "key_id", "path", "signing_key")

    def __init__(self, path: Path, key_id: str, sm4: bytes, signing_key: SM2PrivateKey) -> None:
        self.path = path
        self.key_id = key_id
        self._sm4 = sm4
        self.signing_key = signing_key

    def __repr__(self) -> str:
        return f"BackupKey({self.key_id})"

    @property
    def public_key(self) -> SM2PublicKey:
        return self.signing_key.public_key

    def encrypt(self, plaintext: bytes | bytearray | memoryview, aad: bytes) -> bytes:
        return sm4_gcm_encrypt(self._sm4, plaintext, aad)

    def decrypt(self, ciphertext: bytes, aad: bytes) -> bytes:
        """Raises :class:`certarchive.crypto.sm.DecryptionError` on any fault."""
        return sm4_gcm_decrypt(self._sm4, ciphertext, aad)

    def sign(self, message: bytes) -> bytes:
        return self.signing_key.sign(message)

    def verify(self, message: bytes, signature: bytes) -> bool:
        return self.public_key.verify(message, signature)


def default_key_path(keys_dir: Path) -> Path:
    return Path(keys_dir) / KEY_FILE


def create_key(path: Path) -> BackupKey:
    """A new backup key written to ``path`` (0600); refuses to replace an existing one.

    Replacing it silently would make every earlier snapshot unreadable.
    """
    path = Path(path)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = BackupKey(
        path, f"bk-{secrets.token_hex(6)}", random_key(SM4_KEY_SIZE), SM2PrivateKey.generate()
    )
    document = {
        "format": FORMAT,
        "id": key.key_id,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "sm4": key._sm4.hex(),
        "sm2": key.signing_key.to_bytes().hex(),
        "sm2_public": key.public_key.to_bytes().hex(),
    }
    try:
        write_atomically(path, (json.dumps(document, indent=1) + "\n").encode(), exclusive=True)
    except FileExistsError:
        raise BackupKeyError(f"{path}: a backup key exists already; it is never replaced") from None
    return key


def load_key(path: Path) -> BackupKey:
    """The backup key in ``path``; BackupKeyError naming the file when anything is wrong."""
    path = Path(path)
    try:
        document = json.loads(read_private_file(path))
        if document.get("format") != FORMAT or not isinstance(document.get("id"), str):
            raise ValueError("unknown format")
        sm4 = bytes.fromhex(document["sm4"])
        if len(sm4) != SM4_KEY_SIZE:
            raise ValueError("SM4 key of the wrong length")
        signing_key = SM2PrivateKey.from_bytes(bytes.fromhex(document["sm2"]))
    except KeyringError as error:
        raise BackupKeyError(message_of(error)) from None
    except (ValueError, KeyError, TypeError, AttributeError):
        raise BackupKeyError(f"{path}: not a backup key file, or corrupt") from None
    return BackupKey(path, document["id"], sm4, signing_key)
