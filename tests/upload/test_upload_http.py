"""Narrow request/response tests of the uploader with pytest-httpx.

The form on the wire, retries (5xx, 429, transport errors), no retry on 4xx,
the reason-phrase message, the index check after ambiguous failures and
``--skip-existing``.
"""

from __future__ import annotations

import base64
import email.parser
import email.policy
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers_upload import TOKEN, CountingCredential
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pytest_httpx import HTTPXMock

from fixtures_dists import make_release, make_wheel
from trustpub._http import make_client
from trustpub._secret import Secret
from trustpub.errors import ExchangeError, ExitCode, NetworkError, UploadError
from trustpub.exchange import UploadCredential
from trustpub.repository import IndexTarget
from trustpub.upload.multipart import MultipartBody, form_fields
from trustpub.upload.results import FileStatus
from trustpub.upload.uploader import Uploader
from trustpub.upload.validate import Distribution, validate

TARGET = IndexTarget(
    upload_url="https://upload.example.org/legacy/", index_url="https://example.org"
)
UPLOAD = TARGET.upload_url
SIMPLE = "https://example.org/simple/example-pkg/"
JSON_PAGE = "application/vnd.pypi.simple.v1+json"


class Recorder:
    """A Reporter that remembers what it was told."""

    def __init__(self) -> None:
        self.events: list[tuple[str, object, object]] = []

    def debug(self, message: str) -> None:
        self.events.append(("debug", message, None))

    def info(self, message: str) -> None:
        self.events.append(("info", message, None))

    def warning(self, message: str) -> None:
        self.events.append(("warning", message, None))

    def file_started(self, filename: str, size: int) -> None:
        self.events.append(("started", filename, size))

    def file_progress(self, filename: str, sent: int) -> None:
        self.events.append(("progress", filename, sent))

    def file_finished(self, filename: str, status: str) -> None:
        self.events.append(("finished", filename, status))

    def warnings(self) -> list[object]:
        return [message for kind, message, _ in self.events if kind == "warning"]


@pytest.fixture
def token() -> str:
    return TOKEN


@pytest.fixture
def credential() -> CountingCredential:
    return CountingCredential()


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with make_client() as client:
        yield client


def reason(status: int, phrase: str, **kwargs: object) -> httpx.Response:
    """A response whose status line carries ``phrase`` (as PyPI sends errors)."""
    return httpx.Response(status, extensions={"reason_phrase": phrase.encode("latin-1")}, **kwargs)  # type: ignore[arg-type]


def add_page(mock: HTTPXMock, *dists: Distribution, sha256: str | None = None) -> None:
    """Serve a PEP 691 JSON page listing ``dists`` (with ``sha256`` instead of theirs if given)."""
    files = [
        {
            "filename": dist.filename,
            "url": f"https://files.example.org/{dist.filename}",
            "hashes": {"sha256": sha256 or dist.sha256},
        }
        for dist in dists
    ]
    mock.add_response(
        url=SIMPLE,
        method="GET",
        headers={"Content-Type": JSON_PAGE},
        json={"meta": {"api-version": "1.1"}, "name": "example-pkg", "files": files},
    )


def parse_form(request: httpx.Request) -> list[tuple[str, str | bytes, str | None]]:
    """(name, value, filename) of every part, in order."""
    header = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        header + request.content
    )
    parts: list[tuple[str, str | bytes, str | None]] = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        filename = part.get_filename()
        payload = part.get_payload(decode=True)
        assert isinstance(name, str)
        assert isinstance(payload, bytes)
        parts.append((name, payload if filename else payload.decode(), filename))
    return parts


@pytest.fixture
def dists(tmp_path: Path) -> list[Distribution]:
    return validate(make_release(tmp_path / "dist"))


# -- the form and the multipart body -----------------------------------------------------------


