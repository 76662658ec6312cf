"""Sealed fields: a property over a ``<name>_sealed`` LargeBinary column.

The value is sealed with AES-256-GCM under the owning patient's data key, with the table,
the column and the row's uuid bound as associated data, so a ciphertext copied to another
row, column or patient does not open. A row can only be read or written after a service
has attached the patient's data key to it (:func:`attach_key`); without it, access raises
:class:`Locked` rather than returning ciphertext.
"""

from __future__ import annotations

import json
from typing import Any

from ..crypto.fields import OpenError, open_sealed, seal

KEY_ATTRIBUTE = "_screening_data_key"


class Locked(RuntimeError):
    """A sealed field was used before the row's data key was attached."""


class Undecryptable(RuntimeError):
    """A sealed field does not open (tampered, moved, or its key was erased). The
    access-log row written before raising it is committed (see ``Database.write``)."""

    commit_anyway = True

    def __init__(self, table: str, column: str) -> None:
        super().__init__(f"{table}.{column} does not open")
        self.table = table
        self.column = column


def attach_key(row: Any, data_key: bytes) -> Any:
    row.__dict__[KEY_ATTRIBUTE] = data_key
    return row


def _key(row: Any) -> bytes:
    key = row.__dict__.get(KEY_ATTRIBUTE)
    if key is None:
        raise Locked(f"{row.__tablename__}: data key not attached")
    return key


class Sealed:
    """``name = Sealed()`` on a model reads and writes ``name_sealed`` as text."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.column = name
        self.attribute = f"{name}_sealed"

    def encode(self, value: Any) -> str:
        if not isinstance(value, str):
            raise TypeError(f"{self.column} must be text")
        return value

    def decode(self, text: str) -> Any:
        return text

    def __get__(self, row: Any, owner: type | None = None) -> Any:
        if row is None:
            return self
        blob = getattr(row, self.attribute)
        if blob is None:
            return None
        try:
            text = open_sealed(_key(row), blob, table=row.__tablename__, column=self.column,
                               row_uuid=row.uuid)
        except OpenError:
            raise Undecryptable(row.__tablename__, self.column) from None
        return self.decode(text)

    def __set__(self, row: Any, value: Any) -> None:
        if value is None:
            setattr(row, self.attribute, None)
            return
        if not row.uuid:
            raise Locked(f"{row.__tablename__}: uuid must be set before sealing")
        setattr(row, self.attribute, seal(_key(row), self.encode(value),
                                          table=row.__tablename__, column=self.column,
                                          row_uuid=row.uuid))


class SealedJSON(Sealed):
    """A sealed field holding a JSON document (answers, checklist records)."""

    def encode(self, value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))

    def decode(self, text: str) -> Any:
        return json.loads(text)
