"""The sandbox's certificate authority, in the manner of Fulcio.

A leaf is what Fulcio issues for a CI identity: empty subject, the identity as
a critical SAN (GitHub/GitLab: a URI naming the workflow at its ref; Google:
the service account's e-mail), ``digitalSignature`` + ``codeSigning``, the OID
extensions under 1.3.6.1.4.1.57264.1 (1.1-1.6 as raw strings, 1.8-1.22 as DER
UTF8Strings, derived from the token's claims as Fulcio's provider templates
derive them), ten minutes of validity, and one embedded SCT (RFC 6962
precertificate entry) signed by the sandbox's CT log key.

The sandbox's issuers stand in for the real ones, so the certificate names the
public issuer and hosts (``https://token.actions.githubusercontent.com``,
``https://github.com/...``, ``https://gitlab.com/...``,
``https://accounts.google.com``): PyPI's own verification policies
(pypi-attestations' publisher policies, which Warehouse calls) then apply
unchanged. Only the sandbox's trust root vouches for these certificates.
"""

from __future__ import annotations

import datetime
import struct
from collections.abc import Mapping
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, ObjectIdentifier

from trustpub.oidc.publishers import CANONICAL_ISSUERS, Provider
from trustpub.sandbox._x509 import key_usage
from trustpub.sandbox.refusal import Refusal
from trustpub.sandbox.sigstore.keys import SigstoreKeys, key_id

CERT_LIFETIME = datetime.timedelta(minutes=10)
"""Fulcio's leaf certificates live ten minutes."""

SCT_LIST_OID = ObjectIdentifier("1.3.6.1.4.1.11129.2.4.2")
_FULCIO = "1.3.6.1.4.1.57264.1."
_V1_RAW = {"issuer": 1, "trigger": 2, "sha": 3, "workflow": 4, "repository": 5, "ref": 6}
_V2 = {
    "issuer": 8,
    "build_signer_uri": 9,
    "build_signer_digest": 10,
    "runner_environment": 11,
    "source_repository_uri": 12,
    "source_repository_digest": 13,
    "source_repository_ref": 14,
    "source_repository_identifier": 15,
    "source_repository_owner_uri": 16,
    "source_repository_owner_identifier": 17,
    "build_config_uri": 18,
    "build_config_digest": 19,
    "build_trigger": 20,
    "run_invocation_uri": 21,
    "source_repository_visibility": 22,
}


class FulcioRefusal(Refusal):
    """The CA refuses the request (status and a Fulcio-like message)."""


def _der_length(size: int) -> bytes:
    if size < 0x80:
        return bytes([size])
    raw = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def der_utf8(text: str) -> bytes:
    """A DER UTF8String."""
    data = text.encode("utf-8")
    return b"\x0c" + _der_length(len(data)) + data


def _text(claims: Mapping[str, Any], name: str) -> str | None:
    value = claims.get(name)
    if value is None or value == "":
        return None
    return str(value)


def _github(claims: Mapping[str, Any]) -> tuple[x509.GeneralName, dict[str, str | None]]:
    site = "https://github.com/"
    repo = _text(claims, "repository")
    run = f"{site}{repo}/actions/runs/{_text(claims, 'run_id')}/attempts/{_text(claims, 'run_attempt')}"
    job_ref = _text(claims, "job_workflow_ref")
    values = {
        "trigger": _text(claims, "event_name"),
        "sha": _text(claims, "sha"),
        "workflow": _text(claims, "workflow"),
        "repository": repo,
        "ref": _text(claims, "ref"),
        "build_signer_uri": site + (job_ref or ""),
        "build_signer_digest": _text(claims, "job_workflow_sha"),
        "runner_environment": _text(claims, "runner_environment"),
        "source_repository_uri": site + (repo or ""),
        "source_repository_digest": _text(claims, "sha"),
        "source_repository_ref": _text(claims, "ref"),
        "source_repository_identifier": _text(claims, "repository_id"),
        "source_repository_owner_uri": site + (_text(claims, "repository_owner") or ""),
        "source_repository_owner_identifier": _text(claims, "repository_owner_id"),
        "build_config_uri": site + (_text(claims, "workflow_ref") or ""),
        "build_config_digest": _text(claims, "workflow_sha"),
        "build_trigger": _text(claims, "event_name"),
        "run_invocation_uri": run,
        "source_repository_visibility": _text(claims, "repository_visibility"),
    }
    if not job_ref or not repo:
        raise FulcioRefusal(400, "the token lacks job_workflow_ref or repository")
    return x509.UniformResourceIdentifier(site + job_ref), values


def _gitlab(claims: Mapping[str, Any]) -> tuple[x509.GeneralName, dict[str, str | None]]:
    site = "https://gitlab.com/"
    issuer_host = str(claims.get("iss", "")).split("://", 1)[-1].rstrip("/")
    config_ref = _text(claims, "ci_config_ref_uri") or ""
    if config_ref.startswith(issuer_host + "/"):
        # The sandbox's GitLab lives under its own host; the certificate names gitlab.com.
        config_ref = "gitlab.com" + config_ref[len(issuer_host) :]
    project = _text(claims, "project_path")
    if not config_ref or not project:
        raise FulcioRefusal(400, "the token lacks ci_config_ref_uri or project_path")
    kind = "heads" if claims.get("ref_type") == "branch" else "tags"
    values = {
        "build_signer_uri": "https://" + config_ref,
        "build_signer_digest": _text(claims, "ci_config_sha"),
        "runner_environment": _text(claims, "runner_environment"),
        "source_repository_uri": site + project,
        "source_repository_digest": _text(claims, "sha"),
        "source_repository_ref": f"refs/{kind}/{_text(claims, 'ref')}",
        "source_repository_identifier": _text(claims, "project_id"),
        "source_repository_owner_uri": site + (_text(claims, "namespace_path") or ""),
        "source_repository_owner_identifier": _text(claims, "namespace_id"),
        "build_config_uri": "https://" + config_ref,
        "build_config_digest": _text(claims, "ci_config_sha"),
        "build_trigger": _text(claims, "pipeline_source"),
        "run_invocation_uri": f"{site}{project}/-/jobs/{_text(claims, 'job_id')}",
        "source_repository_visibility": _text(claims, "project_visibility"),
    }
    return x509.UniformResourceIdentifier("https://" + config_ref), values


