"""Keys at rest: per-purpose data keys, wrapped under one key-encryption key (KEK).

Everything lives in one directory (``var/keys``, mode 0700):

- ``datakeys.json`` (mode 0600): each data key wrapped with SM4-GCM under the KEK (the
  key id is the AAD, so a wrapped key cannot be passed off under another id), which key
  is current per purpose, how the KEK is obtained, a check value that recognises the
  right KEK, and an HMAC-SM3 over the whole document so that no field can be edited
  unnoticed (for instance to roll ``current`` back to an older key).
- the KEK itself: either a key file ``kek-<random>.key`` (32 random bytes in hex, mode
  0600) named in ``datakeys.json``, or nothing at all when the KEK is stretched from a
  passphrase with scrypt (salt and cost stored in ``datakeys.json``).

The KEK is never used directly: a wrapping key, a MAC key and the check value are each
derived from it with HMAC-SM3 under their own label, so no secret serves two uses.

Data-key ciphertexts carry a short header naming their key id, so after a rotation old
ciphertexts still decrypt with the old key while new ones use the new. Re-wrapping changes
only the KEK and ``datakeys.json``, never a ciphertext: the KEK can change while the
registry keeps running.

Key administration (create, rotate, rewrap) is a one-operator action: a process that has
the keyring open sees another process's rotation only after it opens the keyring again.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import re
import stat
import tempfile
import unicodedata
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from certarchive.crypto.sm import (
    DecryptionError,
    hmac_sm3,
    random_key,
    sm4_gcm_decrypt,
    sm4_gcm_encrypt,
)

KEYS_FILE = "datakeys.json"
FORMAT = "certarchive-keyring/1"
BLIND_INDEX = "blind-index"
DEFAULT_PURPOSES = ("personal", "files", "seal", "apikeys", BLIND_INDEX)
KEK_SIZE = 32

_PURPOSE = re.compile(r"[a-z][a-z0-9-]{0,31}\Z")
_KEY_FILE_NAME = re.compile(r"kek-[0-9a-f]{8}\.key\Z")
_CIPHERTEXT_VERSION = 1
_SCRYPT_COST = {"n": 2**15, "r": 8, "p": 1}  # 32 MiB and ~0.1 s per derivation
_SCRYPT_LIMITS = {"n": (2**14, 2**20), "r": (8, 16), "p": (1, 4)}  # read before the MAC


class KeyringError(Exception):
    """The keyring cannot be used as asked. Messages name files and key ids, never keys."""


# --- the key-encryption key ---------------------------------------------------------


class _KeyEncryptionKey:
    """The KEK's three derived keys; holds no other state and prints nothing secret."""

    __slots__ = ("_mac_key", "_wrap_key", "check_value")

    def __init__(self, secret: bytes) -> None:
        self._wrap_key = hmac_sm3(secret, b"certarchive keyring: wrap data keys")[:16]
        self._mac_key = hmac_sm3(secret, b"certarchive keyring: authenticate datakeys.json")
        self.check_value = hmac_sm3(secret, b"certarchive keyring: check value").hex()

    def __repr__(self) -> str:
        return "<key-encryption key>"

    def wrap(self, key_id: str, data_key: bytes) -> str:
        return sm4_gcm_encrypt(self._wrap_key, data_key, key_id.encode()).hex()

    def unwrap(self, key_id: str, wrapped: str) -> bytes:
        return sm4_gcm_decrypt(self._wrap_key, bytes.fromhex(wrapped), key_id.encode())

    def mac(self, document: Mapping[str, Any]) -> str:
        body = {name: value for name, value in document.items() if name != "mac"}
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
        return hmac_sm3(self._mac_key, canonical).hex()


