"""``trustpub publish``: upload distributions, with trusted publishing."""

from __future__ import annotations

import os
from pathlib import Path

import click

from trustpub._secret import Secret
from trustpub.cli._common import (
    env_option,
    guarded,
    jobs_option,
    oidc_token_env_option,
    setup_logging,
    verbosity_options,
)
from trustpub.errors import TrustpubError


def _given_secrets(
    token_text: str | None, password_text: str | None
) -> tuple[Secret | None, Secret | None]:
    """``--token`` and ``--password`` as secrets (None when blank)."""
    # A blank --token (an unset CI secret, stray whitespace) is no token; a pasted newline is not part of it.
    token = Secret(token_text.strip()) if token_text and token_text.strip() else None
    # A password is taken as given, but an empty one (an unset CI secret) is none.
    password = Secret(password_text) if password_text else None
    return token, password


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("paths", nargs=-1, metavar="[PATHS]...")
@env_option(
    "-r",
    "--repository",
    default="pypi",
    metavar="NAME|URL",
    show_default=True,
    twine=["TWINE_REPOSITORY_URL", "TWINE_REPOSITORY"],
    help="pypi, testpypi, a section of .pypirc, or an upload URL (https://host/legacy/; "
    "user:password@ in it count as --username/--password).",
)
@env_option(
    "-u",
    "--username",
    metavar="NAME",
    twine=["TWINE_USERNAME"],
    help="The user name to upload as (default __token__, i.e. an API token).",
)
@env_option(
    "-p",
    "--password",
    "password_text",
    metavar="PASSWORD",
    twine=["TWINE_PASSWORD"],
    help="The password (or API token) of --username; else .pypirc, then the keyring.",
)
@env_option(
    "--config-file",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="PATH",
    help="The .pypirc to read -r NAME from (default ~/.pypirc, when it exists).",
)
@env_option(
    "--index-url",
    metavar="URL",
    help="The index's simple API, read by --dry-run and --skip-existing (default: derived "
    "from the upload URL for PyPI, devpi and pypiserver).",
)
@env_option(
    "--trusted-publishing",
    "mode",
    type=click.Choice(["auto", "always", "never"]),
    default="auto",
    show_default=True,
    help="auto: use it in a supported CI unless a token is given; always: fail without it; "
    "never: use --token or the keyring.",
)
@env_option(
    "--token",
    "token_text",
    metavar="TOKEN",
    help="An API token (pypi-...) to upload with instead of trusted publishing.",
)
@env_option(
    "--keyring/--no-keyring",
    "use_keyring",
    default=True,
    show_default=True,
    help="Look up the password in the system keyring (service = the upload URL, user = "
    "--username or __token__).",
)
@env_option(
    "--skip-existing",
    is_flag=True,
    help="Skip files already on the index with identical contents.",
)
@env_option(
    "--attestations",
    "attestations",
    default="auto",
    metavar="auto|require|off",
    show_default=True,
    help="PEP 740 attestations. auto: with trusted publishing, sign each file with Sigstore "
    "(or reuse its <dist>.publish.attestation) where PyPI will accept it, else warn and upload "
    "without; require: fail before uploading when that is not possible; off: send none. "
    "true/false mean auto/off.",
)
@click.option(
    "--no-attestations",
    "no_attestations",
    is_flag=True,
    hidden=True,
    help="Same as --attestations off.",
)
@env_option(
    "--check/--no-check",
    default=True,
    show_default=True,
    help="Validate metadata (and README rendering) before uploading anything.",
)
@jobs_option("Parallel uploads (the first file always goes alone).")
@env_option(
    "--dry-run",
    is_flag=True,
    help="Check everything (identity, claims, files, what exists) without minting or uploading.",
)
@env_option(
    "--json",
    "json_output",
    is_flag=True,
    help="Print one JSON result document on stdout (and nothing else there).",
)
@oidc_token_env_option
@env_option(
    "--expect",
    multiple=True,
    metavar="KEY=VALUE",
    help="The publisher configured on the index (repeatable; e.g. workflow=release.yml); "
    "checked against the claims before minting. Adds to [tool.trustpub.publisher].",
)
@verbosity_options
def publish(
    paths: tuple[str, ...],
    repository: str,
    username: str | None,
    password_text: str | None,
    config_file: Path | None,
    index_url: str | None,
    mode: str,
    token_text: str | None,
    use_keyring: bool,
    skip_existing: bool,
    attestations: str,
    no_attestations: bool,
    check: bool,
    jobs: int,
    dry_run: bool,
    json_output: bool,
    oidc_token_env: str | None,
    expect: tuple[str, ...],
    verbose: int,
    quiet: bool,
) -> None:
    """Upload distributions (files, directories or globs; default dist/*).

    In a supported CI job the job's OIDC identity is exchanged for a short-lived
    upload token, burned after the upload. Exit codes are listed in the README.
    """
    token, password = _given_secrets(token_text, password_text)
    from trustpub.cli._render import Renderer
    from trustpub.index_config import IndexOptions, split_userinfo

    # The repository as shown: a password in the URL's user info never is.
    shown, _user, url_password = split_userinfo(repository)
    renderer = Renderer(verbosity=verbose, quiet=quiet, json_output=json_output)

    def on_error(error: TrustpubError) -> None:
        renderer.finish_error(error, repository=shown)

    with guarded(verbose >= 1, on_error=on_error):
        renderer.mask_given(token, password, url_password)
        setup_logging(verbose)
        from trustpub.publish import PublishInterrupted, PublishRequest
        from trustpub.publish import publish as run_publish

        request = PublishRequest(
            paths=paths or ("dist/*",),
            repository=repository,
            mode=mode,  # type: ignore[arg-type]
            token=token,
            use_keyring=use_keyring,
            skip_existing=skip_existing,
            attestations="off" if no_attestations else attestations,
            check=check,
            jobs=jobs,
            dry_run=dry_run,
            oidc_token_env=oidc_token_env or None,
            expect=expect,
            pyproject=Path("pyproject.toml"),
            index=IndexOptions(
                username=username.strip() if username and username.strip() else None,
                password=password,
                index_url=index_url.strip() if index_url and index_url.strip() else None,
                config_file=config_file,
            ),
        )
        renderer.begin_section("trustpub_publish", f"trustpub publish to {shown}")
        try:
            result = run_publish(
                request, env=os.environ, reporter=renderer, on_secret=renderer.mask_found
            )
        except KeyboardInterrupt:
            raise PublishInterrupted(
                "interrupted before the upload started; nothing was uploaded",
                hint="run the command again",
            ) from None
        finally:
            renderer.end_section("trustpub_publish")
        renderer.finish(result)
        if int(result.exit_code) != 0:
            raise SystemExit(int(result.exit_code))


__all__ = ["publish"]