def _google(claims: Mapping[str, Any]) -> tuple[x509.GeneralName, dict[str, str | None]]:
    email = _text(claims, "email")
    if not email:
        raise FulcioRefusal(400, "the token carries no email claim")
    if claims.get("email_verified") is not True:
        raise FulcioRefusal(400, "email_verified claim was false")
    return x509.RFC822Name(email), {}


_PRINCIPALS = {Provider.GITHUB: _github, Provider.GITLAB: _gitlab, Provider.GOOGLE: _google}


def identity_extensions(
    provider: Provider, claims: Mapping[str, Any]
) -> tuple[x509.GeneralName, list[x509.UnrecognizedExtension]]:
    """The SAN and Fulcio's OID extensions for a verified token of ``provider``."""
    principal = _PRINCIPALS.get(provider)
    if principal is None:
        raise FulcioRefusal(400, f"unsupported issuer for {provider.value} tokens")
    san, values = principal(claims)
    issuer = CANONICAL_ISSUERS[provider]
    extensions = [
        x509.UnrecognizedExtension(ObjectIdentifier(f"{_FULCIO}1"), issuer.encode()),
        x509.UnrecognizedExtension(ObjectIdentifier(f"{_FULCIO}8"), der_utf8(issuer)),
    ]
    for name, number in _V1_RAW.items():
        value = values.get(name)
        if value is not None:
            oid = ObjectIdentifier(f"{_FULCIO}{number}")
            extensions.append(x509.UnrecognizedExtension(oid, value.encode()))
    for name, number in _V2.items():
        value = values.get(name)
        if value is not None and name != "issuer":
            oid = ObjectIdentifier(f"{_FULCIO}{number}")
            extensions.append(x509.UnrecognizedExtension(oid, der_utf8(value)))
    extensions.sort(key=lambda e: [int(p) for p in e.oid.dotted_string.split(".")])
    return san, extensions


def _signed_timestamp(keys: SigstoreKeys, tbs: bytes, millis: int) -> bytes:
    """One serialized SCT (v1, precert entry) over ``tbs``, by the CT log key."""
    issuer_key_hash = key_id(keys.root.public_key())  # type: ignore[arg-type]
    signed = (
        struct.pack("!BBQH", 0, 0, millis, 1)
        + issuer_key_hash
        + len(tbs).to_bytes(3, "big")
        + tbs
        + struct.pack("!H", 0)
    )
    signature = keys.ctlog_key.sign(signed, ec.ECDSA(hashes.SHA256()))
    return (
        struct.pack("!B", 0)
        + keys.ctlog_id
        + struct.pack("!QH", millis, 0)
        + struct.pack("!BBH", 4, 3, len(signature))  # sha256, ecdsa
        + signature
    )


def _sct_extension(sct: bytes) -> x509.UnrecognizedExtension:
    sct_list = struct.pack("!H", len(sct)) + sct
    body = struct.pack("!H", len(sct_list)) + sct_list
    return x509.UnrecognizedExtension(SCT_LIST_OID, b"\x04" + _der_length(len(body)) + body)


def issue(
    keys: SigstoreKeys,
    csr: x509.CertificateSigningRequest,
    provider: Provider,
    claims: Mapping[str, Any],
    now: float,
) -> x509.Certificate:
    """A leaf for the CSR's key and the token's identity, with an embedded SCT."""
    if not csr.is_signature_valid:
        raise FulcioRefusal(400, "The signature of the certificate signing request is invalid")
    public = csr.public_key()
    if not isinstance(public, ec.EllipticCurvePublicKey):
        raise FulcioRefusal(400, "The public key in the request is not an ECDSA key")
    san, extensions = identity_extensions(provider, claims)
    start = datetime.datetime.fromtimestamp(int(now), datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([]))
        .issuer_name(keys.root.subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + CERT_LIFETIME)
        .add_extension(
            key_usage(digital_signature=True, cert_sign=False),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(keys.ca_key.public_key()),
            critical=False,
        )
        .add_extension(x509.SubjectAlternativeName([san]), critical=True)
    )
    for extension in extensions:
        builder = builder.add_extension(extension, critical=False)
    precert_tbs = builder.sign(keys.ca_key, hashes.SHA256()).tbs_certificate_bytes
    sct = _signed_timestamp(keys, precert_tbs, int(now * 1000))
    leaf = builder.add_extension(_sct_extension(sct), critical=False).sign(
        keys.ca_key, hashes.SHA256()
    )
    if leaf.tbs_precertificate_bytes != precert_tbs:  # pragma: no cover - a library change
        raise FulcioRefusal(500, "the SCT does not cover the issued certificate")
    return leaf


__all__ = ["CERT_LIFETIME", "FulcioRefusal", "der_utf8", "identity_extensions", "issue"]
