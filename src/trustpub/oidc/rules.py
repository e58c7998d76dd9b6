"""PyPI's trusted-publisher matching rules: one implementation for client and sandbox.

The sandbox's mint endpoint calls :func:`find_publisher` (the server's
algorithm: issuer check, claim presence, lookup, environment tie-break,
required checks, optional checks) and answers with its reason text, which is
Warehouse's text word for word. The client calls :func:`compare` to explain,
field by field, why a token does or does not match the publisher the user
declared. Both run the *same* per-provider step functions below, so their
verdicts (and the field that decides) cannot drift apart.

Facts (check order, case rules, reason texts) follow Warehouse as described
in docs/dev/contracts.md and the protocol notes; where Warehouse would fail
with an internal error (e.g. a ``repository`` claim without ``/``), these
rules answer "not found" instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from trustpub.oidc.claims import claim_text
from trustpub.oidc.publishers import (
    Provider,
    Publisher,
    canonical_issuer_for,
    provider_for_issuer,
)

NOT_FOUND = "Publisher with matching claims was not found"
"""Warehouse's reason when no publisher survives the lookup and tie-break."""

REUSED = "invalid token: already used"
"""Warehouse's description for a ``jti`` that was already exchanged (``invalid-reuse-token``)."""

PULL_REQUEST_TARGET = (
    "Publishing from a workflow invoked via 'pull_request_target' is not supported."
)

ACTIVESTATE_BUILDER = "pypi-publisher"

MATCHED_CLAIMS: dict[Provider, tuple[str, ...]] = {
    Provider.GITHUB: (
        "sub",
        "repository",
        "repository_owner",
        "repository_owner_id",
        "job_workflow_ref",
        "workflow_ref",
        "ref",
        "sha",
        "environment",
        "event_name",
    ),
    Provider.GITLAB: (
        "sub",
        "project_path",
        "ci_config_ref_uri",
        "ref_path",
        "sha",
        "environment",
    ),
    Provider.GOOGLE: ("email", "email_verified", "sub"),
    Provider.ACTIVESTATE: ("sub", "organization", "project", "actor", "actor_id", "builder"),
}
"""The claims to show when explaining a refusal (PyPI's own list, plus context claims)."""


@dataclass(frozen=True)
class Lookup:
    """The server's answer: the matched publisher, or Warehouse's reason and the deciding claim."""

    publisher: Publisher | None
    reason: str | None
    field: str | None
    reused: bool = False
    """True when the token's ``jti`` was already used (``invalid-reuse-token``, not ``invalid-publisher``)."""

    @property
    def ok(self) -> bool:
        """Whether a publisher matched."""
        return self.publisher is not None


@dataclass(frozen=True)
class FieldCheck:
    """One row of the client's explanation."""

    field: str
    """The claim this row is about (``repository``, ``job_workflow_ref`` ...)."""
    expected: str | None
    """What the publisher requires (None: not declared / cannot be known here)."""
    actual: str | None
    """The token's value (None: the claim is absent)."""
    rule: str
    """How PyPI compares them."""
    ok: bool
    fix: str
    """What to change when ``ok`` is false (empty otherwise)."""


@dataclass(frozen=True)
class Comparison:
    """The client's per-field verdict for one declared publisher."""

    checks: tuple[FieldCheck, ...]
    ok: bool
    field: str | None
    """The claim that decides the refusal (the first mismatch in PyPI's order)."""
    reason: str | None = None
    """The reason PyPI would give (Warehouse's text), None when it matches."""


# -- the steps --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Ctx:
    claims: Mapping[str, Any]
    issuer: str
    canonical_issuer: str
    jti_seen: Callable[[str], bool] | None

    def text(self, name: str) -> str | None:
        value = self.claims.get(name)
        return value if isinstance(value, str) else None

    def shown(self, name: str) -> str | None:
        return claim_text(self.claims.get(name))


@dataclass(frozen=True)
class _Outcome:
    field: str
    ok: bool
    expected: str | None
    actual: str | None
    rule: str
    fix: str = ""
    reason: str | None = None
    """Overrides the stage's default reason when this outcome decides."""
    reused: bool = False


Stage = Literal["lookup", "select", "required", "optional"]


@dataclass(frozen=True)
class _Step:
    stage: Stage
    run: Callable[[Publisher, _Ctx], _Outcome]


@dataclass(frozen=True)
class _Selector:
    """The tie-break among looked-up publishers (GitHub/GitLab environment, Google sub)."""

    specific: Callable[[Publisher, _Ctx], bool]
    general: Callable[[Publisher], bool]
    step: _Step


