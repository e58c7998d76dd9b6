"""Settings of ``trustpub sandbox serve``: defaults, the TOML file, the options.

The TOML file holds the same settings as the command line, under their option
names with ``_`` for ``-``, plus ``[[publishers]]`` tables::

    audience = "trustpub-sandbox"
    token_lifetime = 900
    disallow_oidc = ["gitlab"]

    [[publishers]]
    provider = "github"
    repository = "octo/pkg"
    workflow = "release.yml"
    projects = ["pkg"]

Options given on the command line win over the file; ``--publisher`` and
``--disallow-oidc`` add to the file's lists.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from trustpub.errors import ConfigError
from trustpub.oidc.publishers import Publisher, parse_publisher_spec

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

PROVIDERS = ("github", "gitlab", "google", "activestate")
"""The identity providers the sandbox imitates (``--disallow-oidc`` names)."""

DEFAULT_AUDIENCE = "trustpub-sandbox"
DEFAULT_TOKEN_LIFETIME = 900
DEFAULT_MAX_FILE_SIZE = 1024**3
"""1 GiB: larger than PyPI's 100 MiB so that big-upload rehearsals fit."""


@dataclass(frozen=True)
class SandboxSettings:
    """Everything that shapes the behaviour of one sandbox."""

    audience: str = DEFAULT_AUDIENCE
    token_lifetime: int = DEFAULT_TOKEN_LIFETIME
    latency_ms: int = 0
    fail_rate: float = 0.0
    cut_rate: float = 0.0
    seed: int | None = None
    disallow_oidc: frozenset[str] = frozenset()
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    publishers: tuple[Publisher, ...] = field(default_factory=tuple)

    def oidc_disallowed(self, provider: str | None = None) -> bool:
        """Whether trusted publishing is off globally (no provider) or for ``provider``."""
        if "all" in self.disallow_oidc:
            return True
        return provider is not None and provider in self.disallow_oidc


_SCALARS: dict[str, tuple[type, ...]] = {
    "audience": (str,),
    "token_lifetime": (int,),
    "latency_ms": (int,),
    "fail_rate": (int, float),
    "cut_rate": (int, float),
    "seed": (int,),
    "max_file_size": (int,),
}


def check_provider(name: str, *, where: str) -> str:
    """Validate one ``--disallow-oidc`` value (a provider name or ``all``)."""
    value = name.strip().lower()
    if value != "all" and value not in PROVIDERS:
        raise ConfigError(
            f"unknown identity provider {name!r} in {where}",
            hint=f"use one of: {', '.join(PROVIDERS)}, all",
        )
    return value


def _check_rate(value: float, *, where: str) -> float:
    if not 0.0 <= value <= 1.0:
        raise ConfigError(
            f"{where} must be a fraction between 0 and 1, not {value}",
            hint="for example 0.1 for one request in ten",
        )
    return float(value)


def _validated(settings: SandboxSettings, *, where: str) -> SandboxSettings:
    _check_rate(settings.fail_rate, where=f"fail_rate in {where}")
    _check_rate(settings.cut_rate, where=f"cut_rate in {where}")
    for name in ("token_lifetime", "max_file_size"):
        if getattr(settings, name) <= 0:
            raise ConfigError(f"{name} in {where} must be positive", hint="give a whole number > 0")
    if settings.latency_ms < 0:
        raise ConfigError(f"latency_ms in {where} must not be negative", hint="give 0 or more")
    if not settings.audience.strip():
        raise ConfigError(f"audience in {where} is empty", hint="give a non-empty audience string")
    return settings


def settings_from_mapping(data: Mapping[str, Any], *, where: str) -> SandboxSettings:
    """Build settings from a parsed TOML document (raises ``ConfigError``)."""
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key in _SCALARS:
            if isinstance(value, bool) or not isinstance(value, _SCALARS[key]):
                raise ConfigError(
                    f"{key} in {where} has the wrong type ({type(value).__name__})",
                    hint="see docs/sandbox.md for the configuration format",
                )
            values[key] = value
        elif key == "disallow_oidc":
            items = [value] if isinstance(value, str) else value
            if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
                raise ConfigError(
                    f"disallow_oidc in {where} must be a provider name or a list of them",
                    hint=f"use any of: {', '.join(PROVIDERS)}, all",
                )
            values[key] = frozenset(check_provider(i, where=where) for i in items)
        elif key == "publishers":
            if not isinstance(value, list) or not all(isinstance(i, dict) for i in value):
                raise ConfigError(
                    f"publishers in {where} must be an array of tables ([[publishers]])",
                    hint="see docs/sandbox.md for the configuration format",
                )
            values[key] = tuple(
                Publisher.from_mapping(item, where=f"{where} [[publishers]] #{number}")
                for number, item in enumerate(value, start=1)
            )
        else:
            raise ConfigError(
                f"unknown setting {key!r} in {where}",
                hint="see docs/sandbox.md for the configuration format",
            )
    return _validated(SandboxSettings(**values), where=where)


def load_config(path: Path) -> SandboxSettings:
    """Read a sandbox TOML configuration file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(
            f"cannot read the sandbox configuration {path}: {error.strerror}",
            hint="check the --config path",
        ) from None
    except UnicodeDecodeError:
        raise ConfigError(
            f"the sandbox configuration {path} is not UTF-8 text", hint="save it as UTF-8"
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(
            f"the sandbox configuration {path} is not valid TOML: {error}",
            hint="fix the TOML syntax (see docs/sandbox.md for the format)",
        ) from None
    return settings_from_mapping(data, where=str(path))


def apply_options(
    settings: SandboxSettings,
    *,
    publisher_specs: Sequence[str] = (),
    disallow_oidc: Sequence[str] = (),
    **overrides: Any,
) -> SandboxSettings:
    """Layer command-line values over settings; ``None`` overrides are ignored."""
    changes = {key: value for key, value in overrides.items() if value is not None}
    publishers = settings.publishers + tuple(parse_publisher_spec(spec) for spec in publisher_specs)
    disallowed = settings.disallow_oidc | {
        check_provider(name, where="--disallow-oidc") for name in disallow_oidc
    }
    updated = replace(settings, publishers=publishers, disallow_oidc=disallowed, **changes)
    return _validated(updated, where="the command line")


__all__ = [
    "DEFAULT_AUDIENCE",
    "DEFAULT_MAX_FILE_SIZE",
    "DEFAULT_TOKEN_LIFETIME",
    "PROVIDERS",
    "SandboxSettings",
    "apply_options",
    "check_provider",
    "load_config",
    "settings_from_mapping",
]
