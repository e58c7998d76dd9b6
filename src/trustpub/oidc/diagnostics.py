"""Explanations for every refusal on the trusted-publishing path.

Each ``explain_*`` function turns what the index answered into an
:class:`Explanation`: a one-line ``message``, ``details`` lines (likely
causes, the claims PyPI matches, the publisher to configure, the comparison
with the declared publisher), a ``hint`` (the fix) and the troubleshooting
``anchor``. Callers put these into a :class:`~trustpub.errors.TrustpubError`.

Nothing here ever includes a token: only claim values (which are not secret)
and the index's own words.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from trustpub._secret import redact_token_shapes
from trustpub.oidc import validity
from trustpub.oidc.claims import DecodedToken, claim_text
from trustpub.oidc.publishers import (
    CANONICAL_ISSUERS,
    Provider,
    Publisher,
    is_sandbox_issuer,
    provider_for_issuer,
)
from trustpub.oidc.rules import MATCHED_CLAIMS, NOT_FOUND, PULL_REQUEST_TARGET, Comparison, compare
from trustpub.repository import normalize_name

DEBUG_LABEL = "for debugging only, do not copy into configuration blindly"
"""The label PyPI's own tooling puts on printed claims."""

MISSING = "MISSING"

TRIGGER_FIX = "publish from a push of a tag, a published release or workflow_dispatch"
EMAIL_FIX = "request the identity token with its email (format=full / includeEmail=true)"
BUILDER_FIX = "publish through ActiveState's pypi_publisher build step"
"""Fixes for claims PyPI refuses (GitHub's trigger, Google's email, ActiveState's builder).

Said by these explanations and, word for word, by the providers' preflight findings
(``providers/github.py``, ``google.py``, ``activestate.py`` import them: ``oidc/`` may not
import ``providers/``)."""

INDEX_HOSTS = {"pypi": "https://pypi.org", "testpypi": "https://test.pypi.org"}


MINT_DESCRIPTION_LIMIT = 500
"""Characters of a mint error's ``description`` shown (on one line)."""


@dataclass(frozen=True)
class Explanation:
    """Text for one refusal, ready for a ``TrustpubError(message, hint=, details=, anchor=)``."""

    message: str
    details: tuple[str, ...]
    hint: str
    anchor: str

    def as_kwargs(self) -> dict[str, Any]:
        """``hint``, ``details`` and ``anchor`` as keyword arguments for an error class."""
        return {"hint": self.hint, "details": self.details, "anchor": self.anchor}


@dataclass(frozen=True)
class FormField:
    """One field of PyPI's "add a trusted publisher" form."""

    key: str
    """The form's field name (also the pre-fill query parameter)."""
    label: str
    value: str | None
    """None: the token does not say (MISSING); "" : leave the field empty."""
    optional: bool = False


@dataclass(frozen=True)
class PublisherForm:
    """What to type into PyPI's form for one provider."""

    provider: Provider
    fields: tuple[FormField, ...]

    @property
    def complete(self) -> bool:
        """Whether every required field has a value."""
        return all(f.value for f in self.fields if not f.optional)

    def query(self) -> dict[str, str]:
        """Pre-fill parameters (``provider`` + the form field names)."""
        params = {"provider": self.provider.value}
        params.update({f.key: f.value for f in self.fields if f.value})
        return params


def resolve_provider(
    provider: str | Provider | None, token: DecodedToken | None
) -> Provider | None:
    """The PyPI provider for a detection name, else from the token's issuer."""
    if isinstance(provider, Provider):
        return provider
    if provider:
        try:
            return Provider(provider)
        except ValueError:
            pass
    return provider_for_issuer(token.issuer) if token is not None else None


def claims_table(token: DecodedToken, provider: Provider) -> list[tuple[str, str]]:
    """The claims PyPI matches for ``provider``: (name, value or ``MISSING``)."""
    rows = []
    for name in MATCHED_CLAIMS[provider]:
        value = token.claims.get(name)
        rows.append((name, MISSING if value is None else claim_text(value) or '""'))
    return rows


def _github_workflow(ref: str | None) -> str | None:
    if not ref or "@" not in ref:
        return None
    path = ref.split("@", 1)[0]
    name = path.rsplit("/", 1)[-1]
    return name if name.endswith((".yml", ".yaml")) else None