@dataclass(frozen=True)
class _Rules:
    custom_issuer: bool
    required: tuple[str, ...]
    prepare: Callable[[_Ctx], tuple[str, str] | None]
    lookup: tuple[_Step, ...]
    selector: _Selector | None
    checks: tuple[_Step, ...]


@dataclass(frozen=True)
class _FileInClaim:
    """The file a token names inside one claim: GitHub's workflow, GitLab's top-level pipeline.

    PyPI looks publishers up by this file; a token whose claim names none is refused
    before the lookup, with Warehouse's ``unreadable`` text.
    """

    claim: str
    pattern: re.Pattern[str]
    unreadable: str
    rule: str
    mismatch: Callable[[Publisher, _Ctx, str | None], str]
    """The fix when the file is not the publisher's (``None``: the claim names no file)."""

    def found(self, ctx: _Ctx) -> str | None:
        value = ctx.text(self.claim)
        match = self.pattern.search(value) if value is not None else None
        return match.group(0) if match else None

    def prepare(self, ctx: _Ctx) -> tuple[str, str] | None:
        return (self.unreadable, self.claim) if self.found(ctx) is None else None

    def lookup(self, p: Publisher, ctx: _Ctx) -> _Outcome:
        found = self.found(ctx)
        ok = found is not None and found == p.workflow
        actual = found if found is not None else ctx.shown(self.claim)
        fix = "" if ok else self.mismatch(p, ctx, found)
        return _Outcome(self.claim, ok, p.workflow, actual, self.rule, fix)


def _default_reason(stage: Stage, field: str) -> str:
    if stage in ("lookup", "select"):
        return NOT_FOUND
    return f"Check failed for {stage} claim {field!r}"


def _jti_step(publisher: Publisher, ctx: _Ctx) -> _Outcome:
    jti = ctx.text("jti")
    rule = "single use: PyPI refuses a token whose jti was already exchanged"
    if ctx.jti_seen is None:
        return _Outcome("jti", True, None, ctx.shown("jti"), "checked by PyPI: " + rule)
    if jti is not None and ctx.jti_seen(jti):
        return _Outcome(
            "jti",
            False,
            None,
            ctx.shown("jti"),
            rule,
            fix="request a fresh OIDC token for every exchange",
            reason=REUSED,
            reused=True,
        )
    return _Outcome("jti", True, None, ctx.shown("jti"), rule)


@dataclass(frozen=True)
class _EnvironmentRule:
    """The optional ``environment`` claim: the tie-break among looked-up publishers and the
    last check. Warehouse compares it ignoring case on GitHub and exactly on GitLab."""

    case_sensitive: bool

    def same(self, claim: str | None, configured: str | None) -> bool:
        if not claim or configured is None:
            return False
        return claim == configured if self.case_sensitive else claim.lower() == configured.lower()

    def specific(self, p: Publisher, ctx: _Ctx) -> bool:
        return self.same(ctx.text("environment"), p.environment)

    def outcome(self, p: Publisher, ctx: _Ctx) -> _Outcome:
        env = ctx.text("environment")
        actual = ctx.shown("environment")
        if not p.environment:
            return _Outcome(
                "environment",
                True,
                None,
                actual,
                "not constrained: any environment (or none) is accepted",
            )
        ok = self.same(env, p.environment)
        if ok:
            fix = ""
        elif not env:
            fix = f"add `environment: {p.environment}` to the publishing job"
        elif self.case_sensitive and env.lower() == p.environment.lower():
            fix = f"GitLab environments are case-sensitive: use exactly '{p.environment}'"
        else:
            fix = (
                f"the job runs in environment '{env}': use `environment: {p.environment}`, "
                f"or change the publisher's environment to '{env}'"
            )
        case = "case-sensitive" if self.case_sensitive else "case-insensitive"
        return _Outcome(
            "environment", ok, p.environment, actual, f"must equal the claim ({case})", fix
        )

    def selector(self) -> _Selector:
        return _Selector(self.specific, _no_environment, _Step("select", self.outcome))


def _no_environment(p: Publisher) -> bool:
    return not p.environment


_GITHUB_ENVIRONMENT = _EnvironmentRule(case_sensitive=False)
_GITLAB_ENVIRONMENT = _EnvironmentRule(case_sensitive=True)


# GitHub ---------------------------------------------------------------------------------


def _github_workflow_fix(p: Publisher, ctx: _Ctx, found: str | None) -> str:
    fix = (
        f"the job runs workflow file '{found}': set the publisher's workflow to '{found}', "
        f"or publish from '{p.workflow}'"
        if found
        else "the token's job_workflow_ref names no workflow file"
    )
    job_ref = ctx.text("job_workflow_ref")
    workflow_ref = ctx.text("workflow_ref")
    if workflow_ref and job_ref and workflow_ref != job_ref:
        fix += (
            " (job_workflow_ref names the called reusable workflow, "
            f"while the caller is {workflow_ref})"
        )
    return fix