def _scrypt(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    """Stretch a passphrase; NFC first, so the same Chinese text typed on two systems matches."""
    return hashlib.scrypt(
        unicodedata.normalize("NFC", passphrase).encode(),
        salt=salt,
        n=n,
        r=r,
        p=p,
        maxmem=2 * 128 * r * n,
        dklen=KEK_SIZE,
    )


def _new_kek(keys_dir: Path, passphrase: str | None) -> tuple[dict[str, Any], _KeyEncryptionKey]:
    """A fresh KEK and its descriptor; in key-file mode the key file is already written."""
    if passphrase is None:
        name = f"kek-{random_key(4).hex()}.key"
        secret = random_key(KEK_SIZE)
        write_atomically(keys_dir / name, secret.hex().encode() + b"\n", exclusive=True)
        return {"kind": "file", "file": name}, _KeyEncryptionKey(secret)
    if not passphrase:
        raise KeyringError("an empty passphrase protects nothing")
    salt = random_key(16)
    descriptor = {"kind": "passphrase", "kdf": "scrypt", "salt": salt.hex(), **_SCRYPT_COST}
    return descriptor, _KeyEncryptionKey(_scrypt(passphrase, salt, **_SCRYPT_COST))


def _load_kek(
    keys_dir: Path, descriptor: Mapping[str, Any], passphrase: str | None
) -> _KeyEncryptionKey:
    """The KEK that ``descriptor`` (from datakeys.json) says how to obtain."""
    keys_file = keys_dir / KEYS_FILE
    if descriptor.get("kind") == "file":
        if passphrase is not None:
            raise KeyringError(f"{keys_file}: this keyring uses a key file, not a passphrase")
        name = descriptor.get("file")
        if not isinstance(name, str) or not _KEY_FILE_NAME.match(name):
            raise KeyringError(f"{keys_file}: names no valid key file")
        path = keys_dir / name
        text = read_private_file(path).strip()
        if not re.fullmatch(rb"[0-9a-f]{%d}" % (2 * KEK_SIZE), text):
            raise KeyringError(f"{path}: not a key file ({2 * KEK_SIZE} hex digits expected)")
        return _KeyEncryptionKey(bytes.fromhex(text.decode()))
    if descriptor.get("kind") == "passphrase" and descriptor.get("kdf") == "scrypt":
        if passphrase is None:
            raise KeyringError(f"{keys_file}: this keyring needs its passphrase")
        cost = {name: descriptor.get(name) for name in _SCRYPT_LIMITS}
        for name, (low, high) in _SCRYPT_LIMITS.items():
            if not isinstance(cost[name], int) or not low <= cost[name] <= high:
                raise KeyringError(f"{keys_file}: scrypt parameter {name} out of range")
        try:
            salt = bytes.fromhex(descriptor["salt"])
        except (KeyError, TypeError, ValueError):
            raise KeyringError(f"{keys_file}: scrypt salt missing or malformed") from None
        return _KeyEncryptionKey(_scrypt(passphrase, salt, **cost))
    raise KeyringError(f"{keys_file}: unknown kind of key-encryption key")


# --- files ----------------------------------------------------------------------------


def read_private_file(path: Path) -> bytes:
    """A key file's bytes, refusing one that group or others may read or write."""
    try:
        mode = path.stat().st_mode
        if stat.S_IMODE(mode) & 0o077:
            raise KeyringError(
                f"{path}: mode {stat.S_IMODE(mode):04o} lets group or others at it; "
                "run chmod 600 on it"
            )
        return path.read_bytes()
    except FileNotFoundError:
        raise KeyringError(f"{path}: missing") from None
    except OSError as error:
        raise KeyringError(f"{path}: cannot be read ({error.strerror})") from None


def write_atomically(path: Path, data: bytes, *, exclusive: bool = False) -> None:
    """Write a 0600 file so that readers see the old or the new content, never a mix.

    Temporary file in the same directory, fsync, then rename (or, with ``exclusive``, a
    hard link that fails if ``path`` exists, so two processes creating a keyring at once
    cannot overwrite each other), then fsync the directory so the rename is durable.
    """
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "wb") as handle:  # mkstemp creates it with mode 0600
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if exclusive:
            os.link(temporary, path)
        else:
            os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


