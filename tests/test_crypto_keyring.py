"""certarchive.crypto.keyring on real files in a temporary directory."""

import json
import multiprocessing
import stat
import unicodedata
from pathlib import Path

import pytest

from certarchive.crypto.keyring import DEFAULT_PURPOSES, KEYS_FILE, Keyring, KeyringError
from certarchive.crypto.sm import DecryptionError
from tests.i18n_support import raises_matching

PASSPHRASE = "潢川县 不动产 登记 2024 correct horse"


def snapshot(directory: Path) -> dict[str, tuple[int, bytes]]:
    """Every entry's mode and content, to prove that an operation wrote nothing."""
    entries = {".": (directory.stat().st_mode, b"")}
    for path in directory.iterdir():
        entries[path.name] = (path.stat().st_mode, path.read_bytes())
    return entries


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def key_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.key"))


@pytest.fixture
def keys_dir(tmp_path: Path) -> Path:
    return tmp_path / "var" / "keys"


@pytest.fixture
def keyring(keys_dir: Path) -> Keyring:
    return Keyring.create(keys_dir)


# --- creating and opening -------------------------------------------------------------


def test_create_writes_private_files_and_open_reads_them(keys_dir, keyring):
    assert mode(keys_dir) == 0o700
    assert mode(keys_dir / KEYS_FILE) == 0o600
    (kek_file,) = key_files(keys_dir)
    assert mode(kek_file) == 0o600
    assert len(bytes.fromhex(kek_file.read_text().strip())) == 32
    assert sorted(p.name for p in keys_dir.iterdir()) == sorted([KEYS_FILE, kek_file.name])
    assert [keyring.current_key_id(p) for p in DEFAULT_PURPOSES] == [
        f"{p}-1" for p in DEFAULT_PURPOSES
    ]

    blob = keyring.encrypt("personal", "张三 410526199001011234".encode(), b"cert-1/holder")
    reopened = Keyring.open(keys_dir)
    assert (
        reopened.decrypt("personal", blob, b"cert-1/holder").decode() == "张三 410526199001011234"
    )
    assert reopened.blind_index("410526199001011234") == keyring.blind_index("410526199001011234")


def test_keys_file_holds_no_key_in_clear(keys_dir, keyring):
    blob = keyring.encrypt("files", b"x", b"")
    text = (keys_dir / KEYS_FILE).read_text()
    for key in keyring._keys.values():
        assert key.hex() not in text
    assert "files-1" in text and blob[2:9] == b"files-1"


def test_create_refuses_an_existing_keyring_and_writes_nothing(keys_dir, keyring):
    before = snapshot(keys_dir)
    with raises_matching(KeyringError, "exists already"):
        Keyring.create(keys_dir)
    with raises_matching(KeyringError, "exists already"):
        Keyring.create(keys_dir, PASSPHRASE)
    assert snapshot(keys_dir) == before


def test_open_without_a_keyring_names_the_missing_file(keys_dir):
    with pytest.raises(KeyringError) as caught:
        Keyring.open(keys_dir)
    assert str(keys_dir / KEYS_FILE) in str(caught.value) and "missing" in str(caught.value)


def test_open_or_create_creates_once_then_opens(keys_dir):
    first = Keyring.open_or_create(keys_dir)
    blob = first.encrypt("seal", b"seal private key", b"agency")
    second = Keyring.open_or_create(keys_dir)
    assert second.decrypt("seal", blob, b"agency") == b"seal private key"
    assert len(key_files(keys_dir)) == 1


def _open_or_create_in_child(keys_dir: Path, barrier, results) -> None:
    barrier.wait()
    results.put(Keyring.open_or_create(keys_dir).blind_index("410526199001011234"))


def test_processes_creating_at_once_end_up_with_one_keyring(keys_dir):
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(6), context.Queue()
    children = [
        context.Process(target=_open_or_create_in_child, args=(keys_dir, barrier, results))
        for _ in range(6)
    ]
    for child in children:
        child.start()
    indexes = [results.get(timeout=60) for _ in children]
    for child in children:
        child.join(timeout=60)
        assert child.exitcode == 0
    assert len(set(indexes)) == 1
    assert indexes[0] == Keyring.open(keys_dir).blind_index("410526199001011234")
    assert len(key_files(keys_dir)) == 1


# --- refusing what is wrong -------------------------------------------------------------


def test_wrong_key_file_is_refused_clearly_and_nothing_is_written(keys_dir, keyring):
    (kek_file,) = key_files(keys_dir)
    kek_file.write_text(bytes(range(32)).hex() + "\n")
    before = snapshot(keys_dir)
    with pytest.raises(KeyringError) as caught:
        Keyring.open(keys_dir)
    message = str(caught.value)
    assert str(keys_dir / KEYS_FILE) in message and "does not match" in message
    assert bytes(range(32)).hex() not in message
    assert snapshot(keys_dir) == before


