"""End to end against real third-party indexes on 127.0.0.1: devpi-server and pypiserver.

``trustpub publish`` runs as a subprocess (``helpers_canary.run_cli``, clean
environment, no keyring, ``HOME`` in the test's directory) with user names and
passwords, as teams publishing to company indexes do. Each case records what
the server itself answered (devpi-server 6.20, pypiserver 2.x), so a change of
their wording shows up here. No output may hold a password.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fixtures_dists import make_release, make_wheel
from helpers_canary import assert_no_leaks, clean_env, run_cli
from helpers_devpi import Devpi, start_devpi

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def devpi(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Devpi]:
    """One devpi-server for the module (it takes seconds to start)."""
    with start_devpi(tmp_path_factory.mktemp("devpi")) as server:
        yield server


def project_name() -> str:
    return f"idx-{secrets.token_hex(4)}"


def pypirc(home: Path, devpi: Devpi, *, password: str | None = None) -> Path:
    """``~/.pypirc`` with a ``[company]`` section for alice on devpi."""
    home.mkdir(parents=True, exist_ok=True)
    path = home / ".pypirc"
    path.write_text(
        "[distutils]\nindex-servers =\n    pypi\n    company\n\n"
        f"[company]\nrepository = {devpi.upload_url}\nusername = alice\n"
        f"password = {password or devpi.passwords['alice']}\n"
    )
    return path


def publish(tmp_path: Path, *args: str, **env: str) -> tuple[int, str, str, dict[str, str]]:
    """``trustpub publish ARGS`` in ``tmp_path`` with HOME there; (code, stdout, stderr, texts)."""
    result = run_cli(
        ["publish", *args], env=clean_env({"HOME": str(tmp_path / "home"), **env}), cwd=tmp_path
    )
    texts = {"stdout": result.stdout, "stderr": result.stderr}
    return result.returncode, result.stdout, result.stderr, texts


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---------------------------------------------------------------------- devpi


def test_devpi_upload_with_pypirc_then_skip_existing(tmp_path: Path, devpi: Devpi) -> None:
    name = project_name()
    dists = make_release(tmp_path / "dist", name=name)
    pypirc(tmp_path / "home", devpi)

    code, stdout, stderr, texts = publish(tmp_path, "-r", "company", "--json", "-vv")
    assert code == 0, stderr
    document = json_document_of(stdout)
    assert {entry["status"] for entry in document["files"]} == {"uploaded"}
    assert devpi.files(name) == {path.name: sha256(path) for path in dists}
    # No PyPI-style pages on devpi: the summary names the simple page instead.
    assert document["project_url"] is None
    assert document["release_url"] is None
    assert document["simple_url"] == f"{devpi.simple_url}{name}/"
    assert "credential: user alice (password from " in stderr
    assert "[company])" in stderr
    assert_no_leaks(texts, [devpi.passwords["alice"]])

    # devpi-server: 200 "Upload of identical file to non volatile index." on a re-upload;
    # --skip-existing reads alice/dev/+simple/ first and sends nothing.
    code, stdout, stderr, texts = publish(tmp_path, "-r", "company", "--skip-existing", "--json")
    assert code == 0, stderr
    files = json_document_of(stdout)["files"]
    assert {entry["status"] for entry in files} == {"skipped"}
    assert all(entry["url"].startswith(f"{devpi.url}/alice/dev/+f/") for entry in files)

    code, stdout, stderr, _ = publish(tmp_path, "-r", "company", "--dry-run", "--skip-existing")
    assert code == 0, stderr
    assert stdout.count("would skip") == 2


def test_devpi_conflict_is_reported_as_a_conflict(tmp_path: Path, devpi: Devpi) -> None:
    name = project_name()
    make_wheel(tmp_path / "first", name=name)
    changed = make_wheel(tmp_path / "dist", name=name, description="# Changed\n")
    pypirc(tmp_path / "home", devpi)
    code, _, stderr, _ = publish(tmp_path, "-r", "company", "first/*")
    assert code == 0, stderr

    # devpi-server: 409 "<file> already exists in non-volatile index".
    code, _, stderr, texts = publish(tmp_path, "-r", "company", "-q")
    assert code == 6, stderr
    assert (
        f"error: {changed.name} already exists on {devpi.upload_url} with different contents"
    ) in stderr
    assert f"409 {changed.name} already exists in non-volatile index" in stderr
    assert "#file-already-exists" in stderr
    assert_no_leaks(texts, [devpi.passwords["alice"]])

    # A dry run sees the same conflict on the simple page, before sending anything.
    code, stdout, stderr, _ = publish(tmp_path, "-r", "company", "--dry-run", "--json")
    assert code == 6, stderr
    assert [entry["status"] for entry in json_document_of(stdout)["files"]] == ["conflict"]


def test_devpi_wrong_password_and_wrong_user(tmp_path: Path, devpi: Devpi) -> None:
    make_wheel(tmp_path / "dist", name=project_name())
    wrong = "x" + secrets.token_hex(12)
    pypirc(tmp_path / "home", devpi, password=wrong)
    # devpi-server: 401 Unauthorized, "This server could not verify that you are authorized ...".
    code, _, stderr, texts = publish(tmp_path, "-r", "company", "-q")
    assert code == 6, stderr
    assert "401 This server could not verify that you are authorized" in stderr
    assert "hint: the index did not accept the user name and password of user alice" in stderr
    assert "#upload-unauthorized" in stderr
    assert_no_leaks(texts, [wrong])

    # bob's own password, in the URL's user info: devpi-server 403 "no permission to submit".
    bob = devpi.passwords["bob"]
    url = devpi.upload_url.replace("http://", f"http://bob:{bob}@")
    code, _, stderr, texts = publish(tmp_path, "-r", url, "-vv")
    assert code == 6, stderr
    assert "403 no permission to submit" in stderr
    assert "user bob may not upload to" in stderr
    assert "acl_upload" in stderr
    assert_no_leaks(texts, [bob])


def test_devpi_url_that_is_a_simple_index_or_not_an_upload_url(
    tmp_path: Path, devpi: Devpi
) -> None:
    make_wheel(tmp_path / "dist", name=project_name())
    code, _, stderr, _ = publish(tmp_path, "-r", devpi.simple_url)
    assert code == 2
    assert "is a simple index (where pip reads), not an upload URL" in stderr
    # devpi-server: 404 "The resource could not be found." for a path that is no index.
    alice = devpi.passwords["alice"]
    code, _, stderr, _ = publish(
        tmp_path, "-r", f"{devpi.url}/alice/dev/more/", "-u", "alice", "-q", TRUSTPUB_PASSWORD=alice
    )
    assert code == 6, stderr
    assert "404" in stderr
    assert "nothing takes uploads at" in stderr
    assert "#upload-url-not-found" in stderr


def test_auto_never_sends_an_oidc_token_to_devpi(tmp_path: Path, devpi: Devpi) -> None:
    """In a CI job without credentials, devpi announces no audience: no OIDC token goes there."""
    make_wheel(tmp_path / "dist", name=project_name())
    oidc = "eyJhbGciOiJSUzI1NiJ9." + secrets.token_urlsafe(40) + "." + secrets.token_urlsafe(40)
    code, _, stderr, texts = publish(
        tmp_path,
        "-r",
        devpi.upload_url,
        "--oidc-token-env",
        "CANARY_OIDC",
        "-vv",
        CANARY_OIDC=oidc,
        CI="true",
    )
    assert code == 5, stderr
    # httpx's own trace (-vv) lists every request: the audience was asked, nothing was minted.
    assert f"HTTP Request: GET {devpi.url}/_/oidc/audience" in stderr
    assert "HTTP Request: POST" not in stderr
    assert "does not support trusted publishing" in stderr
    assert_no_leaks(texts, [oidc])
    # With alice's user name and password given, auto uses them and says so.
    alice = devpi.passwords["alice"]
    code, _, stderr, _ = publish(
        tmp_path,
        "-r",
        devpi.upload_url,
        "--oidc-token-env",
        "CANARY_OIDC",
        CANARY_OIDC=oidc,
        TWINE_USERNAME="alice",
        TWINE_PASSWORD=alice,
    )
    assert code == 0, stderr
    assert "trusted publishing not used: a user name or password was given" in stderr


# ---------------------------------------------------------------------- pypiserver


@pytest.fixture
def pypiserver_alice(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """pypiserver whose htpasswd has user alice; listing and downloads need her too."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # passlib imports ``crypt``
        from helpers_pypiserver import start_pypiserver

    password = "alice-" + secrets.token_urlsafe(18)
    with start_pypiserver(
        tmp_path / "pypiserver", password, username="alice", authenticate="update,list,download"
    ) as server:
        yield server.upload_url, password