# --- ciphertext header ----------------------------------------------------------------


def _header(key_id: str) -> bytes:
    encoded = key_id.encode("ascii")
    return bytes([_CIPHERTEXT_VERSION, len(encoded)]) + encoded


def _split_ciphertext(blob: bytes) -> tuple[bytes, str]:
    """(header, key id) of a data-key ciphertext; DecryptionError when there is none."""
    if len(blob) < 2 or blob[0] != _CIPHERTEXT_VERSION or len(blob) < 2 + blob[1]:
        raise DecryptionError("not a keyring ciphertext")
    header = blob[: 2 + blob[1]]
    try:
        return header, header[2:].decode("ascii")
    except UnicodeDecodeError:
        raise DecryptionError("not a keyring ciphertext") from None


def _purpose_of(key_id: str) -> str:
    purpose, _, number = key_id.rpartition("-")
    if not (_PURPOSE.match(purpose) and number.isdigit() and number.isascii()):
        raise ValueError(f"malformed key id {key_id!r}")
    return purpose


def _next_key_id(purpose: str, existing: Iterable[str]) -> str:
    numbers = [int(k.rpartition("-")[2]) for k in existing if _purpose_of(k) == purpose]
    return f"{purpose}-{max(numbers, default=0) + 1}"


# --- datakeys.json ---------------------------------------------------------------------


def _write_keyring(
    keys_dir: Path,
    descriptor: Mapping[str, Any],
    kek: _KeyEncryptionKey,
    keys: Mapping[str, bytes],
    current: Mapping[str, str],
    *,
    exclusive: bool = False,
) -> None:
    document: dict[str, Any] = {
        "format": FORMAT,
        "kek": dict(descriptor),
        "kek_check": kek.check_value,
        "keys": {key_id: kek.wrap(key_id, key) for key_id, key in keys.items()},
        "current": dict(current),
    }
    document["mac"] = kek.mac(document)
    text = json.dumps(document, indent=2, sort_keys=True) + "\n"
    write_atomically(keys_dir / KEYS_FILE, text.encode(), exclusive=exclusive)


def _read_document(keys_file: Path) -> dict[str, Any]:
    """datakeys.json, its shape checked; nothing in it is trusted before the MAC is."""
    try:
        document = json.loads(read_private_file(keys_file))
        shape_ok = (
            isinstance(document, dict)
            and document.get("format") == FORMAT
            and isinstance(document.get("kek"), dict)
            and isinstance(document.get("kek_check"), str)
            and isinstance(document.get("mac"), str)
            and all(
                isinstance(document.get(name), dict)
                and all(isinstance(v, str) for v in document[name].values())
                for name in ("keys", "current")
            )
        )
    except ValueError:
        shape_ok = False
    if not shape_ok:
        raise KeyringError(f"{keys_file}: not a keyring file, or corrupt")
    return document


def _remove_key_file(keys_dir: Path, descriptor: Mapping[str, Any]) -> None:
    if descriptor.get("kind") == "file":
        (keys_dir / descriptor["file"]).unlink(missing_ok=True)


def _unlock(
    keys_file: Path, document: Mapping[str, Any], kek: _KeyEncryptionKey
) -> tuple[dict[str, bytes], dict[str, str]]:
    """Check ``document`` against ``kek`` and unwrap its data keys."""
    if not hmac.compare_digest(document["kek_check"].encode(), kek.check_value.encode()):
        raise KeyringError(
            f"{keys_file}: the key-encryption key does not match (wrong key file or passphrase)"
        )
    if not hmac.compare_digest(document["mac"].encode(), kek.mac(document).encode()):
        raise KeyringError(f"{keys_file}: altered or corrupt (authentication failed)")
    try:
        keys = {key_id: kek.unwrap(key_id, wrapped) for key_id, wrapped in document["keys"].items()}
        current = dict(document["current"])
        if any(_purpose_of(k) != purpose or k not in keys for purpose, k in current.items()):
            raise ValueError("a current key is missing or of another purpose")
    except (DecryptionError, ValueError):
        raise KeyringError(f"{keys_file}: a data key does not unwrap or does not fit") from None
    return keys, current


