"""SM2, SM3 and SM4: the one module through which every national-algorithm call goes.

SM3 and SM4 come from OpenSSL (``hashlib``'s ``sm3``; the cryptography package's SM4 in
GCM mode), so they run at C speed and are the same code the ``openssl`` command line
uses. SM2 signatures use gmssl's point arithmetic only. Everything around it that gmssl
gets wrong or leaves to chance is done here:

- the nonce k comes from :mod:`secrets` (gmssl's ``func.random_hex`` uses :mod:`random`);
- Z_A is computed here, over the OpenSSL SM3, for any signer ID (gmssl hard-codes one);
- public keys reach gmssl as bare ``x || y`` hex (its ``lstrip("04")`` also eats leading
  ``0``/``4`` digits of x, silently producing a different key);
- signatures are DER that this module encodes and strictly decodes;
- gmssl's verify forgets to convert to affine coordinates when both halves of the sum
  are equal, and crashes on the point at infinity; this module adds points itself.

Scalar multiplication by a fixed point uses a precomputed table (see
:class:`_FixedBaseTable`), which makes signing and verifying several times faster than
gmssl's double-and-add. Python integers are not constant-time, so none of this resists
timing side channels; the signing key lives on the registry's own server.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from gmssl.sm2 import CryptSM2

DEFAULT_SIGNER_ID: bytes = b"1234567812345678"

SM4_KEY_SIZE = 16
SM4_BLOCK_SIZE = 16
GCM_NONCE_SIZE = 12
GCM_TAG_SIZE = 16


class DecryptionError(Exception):
    """A ciphertext could not be decrypted and authenticated; the message never holds keys."""


class UnusableNonceError(ValueError):
    """GB/T 32918.2 §6.1 rejects this nonce for this digest (r = 0, r + k = n or s = 0)."""


# --- SM3 ---------------------------------------------------------------------------


def sm3(data: bytes) -> bytes:
    """The SM3 digest of ``data`` (32 bytes)."""
    return hashlib.new("sm3", data).digest()


def sm3_hex(data: bytes) -> str:
    """The SM3 digest of ``data`` as lower-case hex, the form stored in records."""
    return hashlib.new("sm3", data).hexdigest()


def new_sm3() -> hashlib._Hash:
    """An incremental SM3 hasher, so large files can be hashed without reading them whole."""
    return hashlib.new("sm3")


def hmac_sm3(key: bytes, data: bytes) -> bytes:
    """HMAC-SM3 (RFC 2104 over SM3)."""
    return hmac.new(key, data, "sm3").digest()


# --- SM4 ---------------------------------------------------------------------------


def random_key(size: int = SM4_KEY_SIZE) -> bytes:
    """A fresh random key from :mod:`secrets`."""
    return secrets.token_bytes(size)


def _check_sm4_key(key: bytes) -> None:
    if len(key) != SM4_KEY_SIZE:
        raise ValueError(f"an SM4 key is {SM4_KEY_SIZE} bytes, got {len(key)}")


def sm4_encrypt_block(key: bytes, block: bytes) -> bytes:
    """Encrypt one 16-byte block with bare SM4 (ECB on a single block).

    Only the official known-answer tests need this: it pins the block cipher itself.
    Never use it to encrypt data; use :func:`sm4_gcm_encrypt`.
    """
    _check_sm4_key(key)
    if len(block) != SM4_BLOCK_SIZE:
        raise ValueError(f"an SM4 block is {SM4_BLOCK_SIZE} bytes, got {len(block)}")
    encryptor = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()  # noqa: S305 (one block)
    return encryptor.update(block) + encryptor.finalize()


def sm4_gcm_encrypt(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """Encrypt and authenticate: ``nonce(12) || ciphertext || tag(16)``.

    The nonce is random (96 bits from :mod:`secrets`); ``aad`` is authenticated but not
    stored, so the caller must present the same value to decrypt. Binding the ciphertext
    to where it lives (record id, field name) stops it from being moved elsewhere.
    """
    _check_sm4_key(key)
    nonce = secrets.token_bytes(GCM_NONCE_SIZE)
    encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(aad)
    ciphertext = encryptor.update(plaintext) + encryptor.finalize()
    return nonce + ciphertext + encryptor.tag


def sm4_gcm_decrypt(key: bytes, blob: bytes, aad: bytes) -> bytes:
    """Reverse :func:`sm4_gcm_encrypt`; raises :class:`DecryptionError` on any fault.

    A short blob, a wrong key, a wrong ``aad`` and a changed byte all look the same to
    the caller on purpose: telling them apart would help nobody but an attacker.
    """
    _check_sm4_key(key)
    if len(blob) < GCM_NONCE_SIZE + GCM_TAG_SIZE:
        raise DecryptionError("ciphertext is too short to be SM4-GCM")
    nonce, ciphertext, tag = (
        blob[:GCM_NONCE_SIZE],
        blob[GCM_NONCE_SIZE:-GCM_TAG_SIZE],
        blob[-GCM_TAG_SIZE:],
    )
    decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
    decryptor.authenticate_additional_data(aad)
    try:
        return decryptor.update(ciphertext) + decryptor.finalize()
    except InvalidTag:
        raise DecryptionError("ciphertext failed authentication (wrong key, aad or data)") from None


# --- SM2 curves and gmssl's point arithmetic ------------------------------------------


@dataclass(frozen=True)
class SM2Curve:
    """Short Weierstrass curve parameters y² = x³ + ax + b over GF(p), base point G of order n.

    Only curves with cofactor 1 are supported: then every point on the curve other than
    infinity has order n, which the public-key checks and the table method rely on.
    """

    name: str
    p: int
    a: int
    b: int
    n: int
    gx: int
    gy: int

    @property
    def byte_length(self) -> int:
        """Length of one coordinate or scalar in bytes (32 for the 256-bit curves)."""
        return (self.p.bit_length() + 7) // 8

    def contains(self, x: int, y: int) -> bool:
        """Whether (x, y) is an affine point of this curve."""
        return (
            0 <= x < self.p
            and 0 <= y < self.p
            and ((y * y - x * x * x - self.a * x - self.b) % self.p == 0)
        )

    def point_hex(self, x: int, y: int) -> str:
        """An affine point in gmssl's notation: ``x || y`` as fixed-width hex, no prefix."""
        width = 2 * self.byte_length
        return f"{x:0{width}x}{y:0{width}x}"


