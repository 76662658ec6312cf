"""Key file: creation, fail-closed loading, rotation and retirement."""

from __future__ import annotations

import base64
import json
import os
import stat
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from screening.crypto.keys import (
    KeyFileError,
    KeyRing,
    init_key_file,
    key_check_value,
    load_key_file,
    retire_kek,
    rotate_key_file,
)

Doc = dict[str, Any]


def read_doc(path: Path) -> Doc:
    doc: Doc = json.loads(path.read_text())
    return doc


def write_raw(path: Path, data: bytes, mode: int = 0o600) -> None:
    path.write_bytes(data)
    os.chmod(path, mode)


def write_doc(path: Path, doc: Doc) -> None:
    write_raw(path, json.dumps(doc).encode())


def b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


def mode_of(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def expect_refusal(path: Path, ring: KeyRing, keys_of: Any, check_clean: Any) -> str:
    """Load must raise KeyFileError, one line, naming the file, without key bytes; and not
    hang on it (a FIFO with no writer, say). The bound is a hang guard, not a speed claim:
    loading time is measured in benchmarks/keys.py."""
    started = time.perf_counter()
    with pytest.raises(KeyFileError) as info:
        load_key_file(path)
    assert time.perf_counter() - started < 10
    message = str(info.value)
    assert "\n" not in message and "\r" not in message
    assert str(path) in message
    check_clean(message, keys_of(ring))
    check_clean(repr(info.value), keys_of(ring))
    return message


# --------------------------------------------------------------------------- init / load


def test_init_creates_0600_file_with_distinct_keys(key_path: Path) -> None:
    ring = init_key_file(key_path)
    assert mode_of(key_path) == 0o600
    assert stat.S_ISREG(os.lstat(key_path).st_mode)
    keys = [*ring.keks.values(), ring.blind_index_key, ring.pseudonym_key, ring.session_secret]
    assert all(len(k) == 32 for k in keys)
    assert len(set(keys)) == len(keys) == 4
    assert ring.kek_id in ring.keks and len(ring.keks) == 1
    assert ring.kek_id.startswith("k-") and len(ring.kek_id) == 10
    assert load_key_file(key_path) == ring
    assert [p.name for p in key_path.parent.iterdir()] == ["keys.json"]  # no temp files left


def test_init_mode_is_0600_regardless_of_umask(tmp_path: Path) -> None:
    for umask in (0o000, 0o022, 0o077, 0o277):
        old = os.umask(umask)
        try:
            path = tmp_path / f"keys-{umask:o}.json"
            init_key_file(path)
        finally:
            os.umask(old)
        assert mode_of(path) == 0o600
        load_key_file(path)


def test_two_inits_share_no_key(tmp_path: Path, keys_of: Any) -> None:
    a = init_key_file(tmp_path / "a.json")
    b = init_key_file(tmp_path / "b.json")
    assert not set(keys_of(a)) & set(keys_of(b))


def test_file_format_is_documented_shape(keyring: KeyRing, key_path: Path) -> None:
    doc = read_doc(key_path)
    assert doc["format"] == "screening-keys/1"
    assert doc["current_kek"] == keyring.kek_id
    assert doc["keks"] == [
        {"id": keyring.kek_id, "key": b64(keyring.kek), "kcv": key_check_value(keyring.kek)}
    ]
    assert doc["blind_index_key"]["kcv"] == key_check_value(keyring.blind_index_key)
    assert len(key_check_value(keyring.kek)) == 12


def test_init_refuses_to_overwrite(keyring: KeyRing, key_path: Path) -> None:
    before = key_path.read_bytes()
    with pytest.raises(KeyFileError, match="already exists") as info:
        init_key_file(key_path)
    assert str(key_path) in str(info.value)
    assert key_path.read_bytes() == before


def test_init_refuses_dangling_symlink_and_missing_folder(tmp_path: Path) -> None:
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "nowhere.json")
    with pytest.raises(KeyFileError, match="already exists"):
        init_key_file(link)
    assert not (tmp_path / "nowhere.json").exists()
    missing = tmp_path / "no-such-folder" / "keys.json"
    with pytest.raises(KeyFileError, match="folder") as info:
        init_key_file(missing)
    assert str(missing) in str(info.value)


