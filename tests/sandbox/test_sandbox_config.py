"""Sandbox settings: the TOML format, option layering, and the errors for bad values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from trustpub.errors import ConfigError, ExitCode
from trustpub.sandbox.config import (
    DEFAULT_AUDIENCE,
    DEFAULT_MAX_FILE_SIZE,
    SandboxSettings,
    apply_options,
    load_config,
    settings_from_mapping,
)


def test_defaults() -> None:
    settings = SandboxSettings()
    assert settings.audience == DEFAULT_AUDIENCE == "trustpub-sandbox"
    assert settings.token_lifetime == 900
    assert settings.max_file_size == DEFAULT_MAX_FILE_SIZE == 1024**3
    assert not settings.oidc_disallowed()
    assert not settings.oidc_disallowed("github")


def test_full_file(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.toml"
    path.write_text(
        """
audience = "aud"
token_lifetime = 60
latency_ms = 5
fail_rate = 0.25
cut_rate = 0
seed = 3
disallow_oidc = ["GitLab"]
max_file_size = 1000

[[publishers]]
provider = "github"
repository = "octo/pkg"
workflow = "release.yml"
projects = ["pkg", "other"]
"""
    )
    settings = load_config(path)
    assert (settings.audience, settings.token_lifetime, settings.latency_ms) == ("aud", 60, 5)
    assert (settings.fail_rate, settings.cut_rate, settings.seed) == (0.25, 0.0, 3)
    assert settings.max_file_size == 1000
    assert settings.oidc_disallowed("gitlab")
    assert not settings.oidc_disallowed("github")
    assert settings.publishers[0].projects == ("pkg", "other")


def test_options_win_and_lists_add_up() -> None:
    base = settings_from_mapping({"audience": "file", "disallow_oidc": "google"}, where="t")
    settings = apply_options(
        base,
        publisher_specs=["provider=google,email=a@b.iam.gserviceaccount.com,projects=x"],
        disallow_oidc=["all"],
        audience="cli",
        seed=None,
    )
    assert settings.audience == "cli"
    assert settings.disallow_oidc == frozenset({"google", "all"})
    assert settings.oidc_disallowed()
    assert len(settings.publishers) == 1


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ({"audiense": "x"}, "unknown setting 'audiense'"),
        ({"token_lifetime": "900"}, "token_lifetime"),
        ({"token_lifetime": True}, "token_lifetime"),
        ({"token_lifetime": 0}, "token_lifetime"),
        ({"fail_rate": 1.5}, "fail_rate"),
        ({"cut_rate": -0.1}, "cut_rate"),
        ({"latency_ms": -1}, "latency_ms"),
        ({"audience": " "}, "audience"),
        ({"disallow_oidc": ["circleci"]}, "circleci"),
        ({"disallow_oidc": 3}, "disallow_oidc"),
        ({"publishers": {"provider": "github"}}, "array of tables"),
        ({"publishers": [{"provider": "circleci"}]}, "circleci"),
    ],
)
def test_bad_values(data: dict[str, Any], needle: str) -> None:
    with pytest.raises(ConfigError) as caught:
        settings_from_mapping(data, where="sandbox.toml")
    assert needle in caught.value.message
    assert caught.value.hint
    assert caught.value.exit_code == ExitCode.USAGE


def test_unreadable_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[[publishers]\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad)
