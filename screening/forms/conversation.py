"""Reading the conversation checklist (built from instruments/brief_intervention.toml) from
a posted form, and the inverse for pre-filling. Field names are ``<item>.<field>``.

Values are converted only where the conversion is unambiguous (checkbox -> True, plain
digits -> int); anything else is passed on as text so that the core's check rejects it with
a message naming the field."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..core.conversation import Conversation
from ..core.pathways import PATHWAYS

DIGITS = re.compile(r"-?[0-9]{1,4}\Z")


def read_record(checklist: Conversation, form: Any) -> dict[str, dict[str, Any]]:
    record: dict[str, dict[str, Any]] = {}
    for item in checklist.items:
        values: dict[str, Any] = {}
        for field in item.fields:
            name = f"{item.id}.{field.id}"
            if field.type == "boolean":
                if form.get(name) in ("on", "1", "yes", "true"):
                    values[field.id] = True
            elif field.type == "multi_choice":
                chosen = [v for v in form.getlist(name) if v]
                if chosen:
                    values[field.id] = chosen
            elif field.type == "referrals":
                referrals = []
                for pathway in PATHWAYS:
                    if form.get(f"{name}.{pathway}") in ("on", "1"):
                        consent = form.get(f"{name}.{pathway}.consent") in ("on", "1")
                        referrals.append({"pathway": pathway, "consent": consent})
                if referrals:
                    values[field.id] = referrals
            else:
                raw = (form.get(name) or "").strip()
                if not raw:
                    continue
                if field.type in ("integer", "level") and DIGITS.match(raw):
                    values[field.id] = int(raw)
                else:
                    values[field.id] = raw
        if values:
            record[item.id] = values
    return record


def field_values(record: Mapping[str, Any] | None) -> dict[str, Any]:
    """Flatten a stored record to ``{"item.field": value}`` for the template."""
    flat: dict[str, Any] = {}
    for item_id, values in (record or {}).items():
        if isinstance(values, Mapping):
            for field_id, value in values.items():
                flat[f"{item_id}.{field_id}"] = value
    return flat
