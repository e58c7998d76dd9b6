"""providers.detect(): which provider an environment is, in which order, without network."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trustpub._secret import forget_all, scrub
from trustpub.errors import IdentityError, UsageError
from trustpub.providers import PROVIDER_NAMES, detect, google
from trustpub.providers.activestate import TOKEN_ENV

GITHUB = {
    "GITHUB_ACTIONS": "true",
    "ACTIONS_ID_TOKEN_REQUEST_URL": "https://pipelines.example/idtoken?api-version=2.0",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "github-request-token-canary-0123456789",
    "GITHUB_REPOSITORY": "octo/pkg",
    "GITHUB_WORKFLOW_REF": "octo/pkg/.github/workflows/release.yml@refs/tags/v1.0",
}
GITLAB = {
    "GITLAB_CI": "true",
    "CI_PROJECT_PATH": "group/sub/project",
    "CI_CONFIG_PATH": ".gitlab-ci.yml",
    "PYPI_ID_TOKEN": "aaa.bbb.ccc",
}
ACTIVESTATE = {TOKEN_ENV: "ddd.eee.fff"}


@pytest.fixture(autouse=True)
def _clean() -> None:
    forget_all()


@pytest.mark.parametrize(
    ("env", "provider", "description"),
    [
        (GITHUB, "github", "GitHub Actions (octo/pkg, workflow release.yml)"),
        (GITLAB, "gitlab", "GitLab CI/CD (group/sub/project, .gitlab-ci.yml)"),
        (ACTIVESTATE, "activestate", f"ActiveState Platform build (token in {TOKEN_ENV})"),
        (
            {"GITHUB_ACTIONS": "true", **{k: v for k, v in GITHUB.items() if "ID_TOKEN" in k}},
            "github",
            "GitHub Actions",
        ),
        ({"GITLAB_CI": "true"}, "gitlab", "GitLab CI/CD"),
        ({"GITLAB_CI": "TRUE"}, "gitlab", "GitLab CI/CD"),
    ],
)
def test_each_provider_is_detected_from_its_variables(
    env: dict[str, str], provider: str, description: str
) -> None:
    found = detect(env, probe=False)
    assert found is not None
    assert found.provider == provider
    assert found.description == description
    assert provider in PROVIDER_NAMES


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"HOME": "/home/dev", "PATH": "/usr/bin"},
        {"GITHUB_ACTIONS": "false", "GITLAB_CI": "1"},
        {"GITHUB_ACTIONS": "", "GITLAB_CI": ""},
        {TOKEN_ENV: "   "},
        {"CI": "true"},
    ],
)
def test_a_plain_environment_is_not_ci(env: dict[str, str]) -> None:
    assert detect(env) is None


def test_a_laptop_contacts_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """No Google hint and no DMI file: detect() returns None before any socket is opened."""
    import socket

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("detect() opened a network connection on a laptop")

    monkeypatch.setattr(google, "DMI_PRODUCT_NAME", Path("/nonexistent/product_name"))
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    assert detect({"HOME": "/home/dev"}) is None


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({**GITHUB, **GITLAB, **ACTIVESTATE}, "github"),
        ({**GITLAB, **ACTIVESTATE}, "gitlab"),
        ({**ACTIVESTATE, "GCE_METADATA_HOST": "127.0.0.1:9"}, "activestate"),
    ],
)
def test_order_github_gitlab_activestate_then_google(env: dict[str, str], expected: str) -> None:
    found = detect(env, probe=True)
    assert found is not None
    assert found.provider == expected


def test_explicit_token_variable_wins_over_everything() -> None:
    env = {**GITHUB, **GITLAB, "MY_TOKEN": "xxx.yyy.zzz"}
    found = detect(env, oidc_token_env="MY_TOKEN")
    assert found is not None
    assert found.provider == "env"
    assert found.description == "OIDC token from $MY_TOKEN"
    assert found.static_token
    assert found.fetch_token("pypi").reveal() == "xxx.yyy.zzz"


def test_explicit_token_variable_even_bypasses_a_broken_github() -> None:
    env = {"GITHUB_ACTIONS": "true", "MY_TOKEN": "xxx.yyy.zzz"}
    found = detect(env, oidc_token_env="MY_TOKEN")
    assert found is not None
    assert found.provider == "env"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "--oidc-token-env names MY_TOKEN, but MY_TOKEN is not set"),
        ({"MY_TOKEN": " "}, "--oidc-token-env names MY_TOKEN, but MY_TOKEN is empty"),
    ],
)
def test_explicit_token_variable_missing_is_an_identity_error(
    env: dict[str, str], message: str
) -> None:
    with pytest.raises(IdentityError) as caught:
        detect(env, oidc_token_env="MY_TOKEN")
    assert caught.value.message == message
    assert "export the OIDC token as MY_TOKEN" in caught.value.hint
    assert "pass_env" in caught.value.hint


def test_explicit_token_variable_must_be_a_name() -> None:
    with pytest.raises(UsageError) as caught:
        detect({}, oidc_token_env="eyJhbGciOi.x.y")
    assert "is not an environment variable name" in caught.value.message


def test_github_without_id_token_permission_names_the_yaml_fix() -> None:
    with pytest.raises(IdentityError) as caught:
        detect({"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "octo/pkg"})
    error = caught.value
    assert error.message == (
        "this GitHub Actions job cannot request an OIDC token: missing id-token: write"
    )
    assert "permissions:\n      id-token: write" in error.hint
    assert error.details == (
        "missing: ACTIONS_ID_TOKEN_REQUEST_URL, ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    )
    assert error.anchor == "github-missing-id-token-permission"


def test_github_missing_only_the_request_token_says_which() -> None:
    env = {k: v for k, v in GITHUB.items() if k != "ACTIONS_ID_TOKEN_REQUEST_TOKEN"}
    with pytest.raises(IdentityError) as caught:
        detect(env)
    assert caught.value.details == ("missing: ACTIONS_ID_TOKEN_REQUEST_TOKEN",)


def _event(tmp_path: Path, fork: object) -> str:
    path = tmp_path / "event.json"
    path.write_text(json.dumps({"pull_request": {"head": {"repo": {"fork": fork}}}}))
    return str(path)


def test_github_fork_pull_request_explains_forks_get_no_token(tmp_path: Path) -> None:
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": _event(tmp_path, True),
    }
    with pytest.raises(IdentityError) as caught:
        detect(env)
    error = caught.value
    assert error.message == (
        "this GitHub Actions job runs for a pull request from a fork, which gets no OIDC token"
    )
    assert "from a fork" in error.hint
    assert "workflow_dispatch" in error.hint
    assert error.anchor == "github-fork-pull-request"


@pytest.mark.parametrize("fork", [False, "true", None])
def test_github_same_repo_pull_request_gets_the_permission_hint(
    tmp_path: Path, fork: object
) -> None:
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": _event(tmp_path, fork),
    }
    with pytest.raises(IdentityError) as caught:
        detect(env)
    assert caught.value.anchor == "github-missing-id-token-permission"


def test_github_unreadable_event_file_falls_back_to_the_permission_hint(tmp_path: Path) -> None:
    bad = tmp_path / "event.json"
    bad.write_text("{not json")
    for path in (str(bad), str(tmp_path / "missing.json")):
        env = {
            "GITHUB_ACTIONS": "true",
            "GITHUB_EVENT_NAME": "pull_request",
            "GITHUB_EVENT_PATH": path,
        }
        with pytest.raises(IdentityError) as caught:
            detect(env)
        assert caught.value.anchor == "github-missing-id-token-permission"


def test_detection_repr_and_errors_never_show_tokens() -> None:
    found = detect(GITHUB)
    assert found is not None
    assert "canary" not in repr(found)
    # The request token was registered for scrubbing as soon as it was read.
    assert scrub(f"x {GITHUB['ACTIONS_ID_TOKEN_REQUEST_TOKEN']} y") == "x *** y"


def test_detect_defaults_to_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [*GITHUB, "GITLAB_CI", TOKEN_ENV]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GITLAB_CI", "true")
    found = detect()
    assert found is not None
    assert found.provider == "gitlab"


def test_probe_false_never_touches_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("detect(probe=False) opened a network connection")

    monkeypatch.setattr(google, "DMI_PRODUCT_NAME", Path("/nonexistent/product_name"))
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    assert detect({"GCE_METADATA_HOST": "127.0.0.1:9", "K_SERVICE": "svc"}, probe=False) is None
