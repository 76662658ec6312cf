"""``python -m screening <command> ...``: command-line entry points that need no web app.

Dispatches on the first argument; each command is a ``main(argv) -> int`` imported lazily, so
``score`` runs on the clinical core alone (Flask is never imported).  Add a command by adding
an entry to COMMANDS.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

# command -> (module, one-line description)
COMMANDS: dict[str, tuple[str, str]] = {
    "score": ("screening.core.cli", "score one questionnaire and print the result as JSON"),
}


def usage() -> str:
    lines = ["usage: python -m screening <command> [arguments]", "", "commands:"]
    lines += [f"  {name:<10} {description}" for name, (_, description) in sorted(COMMANDS.items())]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments and arguments[0] in ("-h", "--help"):
        sys.stdout.write(usage())
        return 0
    if not arguments or arguments[0] not in COMMANDS:
        if arguments:
            sys.stderr.write(f"python -m screening: unknown command {arguments[0]!r}\n")
        sys.stderr.write(usage())
        return 2
    module = importlib.import_module(COMMANDS[arguments[0]][0])
    status: int = module.main(arguments[1:])
    return status


if __name__ == "__main__":
    sys.exit(main())
