"""``trustpub sandbox env``: the environment of a fake CI job, from a running sandbox.

A thin client of ``POST /_sandbox/jobs``: it sends the job description built
from the options and prints the variables the sandbox answers with, as
``export`` lines for a shell, JSON, or a dotenv file.

The printed values include the job's sandbox tokens (GitLab/ActiveState JWTs,
GitHub's request token): printing them is this command's purpose. They are
signed by the sandbox's own keys and worthless anywhere else.
"""

from __future__ import annotations

import json
import re
import shlex
import ssl
from pathlib import Path
from typing import Any

import click

from trustpub.cli import _readyfile
from trustpub.cli._common import guarded, setup_logging, verbosity_options
from trustpub.errors import NetworkError, SandboxError, UsageError
from trustpub.sandbox.jobs import PROVIDERS, JobError, parse_claim_option

REPOSITORY_ENV = "TRUSTPUB_REPOSITORY"
"""Exported too, so that ``trustpub publish`` and ``claims`` in the job's shell use this sandbox."""

_HINT_PROVIDERS = f"choose one of: {', '.join(PROVIDERS)}"
_DOTENV_PLAIN = re.compile(r"^[A-Za-z0-9_./:@%+,=?&~-]*$")


def build_job(provider: str, options: dict[str, Any], claims: tuple[str, ...]) -> dict[str, Any]:
    """The JSON job description for ``POST /_sandbox/jobs``."""
    if provider not in PROVIDERS:
        raise UsageError(f"unknown provider {provider!r}", hint=_HINT_PROVIDERS)
    job: dict[str, Any] = {"provider": provider}
    job.update(
        {key: value for key, value in options.items() if value is not None and value is not False}
    )
    if options.get("id_token") is False:
        job["id_token"] = False
    overrides: dict[str, Any] = {}
    removed: list[str] = []
    for text in claims:
        try:
            key, value, remove = parse_claim_option(text)
        except JobError as error:
            raise UsageError(
                str(error), hint="write --claim KEY=VALUE, or --claim KEY= to delete a claim"
            ) from None
        if remove:
            removed.append(key)
            overrides.pop(key, None)
        else:
            overrides[key] = value
            if key in removed:
                removed.remove(key)
    if overrides:
        job["claims"] = overrides
    if removed:
        job["remove_claims"] = removed
    return job


_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
"""A variable name safe to write unquoted in ``export NAME=...`` and dotenv lines."""


def render(env: dict[str, str], fmt: str) -> str:
    """The variables as ``shell`` export lines, ``json`` or ``dotenv`` lines."""
    if fmt == "json":
        return json.dumps(env, indent=2, sort_keys=True)
    lines = []
    for name in sorted(env):
        value = env[name]
        if fmt == "shell":
            lines.append(f"export {name}={shlex.quote(value)}")
        elif _DOTENV_PLAIN.match(value):
            lines.append(f"{name}={value}")
        elif "'" not in value and "\n" not in value:
            lines.append(f"{name}='{value}'")
        else:
            escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
            lines.append(f'{name}="{escaped}"')
    return "\n".join(lines)


def request_env(url: str, job: dict[str, Any], ca_cert: Path | None) -> dict[str, str]:
    """POST the job to the sandbox and return the env it answers with."""
    import httpx

    from trustpub._http import make_client, network_error

    endpoint = url.rstrip("/") + "/_sandbox/jobs"
    transport: httpx.HTTPTransport | None = None
    if ca_cert is not None:
        try:
            context = ssl.create_default_context(cafile=str(ca_cert))
        except (OSError, ssl.SSLError) as error:
            raise UsageError(
                f"cannot load the CA certificate {ca_cert}: {error}",
                hint="pass the ca_cert path `trustpub sandbox serve` printed",
            ) from None
        transport = httpx.HTTPTransport(verify=context)
    with make_client(timeout=30.0, transport=transport) as client:
        try:
            response = client.post(endpoint, json=job)
        except httpx.TransportError as error:
            failure = network_error(error, endpoint, what="creating a sandbox job")
            if failure.anchor != "tls-certificate-verify-failed":
                failure.hint = "is `trustpub sandbox serve` running there? check --url"
            else:
                failure.hint = "pass --ca-cert (the sandbox's ca_cert) or --ready-file"
            raise failure from None
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code == 400 and isinstance(body, dict):
        raise UsageError(
            f"the sandbox refused the job: {body.get('message', 'bad job description')}",
            hint="see `trustpub sandbox env --help` for the job options",
        )
    if response.status_code != 200 or not isinstance(body, dict):
        raise NetworkError(
            f"{endpoint} answered HTTP {response.status_code} instead of a job",
            hint="check that --url points at a running `trustpub sandbox serve`",
        )
    env = body.get("env")
    if not isinstance(env, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in env.items()
    ):
        raise SandboxError(
            "the sandbox answered without a valid env",
            hint="the sandbox and this trustpub are different versions; use one install",
        )
    # The output is meant for `eval`: a name from the answer is written unquoted, so only
    # plain variable names pass (a hostile --url server cannot smuggle a command in one).
    bad = sorted(name for name in env if not _ENV_NAME.fullmatch(name))
    if bad:
        raise SandboxError(
            f"the sandbox answered with {len(bad)} invalid variable name(s), e.g. {bad[0]!r}",
            hint="check that --url points at trustpub's own sandbox; nothing was printed",
        )
    return env


