"""oidc.validity against PyPI's own verifier settings.

Warehouse 6b62157 (``warehouse/oidc/services.py``, ``verify_jwt_signature``) decodes with
PyJWT: ``require=["iss", "iat", "exp", "aud"]``, ``strict_aud``, ``verify_exp/iat/nbf``
and ``leeway=_JWT_LEEWAY`` (30). Each case signs a real token and asks PyJWT, configured
the same way, for PyPI's verdict; our rule must agree at every boundary.
"""

from __future__ import annotations

from datetime import datetime, timezone, tzinfo
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from trustpub.oidc import validity
from trustpub.oidc.claims import DecodedToken
from trustpub.oidc.publishers import CANONICAL_ISSUERS, Provider

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
ISS = CANONICAL_ISSUERS[Provider.GITHUB]


class _Clock(datetime):
    """PyJWT's clock (``datetime.now`` in ``jwt.api_jwt``), held at :data:`NOW`."""

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> _Clock:
        moment = datetime.fromtimestamp(NOW, tz or timezone.utc)
        return cls.fromtimestamp(moment.timestamp(), tz)


def pypi_accepts(claims: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> bool:
    """PyPI's verdict: PyJWT with Warehouse's options, its clock held at NOW."""
    token = jwt.encode(claims, KEY, algorithm="RS256")
    monkeypatch.setattr(jwt.api_jwt, "datetime", _Clock)
    try:
        jwt.decode(
            token,
            KEY.public_key(),
            algorithms=["RS256"],
            options={
                "require": list(validity.REQUIRED_CLAIMS),
                "verify_exp": True,
                "verify_iat": True,
                "verify_nbf": True,
                "strict_aud": True,
            },
            issuer=ISS,
            audience="pypi",
            leeway=validity.LEEWAY,
        )
    except jwt.PyJWTError:
        return False
    return True


NOW = 1_800_000_000


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"exp": NOW - 29},  # PyPI: accepted (leeway)
        {"exp": NOW - 30},  # PyPI: refused ("Signature has expired": exp <= now - leeway)
        {"exp": NOW - 31},  # PyPI: refused
        {"iat": NOW + 30},  # PyPI: accepted
        {"iat": NOW + 31},  # PyPI: refused ("The token is not yet valid (iat)")
        {"nbf": NOW + 30},  # PyPI: accepted
        {"nbf": NOW + 31},  # PyPI: refused ("The token is not yet valid (nbf)")
        {"aud": ["pypi", "other"]},  # PyPI: refused (strict_aud)
        {"aud": "testpypi"},  # PyPI: refused (InvalidAudienceError)
        {"iat": None},  # PyPI: refused (MissingRequiredClaimError: iat)
        {"exp": None},  # PyPI: refused (MissingRequiredClaimError: exp)
    ],
    ids=repr,
)
def test_pypi_violations_agree_with_pyjwt_as_warehouse_configures_it(
    changes: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    claims: dict[str, Any] = {"iss": ISS, "aud": "pypi", "iat": NOW - 10, "exp": NOW + 290}
    claims.update(changes)
    claims = {k: v for k, v in claims.items() if v is not None}
    ours = validity.pypi_violations(DecodedToken({}, claims), "pypi", NOW)
    assert (ours == []) is pypi_accepts(claims, monkeypatch)


def test_the_client_keeps_a_send_margin_of_pypis_window() -> None:
    token = DecodedToken({}, {"iss": ISS, "aud": "pypi", "iat": NOW, "exp": NOW - 24})
    assert validity.client_violations(token, "pypi", NOW) == []
    late = DecodedToken({}, {"iss": ISS, "aud": "pypi", "iat": NOW, "exp": NOW - 25})
    assert validity.pypi_violations(late, "pypi", NOW) == []  # PyPI would still take it...
    assert validity.client_violations(late, "pypi", NOW) == [  # ...for 5 s: not worth sending
        validity.Violation(validity.Rule.EXPIRED, "exp", 25)
    ]


@pytest.mark.parametrize(
    ("issuer", "provider", "sandbox", "standing"),
    [
        (None, Provider.GITHUB, True, validity.Issuer.MISSING),
        (ISS, Provider.GITHUB, False, validity.Issuer.PROVIDERS),
        (ISS, None, False, validity.Issuer.PROVIDERS),
        (ISS, Provider.GOOGLE, False, validity.Issuer.FOREIGN),
        ("https://ghes.example/_services/token", Provider.GITHUB, False, validity.Issuer.FOREIGN),
        ("https://gitlab.example.org", Provider.GITLAB, False, validity.Issuer.CUSTOM_GITLAB),
        ("https://gitlab.com/", Provider.GITLAB, False, validity.Issuer.CUSTOM_GITLAB),  # exact
        (
            "https://127.0.0.1:4443/_sandbox/github",
            Provider.GITHUB,
            True,
            validity.Issuer.PROVIDERS,
        ),
        ("https://127.0.0.1:4443/_sandbox/github", Provider.GITHUB, False, validity.Issuer.FOREIGN),
        ("https://ci.example", None, True, validity.Issuer.FOREIGN),
    ],
)
def test_issuer_standing(
    issuer: str | None, provider: Provider | None, sandbox: bool, standing: validity.Issuer
) -> None:
    assert validity.issuer_standing(issuer, provider, sandbox=sandbox) is standing
