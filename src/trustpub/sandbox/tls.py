"""A private certificate authority for the sandbox's HTTPS listener.

The CA (``ca.pem`` + ``ca-key.pem``) and the server certificate
(``server.pem`` + ``server-key.pem``, for ``127.0.0.1``, ``localhost`` and
``::1``) live in the state directory and are reused on the next start, so
starting is fast. Clients trust the sandbox with ``SSL_CERT_FILE=<ca.pem>``.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from trustpub.errors import SandboxError
from trustpub.sandbox._x509 import self_signed_ca

_VALIDITY = datetime.timedelta(days=3650)


@dataclass(frozen=True)
class TlsFiles:
    """Paths of the PEM files a TLS listener needs."""

    ca_cert: Path
    server_cert: Path
    server_key: Path


def _write_private(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    tmp.replace(path)


def _write_public(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _key_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _make_ca(directory: Path) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    key = _new_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "trustpub sandbox CA")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = self_signed_ca(
        key, name, now=now, lifetime=_VALIDITY, path_length=0, digital_signature=True
    )
    _write_private(directory / "ca-key.pem", _key_pem(key))
    _write_public(directory / "ca.pem", cert.public_bytes(serialization.Encoding.PEM))
    return cert, key


def _load_ca(directory: Path) -> tuple[x509.Certificate, rsa.RSAPrivateKey] | None:
    cert_path, key_path = directory / "ca.pem", directory / "ca-key.pem"
    if not (cert_path.is_file() and key_path.is_file()):
        return None
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except ValueError:
        return None
    if not isinstance(key, rsa.RSAPrivateKey):
        return None
    return cert, key


def _make_server(directory: Path, ca_cert: x509.Certificate, ca_key: rsa.RSAPrivateKey) -> None:
    key = _new_key()
    now = datetime.datetime.now(datetime.timezone.utc)
    names: list[x509.GeneralName] = [
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.IPAddress(ipaddress.ip_address("::1")),
    ]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    _write_private(directory / "server-key.pem", _key_pem(key))
    _write_public(directory / "server.pem", cert.public_bytes(serialization.Encoding.PEM))


def ensure_tls_files(state_dir: Path) -> TlsFiles:
    """Create (or reuse) the CA and the loopback server certificate in ``state_dir``."""
    directory = state_dir / "tls"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        loaded = _load_ca(directory)
        fresh_ca = loaded is None
        ca_cert, ca_key = _make_ca(directory) if loaded is None else loaded
        server_cert = directory / "server.pem"
        server_key = directory / "server-key.pem"
        if fresh_ca or not (server_cert.is_file() and server_key.is_file()):
            _make_server(directory, ca_cert, ca_key)
        ca_copy = state_dir / "ca.pem"
        pem = (directory / "ca.pem").read_bytes()
        if not ca_copy.is_file() or ca_copy.read_bytes() != pem:
            _write_public(ca_copy, pem)
    except OSError as error:
        raise SandboxError(
            f"cannot write the sandbox certificates in {directory}: {error.strerror}",
            hint="choose a writable --state-dir, or run with --no-tls",
        ) from None
    return TlsFiles(ca_cert=state_dir / "ca.pem", server_cert=server_cert, server_key=server_key)


__all__ = ["TlsFiles", "ensure_tls_files"]
