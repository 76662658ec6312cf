"""Settings: frozen, typed, read from ``SCREENING_*`` environment variables and checked at start.

Every setting has a documented default except secrets, which live in the key file
(``SCREENING_KEY_FILE``), never in the environment. An invalid value raises
:class:`SettingsError` whose message is one line naming the variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

ENVIRONMENTS = ("development", "production", "test")
LOCALES = ("nb", "en")


class SettingsError(ValueError):
    """An environment variable holds a value the app cannot use."""


@dataclass(frozen=True)
class Settings:
    """Application settings. Field ``x`` is read from ``SCREENING_X``."""

    env: str = "development"
    instance_dir: Path = PROJECT_ROOT / "instance"
    # Empty means: a SQLite file ``screening.sqlite3`` in the instance folder.
    database_url: str = ""
    # Empty means: ``keys.json`` in the instance folder.
    key_file: Path | None = None
    instruments_dir: Path = PROJECT_ROOT / "instruments"
    rule_set: str = "sondre-land"
    default_locale: str = "nb"
    sqlite_busy_timeout_ms: int = 5000
    allow_sqlite_in_production: bool = False
    small_cell_k: int = 5
    session_idle_minutes: int = 30
    session_max_hours: int = 12
    # argon2id cost; the defaults follow RFC 9106's second recommended option.
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    log_level: str = "INFO"
    debug: bool = False
    db_pool_size: int = 5
    # Reverse proxies in front of the app that set X-Forwarded-For/-Proto (0: none, trust no
    # forwarded header; 1: one proxy such as nginx on the same host).
    trusted_proxies: int = 0
    extra: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        check = _check
        check(self.env in ENVIRONMENTS, "ENV", f"must be one of {', '.join(ENVIRONMENTS)}")
        check(self.default_locale in LOCALES, "DEFAULT_LOCALE", "must be nb or en")
        check(self.sqlite_busy_timeout_ms >= 0, "SQLITE_BUSY_TIMEOUT_MS", "must be >= 0")
        check(2 <= self.small_cell_k <= 100, "SMALL_CELL_K", "must be between 2 and 100")
        check(1 <= self.session_idle_minutes <= 24 * 60, "SESSION_IDLE_MINUTES",
              "must be between 1 and 1440")
        check(1 <= self.session_max_hours <= 24, "SESSION_MAX_HOURS", "must be between 1 and 24")
        check(self.argon2_time_cost >= 1, "ARGON2_TIME_COST", "must be >= 1")
        check(self.argon2_memory_kib >= 8, "ARGON2_MEMORY_KIB", "must be >= 8")
        check(self.log_level in ("DEBUG", "INFO", "WARNING", "ERROR"), "LOG_LEVEL",
              "must be DEBUG, INFO, WARNING or ERROR")
        check(1 <= self.db_pool_size <= 100, "DB_POOL_SIZE", "must be between 1 and 100")
        check(0 <= self.trusted_proxies <= 5, "TRUSTED_PROXIES", "must be between 0 and 5")
        url = self.resolved_database_url
        check(url.startswith(("sqlite:///", "postgresql+psycopg://", "postgresql://")),
              "DATABASE_URL", "must start with sqlite:/// or postgresql+psycopg://")
        if self.production:
            check(not self.debug, "DEBUG", "must be off in production")
            check(not self.is_sqlite or self.allow_sqlite_in_production, "DATABASE_URL",
                  "SQLite in production needs SCREENING_ALLOW_SQLITE_IN_PRODUCTION=1")

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def resolved_key_file(self) -> Path:
        return self.key_file if self.key_file is not None else self.instance_dir / "keys.json"

    @property
    def resolved_database_url(self) -> str:
        if not self.database_url:
            return f"sqlite:///{self.instance_dir / 'screening.sqlite3'}"
        if self.database_url.startswith("postgresql://"):
            return "postgresql+psycopg://" + self.database_url[len("postgresql://"):]
        return self.database_url

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite:")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read every ``SCREENING_*`` variable; unknown ones are an error (likely typos)."""
        environ = os.environ if environ is None else environ
        known = {f.name for f in fields(cls) if f.name != "extra"}
        values: dict[str, object] = {}
        for name, raw in environ.items():
            if not name.startswith("SCREENING_"):
                continue
            key = name[len("SCREENING_"):].lower()
            if key not in known:
                if key.startswith("test_"):
                    continue  # reserved for the test suite's own variables
                raise SettingsError(f"{name}: unknown setting")
            values[key] = _convert(cls, key, raw)
        return cls(**values)  # type: ignore[arg-type]


def _check(ok: bool, name: str, problem: str) -> None:
    if not ok:
        raise SettingsError(f"SCREENING_{name}: {problem}")


def _convert(cls: type[Settings], key: str, raw: str) -> object:
    name = f"SCREENING_{key.upper()}"
    default = {f.name: f.default for f in fields(cls)}[key]
    if isinstance(default, bool):
        lowered = raw.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off", ""):
            return False
        raise SettingsError(f"{name}: must be 1/0, true/false, yes/no or on/off")
    if isinstance(default, int):
        try:
            return int(raw.strip(), 10)
        except ValueError:
            raise SettingsError(f"{name}: must be a whole number") from None
    if isinstance(default, Path) or key == "key_file":
        if not raw.strip():
            raise SettingsError(f"{name}: must not be empty")
        return Path(raw).expanduser()
    return raw.strip()
