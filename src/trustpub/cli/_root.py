"""The click group behind ``trustpub``.

Subcommands live in their own modules and are imported only when invoked.
``trustpub.cli`` imports this module only when click is really needed (its
``--version`` and ``--help`` fast paths do not).
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from trustpub import __version__

# name -> "module:attribute"; each module is imported only when its command runs
_LAZY_COMMANDS: dict[str, tuple[str, str]] = {
    "publish": ("trustpub.cli.publish:publish", "Upload distributions, with trusted publishing."),
    "claims": (
        "trustpub.cli.claims:claims",
        "Inspect the OIDC token; show the publisher to configure.",
    ),
    "sandbox": (
        "trustpub.cli.sandbox:sandbox",
        "A local PyPI imitation to rehearse releases.",
    ),
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *_LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None or cmd_name not in _LAZY_COMMANDS:
            return command
        target, _ = _LAZY_COMMANDS[cmd_name]
        module_name, attribute = target.split(":")
        loaded: Any = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(loaded, click.Command):  # pragma: no cover - programming error
            raise TypeError(f"{target} is not a click command")
        return loaded

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Describe lazy commands without importing them.
        rows = [(name, _LAZY_COMMANDS[name][1]) for name in sorted(_LAZY_COMMANDS)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="trustpub")
def cli() -> None:
    """Publish Python packages with Trusted Publishing: no stored secrets.

    In CI, trustpub exchanges the job's OIDC identity for a short-lived upload
    token, uploads your distributions and explains any refusal field by field.
    """


__all__ = ["LazyGroup", "cli"]
