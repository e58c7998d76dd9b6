"""PEP 740 attestations on upload and provenance, as PyPI handles them.

Follows Warehouse at commit 6b62157 (2026-08-21): ``forklift/legacy.py`` calls
``IntegrityService.parse_attestations`` (``attestations/services.py``) after the
distribution's own checks, and every refusal becomes a 400 reading
``Invalid attestations supplied during upload: <reason>``. The reasons, in
Warehouse's order:

1. no trusted-publishing token: ``Attestations are only supported when using
   Trusted Publishing``;
2. a publisher without an attestation identity (ActiveState):
   ``Attestations are not currently supported with ActiveState publishers``;
3. ``Malformed attestations: <pydantic's error>`` (pypi-attestations' model);
4. ``Malformed attestations: an empty attestation set is not permitted``;
5. ``A maximum of 2 attestations per file are supported``;
6. each attestation verifies (``Could not verify the uploaded artifact using the
   included attestation: <why>``), its predicate type is supported, and no two
   share one (``Multiple attestations for the same file with the same predicate
   type (<type>) are not supported``).

Step 6 is pypi-attestations' ``Attestation.verify`` (what Warehouse calls) with
one difference: the verifier is built from the sandbox's trusted root instead of
the public Sigstore's, which that method cannot be told to use. The publisher's
verification policy is pypi-attestations' own, as on PyPI.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packaging.utils import parse_sdist_filename, parse_wheel_filename

from trustpub.oidc.publishers import Provider, Publisher

if TYPE_CHECKING:
    from pypi_attestations import Attestation, Distribution
    from sigstore.verify import Verifier
    from sigstore.verify.policy import VerificationPolicy

PREFIX = "Invalid attestations supplied during upload: "
PUBLISH_V1 = "https://docs.pypi.org/attestations/publish/v1"
SLSA_PROVENANCE_V1 = "https://slsa.dev/provenance/v1"
SUPPORTED_TYPES = (PUBLISH_V1, SLSA_PROVENANCE_V1)
INTEGRITY_JSON = "application/vnd.pypi.integrity.v1+json"


class AttestationRefusal(Exception):
    """PyPI refuses the attestations; ``message`` is the full 400 text."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.message = PREFIX + reason


def attestation_identity(publisher: Publisher) -> Any:
    """pypi-attestations' publisher for ``publisher`` (Warehouse's ``attestation_identity``)."""
    from pypi_attestations import GitHubPublisher, GitLabPublisher, GooglePublisher

    if publisher.provider is Provider.GITHUB:
        return GitHubPublisher(
            repository=publisher.repository or "",
            workflow=publisher.workflow or "",
            environment=publisher.environment or None,
        )
    if publisher.provider is Provider.GITLAB:
        return GitLabPublisher(
            repository=publisher.repository or "",
            workflow_filepath=publisher.workflow or "",
            environment=publisher.environment or None,
        )
    if publisher.provider is Provider.GOOGLE:
        return GooglePublisher(email=publisher.email or "")
    return None


def _parse(raw: str) -> list[Attestation]:
    from pydantic import TypeAdapter, ValidationError
    from pypi_attestations import Attestation

    try:
        attestations = TypeAdapter(list[Attestation]).validate_json(raw)
    except ValidationError as error:
        raise AttestationRefusal(f"Malformed attestations: {error}") from None
    if not attestations:
        raise AttestationRefusal(
            "Malformed attestations: an empty attestation set is not permitted"
        )
    if len(attestations) > len(SUPPORTED_TYPES):
        raise AttestationRefusal(
            f"A maximum of {len(SUPPORTED_TYPES)} attestations per file are supported"
        )
    return attestations


def _dist_name(name: str) -> object:
    if name.endswith(".whl"):
        return parse_wheel_filename(name)
    if name.endswith((".tar.gz", ".zip")):
        return parse_sdist_filename(name)
    raise ValueError(f"unknown distribution format: {name}")


