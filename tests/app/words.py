"""What a bokmål user can read on a page or in a downloaded file, and the words that must not
be there: English (every msgid of two or more words whose translation differs, the English
texts of the instrument files, and a short list of single words such as "ok", "denied",
"Screen", "Q1") and internal names (pathway ids such as ``substance_use_consultant``, field
ids such as ``feedback.given``, item ids such as ``q4``, rule codes such as W7 standing alone
without a sentence). Used by ``tests/app/test_words.py`` and the browser tests."""

from __future__ import annotations

import io
import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "screening" / "translations" / "nb" / "LC_MESSAGES" / "messages.po"
INSTRUMENTS = ROOT / "instruments"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]")
# Single English words no bokmål text has (whole words, any case).
ENGLISH_WORDS = ("ok", "denied", "error", "errors", "screen", "the", "of", "and", "with", "or",
                 "is", "are", "yes", "not", "found", "please", "submit", "cancel", "save",
                 "saved", "draft", "pending", "done", "open", "closed", "level", "zone", "page",
                 "report", "unit", "units", "print", "search", "login", "logout", "utc",
                 "true", "false", "none", "null", "nan", "undefined", "gp")
QUARTER_OR_ITEM = r"q\d{1,2}"
SNAKE_CASE = re.compile(r"(?<![\w.-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w-])")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr", "path", "rect", "circle", "line", "polyline"}
BLOCKS = {"li", "p", "td", "th", "dd", "dt", "h1", "h2", "h3", "h4", "h5", "h6", "legend",
          "label", "option", "button", "a", "caption", "figcaption", "title", "summary"}
SHOWN_ATTRIBUTES = ("aria-label", "title", "alt", "placeholder", "data-label",
                    "data-saved-text", "data-failed-text")


def _fragments(msgid: str) -> list[str]:
    """The parts of a msgid between its placeholders that have two words or more."""
    parts = [" ".join(p.split()) for p in PLACEHOLDER.split(msgid)]
    return [p.strip(" .,:;") for p in parts if len(p.strip(" .,:;").split()) >= 2]


def _english_texts(value: object, out: set[str]) -> None:
    """Every ``en`` text of a ``{nb = ..., en = ...}`` table in an instrument file."""
    if isinstance(value, dict):
        if isinstance(value.get("en"), str) and isinstance(value.get("nb"), str):
            if value["en"] != value["nb"]:
                out.add(value["en"])
        for inner in value.values():
            _english_texts(inner, out)
    elif isinstance(value, list):
        for inner in value:
            _english_texts(inner, out)


@cache
def english_phrases() -> tuple[str, ...]:
    with PO.open("rb") as handle:
        catalogue = read_po(handle, locale="nb")
    phrases: set[str] = set()
    for message in catalogue:
        if message.id and isinstance(message.id, str) and message.string != message.id:
            phrases.update(_fragments(message.id))
    texts: set[str] = set()
    for path in sorted(INSTRUMENTS.rglob("*.toml")):
        _english_texts(tomllib.loads(path.read_text("utf-8")), texts)
    for text in texts:
        phrases.update(_fragments(text))
    return tuple(sorted(phrases, key=len, reverse=True))


@cache
def _phrase_pattern() -> re.Pattern[str]:
    alternatives = "|".join(re.escape(p) for p in english_phrases())
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")


@cache
def _word_pattern() -> re.Pattern[str]:
    words = "|".join(ENGLISH_WORDS)
    return re.compile(rf"(?<![\w-])(?:{words})(?![\w-])|(?<!\w){QUARTER_OR_ITEM}(?![\w-])",
                      re.IGNORECASE)


@cache
def _field_ids() -> re.Pattern[str]:
    data = tomllib.loads((INSTRUMENTS / "brief_intervention.toml").read_text("utf-8"))
    ids = {f"{item['id']}.{f['id']}" for item in data["items"] for f in item["fields"]}
    return re.compile(rf"(?<![\w.])(?:{'|'.join(re.escape(i) for i in sorted(ids))})(?![\w])")


