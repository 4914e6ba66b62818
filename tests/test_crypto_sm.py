"""certarchive.crypto.sm against the official vectors, gmssl's own code and the openssl CLI."""

import base64
import json
import subprocess
from functools import cache
from pathlib import Path

import pytest
from gmssl.sm2 import CryptSM2
from hypothesis import given, settings
from hypothesis import strategies as st

from certarchive.crypto import sm
from certarchive.crypto.sm import (
    SM2P256V1,
    DecryptionError,
    SM2Curve,
    SM2PrivateKey,
    SM2PublicKey,
    UnusableNonceError,
)

VECTORS = Path(__file__).parent / "vectors" / "sm.json"
N = SM2P256V1.n


@cache
def vectors() -> dict:
    """The shared vectors; a missing file fails every test that needs it, never skips."""
    return json.loads(VECTORS.read_text())


def h(text: str) -> bytes:
    return bytes.fromhex(text)


def der_signature(r: int, s: int) -> bytes:
    """DER SEQUENCE {r, s} built by hand, independently of the module's encoder."""

    def integer(value: int) -> bytes:
        body = value.to_bytes(value.bit_length() // 8 + 1, "big")
        return bytes([0x02, len(body)]) + body

    body = integer(r) + integer(s)
    return bytes([0x30, len(body)]) + body


def openssl(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["openssl", *args], input=stdin, capture_output=True, check=False)


def gmssl_point(k: int, curve: SM2Curve = SM2P256V1) -> tuple[int, int]:
    """k·G computed by gmssl's own double-and-add, the reference for the fixed-base table."""
    point = sm._arithmetic(curve)._gmssl._kg(k, curve.point_hex(curve.gx, curve.gy))
    return int(point[:64], 16), int(point[64:], 16)


VECTOR_KEY = SM2PrivateKey.from_bytes(
    h("3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8")
)
OTHER_KEY = SM2PrivateKey.generate()


# --- SM3 -----------------------------------------------------------------------------


def test_sm3_official_vectors():
    abc, abcd16 = vectors()["sm3"]
    assert sm.sm3_hex(abc["message_ascii"].encode()) == abc["digest"]
    repeat = abcd16["message_ascii_repeat"]
    assert sm.sm3(repeat["text"].encode() * repeat["times"]).hex() == abcd16["digest"]


@given(st.lists(st.binary(max_size=200), max_size=8))
def test_incremental_sm3_equals_one_shot(chunks):
    hasher = sm.new_sm3()
    for chunk in chunks:
        hasher.update(chunk)
    assert hasher.digest() == sm.sm3(b"".join(chunks))


def test_sm3_and_hmac_sm3_agree_with_openssl_cli(tmp_path):
    data = sm.random_key(1000)
    (tmp_path / "data").write_bytes(data)
    digest = openssl("dgst", "-sm3", "-r", str(tmp_path / "data"))
    assert digest.stdout.split()[0].decode() == sm.sm3_hex(data)
    key = sm.random_key(32)
    mac = openssl(
        "mac",
        "-digest",
        "SM3",
        "-macopt",
        f"hexkey:{key.hex()}",
        "-in",
        str(tmp_path / "data"),
        "HMAC",
    )
    assert mac.stdout.strip().decode().lower() == sm.hmac_sm3(key, data).hex()


# --- SM4 -----------------------------------------------------------------------------


def test_sm4_block_vector():
    case = vectors()["sm4"][0]
    assert sm.sm4_encrypt_block(h(case["key"]), h(case["plaintext"])).hex() == case["ciphertext"]


def test_sm4_block_vector_iterated_a_million_times():
    """GB/T 32907 Annex A.2; about 10 s, under the 20 s mark for `slow`."""
    case = vectors()["sm4"][1]
    key, block = h(case["key"]), h(case["plaintext"])
    for _ in range(case["encrypt_times"]):
        block = sm.sm4_encrypt_block(key, block)
    assert block.hex() == case["ciphertext"]


def test_sm4_block_refuses_wrong_sizes():
    with pytest.raises(ValueError):
        sm.sm4_encrypt_block(bytes(15), bytes(16))
    with pytest.raises(ValueError):
        sm.sm4_encrypt_block(bytes(16), bytes(17))


@given(st.binary(max_size=2000), st.binary(max_size=100))
def test_sm4_gcm_round_trip(plaintext, aad):
    key = sm.random_key()
    blob = sm.sm4_gcm_encrypt(key, plaintext, aad)
    assert len(blob) == len(plaintext) + sm.GCM_NONCE_SIZE + sm.GCM_TAG_SIZE
    assert sm.sm4_gcm_decrypt(key, blob, aad) == plaintext


def test_sm4_gcm_uses_a_fresh_nonce_each_time():
    key = sm.random_key()
    first, second = (sm.sm4_gcm_encrypt(key, b"same", b"aad") for _ in range(2))
    assert first[: sm.GCM_NONCE_SIZE] != second[: sm.GCM_NONCE_SIZE]
    assert first != second


def test_sm4_gcm_rejects_wrong_aad_wrong_key_and_short_blob():
    key = sm.random_key()
    blob = sm.sm4_gcm_encrypt(key, b"holder id 410526199001011234", b"record-1/holder")
    with pytest.raises(DecryptionError):
        sm.sm4_gcm_decrypt(key, blob, b"record-2/holder")
    other_key = sm.random_key()
    with pytest.raises(DecryptionError) as caught:
        sm.sm4_gcm_decrypt(other_key, blob, b"record-1/holder")
    assert key.hex() not in str(caught.value) and other_key.hex() not in str(caught.value)
    with pytest.raises(DecryptionError):
        sm.sm4_gcm_decrypt(key, blob[: sm.GCM_NONCE_SIZE + sm.GCM_TAG_SIZE - 1], b"record-1/holder")


def test_sm4_gcm_detects_every_flipped_bit():
    key = sm.random_key()
    blob = sm.sm4_gcm_encrypt(key, b"0123456789", b"aad")
    for index in range(len(blob)):
        for bit in (0x01, 0x80):
            tampered = bytearray(blob)
            tampered[index] ^= bit
            with pytest.raises(DecryptionError):
                sm.sm4_gcm_decrypt(key, bytes(tampered), b"aad")


def test_random_key_sizes_and_freshness():
    assert len(sm.random_key()) == 16
    assert len(sm.random_key(32)) == 32
    assert sm.random_key() != sm.random_key()


# --- SM2 on sm2p256v1: the official example --------------------------------------


def test_sm2_vector_public_key_za_e_r_s():
    case = vectors()["sm2_sign_sm2p256v1"]
    public = VECTOR_KEY.public_key
    assert (public.x, public.y) == (int(case["public_x"], 16), int(case["public_y"], 16))
    signer_id = case["user_id_ascii"].encode()
    assert signer_id == sm.DEFAULT_SIGNER_ID
    za = sm.compute_za(public, signer_id)
    assert za == h(case["z_a"])
    e = sm.sm3(za + case["message_ascii"].encode())
    assert e == h(case["e"])
    assert VECTOR_KEY.sign_digest(e, int(case["k"], 16)) == (int(case["r"], 16), int(case["s"], 16))


def test_sm2_vector_signature_verifies_and_alterations_do_not():
    case = vectors()["sm2_sign_sm2p256v1"]
    public = VECTOR_KEY.public_key
    message = case["message_ascii"].encode()
    signature = der_signature(int(case["r"], 16), int(case["s"], 16))
    assert public.verify(message, signature)
    assert public.verify(message, signature, case["user_id_ascii"].encode())
    assert not public.verify(b"message digesT", signature)
    assert not public.verify(message, signature, b"1234567812345679")
    assert not OTHER_KEY.public_key.verify(message, signature)
    for index in range(4, len(signature)):  # every content byte of r and s
        tampered = bytearray(signature)
        tampered[index] ^= 0x01
        assert not public.verify(message, bytes(tampered))


def test_sm2_annex_a_example_curve():
    """GB/T 32918.2 Annex A: another curve, another signer ID, through gmssl's ecc_table."""
    case = vectors()["sm2_sign_example_curve_gbt32918_annex_a"]
    curve = SM2Curve(
        name="GB/T 32918 Annex A example",
        **{name: int(case[name], 16) for name in ("p", "a", "b", "n", "gx", "gy")},
    )
    key = SM2PrivateKey.from_bytes(h(case["private_key"]), curve)
    signer_id = case["user_id_ascii"].encode()
    za = sm.compute_za(key.public_key, signer_id)
    assert za == h(case["z_a"])
    e = sm.sm3(za + case["message_ascii"].encode())
    assert e == h(case["e"])
    r, s = key.sign_digest(e, int(case["k"], 16))
    assert (r, s) == (int(case["r"], 16), int(case["s"], 16))
    message = case["message_ascii"].encode()
    assert key.public_key.verify(message, der_signature(r, s), signer_id)
    assert not key.public_key.verify(message, der_signature(r, s))
    assert key.public_key.verify(message, key.sign(message, signer_id), signer_id)


# --- SM2: the arithmetic against gmssl's own ---------------------------------------


@settings(max_examples=25, deadline=None)
@given(st.integers(min_value=1, max_value=N - 1))
def test_fixed_base_table_equals_gmssl_double_and_add(k):
    table_point = sm._base_point_table(SM2P256V1).multiply(k)
    assert sm._arithmetic(SM2P256V1).coordinates(table_point) == gmssl_point(k)


@pytest.mark.parametrize("k", [1, 2, 15, 16, 17, 0xFF, 16**63, 15 * 16**63, N - 2, N - 1])
def test_fixed_base_table_edge_scalars(k):
    table_point = sm._base_point_table(SM2P256V1).multiply(k)
    assert sm._arithmetic(SM2P256V1).coordinates(table_point) == gmssl_point(k)


@settings(max_examples=25, deadline=None)
@given(st.binary(min_size=32, max_size=32), st.integers(min_value=1, max_value=N - 1))
def test_sign_digest_equals_gmssl_sign(e, k):
    expected = CryptSM2(private_key=VECTOR_KEY.to_bytes().hex(), public_key="").sign(e, f"{k:064x}")
    try:
        r, s = VECTOR_KEY.sign_digest(e, k)
    except UnusableNonceError:
        assert expected is None
    else:
        assert f"{r:064x}{s:064x}" == expected


def test_public_key_tables_agree_with_plain_multiplication():
    """A key verifies through gmssl's _kg first, then through its own table; same answers."""
    key = SM2PrivateKey.generate()
    signature = key.sign(b"seal page")
    results = [key.public_key.verify(b"seal page", signature) for _ in range(3)]
    rejections = [key.public_key.verify(b"seal pagE", signature) for _ in range(3)]
    assert results == [True, True, True]
    assert rejections == [False, False, False]


def test_sign_digest_refuses_what_the_standard_refuses():
    k = 0x1234567890ABCDEF
    x1, _ = gmssl_point(k)
    d = int.from_bytes(VECTOR_KEY.to_bytes(), "big")

    def digest(value: int) -> bytes:
        return (value % N).to_bytes(32, "big")

    with pytest.raises(UnusableNonceError):  # r = 0
        VECTOR_KEY.sign_digest(digest(-x1), k)
    with pytest.raises(UnusableNonceError):  # r + k = n
        VECTOR_KEY.sign_digest(digest(N - k - x1), k)
    with pytest.raises(UnusableNonceError):  # s = 0, that is k = r·d
        VECTOR_KEY.sign_digest(digest(k * pow(d, -1, N) - x1), k)
    assert VECTOR_KEY.sign_digest(digest(1 - x1), k)[0] == 1


@pytest.mark.parametrize("k", [0, N, N + 1, -1])
def test_sign_digest_refuses_nonce_out_of_range(k):
    with pytest.raises(ValueError):
        VECTOR_KEY.sign_digest(bytes(32), k)


def test_sign_digest_refuses_a_digest_of_the_wrong_size():
    with pytest.raises(ValueError):
        VECTOR_KEY.sign_digest(bytes(31), 5)


# --- SM2 keys ------------------------------------------------------------------------


@pytest.mark.parametrize("d", [0, N - 1, N, 2**256 - 1])
def test_private_key_range_is_checked(d):
    with pytest.raises(ValueError):
        SM2PrivateKey.from_bytes(d.to_bytes(32, "big"))


def test_private_key_extremes_are_accepted():
    for d in (1, N - 2):
        key = SM2PrivateKey.from_bytes(d.to_bytes(32, "big"))
        assert (key.public_key.x, key.public_key.y) == gmssl_point(d)
        assert key.public_key.verify(b"m", key.sign(b"m"))


def test_private_key_wrong_length_is_refused():
    with pytest.raises(ValueError):
        SM2PrivateKey.from_bytes(bytes(31) + b"\x01" + b"\x00")


def test_generated_keys_are_fresh_and_derive_their_public_key():
    first, second = SM2PrivateKey.generate(), SM2PrivateKey.generate()
    assert first.to_bytes() != second.to_bytes()
    d = int.from_bytes(first.to_bytes(), "big")
    assert 1 <= d <= N - 2
    assert (first.public_key.x, first.public_key.y) == gmssl_point(d)


def test_private_key_text_never_shows_the_scalar():
    secret = VECTOR_KEY.to_bytes().hex()
    for text in (repr(VECTOR_KEY), str(VECTOR_KEY)):
        assert secret not in text.lower()
        assert f"{int(secret, 16)}" not in text


def test_public_key_bytes_and_fingerprint():
    public = VECTOR_KEY.public_key
    raw = public.to_bytes()
    assert len(raw) == 65 and raw[0] == 4
    assert SM2PublicKey.from_bytes(raw) == public
    assert public.fingerprint() == sm.sm3_hex(raw)


def point_with_small_x() -> tuple[int, int]:
    """A curve point whose x is so small that x + p still fits in 32 bytes."""
    p, a, b = SM2P256V1.p, SM2P256V1.a, SM2P256V1.b
    for x in range(1000):
        rhs = (x**3 + a * x + b) % p
        y = pow(rhs, (p + 1) // 4, p)  # p ≡ 3 (mod 4)
        if y * y % p == rhs:
            return x, y
    raise AssertionError("no small x found")


def test_public_key_off_the_curve_or_malformed_is_refused():
    raw = VECTOR_KEY.public_key.to_bytes()
    off_curve = raw[:-1] + bytes([raw[-1] ^ 1])
    x, y = point_with_small_x()
    assert SM2PublicKey(x, y) is not None  # the reduced point is fine...
    unreduced = b"\x04" + (x + SM2P256V1.p).to_bytes(32, "big") + y.to_bytes(32, "big")
    for bad in (off_curve, unreduced, b"\x02" + raw[1:], raw[:-1], raw + b"\x00", b""):
        with pytest.raises(ValueError):  # ...its unreduced twin is not
            SM2PublicKey.from_bytes(bad)


def test_signer_id_length_limit():
    public = VECTOR_KEY.public_key
    assert len(sm.compute_za(public, b"i" * 8191)) == 32
    with pytest.raises(ValueError):
        sm.compute_za(public, b"i" * 8192)


@settings(max_examples=10, deadline=None)
@given(st.binary(min_size=32, max_size=32))
def test_key_bytes_and_pem_round_trip(raw):
    try:
        key = SM2PrivateKey.from_bytes(raw)
    except ValueError:
        assert not 1 <= int.from_bytes(raw, "big") <= N - 2
        return
    assert key.to_bytes() == raw
    again = SM2PrivateKey.from_pem(key.to_pem())
    assert again.to_bytes() == raw
    assert SM2PublicKey.from_pem(key.public_key.to_pem()) == key.public_key


def test_pem_written_here_is_what_openssl_writes(tmp_path):
    """openssl reads both PEMs and, re-encoding them, produces the very same bytes."""
    key = SM2PrivateKey.generate()
    (tmp_path / "priv.pem").write_bytes(key.to_pem())
    (tmp_path / "pub.pem").write_bytes(key.public_key.to_pem())
    rewritten = openssl("pkey", "-in", str(tmp_path / "priv.pem"))
    assert rewritten.returncode == 0, rewritten.stderr
    assert rewritten.stdout == key.to_pem()
    public_from_private = openssl("pkey", "-in", str(tmp_path / "priv.pem"), "-pubout")
    assert public_from_private.stdout == key.public_key.to_pem()
    public = openssl("pkey", "-pubin", "-in", str(tmp_path / "pub.pem"), "-pubout")
    assert public.stdout == key.public_key.to_pem()
    text = openssl("pkey", "-in", str(tmp_path / "priv.pem"), "-noout", "-text").stdout.decode()
    assert "SM2" in text


def test_pem_from_openssl_genpkey_is_read(tmp_path):
    generated = openssl("genpkey", "-algorithm", "SM2")
    assert generated.returncode == 0, generated.stderr
    key = SM2PrivateKey.from_pem(generated.stdout)
    assert key.to_pem() == generated.stdout
    public_pem = openssl("pkey", "-pubout", stdin=generated.stdout).stdout
    assert SM2PublicKey.from_pem(public_pem) == key.public_key


def test_pem_with_a_foreign_key_or_mismatched_public_key_is_refused():
    p256 = openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256").stdout
    with pytest.raises(ValueError):
        SM2PrivateKey.from_pem(p256)
    with pytest.raises(ValueError):
        SM2PublicKey.from_pem(openssl("pkey", "-pubout", stdin=p256).stdout)
    der = base64.b64decode(b"".join(VECTOR_KEY.to_pem().splitlines()[1:-1]))
    der = der.replace(VECTOR_KEY.public_key.to_bytes(), OTHER_KEY.public_key.to_bytes())
    mismatched = b"-----BEGIN PRIVATE KEY-----\n%s\n-----END PRIVATE KEY-----\n" % (
        base64.b64encode(der)
    )
    with pytest.raises(ValueError, match="does not belong"):
        SM2PrivateKey.from_pem(mismatched)
    with pytest.raises(ValueError):
        SM2PrivateKey.from_pem(b"-----BEGIN PRIVATE KEY-----\n!!!\n-----END PRIVATE KEY-----\n")
    with pytest.raises(ValueError):
        SM2PrivateKey.from_pem(VECTOR_KEY.public_key.to_pem())


# --- SM2 signatures: round trips, malformed input, openssl both ways ---------------


@settings(max_examples=20, deadline=None)
@given(st.binary(max_size=300), st.binary(min_size=1, max_size=40))
def test_sign_verify_round_trip(message, signer_id):
    signature = OTHER_KEY.sign(message, signer_id)
    assert OTHER_KEY.public_key.verify(message, signature, signer_id)
    assert not OTHER_KEY.public_key.verify(message + b"\x00", signature, signer_id)
    assert not OTHER_KEY.public_key.verify(message, signature, signer_id + b"\x00")


def test_signatures_use_a_fresh_nonce():
    assert OTHER_KEY.sign(b"same") != OTHER_KEY.sign(b"same")


@pytest.mark.parametrize(
    "signature",
    [
        b"",
        b"\x30\x00",
        b"not der at all",
        der_signature(0, 1),
        der_signature(1, 0),
        der_signature(N, 1),
        der_signature(1, N),
        der_signature(1, N - 1),  # r + s = n
    ],
)
def test_verify_returns_false_for_malformed_or_out_of_range_signatures(signature):
    assert VECTOR_KEY.public_key.verify(b"message digest", signature) is False


# Other byte forms of the official signature (r and s both have their top bit set, so
# each is the 35-byte element 02 21 00 <32 bytes>). Accepting any of them would make
# signatures malleable.
ALTERED_ENCODINGS = {
    "canonical (control)": lambda r, s: b"\x30\x46" + r + s,
    "long-form sequence length": lambda r, s: b"\x30\x81\x46" + r + s,
    "indefinite length": lambda r, s: b"\x30\x80" + r + s + b"\x00\x00",
    "trailing byte": lambda r, s: b"\x30\x46" + r + s + b"\x00",
    "extra zero byte in r": lambda r, s: b"\x30\x47\x02\x22\x00" + r[2:] + s,
    "r without its sign byte": lambda r, s: b"\x30\x45\x02\x20" + r[3:] + s,
    "long-form length of r": lambda r, s: b"\x30\x47\x02\x81\x21" + r[2:] + s,
    "SET instead of SEQUENCE": lambda r, s: b"\x31\x46" + r + s,
    "r and s swapped": lambda r, s: b"\x30\x46" + s + r,
}


@pytest.mark.parametrize("name", ALTERED_ENCODINGS)
def test_only_the_canonical_encoding_of_a_valid_signature_verifies(name):
    case = vectors()["sm2_sign_sm2p256v1"]
    r_element = b"\x02\x21\x00" + h(case["r"])
    s_element = b"\x02\x21\x00" + h(case["s"])
    signature = ALTERED_ENCODINGS[name](r_element, s_element)
    expected = name == "canonical (control)"
    assert VECTOR_KEY.public_key.verify(case["message_ascii"].encode(), signature) is expected


def test_verify_returns_false_for_non_bytes_signature():
    assert VECTOR_KEY.public_key.verify(b"m", "3006020101020101") is False  # type: ignore[arg-type]


@pytest.fixture
def key_files(tmp_path):
    """A fresh key pair written as PEM for the openssl CLI."""
    key = SM2PrivateKey.generate()
    (tmp_path / "priv.pem").write_bytes(key.to_pem())
    (tmp_path / "pub.pem").write_bytes(key.public_key.to_pem())
    return key, tmp_path


def openssl_sign(directory: Path, message: bytes, signer_id: bytes) -> bytes:
    (directory / "msg").write_bytes(message)
    result = openssl(
        "pkeyutl", "-sign", "-rawin", "-digest", "sm3", "-inkey", str(directory / "priv.pem"),
        "-pkeyopt", f"hexdistid:{signer_id.hex()}", "-in", str(directory / "msg"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout


def openssl_verifies(directory: Path, message: bytes, signature: bytes, signer_id: bytes) -> bool:
    (directory / "msg").write_bytes(message)
    (directory / "sig").write_bytes(signature)
    result = openssl(
        "pkeyutl", "-verify", "-rawin", "-digest", "sm3", "-pubin",
        "-inkey", str(directory / "pub.pem"), "-sigfile", str(directory / "sig"),
        "-pkeyopt", f"hexdistid:{signer_id.hex()}", "-in", str(directory / "msg"),
    )  # fmt: skip
    return result.returncode == 0 and b"Signature Verified Successfully" in result.stdout


@pytest.mark.parametrize("signer_id", [sm.DEFAULT_SIGNER_ID, b"ALICE123@YAHOO.COM"])
def test_openssl_verifies_our_signatures(key_files, signer_id):
    key, directory = key_files
    message = "不动产权证书 豫(2024)潢川县不动产权第0000001号".encode()
    signature = key.sign(message, signer_id)
    assert openssl_verifies(directory, message, signature, signer_id)
    assert not openssl_verifies(directory, message + b".", signature, signer_id)
    assert not openssl_verifies(directory, message, signature, b"1234567812345679")


@pytest.mark.parametrize("signer_id", [sm.DEFAULT_SIGNER_ID, b"ALICE123@YAHOO.COM"])
def test_we_verify_openssl_signatures(key_files, signer_id):
    key, directory = key_files
    message = b"certificate file digest"
    signature = openssl_sign(directory, message, signer_id)
    assert key.public_key.verify(message, signature, signer_id)
    assert not key.public_key.verify(message, signature, b"another id")
    assert not key.public_key.verify(b"other", signature, signer_id)


def test_openssl_verifies_the_official_vector_signature(tmp_path):
    case = vectors()["sm2_sign_sm2p256v1"]
    (tmp_path / "pub.pem").write_bytes(VECTOR_KEY.public_key.to_pem())
    signature = der_signature(int(case["r"], 16), int(case["s"], 16))
    assert openssl_verifies(
        tmp_path, case["message_ascii"].encode(), signature, sm.DEFAULT_SIGNER_ID
    )


# --- gmssl's lstrip("04") bug ------------------------------------------------------


def key_whose_x_starts_with(digit: str) -> SM2PrivateKey:
    while True:  # one key in 16 qualifies
        key = SM2PrivateKey.generate()
        if f"{key.public_key.x:064x}".startswith(digit):
            return key


@pytest.mark.parametrize("digit", ["0", "4"])
def test_keys_whose_x_starts_with_0_or_4(tmp_path, digit):
    key = key_whose_x_starts_with(digit)
    prefixed = "04" + key.public_key.point_hex()
    assert CryptSM2(private_key="", public_key=prefixed).public_key != key.public_key.point_hex(), (
        "gmssl's lstrip bug is what this test guards against; this key must trigger it"
    )
    message = b"regression: gmssl lstrip('04')"
    signature = key.sign(message)
    for _ in range(2):  # first through gmssl's multiplication, then through the key's table
        assert key.public_key.verify(message, signature)
    (tmp_path / "pub.pem").write_bytes(key.public_key.to_pem())
    assert openssl_verifies(tmp_path, message, signature, sm.DEFAULT_SIGNER_ID)
    assert SM2PublicKey.from_bytes(key.public_key.to_bytes()) == key.public_key


def test_point_sum_handles_equal_and_opposite_points():
    """The cases gmssl's addition formula cannot do, and its verify gets wrong."""
    arithmetic = sm._arithmetic(SM2P256V1)
    x, y = gmssl_point(12345)
    point = SM2P256V1.point_hex(x, y)
    assert arithmetic.coordinates(arithmetic.sum(point, point)) == gmssl_point(2 * 12345)
    assert arithmetic.sum(point, SM2P256V1.point_hex(x, SM2P256V1.p - y)) is None
    other = SM2P256V1.point_hex(*gmssl_point(7))
    assert arithmetic.coordinates(arithmetic.sum(point, other)) == gmssl_point(12345 + 7)
