"""Every user-visible text has a bokmål translation: the messages extracted from the code
and templates (as `pybabel extract` does) all have a non-empty msgstr in nb/messages.po."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
PO = ROOT / "screening" / "translations" / "nb" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}


def _extracted() -> set[str]:
    method_map = [("screening/**.py", "python"), ("templates/**.html", "jinja2")]
    found: set[str] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map=method_map, keywords=KEYWORDS):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_message_has_a_bokmal_translation() -> None:
    with PO.open("rb") as handle:
        catalogue = read_po(handle, locale="nb")
    translated = {m.id: m.string for m in catalogue if m.id}
    extracted = _extracted()
    assert len(extracted) > 100
    missing = sorted(m for m in extracted if not translated.get(m))
    assert missing == [], f"{len(missing)} message(s) without a bokmål translation: {missing[:10]}"


def test_placeholders_survive_translation() -> None:
    import re

    with PO.open("rb") as handle:
        catalogue = read_po(handle, locale="nb")
    for message in catalogue:
        if message.id and message.string:
            wanted = sorted(re.findall(r"%\(\w+\)[sd]", str(message.id)))
            assert sorted(re.findall(r"%\(\w+\)[sd]", str(message.string))) == wanted, message.id
