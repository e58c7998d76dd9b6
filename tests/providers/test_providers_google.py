"""Google Cloud: detection and tokens against a real metadata imitation on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from pytest_httpx import HTTPXMock

from trustpub._secret import forget_all
from trustpub.errors import IdentityError
from trustpub.providers import TransientIdentityError, detect, google

JWT = "eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJweXBpIn0.Z29vZ2xlLWNhbmFyeQ"
ACCESS = "ya29.access-token-canary-0123456789"
EMAIL = "publisher@proj.iam.gserviceaccount.com"
SA_PATH = "/computeMetadata/v1/instance/service-accounts/default"


@dataclass
class Metadata:
    """What the fake metadata server answers, and what it saw."""

    flavor: bool = True
    email_status: int = 200
    identity_status: int = 200
    identity_body: str = JWT
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    host: str = ""


@pytest.fixture
def metadata() -> Iterator[Metadata]:
    state = Metadata()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def _send(self, status: int, body: str, content_type: str = "text/plain") -> None:
            data = body.encode()
            self.send_response(status)
            if state.flavor:
                self.send_header("Metadata-Flavor", "Google")
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            state.requests.append((parts.path, parts.query, dict(self.headers.items())))
            if self.headers.get("Metadata-Flavor") != "Google":
                self._send(403, "Missing Metadata-Flavor:Google header.")
            elif parts.path == f"{SA_PATH}/email":
                self._send(state.email_status, EMAIL if state.email_status == 200 else "not found")
            elif parts.path == f"{SA_PATH}/identity":
                self._send(state.identity_status, state.identity_body)
            elif parts.path == f"{SA_PATH}/token":
                body = json.dumps({"access_token": ACCESS, "expires_in": 3599})
                self._send(200, body, "application/json")
            else:
                self._send(404, "not found")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.host = f"127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(autouse=True)
def _clean() -> None:
    forget_all()


NO_DMI = Path("/nonexistent/product_name")


def test_probe_detects_the_metadata_server_and_fetches_a_full_identity(metadata: Metadata) -> None:
    found = detect({"GCE_METADATA_HOST": metadata.host})
    assert found is not None
    assert found.provider == "google"
    assert found.description == f"Google Cloud (service account {EMAIL})"
    assert not found.static_token
    assert found.fetch_token("pypi").reveal() == JWT
    (probe_path, _, probe_headers), (path, query, headers) = metadata.requests
    assert probe_path == f"{SA_PATH}/email"
    assert probe_headers["Metadata-Flavor"] == "Google"
    assert path == f"{SA_PATH}/identity"
    assert parse_qs(query) == {"audience": ["pypi"], "format": ["full"]}
    assert headers["Metadata-Flavor"] == "Google"


def test_dmi_product_name_detects_without_variables(
    metadata: Metadata, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    dmi = tmp_path / "product_name"
    dmi.write_text("Google Compute Engine\n")
    # The default host would be metadata.google.internal; point the DMI case at the imitation.
    monkeypatch.setattr(google, "DEFAULT_METADATA_HOST", metadata.host)
    found = google.detect({}, dmi_path=dmi)
    assert found is not None
    assert found.description == f"Google Cloud (service account {EMAIL})"


def test_dmi_without_probe_detects_without_network(tmp_path: Path) -> None:
    dmi = tmp_path / "product_name"
    dmi.write_text("Google")
    found = google.detect({}, probe=False, dmi_path=dmi)
    assert found is not None
    assert found.description == "Google Cloud (metadata server)"


@pytest.mark.parametrize("name", ["Standard PC (Q35 + ICH9, 2009)", "", "google"])
def test_other_dmi_names_are_not_google(tmp_path: Path, name: str) -> None:
    dmi = tmp_path / "product_name"
    dmi.write_text(name)
    assert google.detect({}, dmi_path=dmi) is None


def test_variables_without_probe_are_not_enough(metadata: Metadata) -> None:
    assert google.detect({"GCE_METADATA_HOST": metadata.host}, probe=False, dmi_path=NO_DMI) is None
    assert metadata.requests == []


def test_a_google_machine_without_a_service_account_is_not_detected(metadata: Metadata) -> None:
    metadata.email_status = 404
    assert google.detect({"GCE_METADATA_HOST": metadata.host}, dmi_path=NO_DMI) is None


def test_a_server_without_the_flavor_header_is_not_google(metadata: Metadata) -> None:
    metadata.flavor = False
    assert google.detect({"GCE_METADATA_HOST": metadata.host}, dmi_path=NO_DMI) is None


def test_an_unreachable_metadata_server_is_not_detected() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert google.detect({"GCE_METADATA_HOST": f"127.0.0.1:{port}"}, dmi_path=NO_DMI) is None


def test_identity_failure_is_an_identity_error(metadata: Metadata) -> None:
    found = google.detect({"GCE_METADATA_HOST": metadata.host}, dmi_path=NO_DMI)
    assert found is not None
    metadata.identity_status = 404
    with pytest.raises(IdentityError) as caught:
        found.fetch_token("pypi")
    assert caught.value.message == (
        "the metadata server's identity endpoint answered HTTP 404: ***"
    )
    assert JWT not in caught.value.diagnostics()
    metadata.identity_status = 503
    metadata.identity_body = "backend error"
    with pytest.raises(TransientIdentityError) as transient:
        found.fetch_token("pypi")
    assert transient.value.message == (
        "the metadata server's identity endpoint answered HTTP 503: backend error"
    )


def test_identity_body_that_is_not_a_jwt(metadata: Metadata) -> None:
    metadata.identity_body = "<html>hello</html>"
    found = google.detect({"GCE_METADATA_HOST": metadata.host}, dmi_path=NO_DMI)
    assert found is not None
    with pytest.raises(IdentityError) as caught:
        found.fetch_token("pypi")
    assert caught.value.message == (
        "the metadata server's identity endpoint answered with something that is not a JWT"
    )


@pytest.mark.httpx_mock(should_mock=lambda request: request.url.host == "iam.example")
def test_impersonation_asks_iam_with_the_access_token(
    metadata: Metadata, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(
        method="POST",
        url="https://iam.example/base/v1/projects/-/serviceAccounts/"
        "release@proj.iam.gserviceaccount.com:generateIdToken",
        json={"token": JWT},
    )
    env = {
        "GCE_METADATA_HOST": metadata.host,
        "GOOGLE_SERVICE_ACCOUNT_NAME": "release@proj.iam.gserviceaccount.com",
        "TRUSTPUB_GOOGLE_IAM_URL": "https://iam.example/base/",
    }
    found = google.detect(env, dmi_path=NO_DMI)
    assert found is not None
    assert found.description == (
        "Google Cloud (impersonating release@proj.iam.gserviceaccount.com via IAM)"
    )
    assert found.fetch_token("testpypi").reveal() == JWT
    iam = [r for r in httpx_mock.get_requests() if r.url.host == "iam.example"]
    (request,) = iam
    assert request.headers["Authorization"] == f"Bearer {ACCESS}"
    assert json.loads(request.content) == {"audience": "testpypi", "includeEmail": True}
    token_request = [r for r in metadata.requests if r[0] == f"{SA_PATH}/token"]
    ((_, query, _),) = token_request
    assert parse_qs(query) == {"scopes": ["https://www.googleapis.com/auth/cloud-platform"]}


def test_impersonation_refuses_a_plain_http_iam_url(metadata: Metadata) -> None:
    env = {
        "GCE_METADATA_HOST": metadata.host,
        "GOOGLE_SERVICE_ACCOUNT_NAME": "sa@p.iam.gserviceaccount.com",
        "TRUSTPUB_GOOGLE_IAM_URL": "http://iam.example",
    }
    found = google.detect(env, dmi_path=NO_DMI)
    assert found is not None
    with pytest.raises(IdentityError) as caught:
        found.fetch_token("pypi")
    assert caught.value.message.startswith(
        "refusing to send a credential to the IAM credentials API at http://iam.example"
    )


def test_metadata_host_choice() -> None:
    assert google.metadata_host({}) == "metadata.google.internal"
    assert google.metadata_host({"GCE_METADATA_IP": "169.254.169.254"}) == "169.254.169.254"
    assert google.metadata_host({"GCE_METADATA_HOST": "http://10.0.0.1:80/"}) == "10.0.0.1:80"