_GITHUB_WORKFLOW = _FileInClaim(
    "job_workflow_ref",
    re.compile(r"[^/]+\.(?:yml|yaml)(?=@)"),
    "Could not job extract workflow filename from OIDC claims",
    "the workflow file name in job_workflow_ref must equal the publisher's workflow "
    "(exact, case-sensitive)",
    _github_workflow_fix,
)


def _github_lookup_repository(p: Publisher, ctx: _Ctx) -> _Outcome:
    claim = ctx.text("repository")
    owner, sep, name = (claim or "").partition("/")
    ok = bool(sep) and owner == p.owner and name == p.repository_name
    fix = ""
    if not ok:
        if claim is None:
            fix = "the token has no repository claim"
        elif claim.lower() == (p.repository or "").lower():
            fix = (
                f"GitHub spells the repository '{claim}': configure the publisher with exactly "
                "that case (PyPI's lookup is case-sensitive)"
            )
        else:
            fix = (
                f"the job runs in '{ctx.shown('repository')}': add a publisher for that "
                f"repository, or publish from '{p.repository}'"
            )
    return _Outcome(
        "repository",
        ok,
        p.repository,
        ctx.shown("repository"),
        "owner and name must equal the claim exactly (case-sensitive lookup)",
        fix,
    )


def _owner_id_outcome(p: Publisher, ctx: _Ctx) -> _Outcome:
    actual = ctx.shown("repository_owner_id")
    if p.owner_id is None:
        return _Outcome(
            "repository_owner_id",
            True,
            None,
            actual,
            "checked by PyPI: must equal the owner's id recorded when the publisher was added",
        )
    ok = ctx.text("repository_owner_id") == p.owner_id
    return _Outcome(
        "repository_owner_id",
        ok,
        p.owner_id,
        actual,
        "must equal the owner id recorded when the publisher was added (exact)",
        ""
        if ok
        else "the owner account was renamed, deleted or re-created: remove the publisher "
        "and add it again",
    )


def _github_check_repository(p: Publisher, ctx: _Ctx) -> _Outcome:
    claim = ctx.text("repository")
    ok = bool(claim) and claim is not None and claim.lower() == (p.repository or "").lower()
    return _Outcome(
        "repository",
        ok,
        p.repository,
        ctx.shown("repository"),
        "must equal the claim (case-insensitive)",
        "" if ok else f"publish from '{p.repository}' or add a publisher for the job's repository",
    )


def _github_check_owner(p: Publisher, ctx: _Ctx) -> _Outcome:
    ok = ctx.text("repository_owner") == p.owner
    return _Outcome(
        "repository_owner",
        ok,
        p.owner,
        ctx.shown("repository_owner"),
        "must equal the claim exactly",
        "" if ok else f"the job's owner is '{ctx.shown('repository_owner')}', not '{p.owner}'",
    )


@dataclass(frozen=True)
class _PinnedRef:
    """A claim that must be ``<ground>@<one of the pins>``: GitHub's job_workflow_ref and
    GitLab's ci_config_ref_uri. The two differ in which pins they need: GitHub wants a
    ref OR a sha, GitLab a ref_path AND a sha (Warehouse's checks differ the same way)."""

    field: str
    pins: tuple[str, str]
    need_all: bool
    rule: str
    missing_claim_fix: str
    missing_pins_fix: str


def _pinned_ref_outcome(spec: _PinnedRef, ground: str, ctx: _Ctx, mismatch_fix: str) -> _Outcome:
    claim = ctx.claims.get(spec.field)
    actual = claim_text(claim)
    placeholder = f"{ground}@<{spec.pins[0]}>"
    if not claim:
        return _Outcome(
            spec.field,
            False,
            placeholder,
            actual,
            spec.rule,
            spec.missing_claim_fix,
            reason=f"The {spec.field} claim is empty",
        )
    values = [ctx.claims.get(pin) for pin in spec.pins]
    if not (all(values) if spec.need_all else any(values)):
        return _Outcome(
            spec.field,
            False,
            placeholder,
            actual,
            spec.rule,
            spec.missing_pins_fix,
            reason=f"The {spec.pins[0]} and {spec.pins[1]} claims are empty",
        )
    expected = sorted({f"{ground}@{value}" for value in values if value})
    if claim in expected:
        return _Outcome(spec.field, True, expected[0], actual, spec.rule)
    return _Outcome(
        spec.field,
        False,
        " or ".join(expected),
        actual,
        spec.rule,
        mismatch_fix,
        reason=(
            f"The {spec.field} claim does not match, expecting one of {expected!r}, got {claim!r}"
        ),
    )