def test_pypiserver_user_and_password_upload_then_skip_existing(
    tmp_path: Path, pypiserver_alice: tuple[str, str]
) -> None:
    url, password = pypiserver_alice
    name = project_name()
    make_release(tmp_path / "dist", name=name)
    # twine's variables work unchanged when trustpub's own are unset.
    env = {"TWINE_REPOSITORY_URL": url, "TWINE_USERNAME": "alice", "TWINE_PASSWORD": password}
    code, stdout, stderr, texts = publish(tmp_path, "--json", "-vv", **env)
    assert code == 0, stderr
    document = json_document_of(stdout)
    assert {entry["status"] for entry in document["files"]} == {"uploaded"}
    assert document["project_url"] is None
    assert document["simple_url"] == f"{url}simple/{name}/"
    assert_no_leaks(texts, [password])

    # pypiserver -a list: its simple pages need alice too, so the lookup carries her credentials.
    code, stdout, stderr, texts = publish(tmp_path, "--skip-existing", "--json", **env)
    assert code == 0, stderr
    assert {entry["status"] for entry in json_document_of(stdout)["files"]} == {"skipped"}
    assert_no_leaks(texts, [password])


def test_pypiserver_wrong_password(tmp_path: Path, pypiserver_alice: tuple[str, str]) -> None:
    url, _password = pypiserver_alice
    make_wheel(tmp_path / "dist", name=project_name())
    wrong = "w" + secrets.token_urlsafe(18)
    # pypiserver: 403 Forbidden, body "None" (no detail).
    code, _, stderr, texts = publish(
        tmp_path, "-r", url, "-u", "alice", "-vv", TRUSTPUB_PASSWORD=wrong
    )
    assert code == 6, stderr
    assert f"error: {url} refused " in stderr
    assert ": 403 Forbidden" in stderr
    assert "the index refused the user name and password of user alice" in stderr
    assert_no_leaks(texts, [wrong])
    # Without user name, the default __token__ is explained as PyPI's convention.
    code, _, stderr, _ = publish(tmp_path, "-r", url, "-q", TRUSTPUB_TOKEN=wrong)
    assert code == 6, stderr
    assert "user __token__ is PyPI's convention" in stderr
    # A user name without any password: nothing is sent.
    code, _, stderr, _ = publish(tmp_path, "-r", url, "-u", "alice", "--no-keyring")
    assert code == 4, stderr
    assert "error: no password for user alice" in stderr


def json_document_of(stdout: str) -> Any:
    return json.loads(stdout)
