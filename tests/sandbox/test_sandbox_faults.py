"""Fault injection (503s, dropped connections, latency; deterministic with --seed) and concurrency."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from fixtures_dists import make_wheel
from helpers_sandbox import Sandbox, SandboxFactory


def statuses(box: Sandbox, count: int) -> list[int]:
    with box.client() as client:
        return [client.get("/simple/").status_code for _ in range(count)]


def test_fail_rate_one_answers_503_but_not_on_sandbox_routes(
    sandbox_factory: SandboxFactory,
) -> None:
    box = sandbox_factory("--fail-rate", "1")
    assert statuses(box, 3) == [503, 503, 503]
    with box.client() as client:
        assert client.post("/_/oidc/mint-token", json={"token": "x"}).status_code == 503
    log = box.log()  # /_sandbox/ routes are never faulted
    assert [e.get("fault") for e in log[-4:]] == ["fail"] * 4


def test_same_seed_same_faults(sandbox_factory: SandboxFactory) -> None:
    first = sandbox_factory("--fail-rate", "0.5", "--seed", "7")
    second = sandbox_factory("--fail-rate", "0.5", "--seed", "7")
    one, two = statuses(first, 20), statuses(second, 20)
    assert one == two
    assert set(one) == {200, 503}


def test_cut_rate_drops_the_connection(sandbox_factory: SandboxFactory) -> None:
    box = sandbox_factory("--cut-rate", "1")
    with box.client() as client, pytest.raises(httpx.TransportError):
        client.get("/simple/")
    entries = [e for e in box.log() if e["path"] == "/simple/"]
    assert entries[-1]["fault"] == "cut"
    assert box.process.poll() is None
    assert "SimulatedCut" not in box.stderr_path.read_text()


def test_latency_and_concurrent_uploads(sandbox_factory: SandboxFactory, tmp_path: Path) -> None:
    box = sandbox_factory("--latency-ms", "200")
    wheels = [make_wheel(tmp_path / str(i), name="conc", version=f"1.{i}") for i in range(8)]
    token = box.api_token
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda w: box.upload(w, token).status_code, wheels))
    assert results == [200] * 8
    with box.client() as client:
        releases = client.get("/pypi/conc/json").json()["releases"]
    assert sorted(releases) == sorted(f"1.{i}" for i in range(8))


def test_concurrent_exchanges_of_one_token_mint_once(sandbox_factory: SandboxFactory) -> None:
    box = sandbox_factory()
    box.add_publisher(
        provider="github", repository="octo/race", workflow="release.yml", projects=["race"]
    )
    oidc = box.oidc_token("github", repository="octo/race")
    with ThreadPoolExecutor(max_workers=6) as pool:
        codes = list(pool.map(lambda _: box.mint(oidc).status_code, range(6)))
    assert sorted(codes) == [200, 422, 422, 422, 422, 422]
