"""The sandbox's identity providers: five OIDC issuers and their delivery paths.

Each of GitHub, GitLab, Google and ActiveState gets an issuer of its own at
``{base_url}/_sandbox/<provider>`` with an OpenID discovery document and a
JWKS; a second GitLab issuer at ``{base_url}/_sandbox/gitlab-self-managed``
stands for a self-managed instance (a GitLab job with ``"instance":
"self-managed"``), which PyPI accepts for publishers naming it as their issuer.
Tokens are RS256 with a ``kid``, signed by a key generated once into
``<state_dir>/keys/<issuer name>.pem`` and reused on the next start.

Delivery imitates each provider (docs/sandbox-identity.md):

* ``POST /_sandbox/jobs`` creates a fake CI job and answers with its env;
* GitHub: ``GET /_sandbox/github/token?job=<id>&audience=<aud>`` with the
  job's bearer request token answers ``{"count": 1, "value": jwt}``;
* GitLab and ActiveState: the token is minted at job creation into the env;
* Google: :meth:`IdentityProviders.metadata_app` imitates the metadata
  server (a second plain-HTTP loopback listener), and
  ``POST /_sandbox/google/iam/v1/projects/-/serviceAccounts/<SA>:generateIdToken``
  imitates IAM Credentials for ``GOOGLE_SERVICE_ACCOUNT_NAME``.

:meth:`IdentityProviders.verify` is what the index's mint endpoint uses: real
RS256 verification as PyPI does it. Token values are never logged.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import threading
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from trustpub.oidc import validity
from trustpub.providers.activestate import TOKEN_ENV as ACTIVESTATE_TOKEN_ENV
from trustpub.sandbox import jobs as jobs_module
from trustpub.sandbox.jobs import PROVIDERS, SELF_MANAGED, Job, JobError, JobSpec, JobStore
from trustpub.sandbox.routing import Endpoints, route

if TYPE_CHECKING:
    from trustpub.sandbox.context import SandboxContext


_JWKS_PATHS = {
    "github": "/.well-known/jwks",
    "gitlab": "/oauth/discovery/keys",
    "google": "/oauth2/v3/certs",
    "activestate": "/jwks",
}
"""Where each real provider publishes its keys, relative to the issuer."""

GITLAB_SELF_MANAGED = "gitlab-self-managed"
"""The name (and path under ``/_sandbox/``) of the self-managed GitLab issuer."""

ISSUERS: dict[str, str] = {**{p: p for p in PROVIDERS}, GITLAB_SELF_MANAGED: "gitlab"}
"""Every issuer the sandbox serves, by name, with the provider its tokens are for."""


def issuer_name(spec: JobSpec) -> str:
    """The issuer a job's tokens come from: its provider's, or the self-managed GitLab."""
    return GITLAB_SELF_MANAGED if spec.instance == SELF_MANAGED else spec.provider


class InvalidToken(Exception):
    """A token failed verification. The reason stays internal (never shown to clients)."""


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_int(number: int) -> str:
    return _b64url(number.to_bytes((number.bit_length() + 7) // 8, "big"))


@dataclass(frozen=True)
class SigningKey:
    """One provider's RSA key and the ``kid`` tokens name it by."""

    provider: str
    private_key: rsa.RSAPrivateKey
    kid: str
    x5t: str | None = None

    @property
    def public_key(self) -> rsa.RSAPublicKey:
        return self.private_key.public_key()

    def jwk(self) -> dict[str, Any]:
        """The public key as a JWKS entry."""
        numbers = self.public_key.public_numbers()
        entry: dict[str, Any] = {
            "kty": "RSA",
            "alg": "RS256",
            "use": "sig",
            "kid": self.kid,
            "n": _b64url_int(numbers.n),
            "e": _b64url_int(numbers.e),
        }
        if self.x5t is not None:
            entry["x5t"] = self.x5t
        return entry

    @classmethod
    def from_private_key(cls, provider: str, key: rsa.RSAPrivateKey) -> SigningKey:
        """Derive the ``kid`` the way the real provider's looks.

        GitHub: upper-case hex SHA-1 thumbprint (and ``x5t``, the same bytes in
        base64url); Google: lower-case hex SHA-1; GitLab and ActiveState: the
        RFC 7638 JWK thumbprint.
        """
        public = key.public_key()
        der = public.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        sha1 = hashlib.sha1(der).digest()  # noqa: S324 - a key identifier, as GitHub's
        if provider == "github":
            return cls(provider, key, sha1.hex().upper(), _b64url(sha1))
        if provider == "google":
            return cls(provider, key, sha1.hex())
        numbers = public.public_numbers()
        canonical = json.dumps(
            {"e": _b64url_int(numbers.e), "kty": "RSA", "n": _b64url_int(numbers.n)},
            separators=(",", ":"),
            sort_keys=True,
        )
        return cls(provider, key, _b64url(hashlib.sha256(canonical.encode()).digest()))


