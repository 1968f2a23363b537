"""Where the CLI keeps its state: the per-user config directory, the profile, the passphrase.

``$KABAR_HOME`` (else ``$XDG_CONFIG_HOME/kabar``, else ``~/.config/kabar``)
holds ``config.json`` — the server URL (remembered across logins), the
signed-in username, device id and the path of the device's store — and
``devices/``, the encrypted device stores. Nothing secret is in
``config.json``: the access token lives inside the encrypted store.

The store's passphrase comes from ``$KABAR_PASSPHRASE`` (scripts, tests) or a
prompt. ``$KABAR_STORE_KDF`` (``time_cost,memory_kib,parallelism``) lowers the
argon2 cost of *new* stores for tests and very slow machines.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

import typer

from kabar.client.vault import KdfParams

DEFAULT_SERVER = "http://127.0.0.1:8000"


class CliError(Exception):
    """A user mistake or missing setup, explained in one line."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = code


def home(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    if env.get("KABAR_HOME"):
        return Path(env["KABAR_HOME"]).expanduser()
    base = env.get("XDG_CONFIG_HOME") or str(Path("~/.config").expanduser())
    return Path(base) / "kabar"


@dataclass(frozen=True, slots=True)
class Profile:
    server: str
    username: str | None = None
    device_id: str | None = None
    store: str | None = None

    @property
    def signed_in(self) -> bool:
        return bool(self.username and self.store)

    @classmethod
    def load(cls) -> Profile:
        path = home() / "config.json"
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            return cls(server=os.environ.get("KABAR_SERVER", DEFAULT_SERVER))
        except (OSError, ValueError) as exc:
            raise CliError(f"cannot read {path}: {exc}") from None
        return cls(**{k: data.get(k) for k in ("server", "username", "device_id", "store")})

    def save(self) -> None:
        directory = home()
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = directory / "config.json"
        temp = path.with_suffix(".tmp")
        temp.write_text(json.dumps(asdict(self), indent=2) + "\n")
        os.replace(temp, path)

    def require_signed_in(self) -> tuple[str, Path]:
        if not self.signed_in or self.username is None or self.store is None:
            raise CliError("not logged in: run `kabar login` (or `kabar register`) first", 2)
        return self.username, Path(self.store)


def devices_directory() -> Path:
    return home() / "devices"


def passphrase(*, new: bool = False) -> str:
    """The local store's passphrase: ``$KABAR_PASSPHRASE`` or a prompt (twice when new)."""
    given = os.environ.get("KABAR_PASSPHRASE")
    if given:
        return given
    prompt = "Choose a passphrase for this device's store" if new else "Passphrase"
    value: str = typer.prompt(prompt, hide_input=True, confirmation_prompt=new)
    if not value:
        raise CliError("the passphrase cannot be empty")
    return value


def secret(env_name: str, prompt: str) -> str:
    """A password-like value from the environment or a hidden prompt."""
    given = os.environ.get(env_name)
    if given:
        return given
    value: str = typer.prompt(prompt, hide_input=True)
    return value


def kdf_params() -> KdfParams | None:
    text = os.environ.get("KABAR_STORE_KDF")
    if not text:
        return None
    try:
        time_cost, memory_kib, parallelism = (int(p) for p in text.split(","))
    except ValueError:
        raise CliError("KABAR_STORE_KDF is time_cost,memory_kib,parallelism") from None
    return KdfParams(time_cost, memory_kib, parallelism)