@cache
def rule_codes() -> tuple[str, ...]:
    codes: set[str] = set()
    for path in sorted((INSTRUMENTS / "rules").glob("*.toml")):
        data = tomllib.loads(path.read_text("utf-8"))
        for section in data.values():
            if isinstance(section, dict):
                codes.update(str(row["rule"]) for row in section.get("levels", []))
    return tuple(sorted(codes))


@cache
def _code_alone() -> re.Pattern[str]:
    codes = "|".join(re.escape(c) for c in rule_codes())
    return re.compile(rf"[\W_]*(?:(?:{codes})(?![\w])[\W_]*)+")


def problems_in(text: str) -> list[str]:
    """What is wrong in one piece of visible text: English phrases and words, internal
    names."""
    found = [f"English {m.group(0)!r}" for m in _phrase_pattern().finditer(text)]
    found += [f"English {m.group(0)!r}" for m in _word_pattern().finditer(text)]
    found += [f"internal name {m.group(0)!r}" for m in SNAKE_CASE.finditer(text)]
    found += [f"field id {m.group(0)!r}" for m in _field_ids().finditer(text)]
    return found


@dataclass
class _Open:
    tag: str
    skip: bool
    text: list[str] = field(default_factory=list)


class VisibleText(HTMLParser):
    """The text a person sees or hears on the page: text nodes (not of scripts, styles or
    parts marked as another language than bokmål, such as the "English" button) and the
    attributes shown or read out; and the text of each block, to find codes alone."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[_Open] = []
        self.texts: list[str] = []
        self.blocks: list[tuple[str, str]] = []
        self.lang = ""

    def _skipping(self) -> bool:
        return bool(self.stack) and self.stack[-1].skip

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "html":
            self.lang = values.get("lang", "")
            return
        lang = values.get("lang")
        skip = self._skipping() or tag in ("script", "style") or (
            lang is not None and not lang.startswith(("nb", "no")))
        if not skip:
            for name in SHOWN_ATTRIBUTES:
                if values.get(name):
                    self.texts.append(values[name])
            if tag == "input" and values.get("type") in ("submit", "button", "reset"):
                self.texts.append(values.get("value", ""))
        if tag not in VOID:
            self.stack.append(_Open(tag, skip))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID and self.stack and self.stack[-1].tag == tag:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, -1, -1):
            if self.stack[depth].tag == tag:
                closed = self.stack[depth:]
                del self.stack[depth:]
                for element in reversed(closed):
                    joined = " ".join(" ".join(element.text).split())
                    if element.tag in BLOCKS and not element.skip and joined:
                        self.blocks.append((element.tag, joined))
                    if self.stack:
                        self.stack[-1].text.append(joined)
                return

    def handle_data(self, data: str) -> None:
        if not data.strip() or self._skipping():
            return
        self.texts.append(" ".join(data.split()))
        if self.stack:
            self.stack[-1].text.append(data)


def visible(html: str) -> str:
    """The page's visible text in one string (pieces joined by " · ")."""
    parser = VisibleText()
    parser.feed(html)
    parser.close()
    return " · ".join(parser.texts)


def page_problems(html: str) -> list[str]:
    parser = VisibleText()
    parser.feed(html)
    parser.close()
    found = [] if parser.lang == "nb" else [f'<html lang="{parser.lang}">, not nb']
    whole = " · ".join(parser.texts)
    found += problems_in(whole)
    alone = _code_alone()
    found += [f"rule code alone in <{tag}>: {text!r}" for tag, text in parser.blocks
              if alone.fullmatch(text)]
    return found


def csv_problems(data: bytes) -> list[str]:
    import csv

    text = data.decode("utf-8-sig")
    cells = [cell for row in csv.reader(io.StringIO(text), delimiter=";") for cell in row]
    return problems_in(" · ".join(c for c in cells if c))


def xlsx_problems(data: bytes) -> list[str]:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data), read_only=True)
    cells: list[str] = []
    for sheet in book.worksheets:
        cells.append(sheet.title)
        for row in sheet.iter_rows(values_only=True):
            cells += [str(v) for v in row if isinstance(v, str) and v]
    return problems_in(" · ".join(cells))
