"""The command line as an operator uses it: real ``flask --app wsgi`` processes."""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]


def run(
    args: list[str], env: dict[str, str], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SCREENING_")}
    clean.update(env)
    return subprocess.run(
        FLASK + args, cwd=ROOT, env=clean, capture_output=True, text=True, input=stdin, timeout=120
    )


def test_keys_init_check_and_refuse_overwrite(tmp_path: Path) -> None:
    env = {"SCREENING_INSTANCE_DIR": str(tmp_path)}
    created = run(["keys", "init"], env)
    assert created.returncode == 0, created.stderr
    key_file = tmp_path / "keys.json"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert run(["keys", "check"], env).returncode == 0
    again = run(["keys", "init"], env)
    assert again.returncode != 0 and "Traceback" not in again.stderr
    assert run(["keys", "init", "--if-missing"], env).returncode == 0
    key_file.chmod(0o644)
    bad = run(["keys", "check"], env)
    assert bad.returncode != 0 and str(key_file) in bad.stderr and "Traceback" not in bad.stderr
    # no key bytes printed anywhere
    key_file.chmod(0o600)
    data = json.loads(key_file.read_text())
    everything = created.stdout + created.stderr + bad.stdout + bad.stderr
    for entry in [
        data["blind_index_key"],
        data["pseudonym_key"],
        data["session_secret"],
        *data["keks"],
    ]:
        assert entry["key"] not in everything
        assert base64.b64decode(entry["key"]).hex() not in everything


def test_fresh_install_sequence(tmp_path: Path, database_url: str) -> None:
    """What ``make run`` does, step by step, twice: the second run keeps everything."""
    env = {
        "SCREENING_INSTANCE_DIR": str(tmp_path),
        "SCREENING_DATABASE_URL": database_url,
        "SCREENING_ARGON2_TIME_COST": "1",
        "SCREENING_ARGON2_MEMORY_KIB": "8",
    }
    for _ in range(2):
        for step in (["keys", "init", "--if-missing"], ["db", "upgrade"], ["demo", "setup"]):
            result = run(step, env)
            assert result.returncode == 0, (step, result.stderr)
    assert "sykepleier" in result.stdout and "Demo-" in result.stdout
    code = run(["demo", "code", "sykepleier"], env)
    assert code.returncode == 0 and len(code.stdout.strip()) == 6
    assert run(["demo", "code", "nobody"], env).returncode != 0


def test_staff_commands(tmp_path: Path, database_url: str) -> None:
    env = {
        "SCREENING_INSTANCE_DIR": str(tmp_path),
        "SCREENING_DATABASE_URL": database_url,
        "SCREENING_ARGON2_TIME_COST": "1",
        "SCREENING_ARGON2_MEMORY_KIB": "8",
    }
    assert run(["keys", "init"], env).returncode == 0
    assert run(["demo", "setup"], env).returncode == 0
    base = [
        "staff",
        "create",
        "--username",
        "kari",
        "--name",
        "Kari Testesen",
        "--role",
        "nurse",
        "--unit",
        "hjemmetjeneste-nord",
        "--password-stdin",
    ]
    short = run(base, env, stdin="short\n")
    assert short.returncode != 0 and "12 characters" in short.stderr
    common = run(base, env, stdin="password123456\n")
    assert common.returncode != 0 and "too common" in common.stderr
    ok = run(base, env, stdin="Lang-og-sjelden-frase-7\n")
    assert ok.returncode == 0, ok.stderr
    dup = run(base, env, stdin="Lang-og-sjelden-frase-7\n")
    assert dup.returncode != 0 and "already taken" in dup.stderr
    bad_unit = run(
        [
            "staff",
            "create",
            "--username",
            "ola",
            "--name",
            "Ola",
            "--role",
            "gp",
            "--unit",
            "nowhere",
            "--password-stdin",
        ],
        env,
        stdin="Lang-og-sjelden-frase-7\n",
    )
    assert bad_unit.returncode != 0 and "unit" in bad_unit.stderr
    assert run(["staff", "reset-2fa", "kari"], env).returncode == 0
    assert run(["staff", "disable", "kari"], env).returncode == 0
    missing = run(["staff", "disable", "nobody"], env)
    assert missing.returncode != 0 and "Traceback" not in missing.stderr


def test_check_instruments_reports_every_file(tmp_path: Path) -> None:
    result = run(["check-instruments"], {"SCREENING_INSTANCE_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "audit" in result.stdout and "valid" in result.stdout
