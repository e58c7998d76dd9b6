"""``trustpub attest``: write PEP 740 publish attestations without uploading."""

from __future__ import annotations

import os

import click

from trustpub.cli._common import guarded, jobs_option, setup_logging, verbosity_options


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("paths", nargs=-1, metavar="[PATHS]...")
@jobs_option("Files signed in parallel (the first goes alone).")
@verbosity_options
def attest(paths: tuple[str, ...], jobs: int, verbose: int, quiet: bool) -> None:
    """Sign distributions with the CI job's identity (default dist/*).

    Writes <dist>.publish.attestation next to each file that has none, for
    pipelines that upload with another tool (uv publish and twine upload send
    these files). Needs a 'sigstore' OIDC token: GitHub Actions with
    id-token: write, GitLab CI/CD with SIGSTORE_ID_TOKEN in id_tokens:, or
    Google Cloud.
    """
    from trustpub.cli._render import Renderer

    renderer = Renderer(verbosity=verbose, quiet=quiet, json_output=False)
    with guarded(verbose >= 1):
        setup_logging(verbose)
        from trustpub.attest import attest_paths

        result = attest_paths(
            paths or ("dist/*",), env=os.environ, on_secret=renderer.mask, jobs=jobs
        )
        lines = []
        for _dist, sidecar, signed in result.files:
            lines.append(f"{'signed' if signed else 'kept'}  {sidecar}")
        if result.identity:
            lines.append(f"identity: {result.identity}")
        click.echo("\n".join(lines))


__all__ = ["attest"]
