"""``trustpub publish`` as a function: resolve, validate, identify, exchange, upload, burn.

The orchestration returns a :class:`PublishResult` and raises
:class:`~trustpub.errors.TrustpubError` subclasses; it never prints. Progress
goes to a :class:`~trustpub.reporter.Reporter`; every secret it obtains (the
API token, the OIDC token, each minted token) is handed to ``on_secret``
*before* anything else can mention it, so the CLI can mask it on GitHub.

Order of a run (nothing is uploaded unless every step before the upload
succeeds):

1. resolve the repository;
2. collect and validate **all** distributions;
3. pick the credential: trusted publishing (``auto``/``always``) from the
   detected CI identity, or ``--token``, or the keyring;
4. with trusted publishing and a declared publisher (``[tool.trustpub.publisher]``
   or ``--expect``), compare the OIDC claims with it *before* minting, so a
   mismatch costs no token;
5. ``--dry-run`` stops before minting (after the OIDC token, preflight and the
   existing-file check): no mint, no upload;
6. upload, then burn the minted token.

Errors before the upload are raised. Once distributions are known, failures of
later steps are returned in :attr:`PublishResult.error` together with each
file's status, so the CLI can print the same summary in every case.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import httpx

from trustpub._secret import Secret
from trustpub.errors import (
    ExchangeError,
    ExitCode,
    IdentityError,
    TrustpubError,
    UploadError,
    UsageError,
)
from trustpub.index_config import TOKEN_USERNAME, IndexChoice, IndexOptions, resolve_index
from trustpub.reporter import NULL_REPORTER, Reporter
from trustpub.repository import IndexTarget, normalize_name
from trustpub.upload.results import FileResult, FileStatus

if TYPE_CHECKING:
    from trustpub.attest import Refusal
    from trustpub.exchange import UploadCredential
    from trustpub.oidc.claims import DecodedToken
    from trustpub.oidc.publishers import Publisher
    from trustpub.oidc.rules import Comparison
    from trustpub.providers import Detection, Finding
    from trustpub.upload.results import UploadReport
    from trustpub.upload.uploader import Uploader
    from trustpub.upload.validate import Distribution

Mode = Literal["auto", "always", "never"]
MODES: tuple[str, ...] = ("auto", "always", "never")

SUPPORTED_CI = "GitHub Actions, GitLab CI/CD, Google Cloud or ActiveState"

SecretCallback = Callable[[Secret], None]
KeyringLookup = Callable[[str, str], "str | None"]
DetectFunction = Callable[..., "Detection | None"]


@dataclass(frozen=True)
class PublishRequest:
    """Everything ``trustpub publish`` was asked to do (already parsed)."""

    paths: tuple[str, ...] = ("dist/*",)
    repository: str = "pypi"
    mode: Mode = "auto"
    token: Secret | None = None
    use_keyring: bool = True
    skip_existing: bool = False
    attestations: str | bool = "auto"
    """``auto``, ``require`` or ``off`` (``True``/``False`` mean auto/off)."""
    check: bool = True
    jobs: int = 4
    dry_run: bool = False
    oidc_token_env: str | None = None
    expect: tuple[str, ...] = ()
    pyproject: Path | None = Path("pyproject.toml")
    index: IndexOptions = dataclasses.field(default_factory=IndexOptions)
    """``--username``, ``--password``, ``--index-url``, ``--config-file``."""


class PublishInterrupted(TrustpubError, exit_code=ExitCode.INTERRUPTED):
    """SIGINT before the uploads started (during them, the result says ``interrupted``)."""


@dataclass(frozen=True)
class PublishResult:
    """What a publish run did (or, with ``dry_run``, would do)."""

    repository: str
    upload_url: str
    trusted_publishing: bool
    provider: str | None
    identity: str
    """Which credential: the CI identity description, ``--token`` or the keyring."""
    files: tuple[FileResult, ...]
    project_url: str | None
    release_url: str | None
    ok: bool
    error: TrustpubError | None = None
    dry_run: bool = False
    interrupted: bool = False
    claims: tuple[tuple[str, str], ...] = ()
    """Non-secret claims of the OIDC token (shown in dry runs)."""
    notes: tuple[str, ...] = ()
    """Preflight findings and publisher-comparison lines."""
    minted: int = 0
    simple_url: str | None = None
    """The project's page on the index's simple API (named when there is no project page)."""
    attestation_identity: str | None = None
    """The identity the attestations were signed with (the certificate's SAN)."""

    @property
    def exit_code(self) -> ExitCode:
        if self.interrupted:
            return ExitCode.INTERRUPTED
        if self.error is not None:
            return self.error.exit_code
        return ExitCode.OK if self.ok else ExitCode.FAILURE


# Claims worth showing: they decide the publisher match and hold no secret.
SHOWN_CLAIMS = (
    "iss",
    "aud",
    "sub",
    "repository",
    "repository_owner",
    "repository_owner_id",
    "workflow_ref",
    "job_workflow_ref",
    "ref",
    "environment",
    "event_name",
    "project_path",
    "ci_config_ref_uri",
    "email",
    "email_verified",
    "organization",
    "project",
    "actor",
)


def keyring_lookup(service: str, username: str) -> str | None:
    """A password from the system keyring; None when there is none or no usable backend."""
    import keyring
    import keyring.errors

    try:
        value = keyring.get_password(service, username)
    except keyring.errors.KeyringError:
        return None
    return value if isinstance(value, str) and value else None


class RecordingReporter:
    """Forwards to another reporter and remembers each file's latest status."""

    def __init__(self, inner: Reporter) -> None:
        self.inner = inner
        self.statuses: dict[str, str] = {}
        self._lock = threading.Lock()

    def debug(self, message: str) -> None:
        self.inner.debug(message)

    def info(self, message: str) -> None:
        self.inner.info(message)

    def warning(self, message: str) -> None:
        self.inner.warning(message)

    def file_started(self, filename: str, size: int) -> None:
        with self._lock:
            self.statuses[filename] = "started"
        self.inner.file_started(filename, size)

    def file_progress(self, filename: str, sent: int) -> None:
        self.inner.file_progress(filename, sent)

    def file_finished(self, filename: str, status: str) -> None:
        with self._lock:
            self.statuses[filename] = status
        self.inner.file_finished(filename, status)


class SecretSink:
    """Hands each distinct secret to ``on_secret`` exactly once."""

    def __init__(self, on_secret: SecretCallback | None) -> None:
        self._on_secret = on_secret
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, secret: Secret) -> None:
        if self._on_secret is None or not secret:
            return
        with self._lock:
            if secret.fingerprint in self._seen:
                return
            self._seen.add(secret.fingerprint)
        self._on_secret(secret)