def test_multipart_body_bytes_exactly(tmp_path: Path) -> None:
    data = tmp_path / "x.whl"
    data.write_bytes(b"ZIPDATA")
    body = MultipartBody(
        [
            (":action", "file_upload"),
            ("classifiers", "A :: B"),
            ("classifiers", "C"),
            ("summary", "é"),
        ],
        path=data,
        filename="x.whl",
        size=7,
        boundary="BOUNDARY",
    )
    expected = (
        b"--BOUNDARY\r\n"
        b'Content-Disposition: form-data; name=":action"\r\n\r\nfile_upload\r\n'
        b"--BOUNDARY\r\n"
        b'Content-Disposition: form-data; name="classifiers"\r\n\r\nA :: B\r\n'
        b"--BOUNDARY\r\n"
        b'Content-Disposition: form-data; name="classifiers"\r\n\r\nC\r\n'
        b"--BOUNDARY\r\n"
        b'Content-Disposition: form-data; name="summary"\r\n\r\n\xc3\xa9\r\n'
        b"--BOUNDARY\r\n"
        b'Content-Disposition: form-data; name="content"; filename="x.whl"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n"
        b"ZIPDATA\r\n"
        b"--BOUNDARY--\r\n"
    )
    assert b"".join(body) == expected
    assert body.content_length == len(expected)
    assert body.headers == {
        "Content-Type": "multipart/form-data; boundary=BOUNDARY",
        "Content-Length": str(len(expected)),
    }
    assert b"".join(body) == expected  # iterable again (a retry re-reads the file)


def test_form_fields_come_from_the_metadata(tmp_path: Path) -> None:
    wheel = make_wheel(
        tmp_path,
        keywords="upload,pypi",
        classifiers=["Programming Language :: Python :: 3", "Typing :: Typed"],
        requires_dist=["httpx>=0.27", "click>=8"],
        project_urls=["Homepage, https://example.org", "Issues, https://example.org/issues"],
        requires_python=">=3.10",
    )
    (dist,) = validate([wheel])
    data = wheel.read_bytes()

    fields = form_fields(dist)

    assert fields[:2] == [(":action", "file_upload"), ("protocol_version", "1")]
    assert sorted(fields[2:]) == sorted(
        [
            ("metadata_version", "2.1"),
            ("name", "example-pkg"),
            ("version", "1.0.0"),
            ("summary", "An example package"),
            ("keywords", "upload, pypi"),
            ("classifiers", "Programming Language :: Python :: 3"),
            ("classifiers", "Typing :: Typed"),
            ("requires_dist", "httpx>=0.27"),
            ("requires_dist", "click>=8"),
            ("project_urls", "Homepage, https://example.org"),
            ("project_urls", "Issues, https://example.org/issues"),
            ("requires_python", ">=3.10"),
            ("description_content_type", "text/markdown"),
            ("description", "# Example\n\nA tiny package built for trustpub's tests.\n"),
            ("pyversion", "py3"),
            ("filetype", "bdist_wheel"),
            ("sha256_digest", hashlib.sha256(data).hexdigest()),
            ("blake2_256_digest", hashlib.blake2b(data, digest_size=32).hexdigest()),
        ]
    )


def test_upload_request_on_the_wire(
    tmp_path: Path, httpx_mock: HTTPXMock, http: httpx.Client, credential: Any, token: str
) -> None:
    classifiers = ["Typing :: Typed", "Programming Language :: Python :: 3"]
    (dist,) = validate([make_wheel(tmp_path, classifiers=classifiers)])
    (tmp_path / f"{dist.filename}.publish.attestation").write_text('{"version": 1}')
    (dist,) = validate([dist.path])
    httpx_mock.add_response(url=UPLOAD, method="POST", status_code=200)

    report = Uploader(TARGET, credential, client=http).upload([dist])

    assert report.ok
    (request,) = httpx_mock.get_requests()
    assert request.headers["authorization"] == "Basic " + base64.b64encode(
        f"__token__:{token}".encode()
    ).decode("ascii")
    assert int(request.headers["content-length"]) == len(request.content)
    assert "transfer-encoding" not in request.headers
    parts = parse_form(request)
    names = [name for name, _, _ in parts]
    assert names[:2] == [":action", "protocol_version"]
    assert names[-1] == "content"
    values = {name: value for name, value, _ in parts}
    assert values[":action"] == "file_upload"
    assert values["protocol_version"] == "1"
    assert values["sha256_digest"] == dist.sha256
    assert values["blake2_256_digest"] == dist.blake2_256
    assert [value for name, value, _ in parts if name == "classifiers"] == classifiers
    assert json.loads(str(values["attestations"])) == [{"version": 1}]
    assert parts[-1] == ("content", dist.path.read_bytes(), dist.filename)


