"""Import rules: the scoring core is framework-free; only screening/crypto imports
cryptography; nothing imports screening.web. Checked on the source (AST), so a new module
is covered without being listed."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "screening"
CORE_BANNED = {"flask", "flask_wtf", "flask_babel", "werkzeug", "jinja2", "sqlalchemy",
               "alembic", "wtforms", "cryptography"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _modules(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py"))


@pytest.mark.parametrize("path", _modules(PACKAGE / "core"), ids=lambda p: p.name)
def test_core_is_framework_free(path: Path) -> None:
    banned = {name for name in _imports(path) if name.split(".")[0] in CORE_BANNED}
    assert not banned, f"{path.name} imports {banned}"


def test_core_modules_exist() -> None:
    assert len(_modules(PACKAGE / "core")) >= 5


@pytest.mark.parametrize("path", [p for p in _modules(PACKAGE) if "crypto" not in p.parts],
                         ids=lambda p: str(p.relative_to(PACKAGE)))
def test_only_crypto_imports_cryptography(path: Path) -> None:
    assert not {n for n in _imports(path) if n.split(".")[0] == "cryptography"}


# factory.py is the composition root: it registers the blueprints and error handlers.
@pytest.mark.parametrize("path", [p for p in _modules(PACKAGE)
                                  if "web" not in p.parts and p.name != "factory.py"],
                         ids=lambda p: str(p.relative_to(PACKAGE)))
def test_nothing_imports_web(path: Path) -> None:
    tree = ast.parse(path.read_text("utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            assert not (node.level > 0 and node.module.split(".")[0] == "web"), path
            assert not node.module.startswith("screening.web"), path


def test_banned_api_lint_is_configured() -> None:
    """The same rule as a linter finding, so that ruff fails CI too."""
    import subprocess
    import sys

    probe = PACKAGE / "core" / "_lint_probe_tmp.py"
    probe.write_text("import flask\n", "utf-8")
    try:
        result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache",
                                 "--select", "TID251", str(probe)],
                                capture_output=True, text=True)
    finally:
        probe.unlink()
    assert result.returncode != 0 and "TID251" in result.stdout
