"""GitLab CI/CD and ActiveState: tokens handed over in variables."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trustpub._secret import forget_all, scrub
from trustpub.errors import IdentityError
from trustpub.providers import activestate, gitlab

JWT = "eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJweXBpIn0.Z2l0bGFiLWNhbmFyeQ"


@pytest.fixture(autouse=True)
def _clean() -> None:
    forget_all()


@pytest.mark.parametrize(
    ("audience", "name"),
    [
        ("pypi", "PYPI_ID_TOKEN"),
        ("testpypi", "TESTPYPI_ID_TOKEN"),
        ("sigstore", "SIGSTORE_ID_TOKEN"),
        ("http://test.audience", "HTTP___TEST_AUDIENCE_ID_TOKEN"),
        ("my-index.example", "MY_INDEX_EXAMPLE_ID_TOKEN"),
        ("1index", "_INDEX_ID_TOKEN"),
        ("_x", "_X_ID_TOKEN"),
        ("Ünï", "_N__ID_TOKEN"),
    ],
)
def test_token_env_name(audience: str, name: str) -> None:
    assert gitlab.token_env_name(audience) == name


@pytest.mark.parametrize(
    "audience", ["pypi", "testpypi", "http://test.audience", "9lives", "a.b-c"]
)
def test_token_env_name_agrees_with_the_id_library(
    audience: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """id's public detect_credential() finds the token under the same name (no internals patched)."""
    import id as id_library

    if Path("/sys/class/dmi/id/product_name").exists():
        pytest.skip("id would consult this machine's DMI product name first")
    for name in ("GITHUB_ACTIONS", "GOOGLE_SERVICE_ACCOUNT_NAME", "BUILDKITE", "CIRCLECI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GITLAB_CI", "true")
    token = "eyJhbGciOiJub25lIn0." + _b64(f'{{"aud":"{audience}"}}') + ".c2ln"
    monkeypatch.setenv(gitlab.token_env_name(audience), token)
    assert id_library.detect_credential(audience) == token


def _b64(text: str) -> str:
    import base64

    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def test_fetch_reads_the_audience_variable() -> None:
    found = gitlab.detect({"GITLAB_CI": "true", "TESTPYPI_ID_TOKEN": f" {JWT}\n"})
    assert found is not None
    assert found.static_token
    assert found.fetch_token("testpypi").reveal() == JWT
    assert scrub(JWT) == "***"


def test_missing_token_prints_the_exact_id_tokens_yaml() -> None:
    found = gitlab.detect({"GITLAB_CI": "true", "SIGSTORE_ID_TOKEN": "a.b.c", "EMPTY_ID_TOKEN": ""})
    assert found is not None
    with pytest.raises(IdentityError) as caught:
        found.fetch_token("testpypi")
    error = caught.value
    assert error.message == (
        "this GitLab CI/CD job has no ID token for audience 'testpypi' "
        "(TESTPYPI_ID_TOKEN is not set)"
    )
    assert error.hint == (
        "add an id_tokens entry to the publishing job in .gitlab-ci.yml:\n"
        "publish:\n"
        "  id_tokens:\n"
        "    TESTPYPI_ID_TOKEN:\n"
        "      aud: testpypi"
    )
    assert error.details == ("this job has ID tokens in: SIGSTORE_ID_TOKEN",)
    assert error.anchor == "gitlab-missing-id-token"


def test_the_environment_is_read_when_detected() -> None:
    env = {"GITLAB_CI": "true", "PYPI_ID_TOKEN": JWT}
    found = gitlab.detect(env)
    env["PYPI_ID_TOKEN"] = "changed.after.detect"
    assert found is not None
    assert found.fetch_token("pypi").reveal() == JWT


def test_activestate_token_is_returned_for_any_audience() -> None:
    found = activestate.detect({activestate.TOKEN_ENV: JWT})
    assert found is not None
    assert found.provider == "activestate"
    assert found.static_token
    assert found.fetch_token("pypi").reveal() == JWT
    assert activestate.TOKEN_ENV == "ACTIVESTATE_OIDC_TOKEN"


def test_activestate_absent() -> None:
    assert activestate.detect({}) is None
    assert activestate.detect({activestate.TOKEN_ENV: ""}) is None


@given(st.text(min_size=1, max_size=40))
def test_token_env_name_is_always_a_variable_name(audience: str) -> None:
    name = gitlab.token_env_name(audience)
    assert re.fullmatch(r"[A-Z_][A-Z0-9_]*_ID_TOKEN", name)
    # Stable: the name of a name's stem is itself.
    stem = name.removesuffix("_ID_TOKEN")
    assert gitlab.token_env_name(stem) == name