def _statement_check(payload_type: str, payload: bytes, dist: Distribution) -> str:
    """The checks ``Attestation.verify`` makes after the signature; the predicate type."""
    from pydantic import ValidationError
    from pypi_attestations import VerificationError
    from sigstore.dsse import _Statement

    if payload_type != "application/vnd.in-toto+json":
        raise VerificationError(f"expected JSON envelope, got {payload_type}")
    try:
        statement = _Statement.model_validate_json(payload)
    except ValidationError as error:
        raise VerificationError(f"invalid statement: {error}") from None
    if len(statement.subjects) != 1:
        raise VerificationError("too many subjects in statement (must be exactly one)")
    subject = statement.subjects[0]
    if not subject.name:
        raise VerificationError("invalid subject: missing name")
    try:
        subject_name = _dist_name(subject.name)
    except ValueError as error:
        raise VerificationError(f"invalid subject: {error}") from None
    if subject_name != _dist_name(dist.name):
        raise VerificationError(
            f"subject does not match distribution name: {subject.name} != {dist.name}"
        )
    digest = subject.digest.root.get("sha256")
    if digest is None or digest != dist.digest:
        raise VerificationError("subject does not match distribution digest")
    if statement.predicate_type not in SUPPORTED_TYPES:
        raise VerificationError(f"unknown attestation type: {statement.predicate_type}")
    return str(statement.predicate_type)


def _verify_one(
    attestation: Attestation, policy: VerificationPolicy, dist: Distribution, verifier: Verifier
) -> str:
    import sigstore.errors
    from pypi_attestations import VerificationError

    bundle = attestation.to_bundle()
    try:
        payload_type, payload = verifier.verify_dsse(bundle, policy)
    except sigstore.errors.VerificationError as error:
        raise VerificationError(str(error)) from error
    return _statement_check(payload_type, payload, dist)


@dataclass
class AttestationVerifier:
    """Verifies uploads' attestations against one sandbox's trusted root."""

    trust_config: Path
    _verifier: Verifier | None = None

    def verifier(self) -> Verifier:
        if self._verifier is None:
            from sigstore.models import ClientTrustConfig
            from sigstore.verify import Verifier

            config = ClientTrustConfig.from_json(self.trust_config.read_text(encoding="utf-8"))
            self._verifier = Verifier(trusted_root=config.trusted_root)
        return self._verifier

    def check(
        self, raw: str, publisher: Publisher | None, filename: str, sha256: str
    ) -> dict[str, Any]:
        """Verify the ``attestations`` form field; the file's provenance (PEP 740 JSON)."""
        if publisher is None:
            raise AttestationRefusal(
                "Attestations are only supported when using Trusted Publishing"
            )
        identity = attestation_identity(publisher)
        if identity is None:
            raise AttestationRefusal(
                "Attestations are not currently supported with "
                f"{publisher.provider.display_name} publishers"
            )
        attestations = _parse(raw)
        from pypi_attestations import (
            AttestationBundle,
            AttestationError,
            Distribution,
            Provenance,
        )

        dist = Distribution(name=filename, digest=sha256)
        policy = identity._as_policy()
        seen: set[str] = set()
        for attestation in attestations:
            try:
                predicate_type = _verify_one(attestation, policy, dist, self.verifier())
            except AttestationError as error:
                raise AttestationRefusal(
                    "Could not verify the uploaded artifact using the included "
                    f"attestation: {error}"
                ) from None
            except Exception as error:  # any other failure: Warehouse says "Unknown error"
                raise AttestationRefusal(
                    f"Unknown error while trying to verify included attestations: {error}"
                ) from None
            if predicate_type in seen:
                raise AttestationRefusal(
                    "Multiple attestations for the same file with the same predicate type "
                    f"({predicate_type}) are not supported"
                )
            seen.add(predicate_type)
        bundle = AttestationBundle(publisher=identity, attestations=attestations)
        provenance: dict[str, Any] = Provenance(attestation_bundles=[bundle]).model_dump(
            mode="json"
        )
        return provenance


def provenance_path(file_path: Path) -> Path:
    """Where the sandbox keeps a stored file's provenance."""
    return file_path.with_name(file_path.name + ".provenance.json")


def write_provenance(file_path: Path, provenance: dict[str, Any]) -> None:
    provenance_path(file_path).write_text(json.dumps(provenance), encoding="utf-8")


__all__ = [
    "INTEGRITY_JSON",
    "PREFIX",
    "AttestationRefusal",
    "AttestationVerifier",
    "attestation_identity",
    "provenance_path",
    "write_provenance",
]