SM2P256V1 = SM2Curve(
    name="sm2p256v1",
    p=0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF,
    a=0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC,
    b=0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93,
    n=0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123,
    gx=0x32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7,
    gy=0xBC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0,
)
"""The curve of GB/T 32918.5 (OID 1.2.156.10197.1.301), the only one used in production."""


class _PointArithmetic:
    """gmssl's point functions for one curve, on gmssl's hex notation for points.

    Affine points are ``x || y`` hex, Jacobian ones ``X || Y || Z`` (x = X/Z², y = Y/Z³).
    The conversion to affine is done here: gmssl's inverts Z by Fermat (an exponentiation
    by p - 2, about six times slower than Python's ``pow(z, -1, p)``), which dominated the
    cost of building a table.
    """

    def __init__(self, curve: SM2Curve) -> None:
        self.curve = curve
        self._width = 2 * curve.byte_length
        self._gmssl = CryptSM2(
            private_key="",
            public_key="",  # points are passed per call, never through gmssl's lstrip
            ecc_table={
                "n": f"{curve.n:0{self._width}x}",
                "p": f"{curve.p:0{self._width}x}",
                "g": curve.point_hex(curve.gx, curve.gy),
                "a": f"{curve.a:0{self._width}x}",
                "b": f"{curve.b:0{self._width}x}",
            },
        )

    def coordinates(self, affine: str) -> tuple[int, int]:
        return int(affine[: self._width], 16), int(affine[self._width :], 16)

    def to_affine(self, point: str) -> str | None:
        """The affine form of an affine or Jacobian point; None for the point at infinity."""
        if len(point) == 2 * self._width:
            return point
        w, p = self._width, self.curve.p
        x, y, z = int(point[:w], 16), int(point[w : 2 * w], 16), int(point[2 * w :], 16)
        if z % p == 0:
            return None
        z_inverse = pow(z, -1, p)
        z_inverse_squared = z_inverse * z_inverse % p
        return self.curve.point_hex(
            x * z_inverse_squared % p, y * z_inverse_squared * z_inverse % p
        )

    def add(self, point: str, affine: str) -> str:
        """point + affine (Jacobian result); the two must be neither equal nor opposite."""
        return self._gmssl._add_point(point, affine)

    def double(self, point: str) -> str:
        """2·point (Jacobian result)."""
        return self._gmssl._double_point(point)

    def multiply(self, k: int, affine: str) -> str | None:
        """k·point by gmssl's double-and-add, for 1 ≤ k < n; None for infinity."""
        return self.to_affine(self._gmssl._kg(k, affine))

    def sum(self, first: str, second: str) -> str | None:
        """first + second for any two affine points; None for the point at infinity.

        gmssl's addition formula divides by x2 - x1: for opposite points (same x, other
        y) that yields Z = 0, infinity, as it should, but equal points need doubling.
        """
        if first == second:
            return self.to_affine(self.double(first))
        return self.to_affine(self.add(first, second))