def _gitlab_pipeline(uri: str | None) -> str | None:
    if not uri or "//" not in uri or "@" not in uri:
        return None
    path = uri.split("//", 1)[1].rsplit("@", 1)[0]
    return path if path.endswith((".yml", ".yaml")) else None


def publisher_form(token: DecodedToken, provider: Provider | str) -> PublisherForm:
    """The publisher to configure on PyPI for this token, as PyPI's form fields."""
    kind = Provider(provider)
    text = token.claim_text
    fields: tuple[FormField, ...]
    if kind is Provider.GITHUB:
        repository = text("repository") or ""
        owner = text("repository_owner") or (repository.split("/", 1)[0] or None)
        name = repository.split("/", 1)[1] if "/" in repository else None
        fields = (
            FormField("owner", "Owner", owner),
            FormField("repository", "Repository name", name),
            FormField(
                "workflow_filename", "Workflow name", _github_workflow(text("job_workflow_ref"))
            ),
            FormField("environment", "Environment name", text("environment") or "", True),
        )
    elif kind is Provider.GITLAB:
        path = text("project_path") or ""
        namespace, _, project = path.rpartition("/")
        form = [
            FormField("namespace", "Namespace", namespace or None),
            FormField("project", "Project name", project or None),
            FormField(
                "workflow_filepath",
                "Top-level pipeline file path",
                _gitlab_pipeline(text("ci_config_ref_uri")),
            ),
            FormField("environment", "Environment name", text("environment") or "", True),
        ]
        issuer = token.issuer
        if issuer and issuer != CANONICAL_ISSUERS[Provider.GITLAB]:
            form.append(FormField("issuer_url", "GitLab instance (issuer URL)", issuer))
        fields = tuple(form)
    elif kind is Provider.GOOGLE:
        fields = (
            FormField("email", "Email", text("email")),
            FormField("sub", "Subject", text("sub") or "", True),
        )
    else:
        fields = (
            FormField("organization", "Organization", text("organization")),
            FormField("project", "Project", text("project")),
            FormField("actor", "Actor username", text("actor")),
        )
    return PublisherForm(kind, fields)


def publisher_to_configure(token: DecodedToken, provider: Provider | str) -> list[tuple[str, str]]:
    """PyPI form fields (label, value) for this token; ``MISSING`` where the token is silent."""
    rows = []
    for field in publisher_form(token, provider).fields:
        if field.value:
            value = field.value
        elif field.optional:
            value = "(leave empty)"
        else:
            value = MISSING
        label = f"{field.label} (optional)" if field.optional else field.label
        rows.append((label, value))
    return rows


PENDING_NOTE = (
    "the pending-publisher page is not pre-filled (PyPI reads query parameters only on a "
    "project's publishing page): type the values shown, with the project name; a pending "
    "publisher does not reserve the name until the first upload creates the project"
)
"""Said wherever a pending-publisher link is printed (Warehouse 6b62157:
``manage/views/oidc_publishers.py`` pre-fills from ``request.params`` when ``provider`` is
given; ``accounts/views.py`` ``ManageAccountPublishingViews`` builds its forms from POST only)."""


def publisher_links(form: PublisherForm, project: str | None) -> dict[str, str]:
    """PyPI/TestPyPI URLs: ``<index>-project`` (pre-filled) and ``<index>-pending`` (plain).

    Only the project's publishing page pre-fills its form from the query (``provider`` plus
    the form's field names); the account page for pending publishers does not, so its link
    carries no parameters (show :data:`PENDING_NOTE` with it). Project links are only given
    when ``project`` is known.
    """
    links: dict[str, str] = {}
    params = form.query()
    for index, base in INDEX_HOSTS.items():
        if project:
            links[f"{index}-project"] = (
                f"{base}/manage/project/{normalize_name(project)}/settings/publishing/?"
                + urlencode(params)
            )
        links[f"{index}-pending"] = f"{base}/manage/account/publishing/"
    return links


