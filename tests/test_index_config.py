""".pypirc, credentials in options and URLs, and the simple index each layout has.

twine 7.0's own ``twine.utils.get_config`` reads the same files as the oracle:
what twine takes from a .pypirc, trustpub takes too.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from trustpub._secret import Secret
from trustpub.errors import ExitCode, UsageError
from trustpub.index_config import (
    IndexOptions,
    read_pypirc,
    resolve_index,
    split_userinfo,
)
from trustpub.repository import resolve_repository

PYPIRC = """\
[distutils]
index-servers =
    pypi
    devpi
    local

[server-login]
username = everyone

[pypi]
password = pypi-from-the-file-000000000000

[devpi]
repository = https://devpi.example.org/alice/dev/
username = alice
password = alice-secret-%(not-interpolated)s

[local]
repository = http://127.0.0.1:8080
index_url = http://127.0.0.1:8080/mirror/simple

[ignored]
repository = https://ignored.example.org/legacy/
"""


def write(tmp_path: Path, text: str = PYPIRC) -> Path:
    path = tmp_path / "pypirc"
    path.write_text(text)
    return path


def test_sections_match_what_twine_reads(tmp_path: Path) -> None:
    from twine.utils import get_config

    path = write(tmp_path)
    ours = read_pypirc(path, explicit=True)
    theirs = get_config(str(path))
    assert ours is not None
    for name in ("devpi", "local"):
        assert ours.entries[name].repository == theirs[name]["repository"]
    for name in ("pypi", "devpi", "local"):
        assert ours.entries[name].username == theirs[name]["username"]
        password = ours.entries[name].password
        assert (password.reveal() if password else None) == theirs[name]["password"]
    # Sections that index-servers does not list are not repositories, for twine or for us.
    assert "ignored" not in theirs
    assert "ignored" not in ours.entries
    assert ours.unlisted == {"ignored"}


def test_a_section_applies_and_options_win(tmp_path: Path) -> None:
    options = IndexOptions(config_file=write(tmp_path))
    choice = resolve_index("devpi", options)
    assert choice.target.upload_url == "https://devpi.example.org/alice/dev/"
    assert choice.target.simple_url == "https://devpi.example.org/alice/dev/+simple/"
    assert choice.username == "alice"
    assert choice.password == Secret("alice-secret-%(not-interpolated)s")
    assert choice.password_from == f"{options.config_file} [devpi]"

    given = IndexOptions(
        username="carol", password=Secret("carol-password-given"), config_file=options.config_file
    )
    choice = resolve_index("devpi", given)
    assert (choice.username, choice.password_from) == ("carol", "--password")
    assert choice.password == Secret("carol-password-given")


def test_pypi_uses_the_file_and_testpypi_works_without_it(tmp_path: Path) -> None:
    options = IndexOptions(config_file=write(tmp_path))
    pypi = resolve_index("pypi", options)
    assert pypi.target.upload_url == "https://upload.pypi.org/legacy/"
    assert pypi.username == "everyone"  # [server-login] is every section's default
    assert pypi.password == Secret("pypi-from-the-file-000000000000")
    testpypi = resolve_index("testpypi", options)  # not in index-servers: still known
    assert testpypi.target.upload_url == "https://test.pypi.org/legacy/"
    assert testpypi.password is None
    # No file at all: the default path may be missing.
    missing = IndexOptions()
    assert resolve_index("pypi", missing).target.name == "pypi"


def test_our_index_url_key(tmp_path: Path) -> None:
    choice = resolve_index("local", IndexOptions(config_file=write(tmp_path)))
    assert choice.target.upload_url == "http://127.0.0.1:8080/"
    assert choice.target.simple_url == "http://127.0.0.1:8080/mirror/simple/"
    given = IndexOptions(config_file=write(tmp_path), index_url="http://127.0.0.1:9/s/")
    assert resolve_index("local", given).target.simple_url == "http://127.0.0.1:9/s/"


def test_unlisted_and_unknown_sections(tmp_path: Path) -> None:
    options = IndexOptions(config_file=write(tmp_path))
    with pytest.raises(UsageError) as caught:
        resolve_index("ignored", options)
    assert "index-servers does not list it" in caught.value.message
    assert "add ignored to index-servers" in caught.value.hint
    with pytest.raises(UsageError) as caught:
        resolve_index("nowhere", options)
    assert caught.value.message == f"unknown repository 'nowhere' (not in {options.config_file})"
    assert caught.value.exit_code == ExitCode.USAGE


@pytest.mark.parametrize(
    ("text", "line", "what"),
    [
        ("username = x\n[pypi]\n", 1, "text before the first [section] header"),
        ("[pypi]\nusername = x\n[pypi]\n", 3, "a [section] appears twice"),
        ("[pypi]\npassword = a\npassword = hunter2-hunter2\n", 3, "a key appears twice"),
        ("[pypi]\nthis line is hunter2-hunter2 broken\n", 2, "neither 'key = value'"),
    ],
)
def test_malformed_file_names_path_and_line_not_its_text(
    tmp_path: Path, text: str, line: int, what: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(UsageError) as caught:
        resolve_index("pypi", IndexOptions(config_file=path))
    message = caught.value.diagnostics()
    assert f"cannot use the configuration file {path}, line {line}: " in message
    assert what in message
    assert "hunter2" not in message
    assert caught.value.anchor == "pypirc-invalid"


def test_missing_given_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "nope.pypirc"
    with pytest.raises(UsageError) as caught:
        resolve_index("pypi", IndexOptions(config_file=path))
    assert caught.value.message == f"cannot use the configuration file {path}: no such file"


def test_credentials_in_the_url() -> None:
    url, user, password = split_userinfo("https://al%40ice:p%3Ass-word@Example.org/a/b/")
    assert url == "https://Example.org/a/b/"
    assert (user, password) == ("al@ice", Secret("p:ss-word"))
    choice = resolve_index("https://alice:pw-in-the-url@example.org/alice/dev", IndexOptions())
    assert choice.target.upload_url == "https://example.org/alice/dev/"
    assert (choice.username, choice.password_from) == ("alice", "the repository URL")
    agreeing = IndexOptions(username="alice", password=Secret("pw-in-the-url"))
    assert resolve_index("https://alice:pw-in-the-url@example.org/a/b/", agreeing).username == (
        "alice"
    )


@pytest.mark.parametrize(
    ("options", "what"),
    [
        (IndexOptions(username="bob"), "username"),
        (IndexOptions(password=Secret("another-password")), "password"),
    ],
)
def test_url_credentials_that_disagree_are_refused(options: IndexOptions, what: str) -> None:
    with pytest.raises(UsageError) as caught:
        resolve_index("https://alice:pw-in-the-url@example.org/a/b/", options)
    assert caught.value.message == f"the {what} in the repository URL differs from --{what}"
    assert "pw-in-the-url" not in caught.value.diagnostics()
    assert caught.value.anchor == "conflicting-credentials"


@pytest.mark.parametrize(
    ("url", "layout", "simple", "pages"),
    [
        ("pypi", "warehouse", "https://pypi.org/simple/", True),
        ("https://index.example/legacy/", "warehouse", "https://index.example/simple/", True),
        ("http://127.0.0.1:8080/", "pypiserver", "http://127.0.0.1:8080/simple/", False),
        (
            "https://devpi.example/alice/dev",
            "devpi",
            "https://devpi.example/alice/dev/+simple/",
            False,
        ),
        (
            "https://nexus.example/repository/pypi-internal/",
            "subpath",
            "https://nexus.example/repository/pypi-internal/simple/",
            False,
        ),
        (
            "https://gitlab.example/api/v4/projects/42/packages/pypi",
            "subpath",
            "https://gitlab.example/api/v4/projects/42/packages/pypi/simple/",
            False,
        ),
        (
            "https://acme.jfrog.io/artifactory/api/pypi/pypi-local",
            "subpath",
            "https://acme.jfrog.io/artifactory/api/pypi/pypi-local/simple/",
            False,
        ),
        (
            "https://europe-west1-python.pkg.dev/proj/repo/",
            "subpath",
            "https://europe-west1-python.pkg.dev/proj/repo/simple/",
            False,
        ),
        ("https://index.example/a/b/c/", "unknown", None, False),
    ],
)
def test_simple_index_per_layout(url: str, layout: str, simple: str | None, pages: bool) -> None:
    target = resolve_repository(url)
    assert target.layout == layout
    assert target.simple_url == simple
    assert target.has_project_pages is pages


def test_unknown_layout_says_to_name_the_index() -> None:
    target = resolve_repository("https://index.example/a/b/c/")
    with pytest.raises(UsageError) as caught:
        target.project_simple_url("pkg")
    assert caught.value.message == (
        "cannot tell where the simple index of https://index.example/a/b/c/ is"
    )
    assert caught.value.hint.startswith("name it with --index-url URL")


@pytest.mark.parametrize(
    "url",
    [
        "https://devpi.example/alice/dev/+simple/",
        "https://pypi.org/simple/",
        "http://127.0.0.1:8080/simple",
    ],
)
def test_an_upload_url_that_is_a_simple_index(url: str) -> None:
    with pytest.raises(UsageError) as caught:
        resolve_repository(url)
    assert caught.value.message == f"{url!r} is a simple index (where pip reads), not an upload URL"
    assert caught.value.anchor == "upload-url-is-simple-index"


def test_index_url_must_be_http_without_credentials() -> None:
    for bad in ("ftp://x/simple/", "https://u:p@x.example/simple/", "http://x.example/simple/"):
        with pytest.raises(UsageError):
            resolve_index("pypi", IndexOptions(index_url=bad))


def test_lookups_carry_credentials_only_to_the_upload_host() -> None:
    from trustpub._credential import UploadCredential
    from trustpub.upload.lookup import lookup_headers

    credential = UploadCredential("alice", Secret("pw-lookup-1"), "password", None)
    devpi = resolve_repository("https://devpi.example/alice/dev/")
    same = lookup_headers(devpi, "https://devpi.example/alice/dev/+simple/pkg/", credential)
    assert same["Authorization"] == "Basic YWxpY2U6cHctbG9va3VwLTE="
    for elsewhere in (
        "https://mirror.example/simple/pkg/",
        "http://devpi.example/alice/dev/+simple/pkg/",
        "https://devpi.example:8443/alice/dev/+simple/pkg/",
    ):
        assert "Authorization" not in lookup_headers(devpi, elsewhere, credential)
    # PyPI's uploads go to upload.pypi.org, its simple index is on pypi.org: anonymous.
    pypi = resolve_repository("pypi")
    assert "Authorization" not in lookup_headers(pypi, pypi.project_simple_url("x"), credential)
    assert "Authorization" not in lookup_headers(devpi, "https://devpi.example/x/", None)


def test_claims_resolves_pypirc_sections_but_not_for_pypi(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from trustpub.index_config import resolve_target

    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / ".pypirc").write_text(
        "[distutils]\nindex-servers = company\n\n[company]\n"
        "repository = https://devpi.example/alice/dev/\n"
    )
    assert resolve_target("company").upload_url == "https://devpi.example/alice/dev/"
    (tmp_path / ".pypirc").write_text("not an ini file\n")
    assert resolve_target("pypi").name == "pypi"  # a broken ~/.pypirc is not read for pypi
    with pytest.raises(UsageError):
        resolve_target("https://u:p@example.org/legacy/")
