"""The key file: key-encryption keys, blind-index key, pseudonym key, session secret.

The key file is a small JSON document, mode 0600, written only by :func:`init_key_file`,
:func:`rotate_key_file` and :func:`retire_kek` (never by the web app itself)::

    {
      "format": "screening-keys/1",
      "current_kek": "k-1a2b3c4d",
      "keks": [
        {"id": "k-1a2b3c4d", "key": "<base64, 32 bytes>", "kcv": "<12 hex chars>"}
      ],
      "blind_index_key": {"key": "<base64, 32 bytes>", "kcv": "<12 hex chars>"},
      "pseudonym_key":   {"key": "<base64, 32 bytes>", "kcv": "<12 hex chars>"},
      "session_secret":  {"key": "<base64, 32 bytes>", "kcv": "<12 hex chars>"}
    }

* ``format`` is exactly ``"screening-keys/1"``; any other value is refused.
* ``keks`` lists every key-encryption key (KEK) not yet retired, oldest first; ``current_kek``
  names the one used for new wraps. Ids match ``[A-Za-z0-9][A-Za-z0-9._-]{0,31}``; new ids are
  ``"k-"`` + 8 random hex digits.
* ``key`` is standard base64 (with padding) of exactly 32 bytes.
* ``kcv`` is the key-check value, :func:`key_check_value`: the first 6 bytes of
  HMAC-SHA256(key, b"screening key check value") as lowercase hex. It detects a damaged or
  hand-edited key without revealing the key.
* All keys are pairwise distinct; no field may be missing, duplicated or unknown.

Loading fails closed: any problem raises :class:`KeyFileError`, whose message is one line naming
the file and the problem and never contains key material or key-check values.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import errno
import fcntl
import hashlib
import hmac
import json
import os
import re
import secrets
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

__all__ = [
    "FORMAT",
    "KEY_LENGTH",
    "KeyFileError",
    "KeyRing",
    "init_key_file",
    "key_check_value",
    "load_key_file",
    "retire_kek",
    "rotate_key_file",
]

FORMAT = "screening-keys/1"
KEY_LENGTH = 32
_KCV_LABEL = b"screening key check value"
_KCV_BYTES = 6
_MAX_FILE_SIZE = 64 * 1024
_KEK_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")
_KCV_RE = re.compile(r"[0-9a-f]{12}")
_TOP_FIELDS = frozenset(
    {"format", "current_kek", "keks", "blind_index_key", "pseudonym_key", "session_secret"}
)
_SINGLE_KEYS = ("blind_index_key", "pseudonym_key", "session_secret")


class KeyFileError(Exception):
    """The key file is missing, unreadable, unsafe or invalid.

    ``str()`` is one line naming the file and the problem; it never contains key material.
    """

    def __init__(self, path: Path | str, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"key file {_show(str(path))}: {problem}")


def _errname(exc: OSError) -> str:
    return errno.errorcode.get(exc.errno or 0, "error")


def _show(text: str) -> str:
    """Make ``text`` printable on one line (escape newlines and other control characters)."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def key_check_value(key: bytes) -> str:
    """Key-check value of ``key``: 12 hex chars of HMAC-SHA256(key, fixed label)."""
    return hmac.new(key, _KCV_LABEL, hashlib.sha256).digest()[:_KCV_BYTES].hex()