def form_for_publisher(publisher: Publisher) -> PublisherForm:
    """PyPI's form fields for a declared publisher (what ``trustpub init`` asks you to register)."""
    p = publisher
    fields: tuple[FormField, ...]
    if p.provider is Provider.GITHUB:
        fields = (
            FormField("owner", "Owner", p.owner),
            FormField("repository", "Repository name", p.repository_name),
            FormField("workflow_filename", "Workflow name", p.workflow),
            FormField("environment", "Environment name", p.environment or "", True),
        )
    elif p.provider is Provider.GITLAB:
        gitlab = [
            FormField("namespace", "Namespace", p.namespace),
            FormField("project", "Project name", p.gitlab_project),
            FormField("workflow_filepath", "Top-level pipeline file path", p.workflow),
            FormField("environment", "Environment name", p.environment or "", True),
        ]
        if p.issuer and p.issuer != CANONICAL_ISSUERS[Provider.GITLAB]:
            gitlab.append(FormField("issuer_url", "GitLab instance (issuer URL)", p.issuer))
        fields = tuple(gitlab)
    elif p.provider is Provider.GOOGLE:
        fields = (
            FormField("email", "Email", p.email),
            FormField("sub", "Subject", p.sub or "", True),
        )
    else:
        fields = (
            FormField("organization", "Organization", p.organization),
            FormField("project", "Project", p.project),
            FormField("actor", "Actor username", p.actor),
        )
    return PublisherForm(p.provider, fields)


def comparison_lines(comparison: Comparison) -> list[str]:
    """The declared-publisher comparison as indented text rows."""
    lines = []
    for check in comparison.checks:
        verdict = "ok" if check.ok else "MISMATCH"
        expected = "-" if check.expected is None else check.expected
        actual = MISSING if check.actual is None else check.actual
        line = (
            f"  [{verdict}] {check.field}: expected {expected}, token has {actual} ({check.rule})"
        )
        lines.append(line)
        if not check.ok and check.fix:
            lines.append(f"      fix: {check.fix}")
    return lines


def _block(title: str, rows: Sequence[tuple[str, str]]) -> list[str]:
    return [title, *(f"  {label}: {value}" for label, value in rows)]


def _token_blocks(
    token: DecodedToken | None, provider: Provider | None, target_display: str
) -> tuple[list[str], list[str]]:
    """The claims PyPI matches and the publisher to configure (none without token and provider)."""
    if token is None or provider is None:
        return [], []
    shown = provider.display_name
    return (
        _block(f"Claims PyPI matches for {shown} ({DEBUG_LABEL}):", claims_table(token, provider)),
        _block(
            f"Publisher to configure on {target_display} ({shown}):",
            publisher_to_configure(token, provider),
        ),
    )


def _declared_block(
    token: DecodedToken | None, declared: Publisher | None
) -> tuple[list[str], Comparison | None]:
    if token is None or declared is None:
        return [], None
    comparison = compare(declared, token.claims)
    lines = [f"Compared with the declared publisher ({declared.describe()}):"]
    lines.extend(comparison_lines(comparison))
    return lines, comparison


def _reason_of(description: str) -> str:
    prefix = "valid token, but no corresponding publisher ("
    if description.startswith(prefix) and description.endswith(")"):
        return description[len(prefix) : -1]
    return description


_FIXED_CAUSES: tuple[tuple[Callable[[str], bool], str, str], ...] = (
    (
        lambda reason: reason.startswith("JWT issuer "),
        "the token's issuer is not the provider's public issuer "
        "(GitHub Enterprise Server and custom issuers are not accepted)",
        "publish from the provider's public service (github.com, gitlab.com)",
    ),
    (
        lambda reason: reason == PULL_REQUEST_TARGET,
        "the workflow was triggered by pull_request_target, which PyPI refuses",
        TRIGGER_FIX,
    ),
    (
        lambda reason: reason.startswith("The job_workflow_ref claim does not match"),
        "the token was requested by a reusable workflow in another repository or at "
        "another ref; PyPI matches the CALLED workflow file (job_workflow_ref)",
        "run the publishing job in a workflow file of the repository itself "
        "and name that file in the publisher",
    ),
    (
        lambda reason: (
            reason == "The ref and sha claims are empty"
            or reason.startswith("The ref_path and sha")
        ),
        "the job has no git ref or commit (e.g. a deployment without a ref)",
        "run the publishing job from a branch or tag",
    ),
    (
        lambda reason: reason.startswith("The ci_config_ref_uri claim does not match"),
        "the publisher's namespace or project differ in case from GitLab's canonical "
        "path, or the pipeline path differs",
        "configure the publisher with the namespace/project exactly as in the token's "
        "ci_config_ref_uri",
    ),
    (
        lambda reason: reason.startswith(("Could not job extract", "Could not extract")),
        "the token does not name a workflow/pipeline file ending in .yml or .yaml",
        "run the release from a workflow/pipeline file ending in .yml or .yaml",
    ),
    (
        lambda reason: "subject" in reason,
        "the ActiveState token's subject does not name the configured organization/project",
        "check the organization and project of the ActiveState publisher",
    ),
    (
        lambda reason: reason == "Check failed for required claim 'email_verified'",
        "the Google token's email is not verified (email_verified is not true)",
        EMAIL_FIX,
    ),
    (
        lambda reason: reason == "Check failed for required claim 'builder'",
        "the ActiveState token was not issued to the pypi-publisher builder",
        BUILDER_FIX,
    ),
)
"""Warehouse's ``invalid-publisher`` reasons (oidc/models at 6b62157) -> (cause, fix)."""