def test_no_attestations_drops_them(
    tmp_path: Path, httpx_mock: HTTPXMock, http: httpx.Client, credential: Any
) -> None:
    wheel = make_wheel(tmp_path)
    (tmp_path / f"{wheel.name}.publish.attestation").write_text("{}")
    (dist,) = validate([wheel])
    httpx_mock.add_response(url=UPLOAD, method="POST")
    assert Uploader(TARGET, credential, client=http, attestations=False).upload([dist]).ok
    assert "attestations" not in [name for name, _, _ in parse_form(httpx_mock.get_requests()[0])]


def test_progress_is_reported_per_chunk(
    tmp_path: Path, httpx_mock: HTTPXMock, http: httpx.Client, credential: Any
) -> None:
    (dist,) = validate([make_wheel(tmp_path, payload_size=10_000)])
    httpx_mock.add_response(url=UPLOAD, method="POST")
    recorder = Recorder()
    Uploader(TARGET, credential, client=http, reporter=recorder, chunk_size=4096).upload([dist])
    progress = [int(str(sent)) for kind, _, sent in recorder.events if kind == "progress"]
    assert len(progress) > 2
    assert sum(progress) == dist.size
    assert recorder.events[0] == ("started", dist.filename, dist.size)
    assert recorder.events[-1] == ("finished", dist.filename, "uploaded")


# -- retries -----------------------------------------------------------------------------------


def test_5xx_is_retried_after_checking_the_index(
    dists: list[Distribution], httpx_mock: HTTPXMock, http: httpx.Client, credential: Any
) -> None:
    wheel = dists[0]
    httpx_mock.add_response(url=UPLOAD, method="POST", status_code=503)
    httpx_mock.add_response(url=SIMPLE, method="GET", status_code=404)
    httpx_mock.add_response(url=UPLOAD, method="POST", status_code=200)
    recorder = Recorder()

    report = Uploader(TARGET, credential, client=http, backoff=0, reporter=recorder).upload([wheel])

    assert report.ok
    assert [r.status for r in report.results] == ["uploaded"]
    assert [(r.method, str(r.url)) for r in httpx_mock.get_requests()] == [
        ("POST", UPLOAD),
        ("GET", SIMPLE),
        ("POST", UPLOAD),
    ]
    assert httpx_mock.get_requests()[1].headers["accept"].startswith(JSON_PAGE)
    assert credential.calls == 2
    assert recorder.warnings() == [
        f"{wheel.filename}: the index answered 503 Service Unavailable; retrying in 0.0 s "
        "(attempt 2 of 6)"
    ]


def test_429_respects_retry_after(
    dists: list[Distribution], httpx_mock: HTTPXMock, http: httpx.Client, credential: Any
) -> None:
    httpx_mock.add_response(
        url=UPLOAD, method="POST", status_code=429, headers={"Retry-After": "1"}
    )
    httpx_mock.add_response(url=UPLOAD, method="POST", status_code=200)
    recorder = Recorder()

    report = Uploader(TARGET, credential, client=http, reporter=recorder).upload(dists[:1])

    assert report.ok
    assert len(httpx_mock.get_requests()) == 2  # a 429 is not ambiguous: no index check
    assert recorder.warnings() == [
        f"{dists[0].filename}: the index answered 429 Too Many Requests; retrying in 1.0 s "
        "(attempt 2 of 6)"
    ]


def test_5xx_until_giving_up(
    dists: list[Distribution], httpx_mock: HTTPXMock, http: httpx.Client, credential: Any
) -> None:
    httpx_mock.add_response(url=UPLOAD, method="POST", status_code=502, is_reusable=True)
    httpx_mock.add_response(url=SIMPLE, method="GET", status_code=404, is_reusable=True)

    report = Uploader(TARGET, credential, client=http, backoff=0, retries=2).upload(dists)

    assert not report.ok
    assert [r.status for r in report.results] == ["failed", "not-attempted"]
    assert isinstance(report.error, NetworkError)
    assert report.error.exit_code == ExitCode.NETWORK
    assert report.error.message == (
        f"{dists[0].filename}: the index answered 502 Bad Gateway (gave up after 3 attempts)"
    )
    assert len(httpx_mock.get_requests(method="POST")) == 3


