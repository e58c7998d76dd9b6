"""The click group behind ``trustpub``.

Subcommands live in their own modules and are imported only when invoked.
``trustpub.cli`` imports this module only when click is really needed (its
``--version`` and ``--help`` fast paths do not).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any, ClassVar

import click

from trustpub import __version__

# name -> "module:attribute"; each module is imported only when its command runs
_LAZY_COMMANDS: dict[str, tuple[str, str]] = {
    "publish": ("trustpub.cli.publish:publish", "Upload distributions, with trusted publishing."),
    "attest": (
        "trustpub.cli.attest:attest",
        "Sign distributions (PEP 740) without uploading them.",
    ),
    "claims": (
        "trustpub.cli.claims:claims",
        "Inspect the OIDC token; show the publisher to configure.",
    ),
    "check": (
        "trustpub.cli.check:check",
        "Find trusted-publishing mistakes in CI files, offline.",
    ),
    "init": (
        "trustpub.cli.init:init",
        "Write the release pipeline and declare the publisher.",
    ),
    "sandbox": (
        "trustpub.cli.sandbox:sandbox",
        "A local PyPI imitation to rehearse releases.",
    ),
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use.

    ``lazy`` maps a command name to ``("module:attribute", short help)``; the
    help text is shown without importing the module. Subclasses name their own table.
    """

    lazy: ClassVar[Mapping[str, tuple[str, str]]] = _LAZY_COMMANDS

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None or cmd_name not in self.lazy:
            return command
        module_name, attribute = self.lazy[cmd_name][0].split(":")
        where = f"{ctx.command_path} {cmd_name}"
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            raise click.ClickException(f"`{where}` is not available") from None
        loaded: Any = getattr(module, attribute, None)
        if not isinstance(loaded, click.Command):  # pragma: no cover - programming error
            raise click.ClickException(f"`{where}` is not available")
        return loaded

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Describe lazy commands without importing them.
        rows = {
            name: command.get_short_help_str(formatter.width - 20)
            for name, command in self.commands.items()
        }
        rows.update({name: text for name, (_, text) in self.lazy.items()})
        with formatter.section("Commands"):
            formatter.write_dl(sorted(rows.items()))


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="trustpub")
def cli() -> None:
    """Publish Python packages with Trusted Publishing: no stored secrets.

    In CI, trustpub exchanges the job's OIDC identity for a short-lived upload
    token, uploads your distributions and explains any refusal field by field.
    """


__all__ = ["LazyGroup", "cli"]