@click.command("env")
@click.option(
    "--url",
    envvar="TRUSTPUB_SANDBOX_URL",
    show_envvar=True,
    help="Base URL of a running sandbox (the `url` of its ready line).",
)
@click.option(
    "--ready-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Read --url and --ca-cert from the ready file `trustpub sandbox serve` writes "
    "(waiting for it; see --wait).",
)
@click.option(
    "--wait",
    type=click.FloatRange(min=0),
    default=_readyfile.DEFAULT_WAIT,
    show_default=True,
    metavar="SECONDS",
    help="How long to wait for --ready-file to name a running sandbox.",
)
@click.option(
    "--ca-cert",
    type=click.Path(dir_okay=False, path_type=Path),
    help="CA certificate to trust the sandbox's HTTPS with (its `ca_cert`).",
)
@click.option(
    "--provider",
    required=True,
    metavar="|".join(PROVIDERS),
    help="Which CI/cloud to imitate.",
)
@click.option("--repository", help="GitHub owner/name or GitLab namespace/project.")
@click.option("--workflow", help="GitHub workflow file (release.yml) or GitLab pipeline path.")
@click.option("--ref", help="Full git ref, e.g. refs/tags/v1.0.0 or refs/heads/main.")
@click.option("--sha", help="Commit SHA (40 hex) [default: derived from repository and ref].")
@click.option("--environment", help="Deployment environment (GitHub/GitLab).")
@click.option("--event", help="GitHub event name, or GitLab pipeline source.")
@click.option("--actor", help="GitHub actor, GitLab user login, ActiveState user.")
@click.option("--runner", help="github-hosted | gitlab-hosted | self-hosted.")
@click.option("--fork", is_flag=True, default=None, help="GitHub pull_request from a fork.")
@click.option(
    "--id-token/--no-id-token",
    default=None,
    help="GitHub: whether the job has `id-token: write` [default: yes, except fork PRs].",
)
@click.option("--email", help="Google service-account email.")
@click.option("--impersonate", metavar="SA", help="Google: set GOOGLE_SERVICE_ACCOUNT_NAME.")
@click.option("--organization", help="ActiveState organization.")
@click.option("--project", help="ActiveState project.")
@click.option("--builder", help="ActiveState builder [default: pypi-publisher].")
@click.option(
    "--audience",
    "--gitlab-aud",
    "audience",
    help="GitLab/ActiveState: mint the job's token for this audience [default: the sandbox's].",
)
@click.option(
    "--timeout",
    type=click.IntRange(min=1),
    help="GitLab job timeout in seconds; the token expires after it [default: 3600].",
)
@click.option(
    "--instance",
    type=click.Choice(["gitlab.com", "self-managed"]),
    help="GitLab: the instance the job runs on; self-managed uses the sandbox's second GitLab "
    "issuer (its ready line's gitlab_custom_issuer) [default: gitlab.com].",
)
@click.option(
    "--claim",
    "claims",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a token claim (value parsed as JSON if it parses, else a string); "
    "an empty value (KEY=) deletes the claim. Repeatable.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["shell", "json", "dotenv"]),
    default="shell",
    show_default=True,
    help="shell: export lines; json: one object; dotenv: NAME=VALUE lines.",
)
@verbosity_options
def env(
    url: str | None,
    ready_file: Path | None,
    wait: float,
    ca_cert: Path | None,
    provider: str,
    claims: tuple[str, ...],
    fmt: str,
    verbose: int,
    quiet: bool,
    **options: Any,
) -> None:
    """Print the environment of a fake CI job of a running sandbox.

    \b
    eval "$(trustpub sandbox env --url https://127.0.0.1:8443 --ca-cert ca.pem \\
        --provider github --repository octo/pkg --workflow release.yml)"
    trustpub publish

    Also exports TRUSTPUB_REPOSITORY (the sandbox's upload URL), so trustpub
    commands in that shell use the sandbox unless given -r. With --ready-file
    it waits (up to --wait seconds) for the sandbox to be ready. Job options a provider does not use are refused. See docs/sandbox-identity.md.
    """
    setup_logging(verbose)
    with guarded(verbose >= 1):
        job = build_job(provider, options, claims)
        if ready_file is not None:
            ready = _readyfile.wait_ready(ready_file, wait)
            url = url or ready["url"]
            if ca_cert is None and isinstance(ready.get("ca_cert"), str):
                ca_cert = Path(ready["ca_cert"])
        if not url:
            raise UsageError(
                "no sandbox URL",
                hint="pass --url (or TRUSTPUB_SANDBOX_URL) or --ready-file of a running sandbox",
            )
        variables = request_env(url, job, ca_cert)
        # A rehearsal shell publishes to this sandbox unless told otherwise (-r wins).
        variables.setdefault(REPOSITORY_ENV, url.rstrip("/") + "/legacy/")
        click.echo(render(variables, fmt))


__all__ = ["build_job", "env", "render", "request_env"]