_JOB_WORKFLOW_REF = _PinnedRef(
    "job_workflow_ref",
    ("ref", "sha"),
    need_all=False,
    rule="must be <owner>/<repo>/.github/workflows/<workflow>@<ref or sha> (exact)",
    missing_claim_fix="the token carries no job_workflow_ref",
    missing_pins_fix="the job has neither a ref nor a sha; run it from a branch or tag",
)


def _github_check_job_workflow_ref(p: Publisher, ctx: _Ctx) -> _Outcome:
    claim = ctx.claims.get("job_workflow_ref")
    fix = "the workflow that requests the token must be the publisher's file in its own repository"
    workflow_ref = ctx.text("workflow_ref")
    if workflow_ref and workflow_ref != claim:
        fix = (
            "a reusable workflow requested the token: PyPI matches the CALLED workflow "
            f"({claim_text(claim)}); it must live in {p.repository} at the same ref, and the "
            "publisher must name the called file"
        )
    ground = f"{p.owner}/{p.repository_name}/.github/workflows/{p.workflow}"
    return _pinned_ref_outcome(_JOB_WORKFLOW_REF, ground, ctx, fix)


def _github_check_event(p: Publisher, ctx: _Ctx) -> _Outcome:
    ok = ctx.claims.get("event_name") != "pull_request_target"
    return _Outcome(
        "event_name",
        ok,
        "not pull_request_target",
        ctx.shown("event_name"),
        "pull_request_target is refused",
        ""
        if ok
        else "publish from a push of a tag, a published release or workflow_dispatch instead",
        reason=None if ok else PULL_REQUEST_TARGET,
    )


_GITHUB = _Rules(
    custom_issuer=False,
    required=(
        "repository",
        "repository_owner",
        "repository_owner_id",
        "job_workflow_ref",
        "jti",
        "event_name",
        "ref",
        "sha",
    ),
    prepare=_GITHUB_WORKFLOW.prepare,
    lookup=(
        _Step("lookup", _github_lookup_repository),
        _Step("lookup", _owner_id_outcome),
        _Step("lookup", _GITHUB_WORKFLOW.lookup),
    ),
    selector=_GITHUB_ENVIRONMENT.selector(),
    checks=(
        _Step("required", _github_check_repository),
        _Step("required", _github_check_owner),
        _Step("required", _owner_id_outcome),
        _Step("required", _github_check_job_workflow_ref),
        _Step("required", _jti_step),
        _Step("required", _github_check_event),
        _Step("optional", _GITHUB_ENVIRONMENT.outcome),
    ),
)


# GitLab ---------------------------------------------------------------------------------


def _gitlab_pipeline_fix(p: Publisher, ctx: _Ctx, found: str | None) -> str:
    if not found:
        return "the token's ci_config_ref_uri names no pipeline file"
    return (
        f"the pipeline's top-level file is '{found}': set the publisher's top-level "
        f"pipeline file path to '{found}' (included files do not count)"
    )


_GITLAB_PIPELINE = _FileInClaim(
    "ci_config_ref_uri",
    re.compile(r"(?<=//).*[^/]\.(?:yml|yaml)(?=@)"),
    "Could not extract workflow filename from OIDC claims",
    "the top-level pipeline path in ci_config_ref_uri must equal the publisher's "
    "(exact, case-sensitive)",
    _gitlab_pipeline_fix,
)


def _issuer_of(p: Publisher, ctx: _Ctx) -> str:
    return p.issuer or ctx.canonical_issuer


def _gitlab_lookup_project(p: Publisher, ctx: _Ctx) -> _Outcome:
    claim = ctx.text("project_path")
    namespace, sep, project = (claim or "").rpartition("/")
    ok = (
        bool(sep)
        and namespace.lower() == (p.namespace or "").lower()
        and project.lower() == (p.gitlab_project or "").lower()
    )
    return _Outcome(
        "project_path",
        ok,
        p.repository,
        ctx.shown("project_path"),
        "namespace and project must equal the claim (case-insensitive lookup)",
        ""
        if ok
        else f"the job runs in '{ctx.shown('project_path')}': add a publisher for that "
        f"project, or publish from '{p.repository}'",
    )


def _gitlab_lookup_issuer(p: Publisher, ctx: _Ctx) -> _Outcome:
    expected = _issuer_of(p, ctx)
    ok = ctx.issuer == expected
    return _Outcome(
        "iss",
        ok,
        expected,
        ctx.issuer,
        "the publisher's GitLab instance must be the token's issuer",
        ""
        if ok
        else _other_provider_fix(Provider.GITLAB, ctx.issuer)
        or f"the token comes from {ctx.issuer}: the publisher must be registered for that "
        "instance (self-managed GitLab needs PyPI's organization onboarding)",
    )


