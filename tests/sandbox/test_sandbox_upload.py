"""`/legacy/` upload: PyPI's check order and messages (reason phrases), over real HTTPS."""

from __future__ import annotations

import base64
import hashlib
import time
from pathlib import Path

import httpx
import pytest

from fixtures_dists import BAD_RST, make_sdist, make_wheel
from helpers_sandbox import Sandbox, SandboxFactory, fingerprint, unique_name, upload_fields

INVALID_AUTH = (
    "Invalid or non-existent authentication information. "
    "See https://pypi.org/help/#invalid-auth for more information."
)


def project_token(box: Sandbox, project: str, *, create: bool = True) -> str:
    """A minted token for ``project`` (created through a pending publisher when asked)."""
    repository = f"octo/{unique_name('repo')}"
    box.add_publisher(
        provider="github",
        repository=repository,
        workflow="release.yml",
        projects=[project],
        pending=create,
    )
    return box.minted_token("github", repository=repository)


def refused(response: httpx.Response, status: int, message: str) -> None:
    assert response.status_code == status, (response.status_code, response.reason_phrase)
    assert response.reason_phrase == message


def test_upload_with_minted_token_and_read_back(sandbox: Sandbox, tmp_path: Path) -> None:
    project = unique_name()
    token = project_token(sandbox, project)
    wheel = make_wheel(tmp_path, name=project, version="1.0")
    response = sandbox.upload(wheel, token, requires_python=">=3.9")
    assert response.status_code == 200, response.reason_phrase
    with sandbox.client() as client:
        page = client.get(f"/simple/{project}/")
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        assert f"#sha256={digest}" in page.text
        assert 'data-requires-python="&gt;=3.9"' in page.text
        file_url = page.text.split('href="')[1].split("#")[0]
        assert client.get(file_url).content == wheel.read_bytes()
        listing = client.get(
            f"/simple/{project}/", headers={"Accept": "application/vnd.pypi.simple.v1+json"}
        )
        assert listing.headers["content-type"].startswith("application/vnd.pypi.simple.v1+json")
        files = listing.json()["files"]
        assert files[0]["hashes"] == {"sha256": digest}
        assert files[0]["requires-python"] == ">=3.9"
        info = client.get(f"/pypi/{project}/json").json()
        assert info["info"]["version"] == "1.0"
        assert info["urls"][0]["digests"]["sha256"] == digest
        root = client.get("/simple/")
        assert f'href="/simple/{project}/"' in root.text
    entries = [e for e in sandbox.log() if e["path"] == "/legacy/"]
    assert {"kind": "api-token", "fingerprint": fingerprint(token)} in entries[-1]["credentials"]


def test_simple_redirects_to_the_normalized_name(sandbox: Sandbox) -> None:
    with sandbox.client() as client:
        response = client.get("/simple/Some_Name/")
        assert response.status_code == 301
        assert response.headers["location"] == "/simple/some-name/"
        assert client.get("/simple/some-name").status_code == 301
        assert client.get("/simple/no-such-project/").status_code == 404
        assert client.get("/pypi/no-such-project/json").status_code == 404
        assert client.get("/files/no-such-project/x.whl").status_code == 404


def test_legacy_without_slash_redirects(sandbox: Sandbox) -> None:
    with sandbox.client() as client:
        response = client.post("/legacy", data={":action": "file_upload"})
    assert response.status_code == 308
    assert response.headers["location"] == "/legacy/"


def test_auth_errors(sandbox: Sandbox, tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, name=unique_name())
    refused(sandbox.upload(wheel, None), 403, INVALID_AUTH)
    refused(sandbox.upload(wheel, "pypi-unknown"), 403, INVALID_AUTH)
    with sandbox.client() as client:
        response = client.post(
            "/legacy/", auth=("alice", "secret"), data={":action": "file_upload"}
        )
    assert response.status_code == 403
    assert response.reason_phrase.startswith(
        "Username/Password authentication is no longer supported."
    )


