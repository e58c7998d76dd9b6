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
variable from the mapping trustpub was given is simpler than adapting it. The
tests check that both agree on the variable name.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from trustpub._gitlab import token_env_name
from trustpub._secret import Secret
from trustpub.errors import IdentityError
from trustpub.providers._base import Detection, env_true, logger

NAME = "gitlab"


def id_tokens_yaml(audience: str) -> str:
    """The ``id_tokens:`` block a publishing job needs for ``audience``."""
    return f"publish:\n  id_tokens:\n    {token_env_name(audience)}:\n      aud: {audience}"


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

    return Detection(provider=NAME, description=describe(env), fetcher=fetch, static_token=True)


def _fetch(snapshot: Mapping[str, str], audience: str) -> Secret:
    name = token_env_name(audience)
    value = snapshot.get(name, "").strip()
    if value:
        logger.debug("gitlab: using %s", name)
        return Secret(value)
    others = sorted(other for other, text in snapshot.items() if other != name and text.strip())
    details = [f"this job has ID tokens in: {', '.join(others)}"] if others else []
    raise IdentityError(
        f"this GitLab CI/CD job has no ID token for audience {audience!r} ({name} is not set)",
        hint="add an id_tokens entry to the publishing job in .gitlab-ci.yml:\n"
        + id_tokens_yaml(audience),
        details=details,
        anchor="gitlab-missing-id-token",
    )


__all__ = ["NAME", "describe", "detect", "id_tokens_yaml", "token_env_name"]
