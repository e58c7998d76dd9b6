"""``trustpub attest``: write PEP 740 publish attestations without uploading."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import click

from trustpub.cli._common import guarded, jobs_option, one_line, setup_logging, verbosity_options

if TYPE_CHECKING:
    from trustpub.attest import AttestResult
    from trustpub.errors import TrustpubError


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("paths", nargs=-1, metavar="[PATHS]...")
@jobs_option("Files signed in parallel (the first goes alone).")
@click.option(
    "--json",
    "json_output",
    is_flag=True,
    help="Print one JSON document on stdout: ok, identity, files[{distribution, "
    "attestation, status: signed|kept}], error.",
)
@verbosity_options
def attest(paths: tuple[str, ...], jobs: int, json_output: bool, verbose: int, quiet: bool) -> None:
    """Sign distributions with the CI job's identity (default dist/*).

    Writes <dist>.publish.attestation next to each file that has none, for
    pipelines that upload with another tool (uv publish and twine upload send
    these files). Needs a 'sigstore' OIDC token: GitHub Actions with
    id-token: write, GitLab CI/CD with SIGSTORE_ID_TOKEN in id_tokens:, or
    Google Cloud.
    """
    from trustpub.cli._render import Renderer

    renderer = Renderer(verbosity=verbose, quiet=quiet, json_output=json_output)
    on_error = _json_error if json_output else None
    with guarded(verbose >= 1, on_error=on_error):
        setup_logging(verbose)
        from trustpub.attest import attest_paths

        result = attest_paths(
            paths or ("dist/*",), env=os.environ, on_secret=renderer.mask, jobs=jobs
        )
        if json_output:
            _echo_json(_document(result))
        else:
            click.echo(_text(result))


def _text(result: AttestResult) -> str:
    lines = [
        f"{'signed' if signed else 'kept'}  {one_line(sidecar)}"
        for _dist, sidecar, signed in result.files
    ]
    if result.identity:
        lines.append(f"identity: {one_line(result.identity)}")
    return "\n".join(lines)


def _document(result: AttestResult) -> dict[str, Any]:
    return {
        "ok": True,
        "identity": result.identity,
        "files": [
            {
                "distribution": str(dist),
                "attestation": str(sidecar),
                "status": "signed" if signed else "kept",
            }
            for dist, sidecar, signed in result.files
        ],
        "error": None,
    }


def _json_error(error: TrustpubError) -> None:
    from trustpub.cli._common import print_error
    from trustpub.cli._render import error_document

    print_error(error)  # the diagnosis on stderr, as without --json
    _echo_json({"ok": False, "identity": None, "files": [], "error": error_document(error)})


def _echo_json(document: dict[str, Any]) -> None:
    import json

    click.echo(json.dumps(document, indent=2))


__all__ = ["attest"]
