"""Google Cloud: an identity token from the metadata server, or from IAM by impersonation.

Token (Google docs, "Verifying the identity of instances"): ``GET
http://<metadata host>/computeMetadata/v1/instance/service-accounts/default/identity?audience=<aud>&format=full``
with ``Metadata-Flavor: Google``; the body is the raw JWT. ``format=full`` adds
``email``/``email_verified``, which PyPI requires. The metadata host is
``GCE_METADATA_HOST`` (as in Google's own client libraries) or
``metadata.google.internal``.

With ``GOOGLE_SERVICE_ACCOUNT_NAME`` set, trustpub impersonates that service
account like ``id`` does: an access token from ``.../default/token``, then
IAM ``POST /v1/projects/-/serviceAccounts/<SA>:generateIdToken`` with
``{"audience", "includeEmail": true}``. The IAM base URL is
``https://iamcredentials.googleapis.com`` unless ``TRUSTPUB_GOOGLE_IAM_URL``
names another (the sandbox imitates IAM under ``/_sandbox/google/iam``).

Detection never touches the network on a machine with no sign of Google Cloud:
it needs the DMI product name (``/sys/class/dmi/id/product_name`` reads
``Google`` or ``Google Compute Engine``) or a Google variable
(``GCE_METADATA_HOST``, ``GCE_METADATA_IP``, ``GOOGLE_SERVICE_ACCOUNT_NAME``,
``K_SERVICE``, ``CLOUD_RUN_JOB``, ``FUNCTION_TARGET``, ``GAE_ENV``). Then one
short request (1 s timeouts) asks the metadata server for the default service
account's email; the ``Metadata-Flavor: Google`` response header proves it is
Google's metadata server, and a 404 means "no usable identity" (Colab, a VM
without a service account): not detected, never a crash.

Why not ``id``'s GCP detector: it requires the DMI file (absent on Cloud Run's
gVisor sandbox), hard-codes the metadata host ``metadata`` and the IAM URL (so
neither Cloud Run nor the sandbox can be served), raises on a Google machine
without an identity instead of returning None, and reads ``os.environ`` only.
A token for another audience (``sigstore``) is one more identity request.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from urllib.parse import quote

import httpx

from trustpub._http import body_excerpt, make_client, redirect_refused, retryable_status
from trustpub._secret import Secret
from trustpub.errors import IdentityError
from trustpub.oidc.claims import DecodedToken, claim_text
from trustpub.oidc.diagnostics import EMAIL_FIX
from trustpub.providers._base import (
    TOKEN_REDIRECT_ANCHOR,
    Detection,
    Finding,
    TransientIdentityError,
    check_credential_url,
    logger,
    token_in_answer,
    transport_error,
    with_client,
)

NAME = "google"
DMI_PRODUCT_NAME = Path("/sys/class/dmi/id/product_name")
GOOGLE_PRODUCT_NAMES = frozenset({"Google", "Google Compute Engine"})
DEFAULT_METADATA_HOST = "metadata.google.internal"
DEFAULT_IAM_URL = "https://iamcredentials.googleapis.com"
IAM_URL_ENV = "TRUSTPUB_GOOGLE_IAM_URL"
SERVICE_ACCOUNT_ENV = "GOOGLE_SERVICE_ACCOUNT_NAME"
CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
HINT_VARIABLES = (
    "GCE_METADATA_HOST",
    "GCE_METADATA_IP",
    SERVICE_ACCOUNT_ENV,
    "K_SERVICE",
    "CLOUD_RUN_JOB",
    "FUNCTION_TARGET",
    "GAE_ENV",
)
PROBE_TIMEOUT = 1.0
FETCH_TIMEOUT = 10.0
_SA_PATH = "/computeMetadata/v1/instance/service-accounts/default"


def metadata_host(env: Mapping[str, str]) -> str:
    """``GCE_METADATA_HOST``, else ``GCE_METADATA_IP``, else ``metadata.google.internal``."""
    for name in ("GCE_METADATA_HOST", "GCE_METADATA_IP"):
        value = env.get(name, "").strip()
        if value:
            return value.removeprefix("http://").rstrip("/")
    return DEFAULT_METADATA_HOST


def _dmi_says_google(path: Path) -> bool:
    try:
        name = path.read_text(encoding="utf-8").strip()
    except OSError:
        return False
    return name in GOOGLE_PRODUCT_NAMES


def _metadata_client(timeout: float) -> httpx.Client:
    # An explicit transport disables proxies from the environment: the metadata
    # server is link-local and must never be asked through a proxy.
    return make_client(timeout=httpx.Timeout(timeout), transport=httpx.HTTPTransport())


def detect(
    env: Mapping[str, str], *, probe: bool = True, dmi_path: Path | None = None
) -> Detection | None:
    """Google Cloud with a usable default service account, else None (never raises for absence)."""
    dmi = _dmi_says_google(DMI_PRODUCT_NAME if dmi_path is None else dmi_path)
    hints = [name for name in HINT_VARIABLES if env.get(name, "").strip()]
    if not dmi and not hints:
        logger.debug("google: no DMI product name and no Google variables; not Google Cloud")
        return None
    host = metadata_host(env)
    impersonate = env.get(SERVICE_ACCOUNT_ENV, "").strip()
    iam_url = (env.get(IAM_URL_ENV, "").strip() or DEFAULT_IAM_URL).rstrip("/")
    email: str | None = None
    if probe:
        logger.debug(
            "google: asking the metadata server for the default service account (%s)",
            "DMI" if dmi else ", ".join(hints),
        )
        email = _default_email(host)
        if email is None:
            return None
    elif not dmi:
        logger.debug("google: only variables hint at Google Cloud and probing is off")
        return None
    if impersonate:
        description = f"Google Cloud (impersonating {impersonate} via IAM)"
    elif email:
        description = f"Google Cloud (service account {email})"
    else:
        description = "Google Cloud (metadata server)"

    def fetch(audience: str, client: httpx.Client | None) -> Secret:
        if impersonate:
            return _impersonate(client, host, iam_url, impersonate, audience)
        return _identity(host, audience)

    return Detection(provider=NAME, description=description, fetcher=fetch)


def _default_email(host: str) -> str | None:
    url = f"http://{host}{_SA_PATH}/email"
    try:
        with _metadata_client(PROBE_TIMEOUT) as client:
            response = client.get(url, headers={"Metadata-Flavor": "Google"})
    except httpx.HTTPError as error:
        logger.debug("google: metadata server not reachable (%s)", type(error).__name__)
        return None
    if response.headers.get("metadata-flavor") != "Google":
        logger.debug("google: the answer lacks 'Metadata-Flavor: Google'; not a metadata server")
        return None
    if response.status_code != 200:
        logger.debug(
            "google: metadata server has no default service account (HTTP %d); no usable identity",
            response.status_code,
        )
        return None
    email = response.text.strip()
    if not email or len(email) > 320 or any(ch.isspace() for ch in email):
        logger.debug("google: unusable service-account email; no usable identity")
        return None
    logger.debug("google: default service account found")
    return email


_IDENTITY_HINT = (
    "attach a service account to the VM / Cloud Run service / job (not the default compute "
    "service account) and let it mint identity tokens"
)


def _identity(host: str, audience: str) -> Secret:
    url = f"http://{host}{_SA_PATH}/identity"
    params = {"audience": audience, "format": "full"}
    logger.debug("google: requesting an identity token for audience %r", audience)
    try:
        with _metadata_client(FETCH_TIMEOUT) as client:
            response = client.get(url, params=params, headers={"Metadata-Flavor": "Google"})
    except httpx.TransportError as error:
        raise transport_error(
            error, url, what="requesting an identity token from the metadata server"
        ) from None
    _check_status(response, what="the metadata server's identity endpoint", hint=_IDENTITY_HINT)
    token = response.text.strip()
    if token.count(".") != 2 or any(ch.isspace() for ch in token):
        raise IdentityError(
            "the metadata server's identity endpoint answered with something that is not a JWT",
            hint=_IDENTITY_HINT,
            anchor="google-identity-failed",
        )
    logger.debug("google: received an identity token")
    return Secret(token)


def _check_status(response: httpx.Response, *, what: str, hint: str) -> None:
    status = response.status_code
    if status == 200:
        return
    if 300 <= status < 400:
        raise redirect_refused(
            response,
            what=what,
            error=IdentityError,
            hint=hint,
            anchor=TOKEN_REDIRECT_ANCHOR,
        )
    message = f"{what} answered HTTP {status}: {body_excerpt(response)}"
    if retryable_status(status):
        raise TransientIdentityError(message, hint=hint, anchor="google-identity-failed")
    raise IdentityError(message, hint=hint, anchor="google-identity-failed")


def _impersonate(
    client: httpx.Client | None, host: str, iam_url: str, account: str, audience: str
) -> Secret:
    check_credential_url(
        iam_url,
        what="the IAM credentials API",
        hint=f"{IAM_URL_ENV} must be an https URL (http only on loopback)",
    )
    access = _access_token(host)
    url = f"{iam_url}/v1/projects/-/serviceAccounts/{quote(account, safe='@')}:generateIdToken"
    hint = (
        f"give the job's service account the role 'Service Account OpenID Connect Identity Token "
        f"Creator' (roles/iam.serviceAccountOpenIdTokenCreator) on {account}, and check "
        f"{SERVICE_ACCOUNT_ENV}"
    )

    def run(http: httpx.Client) -> Secret:
        logger.debug("google: asking IAM for an identity token of the impersonated account")
        try:
            response = http.post(
                url,
                json={"audience": audience, "includeEmail": True},
                headers={"Authorization": f"Bearer {access.reveal()}"},
                follow_redirects=False,
            )
        except httpx.TransportError as error:
            raise transport_error(error, url, what="calling IAM generateIdToken") from None
        _check_status(response, what="IAM generateIdToken", hint=hint)
        token = token_in_answer(
            response,
            "token",
            missing="IAM generateIdToken answered without a token (no string 'token' in its JSON)",
            hint=hint,
            anchor="google-identity-failed",
        )
        logger.debug("google: received an identity token from IAM")
        return token

    return with_client(client, run)


def _access_token(host: str) -> Secret:
    url = f"http://{host}{_SA_PATH}/token"
    hint = "the VM / service needs an attached service account with the cloud-platform scope"
    try:
        with _metadata_client(FETCH_TIMEOUT) as client:
            response = client.get(
                url, params={"scopes": CLOUD_PLATFORM_SCOPE}, headers={"Metadata-Flavor": "Google"}
            )
    except httpx.TransportError as error:
        raise transport_error(
            error, url, what="requesting an access token from the metadata server"
        ) from None
    _check_status(response, what="the metadata server's token endpoint", hint=hint)
    return token_in_answer(
        response,
        "access_token",
        missing="the metadata server's token endpoint answered without an access_token",
        hint=hint,
        anchor="google-identity-failed",
    )


GOOGLE_DEFAULT_ACCOUNTS = ("-compute@developer.gserviceaccount.com", "@appspot.gserviceaccount.com")
"""Suffixes of the default service accounts every service of a project shares."""


def findings(token: DecodedToken | None) -> list[Finding]:
    """Preflight for a Google token: PyPI needs a verified email; a default account is risky."""
    if token is None:
        return []
    found: list[Finding] = []
    email = token.claims.get("email")
    if not isinstance(email, str) or not email:
        found.append(
            Finding(
                "google-no-email",
                "blocker",
                "the Google token carries no email claim",
                "request the identity token with format=full (metadata server) or "
                "includeEmail=true (generateIdToken)",
            )
        )
    elif email.endswith(GOOGLE_DEFAULT_ACCOUNTS):
        found.append(
            Finding(
                "google-default-service-account",
                "warning",
                f"{email} is a default service account, shared by every service in the project",
                "create a dedicated service account for publishing and use it here",
            )
        )
    verified = token.claims.get("email_verified")
    if isinstance(email, str) and email and verified is not True:
        found.append(
            Finding(
                "google-email-unverified",
                "blocker",
                f"email_verified is {claim_text(verified) or 'missing'}; PyPI requires JSON true",
                EMAIL_FIX,
            )
        )
    return found


__all__ = [
    "DEFAULT_IAM_URL",
    "DEFAULT_METADATA_HOST",
    "DMI_PRODUCT_NAME",
    "GOOGLE_DEFAULT_ACCOUNTS",
    "IAM_URL_ENV",
    "NAME",
    "SERVICE_ACCOUNT_ENV",
    "detect",
    "findings",
    "metadata_host",
]