def test_token_and_bearer_schemes(sandbox: Sandbox, tmp_path: Path) -> None:
    project = unique_name()
    token = project_token(sandbox, project)
    wheel = make_wheel(tmp_path, name=project)
    with sandbox.client() as client, wheel.open("rb") as handle:
        response = client.post(
            "/legacy/",
            data=upload_fields(wheel),
            files={"content": (wheel.name, handle, "application/octet-stream")},
            headers={"Authorization": f"bearer {token}"},
        )
    assert response.status_code == 200, response.reason_phrase


@pytest.mark.parametrize(
    ("fields", "omit", "message"),
    [
        ({"protocol_version": "2"}, (), "Unknown protocol version."),
        # Warehouse 6b62157: the metadata comes from packaging.metadata plus forklift/metadata.py
        ({"metadata_version": "2.0"}, (), "'2.0' is not a valid metadata version. See "),
        ({}, ("name",), "'' is an invalid value for Name. Error: This field is required."),
        ({"name": "-bad-"}, (), "'-bad-' is an invalid value for Name."),
        ({}, ("version",), "'version' is a required field. See "),
        (
            {"filetype": "bdist_egg"},
            (),
            "Invalid value for filetype. Error: Use a known file type.",
        ),
        ({}, ("sha256_digest",), "Error: Include at least one message digest."),
        ({"sha256_digest": "xyz"}, (), "Invalid value for sha256_digest."),
        ({}, ("content",), "Upload payload does not have a file."),
    ],
)
def test_form_errors(
    sandbox: Sandbox, tmp_path: Path, fields: dict[str, str], omit: tuple[str, ...], message: str
) -> None:
    wheel = make_wheel(tmp_path, name=unique_name())
    response = sandbox.upload(wheel, sandbox.api_token, omit=omit, **fields)
    assert response.status_code == 400
    assert response.reason_phrase.startswith(message), response.reason_phrase


def test_oidc_token_cannot_create_projects(sandbox: Sandbox, tmp_path: Path) -> None:
    """PyPI's case: a pending publisher for one name, metadata naming another."""
    token = project_token(sandbox, unique_name(), create=True)
    response = sandbox.upload(make_wheel(tmp_path, name=unique_name("other")), token)
    assert response.status_code == 400
    assert response.reason_phrase == (
        "Non-user identities cannot create new projects. This was probably caused by "
        "successfully using a pending publisher but specifying the project name incorrectly "
        "(either in the publisher or in your project's metadata). Please ensure that both "
        "match. See: https://docs.pypi.org/trusted-publishers/troubleshooting/"
    )


def test_plain_publisher_project_exists_from_the_start(sandbox: Sandbox, tmp_path: Path) -> None:
    """A non-pending publisher belongs to a project that exists (as on PyPI): upload works."""
    project = unique_name()
    token = project_token(sandbox, project, create=False)
    with sandbox.client() as client:
        assert client.get(f"/simple/{project}/").status_code == 200
    response = sandbox.upload(make_wheel(tmp_path, name=project), token)
    assert response.status_code == 200, response.reason_phrase


def test_expired_token(sandbox_factory: SandboxFactory, tmp_path: Path) -> None:
    """Warehouse checks a minted token's caveats in order (publisher and project, then
    expiry) and reports the first unmet one (macaroons/caveats verify, 6b62157)."""
    box = sandbox_factory("--token-lifetime", "1")
    token = project_token(box, "pkg")
    project_token(box, "other", create=False)
    time.sleep(2.5)
    refused(
        box.upload(make_wheel(tmp_path, name="pkg"), token),
        403,
        "Invalid API Token: token is expired",
    )
    refused(
        box.upload(make_wheel(tmp_path / "other", name="other"), token),
        403,
        "Invalid API Token: OIDC scoped token is not valid for project 'other'",
    )


def test_file_extension_and_content_type(sandbox: Sandbox, tmp_path: Path) -> None:
    project = unique_name()
    wheel = make_wheel(tmp_path, name=project)
    odd = wheel.with_name(wheel.name + ".exe")
    odd.write_bytes(wheel.read_bytes())
    response = sandbox.upload(odd, sandbox.api_token, name=project, version="1.0.0")
    assert response.status_code == 400
    assert response.reason_phrase.startswith("Invalid file extension:")
    image = sandbox.upload(wheel, sandbox.api_token, content_type="image/png")
    refused(image, 400, "Invalid distribution file.")


