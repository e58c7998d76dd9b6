"""``trustpub sandbox demo``: rehearse a whole trusted-publishing release locally."""

from __future__ import annotations

import click

from trustpub.cli._common import guarded, setup_logging, verbosity_options


@click.command("demo")
@click.option(
    "--keep",
    is_flag=True,
    help="Keep the temporary directory (project, sandbox state, installed package).",
)
@verbosity_options
def demo(keep: bool, verbose: int, quiet: bool) -> None:
    """Start a sandbox, publish an example package from a simulated GitHub
    Actions job with trusted publishing, install it back with pip and import it.

    Needs no network, no CI and no PyPI account; everything is removed afterwards.
    """
    with guarded(verbose >= 1):
        setup_logging(verbose)
        from trustpub.sandbox.demo import run_demo

        def say(line: str) -> None:
            if not quiet or not line.startswith("  "):
                click.echo(line)

        kept = run_demo(say, keep=keep)
        click.echo("Demo complete: the package went from a CI identity to an installable release.")
        if kept is not None:
            click.echo(f"Files kept in {kept}")


__all__ = ["demo"]
