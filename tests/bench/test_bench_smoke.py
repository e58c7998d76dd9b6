"""bench/: the case builders make valid files, and the harness's helpers behave (no timing)."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name, parse_sdist_filename, parse_wheel_filename

from helpers_sandbox import SandboxFactory
from trustpub.upload.validate import validate

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))
# bench/ is not a package (it is run as `python bench/run.py`): load its modules by path.
dists = importlib.import_module("dists")
run = importlib.import_module("run")


def test_release_is_40_wheels_and_an_sdist(tmp_path: Path) -> None:
    files = dists.build_release(tmp_path, "bench-release", "1.2.3", wheel_size=1024)
    wheels = [path for path in files if path.suffix == ".whl"]
    sdists = [path for path in files if path.name.endswith(".tar.gz")]
    assert len(files) == 41
    assert len(wheels) == 40
    assert len(sdists) == 1
    seen_tags = set()
    for wheel in wheels:
        name, version, build, tags = parse_wheel_filename(wheel.name)
        assert name == canonicalize_name("bench-release")
        assert str(version) == "1.2.3"
        assert build == ()
        seen_tags.add(frozenset(tags))
        with zipfile.ZipFile(wheel) as archive:
            wheel_text = archive.read("bench_release-1.2.3.dist-info/WHEEL").decode()
            metadata = archive.read("bench_release-1.2.3.dist-info/METADATA").decode()
        assert {f"{t.interpreter}-{t.abi}-{t.platform}" for t in tags} == {
            line.split(": ", 1)[1] for line in wheel_text.splitlines() if line.startswith("Tag: ")
        }
        assert "Name: bench-release\n" in metadata
    assert len(seen_tags) == 40
    interpreters = {t.interpreter for tags in seen_tags for t in tags}
    assert interpreters == set(dists.PYTHONS)
    assert len(dists.PLATFORMS) == 8
    name, version = parse_sdist_filename(sdists[0].name)
    assert (name, str(version)) == ("bench-release", "1.2.3")


def test_release_passes_trustpubs_own_validation(tmp_path: Path) -> None:
    files = dists.build_release(tmp_path, "bench-release", "2.0.0", wheel_size=512)
    validated = validate(files)
    assert len(validated) == 41
    assert sum(1 for dist in validated if dist.is_wheel) == 40


def test_large_wheel_is_streamed_to_the_requested_size(tmp_path: Path) -> None:
    wheel = dists.build_wheel(tmp_path, "bench-large", "1.0.0", payload_size=3 * 2**20 + 7)
    with zipfile.ZipFile(wheel) as archive:
        info = archive.getinfo("bench_large/_native.bin")
        assert info.file_size == 3 * 2**20 + 7
        assert info.compress_type == zipfile.ZIP_STORED
        assert archive.testzip() is None
    (dist,) = validate([wheel])
    assert dist.size == wheel.stat().st_size


def test_launcher_reports_the_childs_rusage(tmp_path: Path) -> None:
    out = tmp_path / "m.json"
    subprocess.run(
        [
            sys.executable,
            "-I",
            "-S",
            str(BENCH / "_launch.py"),
            str(out),
            sys.executable,
            "-c",
            "import sys; sys.exit(3)",
        ],
        check=True,
    )
    data = json.loads(out.read_text())
    assert set(data) == {"wall", "user", "sys", "maxrss_kib", "returncode"}
    assert data["returncode"] == 3
    assert data["maxrss_kib"] > 0


def test_tools_alternate_and_rotate() -> None:
    order = list(run.alternate(3, ("a", "b", "c")))
    assert order == [
        (0, "a"),
        (0, "b"),
        (0, "c"),
        (1, "b"),
        (1, "c"),
        (1, "a"),
        (2, "c"),
        (2, "a"),
        (2, "b"),
    ]


@pytest.mark.parametrize(
    ("value", "limit", "higher", "verdict"),
    [
        (0.5, 1.0, False, "PASS"),
        (1.5, 1.0, False, "MISS"),
        (3.2, 3.0, True, "PASS"),
        (2.0, 3.0, True, "MISS"),
        (None, 1.0, False, "MISS"),
    ],
)
def test_target_verdicts(value: float | None, limit: float, higher: bool, verdict: str) -> None:
    assert run.target("t", value, limit, unit="x", higher=higher)["verdict"] == verdict


def test_default_run_is_at_least_five_runs_and_quick_is_smaller() -> None:
    full, quick = run.Config.make(False, None), run.Config.make(True, None)
    assert min(full.startup_runs, full.release_runs, full.large_runs, full.trusted_runs) >= 5
    assert full.large_sizes == (100 * 2**20, 500 * 2**20)
    assert max(quick.large_sizes) < min(full.large_sizes)
    assert quick.wheel_size < full.wheel_size
    assert run.Config.make(False, 2).release_runs == 5


@pytest.mark.parametrize(
    ("files", "jobs", "floor"),
    [(41, 4, 1.1), (41, 8, 0.6), (1, 4, 0.1), (5, 4, 0.2), (0, 4, 0.0)],
)
def test_release_floor_is_the_first_file_alone_then_rounds(
    files: int, jobs: int, floor: float
) -> None:
    assert run.release_floor(files, jobs, 100) == pytest.approx(floor)


def test_validate_cpu_probe_reports_this_checkouts_validation(tmp_path: Path) -> None:
    files = dists.build_release(tmp_path / "d", "bench-release", "1.0.0", wheel_size=256)
    out = tmp_path / "cpu.json"
    subprocess.run(
        [sys.executable, str(BENCH / "_validate_cpu.py"), str(out), "1", *map(str, files[:3])],
        check=True,
    )
    data = json.loads(out.read_text())
    assert data["files"] == 3
    assert Path(data["trustpub"]) == Path(run.REPO / "src" / "trustpub")
    assert set(data) == {"trustpub", "files", "import", "first", "total", "warm"}


def test_export_checkout_gives_an_older_src_or_none(tmp_path: Path) -> None:
    src = run.export_checkout("HEAD", tmp_path / "head")
    if src is None:  # not a git checkout (e.g. an sdist): the check case then runs without baseline
        pytest.skip("git cannot export HEAD here")
    assert (src / "trustpub" / "upload" / "validate.py").is_file()
    assert run.export_checkout("no-such-ref-anywhere", tmp_path / "none") is None


def test_every_case_is_listed_and_dispatched() -> None:
    assert run.CASES == ("startup", "check", "release", "large", "trusted", "attest")
    for name in run.CASES:
        assert callable(getattr(run, f"case_{name}"))


def test_minimal_client_uploads_every_file(tmp_path: Path, sandbox_factory: SandboxFactory) -> None:
    """bench/_ideal_upload.py (the release case's reference row) really uploads the release."""
    box = sandbox_factory(tls=False)
    files = dists.build_release(tmp_path / "d", "bench-ideal", "1.0.0", wheel_size=1024)[:5]
    out = tmp_path / "phase.json"
    command = [sys.executable, str(BENCH / "_ideal_upload.py"), str(out), box.upload_url]
    command += [box.api_token, "2", *map(str, files)]
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    phase = json.loads(out.read_text())
    assert phase["wall"] > 0
    assert phase["cpu"] >= 0
    uploads = [entry for entry in box.log() if entry["path"] == "/legacy/"]
    assert [entry["status"] for entry in uploads] == [200] * 5
