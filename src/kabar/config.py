"""Configuration: ``kabar.toml`` plus ``KABAR_*`` environment variables, parsed once.

Every setting lives in a frozen dataclass section. The file is optional; the
defaults run out of the box (SQLite under ``./kabar-data/``, the in-process
broker, 127.0.0.1:8000). An environment variable named
``KABAR_<SECTION>_<FIELD>`` (upper case) overrides the file, e.g.
``KABAR_DATABASE_URL=postgresql://postgres@127.0.0.1/kabar``. Nothing below
this module reads the environment: the parsed :class:`Config` is passed down.
See ``docs/configuration.md``.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kabar.errors import InvalidRequest

_PERIODS = {"s": 1.0, "sec": 1.0, "min": 60.0, "m": 60.0, "h": 3600.0, "hour": 3600.0, "d": 86400.0}


@dataclass(frozen=True, slots=True)
class RateRule:
    """A token bucket: at most ``count`` events per ``period_s`` seconds (burst = count)."""

    count: float
    period_s: float

    @classmethod
    def parse(cls, text: str) -> RateRule:
        match = re.fullmatch(r"\s*([0-9.]+)\s*/\s*([0-9.]*)\s*([a-z]+)\s*", text)
        if not match or match.group(3) not in _PERIODS:
            raise ConfigError(f"rate {text!r} is not like '10/min' or '5/30s'")
        count = float(match.group(1))
        multiple = float(match.group(2) or 1)
        return cls(count=count, period_s=multiple * _PERIODS[match.group(3)])

    @property
    def per_second(self) -> float:
        return self.count / self.period_s

    def __str__(self) -> str:
        return f"{self.count:g}/{self.period_s:g}s"


@dataclass(frozen=True, slots=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = "http://127.0.0.1:8000"
    name: str = "kabar"
    description: str = "A kabar community: private chats and public voices."
    log_level: str = "info"
    log_json: bool = True
    # Trust X-Forwarded-For from these proxies when computing the client address.
    trusted_proxies: tuple[str, ...] = ("127.0.0.1",)
    # Answer the send and sync routes in kabar.http.hot, not through FastAPI (same API,
    # a fraction of the CPU). Off only to compare the two paths.
    hot_routes: bool = True


@dataclass(frozen=True, slots=True)
class DatabaseConfig:
    url: str = "sqlite:///./kabar-data/kabar.db"
    pool_size: int = 10
    # FULL: a commit survives power loss; NORMAL: it survives a process crash only.
    sqlite_synchronous: str = "FULL"


@dataclass(frozen=True, slots=True)
class BrokerConfig:
    url: str = "memory://"
    key_prefix: str = "kabar"


@dataclass(frozen=True, slots=True)
class MediaConfig:
    directory: str = "./kabar-data/media"
    blob_max_bytes: int = 100 * 1024 * 1024
    quota_bytes_per_account: int = 1024 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class SecurityConfig:
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    argon2_parallelism: int = 2
    min_password_length: int = 8
    # How long an authenticated token stays cached; revocation also evicts at once.
    auth_cache_seconds: float = 10.0


@dataclass(frozen=True, slots=True)
class LimitsConfig:
    message_max_bytes: int = 64 * 1024
    request_max_bytes: int = 2 * 1024 * 1024
    group_max_members: int = 1000
    to_device_max_messages: int = 2000
    to_device_max_bytes: int = 64 * 1024
    # Undelivered to-device messages one device may hold; more are refused until it syncs.
    to_device_queue_max: int = 10_000
    one_time_keys_max: int = 200
    history_page_max: int = 200
    sync_page_max: int = 500
    # Public accounts: uploaded images (bytes before cleaning), comments, list pages.
    image_max_bytes: int = 15 * 1024 * 1024
    comment_max_chars: int = 4000
    public_page_max: int = 100


@dataclass(frozen=True, slots=True)
class RateLimitsConfig:
    enabled: bool = True
    register_per_address: RateRule = RateRule(10, 3600)
    login_per_address: RateRule = RateRule(30, 60)
    login_per_account: RateRule = RateRule(10, 60)
    send_per_account: RateRule = RateRule(200, 1)
    send_per_address: RateRule = RateRule(1000, 1)
    claim_per_account: RateRule = RateRule(100, 10)
    claim_per_address: RateRule = RateRule(500, 10)
    report_per_account: RateRule = RateRule(30, 3600)
    # Saving or publishing an article renders up to 1 MiB of Markdown: keep it bounded.
    publish_per_account: RateRule = RateRule(60, 3600)
    comment_per_account: RateRule = RateRule(20, 60)
    preview_per_account: RateRule = RateRule(120, 60)
    upload_per_account: RateRule = RateRule(60, 3600)


@dataclass(frozen=True, slots=True)
class StreamConfig:
    writer_max_batch: int = 512
    writer_queue_max: int = 20_000
    ws_buffer_frames: int = 2000
    heartbeat_seconds: float = 15.0
    long_poll_max_ms: int = 60_000
    # A send waits at most this long for its commit before answering 503.
    commit_timeout_seconds: float = 10.0


@dataclass(frozen=True, slots=True)
class TransparencyConfig:
    # The log's Ed25519 signing key (PKCS#8 PEM or raw base64), generated on first use.
    # Back it up: a lost key orphans every tree head signed with it.
    key_file: str = "./kabar-data/transparency-log.key"
    # Log entries per page of GET /transparency/log.
    page_max: int = 1000


@dataclass(frozen=True, slots=True)
class HashMatchingConfig:
    # Check public uploads against the imported hash lists (E2E blobs never are).
    enabled: bool = True
    # Largest PDQ Hamming distance (of 256 bits) that counts as a match.
    pdq_threshold: int = 31


@dataclass(frozen=True, slots=True)
class ModerationConfig:
    # A policy TOML file replacing the shipped default entirely (docs/moderation.md § 1).
    policy_file: str = ""
    # The policy item under which hash-list matches open cases and automatic removals act.
    hash_match_policy_item: str = "other"


@dataclass(frozen=True, slots=True)
class Config:
    server: ServerConfig = field(default_factory=ServerConfig)
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    broker: BrokerConfig = field(default_factory=BrokerConfig)
    media: MediaConfig = field(default_factory=MediaConfig)
    security: SecurityConfig = field(default_factory=SecurityConfig)
    limits: LimitsConfig = field(default_factory=LimitsConfig)
    rate_limits: RateLimitsConfig = field(default_factory=RateLimitsConfig)
    stream: StreamConfig = field(default_factory=StreamConfig)
    transparency: TransparencyConfig = field(default_factory=TransparencyConfig)
    hash_matching: HashMatchingConfig = field(default_factory=HashMatchingConfig)
    moderation: ModerationConfig = field(default_factory=ModerationConfig)


class ConfigError(InvalidRequest):
    """A setting in kabar.toml or the environment is malformed."""


def load_config(
    path: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Config:
    """Read ``path`` (or ``$KABAR_CONFIG``, or ``./kabar.toml`` if present) and the environment.

    Precedence, lowest first: defaults, the file, ``overrides`` (for tests and
    the CLI), the environment.
    """
    env = os.environ if env is None else env
    raw: dict[str, Any] = {}
    file = Path(path) if path else Path(env["KABAR_CONFIG"]) if env.get("KABAR_CONFIG") else None
    if file is None and Path("kabar.toml").is_file():
        file = Path("kabar.toml")
    if file is not None:
        try:
            raw = tomllib.loads(file.read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read {file}: {exc}") from exc
    for section, values in (overrides or {}).items():
        if isinstance(values, Mapping):
            raw.setdefault(section, {}).update(values)
        else:
            raw[section] = values
    config: Config = _build(Config, raw, env, prefix="KABAR")
    return config


def _build(cls: type[Any], raw: Mapping[str, Any], env: Mapping[str, str], prefix: str) -> Any:
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = set(raw) - known
    if unknown:
        raise ConfigError(f"unknown setting(s) in [{prefix.lower()}]: {', '.join(sorted(unknown))}")
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        env_name = f"{prefix}_{f.name}".upper()
        if dataclasses.is_dataclass(hint) and hint is not RateRule:
            section = raw.get(f.name, {})
            if not isinstance(section, Mapping):
                raise ConfigError(f"[{f.name}] must be a table")
            kwargs[f.name] = _build(hint, section, env, env_name)  # type: ignore[arg-type]
        elif env_name in env:
            kwargs[f.name] = _coerce(hint, env[env_name], env_name)
        elif f.name in raw:
            kwargs[f.name] = _coerce(hint, raw[f.name], f.name)
    return cls(**kwargs)


def _coerce(hint: Any, value: Any, name: str) -> Any:
    try:
        if hint is bool:
            if isinstance(value, bool):
                return value
            if str(value).lower() in {"1", "true", "yes", "on"}:
                return True
            if str(value).lower() in {"0", "false", "no", "off"}:
                return False
            raise ValueError(value)
        if hint is int:
            return int(value)
        if hint is float:
            return float(value)
        if hint is str:
            return str(value)
        if hint is RateRule:
            return value if isinstance(value, RateRule) else RateRule.parse(str(value))
        if typing.get_origin(hint) is tuple or isinstance(hint, types.GenericAlias):
            items = value.split(",") if isinstance(value, str) else list(value)
            return tuple(str(item).strip() for item in items if str(item).strip())
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"setting {name}: {value!r} is not a valid {hint}") from exc
    raise ConfigError(f"setting {name} has an unsupported type {hint}")


def sqlalchemy_url(url: str) -> str:
    """Map a user-facing database URL to the async SQLAlchemy driver URL."""
    if url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        return url
    if url.startswith("sqlite://"):
        return "sqlite+aiosqlite://" + url[len("sqlite://") :]
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    raise ConfigError(f"database url {url!r} must start with sqlite:// or postgresql://")