# --- the keyring ----------------------------------------------------------------------


class Keyring:
    """The data keys of one registry, unwrapped in memory, and the operations on them."""

    def __init__(
        self,
        keys_dir: Path,
        kek_descriptor: dict[str, Any],
        kek: _KeyEncryptionKey,
        keys: dict[str, bytes],
        current: dict[str, str],
    ) -> None:
        """Internal: use :meth:`create`, :meth:`open` or :meth:`open_or_create`."""
        self.keys_dir = keys_dir
        self._kek_descriptor = kek_descriptor
        self._kek = kek
        self._keys = keys
        self._current = current

    def __repr__(self) -> str:
        return f"Keyring({str(self.keys_dir)!r}, current={sorted(self._current.values())})"

    # creating and opening

    @classmethod
    def create(cls, keys_dir: Path, passphrase: str | None = None) -> Keyring:
        """A new keyring with one key per default purpose; refuses if one exists already.

        Without a passphrase the KEK is a new key file in ``keys_dir``. ``datakeys.json``
        appears last and only if no other process created one meanwhile; a loser removes
        its own key file again.
        """
        keys_dir = Path(keys_dir)
        keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        keys_dir.chmod(0o700)  # mkdir's mode is filtered by the umask, or the folder existed
        if (keys_dir / KEYS_FILE).exists():
            raise KeyringError(f"{keys_dir / KEYS_FILE}: a keyring exists already")
        descriptor, kek = _new_kek(keys_dir, passphrase)
        keys = {f"{purpose}-1": random_key() for purpose in DEFAULT_PURPOSES}
        current = {_purpose_of(key_id): key_id for key_id in keys}
        try:
            _write_keyring(keys_dir, descriptor, kek, keys, current, exclusive=True)
        except BaseException as error:
            _remove_key_file(keys_dir, descriptor)
            if isinstance(error, FileExistsError):
                raise KeyringError(f"{keys_dir / KEYS_FILE}: created meanwhile elsewhere") from None
            raise
        return cls(keys_dir, descriptor, kek, keys, current)

    @classmethod
    def open(cls, keys_dir: Path, passphrase: str | None = None) -> Keyring:
        """The keyring in ``keys_dir``; KeyringError naming the file when anything is wrong.

        Opening only reads: whatever fails, no file is written.
        """
        keys_dir = Path(keys_dir)
        document = _read_document(keys_dir / KEYS_FILE)
        kek = _load_kek(keys_dir, document["kek"], passphrase)
        keys, current = _unlock(keys_dir / KEYS_FILE, document, kek)
        return cls(keys_dir, document["kek"], kek, keys, current)

    @classmethod
    def open_or_create(cls, keys_dir: Path, passphrase: str | None = None) -> Keyring:
        """Open the keyring, creating it first if ``keys_dir`` holds none."""
        keys_file = Path(keys_dir) / KEYS_FILE
        if not keys_file.exists():
            try:
                return cls.create(keys_dir, passphrase)
            except KeyringError:
                if not keys_file.exists():
                    raise  # a real fault, not another process creating it at the same time
        return cls.open(keys_dir, passphrase)

    # using keys

    def current_key_id(self, purpose: str) -> str:
        """The id of the key that new ciphertexts of ``purpose`` are made with."""
        try:
            return self._current[purpose]
        except KeyError:
            raise KeyringError(
                f"{self.keys_dir / KEYS_FILE}: no data key for {purpose!r}"
            ) from None

    def encrypt(self, purpose: str, plaintext: bytes, aad: bytes) -> bytes:
        """``header(key id) || SM4-GCM blob`` under the purpose's current key.

        The GCM AAD is the header followed by ``aad``: the key id cannot be swapped, and
        the ciphertext cannot be moved to a place with another ``aad``. The header is
        length-prefixed, so the concatenation is unambiguous.
        """
        key_id = self.current_key_id(purpose)
        header = _header(key_id)
        return header + sm4_gcm_encrypt(self._keys[key_id], plaintext, header + aad)

    def decrypt(self, purpose: str, blob: bytes, aad: bytes) -> bytes:
        """Reverse :meth:`encrypt` with whichever key the header names.

        Raises :class:`DecryptionError` when the header names a key of another purpose or
        one this keyring does not hold, or when authentication fails.
        """
        header, key_id = _split_ciphertext(blob)
        if key_id not in self._keys:
            self._refresh()  # another process may have rotated since this one opened
        key = self._keys.get(key_id)
        if key is None or key_id.rpartition("-")[0] != purpose:
            raise DecryptionError(f"ciphertext names key {key_id!r}, not a {purpose} key held here")
        return sm4_gcm_decrypt(key, blob[len(header) :], header + aad)

    def _refresh(self) -> None:
        """Take up keys another process added (``keys rotate`` while serving); keep what
        this process holds if the file cannot be read with the KEK it has."""
        keys_file = self.keys_dir / KEYS_FILE
        try:
            document = _read_document(keys_file)
            if document["kek"] != self._kek_descriptor:
                return  # re-wrapped meanwhile: this process keeps its keys until restarted
            keys, current = _unlock(keys_file, document, self._kek)
        except KeyringError:
            return
        self._keys, self._current = keys, current

    def blind_index(self, value: str) -> str:
        """HMAC-SM3 of ``value`` under the blind-index key, hex: find records by an ID number
        without storing the number in clear.

        The caller normalises ``value`` (e.g. upper-case the X of an ID number) first.
        :meth:`rotate` leaves the blind-index key alone by default because every stored
        index value depends on it; rotating it means recomputing the whole holder index
        from the decrypted records right after.
        """
        return hmac_sm3(self._keys[self.current_key_id(BLIND_INDEX)], value.encode()).hex()

    # administration

    def rotate(self, purposes: list[str] | None = None) -> list[str]:
        """Add a new current key per purpose (all but the blind index by default).

        Old keys stay for decryption. A purpose the keyring does not know yet gets its
        first key. Returns the new key ids.
        """
        if purposes is None:
            purposes = [p for p in sorted(self._current) if p != BLIND_INDEX]
        purposes = list(dict.fromkeys(purposes))
        for purpose in purposes:
            if not _PURPOSE.match(purpose):
                raise KeyringError(f"invalid purpose name {purpose!r}")
        keys, current = dict(self._keys), dict(self._current)
        for purpose in purposes:
            current[purpose] = key_id = _next_key_id(purpose, keys)
            keys[key_id] = random_key()
        _write_keyring(self.keys_dir, self._kek_descriptor, self._kek, keys, current)
        self._keys, self._current = keys, current
        return [current[purpose] for purpose in purposes]

    def rewrap(self, passphrase: str | None = None) -> None:
        """Wrap every data key under a new KEK: a new key file, or a new passphrase.

        Ciphertexts are untouched. The new key file is written before ``datakeys.json``
        switches to it and the old one is deleted only afterwards, so a crash at any
        point leaves a keyring that opens (at worst beside an unused key file).
        """
        descriptor, kek = _new_kek(self.keys_dir, passphrase)
        try:
            _write_keyring(self.keys_dir, descriptor, kek, self._keys, self._current)
        except BaseException:
            _remove_key_file(self.keys_dir, descriptor)
            raise
        _remove_key_file(self.keys_dir, self._kek_descriptor)
        self._kek_descriptor, self._kek = descriptor, kek
