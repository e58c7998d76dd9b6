"""``trustpub claims`` as a function: get the OIDC token as ``publish`` would, and report on it.

:func:`obtain` gets the token (from ``--token-file``, else from the detected CI
identity, for the index's audience); :func:`inspect_token` builds one typed,
token-free :class:`ClaimsReport` from the decoded (unverified) claims, the
preflight findings and the declared publisher. Nothing here prints: the CLI
renders the report (rich, plain text or JSON) and decides the exit status from
:attr:`ClaimsReport.ok`. Each token reaches ``on_secret`` before anything else
looks at it, so the CLI can mask it on GitHub.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from trustpub._secret import Secret
from trustpub.errors import IdentityError, TrustpubError
from trustpub.oidc.claims import DecodedToken
from trustpub.oidc.diagnostics import (
    FormField,
    publisher_form,
    publisher_links,
    resolve_provider,
)
from trustpub.oidc.publishers import Provider, Publisher, load_declared_publisher, parse_expect
from trustpub.oidc.rules import MATCHED_CLAIMS, Comparison, compare
from trustpub.providers import Detection, Finding
from trustpub.repository import RESERVED_AUDIENCES, IndexTarget

if TYPE_CHECKING:
    import httpx

UNVERIFIED_NOTE = "decoded WITHOUT verifying the signature: for inspection only"

NO_IDENTITY = Finding(
    "no-trusted-publishing-identity",
    "blocker",
    "no CI or cloud OIDC identity was detected here",
    "run in a supported CI job (GitHub Actions, GitLab CI/CD, Google Cloud, ActiveState), "
    "or pass --token-file / --oidc-token-env",
)
"""The finding when no token source was detected (and nothing else went wrong)."""


def problem(error: TrustpubError) -> Finding:
    """A failure while getting the token or the audience, as a blocking finding."""
    return Finding(
        error.anchor or "no-token", "blocker", error.message, error.hint or "see the message"
    )


@dataclass(frozen=True)
class Validity:
    """The token's validity window, as of the report's ``now``."""

    issued_at: float | None
    not_before: float | None
    expires_at: float | None
    expires_in: int | None
    """Whole seconds left (negative once expired); None without ``exp``."""
    expired: bool | None

    @classmethod
    def of(cls, token: DecodedToken, now: float) -> Validity:
        exp = token.expires_at
        return cls(
            issued_at=token.issued_at,
            not_before=token.not_before,
            expires_at=exp,
            expires_in=None if exp is None else int(exp - now),
            expired=None if exp is None else exp <= now,
        )


@dataclass(frozen=True)
class TokenView:
    """The parts of a decoded token the report shows (never the token itself)."""

    issuer: str | None
    audience: str | list[str] | None
    validity: Validity
    claims: Mapping[str, object] | None
    """The claims PyPI matches for the provider, in its order (None: provider unknown)."""
    missing_claims: tuple[str, ...]
    all_claims: Mapping[str, object] | None
    """Every claim, sorted by name (only when asked for)."""
    form: tuple[FormField, ...] | None
    """The publisher to configure on PyPI (None: provider unknown)."""
    links: Mapping[str, str]


@dataclass(frozen=True)
class ClaimsReport:
    """Everything ``trustpub claims`` shows."""

    source: str | None
    """Where the token came from (None: no token source was found)."""
    repository: str
    expected_audience: str | None
    provider: Provider | None
    token: TokenView | None
    """None when no token could be obtained."""
    declared: Publisher | None
    comparison: Comparison | None
    """The claims against ``declared`` (None: nothing declared, or no token)."""
    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        """Whether nothing blocks publishing."""
        if self.token is None or any(finding.blocks for finding in self.findings):
            return False
        return self.comparison is None or self.comparison.ok


def _view(
    token: DecodedToken, kind: Provider | None, project: str | None, now: float, all_claims: bool
) -> TokenView:
    claims: dict[str, object] | None = None
    missing: tuple[str, ...] = ()
    form: tuple[FormField, ...] | None = None
    links: dict[str, str] = {}
    if kind is not None:
        names = MATCHED_CLAIMS[kind]
        claims = {name: token.claims.get(name) for name in names}
        missing = tuple(name for name in names if token.claims.get(name) is None)
        publisher = publisher_form(token, kind)
        form = publisher.fields
        links = publisher_links(publisher, project)
    return TokenView(
        issuer=token.issuer,
        audience=token.audience,
        validity=Validity.of(token, now),
        claims=claims,
        missing_claims=missing,
        all_claims=dict(sorted(token.claims.items())) if all_claims else None,
        form=form,
        links=links,
    )


def inspect_token(
    token: DecodedToken | None,
    *,
    source: str | None,
    detected_provider: str | None,
    repository: str,
    audience: str | None,
    declared: Publisher | None,
    project: str | None,
    findings: Iterable[Finding],
    now: float,
    all_claims: bool = False,
) -> ClaimsReport:
    """The report for ``token`` (None when it could not be obtained).

    ``findings`` are the problems met while getting the token followed by the
    preflight findings; one that repeats an earlier id is dropped (a detection
    error and its preflight twin say the same).
    """
    kind = resolve_provider(detected_provider, token)
    unique: dict[str, Finding] = {}
    for finding in findings:
        unique.setdefault(finding.id, finding)
    comparison = None
    if token is not None and declared is not None:
        comparison = compare(declared, token.claims)
    return ClaimsReport(
        source=source,
        repository=repository,
        expected_audience=audience,
        provider=kind,
        token=None if token is None else _view(token, kind, project, now, all_claims),
        declared=declared,
        comparison=comparison,
        findings=tuple(unique.values()),
    )


# -- getting the token -------------------------------------------------------------------


@dataclass
class Obtained:
    """What getting the token yielded: the token stays a Secret until it is decoded."""

    source: str | None = None
    """Where the token came from (None: no token source was found)."""
    provider: str | None = None
    """The detected provider's name (None with ``--token-file`` or without detection)."""
    audience: str | None = None
    secret: Secret | None = None
    problems: list[Finding] = field(default_factory=list)
    """What went wrong on the way, as blocking findings."""