@cache
def _arithmetic(curve: SM2Curve) -> _PointArithmetic:
    return _PointArithmetic(curve)


class _FixedBaseTable:
    """The multiples j·16^i·P (1 ≤ j ≤ 15, one row per hex digit i of a scalar) of one point.

    k·P is then the sum of one table entry per non-zero hex digit of k: at most 64 mixed
    additions instead of gmssl's 256 doublings and about 128 additions. Building a table
    costs about six plain multiplications, so it pays for G at once and for a public key
    that verifies again and again.

    gmssl's addition formula fails when both points are equal or opposite. It cannot
    happen here for 1 ≤ k < n: before row i is added the running sum is a·P with
    a = k mod 16^i < 16^i ≤ j·16^i, so the two multiples differ, and a + j·16^i ≤ k < n,
    so they are not opposite either (P has prime order n). The same argument covers the
    table's own construction, (j-1)·16^i·P + 16^i·P with j ≥ 3.
    """

    def __init__(self, curve: SM2Curve, point: str) -> None:
        self._n = curve.n
        self._arithmetic = arithmetic = _arithmetic(curve)
        rows: list[list[str]] = []
        base = point
        for _ in range((curve.n.bit_length() + 3) // 4):
            row = [base, self._affine(arithmetic.double(base))]
            while len(row) < 15:
                row.append(self._affine(arithmetic.add(row[-1], base)))
            rows.append(row)
            base = self._affine(arithmetic.double(row[7]))  # 2·(8·16^i·P) = 16^(i+1)·P
        self._rows = rows

    def _affine(self, point: str) -> str:
        affine = self._arithmetic.to_affine(point)
        if affine is None:  # impossible for a point of prime order n, see the class docs
            raise ArithmeticError("fixed-base table reached the point at infinity")
        return affine

    def multiply(self, k: int) -> str:
        """k·P as affine hex, for 1 ≤ k < n."""
        if not 1 <= k < self._n:
            raise ValueError("scalar out of range [1, n-1]")
        total: str | None = None
        for row in self._rows:
            digit = k & 0xF
            k >>= 4
            if digit:
                entry = row[digit - 1]
                total = entry if total is None else self._arithmetic.add(total, entry)
        assert total is not None  # k ≥ 1 has a non-zero digit
        return self._affine(total)


@cache
def _base_point_table(curve: SM2Curve) -> _FixedBaseTable:
    return _FixedBaseTable(curve, curve.point_hex(curve.gx, curve.gy))


class _PublicKeyTables:
    """Fixed-base tables for the public keys that verify again and again (the seal keys).

    A key gets a table on its second verification, so a one-off key (an uploaded file
    signed by someone else) costs one plain gmssl multiplication and no table. At most
    ``capacity`` keys are remembered, least recently used out first, so uploads cannot
    fill memory.
    """

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._seen: OrderedDict[SM2PublicKey, _FixedBaseTable | None] = OrderedDict()
        self._lock = threading.Lock()

    def _table(self, key: SM2PublicKey) -> _FixedBaseTable | None:
        with self._lock:
            if key not in self._seen:
                self._seen[key] = None
                if len(self._seen) > self._capacity:
                    self._seen.popitem(last=False)
                return None
            self._seen.move_to_end(key)
            table = self._seen[key]
        if table is None:
            table = _FixedBaseTable(key.curve, key.point_hex())
            with self._lock:
                self._seen[key] = table
        return table

    def multiply(self, key: SM2PublicKey, k: int) -> str | None:
        """k·Q for the key's point Q and 1 ≤ k < n."""
        table = self._table(key)
        if table is None:
            return _arithmetic(key.curve).multiply(k, key.point_hex())
        return table.multiply(k)


_public_key_tables = _PublicKeyTables(capacity=32)


# --- DER and PEM -------------------------------------------------------------------

_INTEGER, _BIT_STRING, _OCTET_STRING, _SEQUENCE = 0x02, 0x03, 0x04, 0x30
_EXPLICIT_0, _EXPLICIT_1 = 0xA0, 0xA1
_OID_EC_PUBLIC_KEY = bytes.fromhex("06072a8648ce3d0201")  # 1.2.840.10045.2.1
_OID_SM2 = bytes.fromhex("06082a811ccf5501822d")  # 1.2.156.10197.1.301


def _der(tag: int, content: bytes) -> bytes:
    """One DER element (definite, minimal length)."""
    size = len(content)
    if size < 0x80:
        return bytes([tag, size]) + content
    size_bytes = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size_bytes)]) + size_bytes + content