def test_file_part_without_content_type_is_accepted(sandbox: Sandbox, tmp_path: Path) -> None:
    # uv sends the file part with no Content-Type header; PyPI takes it as text/plain.
    project = unique_name()
    wheel = make_wheel(tmp_path, name=project)
    boundary = "trustpub-test-boundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
        for key, value in upload_fields(wheel).items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="content"; '
        f'filename="{wheel.name}"\r\n\r\n'.encode()
        + wheel.read_bytes()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    basic = base64.b64encode(f"__token__:{sandbox.api_token}".encode()).decode()
    with sandbox.client() as client:
        response = client.post(
            "/legacy/",
            content=b"".join(parts),
            headers={
                "Authorization": f"Basic {basic}",
                "Content-Type": f"multipart/form-data; boundary={boundary}",
            },
        )
        assert response.status_code == 200, response.reason_phrase
        assert wheel.name in client.get(f"/simple/{project}/").text


def test_size_limit(sandbox_factory: SandboxFactory, tmp_path: Path) -> None:
    box = sandbox_factory("--max-file-size", "2000")
    wheel = make_wheel(tmp_path, name="big", payload_size=5000)
    response = box.upload(wheel, box.api_token)
    assert response.status_code == 400
    assert response.reason_phrase.startswith("File too large. Limit for project 'big' is 0 MB.")


def test_digest_mismatch(sandbox: Sandbox, tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, name=unique_name())
    response = sandbox.upload(wheel, sandbox.api_token, sha256_digest="0" * 64)
    refused(
        response,
        400,
        "The digest supplied does not match a digest calculated from the uploaded file.",
    )


def test_duplicate_rules(sandbox: Sandbox, tmp_path: Path) -> None:
    project = unique_name()
    wheel = make_wheel(tmp_path / "a", name=project)
    assert sandbox.upload(wheel, sandbox.api_token).status_code == 200
    again = sandbox.upload(wheel, sandbox.api_token)
    assert again.status_code == 200  # identical: nothing changes
    with sandbox.client() as client:
        assert len(client.get(f"/pypi/{project}/json").json()["urls"]) == 1
    different = make_wheel(tmp_path / "b", name=project, description="changed")
    assert different.name == wheel.name
    response = sandbox.upload(different, sandbox.api_token)
    blake2 = hashlib.blake2b(different.read_bytes(), digest_size=32).hexdigest()
    refused(
        response,
        400,
        f"File already exists ('{different.name}', with blake2_256 hash '{blake2}'). "
        "See https://pypi.org/help/#file-name-reuse for more information.",
    )


def test_one_sdist_per_release(sandbox: Sandbox, tmp_path: Path) -> None:
    project = unique_name()
    assert sandbox.upload(make_sdist(tmp_path, name=project), sandbox.api_token).status_code == 200
    zipped = make_sdist(tmp_path / "z", name=project, zip_format=True)
    refused(
        sandbox.upload(zipped, sandbox.api_token),
        400,
        "Only one sdist may be uploaded per release.",
    )


def test_pep625_sdist_name(sandbox: Sandbox, tmp_path: Path) -> None:
    project = unique_name("Odd.Name")
    sdist = make_sdist(tmp_path, name=project, filename=f"{project}-1.0.0.tar.gz")
    response = sandbox.upload(sdist, sandbox.api_token, name=project, version="1.0.0")
    expected = project.lower().replace(".", "_").replace("-", "_") + "-1.0.0.tar.gz"
    refused(response, 400, f"Filename '{sdist.name}' is invalid, should be '{expected}'.")