_NOT_FOUND_CAUSES: dict[Provider | None, tuple[str, ...]] = {
    Provider.GITHUB: (
        "no publisher has exactly this owner, repository name, workflow file name and "
        "environment (the lookup is case-sensitive)",
        "a renamed repository/owner, a renamed or moved workflow file, or a changed "
        "environment breaks a publisher that used to work",
        "the repository owner was deleted and re-created (its numeric id changed)",
    ),
    Provider.GITLAB: (
        "no publisher has this namespace/project, top-level pipeline file path and "
        "environment (environments are case-sensitive)",
        "included pipeline files do not count: PyPI sees only the top-level file",
    ),
    Provider.GOOGLE: ("no publisher has this service-account email (or its subject pin differs)",),
    Provider.ACTIVESTATE: (
        "no publisher has this organization, project and actor (the actor must be the "
        "user who triggered the build)",
    ),
    None: ("no publisher on the index matches the token's claims",),
}


def _publisher_causes(
    reason: str, provider: Provider | None, token: DecodedToken | None
) -> tuple[list[str], str]:
    """Likely causes and the fix for an ``invalid-publisher`` reason."""
    if reason.startswith("Missing claim "):
        claim = reason.removeprefix("Missing claim ").strip("'")
        name = provider.display_name if provider else "the CI provider"
        return (
            [f"the token has no '{claim}' claim: it is not a {name} CI token as PyPI expects it"],
            f"make sure the token really comes from {name}'s CI identity for this job",
        )
    for matches, cause, fix in _FIXED_CAUSES:
        if matches(reason):
            return [cause], fix
    if reason != NOT_FOUND:
        return (
            [f"the token does not satisfy the publisher: {reason}"],
            "compare the publisher's fields with the claims below",
        )
    causes = list(_NOT_FOUND_CAUSES[provider])
    claims: Mapping[str, Any] = token.claims if token is not None else {}
    workflow_ref, job_ref = claims.get("workflow_ref"), claims.get("job_workflow_ref")
    if provider is Provider.GITHUB and workflow_ref and job_ref and workflow_ref != job_ref:
        causes.append(
            "this job runs in a reusable workflow: PyPI looks for the CALLED file "
            f"({_github_workflow(claim_text(job_ref))}), not the caller"
        )
    return causes, "add the publisher below on the index (or fix the workflow to match it)"


@dataclass(frozen=True)
class _MintAnswer:
    """What the index answered to one mint request, as the first lines of every explanation."""

    code: str
    lines: tuple[str, ...]

    def build(
        self, message: str, causes: Sequence[str], hint: str, blocks: Sequence[str]
    ) -> Explanation:
        details = list(self.lines)
        if causes:
            details.append("Likely causes:")
            details.extend(f"  - {cause}" for cause in causes)
        details.extend(blocks)
        return Explanation(message, tuple(details), hint, self.code)


def _publisher_links(
    token: DecodedToken | None, kind: Provider | None, target_display: str, project: str | None
) -> list[str]:
    """Links to PyPI's publisher forms (only for PyPI and TestPyPI, only with a token)."""
    if token is None or kind is None or target_display not in INDEX_HOSTS:
        return []
    urls = publisher_links(publisher_form(token, kind), project)
    index = target_display
    links: list[str] = []
    if f"{index}-project" in urls:
        links.append(f"Add it to the project: {urls[f'{index}-project']}")
    links.append(f"Or as a pending publisher (new project): {urls[f'{index}-pending']}")
    links.append(f"  ({PENDING_NOTE})")
    return links


