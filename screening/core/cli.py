"""``python -m screening score``: the scoring core on the command line (no database, no keys).

    python -m screening score audit --answers 2,1,1,1,0,0,1,1,0,0 --sex female --age 72 \\
        --setting home_care [--medication sedatives,fall] [--rule-set sondre-land] [--lang nb]
    python -m screening score audit_c --answers 1,1,1 --sex female --age 70

Answers are option indices in item order, ``-`` for an item not asked.  Without
``--setting``, pathway rows that depend on the setting (home care or GP practice) do not
apply; everything else is scored as usual.  Prints one JSON object
on stdout.  Invalid input: exit status 2 and one line on stderr naming the item and the
problem, nothing on stdout.  Invalid instrument files: exit status 1, one line on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import NoReturn, TextIO

from .catalogue import Catalogue, load_catalogue
from .engine import evaluate
from .errors import AnswerError, InstrumentFileError, InvalidAnswer, UnknownId
from .facts import MAX_AGE, MIN_AGE, SETTINGS, SEXES, PatientFacts
from .instruments import Instrument
from .texts import DEFAULT_LANGUAGE, LANGUAGES, shown

PROG = "python -m screening score"
NOT_ASKED = "-"
VALUE_OPTIONS = ("--answers", "--sex", "--age", "--setting", "--medication", "--rule-set", "--lang")
EXIT_OK, EXIT_BROKEN_FILES, EXIT_INVALID = 0, 1, 2


class _Stop(Exception):
    """Ends parsing: `status` to return, `line` (if any) for stderr."""

    def __init__(self, status: int, line: str | None = None) -> None:
        super().__init__(line)
        self.status = status
        self.line = line


class _Parser(argparse.ArgumentParser):
    """argparse that never exits the process and reports an error as one line."""

    def __init__(self, out: TextIO, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._out = out

    def error(self, message: str) -> NoReturn:
        raise _Stop(EXIT_INVALID, f"{PROG}: error: {message}")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        raise _Stop(status, message.strip() if message else None)

    def print_help(self, file: object = None) -> None:
        self._out.write(self.format_help())


def _one_line(text: str) -> str:
    return "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text
    )


def _parser(out: TextIO) -> _Parser:
    parser = _Parser(
        out,
        prog=PROG,
        description="Score one questionnaire with the clinical core and print the result as JSON.",
        allow_abbrev=False,
    )
    parser.add_argument("instrument", help="instrument id, e.g. audit or dudit")
    parser.add_argument(
        "--answers", required=True, help="option indices in item order, '-' for an item not asked"
    )
    parser.add_argument("--sex", required=True, choices=SEXES)
    parser.add_argument("--age", required=True, help="age in whole years")
    parser.add_argument("--setting", default=None, choices=SETTINGS,
                        help="where the screening takes place (pathways may depend on it)")
    parser.add_argument(
        "--medication", default="", help="medication-and-falls items answered yes, comma-separated"
    )
    parser.add_argument("--rule-set", default=None, help="rule set id (default: the catalogue's)")
    parser.add_argument("--lang", default=DEFAULT_LANGUAGE, choices=LANGUAGES)
    return parser


def _joined(argv: Sequence[str]) -> list[str]:
    """Join ``--answers -,1,...`` into ``--answers=-,1,...`` so argparse keeps the value."""
    result: list[str] = []
    i = 0
    while i < len(argv):
        token = argv[i]
        following = argv[i + 1] if i + 1 < len(argv) else None
        if (
            token in VALUE_OPTIONS
            and following is not None
            and following.startswith("-")
            and (following.split("=", 1)[0] not in VALUE_OPTIONS + ("-h", "--help"))
        ):
            result.append(f"{token}={following}")
            i += 2
        else:
            result.append(token)
            i += 1
    return result


def _index(token: str) -> bool:
    return token.isascii() and token.isdigit()


def parse_answers(instrument: Instrument, text: str) -> dict[str, int | None]:
    """``2,1,-,...`` -> {item id: index or None}; raise InvalidAnswer naming the item."""
    tokens = text.split(",")
    ids = instrument.item_ids
    if len(tokens) != len(ids):
        raise InvalidAnswer(
            "wrong_count",
            None,
            expected=str(len(ids)),
            first=ids[0],
            last=ids[-1],
            count=str(len(tokens)),
        )
    answers: dict[str, int | None] = {}
    for item, token in zip(instrument.items, tokens, strict=True):
        if token == NOT_ASKED:
            answers[item.id] = None
        elif _index(token):
            answers[item.id] = int(token)
        else:
            high = str(len(item.options) - 1)
            raise InvalidAnswer("not_integer", item.id, value=shown(token), low="0", high=high)
    return answers


def _age(text: str) -> int:
    if _index(text) and len(text) <= 3:
        return int(text)
    raise InvalidAnswer("bad_age", "age", value=shown(text), low=str(MIN_AGE), high=str(MAX_AGE))


def _run(args: argparse.Namespace, catalogue: Catalogue | None, out: TextIO) -> None:
    lang: str = args.lang
    try:
        if catalogue is None:
            catalogue = load_catalogue()
    except InstrumentFileError as error:
        count = len(error.errors)
        raise _Stop(
            EXIT_BROKEN_FILES,
            f"{PROG}: {count} problem(s) in instrument files; first: {error.errors[0]}",
        ) from None
    try:
        instrument = catalogue.instrument(args.instrument)
        answers = parse_answers(instrument, args.answers)
        medication = frozenset(args.medication.split(",")) if args.medication else frozenset()
        facts = PatientFacts(args.sex, _age(args.age), args.setting, medication)
        evaluation = evaluate(catalogue, instrument.id, answers, facts, args.rule_set)
    except AnswerError as error:
        raise _Stop(EXIT_INVALID, f"{PROG}: error: {error.message(lang)}") from None
    except UnknownId as error:
        raise _Stop(EXIT_INVALID, f"{PROG}: error: {error}") from None
    out.write(json.dumps(evaluation.to_dict(lang), ensure_ascii=False) + "\n")


def main(
    argv: Sequence[str] | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    catalogue: Catalogue | None = None,
) -> int:
    """Run the scorer; return the exit status (0, 1 broken files, 2 invalid input)."""
    out = sys.stdout if stdout is None else stdout
    err = sys.stderr if stderr is None else stderr
    arguments = list(sys.argv[1:] if argv is None else argv)
    try:
        args = _parser(out).parse_args(_joined(arguments))
        _run(args, catalogue, out)
    except _Stop as stop:
        if stop.line:
            err.write(_one_line(stop.line) + "\n")
        return stop.status
    return EXIT_OK