def no_identity_error() -> IdentityError:
    """``--trusted-publishing always`` outside a supported CI."""
    return IdentityError(
        "no trusted-publishing identity in this environment",
        hint=(
            f"trusted publishing needs a CI job on {SUPPORTED_CI}; on another CI pass the "
            "variable holding its OIDC token with --oidc-token-env NAME; elsewhere use "
            "--token or --trusted-publishing never"
        ),
        anchor="no-trusted-publishing-identity",
    )


def no_credential_error(
    target: IndexTarget, *, mode: str, keyring_used: bool, username: str | None = None
) -> IdentityError:
    """No API token anywhere (``never``), or no identity and no token (``auto``)."""
    if username and username != TOKEN_USERNAME:
        where = f", or the keyring (service {target.upload_url}, user {username})"
        return IdentityError(
            f"no password for user {username}",
            hint="give it with --password (TRUSTPUB_PASSWORD), in .pypirc"
            + (where if keyring_used else ""),
            anchor="no-credentials",
        )
    sources = "--token or TRUSTPUB_TOKEN (or --username/--password, or .pypirc)"
    if keyring_used:
        sources += f", or the keyring (service {target.upload_url}, user {TOKEN_USERNAME})"
    if mode == "never":
        return IdentityError(
            "no API token for --trusted-publishing never",
            hint=f"give an API token via {sources}",
            anchor="no-credentials",
        )
    return IdentityError(
        "no credentials: not in a trusted-publishing CI job, and no API token given",
        hint=(
            f"run in a CI job on {SUPPORTED_CI} (or pass --oidc-token-env NAME), "
            f"or give an API token via {sources}"
        ),
        anchor="no-credentials",
    )