_REUSED = (
    [
        "an OIDC token can be exchanged once; this one was used by an earlier mint",
        "the token was cached or shared between jobs or steps",
    ],
    "request a fresh OIDC token for every exchange (a GitLab/ActiveState token "
    "variable holds one token per job: mint once and reuse the upload token)",
)
_PENDING_EXISTS = (
    [
        "a pending publisher can only create a project that does not exist yet",
        "the project was created meanwhile (by an earlier run, or someone else took "
        "the name); the index has now deleted this pending publisher",
    ],
    "if the project is yours, add a normal trusted publisher on the project's "
    "Publishing settings page; otherwise pick another project name",
)
_NOT_ENABLED = (
    [
        "the index's administrators disabled trusted publishing "
        "(not a problem with your configuration)"
    ],
    "retry later (see https://status.python.org), or publish with an API token (--token) meanwhile",
)


def explain_mint_error(
    code: str,
    description: str,
    *,
    token: DecodedToken | None,
    provider: str | Provider | None,
    declared: Publisher | None,
    target_display: str,
    audience: str | None = None,
    now: float | None = None,
    project: str | None = None,
) -> Explanation:
    """Explain one ``/_/oidc/mint-token`` error (``code`` and ``description`` as sent)."""
    kind = resolve_provider(provider, token)
    description = redact_token_shapes(description)
    # What the index said is shown as one bounded line: it must not add lines of its own.
    flat = " ".join(description.split())
    excerpt = flat[:MINT_DESCRIPTION_LIMIT] + ("..." if len(flat) > MINT_DESCRIPTION_LIMIT else "")
    answer = _MintAnswer(code, (f"{target_display} answered: {code}: {excerpt}".rstrip(": "),))
    claims_lines, configure = _token_blocks(token, kind, target_display)
    links = _publisher_links(token, kind, target_display, project)
    if code == "invalid-publisher":
        declared_lines, comparison = _declared_block(token, declared)
        reason = _reason_of(description)
        causes, hint = _publisher_causes(reason, kind, token)
        if comparison is not None and not comparison.ok:
            failing = next(c for c in comparison.checks if c.field == comparison.field)
            hint = failing.fix or hint
        who = f"{kind.display_name} " if kind else ""
        return answer.build(
            f"{target_display} has no trusted publisher matching this {who}token ({reason})",
            causes,
            hint,
            [*claims_lines, *configure, *links, *declared_lines],
        )
    if code == "invalid-pending-publisher":
        message = f"{target_display} refused the pending publisher: the project already exists"
        return answer.build(message, *_PENDING_EXISTS, [*configure, *links])
    if code == "invalid-reuse-token":
        message = f"{target_display} refused the OIDC token: it was already exchanged"
        return answer.build(message, *_REUSED, [])
    if code == "invalid-token":
        causes = _token_causes(token, audience, time.time() if now is None else now)
        return answer.build(
            f"{target_display} could not verify the OIDC token (malformed or invalid token)",
            causes,
            "run `trustpub claims` in the same job to check the token's audience, "
            "issuer and validity window",
            claims_lines,
        )
    if code == "invalid-payload":
        message, causes, hint, anchor = _payload_parts(description, token, kind, target_display)
        blocks = claims_lines if anchor == "unknown-issuer" else []
        built = answer.build(message, causes, hint, blocks)
        return Explanation(built.message, built.details, built.hint, anchor)
    if code == "not-enabled":
        who = f" for {kind.display_name}" if kind else ""
        message = f"{target_display} has trusted publishing turned off{who}"
        return answer.build(message, *_NOT_ENABLED, [])
    return answer.build(
        f"{target_display} refused the token exchange: {code}",
        [],
        "see the index's answer above; rerun with -v for details",
        claims_lines,
    )


def _token_causes(token: DecodedToken | None, audience: str | None, now: float) -> list[str]:
    causes: list[str] = []
    if token is not None:
        aud = token.audience
        if isinstance(aud, list):
            causes.append(f"the token has several audiences {aud}; the index accepts exactly one")
        elif audience is not None and aud != audience:
            causes.append(
                f"the token's audience is {aud!r} but the index expects {audience!r} "
                "(e.g. a pypi token sent to TestPyPI)"
            )
        for broken in validity.time_violations(token, now):  # PyPI's rule, PyPI's leeway
            if broken.rule is validity.Rule.EXPIRED:
                causes.append(f"the token expired {broken.seconds} s ago")
            else:
                causes.append(
                    f"the token's {broken.claim} is {broken.seconds} s in the future: "
                    "a clock is wrong"
                )
    causes.append("the signature or issuer keys could not be verified by the index")
    return causes