def _gitlab_check_sub(p: Publisher, ctx: _Ctx) -> _Outcome:
    claim = ctx.text("sub")
    expected = f"project_path:{p.repository}"
    parts = (claim or "").split(":")
    ok = (
        len(parts) >= 2
        and bool(parts[0])
        and bool(parts[1])
        and f"{parts[0]}:{parts[1]}".lower() == expected.lower()
    )
    return _Outcome(
        "sub",
        ok,
        expected + ":…",
        ctx.shown("sub"),
        "must start with project_path:<namespace>/<project> (case-insensitive)",
        "" if ok else "the token's subject names another project",
    )


def _gitlab_check_project_path(p: Publisher, ctx: _Ctx) -> _Outcome:
    claim = ctx.text("project_path")
    ok = bool(claim) and claim is not None and claim.lower() == (p.repository or "").lower()
    return _Outcome(
        "project_path",
        ok,
        p.repository,
        ctx.shown("project_path"),
        "must equal the claim (case-insensitive)",
        "" if ok else f"publish from '{p.repository}'",
    )


_CI_CONFIG_REF_URI = _PinnedRef(
    "ci_config_ref_uri",
    ("ref_path", "sha"),
    need_all=True,
    rule="must be <instance>/<namespace>/<project>//<pipeline path>@<ref_path or sha> (exact)",
    missing_claim_fix=(
        "the pipeline configuration lives in another project; PyPI needs it in this one"
    ),
    missing_pins_fix="the token lacks ref_path or sha",
)


def _gitlab_check_uri(p: Publisher, ctx: _Ctx) -> _Outcome:
    claim = ctx.claims.get("ci_config_ref_uri")
    # Warehouse strips "https://" (PyPI's issuers are all https). GitLab writes the host
    # without any scheme, so an http:// issuer (only the sandbox's --no-tls mode has one)
    # is stripped too, or no publisher could ever match there.
    domain = _issuer_of(p, ctx).removeprefix("https://").removeprefix("http://")
    ground = f"{domain}/{p.repository}//{p.workflow}"
    fix = "the publisher's namespace, project or pipeline path differs from the job's"
    expected_lower = {f"{ground}@{ctx.claims.get(pin)}".lower() for pin in ("ref_path", "sha")}
    if isinstance(claim, str) and claim.lower() in expected_lower:
        fix = (
            "GitLab spells the namespace/project differently: configure the publisher with "
            f"exactly the case in {claim}"
        )
    return _pinned_ref_outcome(_CI_CONFIG_REF_URI, ground, ctx, fix)


_GITLAB = _Rules(
    custom_issuer=True,
    required=("sub", "project_path", "ci_config_ref_uri", "jti", "ref_path", "sha"),
    prepare=_GITLAB_PIPELINE.prepare,
    lookup=(
        _Step("lookup", _gitlab_lookup_project),
        _Step("lookup", _GITLAB_PIPELINE.lookup),
        _Step("lookup", _gitlab_lookup_issuer),
    ),
    selector=_GITLAB_ENVIRONMENT.selector(),
    checks=(
        _Step("required", _gitlab_check_sub),
        _Step("required", _gitlab_check_project_path),
        _Step("required", _gitlab_check_uri),
        _Step("required", _jti_step),
        _Step("optional", _GITLAB_ENVIRONMENT.outcome),
    ),
)


# Google ---------------------------------------------------------------------------------


def _no_prepare(ctx: _Ctx) -> tuple[str, str] | None:
    return None


def _google_email(p: Publisher, ctx: _Ctx) -> _Outcome:
    ok = ctx.text("email") == p.email
    return _Outcome(
        "email",
        ok,
        p.email,
        ctx.shown("email"),
        "must equal the claim exactly",
        ""
        if ok
        else f"the token is for '{ctx.shown('email')}': configure that service account, or "
        f"run as '{p.email}'",
    )


def _json_true(value: object) -> bool:
    # Warehouse compares with `True == value == True`: JSON true (and the number 1) pass.
    return value is True or (
        isinstance(value, (int, float)) and not isinstance(value, bool) and value == 1
    )


def _google_verified(p: Publisher, ctx: _Ctx) -> _Outcome:
    ok = _json_true(ctx.claims.get("email_verified"))
    return _Outcome(
        "email_verified",
        ok,
        "true",
        ctx.shown("email_verified"),
        "must be JSON true",
        ""
        if ok
        else "request the identity token with its email (metadata server format=full, or "
        "includeEmail=true with generateIdToken)",
    )