def declared_publisher(request: PublishRequest, provider: str | None) -> Publisher | None:
    """``[tool.trustpub.publisher]`` from pyproject.toml, overridden key by key by ``--expect``."""
    from trustpub.oidc.publishers import Provider, load_declared_publisher, parse_expect

    declared = None
    if request.pyproject is not None:
        declared = load_declared_publisher(request.pyproject)
    if not request.expect:
        return declared
    known = {p.value for p in Provider}
    return parse_expect(
        list(request.expect), base=declared, provider=provider if provider in known else None
    )


def mismatch_error(comparison: Comparison, publisher: Publisher) -> ExchangeError:
    """The claims would be refused by the declared publisher: stop before spending the token."""
    from trustpub.oidc.diagnostics import comparison_lines

    deciding = comparison.field or "claims"
    fixes = [check.fix for check in comparison.checks if not check.ok and check.fix]
    return ExchangeError(
        f"the OIDC token does not match the declared publisher ({publisher.describe()}): "
        f"{deciding} differs; nothing was minted or uploaded",
        details=comparison_lines(comparison)
        + ([f"PyPI would refuse with: {comparison.reason}"] if comparison.reason else []),
        hint=fixes[0]
        if fixes
        else "make the publisher on the index and "
        "[tool.trustpub.publisher] / --expect agree with this job",
        anchor="publisher-mismatch",
    )


def project_urls(
    target: IndexTarget, dists: Sequence[Distribution]
) -> tuple[str | None, str | None]:
    """The project page and (when all files share one version) the release page.

    Only for indexes with PyPI's web layout; elsewhere such pages do not exist.
    """
    names = {normalize_name(d.name) for d in dists}
    if len(names) != 1 or not target.has_project_pages:
        return None, None
    project = f"{target.index_url}/project/{names.pop()}/"
    versions = {d.version for d in dists}
    release = f"{project}{versions.pop()}/" if len(versions) == 1 else None
    return project, release


def simple_page(target: IndexTarget, dists: Sequence[Distribution]) -> str | None:
    """The project's simple-index page, when there is one project and the index's is known."""
    names = {normalize_name(d.name) for d in dists}
    if len(names) != 1 or target.simple_url is None:
        return None
    return target.project_simple_url(names.pop())


def _claim_lines(decoded: DecodedToken) -> tuple[tuple[str, str], ...]:
    return tuple(
        (name, str(decoded.claims[name])) for name in SHOWN_CLAIMS if name in decoded.claims
    )


def _finding_text(finding: Finding) -> str:
    text = f"preflight {finding.severity}: {finding.message}"
    return text + (f" (fix: {finding.fix})" if finding.fix else "")


def _outcomes(
    dists: Sequence[Distribution], status: FileStatus, message: str = ""
) -> tuple[FileResult, ...]:
    return tuple(FileResult(d.filename, d.size, d.sha256, status, "", message) for d in dists)


@dataclass
class AttestState:
    """What this run does about attestations (decided step by step)."""

    send: bool
    """Whether the upload form carries the attestation files."""
    trusted: bool = False
    refusal: Refusal | None = None
    identity: str | None = None
    signed: set[str] = dataclasses.field(default_factory=set)

    def note(self, dist: Distribution | None, *, dry: bool) -> str:
        if self.refusal is not None:
            return f"none: {self.refusal.short}"
        if not self.send:
            return "off"
        if dist is not None and dist.filename in self.signed:
            return "signed"
        if dist is not None and dist.attestations:
            return "would reuse" if dry else "reused"
        return "would sign" if dry and self.trusted else "none"

    def annotate(
        self, files: tuple[FileResult, ...], dists: Sequence[Distribution], *, dry: bool
    ) -> tuple[FileResult, ...]:
        by_name = {d.filename: d for d in dists}
        return tuple(
            dataclasses.replace(
                f,
                attestation=self.note(by_name.get(f.filename), dry=dry)
                if dry or f.status == "uploaded"
                else "",
            )
            for f in files
        )


@dataclass(frozen=True)
class IdentityCheck:
    """What is known about the OIDC token before anything is minted."""

    claims: tuple[tuple[str, str], ...]
    """Its non-secret claims (shown in dry runs)."""
    findings: tuple[Finding, ...]
    comparison: tuple[str, ...]
    """The comparison with the declared publisher, line by line (empty: none declared)."""
    mismatch: TrustpubError | None
    """Set when the declared publisher would refuse these claims."""

    def verdict(self) -> TrustpubError | None:
        """The dry run's answer: the mismatch, else the first finding that blocks publishing."""
        if self.mismatch is not None:
            return self.mismatch
        blockers = [finding for finding in self.findings if finding.blocks]
        if not blockers:
            return None
        first = blockers[0]
        return IdentityError(
            f"preflight: {first.message}",
            hint=first.fix,
            details=[_finding_text(finding) for finding in blockers[1:]],
            anchor=first.id,
        )