def _der_uint(value: int) -> bytes:
    """A non-negative INTEGER, with the leading zero byte DER needs when the top bit is set."""
    return _der(_INTEGER, value.to_bytes(value.bit_length() // 8 + 1, "big"))


def _der_elements(data: bytes) -> list[tuple[int, bytes]]:
    """Split a run of DER elements into (tag, content); ValueError for anything not DER.

    Strict on purpose: a signature must have exactly one encoding, or it becomes
    malleable (the same signature in several byte forms).
    """
    elements = []
    position = 0
    while position < len(data):
        if len(data) - position < 2:
            raise ValueError("truncated DER element")
        tag, first_length_byte = data[position], data[position + 1]
        position += 2
        if tag & 0x1F == 0x1F:
            raise ValueError("multi-byte DER tags are not used here")
        if first_length_byte < 0x80:
            length = first_length_byte
        else:
            count = first_length_byte & 0x7F
            length_bytes = data[position : position + count]
            if count == 0 or count > 4 or len(length_bytes) < count or length_bytes[0] == 0:
                raise ValueError("indefinite or non-minimal DER length")
            length = int.from_bytes(length_bytes, "big")
            if length < 0x80:
                raise ValueError("non-minimal DER length")
            position += count
        if position + length > len(data):
            raise ValueError("DER element runs past the end")
        elements.append((tag, data[position : position + length]))
        position += length
    return elements


def _der_fields(data: bytes, *tags: int) -> list[bytes]:
    """The contents of exactly the elements ``tags``, in order, and nothing else."""
    elements = _der_elements(data)
    if [tag for tag, _ in elements] != list(tags):
        raise ValueError("unexpected DER structure")
    return [content for _, content in elements]


def _der_read_uint(content: bytes) -> int:
    """A non-negative INTEGER's value, refusing negative and non-minimal encodings."""
    if (
        not content
        or content[0] & 0x80
        or (len(content) > 1 and content[0] == 0 and content[1] < 0x80)
    ):
        raise ValueError("not a minimal non-negative DER INTEGER")
    return int.from_bytes(content, "big")


def _pem_encode(der: bytes, label: str) -> bytes:
    text = base64.b64encode(der).decode("ascii")
    lines = [text[i : i + 64] for i in range(0, len(text), 64)]
    return "\n".join([f"-----BEGIN {label}-----", *lines, f"-----END {label}-----", ""]).encode()


def _pem_decode(pem: bytes, label: str) -> bytes:
    match = re.search(
        rb"-----BEGIN " + label.encode() + rb"-----(.*?)-----END " + label.encode() + rb"-----",
        pem,
        re.DOTALL,
    )
    if match is None:
        raise ValueError(f"no {label} PEM block")
    try:
        return base64.b64decode(b"".join(match.group(1).split()), validate=True)
    except ValueError:
        raise ValueError(f"{label} PEM block is not valid base64") from None


_SM2_ALGORITHM = _der(_SEQUENCE, _OID_EC_PUBLIC_KEY + _OID_SM2)


# --- SM2 keys and signatures --------------------------------------------------------


def _random_scalar(upper: int) -> int:
    """Uniform in [1, upper] from :mod:`secrets`."""
    return secrets.randbelow(upper) + 1


@dataclass(frozen=True)
class SM2PublicKey:
    """An SM2 public key: a point of ``curve`` other than infinity, checked on creation."""

    x: int
    y: int
    curve: SM2Curve = SM2P256V1

    def __post_init__(self) -> None:
        if not self.curve.contains(self.x, self.y):
            raise ValueError("point is not on the curve")

    @classmethod
    def from_bytes(cls, raw: bytes, curve: SM2Curve = SM2P256V1) -> SM2PublicKey:
        """From the uncompressed form ``04 || x || y``."""
        size = curve.byte_length
        if len(raw) != 1 + 2 * size or raw[0] != 0x04:
            raise ValueError(f"an uncompressed public key is 04 || x || y, {1 + 2 * size} bytes")
        return cls(
            int.from_bytes(raw[1 : 1 + size], "big"), int.from_bytes(raw[1 + size :], "big"), curve
        )

    def to_bytes(self) -> bytes:
        """The uncompressed form ``04 || x || y``."""
        size = self.curve.byte_length
        return b"\x04" + self.x.to_bytes(size, "big") + self.y.to_bytes(size, "big")

    def point_hex(self) -> str:
        """The point as gmssl takes it: ``x || y`` hex, never with the 04 prefix."""
        return self.curve.point_hex(self.x, self.y)

    @classmethod
    def from_pem(cls, pem: bytes) -> SM2PublicKey:
        """From a SubjectPublicKeyInfo ``PUBLIC KEY`` PEM, as ``openssl pkey -pubout`` writes."""
        (info,) = _der_fields(_pem_decode(pem, "PUBLIC KEY"), _SEQUENCE)
        algorithm, bit_string = _der_fields(info, _SEQUENCE, _BIT_STRING)
        if _der(_SEQUENCE, algorithm) != _SM2_ALGORITHM:
            raise ValueError("not an SM2 (sm2p256v1) public key")
        if not bit_string or bit_string[0] != 0:
            raise ValueError("public key BIT STRING has unused bits")
        return cls.from_bytes(bit_string[1:])

    def to_pem(self) -> bytes:
        """SubjectPublicKeyInfo PEM (id-ecPublicKey, curve sm2p256v1) that ``openssl`` reads."""
        if self.curve != SM2P256V1:
            raise ValueError("only sm2p256v1 keys have a PEM form")
        spki = _der(_SEQUENCE, _SM2_ALGORITHM + _der(_BIT_STRING, b"\x00" + self.to_bytes()))
        return _pem_encode(spki, "PUBLIC KEY")

    def fingerprint(self) -> str:
        """SM3 hex of the uncompressed point: a short name for the key in records and logs."""
        return sm3_hex(self.to_bytes())

    def verify(
        self, message: bytes, signature: bytes, signer_id: bytes = DEFAULT_SIGNER_ID
    ) -> bool:
        """Whether ``signature`` (DER) is this key's SM2 signature of ``message``.

        Returns False, never raises, for anything that is not a valid signature.
        """
        try:
            r_content, s_content = _der_fields(
                _der_fields(signature, _SEQUENCE)[0], _INTEGER, _INTEGER
            )
            r, s = _der_read_uint(r_content), _der_read_uint(s_content)
        except (TypeError, ValueError):
            return False
        n = self.curve.n
        if not (1 <= r < n and 1 <= s < n):
            return False
        t = (r + s) % n
        if t == 0:
            return False
        e = int.from_bytes(_message_digest(self, message, signer_id), "big")
        key_part = _public_key_tables.multiply(self, t)
        if key_part is None:
            return False
        arithmetic = _arithmetic(self.curve)
        point = arithmetic.sum(_base_point_table(self.curve).multiply(s), key_part)
        return point is not None and (e + arithmetic.coordinates(point)[0]) % n == r


class SM2PrivateKey:
    """An SM2 private key d with 1 ≤ d ≤ n - 2 (so that 1 + d is invertible mod n).

    Its repr names the public key only; the scalar never appears in text.
    """

    __slots__ = ("_d", "_inverse_of_d_plus_1", "public_key")

    def __init__(self, d: int, curve: SM2Curve = SM2P256V1) -> None:
        if not 1 <= d <= curve.n - 2:
            raise ValueError("private key scalar out of range [1, n-2]")
        self._d = d
        self._inverse_of_d_plus_1 = pow(d + 1, -1, curve.n)
        x, y = _arithmetic(curve).coordinates(_base_point_table(curve).multiply(d))
        self.public_key = SM2PublicKey(x, y, curve)

    def __repr__(self) -> str:
        return f"SM2PrivateKey(public key {self.public_key.fingerprint()[:16]}…)"

    @property
    def curve(self) -> SM2Curve:
        return self.public_key.curve

    @classmethod
    def generate(cls, curve: SM2Curve = SM2P256V1) -> SM2PrivateKey:
        """A new key, d uniform in [1, n-2] from :mod:`secrets`."""
        return cls(_random_scalar(curve.n - 2), curve)

    @classmethod
    def from_bytes(cls, raw: bytes, curve: SM2Curve = SM2P256V1) -> SM2PrivateKey:
        """From the 32-byte big-endian scalar."""
        if len(raw) != curve.byte_length:
            raise ValueError(f"a private key is {curve.byte_length} bytes")
        return cls(int.from_bytes(raw, "big"), curve)

    def to_bytes(self) -> bytes:
        """The 32-byte big-endian scalar: secret, only ever to be stored encrypted."""
        return self._d.to_bytes(self.curve.byte_length, "big")

    @classmethod
    def from_pem(cls, pem: bytes) -> SM2PrivateKey:
        """From an unencrypted PKCS#8 ``PRIVATE KEY`` PEM, as ``openssl genpkey`` writes for SM2.

        The optional curve parameters and public key inside the SEC 1 structure are
        checked against the scalar when present.
        """
        (info,) = _der_fields(_pem_decode(pem, "PRIVATE KEY"), _SEQUENCE)
        version, algorithm, wrapped = _der_fields(info, _INTEGER, _SEQUENCE, _OCTET_STRING)
        if _der_read_uint(version) != 0 or _der(_SEQUENCE, algorithm) != _SM2_ALGORITHM:
            raise ValueError("not a PKCS#8 SM2 (sm2p256v1) private key")
        (ec_key,) = _der_fields(wrapped, _SEQUENCE)
        elements = _der_elements(ec_key)
        if len(elements) < 2 or [tag for tag, _ in elements[:2]] != [_INTEGER, _OCTET_STRING]:
            raise ValueError("not an EC private key structure")
        if _der_read_uint(elements[0][1]) != 1:
            raise ValueError("unsupported EC private key version")
        key = cls.from_bytes(elements[1][1])
        optional = dict(elements[2:])
        if len(optional) != len(elements) - 2 or not set(optional) <= {_EXPLICIT_0, _EXPLICIT_1}:
            raise ValueError("unexpected fields in EC private key")
        if _EXPLICIT_0 in optional and optional[_EXPLICIT_0] != _OID_SM2:
            raise ValueError("EC private key names a curve other than sm2p256v1")
        if _EXPLICIT_1 in optional:
            (bit_string,) = _der_fields(optional[_EXPLICIT_1], _BIT_STRING)
            if bit_string != b"\x00" + key.public_key.to_bytes():
                raise ValueError("public key in the PEM does not belong to its private key")
        return key

    def to_pem(self) -> bytes:
        """Unencrypted PKCS#8 PEM, laid out as OpenSSL writes it (``openssl pkey`` reads it).

        Secret: write it only where the keyring protects it.
        """
        if self.curve != SM2P256V1:
            raise ValueError("only sm2p256v1 keys have a PEM form")
        ec_key = _der(
            _SEQUENCE,
            _der_uint(1)
            + _der(_OCTET_STRING, self.to_bytes())
            + _der(_EXPLICIT_1, _der(_BIT_STRING, b"\x00" + self.public_key.to_bytes())),
        )
        info = _der(_SEQUENCE, _der_uint(0) + _SM2_ALGORITHM + _der(_OCTET_STRING, ec_key))
        return _pem_encode(info, "PRIVATE KEY")

    def sign(self, message: bytes, signer_id: bytes = DEFAULT_SIGNER_ID) -> bytes:
        """The SM2 signature of ``message`` as DER ``SEQUENCE {r, s}``; e = SM3(Z_A || M)."""
        e = _message_digest(self.public_key, message, signer_id)
        while True:
            try:
                r, s = self.sign_digest(e, _random_scalar(self.curve.n - 1))
            except UnusableNonceError:
                continue  # GB/T 32918.2 §6.1 A3: draw another k
            return _der(_SEQUENCE, _der_uint(r) + _der_uint(s))

    def sign_digest(self, e: bytes, k: int) -> tuple[int, int]:
        """Signature (r, s) of the 32-byte digest e with the nonce k (GB/T 32918.2 §6.1).

        Low level: :meth:`sign` calls it with a fresh k from :mod:`secrets`; the known-answer
        tests call it with the standard's fixed k. Reusing a k for two digests reveals d.
        Raises :class:`UnusableNonceError` where the standard says to pick another k.
        """
        n = self.curve.n
        if len(e) != 32:
            raise ValueError("e is a 32-byte SM3 digest")
        if not 1 <= k < n:
            raise ValueError("nonce out of range [1, n-1]")
        x1, _ = _arithmetic(self.curve).coordinates(_base_point_table(self.curve).multiply(k))
        r = (int.from_bytes(e, "big") + x1) % n
        if r == 0 or r + k == n:
            raise UnusableNonceError("r = 0 or r + k = n")
        s = (self._inverse_of_d_plus_1 * (k - r * self._d)) % n
        if s == 0:
            raise UnusableNonceError("s = 0")
        return r, s


def compute_za(public_key: SM2PublicKey, signer_id: bytes = DEFAULT_SIGNER_ID) -> bytes:
    """Z_A = SM3(ENTL || ID || a || b || xG || yG || xA || yA) (GB/T 32918.2 §5.5).

    ENTL is the ID's length in bits as two bytes, so an ID may have at most 8191 bytes.
    """
    bits = len(signer_id) * 8
    if bits > 0xFFFF:
        raise ValueError("a signer ID has at most 8191 bytes")
    curve = public_key.curve
    size = curve.byte_length
    fields = (curve.a, curve.b, curve.gx, curve.gy, public_key.x, public_key.y)
    return sm3(
        bits.to_bytes(2, "big") + signer_id + b"".join(v.to_bytes(size, "big") for v in fields)
    )


def _message_digest(public_key: SM2PublicKey, message: bytes, signer_id: bytes) -> bytes:
    """e = SM3(Z_A || M), the value SM2 actually signs."""
    return sm3(compute_za(public_key, signer_id) + message)