def _google_sub(p: Publisher, ctx: _Ctx) -> _Outcome:
    sub = ctx.text("sub")
    if not p.sub:
        return _Outcome("sub", True, None, ctx.shown("sub"), "not pinned: any subject")
    ok = bool(sub) and sub == p.sub
    return _Outcome(
        "sub",
        ok,
        p.sub,
        ctx.shown("sub"),
        "must equal the claim exactly",
        ""
        if ok
        else f"the service account's subject is '{ctx.shown('sub')}': update the publisher's "
        "subject (the account may have been re-created)",
    )


def _google_sub_specific(p: Publisher, ctx: _Ctx) -> bool:
    sub = ctx.text("sub")
    return bool(sub) and p.sub == sub


def _google_no_sub(p: Publisher) -> bool:
    return not p.sub


_GOOGLE = _Rules(
    custom_issuer=False,
    required=("email", "email_verified"),
    prepare=_no_prepare,
    lookup=(_Step("lookup", _google_email),),
    selector=_Selector(_google_sub_specific, _google_no_sub, _Step("select", _google_sub)),
    checks=(
        _Step("required", _google_email),
        _Step("required", _google_verified),
        _Step("optional", _google_sub),
    ),
)


# ActiveState ----------------------------------------------------------------------------


def _exact(field: str, attribute: str, what: str) -> Callable[[Publisher, _Ctx], _Outcome]:
    def run(p: Publisher, ctx: _Ctx) -> _Outcome:
        expected = getattr(p, attribute)
        ok = ctx.text(field) == expected
        return _Outcome(
            field,
            ok,
            expected,
            ctx.shown(field),
            "must equal the claim exactly",
            "" if ok else f"the build's {what} is '{ctx.shown(field)}', not '{expected}'",
        )

    return run


def _activestate_actor_id(p: Publisher, ctx: _Ctx) -> _Outcome:
    actual = ctx.shown("actor_id")
    if p.actor_id is None:
        # A declared publisher cannot hold the id PyPI resolved; the actor's name that
        # comes with it in the token predicts the refusal (another actor, another id).
        named = ctx.text("actor")
        ok = not p.actor or named == p.actor
        return _Outcome(
            "actor_id",
            ok,
            None,
            actual,
            f"checked by PyPI: must be the id of the actor '{p.actor}' "
            "(resolved when the publisher was added)",
            ""
            if ok
            else f"the build was triggered by '{ctx.shown('actor')}': the configured actor "
            f"'{p.actor}' must trigger it",
        )
    ok = ctx.text("actor_id") == p.actor_id
    return _Outcome(
        "actor_id",
        ok,
        p.actor_id,
        actual,
        "must equal the claim exactly",
        ""
        if ok
        else f"the build was triggered by '{ctx.shown('actor')}': the configured actor "
        f"'{p.actor}' must trigger it",
    )


def _activestate_sub(p: Publisher, ctx: _Ctx) -> _Outcome:
    claim = ctx.claims.get("sub")
    expected = f"org:{p.organization}:project:{p.project}"
    rule = "must start with org:<organization>:project:<project> (exact)"
    actual = claim_text(claim)
    if not claim:
        return _Outcome(
            "sub",
            False,
            expected,
            actual,
            rule,
            "the token's subject is empty; publish through ActiveState's pypi_publisher build",
            reason="Missing 'subject' claim",
        )
    parts = str(claim).split(":")
    if len(parts) < 4:
        return _Outcome(
            "sub",
            False,
            expected,
            actual,
            rule,
            "the subject is not org:<organization>:project:<project>",
            reason="Invalid 'subject' claim. Wrong format",
        )
    ok = ":".join(parts[:4]) == expected
    return _Outcome(
        "sub",
        ok,
        expected,
        actual,
        rule,
        "" if ok else "the build belongs to another organization or project",
        reason=None if ok else "Invalid 'subject' claim",
    )


def _activestate_builder(p: Publisher, ctx: _Ctx) -> _Outcome:
    ok = ctx.claims.get("builder") == ACTIVESTATE_BUILDER
    return _Outcome(
        "builder",
        ok,
        ACTIVESTATE_BUILDER,
        ctx.shown("builder"),
        "must be pypi-publisher",
        ""
        if ok
        else "publish through ActiveState's pypi_publisher build step (builder pypi-publisher)",
    )


