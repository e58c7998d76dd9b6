"""The publisher model: mappings, --publisher specs, --expect, and [tool.trustpub.publisher]."""

from __future__ import annotations

from pathlib import Path

import pytest

from trustpub.errors import ConfigError
from trustpub.oidc.publishers import (
    CANONICAL_ISSUERS,
    Provider,
    Publisher,
    canonical_issuer_for,
    is_sandbox_issuer,
    load_declared_publisher,
    parse_expect,
    parse_publisher_spec,
    provider_for_issuer,
)


def test_spec_with_projects_and_pending() -> None:
    publisher = parse_publisher_spec(
        "provider=github,repository=octo/pkg,workflow=release.yml,environment=pypi,"
        "projects=pkg,pending=true"
    )
    assert publisher == Publisher(
        Provider.GITHUB,
        repository="octo/pkg",
        workflow="release.yml",
        environment="pypi",
        projects=("pkg",),
        pending=True,
    )
    assert publisher.owner == "octo"
    assert publisher.repository_name == "pkg"
    several = parse_publisher_spec(
        "provider=GitHub, repository=octo/pkg, workflow=release.yml, projects=pkg+other"
    )
    assert several.projects == ("pkg", "other")
    assert several.provider is Provider.GITHUB


def test_gitlab_namespace_with_subgroups() -> None:
    publisher = parse_publisher_spec(
        "provider=gitlab,repository=group/sub/pkg,workflow=ci/release.yml,issuer=https://gitlab.example"
    )
    assert publisher.namespace == "group/sub"
    assert publisher.gitlab_project == "pkg"
    assert publisher.issuer == "https://gitlab.example"


def test_round_trip_through_mapping() -> None:
    for text in (
        "provider=google,email=r@p.iam.gserviceaccount.com,sub=123",
        "provider=activestate,organization=acme,project=pkg,actor=alice,actor_id=u-1",
        "provider=github,repository=o/r,workflow=w.yaml,owner_id=42,projects=a+b",
    ):
        publisher = parse_publisher_spec(text)
        assert Publisher.from_mapping(publisher.to_mapping(), where="x") == publisher


