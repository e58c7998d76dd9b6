"""Certificate pieces the sandbox's two authorities share: the TLS CA (``tls.py``) and the
Fulcio-like signing CA (``sigstore/``)."""

from __future__ import annotations

import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa


def key_usage(*, digital_signature: bool, cert_sign: bool) -> x509.KeyUsage:
    """A KeyUsage extension with only the two bits the sandbox's certificates differ in."""
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def self_signed_ca(
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
    name: x509.Name,
    *,
    now: datetime.datetime,
    lifetime: datetime.timedelta,
    path_length: int,
    digital_signature: bool,
) -> x509.Certificate:
    """A root certificate for ``key``, valid from a day before ``now`` for ``lifetime``."""
    public = key.public_key()
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + lifetime)
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(
            key_usage(digital_signature=digital_signature, cert_sign=True), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