def _payload_parts(
    description: str, token: DecodedToken | None, kind: Provider | None, target_display: str
) -> tuple[str, list[str], str, str]:
    """(message, causes, hint, anchor) for an ``invalid-payload`` description."""
    text = description.strip()
    if text == "unknown trusted publishing issuer":
        issuer = token.issuer if token is not None else None
        causes = [f"the token's issuer {issuer!r} is not one the index trusts"]
        if issuer and (kind is Provider.GITLAB or "gitlab" in issuer.lower()):
            causes.append(
                "self-managed GitLab works only after PyPI registers the instance for a PyPI "
                "organization (beta)"
            )
        elif issuer and not is_sandbox_issuer(issuer):
            causes.append(
                "PyPI accepts GitHub (github.com), GitLab (gitlab.com), Google Cloud and "
                "ActiveState; GitHub Enterprise Server and other CI services are not supported"
            )
        return (
            f"{target_display} does not accept tokens from this issuer",
            causes,
            "publish from a supported provider, or use an API token (--token)",
            "unknown-issuer",
        )
    if text == "malformed JWT":
        return (
            f"{target_display} could not read the OIDC token (malformed JWT)",
            ["the value sent is not a JWT, or it has no 'iss' claim"],
            "check where the token comes from (--oidc-token-env, the CI variable)",
            "invalid-payload",
        )
    markers = (
        "isn't allowed",
        "too similar",
        "Standard Library",
        "temporarily disabled",
        "invalid",
    )
    if any(marker in text for marker in markers) and "validation error" not in text:
        return (
            f"{target_display} could not create the project for the pending publisher",
            [f"the index refused the project name: {text.splitlines()[0]}"],
            "register a pending publisher with another project name (and use that name in "
            "your package metadata)",
            "invalid-payload",
        )
    return (
        f"{target_display} rejected the exchange request body",
        ['the request body was not the JSON object {"token": "..."} the index expects'],
        "this is a bug in trustpub or a proxy rewrote the request; rerun with -v and report it",
        "invalid-payload",
    )


def explain_audience_failure(status: int, body: str, target_display: str) -> Explanation:
    """Explain a failed ``GET /_/oidc/audience`` (403 disabled, 404 unsupported, non-JSON)."""
    body = redact_token_shapes(body)
    message_text = _json_message(body)
    if status == 403:
        return Explanation(
            f"{target_display} has trusted publishing disabled (HTTP 403 from /_/oidc/audience)",
            (f"{target_display} said: {message_text}",) if message_text else (),
            "the index's administrators turned trusted publishing off; retry later or publish "
            "with an API token (--token)",
            "not-enabled",
        )
    if status == 404:
        return Explanation(
            f"{target_display} does not support trusted publishing (HTTP 404 from "
            "/_/oidc/audience)",
            (
                "only PyPI and TestPyPI (and Warehouse-compatible indexes such as the trustpub "
                "sandbox) offer trusted publishing; pypiserver, devpi and most private "
                "indexes do not",
            ),
            "check the --repository URL, or publish with an API token (--token)",
            "no-trusted-publishing",
        )
    kind = "an HTML page" if _looks_html(body) else "a non-JSON body"
    if message_text is not None:
        kind = "JSON without an audience"
    return Explanation(
        f"{target_display} answered /_/oidc/audience with HTTP {status} and {kind}",
        (
            "a proxy, a login page or a wrong URL answered instead of the index",
            "the repository URL must be the upload URL of a Warehouse-compatible index "
            "(e.g. https://upload.pypi.org/legacy/)",
        ),
        "check the --repository URL and any proxy between this job and the index",
        "unexpected-audience-response",
    )


def _json_message(body: str) -> str | None:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        return str(data["message"])
    return None


def _looks_html(body: str) -> bool:
    head = body.lstrip()[:200].lower()
    return head.startswith(("<!doctype html", "<html")) or "<html" in head


__all__ = [
    "BUILDER_FIX",
    "DEBUG_LABEL",
    "EMAIL_FIX",
    "MISSING",
    "PENDING_NOTE",
    "TRIGGER_FIX",
    "Explanation",
    "FormField",
    "PublisherForm",
    "claims_table",
    "comparison_lines",
    "explain_audience_failure",
    "explain_mint_error",
    "form_for_publisher",
    "publisher_form",
    "publisher_links",
    "publisher_to_configure",
    "resolve_provider",
]