def test_wheel_name_and_version(sandbox: Sandbox, tmp_path: Path) -> None:
    project = unique_name()
    normalized = project.replace("-", "_")
    written = normalized.upper()
    # PyPI looks for WHEEL under the file name's own spelling first (Warehouse 6b62157)
    wrong_name = make_wheel(
        tmp_path,
        name=project,
        filename=f"{written}-1.0.0-py3-none-any.whl",
        extra_files=[(f"{written}-1.0.0.dist-info/WHEEL", b"Wheel-Version: 1.0\n")],
    )
    response = sandbox.upload(wrong_name, sandbox.api_token, name=project, version="1.0.0")
    refused(
        response,
        400,
        f"Filename '{wrong_name.name}' should contain the normalized project name "
        f"'{normalized}', not '{written}'.",
    )
    wheel = make_wheel(tmp_path / "v", name=project, version="2.0")
    refused(
        sandbox.upload(wheel, sandbox.api_token, version="3.0"),
        400,
        "Version in filename should be '3.0' not '2.0'.",
    )


def test_corrupt_wheel(sandbox: Sandbox, tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, name=unique_name(), corrupt=True)
    response = sandbox.upload(wheel, sandbox.api_token)
    assert response.status_code == 400
    assert response.reason_phrase.startswith("Invalid distribution file.")


def test_attestations_refused_before_verification(sandbox: Sandbox, tmp_path: Path) -> None:
    """Warehouse 6b62157 attestations/services.py: token kind, then shape, then emptiness.

    Verification of real attestations: tests/sandbox/test_sandbox_attestations.py.
    """
    project = unique_name()
    token = project_token(sandbox, project)
    user = sandbox.upload(
        make_wheel(tmp_path / "u", name=project), sandbox.api_token, attestations="[]"
    )
    refused(  # PyPI: 400 "Invalid attestations ...: Attestations are only supported when ..."
        user,
        400,
        "Invalid attestations supplied during upload: Attestations are only supported when "
        "using Trusted Publishing",
    )
    empty = sandbox.upload(make_wheel(tmp_path / "e", name=project), token, attestations="[]")
    refused(  # PyPI: the empty list parses, then "Malformed attestations: an empty ..."
        empty,
        400,
        "Invalid attestations supplied during upload: Malformed attestations: "
        "an empty attestation set is not permitted",
    )
    bad = sandbox.upload(make_wheel(tmp_path / "b", name=project), token, attestations='[{"x": 1}]')
    assert bad.status_code == 400
    assert bad.reason_phrase.startswith(  # PyPI: pydantic's text follows
        "Invalid attestations supplied during upload: Malformed attestations: "
        "3 validation errors for list[Attestation]"
    )


def test_json_error_body(sandbox: Sandbox, tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, name=unique_name())
    with sandbox.client() as client, wheel.open("rb") as handle:
        response = client.post(
            "/legacy/",
            data={":action": "file_upload", "protocol_version": "7"},
            files={"content": (wheel.name, handle, "application/octet-stream")},
            auth=("__token__", sandbox.api_token),
            headers={"Accept": "application/json"},
        )
    assert response.status_code == 400
    assert response.json()["message"] == "Unknown protocol version."


def test_description_must_render(sandbox: Sandbox, tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, name=unique_name())
    broken = sandbox.upload(
        wheel, sandbox.api_token, description=BAD_RST, description_content_type="text/x-rst"
    )
    refused(
        broken,
        400,
        "The description failed to render for 'text/x-rst'. See "
        "https://pypi.org/help/#description-content-type for more information.",
    )
    fine = sandbox.upload(
        wheel, sandbox.api_token, description=BAD_RST, description_content_type="text/markdown"
    )
    assert fine.status_code == 200, fine.reason_phrase


def test_unsupported_platform_tag(sandbox: Sandbox, tmp_path: Path) -> None:
    project = unique_name()
    linux = make_wheel(tmp_path, name=project, tag="cp311-cp311-linux_x86_64")
    refused(
        sandbox.upload(linux, sandbox.api_token),
        400,
        f"Binary wheel '{linux.name}' has an unsupported platform tag 'linux_x86_64'.",
    )
    many = make_wheel(tmp_path / "m", name=project, tag="cp311-cp311-manylinux_2_17_x86_64")
    assert sandbox.upload(many, sandbox.api_token).status_code == 200