def test_malformed_or_missing_key_file_is_refused(keys_dir, keyring):
    (kek_file,) = key_files(keys_dir)
    kek_file.write_text("not hex\n")
    with raises_matching(KeyringError, "not a key file"):
        Keyring.open(keys_dir)
    kek_file.unlink()
    with raises_matching(KeyringError, f"{kek_file.name}: missing"):
        Keyring.open(keys_dir)


@pytest.mark.parametrize("loose_mode", [0o640, 0o604, 0o660])
def test_group_or_world_accessible_files_are_refused(keys_dir, keyring, loose_mode):
    (kek_file,) = key_files(keys_dir)
    for path in (kek_file, keys_dir / KEYS_FILE):
        path.chmod(loose_mode)
        with pytest.raises(KeyringError) as caught:
            Keyring.open(keys_dir)
        assert str(path) in str(caught.value) and "chmod 600" in str(caught.value)
        path.chmod(0o600)
    Keyring.open(keys_dir)


def test_corrupt_json_is_refused(keys_dir, keyring):
    (keys_dir / KEYS_FILE).write_text('{"format": "certarchive-keyring/1", ')
    with raises_matching(KeyringError, "not a keyring file"):
        Keyring.open(keys_dir)
    (keys_dir / KEYS_FILE).write_text("[]")
    with raises_matching(KeyringError, "not a keyring file"):
        Keyring.open(keys_dir)


def edit_keys_file(keys_dir: Path, change) -> None:
    path = keys_dir / KEYS_FILE
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))


def test_rolling_current_back_to_an_old_key_is_detected(keys_dir, keyring):
    keyring.rotate(["personal"])

    def roll_back(document):
        document["current"]["personal"] = "personal-1"

    edit_keys_file(keys_dir, roll_back)
    with raises_matching(KeyringError, "altered"):
        Keyring.open(keys_dir)


def test_a_changed_wrapped_key_is_detected(keys_dir, keyring):
    def flip(document):
        wrapped = document["keys"]["seal-1"]
        document["keys"]["seal-1"] = wrapped[:-1] + ("0" if wrapped[-1] != "0" else "1")

    edit_keys_file(keys_dir, flip)
    with raises_matching(KeyringError, "altered"):
        Keyring.open(keys_dir)


def test_a_deleted_key_is_detected(keys_dir, keyring):
    edit_keys_file(keys_dir, lambda document: document["keys"].pop("files-1"))
    with raises_matching(KeyringError, "altered"):
        Keyring.open(keys_dir)


# --- passphrase mode ------------------------------------------------------------------


def test_passphrase_keyring(keys_dir):
    keyring = Keyring.create(keys_dir, PASSPHRASE)
    assert key_files(keys_dir) == []
    stored = json.loads((keys_dir / KEYS_FILE).read_text())["kek"]
    assert stored["kind"] == "passphrase" and stored["kdf"] == "scrypt" and stored["n"] >= 2**14
    assert PASSPHRASE not in (keys_dir / KEYS_FILE).read_text()
    blob = keyring.encrypt("personal", b"secret", b"aad")
    assert Keyring.open(keys_dir, PASSPHRASE).decrypt("personal", blob, b"aad") == b"secret"

    before = snapshot(keys_dir)
    with raises_matching(KeyringError, "does not match"):
        Keyring.open(keys_dir, PASSPHRASE + "!")
    with raises_matching(KeyringError, "needs its passphrase"):
        Keyring.open(keys_dir)
    assert snapshot(keys_dir) == before


def test_passphrase_is_compared_in_normal_form(keys_dir):
    composed = "café 登记"
    Keyring.create(keys_dir, composed)
    decomposed = unicodedata.normalize("NFD", composed)
    assert decomposed != composed
    Keyring.open(keys_dir, decomposed)


def test_passphrase_given_to_a_key_file_keyring_is_refused(keys_dir, keyring):
    with raises_matching(KeyringError, "uses a key file"):
        Keyring.open(keys_dir, PASSPHRASE)


def test_empty_passphrase_is_refused(keys_dir):
    with raises_matching(KeyringError, "empty passphrase"):
        Keyring.create(keys_dir, "")
    assert not (keys_dir / KEYS_FILE).exists()


# --- ciphertexts ------------------------------------------------------------------------


def test_ciphertext_moved_to_another_aad_or_purpose_fails(keyring):
    blob = keyring.encrypt("personal", b"410526199001011234", b"cert-1/holder")
    with pytest.raises(DecryptionError):
        keyring.decrypt("personal", blob, b"cert-2/holder")
    with pytest.raises(DecryptionError):
        keyring.decrypt("files", blob, b"cert-1/holder")
    for broken in (b"", b"\x01", blob[:12], b"\x02" + blob[1:], blob[:-1]):
        with pytest.raises(DecryptionError):
            keyring.decrypt("personal", broken, b"cert-1/holder")


