"""PEP 740 publish attestations: predict PyPI's verdict, then sign with Sigstore.

Signing follows what PyPI verifies (Warehouse 6b62157 ``attestations/services.py``
with pypi-attestations 0.0.31's publisher policies):

* an OIDC token for the audience ``sigstore`` from the same CI identity that
  mints the upload token; sigstore-python gets a short-lived certificate for it
  (Fulcio) and logs each signature (Rekor v1);
* one in-toto statement per file (subject: the file name and its sha256,
  predicate type ``https://docs.pypi.org/attestations/publish/v1``), written as
  ``<dist>.publish.attestation`` next to the file; an existing one is reused;
* one signer serves many files, in parallel; when its certificate nears expiry a
  fresh token and certificate are fetched.

:func:`predict_refusal` names the cases PyPI refuses before anything is signed.
sigstore and pypi-attestations are imported only here, and only when signing.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import KW_ONLY, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from trustpub._secret import Secret
from trustpub._threads import worker_pool
from trustpub.errors import UploadError
from trustpub.oidc.validity import SIGSTORE_AUDIENCE

if TYPE_CHECKING:
    from sigstore.models import ClientTrustConfig
    from sigstore.sign import Signer

AttestMode = Literal["auto", "require", "off"]
ATTEST_MODES: tuple[str, ...] = ("auto", "require", "off")
TRUST_CONFIG_ENV = "TRUSTPUB_SIGSTORE_TRUST_CONFIG"
"""A Sigstore client trust config to sign with instead of the public instance (the sandbox's)."""
PUBLISH_SUFFIX = ".publish.attestation"
REFRESH_MARGIN = 60.0
"""Seconds before the signing certificate expires at which a fresh one is fetched."""

_ALIASES = {"true": "auto", "yes": "auto", "on": "auto", "1": "auto"}
_ALIASES.update({"false": "off", "no": "off", "0": "off"})


class AttestationError(UploadError, anchor="attestations-not-possible"):
    """Attestations were required and cannot be made or would be refused."""


def parse_mode(text: str) -> AttestMode:
    """``auto|require|off`` (``true``/``false`` as gh-action-pypi-publish's input means)."""
    value = text.strip().lower()
    value = _ALIASES.get(value, value)
    if value not in ATTEST_MODES:
        from trustpub.errors import UsageError

        raise UsageError(
            f"unknown --attestations value {text!r}",
            hint="use auto, require or off",
        )
    return value  # type: ignore[return-value]


@dataclass(frozen=True)
class Refusal:
    """Why PyPI will not accept attestations for this upload, and what to change."""

    reason: str
    hint: str
    short: str
    """A few words for the per-file summary (``API token``, ``reusable workflow`` ...)."""
    anchor: str = "attestations-not-possible"

    def error(self) -> AttestationError:
        return AttestationError(
            f"attestations required, but {self.reason}", hint=self.hint, anchor=self.anchor
        )


def _workflow_path(ref: str) -> str:
    """``owner/repo/.github/workflows/x.yml@refs/...`` -> ``owner/repo/.github/workflows/x.yml``."""
    return ref.partition("@")[0]


def _is_local(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_pypi(url: str) -> bool:
    return (urlsplit(url).hostname or "").lower() in ("upload.pypi.org", "test.pypi.org")


def predict_refusal(
    *,
    trusted: bool,
    provider: str | None,
    claims: Mapping[str, Any],
    upload_url: str | None,
    env: Mapping[str, str],
) -> Refusal | None:
    """The reason PyPI would refuse attestations for this upload, or None."""
    if not trusted:
        return Refusal(
            "PyPI accepts attestations only with trusted publishing and this upload uses an "
            "API token",
            "publish from CI with trusted publishing, or pass --attestations off",
            "API token",
            "attestations-need-trusted-publishing",
        )
    if provider == "activestate":
        return Refusal(
            "PyPI does not accept attestations from ActiveState publishers",
            "pass --attestations off (PyPI would answer: Attestations are not currently "
            "supported with ActiveState publishers)",
            "ActiveState publisher",
        )
    if provider == "github":
        job_ref = str(claims.get("job_workflow_ref", ""))
        caller = str(claims.get("workflow_ref", ""))
        if job_ref and caller and _workflow_path(job_ref) != _workflow_path(caller):
            return Refusal(
                f"this job runs in the reusable workflow {_workflow_path(job_ref)}, called by "
                f"{_workflow_path(caller)}: PyPI matches the publisher to the reusable "
                "workflow, but the signing certificate names the calling one, so PyPI would "
                "refuse the attestations",
                "publish from the top-level workflow (not a reusable one), or pass "
                "--attestations off",
                "reusable workflow",
                "attestations-reusable-workflow",
            )
    if provider == "gitlab":
        issuer = str(claims.get("iss", ""))
        from trustpub.oidc.publishers import CANONICAL_ISSUERS, Provider, is_sandbox_issuer

        if issuer != CANONICAL_ISSUERS[Provider.GITLAB] and not is_sandbox_issuer(issuer):
            return Refusal(
                f"the GitLab token comes from {issuer}, not gitlab.com: PyPI verifies GitLab "
                "attestations only for gitlab.com",
                "pass --attestations off on a self-managed GitLab instance",
                "self-managed GitLab",
            )
    if upload_url is not None and not env.get(TRUST_CONFIG_ENV) and not _is_pypi(upload_url):
        return Refusal(
            f"the index {urlsplit(upload_url).hostname} is not PyPI or TestPyPI, the indexes "
            "that verify attestations (signing would also put this identity in Sigstore's "
            "public log for nothing)",
            "pass --attestations off for this index",
            "not PyPI",
        )
    if upload_url is not None and env.get(TRUST_CONFIG_ENV) and not _is_local(upload_url):
        return Refusal(
            f"{TRUST_CONFIG_ENV} names a private Sigstore (the sandbox's) and the index is "
            "not on this machine: no real index trusts it",
            f"unset {TRUST_CONFIG_ENV} to sign with the public Sigstore",
            "private Sigstore",
        )
    return None


SIGSTORE_TOKEN_ENV = "SIGSTORE_ID_TOKEN"  # noqa: S105 - a variable name
"""Where a token handed over in a variable (``--oidc-token-env``) finds its sigstore twin."""


def sigstore_fetcher(detection: Any, env: Mapping[str, str], client: Any) -> Callable[[], Secret]:
    """How to get a ``sigstore``-audience token from the same CI identity.

    A provider fetches one for any audience; a token handed over in a variable
    (``--oidc-token-env``) cannot be asked for another audience, so the GitLab
    convention ``SIGSTORE_ID_TOKEN`` is read instead.
    """
    if not getattr(detection, "static_token", False):
        return lambda: detection.fetch_token(SIGSTORE_AUDIENCE, client=client)

    def from_env() -> Secret:
        value = env.get(SIGSTORE_TOKEN_ENV, "").strip()
        if not value:
            from trustpub.errors import IdentityError

            raise IdentityError(
                f"no 'sigstore' OIDC token: {SIGSTORE_TOKEN_ENV} is not set",
                hint=f"export a token with audience 'sigstore' as {SIGSTORE_TOKEN_ENV} "
                "(GitLab: add it to id_tokens: with aud: sigstore)",
                anchor="attestations-not-possible",
            )
        return Secret(value)

    return from_env


def sidecar_for(dist: Path) -> Path:
    return dist.with_name(dist.name + PUBLISH_SUFFIX)


def load_trust_config(env: Mapping[str, str]) -> ClientTrustConfig:
    """The sandbox's trust config when named by :data:`TRUST_CONFIG_ENV`, else Sigstore's public one."""
    from sigstore.models import ClientTrustConfig

    path = env.get(TRUST_CONFIG_ENV)
    if path:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as error:
            raise AttestationError(
                f"cannot read the Sigstore trust config {path}: {error.strerror}",
                hint=f"point {TRUST_CONFIG_ENV} at the sandbox's trust_config file",
            ) from None
        config = ClientTrustConfig.from_json(text)
    else:
        config = ClientTrustConfig.production()
    config.force_tlog_version = 1  # pypi-attestations signs to Rekor v1
    return config


def certificate_identity(der: bytes) -> str:
    """The identity a signing certificate names (its SAN: a URI or an e-mail)."""
    from cryptography import x509

    cert = x509.load_der_x509_certificate(der)
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    for value in (*names.get_values_for_type(x509.UniformResourceIdentifier),):
        return str(value)
    for value in names.get_values_for_type(x509.RFC822Name):
        return str(value)
    return "(unknown identity)"


@dataclass(eq=False)
class DistSigner:
    """Signs distributions with one CI identity, refreshing token and certificate as needed."""

    fetch_token: Callable[[], Secret]
    trust_config: ClientTrustConfig
    _: KW_ONLY
    clock: Callable[[], float] = time.time
    margin: float = REFRESH_MARGIN
    """A certificate this close to its end is not used for another signature."""
    identity: str | None = field(default=None, init=False)
    """Whom the certificate names (known after the first signature)."""
    certificates: int = field(default=0, init=False)
    """Signing certificates obtained so far (one per fresh token)."""
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _signer: Signer | None = field(default=None, init=False, repr=False)
    _expires: float | None = field(default=None, init=False, repr=False)

    def _current(self) -> Signer:
        with self._lock:
            stale = self._expires is not None and self.clock() >= self._expires - self.margin
            if self._signer is None or stale:
                from sigstore.oidc import IdentityToken
                from sigstore.sign import Signer, SigningContext

                token = self.fetch_token()
                context = SigningContext.from_trust_config(self.trust_config)
                self._signer = Signer(IdentityToken(token.reveal()), context)
                self._expires = None
                self.certificates += 1
            return self._signer

    def sign(self, dist: Path) -> dict[str, Any]:
        """The attestation (PEP 740 JSON) for ``dist``."""
        import json

        from pypi_attestations import Attestation, Distribution

        attestation = Attestation.sign(self._current(), Distribution.from_file(dist))
        der = attestation.verification_material.certificate
        if self.identity is None or self._expires is None:
            from cryptography import x509

            cert = x509.load_der_x509_certificate(der)
            with self._lock:
                self._expires = cert.not_valid_after_utc.timestamp()
                self.identity = certificate_identity(der)
        result: dict[str, Any] = json.loads(attestation.model_dump_json())
        return result

    def write(self, dist: Path) -> Path:
        """Sign ``dist`` and write ``<dist>.publish.attestation``; its path."""
        import json

        sidecar = sidecar_for(dist)
        data = json.dumps(self.sign(dist))
        tmp = sidecar.with_name(f".{sidecar.name}.tmp")
        tmp.write_text(data, encoding="utf-8")
        tmp.replace(sidecar)
        return sidecar

    def write_all(self, dists: Sequence[Path], jobs: int = 4) -> dict[Path, Path]:
        """Sign every file (the first alone, so one certificate serves the rest)."""
        if not dists:
            return {}
        written = {dists[0]: self.write(dists[0])}
        with worker_pool(max(1, jobs), "trustpub-sign") as pool:
            written.update(zip(dists[1:], pool.map(self.write, dists[1:]), strict=True))
        return written


@dataclass(frozen=True)
class AttestResult:
    """What ``trustpub attest`` did: per file, its attestation and whether it is new."""

    files: tuple[tuple[Path, Path, bool], ...]
    """(distribution, attestation file, signed now)."""
    identity: str | None


def attest_paths(
    paths: Sequence[str],
    *,
    env: Mapping[str, str],
    on_secret: Callable[[Secret], None],
    jobs: int = 4,
    client: Any = None,
) -> AttestResult:
    """Sign every distribution under ``paths`` that has no publish attestation yet."""
    from trustpub.errors import IdentityError
    from trustpub.oidc.claims import decode_unverified
    from trustpub.providers import detect
    from trustpub.upload.discover import collect
    from trustpub.upload.validate import validate

    dists = [d.path for d in validate(collect(list(paths)).files, check=False)]
    detection = detect(env)
    if detection is None:
        raise IdentityError(
            "no CI identity to sign with: attestations are signed with the job's OIDC identity",
            hint="run trustpub attest in GitHub Actions (id-token: write), GitLab CI/CD "
            "(SIGSTORE_ID_TOKEN in id_tokens:) or Google Cloud",
            anchor="attestations-not-possible",
        )

    fetch_sigstore = sigstore_fetcher(detection, env, client)

    def fetch() -> Secret:
        token = fetch_sigstore()
        on_secret(token)
        return token

    first = fetch()
    claims = decode_unverified(first.reveal()).claims
    refusal = predict_refusal(
        trusted=True, provider=detection.provider, claims=claims, upload_url=None, env=env
    )
    if refusal is not None:
        raise refusal.error()
    tokens = [first]

    def reuse_first() -> Secret:
        return tokens.pop() if tokens else fetch()

    todo = unsigned(dists)
    signer = DistSigner(reuse_first, load_trust_config(env))
    written = signer.write_all(todo, jobs=jobs)
    files = tuple((d, written.get(d, sidecar_for(d)), d in written) for d in dists)
    return AttestResult(files=files, identity=signer.identity)


def describe_failure(error: BaseException) -> str:
    """A short, secret-free description of a signing failure."""
    name = type(error).__name__
    text = str(error).splitlines()[0] if str(error) else ""
    return f"{name}: {text}" if text else name


def unsigned(paths: Iterable[Path]) -> list[Path]:
    """The files without a ``<dist>.publish.attestation`` next to them."""
    return [p for p in paths if not sidecar_for(p).exists()]


__all__ = [
    "ATTEST_MODES",
    "PUBLISH_SUFFIX",
    "TRUST_CONFIG_ENV",
    "AttestMode",
    "AttestResult",
    "AttestationError",
    "DistSigner",
    "Refusal",
    "attest_paths",
    "certificate_identity",
    "describe_failure",
    "load_trust_config",
    "parse_mode",
    "predict_refusal",
    "sidecar_for",
    "sigstore_fetcher",
    "unsigned",
]