def test_400_is_not_retried_and_the_reason_phrase_is_the_message(
    dists: list[Distribution], httpx_mock: HTTPXMock, http: httpx.Client, credential: Any
) -> None:
    phrase = "Invalid value for filetype. Error: Use a known file type."
    httpx_mock.add_callback(lambda request: reason(400, phrase), url=UPLOAD, method="POST")

    report = Uploader(TARGET, credential, client=http).upload(dists)

    assert len(httpx_mock.get_requests()) == 1
    assert [r.status for r in report.results] == ["failed", "not-attempted"]
    assert isinstance(report.error, UploadError)
    assert report.error.exit_code == ExitCode.UPLOAD
    assert report.error.message == f"{UPLOAD} refused {dists[0].filename}: 400 {phrase}"
    assert report.error.hint == "fix the problem the index names, rebuild, and upload again"
    assert report.results[0].message == report.error.message


@pytest.mark.parametrize(
    ("response", "message", "anchor"),
    [
        pytest.param(
            httpx.Response(403, json={"message": "Invalid API Token: token is expired"}),
            "403 Invalid API Token: token is expired",
            "token-expired",
            id="json-body",
        ),
        pytest.param(
            httpx.Response(
                403,
                html="<html><head><title>403 Forbidden</title></head><body><h1>403 Forbidden</h1>"
                "Invalid or non-existent authentication information. See "
                "https://pypi.org/help/#invalid-auth for more information.</body></html>",
            ),
            "403 403 Forbidden Invalid or non-existent authentication information. See "
            "https://pypi.org/help/#invalid-auth for more information.",
            "invalid-auth",
            id="html-body",
        ),
        pytest.param(
            httpx.Response(
                409, html="<h1>Error: 409 Conflict</h1><pre>Package &#039;x&#039; is bad</pre>"
            ),
            "409 Package 'x' is bad",
            "upload-refused",
            id="html-pre",
        ),
        pytest.param(
            httpx.Response(401, text="need auth"), "401 need auth", "upload-unauthorized", id="text"
        ),
    ],
)
def test_message_falls_back_to_the_body(
    dists: list[Distribution],
    httpx_mock: HTTPXMock,
    http: httpx.Client,
    credential: Any,
    response: httpx.Response,
    message: str,
    anchor: str,
) -> None:
    httpx_mock.add_response(
        url=UPLOAD,
        method="POST",
        status_code=response.status_code,
        headers=dict(response.headers),
        content=response.content,
    )
    report = Uploader(TARGET, credential, client=http).upload(dists[:1])
    assert report.error is not None
    assert report.error.message == f"{UPLOAD} refused {dists[0].filename}: {message}"
    assert report.error.anchor == anchor


def test_redirect_is_refused_not_followed(
    dists: list[Distribution], httpx_mock: HTTPXMock, http: httpx.Client, credential: Any
) -> None:
    httpx_mock.add_response(
        url=UPLOAD,
        method="POST",
        status_code=308,
        headers={"Location": "https://elsewhere.example/"},
    )
    report = Uploader(TARGET, credential, client=http).upload(dists[:1])
    assert report.error is not None
    assert report.error.anchor == "upload-redirected"
    assert report.error.message == (
        f"{dists[0].filename}: {UPLOAD} answered HTTP 308 redirecting to elsewhere.example; "
        "trustpub never follows redirects with credentials"
    )
    assert len(httpx_mock.get_requests()) == 1


def test_dropped_connection_but_the_index_has_the_file(
    dists: list[Distribution], httpx_mock: HTTPXMock, http: httpx.Client, credential: Any
) -> None:
    httpx_mock.add_exception(httpx.ReadTimeout("timed out"), url=UPLOAD, method="POST")
    add_page(httpx_mock, dists[0])

    report = Uploader(TARGET, credential, client=http, backoff=0).upload(dists[:1])

    assert report.ok
    (result,) = report.results
    assert result.status == "uploaded"
    assert result.message == "the connection failed after sending, but the index has the file"
    assert len(httpx_mock.get_requests(method="POST")) == 1