def test_symlink_to_valid_file_is_accepted(keyring: KeyRing, key_path: Path) -> None:
    link = key_path.parent / "mounted.json"
    link.symlink_to(key_path)
    assert load_key_file(link).keks == keyring.keks


def test_repr_hides_keys(keyring: KeyRing, keys_of: Any, check_clean: Any) -> None:
    text = repr(keyring) + str(keyring)
    check_clean(text, keys_of(keyring))
    assert keyring.kek_id in text


# --------------------------------------------------------------------------- fail closed


def _missing(p: Path, r: KeyRing) -> None:
    p.unlink()


def _directory(p: Path, r: KeyRing) -> None:
    p.unlink()
    p.mkdir(mode=0o700)


def _dangling(p: Path, r: KeyRing) -> None:
    p.unlink()
    p.symlink_to(p.parent / "gone.json")


def _fifo(p: Path, r: KeyRing) -> None:
    p.unlink()
    os.mkfifo(p, 0o600)


def _mode(mode: int) -> Callable[[Path, KeyRing], None]:
    def mutate(p: Path, r: KeyRing) -> None:
        os.chmod(p, mode)

    return mutate


def _raw(transform: Callable[[bytes], bytes]) -> Callable[[Path, KeyRing], None]:
    def mutate(p: Path, r: KeyRing) -> None:
        write_raw(p, transform(p.read_bytes()))

    return mutate


def _doc(change: Callable[[Doc, KeyRing], None]) -> Callable[[Path, KeyRing], None]:
    def mutate(p: Path, r: KeyRing) -> None:
        doc = read_doc(p)
        change(doc, r)
        write_doc(p, doc)

    return mutate


def _set_key(doc: Doc, name: str, key: bytes, *, kcv: str | None = None) -> None:
    entry = doc["keks"][0] if name == "kek" else doc[name]
    entry["key"] = b64(key)
    entry["kcv"] = key_check_value(key) if kcv is None else kcv


def _equal_keys(doc: Doc, r: KeyRing) -> None:
    _set_key(doc, "pseudonym_key", r.blind_index_key)


def _kek_equals_session(doc: Doc, r: KeyRing) -> None:
    _set_key(doc, "session_secret", r.kek)


def _two_equal_keks(doc: Doc, r: KeyRing) -> None:
    doc["keks"].append({**doc["keks"][0], "id": "k-other"})


def _wrong_length(n: int) -> Callable[[Doc, KeyRing], None]:
    def change(doc: Doc, r: KeyRing) -> None:
        key = r.blind_index_key
        _set_key(doc, "blind_index_key", key[:n] + key[: max(0, n - 32)])

    return change


def _truncated_key(doc: Doc, r: KeyRing) -> None:
    doc["keks"][0]["key"] = doc["keks"][0]["key"][:30]


def _kcv_mismatch(doc: Doc, r: KeyRing) -> None:
    _set_key(doc, "session_secret", os.urandom(32), kcv=key_check_value(r.session_secret))


def _kcv_altered(doc: Doc, r: KeyRing) -> None:
    kcv = doc["pseudonym_key"]["kcv"]
    doc["pseudonym_key"]["kcv"] = ("0" if kcv[0] != "0" else "1") + kcv[1:]


def _bit_flip_in_key(doc: Doc, r: KeyRing) -> None:
    key = bytearray(r.kek)
    key[7] ^= 0x10
    doc["keks"][0]["key"] = b64(bytes(key))