class Publication:
    """One run of ``trustpub publish``; see the module docstring for the order of steps."""

    def __init__(
        self,
        request: PublishRequest,
        *,
        env: Mapping[str, str],
        client: httpx.Client,
        reporter: Reporter = NULL_REPORTER,
        on_secret: SecretCallback | None = None,
        keyring: KeyringLookup = keyring_lookup,
        detect: DetectFunction | None = None,
    ) -> None:
        if request.mode not in MODES:
            raise UsageError(
                f"unknown --trusted-publishing mode {request.mode!r}",
                hint="use auto, always or never",
            )
        if request.jobs < 1:
            raise UsageError("--jobs must be at least 1", hint="use -j 1 for one upload at a time")
        if request.token is not None and request.mode == "always":
            raise UsageError(
                "--token cannot be combined with --trusted-publishing always",
                hint="drop --token (and TRUSTPUB_TOKEN) to publish with trusted publishing, "
                "or use --trusted-publishing never to upload with the token",
                anchor="token-with-trusted-publishing",
            )
        if request.oidc_token_env and request.mode == "never":
            raise UsageError(
                "--oidc-token-env cannot be combined with --trusted-publishing never",
                hint="drop --oidc-token-env to upload with an API token, or use "
                "--trusted-publishing auto/always to publish with the OIDC token",
            )
        self.request = request
        self.env = env
        self.client = client
        self.reporter = RecordingReporter(reporter)
        self.secret_sink = SecretSink(on_secret)
        self.keyring = keyring
        self._detect = detect
        self.target: IndexTarget | None = None
        self.choice: IndexChoice | None = None
        self.detection: Detection | None = None
        self._lookup_credential: UploadCredential | None = None
        """The user's own credential, sent with simple-index lookups on the upload host."""
        from trustpub.attest import parse_mode

        raw_mode = request.attestations
        if isinstance(raw_mode, bool):
            raw_mode = "auto" if raw_mode else "off"
        self.attest_mode = parse_mode(raw_mode)
        self.attest = AttestState(send=self.attest_mode != "off")

    # ---- steps ------------------------------------------------------------
    def prepare(self) -> list[Distribution]:
        """Resolve the repository, then collect and validate every distribution."""
        from trustpub.upload.discover import collect
        from trustpub.upload.validate import validate

        self.choice = resolve_index(self.request.repository, self.request.index)
        if self.choice.password is not None:
            self.secret_sink(self.choice.password)
        self._check_credentials(self.choice)
        self.target = self.choice.target
        self.reporter.debug(f"repository: {self.target.display} ({self.target.upload_url})")
        collected = collect(list(self.request.paths))
        for path, why in collected.skipped:
            self.reporter.warning(f"ignoring {path}: {why}")
        dists = validate(collected.files, check=self.request.check)
        self.reporter.info(
            f"{len(dists)} distribution{'s' if len(dists) != 1 else ''} ready: "
            + ", ".join(d.filename for d in dists)
        )
        return dists

    def _check_credentials(self, choice: IndexChoice) -> None:
        """``--token`` is user ``__token__``: refuse another user name or a second password."""
        if self.request.token is None:
            if choice.password_from in ("--password", "the repository URL") and (
                self.request.mode == "always"
            ):
                raise UsageError(
                    f"a password ({choice.password_from}) cannot be combined with "
                    "--trusted-publishing always",
                    hint="drop the password to publish with trusted publishing, or use "
                    "--trusted-publishing never to upload with it",
                    anchor="token-with-trusted-publishing",
                )
            return
        if choice.password_from in ("--password", "the repository URL"):
            raise UsageError(
                f"--token and a password ({choice.password_from}) were both given",
                hint="--token is the password of user __token__; give one of them",
                anchor="conflicting-credentials",
            )
        if choice.username not in (None, TOKEN_USERNAME) and self.request.index.username:
            raise UsageError(
                f"--token uploads as user __token__, not {choice.username}",
                hint="drop --username, or give that user's password with --password",
                anchor="conflicting-credentials",
            )

    def _user_credentials(self) -> bool:
        """Whether the user named a credential (token, password or user name) for this index."""
        choice = self.choice
        if self.request.token is not None or choice is None:
            return self.request.token is not None
        return choice.password is not None or choice.login != TOKEN_USERNAME

    def detect(self) -> Detection | None:
        """The CI identity, or None (``never``, or credentials were given in ``auto``)."""
        request = self.request
        if request.mode == "never":
            return None
        if request.mode == "auto" and self._user_credentials():
            if request.token is None:
                self.reporter.info(
                    "trusted publishing not used: a user name or password was given "
                    "(--trusted-publishing always insists on it)"
                )
            return None
        if self._detect is None:
            from trustpub.providers import detect as detect_provider

            self._detect = detect_provider
        detection = self._detect(self.env, oidc_token_env=request.oidc_token_env)
        if detection is None and request.mode == "always":
            raise no_identity_error()
        if detection is not None:
            self.reporter.info(f"identity: {detection.description}")
        self.detection = detection
        return detection

    def api_credential(self) -> UploadCredential:
        """``--token``, else the password given, else the keyring, else an :class:`IdentityError`."""
        assert self.target is not None
        assert self.choice is not None
        from trustpub._credential import UploadCredential

        login = self.choice.login
        if self.request.token is not None and self.request.token:
            self.secret_sink(self.request.token)
            return UploadCredential(TOKEN_USERNAME, self.request.token, "token", None)
        if self.choice.password is not None:
            return UploadCredential(login, self.choice.password, "password", None)
        if self.request.use_keyring:
            try:
                value = self.keyring(self.target.upload_url, login)
            except Exception as error:  # a broken keyring backend must not crash a release
                self.reporter.warning(
                    f"the keyring could not be read ({type(error).__name__}); "
                    "pass --no-keyring to skip it"
                )
                value = None
            if value:
                secret = Secret(value)
                self.secret_sink(secret)
                what = "API token" if login == TOKEN_USERNAME else f"password of user {login}"
                self.reporter.info(
                    f"using the {what} from the keyring for {self.target.upload_url}"
                )
                return UploadCredential(login, secret, "keyring", None)
        raise no_credential_error(
            self.target,
            mode=self.request.mode,
            keyring_used=self.request.use_keyring,
            username=login,
        )

    def _identity(self, credential: UploadCredential) -> str:
        """How the summary names a credential the user gave (never its value)."""
        assert self.choice is not None
        if credential.source == "token":
            return "API token (--token)"
        where = self.choice.password_from if credential.source == "password" else "the keyring"
        if credential.username == TOKEN_USERNAME:
            return f"API token ({where})"
        return f"user {credential.username} (password from {where})"

    def _check_identity(
        self,
        detection: Detection,
        decoded: DecodedToken,
        audience: str,
        publisher: Publisher | None,
    ) -> IdentityCheck:
        """Preflight the claims and compare them with the declared publisher.

        A real run shows the findings as warnings here and lets the index judge
        (its refusal is explained); a dry run, which cannot ask, reports them.
        """
        import time

        from trustpub.providers import preflight

        findings = preflight(
            detection.provider, decoded, self.env, audience=audience, now=time.time()
        )
        if not self.request.dry_run:
            for finding in findings:
                if finding.severity != "info":
                    self.reporter.warning(_finding_text(finding))
        lines: list[str] = []
        mismatch: TrustpubError | None = None
        if publisher is not None:
            from trustpub.oidc.diagnostics import comparison_lines
            from trustpub.oidc.rules import compare

            comparison = compare(publisher, decoded.claims, issuer=decoded.issuer)
            lines = comparison_lines(comparison)
            if comparison.ok:
                self.reporter.info(
                    f"the OIDC claims match the declared publisher ({publisher.describe()})"
                )
            else:
                mismatch = mismatch_error(comparison, publisher)
        return IdentityCheck(_claim_lines(decoded), tuple(findings), tuple(lines), mismatch)

    # ---- the run ------------------------------------------------------------
    def run(self) -> PublishResult:
        dists = self.prepare()
        assert self.target is not None
        detection = self.detect()
        publisher = (
            declared_publisher(self.request, detection.provider) if detection is not None else None
        )
        if detection is not None:
            self._check_workflow(detection.provider, publisher)
        try:
            if detection is None:
                return self._run_with_token(dists)
            return self._run_trusted(dists, detection, publisher)
        except TrustpubError as error:
            return self._failed(dists, error, trusted=detection is not None)

    def _check_workflow(self, provider: str, publisher: Publisher | None) -> None:
        """``trustpub check`` on the running job's CI file, as warnings naming the line."""
        from trustpub.setup.check import check_running_job

        try:
            findings = check_running_job(self.env, provider, publisher)
        except TrustpubError as error:  # a broken file must not stop a release here
            self.reporter.debug(f"workflow check skipped: {error.message}")
            return
        for finding in findings:
            fix = finding.fix.splitlines()[0] if finding.fix else ""
            self.reporter.warning(
                f"workflow check: {finding.file}:{finding.line}: {finding.severity} "
                f"[{finding.kind}] {finding.message}; PyPI: {finding.consequence}"
                + (f"; fix: {fix}" if fix else "")
                + f" ({finding.docs_url})"
            )

    def _failed(
        self, dists: Sequence[Distribution], error: TrustpubError, *, trusted: bool
    ) -> PublishResult:
        assert self.target is not None
        project, release = project_urls(self.target, dists)
        return PublishResult(
            repository=self.target.display,
            upload_url=self.target.upload_url,
            trusted_publishing=trusted,
            provider=self.detection.provider if self.detection else None,
            identity=self.detection.description if self.detection else "no credential",
            files=_outcomes(dists, FileStatus.NOT_ATTEMPTED),
            project_url=project,
            release_url=release,
            simple_url=simple_page(self.target, dists),
            ok=False,
            error=error,
            dry_run=self.request.dry_run,
        )

    def _uploader(self, credential: Callable[[], UploadCredential]) -> Uploader:
        from trustpub.upload.uploader import Uploader

        assert self.target is not None
        return Uploader(
            self.target,
            credential,
            client=self.client,
            jobs=self.request.jobs,
            skip_existing=self.request.skip_existing,
            attestations=self.attest.send,
            reporter=self.reporter,
            lookup_credential=self._lookup_credential,
            look_first=True,  # report identical files as "already there, identical"
        )

    def _dry_files(
        self, dists: Sequence[Distribution], credential: Callable[[], UploadCredential]
    ) -> tuple[tuple[FileResult, ...], TrustpubError | None]:
        from trustpub.upload.uploader import ALREADY_THERE

        uploader = self._uploader(credential)
        existing = uploader.check_existing(dists)
        outcomes = []
        conflicts = []
        for d in dists:
            state = existing.get(d.filename, "absent")
            if state == "identical":  # not sent again, with or without --skip-existing
                status, message = FileStatus.WOULD_SKIP, ALREADY_THERE
            elif state == "different":
                status = FileStatus.CONFLICT
                message = "a different file with this name is already on the index"
                conflicts.append(d.filename)
            else:
                status, message = FileStatus.WOULD_UPLOAD, ""
            outcomes.append(FileResult(d.filename, d.size, d.sha256, status, "", message))
        error: TrustpubError | None = None
        if conflicts:
            error = UploadError(
                f"{len(conflicts)} file(s) already exist on the index with different contents: "
                + ", ".join(conflicts),
                hint="a file name can be used only once on an index; bump the version and rebuild",
                anchor="file-already-exists",
            )
        return tuple(outcomes), error

    def _run_with_token(self, dists: Sequence[Distribution]) -> PublishResult:
        assert self.target is not None
        credential = self.api_credential()
        self._lookup_credential = credential
        identity = self._identity(credential)
        self.reporter.info(f"credential: {identity}")
        self._apply_refusal(self._refusal(trusted=False, provider=None, claims={}), dists)
        if self.request.dry_run:
            files, error = self._dry_files(dists, lambda: credential)
            return self._result(
                dists, files, trusted=False, identity=identity, error=error, dry=True
            )
        report = self._upload(dists, lambda: credential)
        return self._from_report(dists, report, trusted=False, identity=identity)

    def _run_trusted(
        self, dists: Sequence[Distribution], detection: Detection, publisher: Publisher | None
    ) -> PublishResult:
        """Audience -> OIDC token (checked) -> preflight and comparison -> mint -> upload -> burn.

        ``--dry-run`` is the same path, stopped before the mint. The exchange hands
        each OIDC token and each minted token to the secret sink before any line
        about it.
        """
        from trustpub.exchange import TrustedPublisher

        assert self.target is not None
        exchange = TrustedPublisher(
            self.target,
            detection,
            client=self.client,
            reporter=self.reporter,
            on_secret=self.secret_sink,
            declared=publisher,
            project=dists[0].normalized_name if dists else None,
        )
        audience = exchange.audience()
        self.reporter.info(f"audience: {audience}")
        _token, decoded = exchange.oidc_token()  # the token the mint will exchange
        check = self._check_identity(detection, decoded, audience, publisher)
        if self.request.dry_run:  # the same path, stopped before the mint
            return self._dry_trusted(dists, detection, decoded, check)
        if check.mismatch is not None:
            raise check.mismatch
        self._predict(detection, decoded)
        try:
            # Mint before the first upload: a refusal is reported as itself, not per file.
            exchange.credential()
            dists = self._attest(dists, detection)
            report = self._upload(dists, exchange.credential)
        finally:
            if exchange.minted_count:
                exchange.burn()
        result = self._from_report(dists, report, trusted=True, identity=detection.description)
        return dataclasses.replace(
            result,
            notes=check.comparison,
            minted=exchange.minted_count,
            attestation_identity=self.attest.identity,
        )

    def _dry_trusted(
        self,
        dists: Sequence[Distribution],
        detection: Detection,
        decoded: DecodedToken,
        check: IdentityCheck,
    ) -> PublishResult:
        """The dry run's report: what the index would be asked, without minting."""
        self._apply_refusal(self._refusal(True, detection.provider, decoded.claims), dists)

        def no_credential() -> UploadCredential:
            raise UsageError("a dry run never mints a token")  # pragma: no cover - guard

        files, conflict = self._dry_files(dists, no_credential)
        result = self._result(
            dists,
            files,
            trusted=True,
            identity=detection.description,
            error=check.verdict() or conflict,
            dry=True,
        )
        notes = (*map(_finding_text, check.findings), *check.comparison)
        return dataclasses.replace(result, claims=check.claims, notes=notes)

    # ---- attestations -------------------------------------------------------
    def _refusal(
        self, trusted: bool, provider: str | None, claims: Mapping[str, Any]
    ) -> Refusal | None:
        from trustpub.attest import predict_refusal

        assert self.target is not None
        self.attest.trusted = trusted
        if self.attest_mode == "off":
            return None
        return predict_refusal(
            trusted=trusted,
            provider=provider,
            claims=claims,
            upload_url=self.target.upload_url,
            env=self.env,
        )

    def _predict(self, detection: Detection, decoded: DecodedToken) -> None:
        """Before minting: the predicted refusal (``require`` stops here)."""
        if self.attest.refusal is None:
            refusal = self._refusal(True, detection.provider, decoded.claims)
            self.attest.refusal = refusal
            if refusal is not None and self.attest_mode == "require":
                raise refusal.error()

    def _apply_refusal(self, refusal: Refusal | None, dists: Sequence[Distribution]) -> None:
        """``require``: raise; ``auto``: one warning (when it drops something), upload without."""
        if self.attest_mode == "off" or refusal is None:
            return
        self.attest.refusal = refusal
        if self.attest_mode == "require":
            raise refusal.error()
        if self.attest.trusted or any(d.attestations for d in dists):
            self.reporter.warning(
                f"uploading without attestations: {refusal.reason}; fix: {refusal.hint}"
            )
        self.attest.send = False

    def _attest(self, dists: Sequence[Distribution], detection: Detection) -> list[Distribution]:
        """Sign the files that have no attestation yet; the distributions to upload."""
        if self.attest_mode == "off" or self.attest.refusal is not None:
            self._apply_refusal(self.attest.refusal, dists)
            return list(dists)
        todo = [d for d in dists if not d.attestations]
        if not todo:
            return list(dists)
        try:
            written = self._sign(todo, detection)
        except Exception as error:  # any signing failure: auto goes on unsigned
            self._signing_failed(error, dists)
            return list(dists)
        self.attest.signed.update(d.filename for d in todo)
        return [
            dataclasses.replace(d, attestations=(written[d.path],)) if d.path in written else d
            for d in dists
        ]

    def _sign(self, todo: Sequence[Distribution], detection: Detection) -> dict[Path, Path]:
        from trustpub.attest import DistSigner, load_trust_config, sigstore_fetcher

        fetch = sigstore_fetcher(detection, self.env, self.client)

        def masked_fetch() -> Secret:
            token = fetch()
            self.secret_sink(token)  # a no-op for tokens the provider already handed over
            return token

        first = [masked_fetch()]  # no token, no signing: fail before importing sigstore
        config = load_trust_config(self.env)
        signer = DistSigner(lambda: first.pop() if first else masked_fetch(), config)
        written = signer.write_all([d.path for d in todo], jobs=self.request.jobs)
        self.attest.identity = signer.identity
        self.reporter.info(
            f"signed {len(written)} attestation(s) as {signer.identity} "
            f"({signer.certificates} signing certificate(s))"
        )
        return written

    def _signing_failed(self, error: Exception, dists: Sequence[Distribution]) -> None:
        from trustpub.attest import AttestationError, Refusal, describe_failure

        why = error.message if isinstance(error, TrustpubError) else describe_failure(error)
        refusal = Refusal(
            f"signing failed ({why})",
            "check the job's permission to request a 'sigstore' OIDC token (GitHub: "
            "id-token: write; GitLab: SIGSTORE_ID_TOKEN in id_tokens:), or pass "
            "--attestations off",
            "signing failed",
        )
        if self.attest_mode == "require":
            raise AttestationError(
                f"could not sign the attestations: {why}", hint=refusal.hint
            ) from None
        self._apply_refusal(refusal, dists)

    def _upload(
        self, dists: Sequence[Distribution], credential: Callable[[], UploadCredential]
    ) -> tuple[UploadReport | None, bool]:
        """Upload; returns (report, interrupted). SIGINT stops cleanly with a partial report."""
        uploader = self._uploader(credential)
        try:
            return uploader.upload(dists), False
        except KeyboardInterrupt:
            return uploader.last_report, True

    def _from_report(
        self,
        dists: Sequence[Distribution],
        outcome: tuple[UploadReport | None, bool],
        *,
        trusted: bool,
        identity: str,
    ) -> PublishResult:
        report, interrupted = outcome
        if report is None:
            files = _outcomes(dists, FileStatus.NOT_ATTEMPTED, "interrupted before this file")
            ok = False
            error = None
        else:
            files = report.results
            ok = report.ok and not interrupted
            error = report.error
        result = self._result(dists, files, trusted=trusted, identity=identity, error=error, ok=ok)
        return dataclasses.replace(result, interrupted=interrupted) if interrupted else result

    def _result(
        self,
        dists: Sequence[Distribution],
        files: tuple[FileResult, ...],
        *,
        trusted: bool,
        identity: str,
        error: TrustpubError | None,
        dry: bool = False,
        ok: bool | None = None,
    ) -> PublishResult:
        assert self.target is not None
        project, release = project_urls(self.target, dists)
        files = self.attest.annotate(files, dists, dry=dry)
        return PublishResult(
            repository=self.target.display,
            upload_url=self.target.upload_url,
            trusted_publishing=trusted,
            provider=self.detection.provider if self.detection else None,
            identity=identity,
            files=files,
            project_url=project,
            release_url=release,
            simple_url=simple_page(self.target, dists),
            ok=(error is None) if ok is None else (ok and error is None),
            error=error,
            dry_run=dry,
        )


def publish(
    request: PublishRequest,
    *,
    env: Mapping[str, str],
    reporter: Reporter = NULL_REPORTER,
    on_secret: SecretCallback | None = None,
    client: httpx.Client | None = None,
    keyring: KeyringLookup = keyring_lookup,
) -> PublishResult:
    """Run one publication; see :class:`Publication`."""
    from trustpub._http import make_client

    own = client is None
    http = make_client(max_connections=max(4, request.jobs * 2)) if client is None else client
    try:
        return Publication(
            request,
            env=env,
            client=http,
            reporter=reporter,
            on_secret=on_secret,
            keyring=keyring,
        ).run()
    finally:
        if own:
            http.close()


__all__ = [
    "MODES",
    "Publication",
    "PublishInterrupted",
    "PublishRequest",
    "PublishResult",
    "SecretSink",
    "keyring_lookup",
    "no_credential_error",
    "no_identity_error",
    "project_urls",
    "publish",
    "simple_page",
]
