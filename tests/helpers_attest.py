"""Sign PEP 740 attestations against a test sandbox's Sigstore with the real libraries.

``sign(box, dist, provider="github", **job)`` makes a ``sigstore``-audience token
for a new sandbox job, asks the sandbox's CA for a certificate and its log for an
entry (sigstore-python), and returns pypi-attestations' JSON for ``dist``. The
process must trust the sandbox's CA for requests (``REQUESTS_CA_BUNDLE``; the
``attest_env`` fixture of the test modules sets it).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from helpers_sandbox import Sandbox


def trust_config(box: Sandbox) -> Any:
    from sigstore.models import ClientTrustConfig

    config = ClientTrustConfig.from_json(Path(box.ready["trust_config"]).read_text())
    config.force_tlog_version = 1
    return config


def sign(
    box: Sandbox, dist: Path, provider: str = "github", *, name: str | None = None, **job: Any
) -> dict[str, Any]:
    """An attestation for ``dist`` (its subject named ``name`` if given) by a new job."""
    from pypi_attestations import Attestation, Distribution
    from sigstore.oidc import IdentityToken
    from sigstore.sign import SigningContext

    token = box.oidc_token(provider, audience="sigstore", **job)
    subject = Distribution.from_file(dist)
    if name is not None:
        subject = Distribution(name=name, digest=subject.digest)
    context = SigningContext.from_trust_config(trust_config(box))
    with context.signer(IdentityToken(token)) as signer:
        attestation = Attestation.sign(signer, subject)
    result: dict[str, Any] = json.loads(attestation.model_dump_json())
    return result


def verify_provenance(box: Sandbox, provenance: dict[str, Any], dist: Path) -> dict[str, Any]:
    """Verify served provenance with sigstore-python against the sandbox's trust root.

    Returns the certificate's Fulcio claims (``1.3.6.1.4.1.57264.1.*``) of its one
    attestation; raises if anything fails to verify.
    """
    from pypi_attestations import Attestation, Distribution, Provenance
    from sigstore.verify import Verifier

    parsed = Provenance.model_validate(provenance)
    (bundle,) = parsed.attestation_bundles
    (attestation,) = bundle.attestations
    verifier = Verifier(trusted_root=trust_config(box).trusted_root)
    policy = bundle.publisher._as_policy()
    _, payload = verifier.verify_dsse(attestation.to_bundle(), policy)
    statement = json.loads(payload)
    subject = Distribution.from_file(dist)
    assert statement["subject"] == [{"name": subject.name, "digest": {"sha256": subject.digest}}]
    assert isinstance(attestation, Attestation)
    return attestation.certificate_claims