CASES: dict[str, Callable[[Path, KeyRing], None]] = {
    "missing": _missing,
    "directory": _directory,
    "dangling-symlink": _dangling,
    "fifo": _fifo,
    "mode-0640": _mode(0o640),
    "mode-0604": _mode(0o604),
    "mode-0644": _mode(0o644),
    "mode-0660": _mode(0o660),
    "mode-0601": _mode(0o601),
    "mode-0610": _mode(0o610),
    "empty": _raw(lambda b: b""),
    "invalid-json": _raw(lambda b: b[: len(b) // 2]),
    "not-utf8": _raw(lambda b: b"\xff\xfe" + b),
    "json-array": _raw(lambda b: b"[]"),
    "duplicate-field": _raw(lambda b: b.replace(b'"format"', b'"format": "x", "format"', 1)),
    "truncated-key": _doc(_truncated_key),
    "truncated-key-24-bytes": _doc(lambda d, r: d["keks"][0].update(key=d["keks"][0]["key"][:32])),
    "wrong-length-31": _doc(_wrong_length(31)),
    "wrong-length-33": _doc(_wrong_length(33)),
    "wrong-length-0": _doc(_wrong_length(0)),
    "bad-base64": _doc(lambda d, r: d["pseudonym_key"].update(key="!" * 44)),
    "urlsafe-base64": _doc(
        lambda d, r: d["pseudonym_key"].update(
            key=base64.urlsafe_b64encode(b"\xfb\xff" * 16).decode(),
            kcv=key_check_value(b"\xfb\xff" * 16),
        )
    ),
    "key-not-string": _doc(lambda d, r: d["session_secret"].update(key=12345)),
    "kcv-mismatch": _doc(_kcv_mismatch),
    "kcv-altered": _doc(_kcv_altered),
    "kcv-missing": _doc(lambda d, r: d["blind_index_key"].pop("kcv")),
    "key-bit-flip": _doc(_bit_flip_in_key),
    "equal-keys": _doc(_equal_keys),
    "kek-equals-session": _doc(_kek_equals_session),
    "two-equal-keks": _doc(_two_equal_keks),
    "unknown-field": _doc(lambda d, r: d.update(comment="hello")),
    "unknown-entry-field": _doc(lambda d, r: d["keks"][0].update(note="x")),
    "missing-field": _doc(lambda d, r: d.pop("pseudonym_key")),
    "wrong-format": _doc(lambda d, r: d.update(format="screening-keys/2")),
    "current-not-in-keks": _doc(lambda d, r: d.update(current_kek="k-unknown")),
    "no-keks": _doc(lambda d, r: d.update(keks=[])),
    "bad-kek-id": _doc(lambda d, r: d["keks"][0].update(id="bad id\n")),
    "duplicate-kek-id": _doc(
        lambda d, r: d["keks"].append({"id": r.kek_id, **_entry_for(os.urandom(32))})
    ),
}


def _entry_for(key: bytes) -> dict[str, str]:
    return {"key": b64(key), "kcv": key_check_value(key)}


@pytest.mark.parametrize("case", sorted(CASES))
def test_load_fails_closed(
    case: str, keyring: KeyRing, key_path: Path, keys_of: Any, check_clean: Any
) -> None:
    CASES[case](key_path, keyring)
    message = expect_refusal(key_path, keyring, keys_of, check_clean)
    assert message.startswith(f"key file {key_path}: ")


def test_expected_wording(keyring: KeyRing, key_path: Path) -> None:
    os.chmod(key_path, 0o640)
    with pytest.raises(KeyFileError, match="0640"):
        load_key_file(key_path)
    os.chmod(key_path, 0o600)
    _doc(_kcv_mismatch)(key_path, keyring)
    with pytest.raises(KeyFileError, match="key-check value mismatch"):
        load_key_file(key_path)


def test_message_is_one_line_even_for_odd_path(tmp_path: Path) -> None:
    odd = tmp_path / "line\nbreak"
    odd.mkdir()
    with pytest.raises(KeyFileError) as info:
        load_key_file(odd / "keys.json")
    assert "\n" not in str(info.value)


def test_owner_only_modes_are_accepted(keyring: KeyRing, key_path: Path) -> None:
    for mode in (0o400, 0o600, 0o700):
        os.chmod(key_path, mode)
        assert load_key_file(key_path) == keyring


# --------------------------------------------------------------------------- rotate / retire


def test_rotate_adds_current_kek_and_keeps_old(keyring: KeyRing, key_path: Path) -> None:
    second = rotate_key_file(key_path)
    assert mode_of(key_path) == 0o600
    assert second.kek_id != keyring.kek_id
    assert second.keks[keyring.kek_id] == keyring.kek
    assert list(second.keks) == [keyring.kek_id, second.kek_id]
    assert second.kek not in (keyring.blind_index_key, keyring.pseudonym_key, keyring.kek)
    assert second.blind_index_key == keyring.blind_index_key
    assert second.pseudonym_key == keyring.pseudonym_key
    assert second.session_secret == keyring.session_secret
    third = rotate_key_file(key_path)
    assert len(third.keks) == 3 and len(set(third.keks.values())) == 3
    assert load_key_file(key_path) == third
    assert mode_of(key_path) == 0o600
    assert sorted(p.name for p in key_path.parent.iterdir()) == ["keys.json"]


def test_rotate_refuses_bad_file(keyring: KeyRing, key_path: Path) -> None:
    os.chmod(key_path, 0o644)
    with pytest.raises(KeyFileError):
        rotate_key_file(key_path)
    with pytest.raises(KeyFileError):
        rotate_key_file(key_path.parent / "missing.json")


def test_rotate_through_symlink_keeps_link(keyring: KeyRing, key_path: Path) -> None:
    link = key_path.parent / "link.json"
    link.symlink_to(key_path)
    rotated = rotate_key_file(link)
    assert link.is_symlink()
    assert load_key_file(key_path).keks == rotated.keks


def test_retire(keyring: KeyRing, key_path: Path) -> None:
    second = rotate_key_file(key_path)
    with pytest.raises(KeyFileError, match="current"):
        retire_kek(key_path, second.kek_id)
    with pytest.raises(KeyFileError, match="no KEK"):
        retire_kek(key_path, "k-00000000")
    with pytest.raises(KeyFileError) as info:
        retire_kek(key_path, "bad\nid")
    assert "\n" not in str(info.value)
    assert load_key_file(key_path) == second  # refusals changed nothing
    after = retire_kek(key_path, keyring.kek_id)
    assert list(after.keks) == [second.kek_id]
    assert after.kek == second.kek
    assert load_key_file(key_path) == after
    assert mode_of(key_path) == 0o600
    with pytest.raises(KeyFileError, match="current"):
        retire_kek(key_path, second.kek_id)


def test_concurrent_rotations_lose_no_kek(keyring: KeyRing, key_path: Path) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: rotate_key_file(key_path), range(16)))
    final = load_key_file(key_path)
    assert len(final.keks) == 17
    assert {r.kek_id for r in results} | {keyring.kek_id} == set(final.keks)
    assert mode_of(key_path) == 0o600


def test_oversized_file_is_refused(keyring: KeyRing, key_path: Path) -> None:
    write_raw(key_path, key_path.read_bytes() + b" " * 70_000)
    with pytest.raises(KeyFileError, match="too large"):
        load_key_file(key_path)


def test_keyring_checks_its_own_shape(keyring: KeyRing) -> None:
    assert hash(keyring) == hash(load_key_file(keyring.path))
    with pytest.raises(ValueError):
        replace(keyring, kek_id="k-missing")
    with pytest.raises(ValueError):
        replace(keyring, session_secret=b"short")
    with pytest.raises(TypeError):
        keyring.keks["k-new"] = b"\x00" * 32  # type: ignore[index]