@pytest.mark.parametrize(
    ("mapping", "fragment"),
    [
        ({}, "missing key 'provider'"),
        ({"provider": "circleci"}, "unknown provider 'circleci'"),
        ({"provider": "github", "repository": "o/r"}, "missing key 'workflow'"),
        (
            {"provider": "github", "repository": "o/r", "workflow": "w.yml", "colour": "x"},
            "unknown key 'colour'",
        ),
        (
            {"provider": "github", "repository": "o/r", "workflow": "w.yml", "email": "a@b"},
            "key 'email' does not apply to provider github",
        ),
        (
            {"provider": "github", "repository": "norepo", "workflow": "w.yml"},
            "key 'repository' must be 'owner/name'",
        ),
        (
            {"provider": "github", "repository": "o/r", "workflow": ".github/workflows/w.yml"},
            "key 'workflow' must be a workflow file name",
        ),
        (
            {"provider": "github", "repository": "o/r", "workflow": "w.txt"},
            "key 'workflow' must be a workflow file name",
        ),
        (
            {"provider": "gitlab", "repository": "o/r", "workflow": "/ci.yml"},
            "key 'workflow' must be the top-level pipeline path",
        ),
        (
            {"provider": "gitlab", "repository": "o/r", "workflow": "ci.yml", "issuer": "http://x"},
            "key 'issuer' must be an https:// URL",
        ),
        ({"provider": "google", "email": "nobody"}, "key 'email' must be a service-account email"),
        ({"provider": "activestate", "organization": "a", "project": "p"}, "missing key 'actor'"),
        (
            {"provider": "google", "email": "a@b", "pending": "maybe"},
            "key 'pending' must be true or false",
        ),
        ({"provider": "google", "email": "a@b", "pending": True}, "must name exactly one project"),
        ({"provider": "google", "email": "a@b", "projects": [1]}, "non-empty project names"),
        ({"provider": "google", "email": ["a@b"]}, "key 'email' must be a string"),
    ],
)
def test_invalid_mappings_name_key_and_place(mapping: dict[str, object], fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Publisher.from_mapping(mapping, where="sandbox.toml [[publishers]] #2")
    assert fragment in caught.value.message
    assert caught.value.message.startswith("sandbox.toml [[publishers]] #2")
    assert caught.value.hint
    assert caught.value.anchor == "invalid-publisher-description"


def test_spec_errors() -> None:
    with pytest.raises(ConfigError, match="expected KEY=VALUE"):
        parse_publisher_spec("provider=github,octo/pkg")
    with pytest.raises(ConfigError, match="given twice"):
        parse_publisher_spec("provider=github,provider=gitlab")


def test_expect_merges_onto_declared_and_takes_provider_from_token() -> None:
    base = Publisher(Provider.GITHUB, repository="octo/pkg", workflow="release.yml")
    merged = parse_expect(["environment=pypi", "workflow=publish.yml"], base=base)
    assert merged.environment == "pypi"
    assert merged.workflow == "publish.yml"
    assert merged.repository == "octo/pkg"
    google = parse_expect(["email=a@b.iam.gserviceaccount.com"], provider="google")
    assert google.provider is Provider.GOOGLE
    switched = parse_expect(["provider=google", "email=a@b"], base=base)
    assert switched == Publisher(Provider.GOOGLE, email="a@b")
    with pytest.raises(ConfigError, match="missing key 'provider'"):
        parse_expect(["environment=pypi"])


def test_load_declared_publisher(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    assert load_declared_publisher(path) is None
    path.write_text('[project]\nname = "pkg"\n')
    assert load_declared_publisher(path) is None
    path.write_text(
        '[tool.trustpub.publisher]\nprovider = "gitlab"\nrepository = "g/pkg"\n'
        'workflow = ".gitlab-ci.yml"\nenvironment = "Release"\n'
    )
    assert load_declared_publisher(path) == Publisher(
        Provider.GITLAB, repository="g/pkg", workflow=".gitlab-ci.yml", environment="Release"
    )
    path.write_text('[tool.trustpub.publisher]\nprovider = "gitlab"\n')
    with pytest.raises(ConfigError, match=r"\[tool.trustpub.publisher\]: missing key 'repository'"):
        load_declared_publisher(path)
    path.write_text("[tool.trustpub\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_declared_publisher(path)
    path.write_text('[tool.trustpub]\npublisher = "github"\n')
    with pytest.raises(ConfigError, match="must be a table"):
        load_declared_publisher(path)


def test_issuers() -> None:
    assert provider_for_issuer(CANONICAL_ISSUERS[Provider.GOOGLE]) is Provider.GOOGLE
    assert (
        provider_for_issuer("https://127.0.0.1:4443/_sandbox/activestate") is Provider.ACTIVESTATE
    )
    assert provider_for_issuer("https://localhost:1/_sandbox/github/") is Provider.GITHUB
    assert provider_for_issuer("https://evil.example/_sandbox/github") is None
    assert provider_for_issuer("https://127.0.0.1/_sandbox/circleci") is None
    assert provider_for_issuer(None) is None
    assert is_sandbox_issuer("https://[::1]:9/_sandbox/gitlab", Provider.GITLAB)
    assert not is_sandbox_issuer("https://[::1]:9/_sandbox/gitlab", Provider.GITHUB)
    sandbox = "https://127.0.0.1:4443/_sandbox/gitlab"
    assert canonical_issuer_for(Provider.GITLAB, sandbox) == sandbox
    assert canonical_issuer_for(Provider.GITHUB, sandbox) == CANONICAL_ISSUERS[Provider.GITHUB]


def test_describe() -> None:
    assert (
        parse_publisher_spec(
            "provider=github,repository=o/r,workflow=w.yml,environment=e"
        ).describe()
        == "GitHub o/r w.yml (environment e)"
    )
    assert (
        parse_publisher_spec("provider=google,email=a@b,sub=1").describe()
        == "Google a@b (subject 1)"
    )
    assert (
        parse_publisher_spec("provider=activestate,organization=o,project=p,actor=a").describe()
        == "ActiveState o/p (actor a)"
    )
