"""A ~200 MB wheel goes to a real local index with flat client memory (peak RSS measured)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from helpers_upload import TOKEN, running_pypiserver

from fixtures_dists import make_wheel

if TYPE_CHECKING:
    from helpers_pypiserver import PypiServer

SIZE = 200 * 2**20


@pytest.fixture
def pypi_server(tmp_path: Path) -> Iterator[PypiServer]:
    with running_pypiserver(tmp_path / "pypiserver") as server:
        yield server


CLIENT = textwrap.dedent(
    """
    import json, os, resource, sys
    from pathlib import Path

    from trustpub._http import make_client
    from trustpub._secret import Secret
    from trustpub.exchange import UploadCredential
    from trustpub.repository import IndexTarget
    from trustpub.upload.uploader import Uploader
    from trustpub.upload.validate import validate

    wheel, url = Path(sys.argv[1]), sys.argv[2]
    token = os.environ["UPLOAD_TEST_TOKEN"]
    (dist,) = validate([wheel])
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    target = IndexTarget(upload_url=url + "/", index_url=url)
    with make_client(timeout=600.0) as client:
        report = Uploader(
            target,
            lambda: UploadCredential("__token__", Secret(token), "token", None),
            client=client,
            retries=0,
        ).upload([dist])
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({
        "ok": report.ok,
        "status": [r.status for r in report.results],
        "error": report.error.message if report.error else None,
        "size": dist.size,
        "peak_kib_before_upload": before,
        "peak_kib": peak,
    }))
    """
)


@pytest.mark.slow
@pytest.mark.e2e
def test_large_upload_keeps_memory_flat(tmp_path: Path, pypi_server: PypiServer) -> None:
    wheel = make_wheel(tmp_path / "dist", payload_size=SIZE)
    script = tmp_path / "client.py"
    script.write_text(CLIENT)

    # Linux folds the parent's memory high-water mark into a child's ru_maxrss at exec, and
    # pytest's process is big: a small launcher in between keeps the measurement the client's.
    launcher = "import subprocess, sys; sys.exit(subprocess.call(sys.argv[1:]))"
    completed = subprocess.run(
        [sys.executable, "-c", launcher, sys.executable, str(script), str(wheel), pypi_server.url],
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "UPLOAD_TEST_TOKEN": TOKEN},
        check=False,
    )

    assert completed.returncode == 0, completed.stderr[-3000:]
    outcome = json.loads(completed.stdout.strip().splitlines()[-1])
    assert outcome["ok"], outcome
    assert outcome["size"] > SIZE
    peak_bytes = outcome["peak_kib"] * 1024
    # The whole process (interpreter, httpx, twine, rich) stays far below the file size,
    # and the upload itself adds only a few chunks on top of what validation needed.
    assert peak_bytes < SIZE / 2, outcome
    assert (outcome["peak_kib"] - outcome["peak_kib_before_upload"]) * 1024 < 32 * 2**20, outcome
    assert sha256_of(pypi_server.packages / wheel.name) == sha256_of(wheel)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