def test_unknown_purpose_is_refused(keyring):
    with raises_matching(KeyringError, "'payroll'"):
        keyring.encrypt("payroll", b"x", b"")


def test_nothing_secret_in_text(keys_dir, keyring):
    text = repr(keyring) + str(keyring) + repr(keyring._kek)
    (kek_file,) = key_files(keys_dir)
    assert kek_file.read_text().strip() not in text
    for key in keyring._keys.values():
        assert key.hex() not in text


# --- rotation and re-wrapping -----------------------------------------------------------


def test_rotation_keeps_old_ciphertexts_readable(keys_dir, keyring):
    old = keyring.encrypt("personal", b"old", b"aad")
    index_before = keyring.blind_index("410526199001011234")

    new_ids = keyring.rotate()
    assert new_ids == ["apikeys-2", "files-2", "personal-2", "seal-2"]
    assert keyring.current_key_id("blind-index") == "blind-index-1"
    new = keyring.encrypt("personal", b"new", b"aad")
    assert new[2:12] == b"personal-2" and old[2:12] == b"personal-1"
    assert keyring.blind_index("410526199001011234") == index_before

    reopened = Keyring.open(keys_dir)
    assert reopened.current_key_id("personal") == "personal-2"
    assert reopened.decrypt("personal", old, b"aad") == b"old"
    assert reopened.decrypt("personal", new, b"aad") == b"new"
    assert reopened.rotate(["personal"]) == ["personal-3"]


def test_swapping_the_key_id_in_a_header_fails(keyring):
    old = keyring.encrypt("personal", b"data", b"aad")
    keyring.rotate(["personal"])
    relabelled = old.replace(b"personal-1", b"personal-2", 1)
    with pytest.raises(DecryptionError):
        keyring.decrypt("personal", relabelled, b"aad")


def test_rotating_the_blind_index_changes_it_and_new_purposes_get_a_first_key(keys_dir, keyring):
    before = keyring.blind_index("410526199001011234")
    assert keyring.rotate(["blind-index", "backup"]) == ["blind-index-2", "backup-1"]
    assert keyring.blind_index("410526199001011234") != before
    assert Keyring.open(keys_dir).current_key_id("backup") == "backup-1"
    with raises_matching(KeyringError, "invalid purpose"):
        keyring.rotate(["Bad Name"])


def test_rewrap_to_a_new_key_file_leaves_ciphertexts_alone(keys_dir, keyring):
    blob = keyring.encrypt("files", b"pdf bytes", b"cert-9/v1")
    (old_kek_file,) = key_files(keys_dir)
    old_kek = old_kek_file.read_text()
    old_document = json.loads((keys_dir / KEYS_FILE).read_text())

    keyring.rewrap()
    (new_kek_file,) = key_files(keys_dir)
    assert new_kek_file != old_kek_file and mode(new_kek_file) == 0o600
    new_document = json.loads((keys_dir / KEYS_FILE).read_text())
    assert new_document["current"] == old_document["current"]
    assert set(new_document["keys"]) == set(old_document["keys"])
    assert new_document["kek_check"] != old_document["kek_check"]
    assert Keyring.open(keys_dir).decrypt("files", blob, b"cert-9/v1") == b"pdf bytes"

    new_kek_file.write_text(old_kek)  # the old KEK no longer opens the keyring
    with raises_matching(KeyringError, "does not match"):
        Keyring.open(keys_dir)


def test_rewrap_between_key_file_and_passphrase(keys_dir, keyring):
    blob = keyring.encrypt("seal", b"private", b"agency")
    keyring.rewrap(PASSPHRASE)
    assert key_files(keys_dir) == []
    with raises_matching(KeyringError, "needs its passphrase"):
        Keyring.open(keys_dir)
    by_passphrase = Keyring.open(keys_dir, PASSPHRASE)
    assert by_passphrase.decrypt("seal", blob, b"agency") == b"private"

    by_passphrase.rewrap()
    assert len(key_files(keys_dir)) == 1
    assert Keyring.open(keys_dir).decrypt("seal", blob, b"agency") == b"private"
    # the object that re-wrapped keeps working and writes under its new KEK
    by_passphrase.rotate(["seal"])
    assert Keyring.open(keys_dir).current_key_id("seal") == "seal-2"


def test_odd_values_in_the_keys_file_are_refused_cleanly(keys_dir, keyring):
    def non_ascii_check(document):
        document["kek_check"] = "检查值"

    edit_keys_file(keys_dir, non_ascii_check)
    with raises_matching(KeyringError, "does not match"):
        Keyring.open(keys_dir)


def test_absurd_scrypt_cost_is_refused_before_deriving(keys_dir):
    Keyring.create(keys_dir, PASSPHRASE)

    def expensive(document):
        document["kek"]["n"] = 2**30

    edit_keys_file(keys_dir, expensive)
    with raises_matching(KeyringError, "scrypt parameter n out of range"):
        Keyring.open(keys_dir, PASSPHRASE)