def test_connect_error_is_retried_without_checking(
    dists: list[Distribution], httpx_mock: HTTPXMock, http: httpx.Client, credential: Any
) -> None:
    httpx_mock.add_exception(httpx.ConnectError("refused"), url=UPLOAD, method="POST")
    httpx_mock.add_response(url=UPLOAD, method="POST")
    report = Uploader(TARGET, credential, client=http, backoff=0).upload(dists[:1])
    assert report.ok
    assert [r.method for r in httpx_mock.get_requests()] == ["POST", "POST"]


def test_network_errors_until_giving_up(
    dists: list[Distribution], httpx_mock: HTTPXMock, http: httpx.Client, credential: Any
) -> None:
    httpx_mock.add_exception(httpx.ConnectError("refused"), url=UPLOAD, is_reusable=True)
    report = Uploader(TARGET, credential, client=http, backoff=0, retries=1).upload(dists[:1])
    assert isinstance(report.error, NetworkError)
    assert report.error.message == (
        f"{dists[0].filename}: could not connect while uploading {dists[0].filename} "
        f"({UPLOAD}): refused (gave up after 2 attempts)"
    )


# -- files already on the index ------------------------------------------------------------------


def test_file_exists_with_other_contents(
    dists: list[Distribution], httpx_mock: HTTPXMock, http: httpx.Client, credential: Any
) -> None:
    wheel = dists[0]
    phrase = (
        f"File already exists ('{wheel.filename}', with blake2_256 hash '{'b' * 64}'). "
        "See https://pypi.org/help/#file-name-reuse for more information."
    )
    httpx_mock.add_callback(lambda request: reason(400, phrase), url=UPLOAD, method="POST")
    add_page(httpx_mock, wheel, sha256="a" * 64)

    report = Uploader(TARGET, credential, client=http).upload([wheel])

    assert isinstance(report.error, UploadError)
    assert report.error.message == (
        f"{wheel.filename} already exists on {UPLOAD} with different contents "
        f"(sha256 {'a' * 64} there); the index said: 400 {phrase}"
    )
    assert report.error.anchor == "file-already-exists"
    assert len(httpx_mock.get_requests(method="POST")) == 1


def test_file_exists_identical_is_skipped(
    dists: list[Distribution], httpx_mock: HTTPXMock, http: httpx.Client, credential: Any
) -> None:
    httpx_mock.add_response(url=UPLOAD, method="POST", status_code=409, text="already exists")
    add_page(httpx_mock, dists[0])
    report = Uploader(TARGET, credential, client=http).upload(dists[:1])
    assert report.ok
    assert report.results[0].status == "skipped"
    assert report.results[0].url == f"https://files.example.org/{dists[0].filename}"


def test_skip_existing_skips_identical_files_without_posting(
    dists: list[Distribution], httpx_mock: HTTPXMock, http: httpx.Client, credential: Any
) -> None:
    add_page(httpx_mock, *dists)
    uploader = Uploader(TARGET, credential, client=http, skip_existing=True)
    report = uploader.upload(dists)
    assert report.ok
    assert [r.status for r in report.results] == ["skipped", "skipped"]
    assert [r.method for r in httpx_mock.get_requests()] == ["GET"]
    assert credential.calls == 0


def test_skip_existing_different_file_stops_before_any_upload(
    dists: list[Distribution], httpx_mock: HTTPXMock, http: httpx.Client, credential: Any
) -> None:
    _wheel, sdist = dists
    add_page(httpx_mock, sdist, sha256="c" * 64)

    report = Uploader(TARGET, credential, client=http, skip_existing=True).upload(dists)

    assert [r.status for r in report.results] == ["not-attempted", "failed"]
    assert isinstance(report.error, UploadError)
    assert report.error.message == (
        f"already on {UPLOAD}, not identical: {sdist.filename} (with different contents); "
        "nothing was uploaded"
    )
    assert [r.method for r in httpx_mock.get_requests()] == ["GET"]


def test_check_existing_reads_html_when_json_is_not_offered(
    dists: list[Distribution], httpx_mock: HTTPXMock, http: httpx.Client, credential: Any
) -> None:
    wheel, sdist = dists
    html = (
        "<!DOCTYPE html><html><body>"
        f'<a href="../../packages/{wheel.filename}#sha256={wheel.sha256}">{wheel.filename}</a><br>'
        f'<a href="../../packages/{sdist.filename}#sha256={"d" * 64}">{sdist.filename}</a>'
        "</body></html>"
    )
    httpx_mock.add_response(url=SIMPLE, html=html)
    states = Uploader(TARGET, credential, client=http).check_existing(dists)
    assert states == {wheel.filename: "identical", sdist.filename: "different"}


