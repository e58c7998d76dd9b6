"""The claims of docs/migrating.md's twine table that need no real index.

Run in-process (click's CliRunner) with TWINE_* and TRUSTPUB_* cleared, HOME in
the test's directory and an empty keyring. Where a run reaches the network it
is a ``--dry-run`` against a :class:`~helpers_canary.FakeIndex` on 127.0.0.1
(its simple pages answer 404: nothing is there yet), and the JSON document
says which upload URL and credential were chosen.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from fixtures_dists import make_wheel
from helpers_canary import FakeIndex
from trustpub._secret import forget_all
from trustpub.cli import cli
from trustpub.errors import ExitCode

MIGRATING = Path(__file__).resolve().parents[2] / "docs" / "migrating.md"


@pytest.fixture(autouse=True)
def project(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    for name in list(os.environ):
        if name.startswith(("TWINE_", "TRUSTPUB_", "GITHUB_", "GITLAB_", "CI")):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    directory = tmp_path / "project"
    make_wheel(directory / "dist")
    monkeypatch.chdir(directory)
    forget_all()
    yield directory
    forget_all()


@pytest.fixture
def index() -> Iterator[FakeIndex]:
    with FakeIndex() as fake:
        yield fake


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, ["publish", *args], env=env, catch_exceptions=False)


def dry_run(*args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    result = run("--dry-run", "--json", "--trusted-publishing", "never", *args, env=env)
    document: dict[str, Any] = json.loads(result.stdout)
    assert document["error"] is None, document["error"]
    assert result.exit_code == 0
    return document


@pytest.mark.parametrize(
    "option",
    [
        ["--sign"],
        ["-s"],
        ["--sign-with", "gpg2"],
        ["-i", "KEY"],
        ["--identity", "KEY"],
        ["-c", "text"],
        ["--comment", "text"],
        ["--non-interactive"],
        ["--cert", "ca.pem"],
        ["--client-cert", "client.pem"],
        ["--disable-progress-bar"],
    ],
)
def test_twine_options_trustpub_does_not_take_are_refused(option: list[str]) -> None:
    result = run(*option)
    assert result.exit_code == int(ExitCode.USAGE)
    assert f"No such option '{option[0]}'" in result.output


def test_every_twine_upload_option_is_in_the_table() -> None:
    """The table lists each option and variable of the installed twine's ``upload``."""
    import argparse

    from twine.settings import Settings

    parser = argparse.ArgumentParser()
    Settings.register_argparse_arguments(parser)
    table = MIGRATING.read_text()
    twine_cells = [line.split("|")[1] for line in table.splitlines() if line.startswith("| `")]
    for action in parser._actions:
        for flag in action.option_strings:
            if flag in ("-h", "--help"):
                continue
            pattern = rf"(?<![\w-]){re.escape(flag)}(?![\w-])"
            assert any(re.search(pattern, cell) for cell in twine_cells), flag
    for variable in ("TWINE_REPOSITORY", "TWINE_REPOSITORY_URL", "TWINE_USERNAME"):
        assert f"`{variable}`" in table
    for variable in ("TWINE_PASSWORD", "TWINE_NON_INTERACTIVE", "TWINE_CERT"):
        assert f"`{variable}`" in table


def test_twine_variables_and_their_order(index: FakeIndex, tmp_path: Path) -> None:
    other = "http://127.0.0.1:9/legacy/"  # never reached: it must lose
    twine = {"TWINE_USERNAME": "alice", "TWINE_PASSWORD": "alice-password-1"}
    # TWINE_REPOSITORY_URL wins over TWINE_REPOSITORY, as in twine.
    document = dry_run(
        env={**twine, "TWINE_REPOSITORY_URL": index.upload_url, "TWINE_REPOSITORY": "nowhere"}
    )
    assert document["upload_url"] == index.upload_url
    # trustpub's own variable wins over both.
    document = dry_run(
        env={**twine, "TRUSTPUB_REPOSITORY": index.upload_url, "TWINE_REPOSITORY_URL": other}
    )
    assert document["upload_url"] == index.upload_url
    # The lookup carried TWINE_USERNAME/TWINE_PASSWORD (same host as the upload URL).
    assert {seen.authorization for seen in index.requests} == {
        "Basic YWxpY2U6YWxpY2UtcGFzc3dvcmQtMQ=="
    }
    # TRUSTPUB_USERNAME wins over TWINE_USERNAME.
    index.requests.clear()
    dry_run(env={**twine, "TRUSTPUB_REPOSITORY": index.upload_url, "TRUSTPUB_USERNAME": "bob"})
    assert all(seen.authorization.startswith("Basic Ym9i") for seen in index.requests)


def test_twine_repository_names_a_pypirc_section(index: FakeIndex, tmp_path: Path) -> None:
    (tmp_path / "home" / ".pypirc").write_text(
        "[distutils]\nindex-servers = company\n\n"
        f"[company]\nrepository = {index.upload_url}\nusername = alice\npassword = pw-file-1\n"
        "ca_cert = /nonexistent/ca.pem\nclient_cert = /nonexistent/client.pem\n"
    )
    document = dry_run(env={"TWINE_REPOSITORY": "company"})
    assert document["upload_url"] == index.upload_url
    assert document["simple_url"] == f"{index.url}/simple/example-pkg/"
    assert [seen.authorization for seen in index.requests] == ["Basic YWxpY2U6cHctZmlsZS0x"]


def test_twine_non_interactive_and_cert_variables_change_nothing(
    index: FakeIndex, tmp_path: Path
) -> None:
    env = {
        "TRUSTPUB_REPOSITORY": index.upload_url,
        "TWINE_NON_INTERACTIVE": "1",
        "TWINE_CERT": str(tmp_path / "missing.pem"),
    }
    result = run("--trusted-publishing", "never", "--no-keyring", env=env)
    # No prompt: a missing credential is an error at once.
    assert result.exit_code == int(ExitCode.IDENTITY)
    assert "no credentials" in result.output or "no API token" in result.output
    assert index.requests == []