def _audience(target: IndexTarget, detection: Detection, client: httpx.Client) -> str:
    """The index's audience exactly as ``publish`` gets it (GET /_/oidc/audience, guarded)."""
    from trustpub.exchange import TrustedPublisher

    return TrustedPublisher(target, detection, client=client).audience()


def _no_fetch(audience: str, client: httpx.Client | None) -> Secret:  # pragma: no cover
    raise IdentityError("no token source", hint="pass --token-file")


def _from_file(
    token: Secret, target: IndexTarget, client: httpx.Client, on_secret: Callable[[Secret], None]
) -> Obtained:
    got = Obtained(source="--token-file", secret=token)
    on_secret(token)
    if target.name in RESERVED_AUDIENCES:
        got.audience = target.name
        return got
    placeholder = Detection(provider="env", description="--token-file", fetcher=_no_fetch)
    try:
        got.audience = _audience(target, placeholder, client)
    except TrustpubError as error:
        got.problems.append(problem(error))
    return got


def _from_ci(
    env: Mapping[str, str],
    oidc_token_env: str | None,
    target: IndexTarget,
    client: httpx.Client,
    on_secret: Callable[[Secret], None],
) -> Obtained:
    from trustpub.providers import detect

    got = Obtained()
    try:
        detection = detect(env, oidc_token_env=oidc_token_env or None)
    except IdentityError as error:
        got.problems.append(problem(error))
        return got
    if detection is None:
        got.problems.append(NO_IDENTITY)
        return got
    got.provider = detection.provider
    got.source = detection.description
    try:
        got.audience = _audience(target, detection, client)
        got.secret = detection.fetch_token(got.audience, client=client)
    except TrustpubError as error:
        got.problems.append(problem(error))
    if got.secret is not None:
        on_secret(got.secret)
    return got


def obtain(
    target: IndexTarget,
    *,
    token: Secret | None,
    oidc_token_env: str | None,
    env: Mapping[str, str],
    client: httpx.Client,
    on_secret: Callable[[Secret], None],
) -> Obtained:
    """The token given (``token``, from ``--token-file``), else the detected CI identity's.

    Failures to detect, to read the audience or to fetch the token become
    blocking findings, not errors: the report explains them.
    """
    if token is not None:
        return _from_file(token, target, client, on_secret)
    return _from_ci(env, oidc_token_env, target, client, on_secret)


def declared_publisher(
    pyproject: Path, expect: tuple[str, ...], provider: Provider | None
) -> Publisher | None:
    """``[tool.trustpub.publisher]`` from ``pyproject``, overridden key by key by ``--expect``."""
    declared = load_declared_publisher(pyproject)
    if expect:
        declared = parse_expect(list(expect), base=declared, provider=provider)
    return declared


__all__ = [
    "NO_IDENTITY",
    "UNVERIFIED_NOTE",
    "ClaimsReport",
    "Obtained",
    "TokenView",
    "Validity",
    "declared_publisher",
    "inspect_token",
    "obtain",
    "problem",
]
