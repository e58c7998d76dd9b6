"""GitLab CI/CD: the job declares ``id_tokens:`` and GitLab exports each token as a variable.

GitLab has no token endpoint: tokens are minted when the job starts, one per
``id_tokens:`` entry, under the variable name the pipeline chose (GitLab docs,
"OpenID Connect (OIDC) Authentication Using ID Tokens"). trustpub follows the
convention shared by ``id``, twine and uv: the token for audience ``pypi`` is
in ``PYPI_ID_TOKEN`` (see :func:`token_env_name`). A job without it gets an
error that prints the exact ``id_tokens:`` block for the audience the index
asked for.

``id`` implements the same convention (``detect_gitlab``), but it reads
``os.environ`` only and is reachable solely through its private
``id._internal`` module or the all-provider ``detect_credential``; reading one
variable from the mapping trustpub was given is simpler than adapting it (and
the sandbox's jobs hand trustpub such a mapping, which ``id`` cannot see). The
tests check that both agree on the variable name. A token for another audience
comes from the same convention: ``sigstore`` from ``SIGSTORE_ID_TOKEN``.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from trustpub._gitlab import id_tokens_yaml, token_env_name
from trustpub._secret import Secret
from trustpub.errors import IdentityError
from trustpub.oidc import validity
from trustpub.oidc.claims import DecodedToken
from trustpub.oidc.publishers import Provider
from trustpub.providers._base import Detection, Finding, env_true, logger

NAME = "gitlab"


JOB = "publish"
"""The job name the ``id_tokens:`` snippets in hints are written under."""


def describe(env: Mapping[str, str]) -> str:
    """``GitLab CI/CD (group/project, .gitlab-ci.yml)`` from the job's predefined variables."""
    project = env.get("CI_PROJECT_PATH", "")
    config = env.get("CI_CONFIG_PATH", "")
    bits = [bit for bit in (project, config) if bit]
    return "GitLab CI/CD" + (f" ({', '.join(bits)})" if bits else "")


def detect(env: Mapping[str, str], *, probe: bool = True) -> Detection | None:
    """A GitLab CI/CD job (``GITLAB_CI=true``); the token variable is checked per audience."""
    if not env_true(env, "GITLAB_CI"):
        logger.debug("gitlab: GITLAB_CI is not 'true'; not GitLab CI/CD")
        return None
    snapshot = {name: value for name, value in env.items() if name.endswith("_ID_TOKEN")}
    logger.debug("gitlab: GitLab CI/CD job with %d *_ID_TOKEN variable(s)", len(snapshot))

    def fetch(audience: str, client: httpx.Client | None) -> Secret:
        return _fetch(snapshot, audience)

    return Detection(
        provider=NAME,
        description=describe(env),
        fetcher=fetch,
        static_token=True,
        expired_hint="GitLab ID tokens expire with the job's timeout; publish earlier in the job "
        "or raise the job's timeout",
        audience_fix=lambda audience: (
            "set the ID token's aud in .gitlab-ci.yml:\n" + id_tokens_yaml(audience, job=JOB)
        ),
    )


def _fetch(snapshot: Mapping[str, str], audience: str) -> Secret:
    name = token_env_name(audience)
    value = snapshot.get(name, "").strip()
    if value:
        logger.debug("gitlab: using %s", name)
        return Secret(value)
    raise no_token_error(snapshot, audience)


def no_token_error(env: Mapping[str, str], audience: str) -> IdentityError:
    """The job has no ID token for ``audience``: the one text, with the ``id_tokens:`` fix.

    Fetching raises it; preflight reports it as a finding.
    """
    name = token_env_name(audience)
    others = sorted(
        other
        for other, text in env.items()
        if other.endswith("_ID_TOKEN") and other != name and text.strip()
    )
    details = [f"this job has ID tokens in: {', '.join(others)}"] if others else []
    return IdentityError(
        f"this GitLab CI/CD job has no ID token for audience {audience!r} ({name} is not set)",
        hint="add an id_tokens entry to the publishing job in .gitlab-ci.yml:\n"
        + id_tokens_yaml(audience, job=JOB),
        details=details,
        anchor="gitlab-missing-id-token",
    )


def findings(
    token: DecodedToken | None, env: Mapping[str, str], audience: str | None
) -> list[Finding]:
    """Preflight for a GitLab CI/CD job: the ID token variable, the instance, the job's shape."""
    found: list[Finding] = []
    aud = audience or "pypi"
    if token is None and env_true(env, "GITLAB_CI") and not env.get(token_env_name(aud)):
        error = no_token_error(env, aud)
        found.append(Finding(error.anchor or "", "blocker", error.message, error.hint))
    issuer = token.issuer if token is not None else env.get("CI_SERVER_URL")
    if validity.issuer_standing(issuer, Provider.GITLAB) is validity.Issuer.CUSTOM_GITLAB:
        found.append(
            Finding(
                "gitlab-self-managed",
                "warning",
                f"the GitLab instance is {issuer}, not gitlab.com: PyPI accepts it only after "
                "registering it for a PyPI organization (beta)",
                "publish from gitlab.com, or have the instance onboarded for your PyPI "
                "organization (otherwise: 'unknown trusted publishing issuer')",
            )
        )
    if token is not None:
        found.extend(_token_findings(token))
    return found


def _token_findings(token: DecodedToken) -> list[Finding]:
    claims = token.claims
    found: list[Finding] = []
    if not claims.get("environment"):
        found.append(
            Finding(
                "no-environment",
                "info",
                "the publishing job runs in no environment",
                "use a protected environment (`environment: pypi`) and name it in the publisher",
            )
        )
    if claims.get("runner_environment") == "self-hosted":
        found.append(
            Finding(
                "self-hosted-runner",
                "warning",
                "the job runs on a self-hosted runner",
                "publish from a GitLab-hosted runner",
            )
        )
    if claims.get("ci_config_ref_uri") in (None, ""):
        found.append(
            Finding(
                "gitlab-external-config",
                "blocker",
                "the token has no ci_config_ref_uri: the pipeline configuration lives in "
                "another project",
                "keep the top-level pipeline file in this project; PyPI matches it by path",
            )
        )
    return found


__all__ = [
    "JOB",
    "NAME",
    "describe",
    "detect",
    "findings",
    "no_token_error",
    "token_env_name",
]