@dataclass(frozen=True, repr=False)
class KeyRing:
    """All keys from one key file. ``repr`` never shows key bytes."""

    path: Path
    kek_id: str
    keks: Mapping[str, bytes]
    blind_index_key: bytes
    pseudonym_key: bytes
    session_secret: bytes

    def __post_init__(self) -> None:
        object.__setattr__(self, "keks", MappingProxyType(dict(self.keks)))
        if self.kek_id not in self.keks:
            raise ValueError("KeyRing: current KEK id is not among the KEKs")
        if any(not isinstance(k, bytes) or len(k) != KEY_LENGTH for k in self._all_keys()):
            raise ValueError(f"KeyRing: every key must be {KEY_LENGTH} bytes")

    def __hash__(self) -> int:  # ids only; equal rings have equal ids
        return hash((self.path, self.kek_id, tuple(self.keks)))

    def __repr__(self) -> str:
        ids = ", ".join(self.keks)
        return (
            f"KeyRing(path={str(self.path)!r}, kek_id={self.kek_id!r}, keks=[{ids}], keys=<hidden>)"
        )

    def _all_keys(self) -> list[bytes]:
        return [*self.keks.values(), self.blind_index_key, self.pseudonym_key, self.session_secret]

    @property
    def kek(self) -> bytes:
        """The current key-encryption key."""
        return self.keks[self.kek_id]


# --------------------------------------------------------------------------- reading


def _read_bytes(path: Path) -> bytes:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY)
    except FileNotFoundError:
        if os.path.lexists(path):
            raise KeyFileError(path, "is a dangling symbolic link") from None
        raise KeyFileError(path, "does not exist") from None
    except PermissionError:
        raise KeyFileError(path, "cannot be read (permission denied)") from None
    except OSError as exc:
        raise KeyFileError(path, f"cannot be opened ({_errname(exc)})") from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise KeyFileError(path, "is a directory, not a regular file")
        if not stat.S_ISREG(st.st_mode):
            raise KeyFileError(path, "is not a regular file")
        if st.st_mode & 0o077:
            raise KeyFileError(
                path,
                f"mode {stat.S_IMODE(st.st_mode):04o} is group- or world-accessible; "
                "must be 0600 (chmod 600)",
            )
        if st.st_size > _MAX_FILE_SIZE:
            raise KeyFileError(path, "is too large to be a key file")
        data = b""
        while chunk := os.read(fd, _MAX_FILE_SIZE + 1 - len(data)):
            data += chunk
            if len(data) > _MAX_FILE_SIZE:
                raise KeyFileError(path, "is too large to be a key file")
        return data
    except OSError as exc:
        raise KeyFileError(path, f"cannot be read ({_errname(exc)})") from None
    finally:
        os.close(fd)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, value in pairs:
        if name in result:
            raise ValueError("duplicate field")
        result[name] = value
    return result


def _decode_key(path: Path, where: str, entry: Any, extra: frozenset[str]) -> bytes:
    expected = frozenset({"key", "kcv"}) | extra
    if not isinstance(entry, dict):
        raise KeyFileError(path, f"{where} must be an object")
    missing = expected - entry.keys()
    if missing:
        raise KeyFileError(path, f"{where} lacks field(s) {', '.join(sorted(missing))}")
    if entry.keys() - expected:
        raise KeyFileError(path, f"{where} has unknown field(s)")
    text, kcv = entry["key"], entry["kcv"]
    if not isinstance(text, str) or not isinstance(kcv, str):
        raise KeyFileError(path, f"{where}: key and kcv must be strings")
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error, ValueError):
        raise KeyFileError(path, f"{where}: key is not valid base64") from None
    if base64.b64encode(raw).decode("ascii") != text:
        raise KeyFileError(path, f"{where}: key is not canonical base64")
    if len(raw) != KEY_LENGTH:
        raise KeyFileError(
            path, f"{where}: key has wrong length ({len(raw)} bytes, expected {KEY_LENGTH})"
        )
    if not _KCV_RE.fullmatch(kcv):
        raise KeyFileError(path, f"{where}: kcv must be 12 lowercase hex characters")
    if not hmac.compare_digest(key_check_value(raw), kcv):
        raise KeyFileError(path, f"{where}: key-check value mismatch (key damaged or wrong)")
    return raw