def test_check_existing_absent_project(
    dists: list[Distribution], httpx_mock: HTTPXMock, http: httpx.Client, credential: Any
) -> None:
    httpx_mock.add_response(url=SIMPLE, status_code=404)
    states = Uploader(TARGET, credential, client=http).check_existing(dists)
    assert states == {dists[0].filename: "absent", dists[1].filename: "absent"}


# -- stopping ----------------------------------------------------------------------------------


def test_first_failure_stops_new_uploads(
    tmp_path: Path, httpx_mock: HTTPXMock, http: httpx.Client, credential: Any
) -> None:
    wheels = [
        make_wheel(tmp_path, tag=tag)
        for tag in ("py3-none-any", "py2-none-any", "py2.py3-none-any")
    ]
    found = validate(wheels)
    httpx_mock.add_response(url=UPLOAD, method="POST")
    httpx_mock.add_callback(lambda request: reason(400, "Bad things."), url=UPLOAD, method="POST")

    report = Uploader(TARGET, credential, client=http, jobs=1).upload(found)

    assert [r.status for r in report.results] == ["uploaded", "failed", "not-attempted"]
    assert not report.ok
    assert len(httpx_mock.get_requests()) == 2


def test_keyboard_interrupt_reports_and_reraises(
    dists: list[Distribution], httpx_mock: HTTPXMock, http: httpx.Client, token: str
) -> None:
    calls: list[int] = []

    def credential() -> UploadCredential:
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return UploadCredential("__token__", Secret(token), "token", None)

    httpx_mock.add_response(url=UPLOAD, method="POST")
    recorder = Recorder()
    uploader = Uploader(TARGET, credential, client=http, reporter=recorder)
    with pytest.raises(KeyboardInterrupt):
        uploader.upload(dists)
    assert uploader.last_report is not None
    assert [r.status for r in uploader.last_report.results] == ["uploaded", "not-attempted"]
    assert recorder.warnings() == ["interrupted: 1 uploaded, 1 not attempted"]


def test_the_token_never_reaches_errors_or_reports(
    dists: list[Distribution],
    httpx_mock: HTTPXMock,
    http: httpx.Client,
    credential: Any,
    token: str,
) -> None:
    httpx_mock.add_callback(
        lambda request: reason(403, "Invalid or non-existent authentication information."),
        url=UPLOAD,
    )
    report = Uploader(TARGET, credential, client=http).upload(dists)
    assert report.error is not None
    text = report.error.diagnostics() + repr(report)
    assert token not in text
    assert token[5:20] not in text


def test_refusal_is_explained_for_trusted_publishing(
    dists: list[Distribution], httpx_mock: HTTPXMock, http: httpx.Client, token: str
) -> None:
    phrase = (
        "Non-user identities cannot create new projects. This was probably caused by "
        "successfully using a pending publisher but specifying the project name incorrectly"
    )
    httpx_mock.add_callback(lambda request: reason(400, phrase), url=UPLOAD, method="POST")

    def minted() -> UploadCredential:
        return UploadCredential("__token__", Secret(token), "trusted-publishing", None)

    report = Uploader(TARGET, minted, client=http).upload(dists[:1])

    assert isinstance(report.error, UploadError)
    assert report.error.message == f"{UPLOAD} refused {dists[0].filename}: 400 {phrase}"
    assert report.error.anchor == "non-user-identities"
    assert report.error.hint.startswith("make the distribution's name equal the pending")
    assert any("cannot create projects" in line for line in report.error.details)


