"""The sandbox Sigstore's keys and root certificate, kept in ``<state_dir>/sigstore/``.

Three P-256 keys: the certificate authority's (it signs its own root
certificate and every leaf), the CT log's (it signs the SCTs embedded in
leaves) and the transparency log's (checkpoints and signed entry timestamps).
They are generated on the first start and reused afterwards, so provenance
stored by an earlier run still verifies with the trust root of a later one.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from trustpub.sandbox._x509 import self_signed_ca

ROOT_LIFETIME = datetime.timedelta(days=3650)
ORGANIZATION = "trustpub sandbox"


def key_id(public_key: ec.EllipticCurvePublicKey) -> bytes:
    """RFC 6962 key id: SHA-256 of the DER SubjectPublicKeyInfo."""
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).digest()


def public_der(public_key: ec.EllipticCurvePublicKey) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _write_new(path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` only if it does not exist yet (race-safe); True if written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    try:
        os.link(tmp, path)
    except FileExistsError:
        return False
    finally:
        tmp.unlink()
    return True


def _ec_key(path: Path) -> ec.EllipticCurvePrivateKey:
    if not path.exists():
        key = ec.generate_private_key(ec.SECP256R1())
        _write_new(
            path,
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
        )
    loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(loaded, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{path} is not an EC key")
    return loaded


def _root_certificate(path: Path, key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    if not path.exists():
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
                x509.NameAttribute(NameOID.COMMON_NAME, "trustpub sandbox fulcio"),
            ]
        )
        now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        cert = self_signed_ca(
            key, name, now=now, lifetime=ROOT_LIFETIME, path_length=1, digital_signature=False
        )
        _write_new(path, cert.public_bytes(serialization.Encoding.PEM))
    return x509.load_pem_x509_certificate(path.read_bytes())


@dataclass(frozen=True)
class SigstoreKeys:
    """The keys of one sandbox's Sigstore."""

    ca_key: ec.EllipticCurvePrivateKey
    root: x509.Certificate
    ctlog_key: ec.EllipticCurvePrivateKey
    rekor_key: ec.EllipticCurvePrivateKey

    @classmethod
    def load(cls, folder: Path) -> SigstoreKeys:
        """Load the keys from ``folder``, creating what is missing."""
        ca_key = _ec_key(folder / "fulcio-key.pem")
        return cls(
            ca_key=ca_key,
            root=_root_certificate(folder / "fulcio-root.pem", ca_key),
            ctlog_key=_ec_key(folder / "ctlog-key.pem"),
            rekor_key=_ec_key(folder / "rekor-key.pem"),
        )

    @property
    def rekor_log_id(self) -> bytes:
        return key_id(self.rekor_key.public_key())

    @property
    def ctlog_id(self) -> bytes:
        return key_id(self.ctlog_key.public_key())


__all__ = ["SigstoreKeys", "key_id", "public_der"]