_ACTIVESTATE = _Rules(
    custom_issuer=False,
    required=("sub", "organization", "project", "actor_id", "builder"),
    prepare=_no_prepare,
    lookup=(
        _Step("lookup", _exact("organization", "organization", "organization")),
        _Step("lookup", _exact("project", "project", "project")),
        _Step("lookup", _activestate_actor_id),
    ),
    selector=None,
    checks=(
        _Step("required", _activestate_sub),
        _Step("required", _exact("organization", "organization", "organization")),
        _Step("required", _exact("project", "project", "project")),
        _Step("required", _activestate_actor_id),
        _Step("required", _activestate_builder),
    ),
)

_RULES: dict[Provider, _Rules] = {
    Provider.GITHUB: _GITHUB,
    Provider.GITLAB: _GITLAB,
    Provider.GOOGLE: _GOOGLE,
    Provider.ACTIVESTATE: _ACTIVESTATE,
}


def required_claims(provider: Provider | str) -> tuple[str, ...]:
    """The claims PyPI requires to be present (not null) for ``provider``."""
    return _RULES[Provider(provider)].required


# -- the shared pipeline ------------------------------------------------------------------


def _other_provider_fix(provider: Provider, issuer: str) -> str:
    """When the token is another provider's: say so (the index routes tokens by issuer)."""
    other = provider_for_issuer(issuer)
    if other is None or other is provider:
        return ""
    return (
        f"this token comes from {other.display_name}, but the publisher is a "
        f"{provider.display_name} publisher: declare (and configure on the index) a "
        f"{other.display_name} publisher for this job"
    )


def _issuer_outcome(provider: Provider, ctx: _Ctx) -> _Outcome:
    ok = ctx.issuer == ctx.canonical_issuer
    return _Outcome(
        "iss",
        ok,
        ctx.canonical_issuer,
        ctx.issuer,
        f"must be {provider.display_name}'s issuer",
        ""
        if ok
        else _other_provider_fix(provider, ctx.issuer)
        or f"PyPI accepts {provider.display_name} tokens only from {ctx.canonical_issuer}",
        reason=None
        if ok
        else f"JWT issuer {ctx.issuer!r} does not match expected issuer {ctx.canonical_issuer!r}",
    )


def _presence(rules: _Rules, ctx: _Ctx) -> list[_Outcome]:
    return [
        _Outcome(
            name,
            ctx.claims.get(name) is not None,
            None,
            ctx.shown(name),
            "must be present",
            "" if ctx.claims.get(name) is not None else f"the token has no '{name}' claim",
            reason=f"Missing claim {name!r}",
        )
        for name in rules.required
    ]


def _single_selection(rules: _Rules, p: Publisher, ctx: _Ctx) -> _Outcome | None:
    """The tie-break applied to one looked-up publisher, as a row."""
    if rules.selector is None:
        return None
    outcome = rules.selector.step.run(p, ctx)
    chosen = rules.selector.specific(p, ctx) or rules.selector.general(p)
    if chosen != outcome.ok:  # pragma: no cover - guards the step tables' consistency
        raise AssertionError(f"selector and step disagree on {outcome.field}")
    return outcome


def _pipeline(provider: Provider, p: Publisher, ctx: _Ctx) -> list[tuple[Stage | str, _Outcome]]:
    """Every outcome for one publisher, in the order the server decides."""
    rules = _RULES[provider]
    out: list[tuple[Stage | str, _Outcome]] = []
    if not rules.custom_issuer:
        out.append(("issuer", _issuer_outcome(provider, ctx)))
    out.extend(("presence", outcome) for outcome in _presence(rules, ctx))
    prepared = rules.prepare(ctx)
    if prepared is not None:
        reason, field = prepared
        out.append(
            (
                "prepare",
                _Outcome(
                    field,
                    False,
                    None,
                    ctx.shown(field),
                    "must name a workflow file ending in .yml or .yaml followed by @",
                    "the token's claim names no workflow file",
                    reason=reason,
                ),
            )
        )
    out.extend((step.stage, step.run(p, ctx)) for step in rules.lookup)
    selection = _single_selection(rules, p, ctx)
    if selection is not None:
        out.append(("select", selection))
    out.extend((step.stage, step.run(p, ctx)) for step in rules.checks)
    return out


def _reason(stage: Stage | str, outcome: _Outcome) -> str:
    if outcome.reason is not None:
        return outcome.reason
    if stage in ("lookup", "select", "required", "optional"):
        return _default_reason(stage, outcome.field)
    return NOT_FOUND  # pragma: no cover - issuer/presence/prepare always carry a reason