def _parse(path: Path, data: bytes) -> KeyRing:
    try:
        doc = json.loads(data.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except UnicodeDecodeError:
        raise KeyFileError(path, "is not UTF-8 text") from None
    except ValueError:
        raise KeyFileError(path, "is not valid JSON or has a duplicated field") from None
    if not isinstance(doc, dict):
        raise KeyFileError(path, "must contain a JSON object")
    missing = _TOP_FIELDS - doc.keys()
    if missing:
        raise KeyFileError(path, f"lacks field(s) {', '.join(sorted(missing))}")
    if doc.keys() - _TOP_FIELDS:
        raise KeyFileError(path, "has unknown field(s)")
    if doc["format"] != FORMAT:
        raise KeyFileError(path, f"unsupported format (expected {FORMAT!r})")
    current = doc["current_kek"]
    if not isinstance(current, str) or not _KEK_ID_RE.fullmatch(current):
        raise KeyFileError(path, "current_kek is not a valid key id")
    kek_list = doc["keks"]
    if not isinstance(kek_list, list) or not kek_list:
        raise KeyFileError(path, "keks must be a non-empty list")
    keks: dict[str, bytes] = {}
    for index, entry in enumerate(kek_list):
        where = f"keks[{index}]"
        if isinstance(entry, dict) and "id" in entry:
            kek_id = entry["id"]
            if not isinstance(kek_id, str) or not _KEK_ID_RE.fullmatch(kek_id):
                raise KeyFileError(path, f"{where}: id is not a valid key id")
            if kek_id in keks:
                raise KeyFileError(path, f"{where}: duplicate KEK id {kek_id}")
            where = f"keks[{index}] (id {kek_id})"
        else:
            kek_id = ""
        keks[kek_id] = _decode_key(path, where, entry, frozenset({"id"}))
    if current not in keks:
        raise KeyFileError(path, f"current_kek {current} is not among keks")
    singles = {name: _decode_key(path, name, doc[name], frozenset()) for name in _SINGLE_KEYS}
    named = [(f"KEK {k}", v) for k, v in keks.items()] + list(singles.items())
    for i, (name_a, key_a) in enumerate(named):
        for name_b, key_b in named[i + 1 :]:
            if hmac.compare_digest(key_a, key_b):
                raise KeyFileError(path, f"{name_a} and {name_b} are the same key")
    return KeyRing(
        path=path,
        kek_id=current,
        keks=keks,
        blind_index_key=singles["blind_index_key"],
        pseudonym_key=singles["pseudonym_key"],
        session_secret=singles["session_secret"],
    )


def load_key_file(path: Path) -> KeyRing:
    """Load and fully validate the key file; raise :class:`KeyFileError` on any problem."""
    path = Path(path)
    return _parse(path, _read_bytes(path))


# --------------------------------------------------------------------------- writing


def _entry(key: bytes) -> dict[str, str]:
    return {"key": base64.b64encode(key).decode("ascii"), "kcv": key_check_value(key)}


def _serialise(ring: KeyRing) -> bytes:
    doc = {
        "format": FORMAT,
        "current_kek": ring.kek_id,
        "keks": [{"id": kid, **_entry(key)} for kid, key in ring.keks.items()],
        "blind_index_key": _entry(ring.blind_index_key),
        "pseudonym_key": _entry(ring.pseudonym_key),
        "session_secret": _entry(ring.session_secret),
    }
    return (json.dumps(doc, indent=2) + "\n").encode("ascii")


def _new_key(existing: list[bytes]) -> bytes:
    while True:
        key = secrets.token_bytes(KEY_LENGTH)
        if all(not hmac.compare_digest(key, other) for other in existing):
            return key


def _new_kek_id(existing: Mapping[str, bytes]) -> str:
    while True:
        kek_id = "k-" + secrets.token_hex(4)
        if kek_id not in existing:
            return kek_id


@contextlib.contextmanager
def _locked_dir(path: Path) -> Iterator[int]:
    """Open the key file's folder and hold an exclusive lock on it (serialises our writers)."""
    parent = path.parent
    try:
        dir_fd = os.open(parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise KeyFileError(path, "folder does not exist") from None
    except NotADirectoryError:
        raise KeyFileError(path, "parent is not a folder") from None
    except OSError as exc:
        raise KeyFileError(path, f"folder cannot be opened ({_errname(exc)})") from None
    try:
        fcntl.flock(dir_fd, fcntl.LOCK_EX)
        yield dir_fd
    finally:
        os.close(dir_fd)  # closing releases the lock


def _write_temp(path: Path, data: bytes) -> Path:
    """Write ``data`` to a new 0600 temp file next to ``path``, fsynced; return its path."""
    tmp = path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp"
    try:
        flags = os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_CLOEXEC | os.O_NOFOLLOW
        fd = os.open(tmp, flags, 0o600)
    except OSError as exc:
        problem = f"cannot create a temporary file in its folder ({_errname(exc)})"
        raise KeyFileError(path, problem) from None
    try:
        try:
            os.fchmod(fd, 0o600)
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise KeyFileError(path, f"cannot write the key file ({_errname(exc)})") from None
    return tmp


def _install(path: Path, ring: KeyRing, dir_fd: int, *, replace: bool) -> None:
    tmp = _write_temp(path, _serialise(ring))
    try:
        if replace:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)  # atomic "create only if absent"
            except FileExistsError:
                raise KeyFileError(path, "already exists; refusing to overwrite") from None
            except OSError:  # no hard links on this filesystem; we hold the folder lock
                if os.path.lexists(path):
                    raise KeyFileError(path, "already exists; refusing to overwrite") from None
                os.replace(tmp, path)
        with contextlib.suppress(OSError):
            os.fsync(dir_fd)
    except OSError as exc:
        raise KeyFileError(path, f"cannot install the key file ({_errname(exc)})") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def init_key_file(path: Path) -> KeyRing:
    """Create a new key file with fresh random keys. Refuses to overwrite anything."""
    path = Path(path)
    if os.path.lexists(path):
        raise KeyFileError(path, "already exists; refusing to overwrite")
    with _locked_dir(path) as dir_fd:
        if os.path.lexists(path):
            raise KeyFileError(path, "already exists; refusing to overwrite")
        used: list[bytes] = []
        for _ in range(4):
            used.append(_new_key(used))
        kek_id = _new_kek_id({})
        ring = KeyRing(
            path=path,
            kek_id=kek_id,
            keks={kek_id: used[0]},
            blind_index_key=used[1],
            pseudonym_key=used[2],
            session_secret=used[3],
        )
        _install(path, ring, dir_fd, replace=False)
    return ring


def _target(path: Path) -> Path:
    """Rewrite the file a symbolic link points to, not the link itself."""
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def rotate_key_file(path: Path) -> KeyRing:
    """Add a new KEK with a new id and make it current; older KEKs are kept."""
    path = Path(path)
    target = _target(path)
    with _locked_dir(target) as dir_fd:
        old = _parse(path, _read_bytes(target))
        existing = old._all_keys()
        kek_id = _new_kek_id(old.keks)
        ring = replace(old, kek_id=kek_id, keks={**old.keks, kek_id: _new_key(existing)})
        _install(target, ring, dir_fd, replace=True)
    return ring


def retire_kek(path: Path, kek_id: str) -> KeyRing:
    """Remove a non-current KEK. The caller must first check that no row still uses it."""
    path = Path(path)
    target = _target(path)
    with _locked_dir(target) as dir_fd:
        old = _parse(path, _read_bytes(target))
        valid = isinstance(kek_id, str) and _KEK_ID_RE.fullmatch(kek_id)
        shown = kek_id if valid else "(invalid id)"
        if kek_id not in old.keks:
            raise KeyFileError(path, f"has no KEK with id {shown}")
        if kek_id == old.kek_id:
            raise KeyFileError(path, f"KEK {shown} is the current one and cannot be retired")
        ring = replace(old, keks={k: v for k, v in old.keks.items() if k != kek_id})
        _install(target, ring, dir_fd, replace=True)
    return ring
