"""One SQLite writer at a time, queued by the kernel rather than by SQLite's busy handler.

SQLite lets one transaction write at a time. A second ``BEGIN IMMEDIATE`` does not wait in a
queue: its busy handler sleeps and retries, sleeping longer each time (1, 2, 5, 10, 15 …
milliseconds). With several gunicorn workers, a writer that finds the lock taken often
sleeps far longer than the transaction before it lasted, and the workers take turns badly.

The gate is an exclusive ``flock`` on a small file beside the database, taken before the
write transaction begins and released after it ends. Waiting writers block in the kernel
and the next one runs as soon as the lock is free. Within a process a re-entrant lock comes
first (``flock`` locks belong to an open file, shared by the threads of a process). The file
is opened again in a forked child, since an inherited descriptor would share the parent's
lock. A process that dies holding the lock loses it with its descriptors, so a crash never
leaves the gate shut. Readers never touch it.

All engines of a process on one database file share one gate (:func:`gate_for`): a write
begun inside another write of the same thread then meets SQLite's busy timeout, as it
always did, instead of waiting for itself on the file lock.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class WriteGate:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._depth = 0
        self._fd: int | None = None
        self._pid = 0

    def _descriptor(self) -> int:
        if self._fd is None or self._pid != os.getpid():
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._pid = os.getpid()
        return self._fd

    @contextmanager
    def held(self) -> Iterator[None]:
        with self._lock:
            if self._depth == 0:
                fcntl.flock(self._descriptor(), fcntl.LOCK_EX)
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0 and self._fd is not None:
                    fcntl.flock(self._fd, fcntl.LOCK_UN)


@contextmanager
def no_gate() -> Iterator[None]:
    yield


_gates: dict[str, WriteGate] = {}
_gates_lock = threading.Lock()


def gate_for(path: Path) -> WriteGate:
    """The process's one gate for ``path``."""
    key = str(path.resolve())
    with _gates_lock:
        gate = _gates.get(key)
        if gate is None:
            gate = _gates[key] = WriteGate(Path(key))
        return gate