def find_publisher(
    publishers: Sequence[Publisher],
    claims: Mapping[str, Any],
    *,
    provider: Provider | str,
    issuer: str,
    canonical_issuer: str,
    jti_seen: Callable[[str], bool] | None = None,
) -> Lookup:
    """Warehouse's server algorithm over ``publishers`` (one provider's, pending or not).

    ``issuer`` is the token's ``iss`` as accepted by the server;
    ``canonical_issuer`` the issuer the server treats as the provider's own.
    ``jti_seen`` (optional) tells whether a ``jti`` was already exchanged; a
    hit yields ``Lookup(reused=True)`` (``invalid-reuse-token``). Publisher
    ``owner_id``/``actor_id`` of None are "not pinned" and match any value.
    """
    kind = Provider(provider)
    rules = _RULES[kind]
    ctx = _Ctx(claims, issuer, canonical_issuer, jti_seen)
    if not rules.custom_issuer:
        outcome = _issuer_outcome(kind, ctx)
        if not outcome.ok:
            return Lookup(None, outcome.reason, "iss")
    for outcome in _presence(rules, ctx):
        if not outcome.ok:
            return Lookup(None, outcome.reason, outcome.field)
    prepared = rules.prepare(ctx)
    if prepared is not None:
        return Lookup(None, prepared[0], prepared[1])
    mine = [p for p in publishers if p.provider is kind]
    candidates = [p for p in mine if all(step.run(p, ctx).ok for step in rules.lookup)]
    chosen: Publisher | None = None
    if rules.selector is None:
        chosen = candidates[0] if candidates else None
    else:
        selector = rules.selector
        chosen = next((p for p in candidates if selector.specific(p, ctx)), None) or next(
            (p for p in candidates if selector.general(p)), None
        )
    if chosen is None:
        return Lookup(None, NOT_FOUND, _nearest_lookup_failure(kind, mine, ctx))
    for step in rules.checks:
        outcome = step.run(chosen, ctx)
        if not outcome.ok:
            return Lookup(None, _reason(step.stage, outcome), outcome.field, outcome.reused)
    return Lookup(chosen, None, None)


def _nearest_lookup_failure(
    kind: Provider, publishers: Sequence[Publisher], ctx: _Ctx
) -> str | None:
    """The deciding lookup field for the publisher that came closest to matching."""
    rules = _RULES[kind]
    best: tuple[int, str | None] = (-1, None)
    for p in publishers:
        outcomes = [step.run(p, ctx) for step in rules.lookup]
        selection = _single_selection(rules, p, ctx)
        if selection is not None:
            outcomes.append(selection)
        passed = 0
        failed: str | None = None
        for outcome in outcomes:
            if not outcome.ok:
                failed = outcome.field
                break
            passed += 1
        if passed > best[0]:
            best = (passed, failed)
    return best[1]


def compare(
    publisher: Publisher,
    claims: Mapping[str, Any],
    *,
    issuer: str | None = None,
    canonical_issuer: str | None = None,
) -> Comparison:
    """Explain, per field, how PyPI would judge ``claims`` against ``publisher``.

    The verdict and deciding field agree with ``find_publisher([publisher],
    claims, ...)``. ``issuer`` defaults to the token's ``iss``;
    ``canonical_issuer`` to the provider's real issuer (or the local sandbox's
    when the token came from it). Fields the client cannot know (an undeclared
    ``owner_id``/``actor_id``, ``jti`` reuse) are rows marked "checked by PyPI".
    """
    kind = publisher.provider
    iss = issuer if issuer is not None else claims.get("iss")
    iss_text = iss if isinstance(iss, str) else ""
    canonical = canonical_issuer or canonical_issuer_for(kind, iss_text)
    ctx = _Ctx(claims, iss_text, canonical, None)
    ordered = _pipeline(kind, publisher, ctx)
    decisive = next(((stage, o) for stage, o in ordered if not o.ok), None)
    # One row per claim: its first failure, else its first non-presence outcome.
    rows: dict[str, tuple[Stage | str, _Outcome]] = {}
    for stage, outcome in ordered:
        current = rows.get(outcome.field)
        if (
            current is None
            or (current[1].ok and not outcome.ok)
            or (current[1].ok and current[0] == "presence" and stage != "presence")
        ):
            rows[outcome.field] = (stage, outcome)
    checks = tuple(
        FieldCheck(o.field, o.expected, o.actual, o.rule, o.ok, o.fix) for _, o in rows.values()
    )
    if decisive is None:
        return Comparison(checks, True, None, None)
    stage, outcome = decisive
    return Comparison(checks, False, outcome.field, _reason(stage, outcome))


__all__ = [
    "ACTIVESTATE_BUILDER",
    "MATCHED_CLAIMS",
    "NOT_FOUND",
    "PULL_REQUEST_TARGET",
    "REUSED",
    "Comparison",
    "FieldCheck",
    "Lookup",
    "compare",
    "find_publisher",
    "required_claims",
]
