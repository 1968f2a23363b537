"""Configuration: defaults, kabar.toml, KABAR_* variables (which win), and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from kabar.config import ConfigError, RateRule, load_config, sqlalchemy_url


def test_defaults_run_out_of_the_box() -> None:
    config = load_config(env={})
    assert config.database.url == "sqlite:///./kabar-data/kabar.db"
    assert config.broker.url == "memory://"
    assert (config.server.host, config.server.port) == ("127.0.0.1", 8000)
    assert config.limits.message_max_bytes == 64 * 1024


def test_the_environment_wins_over_the_file(tmp_path: Path) -> None:
    file = tmp_path / "kabar.toml"
    file.write_text(
        '[server]\nport = 9000\nname = "from file"\n[rate_limits]\nlogin_per_address = "3/min"\n'
    )
    config = load_config(file, env={"KABAR_SERVER_PORT": "9100", "KABAR_RATE_LIMITS_ENABLED": "no"})
    assert config.server.port == 9100
    assert config.server.name == "from file"
    assert config.rate_limits.enabled is False
    assert config.rate_limits.login_per_address == RateRule(3, 60)


def test_sections_are_frozen() -> None:
    config = load_config(env={})
    with pytest.raises(AttributeError):
        config.server.port = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[server]\nprot = 1\n", "unknown setting"),
        ("[server]\nport = 'eighty'\n", "not a valid"),
        ("[rate_limits]\nlogin_per_address = 'often'\n", "is not like"),
        ("server = 3\n", "must be a table"),
        ("[server\n", "cannot read"),
    ],
)
def test_malformed_settings_are_reported_clearly(tmp_path: Path, text: str, message: str) -> None:
    file = tmp_path / "kabar.toml"
    file.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_config(file, env={})


def test_bad_environment_values_are_reported() -> None:
    with pytest.raises(ConfigError, match="KABAR_SERVER_PORT"):
        load_config(env={"KABAR_SERVER_PORT": "x"})


def test_rate_rules_parse_human_forms() -> None:
    assert RateRule.parse("10/min") == RateRule(10, 60)
    assert RateRule.parse("5/30s") == RateRule(5, 30)
    assert RateRule.parse("100 / h").per_second == pytest.approx(100 / 3600)
    with pytest.raises(ConfigError):
        RateRule.parse("lots")


def test_database_urls_map_to_async_drivers() -> None:
    assert sqlalchemy_url("sqlite:///x.db") == "sqlite+aiosqlite:///x.db"
    assert sqlalchemy_url("postgresql://u@h/db") == "postgresql+asyncpg://u@h/db"
    with pytest.raises(ConfigError):
        sqlalchemy_url("mysql://u@h/db")


def test_every_setting_is_documented() -> None:
    import dataclasses

    from kabar.config import Config

    documented = (Path(__file__).parents[1] / "docs" / "configuration.md").read_text()

    def names(obj: object, prefix: str) -> list[str]:
        found = []
        for f in dataclasses.fields(obj):  # type: ignore[arg-type]
            value = getattr(obj, f.name)
            if dataclasses.is_dataclass(value) and not isinstance(value, RateRule):
                found += names(value, f"{prefix}_{f.name}")
            else:
                found.append(f"{prefix}_{f.name}".upper())
        return found

    missing = [n for n in names(Config(), "KABAR") if f"`{n}`" not in documented]
    assert missing == []
