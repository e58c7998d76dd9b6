"""A 500 MB upload streams through the sandbox: its memory stays flat (marked slow)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixtures_dists import make_wheel
from helpers_sandbox import SandboxFactory, file_sha256

SIZE = 500 * 1024 * 1024


def peak_rss_bytes(pid: int) -> int:
    """The process's peak resident set size (``VmHWM``), from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc status")


@pytest.mark.slow
def test_500_mb_upload_keeps_server_memory_flat(
    sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    if not Path("/proc/self/status").exists():
        pytest.skip("needs Linux /proc to read the server's peak memory")
    box = sandbox_factory()
    wheel = make_wheel(tmp_path, name="big-pkg", version="1.0", payload_size=SIZE)
    assert wheel.stat().st_size > SIZE
    baseline = peak_rss_bytes(box.pid)
    response = box.upload(wheel, box.api_token)
    assert response.status_code == 200, response.reason_phrase
    peak = peak_rss_bytes(box.pid)
    assert peak - baseline < 100 * 1024 * 1024, (baseline, peak)
    with box.client() as client:
        listed = client.get("/pypi/big-pkg/json").json()["urls"][0]
    assert listed["size"] == wheel.stat().st_size
    assert listed["digests"]["sha256"] == file_sha256(wheel)