def _load_or_create_key(path: Path) -> rsa.RSAPrivateKey:
    """Read the PEM key at ``path``, creating it first if absent (race-safe)."""
    try:
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError:
        pass
    else:
        if not isinstance(loaded, rsa.RSAPrivateKey):
            raise InvalidToken(f"{path} is not an RSA key")
        return loaded
    path.parent.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    try:
        os.link(tmp, path)  # fails if another process created the key first
    except FileExistsError:
        tmp.unlink()
        return _load_or_create_key(path)
    tmp.unlink()
    return key


def _number(claims: Mapping[str, Any], name: str) -> int:
    try:
        return int(claims[name])
    except (ValueError, TypeError, OverflowError):
        raise InvalidToken(f"{name} is not a number") from None


def _json_error(status: int, message: str) -> JSONResponse:
    return JSONResponse(
        {"message": message, "documentation_url": "https://docs.github.com/rest"}, status
    )


def _google_error(status: int, message: str, code: str) -> JSONResponse:
    return JSONResponse({"error": {"code": status, "message": message, "status": code}}, status)


def _bearer(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value:
        return None
    return value


class IdentityProviders(Endpoints):
    """The four issuers of one sandbox: keys, signing, verification, routes."""

    def __init__(self, ctx: SandboxContext) -> None:
        self._ctx = ctx
        self._keys: dict[str, SigningKey] = {}
        self._lock = threading.Lock()
        self.jobs = JobStore(ctx.state_dir)
        self.activestate_token_env = ACTIVESTATE_TOKEN_ENV

    # ----------------------------------------------------------------- issuers and keys

    def issuer_url(self, name: str) -> str:
        """The named issuer inside this sandbox (``iss`` of its tokens); a provider names its own."""
        return f"{self._ctx.base_url}/_sandbox/{name}"

    def _issuer_named(self, iss: str) -> str | None:
        """The name of the sandbox issuer whose URL is exactly ``iss``."""
        return next((name for name in ISSUERS if iss == self.issuer_url(name)), None)

    def provider_for_issuer(self, iss: str) -> str | None:
        """Which sandbox provider issues tokens with this exact ``iss``."""
        name = self._issuer_named(iss)
        return ISSUERS[name] if name is not None else None

    def key(self, name: str) -> SigningKey:
        """The named issuer's signing key (generated once into ``<state_dir>/keys/``)."""
        if name not in ISSUERS:
            raise ValueError(f"unknown provider {name!r}")
        with self._lock:
            key = self._keys.get(name)
            if key is None:
                path = self._ctx.state_dir / "keys" / f"{name}.pem"
                key = SigningKey.from_private_key(ISSUERS[name], _load_or_create_key(path))
                self._keys[name] = key
            return key

    def sign(self, name: str, claims: Mapping[str, Any]) -> str:
        """An RS256 JWT with the issuer's key and ``kid`` (and GitHub's ``x5t``)."""
        key = self.key(name)
        headers: dict[str, Any] = {"typ": "JWT", "kid": key.kid}
        if key.x5t is not None:
            headers["x5t"] = key.x5t
        return jwt.encode(dict(claims), key.private_key, algorithm="RS256", headers=headers)

    def discovery(self, name: str) -> dict[str, Any]:
        """The named issuer's ``/.well-known/openid-configuration`` document."""
        issuer = self.issuer_url(name)
        provider = ISSUERS[name]
        document: dict[str, Any] = {
            "issuer": issuer,
            "jwks_uri": issuer + _JWKS_PATHS[provider],
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid"],
            "claims_supported": sorted(self._claim_names(provider)),
        }
        if provider == "github":
            document["subject_types_supported"] = ["public", "pairwise"]
        return document

    def _claim_names(self, provider: str) -> set[str]:
        description: dict[str, Any] = {"provider": provider}
        if provider in ("github", "gitlab"):
            description["environment"] = "pypi"
        job = Job(
            id="0" * 16,
            spec=jobs_module.parse_job(description),
            created=0.0,
            run_id="1",
            run_number="1",
            check_run_id="1",
            pipeline_id="1",
            ci_job_id="1",
            runner_id=1,
            request_token=None,
            access_token=None,
        )
        return set(jobs_module.build_claims(job, issuer="", audience="", now=0))

    # ----------------------------------------------------------------- verification

    def verify(
        self, token: str, *, provider: str, audience: str, issuer: str | None = None
    ) -> dict[str, Any]:
        """Verify a token as PyPI does; return its claims or raise :class:`InvalidToken`.

        ``issuer`` (default: the provider's own) must be one of the provider's
        sandbox issuers: the self-managed GitLab's is accepted for ``gitlab``.
        RS256 with that issuer's key by ``kid``; ``iss`` exact; ``aud`` a single
        string equal to ``audience``; ``iss/iat/exp/aud`` required; ``nbf`` checked
        if present; PyPI's leeway on ``exp`` and on a future ``iat``/``nbf``
        (:mod:`trustpub.oidc.validity`, no client margin), against the sandbox's clock.
        """
        name = provider if issuer is None else self._issuer_named(issuer)
        if name is None or ISSUERS.get(name) != provider:
            raise InvalidToken("unknown provider")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise InvalidToken("malformed token") from None
        if header.get("alg") != "RS256":
            raise InvalidToken("algorithm is not RS256")
        key = self.key(name)
        if header.get("kid") != key.kid:
            raise InvalidToken("unknown kid")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.public_key,
                algorithms=["RS256"],
                audience=audience,
                issuer=self.issuer_url(name),
                options={
                    "require": list(validity.REQUIRED_CLAIMS),
                    "strict_aud": True,
                    # Times are checked below against the sandbox's clock.
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
        except jwt.PyJWTError as error:
            raise InvalidToken(type(error).__name__) from None
        now = self._ctx.clock()
        if validity.is_expired(_number(claims, "exp"), now):
            raise InvalidToken("expired")
        if validity.is_premature(_number(claims, "iat"), now):
            raise InvalidToken("issued in the future")
        if "nbf" in claims and validity.is_premature(_number(claims, "nbf"), now):
            raise InvalidToken("not yet valid")
        return claims

    # ----------------------------------------------------------------- jobs and tokens

    def create_job(self, description: Mapping[str, Any]) -> tuple[Job, dict[str, str]]:
        """Create a job from its description; return it and its environment.

        Raises :class:`~trustpub.sandbox.jobs.JobError` for a bad description.
        """
        spec = jobs_module.parse_job(description)
        now = self._ctx.clock()
        job = self.jobs.create(spec, now=now)
        token: str | None = None
        token_audience: str | None = None
        if spec.provider in ("gitlab", "activestate"):
            token_audience = spec.audience or self._ctx.audience
            token = self.job_token(job, token_audience)
        env = jobs_module.job_env(
            job,
            folder=self.jobs.folder(job.id),
            base_url=self._ctx.base_url,
            issuer=self.issuer_url(issuer_name(spec)),
            token=token,
            token_audience=token_audience,
            metadata_host=self._ctx.metadata_host,
            ca_cert=self._ctx.ca_cert,
            activestate_env=self.activestate_token_env,
        )
        self._sigstore_env(job, env)
        return job, env

    def _sigstore_env(self, job: Job, env: dict[str, str]) -> None:
        """Sign against this sandbox's Sigstore; GitLab jobs get ``SIGSTORE_ID_TOKEN`` too."""
        from trustpub.attest import SIGSTORE_TOKEN_ENV, TRUST_CONFIG_ENV
        from trustpub.sandbox.sigstore.trust import trust_config_path

        env[TRUST_CONFIG_ENV] = str(trust_config_path(self._ctx.state_dir))
        if job.spec.provider == "gitlab":
            env[SIGSTORE_TOKEN_ENV] = self.job_token(job, validity.SIGSTORE_AUDIENCE)

    def job_token(self, job: Job, audience: str) -> str:
        """A fresh token for the job (new ``jti``, ``iat`` now)."""
        name = issuer_name(job.spec)
        claims = jobs_module.build_claims(
            job, issuer=self.issuer_url(name), audience=audience, now=self._ctx.clock()
        )
        return self.sign(name, claims)

    def google_token(
        self, job: Job, *, email: str, audience: str, full: bool, compute_engine: bool
    ) -> str:
        """A Google ID token for ``email`` (metadata server or IAM), job overrides applied."""
        claims = jobs_module.google_claims(
            email,
            issuer=self.issuer_url("google"),
            audience=audience,
            now=int(self._ctx.clock()),
            full=full,
            compute_engine=compute_engine,
        )
        return self.sign("google", jobs_module.apply_overrides(claims, job.spec))

    # ----------------------------------------------------------------- HTTP

    def routes(self) -> list[BaseRoute]:
        """Routes to mount on the sandbox's main (HTTPS) app."""
        routes = super().routes()
        for name, provider in ISSUERS.items():
            base = f"/_sandbox/{name}"
            routes.append(
                Route(
                    f"{base}/.well-known/openid-configuration",
                    self._discovery_endpoint(name),
                    methods=["GET"],
                )
            )
            routes.extend(
                Route(base + path, self._jwks_endpoint(name), methods=["GET"])
                for path in sorted({_JWKS_PATHS[provider], "/jwks"})
            )
        return routes

    def _discovery_endpoint(self, name: str) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            return JSONResponse(await run_in_threadpool(self.discovery, name))

        return endpoint

    def _jwks_endpoint(self, name: str) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            key = await run_in_threadpool(self.key, name)
            return JSONResponse({"keys": [key.jwk()]})

        return endpoint

    @route("POST", "/_sandbox/jobs")
    async def _create_job_endpoint(self, request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return JSONResponse({"message": "the job description must be a JSON object"}, 400)
        try:
            job, env = await run_in_threadpool(self.create_job, body)
        except JobError as error:
            return JSONResponse({"message": str(error)}, 400)
        return JSONResponse({"job": job.id, "env": env})

    @route("GET", "/_sandbox/github/token")
    async def _github_token_endpoint(self, request: Request) -> Response:
        presented = _bearer(request)
        if presented is None:
            return _json_error(401, "Requires authentication")
        job = self.jobs.get(request.query_params.get("job", ""))
        if job is None or job.spec.provider != "github":
            return _json_error(404, "Not Found")
        if job.request_token is None or not secrets.compare_digest(
            job.request_token.encode(), presented.encode()
        ):
            return _json_error(403, "Bad credentials")
        audience = request.query_params.get("audience") or f"https://github.com/{job.spec.owner}"
        token = await run_in_threadpool(self.job_token, job, audience)
        return JSONResponse({"count": 1, "value": token})

    @route("POST", "/_sandbox/google/iam/v1/projects/-/serviceAccounts/{account}:generateIdToken")
    async def _iam_endpoint(self, request: Request) -> Response:
        presented = _bearer(request)
        if presented is None:
            return _google_error(
                401,
                "Request is missing required authentication credential. "
                "Expected OAuth 2 access token.",
                "UNAUTHENTICATED",
            )
        job = await run_in_threadpool(self.jobs.by_access_token, presented)
        if job is None:
            return _google_error(
                401, "Request had invalid authentication credentials.", "UNAUTHENTICATED"
            )
        account = request.path_params["account"]
        if not jobs_module.EMAIL_PATTERN.match(account):
            return _google_error(400, "Invalid form of account ID " + account, "INVALID_ARGUMENT")
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return _google_error(400, "Invalid JSON payload received.", "INVALID_ARGUMENT")
        audience = body.get("audience")
        if not isinstance(audience, str) or not audience:
            return _google_error(400, "Audience cannot be empty.", "INVALID_ARGUMENT")
        include_email = body.get("includeEmail") is True
        token = await run_in_threadpool(
            lambda: self.google_token(
                job, email=account, audience=audience, full=include_email, compute_engine=False
            )
        )
        return JSONResponse({"token": token})

    # ----------------------------------------------------------------- Google metadata

    def metadata_app(self) -> ASGIApp:
        """The Google metadata server imitation (serves the most recent google job)."""
        prefix = "/computeMetadata/v1"
        accounts = f"{prefix}/instance/service-accounts"
        routes = [
            Route("/", self._metadata_root),
            Route("/computeMetadata/", self._metadata_listing("v1/\n")),
            Route(f"{prefix}/", self._metadata_listing("instance/\nproject/\n")),
            Route(f"{prefix}/project/project-id", self._metadata_project_id),
            Route(f"{accounts}/", self._metadata_accounts),
            Route(f"{accounts}/{{account}}/email", self._metadata_email),
            Route(f"{accounts}/{{account}}/token", self._metadata_token),
            Route(f"{accounts}/{{account}}/identity", self._metadata_identity),
        ]
        return _MetadataFlavor(Starlette(routes=routes))

    def _metadata_job(self, request: Request) -> Job | Response:
        if request.headers.get("metadata-flavor") != "Google":
            return PlainTextResponse(
                'Missing required header "Metadata-Flavor": "Google"\n', status_code=403
            )
        job = self.jobs.latest("google")
        if job is None:
            return PlainTextResponse(
                "no Google job in this sandbox yet: run "
                "`trustpub sandbox env --provider google` first\n",
                status_code=404,
            )
        account = request.path_params.get("account")
        if account is not None and account not in ("default", job.spec.email):
            return PlainTextResponse("Not Found\n", status_code=404)
        return job

    async def _metadata_root(self, request: Request) -> Response:
        return PlainTextResponse("computeMetadata/\n")

    def _metadata_listing(self, text: str) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            if request.headers.get("metadata-flavor") != "Google":
                return PlainTextResponse(
                    'Missing required header "Metadata-Flavor": "Google"\n', status_code=403
                )
            return PlainTextResponse(text)

        return endpoint

    async def _metadata_project_id(self, request: Request) -> Response:
        job = await run_in_threadpool(self._metadata_job, request)
        if not isinstance(job, Job):
            return job
        return PlainTextResponse(jobs_module.google_project(job.spec.email or ""))

    async def _metadata_accounts(self, request: Request) -> Response:
        job = await run_in_threadpool(self._metadata_job, request)
        if not isinstance(job, Job):
            return job
        return PlainTextResponse(f"default/\n{job.spec.email}/\n")

    async def _metadata_email(self, request: Request) -> Response:
        job = await run_in_threadpool(self._metadata_job, request)
        if not isinstance(job, Job):
            return job
        return PlainTextResponse(job.spec.email or "")

    async def _metadata_token(self, request: Request) -> Response:
        job = await run_in_threadpool(self._metadata_job, request)
        if not isinstance(job, Job):
            return job
        return JSONResponse(
            {"access_token": job.access_token, "expires_in": 3599, "token_type": "Bearer"}
        )

    async def _metadata_identity(self, request: Request) -> Response:
        job = await run_in_threadpool(self._metadata_job, request)
        if not isinstance(job, Job):
            return job
        audience = request.query_params.get("audience", "")
        if not audience:
            return PlainTextResponse("non-empty audience parameter required\n", status_code=400)
        full = request.query_params.get("format", "standard") == "full"
        token = await run_in_threadpool(
            lambda: self.google_token(
                job, email=job.spec.email or "", audience=audience, full=full, compute_engine=True
            )
        )
        return PlainTextResponse(token)


class _MetadataFlavor:
    """ASGI wrapper: every response carries ``Metadata-Flavor: Google`` (detection probes)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"metadata-flavor", b"Google"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_header)


__all__ = ["IdentityProviders", "InvalidToken", "SigningKey"]
