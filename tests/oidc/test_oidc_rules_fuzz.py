"""Property tests: compare() and find_publisher() agree and never crash, whatever the claims hold."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from trustpub.oidc.publishers import CANONICAL_ISSUERS, Provider, Publisher
from trustpub.oidc.rules import compare, find_publisher, required_claims

PUBLISHERS = [
    Publisher(Provider.GITHUB, repository="octo/pkg", workflow="release.yml"),
    Publisher(
        Provider.GITHUB,
        repository="octo/pkg",
        workflow="release.yml",
        environment="pypi",
        owner_id="7",
    ),
    Publisher(
        Provider.GITLAB, repository="g/sub/pkg", workflow=".gitlab-ci.yml", environment="Release"
    ),
    Publisher(Provider.GOOGLE, email="a@p.iam.gserviceaccount.com", sub="42"),
    Publisher(Provider.ACTIVESTATE, organization="acme", project="pkg", actor="al", actor_id="u1"),
]

VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.sampled_from(
        [
            "",
            "octo",
            "Octo",
            "octo/pkg",
            "OCTO/PKG",
            "7",
            "pypi",
            "PyPI",
            "Release",
            "release",
            "42",
            "u1",
            "acme",
            "pkg",
            "pypi-publisher",
            "refs/tags/v1",
            "abc",
            "pull_request_target",
            "push",
            "octo/pkg/.github/workflows/release.yml@refs/tags/v1",
            "octo/pkg/.github/workflows/release.yml@abc",
            "gitlab.com/g/sub/pkg//.gitlab-ci.yml@refs/tags/v1",
            "project_path:g/sub/pkg:ref_type:tag",
            "org:acme:project:pkg",
            "a@p.iam.gserviceaccount.com",
            "g/sub/pkg",
        ]
    ),
    st.lists(st.text(max_size=3), max_size=2),
)
NAMES = sorted(
    {name for p in Provider for name in required_claims(p)} | {"environment", "sub", "workflow_ref"}
)


@settings(max_examples=300, deadline=None)
@given(
    publisher=st.sampled_from(PUBLISHERS),
    claims=st.dictionaries(st.sampled_from(NAMES), VALUES, max_size=len(NAMES)),
)
def test_agreement_on_arbitrary_claims(publisher: Publisher, claims: dict[str, Any]) -> None:
    issuer = CANONICAL_ISSUERS[publisher.provider]
    lookup = find_publisher(
        [publisher], claims, provider=publisher.provider, issuer=issuer, canonical_issuer=issuer
    )
    comparison = compare(publisher, claims, issuer=issuer, canonical_issuer=issuer)
    assert comparison.ok == lookup.ok
    assert comparison.field == lookup.field
    assert comparison.reason == lookup.reason
    if not comparison.ok:
        assert isinstance(lookup.reason, str)
        assert lookup.reason


@settings(max_examples=100, deadline=None)
@given(claims=st.dictionaries(st.sampled_from(NAMES), VALUES, max_size=len(NAMES)))
def test_several_publishers_never_crash(claims: dict[str, Any]) -> None:
    for provider in Provider:
        issuer = CANONICAL_ISSUERS[provider]
        lookup = find_publisher(
            PUBLISHERS, claims, provider=provider, issuer=issuer, canonical_issuer=issuer
        )
        assert lookup.ok or lookup.reason
