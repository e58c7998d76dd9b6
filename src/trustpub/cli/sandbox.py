"""``trustpub sandbox``: a local imitation of PyPI to rehearse releases."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import click

from trustpub.cli import _readyfile
from trustpub.cli._common import (
    guarded,
    print_error,
    raw_stdout,
    setup_logging,
    verbosity_options,
)
from trustpub.cli._root import LazyGroup
from trustpub.errors import TrustpubError


class _SandboxGroup(LazyGroup):
    """The ``sandbox`` group: ``serve`` here; ``env`` and ``demo`` imported only when run
    (so that a problem in one of them never stops ``serve``)."""

    lazy: ClassVar[Mapping[str, tuple[str, str]]] = {
        "env": (
            "trustpub.cli.sandbox_env:env",
            "Print the environment of a simulated CI job of a running sandbox.",
        ),
        "demo": (
            "trustpub.cli.sandbox_demo:demo",
            "Rehearse a whole trusted-publishing release locally.",
        ),
    }


_F = TypeVar("_F", bound=Callable[..., Any])


def _tuning(
    name: str, kind: click.IntRange | click.FloatRange, metavar: str, text: str
) -> Callable[[_F], _F]:
    """A numeric ``serve`` option whose unset value (None) means the config file's or default."""
    return click.option(name, type=kind, default=None, metavar=metavar, help=text)


@click.group(cls=_SandboxGroup, context_settings={"help_option_names": ["-h", "--help"]})
def sandbox() -> None:
    """A local PyPI imitation (trusted publishing, upload, simple index) to rehearse releases."""


@sandbox.command()
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(".trustpub-sandbox"),
    show_default=True,
    help="Directory for files, keys, the CA and the request log (created if missing).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="Port of the index (0 = pick a free one).",
)
@click.option("--allow-remote", is_flag=True, help="Allow a non-loopback --host.")
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="TOML file with settings and [[publishers]].",
)
@click.option(
    "--publisher",
    "publishers",
    multiple=True,
    metavar="SPEC",
    help="Register a publisher: provider=github,repository=o/r,workflow=x.yml,projects=a+b (repeatable).",
)
@click.option("--no-tls", is_flag=True, help="Serve plain HTTP instead of HTTPS.")
@click.option(
    "--ready-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the ready line to this file.",
)
@click.option(
    "--audience", default=None, help="OIDC audience of this index [default: trustpub-sandbox]."
)
@_tuning(
    "--token-lifetime",
    click.IntRange(min=1),
    "S",
    "Lifetime of minted API tokens in seconds [default: 900].",
)
@_tuning("--latency-ms", click.IntRange(min=0), "N", "Delay each upload by N milliseconds.")
@_tuning(
    "--fail-rate", click.FloatRange(0, 1), "F", "Fraction of index requests answered with 503."
)
@_tuning(
    "--cut-rate",
    click.FloatRange(0, 1),
    "F",
    "Fraction of index requests whose connection is dropped mid-request.",
)
@click.option("--seed", type=int, default=None, help="Seed that makes the faults deterministic.")
@click.option(
    "--disallow-oidc",
    multiple=True,
    metavar="PROVIDER|all",
    help="Turn trusted publishing off for a provider, or for all (repeatable).",
)
@_tuning(
    "--max-file-size",
    click.IntRange(min=1),
    "BYTES",
    "Largest accepted file [default: 1 GiB; PyPI's is 100 MiB].",
)
@verbosity_options
def serve(
    state_dir: Path,
    host: str,
    port: int,
    allow_remote: bool,
    config_file: Path | None,
    publishers: tuple[str, ...],
    no_tls: bool,
    ready_file: Path | None,
    audience: str | None,
    token_lifetime: int | None,
    latency_ms: int | None,
    fail_rate: float | None,
    cut_rate: float | None,
    seed: int | None,
    disallow_oidc: tuple[str, ...],
    max_file_size: int | None,
    verbose: int,
    quiet: bool,
) -> None:
    """Run the sandbox index until interrupted.

    When ready, prints one JSON line: url, upload_url, simple_url, ca_cert,
    audience, metadata_host, api_token_file.
    """
    setup_logging(verbose)

    def failed(error: TrustpubError) -> None:
        if ready_file is not None:  # a waiting `sandbox env` reports it instead of timing out
            _readyfile.write_failure(ready_file, error.message, error.hint)
        print_error(error)

    if ready_file is not None:
        _readyfile.clear(ready_file)
    with guarded(verbose > 0, on_error=failed):
        from trustpub.sandbox import server
        from trustpub.sandbox.config import SandboxSettings, apply_options, load_config

        settings = load_config(config_file) if config_file else SandboxSettings()
        settings = apply_options(
            settings,
            publisher_specs=publishers,
            disallow_oidc=disallow_oidc,
            audience=audience,
            token_lifetime=token_lifetime,
            latency_ms=latency_ms,
            fail_rate=fail_rate,
            cut_rate=cut_rate,
            seed=seed,
            max_file_size=max_file_size,
        )
        options = server.ServeOptions(
            state_dir=state_dir, host=host, port=port, tls=not no_tls, allow_remote=allow_remote
        )

        def announce(ready: dict[str, Any]) -> None:
            line = server.ready_line(ready)
            if ready_file is not None:
                _readyfile.write_line(ready_file, line)
            out = raw_stdout()
            out.write(line + "\n")
            out.flush()

        server.run(options, settings, announce)