def test_concurrent_failure_stops_new_uploads(
    tmp_path: Path, httpx_mock: HTTPXMock, http: httpx.Client, credential: Any
) -> None:
    tags = ["py3-none-any", "py2-none-any", "py2.py3-none-any", "cp311-none-any", "cp312-none-any"]
    found = validate([make_wheel(tmp_path, tag=tag) for tag in tags])
    bad = found[2].filename

    def answer(request: httpx.Request) -> httpx.Response:
        if f'filename="{bad}"'.encode() in request.content:
            return reason(400, "Invalid distribution file.")
        return httpx.Response(200)

    httpx_mock.add_callback(answer, url=UPLOAD, method="POST", is_reusable=True)

    report = Uploader(TARGET, credential, client=http, jobs=2).upload(found)

    statuses = {r.filename: r.status for r in report.results}
    assert statuses[found[0].filename] == "uploaded"  # the first file goes alone
    assert statuses[bad] == "failed"
    assert set(statuses.values()) <= {"uploaded", "failed", "not-attempted"}
    assert report.count(FileStatus.FAILED) == 1
    assert isinstance(report.error, UploadError)
    assert report.error.message == f"{UPLOAD} refused {bad}: 400 Invalid distribution file."
    posted = len(httpx_mock.get_requests())
    assert posted == len(found) - report.count(FileStatus.NOT_ATTEMPTED)


def test_keyboard_interrupt_in_a_worker_thread(
    tmp_path: Path, httpx_mock: HTTPXMock, http: httpx.Client, token: str
) -> None:
    found = validate(
        [
            make_wheel(tmp_path, tag=tag)
            for tag in ("py3-none-any", "py2-none-any", "py2.py3-none-any")
        ]
    )
    calls: list[int] = []

    def credential() -> UploadCredential:
        calls.append(1)
        if len(calls) >= 2:
            raise KeyboardInterrupt
        return UploadCredential("__token__", Secret(token), "token", None)

    httpx_mock.add_response(url=UPLOAD, method="POST")
    uploader = Uploader(TARGET, credential, client=http, jobs=2)
    with pytest.raises(KeyboardInterrupt):
        uploader.upload(found)
    assert uploader.last_report is not None
    assert not uploader.last_report.ok
    assert uploader.last_report.results[0].status == "uploaded"
    assert [r.status for r in uploader.last_report.results[1:]] == ["not-attempted"] * 2


def test_credential_failure_is_the_report_error(
    dists: list[Distribution], httpx_mock: HTTPXMock, http: httpx.Client
) -> None:
    refusal = ExchangeError("the index refused to mint a token", hint="check the publisher")

    def credential() -> UploadCredential:
        raise refusal

    report = Uploader(TARGET, credential, client=http).upload(dists)
    assert report.error is refusal
    assert [r.status for r in report.results] == ["failed", "not-attempted"]
    assert httpx_mock.get_requests() == []


def test_file_changed_after_validation(
    tmp_path: Path, httpx_mock: HTTPXMock, http: httpx.Client, credential: Any
) -> None:
    (dist,) = validate([make_wheel(tmp_path)])
    with dist.path.open("ab") as handle:
        handle.write(b"more")
    httpx_mock.add_response(url=UPLOAD, method="POST", is_optional=True)

    report = Uploader(TARGET, credential, client=http).upload([dist])

    assert report.error is not None
    assert report.error.anchor == "file-changed"
    assert report.error.message == (
        f"{dist.filename}: the file changed while it was being uploaded "
        f"({dist.size} bytes when validated, now more)"
    )


@given(
    fields=st.lists(
        st.tuples(
            st.sampled_from(["summary", "classifiers", "requires_dist", "description"]),
            st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40),
        ),
        max_size=8,
    ),
    data=st.binary(max_size=3000),
    chunk_size=st.integers(min_value=1, max_value=1024),
)
@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_multipart_round_trips(
    tmp_path: Path, fields: list[tuple[str, str]], data: bytes, chunk_size: int
) -> None:
    path = tmp_path / "f.whl"
    path.write_bytes(data)
    sent: list[int] = []
    body = MultipartBody(
        fields,
        path=path,
        filename="f.whl",
        size=len(data),
        chunk_size=chunk_size,
        on_chunk=sent.append,
    )
    request = httpx.Request("POST", UPLOAD, content=b"".join(body), headers=body.headers)
    assert len(request.content) == body.content_length
    assert sum(sent) == len(data)
    parsed = parse_form(request)
    assert [(name, value) for name, value, _ in parsed[:-1]] == fields
    assert parsed[-1] == ("content", data, "f.whl")
