"""trustpub against twine and uv publish: one command, one run, same files, with targets.

    python bench/run.py            # the full benchmark (well under 15 minutes on 2 cores)
    python bench/run.py --quick    # a smoke run: fewer runs, smaller files

It installs the pinned peers (bench/requirements.txt) and this checkout into
bench/.venv, starts ``trustpub sandbox serve`` per case, runs every case for
every tool on the same files, alternating tools run by run, and prints a
Markdown table of medians (wall, CPU = user+sys of the child, peak RSS of the
child) with trustpub's ratios and each target marked PASS or MISS. The same
data goes to bench/results/latest.json (and the table to latest.md).

Standard library only: it runs with any Python 3.10+.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))

import dists  # noqa: E402  (bench/dists.py, next to this file)

VENV = BENCH / ".venv"
BIN = VENV / "bin"
RESULTS = BENCH / "results"
LAUNCHER = BENCH / "_launch.py"
IDEAL = "minimal client"
"""The release case's reference row: bench/_ideal_upload.py, the upload phase alone."""
VALIDATE_CPU = BENCH / "_validate_cpu.py"
TOOLS = ("trustpub", "twine", "uv")
MIB = 1 << 20
LATENCY_MS = 100
JOBS = 4  # trustpub's default --jobs
PUBLISHER_REPO = "bench-org/bench-pkg"
TP_PROJECT = "bench-tp"
ATT_PROJECT = "bench-att"
CHECK_BASELINE = "ff6bb04^"
"""The last commit before PyPI's stricter upload rules (upload/rules.py) came in."""
CHECK_REPEAT = 5
CHECK_FIGURES = {
    "total": "import + first call",
    "import": "import",
    "first": "first call",
    "warm": "repeated call",
}
"""What bench/_validate_cpu.py reports, and how the table names it."""


@dataclass(frozen=True)
class Config:
    quick: bool
    startup_runs: int
    release_runs: int
    large_runs: int
    trusted_runs: int
    wheel_size: int
    large_sizes: tuple[int, ...]

    @classmethod
    def make(cls, quick: bool, runs: int | None) -> Config:
        if quick:
            return cls(
                True, runs or 3, runs or 2, runs or 2, runs or 2, 16 * 1024, (10 * MIB, 40 * MIB)
            )
        n = max(runs or 5, 5)
        return cls(False, max(n, 15), n, n, n, 128 * 1024, (100 * MIB, 500 * MIB))


# --------------------------------------------------------------------------- environment


def venv_marker() -> str:
    digest = hashlib.sha256()
    for path in (BENCH / "requirements.txt", REPO / "pyproject.toml"):
        digest.update(path.read_bytes())
    digest.update(sys.version.encode())
    return digest.hexdigest()


def ensure_venv(install: bool) -> None:
    """bench/.venv with this checkout (editable, sandbox extra) and the pinned peers."""
    marker = VENV / ".bench-marker"
    wanted = venv_marker()
    if not install:
        if not (BIN / "python").exists():
            sys.exit("bench/.venv is missing; run without --no-install first")
    elif not marker.exists() or marker.read_text() != wanted:
        print(f"installing peers into {VENV} ...", flush=True)
        if not (BIN / "python").exists():
            subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run(
            [
                str(BIN / "python"),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-e",
                f"{REPO}[sandbox]",
                "-r",
                str(BENCH / "requirements.txt"),
            ],
            check=True,
        )
        marker.write_text(wanted)
    # A real install has bytecode; an editable checkout may not (PYTHONDONTWRITEBYTECODE).
    subprocess.run(
        [str(BIN / "python"), "-m", "compileall", "-q", str(REPO / "src")],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """A neutral environment: no CI identity, no bytecode switch-off, no colours or pagers."""
    drop_prefixes = (
        "GITHUB_",
        "ACTIONS_",
        "GITLAB_",
        "CI_",
        "TRUSTPUB_",
        "TWINE_",
        "UV_",
        "PYTHON",
        "BUILDKITE",
        "CIRCLE",
        "GOOGLE_",
        "GCE_",
        "ACTIVESTATE",
    )
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(drop_prefixes)
        and key not in ("CI", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "VIRTUAL_ENV")
    }
    env.update({"NO_COLOR": "1", "TERM": "dumb", "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}"})
    env.pop("COLUMNS", None)
    env.update(extra or {})
    return env


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 2**20:.1f} GiB"
    except OSError:
        pass

    def version(*command: str) -> str:
        done = subprocess.run(command, capture_output=True, text=True, env=child_env())
        return (done.stdout or done.stderr).strip().splitlines()[0] if done.returncode == 0 else "?"

    return {
        "nproc": os.cpu_count(),
        "memory": memory,
        "cpu": model or platform.processor(),
        "os": f"{platform.system()} {platform.release()}",
        "python": version(str(BIN / "python"), "--version"),
        "trustpub": version(str(BIN / "trustpub"), "--version"),
        "twine": version(str(BIN / "twine"), "--version").split(" (")[0],
        "uv": version(str(BIN / "uv"), "--version"),
    }


# --------------------------------------------------------------------------- measuring


@dataclass
class Sample:
    wall: float
    cpu: float
    rss_mib: float


@dataclass
class Series:
    tool: str
    label: str
    samples: list[Sample] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def median(self, attribute: str) -> float | None:
        values = [getattr(sample, attribute) for sample in self.samples]
        return statistics.median(values) if values else None


class Runner:
    def __init__(self, work: Path, profile_dir: Path | None = None) -> None:
        self.work = work
        self.count = 0
        self.profile_dir = profile_dir

    def profile(self, name: str, command: Sequence[str], env: dict[str, str]) -> None:
        """Run trustpub once more under pyinstrument (untimed); the text report is kept."""
        if self.profile_dir is None:
            return
        self.profile_dir.mkdir(parents=True, exist_ok=True)
        report = self.profile_dir / f"profile-{name}.txt"
        subprocess.run(
            [str(BIN / "pyinstrument"), "-r", "text", "-i", "0.001", "-o", str(report), *command],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
            cwd=self.work,
            timeout=900,
            check=False,
        )

    def measure(
        self, command: Sequence[str], env: dict[str, str], *, timeout: float = 600
    ) -> tuple[Sample | None, str]:
        """Run ``command`` through the launcher; the sample, or None and why it failed."""
        self.count += 1
        out = self.work / f"m{self.count}.json"
        log = self.work / f"m{self.count}.log"
        with log.open("wb") as handle:
            done = subprocess.run(
                [str(BIN / "python"), "-I", "-S", str(LAUNCHER), str(out), *command],
                stdout=handle,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=self.work,
                timeout=timeout,
                check=False,
            )
        text = log.read_text(errors="replace")
        if done.returncode != 0 or not out.exists():
            return None, f"launcher failed ({done.returncode}): {text[-800:]}"
        data = json.loads(out.read_text())
        if data["returncode"] != 0:
            return None, f"exit {data['returncode']}: {text[-800:]}"
        sample = Sample(
            wall=data["wall"], cpu=data["user"] + data["sys"], rss_mib=data["maxrss_kib"] / 1024
        )
        return sample, text


def alternate(runs: int, tools: Sequence[str]) -> Iterator[tuple[int, str]]:
    """(run, tool) pairs, tools alternating and the starting tool rotating each run."""
    for run in range(runs):
        for offset in range(len(tools)):
            yield run, tools[(run + offset) % len(tools)]


# --------------------------------------------------------------------------- the sandbox


@dataclass(frozen=True)
class Sandbox:
    info: dict[str, Any]
    ready_file: Path
    token: str

    @property
    def upload_url(self) -> str:
        return str(self.info["upload_url"])

    @property
    def ca_cert(self) -> str | None:
        return self.info.get("ca_cert")


@contextmanager
def sandbox(work: Path, name: str, *args: str) -> Iterator[Sandbox]:
    state = work / f"sandbox-{name}"
    ready = work / f"ready-{name}.json"
    log = (work / f"sandbox-{name}.log").open("wb")
    process = subprocess.Popen(
        [
            str(BIN / "trustpub"),
            "sandbox",
            "serve",
            "--state-dir",
            str(state),
            "--ready-file",
            str(ready),
            *args,
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=child_env(),
    )
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the sandbox did not start; see {log.name}")
            time.sleep(0.05)
        info = json.loads(ready.read_text().splitlines()[-1])
        token = Path(info["api_token_file"]).read_text().strip()
        yield Sandbox(info, ready, token)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def upload_command(
    tool: str, box: Sandbox, files: Sequence[Path]
) -> tuple[list[str], dict[str, str]]:
    """The API-token upload command of ``tool`` (token in the tool's env var, not argv)."""
    paths = [str(path) for path in files]
    if tool.startswith("trustpub"):
        jobs = ["--jobs", tool.split("-j")[1]] if "-j" in tool else []
        return (
            [str(BIN / "trustpub"), "publish", "-r", box.upload_url, "--no-keyring", *jobs, *paths],
            {"TRUSTPUB_TOKEN": box.token},
        )
    if tool == "twine":
        return (
            [
                str(BIN / "twine"),
                "upload",
                "--repository-url",
                box.upload_url,
                "--non-interactive",
                "--disable-progress-bar",
                *paths,
            ],
            {"TWINE_USERNAME": "__token__", "TWINE_PASSWORD": box.token},
        )
    return (
        [
            str(BIN / "uv"),
            "publish",
            "--publish-url",
            box.upload_url,
            "--no-progress",
            "--trusted-publishing",
            "never",
            *paths,
        ],
        {"UV_PUBLISH_TOKEN": box.token},
    )


def tls_env(box: Sandbox) -> dict[str, str]:
    if box.ca_cert is None:
        return {}
    return {"SSL_CERT_FILE": box.ca_cert, "REQUESTS_CA_BUNDLE": box.ca_cert}


# --------------------------------------------------------------------------- cases


def case_startup(cfg: Config, runner: Runner, log: Callable[[str], None]) -> dict[str, Any]:
    series: dict[tuple[str, str], Series] = {}
    for flag in ("--version", "--help"):
        for tool in TOOLS:
            series[(flag, tool)] = Series(tool, f"{tool} {flag}")
            for _ in range(2):  # warm the page cache and bytecode
                runner.measure([str(BIN / tool), flag], child_env())
        for _, tool in alternate(cfg.startup_runs, TOOLS):
            sample, why = runner.measure([str(BIN / tool), flag], child_env())
            record(series[(flag, tool)], sample, why)
    runner.profile(
        "startup-publish-help", [str(BIN / "trustpub"), "publish", "--help"], child_env()
    )
    rows, targets = [], []
    for flag in ("--version", "--help"):
        group = {tool: series[(flag, tool)] for tool in TOOLS}
        rows.extend(table_rows(f"start-up `{flag}`", group))
        mine, twine = group["trustpub"].median("wall"), group["twine"].median("wall")
        targets.append(target(f"`trustpub {flag}` <= 60 ms", mine, 0.060, unit="s"))
        targets.append(
            target(f"`trustpub {flag}` <= 0.4x twine's", ratio(mine, twine), 0.4, unit="x")
        )
    log(f"start-up: {len(rows)} rows")
    return {"rows": rows, "targets": targets}


def case_release(
    cfg: Config, runner: Runner, work: Path, log: Callable[[str], None]
) -> dict[str, Any]:
    name = "bench-release"
    builds = work / "release"
    # trustpub-j8: how it scales; the minimal client: what the sandbox and machine allow (no targets)
    tools = (*TOOLS, f"trustpub-j{2 * JOBS}", IDEAL)
    sets: dict[tuple[int, str], list[Path]] = {}
    for index, tool in enumerate(tools):
        sets[(-1, tool)] = dists.build_release(
            builds / f"warm-{tool}", name, f"0.{index}.0", wheel_size=cfg.wheel_size
        )
        for run in range(cfg.release_runs):
            sets[(run, tool)] = dists.build_release(
                builds / f"{run}-{tool}", name, f"1.{run}.{index}", wheel_size=cfg.wheel_size
            )
    files = len(sets[(0, "trustpub")])
    limit = files * LATENCY_MS / 1000 / JOBS
    floor = release_floor(files, JOBS, LATENCY_MS)
    group = {tool: Series(tool, tool) for tool in tools}
    # A fresh sandbox per upload: the sandbox rewrites its whole state file on every upload, so
    # an index that keeps growing would make later runs slower for reasons that are not the
    # client's. Warm-up round (untimed) first: bytecode, page cache.
    plan = [(-1, tool) for tool in tools] + list(alternate(cfg.release_runs, tools))
    for run, tool in plan:
        with sandbox(
            work, f"release-{run}-{tool}", "--no-tls", "--latency-ms", str(LATENCY_MS)
        ) as box:
            if tool == IDEAL:
                sample, why = ideal_upload(runner, box, sets[(run, tool)])
            else:
                command, extra = upload_command(tool, box, sets[(run, tool)])
                sample, why = runner.measure(command, child_env(extra))
        if run < 0:
            if sample is None:
                log(f"release warm-up {tool} failed: {why}")
            continue
        record(group[tool], sample, why)
        log(f"release run {run} {tool}: {fmt_s(sample.wall) if sample else 'FAILED'}")
    if runner.profile_dir is not None:
        again = dists.build_release(builds / "profile", name, "9.0.0", wheel_size=cfg.wheel_size)
        with sandbox(work, "release-profile", "--no-tls", "--latency-ms", str(LATENCY_MS)) as box:
            command, extra = upload_command("trustpub", box, again)
            runner.profile("release", command, child_env(extra))
    rows = table_rows(f"release: {files} files, {LATENCY_MS} ms latency", group)
    mine = group["trustpub"].median("wall")
    walls = [w for w in (group["twine"].median("wall"), group["uv"].median("wall")) if w]
    fastest_peer = min(walls) if walls else None
    targets = [
        target(
            "release: >= 3x faster than the faster of twine and uv",
            ratio(fastest_peer, mine),
            3.0,
            unit="x",
            higher=True,
        ),
        target(
            f"release: <= 1.5x the limit {files} x {LATENCY_MS} ms / {JOBS} jobs = {limit:.3f} s",
            ratio(mine, limit),
            1.5,
            unit="x",
        ),
        target(
            f"release: <= 1.3x its floor (first file alone, then "
            f"{math.ceil((files - 1) / JOBS)} rounds of {JOBS}) x {LATENCY_MS} ms = {floor:.3f} s",
            ratio(mine, floor),
            1.3,
            unit="x",
        ),
    ]
    ideal = group[IDEAL].median("wall")
    targets.append(
        {
            "target": f"reference, no target: the {IDEAL}'s upload phase alone (no start-up, "
            f"bodies built in advance) / the floor; trustpub's wall / that phase: "
            f"{fmt_ratio(ratio(mine, ideal))}",
            "value": ratio(ideal, floor),
            "limit": None,
            "unit": "x",
            "verdict": "-",
        }
    )
    return {
        "rows": rows,
        "targets": targets,
        "files": files,
        "limit_s": limit,
        "floor_s": floor,
        "ideal_upload_s": ideal,
        "wheel_size": cfg.wheel_size,
        "jobs": JOBS,
        "latency_ms": LATENCY_MS,
    }


def ideal_upload(runner: Runner, box: Sandbox, files: Sequence[Path]) -> tuple[Sample | None, str]:
    """bench/_ideal_upload.py through the launcher; wall and CPU are those of its upload phase."""
    out = runner.work / f"ideal-{runner.count}.json"
    command = [str(BIN / "python"), str(BENCH / "_ideal_upload.py"), str(out), box.upload_url]
    command += [box.token, str(JOBS), *map(str, files)]
    sample, why = runner.measure(command, child_env())
    if sample is None or not out.exists():
        return None, why
    phase = json.loads(out.read_text())
    return Sample(wall=phase["wall"], cpu=phase["cpu"], rss_mib=sample.rss_mib), why


def release_floor(files: int, jobs: int, latency_ms: int) -> float:
    """The least time trustpub's own concurrency allows, in seconds.

    The first file goes alone (an authentication or project problem then stops the
    release after one request); the others go ``jobs`` at a time, each taking at least
    the sandbox's latency.
    """
    if files <= 0:
        return 0.0
    return (1 + math.ceil((files - 1) / jobs)) * latency_ms / 1000


def export_checkout(ref: str, into: Path) -> Path | None:
    """``src/`` of ``ref`` (``git archive``) under ``into``; None when git cannot give it."""
    into.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", "--format=tar", ref, "src"],
        capture_output=True,
        check=False,
    )
    if archive.returncode != 0:
        return None
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into / "src"


def validate_cpu(
    runner: Runner, files: Sequence[Path], src: Path | None
) -> tuple[dict[str, float] | None, str]:
    """CPU of one fresh process validating ``files`` (``src``: an older checkout first)."""
    out = runner.work / f"v{runner.count}.json"
    runner.count += 1
    extra = {"PYTHONPATH": str(src)} if src is not None else {}
    done = subprocess.run(
        [str(BIN / "python"), str(VALIDATE_CPU), str(out), str(CHECK_REPEAT), *map(str, files)],
        capture_output=True,
        text=True,
        env=child_env(extra),
        cwd=runner.work,
        timeout=600,
        check=False,
    )
    if done.returncode != 0 or not out.exists():
        return None, f"exit {done.returncode}: {done.stderr[-800:]}"
    data: dict[str, float] = json.loads(out.read_text())
    return data, ""


def publish_cpu(
    cfg: Config,
    runner: Runner,
    work: Path,
    log: Callable[[str], None],
    variants: dict[str, Path | None],
) -> dict[str, Series]:
    """Whole ``trustpub publish`` runs of the release against a sandbox that answers at once."""
    group = {name: Series(name, name) for name in variants}
    with sandbox(work, "check", "--no-tls") as box:
        plan = [(-1, name) for name in variants] + list(
            alternate(cfg.release_runs, tuple(variants))
        )
        for number, (run, name) in enumerate(plan):
            files = dists.build_release(
                work / "check-publish" / str(number),
                "bench-check",
                f"4.{number}.0",
                wheel_size=cfg.wheel_size,
            )
            extra = {"TRUSTPUB_TOKEN": box.token}
            if variants[name] is not None:
                extra["PYTHONPATH"] = str(variants[name])
            command = [str(BIN / "python"), "-m", "trustpub", "publish", "-r", box.upload_url]
            sample, why = runner.measure(
                [*command, "--no-keyring", *map(str, files)], child_env(extra)
            )
            if run >= 0:
                record(group[name], sample, why)
                log(f"check publish run {run} {name}: {fmt_s(sample.cpu) if sample else why} CPU")
    return group


def case_check(
    cfg: Config, runner: Runner, work: Path, log: Callable[[str], None], baseline: str
) -> dict[str, Any]:
    """CPU of ``publish --check``'s validation of the release, now and at ``baseline``."""
    files = dists.build_release(work / "check", "bench-release", "3.0.0", wheel_size=cfg.wheel_size)
    old_src = export_checkout(baseline, work / "baseline")
    variants: dict[str, Path | None] = {"trustpub": None}
    if old_src is None:
        log(f"check: git cannot export {baseline}; no baseline")
    else:
        variants[f"trustpub@{baseline}"] = old_src
    figures: dict[str, dict[str, list[float]]] = {
        name: {key: [] for key in CHECK_FIGURES} for name in variants
    }
    failures: dict[str, list[str]] = {name: [] for name in variants}
    for run, name in alternate(cfg.release_runs, tuple(variants)):
        data, why = validate_cpu(runner, files, variants[name])
        if data is None:
            failures[name].append(why)
            continue
        for key in CHECK_FIGURES:
            figures[name][key].append(float(data[key]))
        log(f"check run {run} {name}: import + first call {fmt_s(data['total'])} CPU")
    whole = publish_cpu(cfg, runner, work, log, variants)
    medians = {
        name: {key: statistics.median(v) if v else None for key, v in figures[name].items()}
        for name in variants
    }
    rows = []
    for key, label in CHECK_FIGURES.items():
        for name in variants:
            row: dict[str, Any] = {
                "case": f"validate {len(files)} files: {label} (CPU only)",
                "tool": name,
                "runs": len(figures[name][key]),
                "wall": None,
                "cpu": medians[name][key],
                "rss_mib": None,
                "failures": failures[name][:3],
            }
            if name != "trustpub":
                row["trustpub_ratio"] = {"cpu": ratio(medians["trustpub"][key], row["cpu"])}
            rows.append(row)
    added = None
    if old_src is not None:
        new, old = medians["trustpub"]["total"], medians[f"trustpub@{baseline}"]["total"]
        added = (new - old) / len(files) * 1000 if new is not None and old is not None else None
    per_file = medians["trustpub"]["total"]
    rows.extend(table_rows(f"publish {len(files)} files, zero-latency sandbox (whole run)", whole))
    targets = [
        target(
            "check: the stricter rules add <= 5 ms CPU per small file "
            f"(import + first call, vs {baseline})",
            added,
            5.0,
            unit="ms",
        )
    ]
    if old_src is not None:
        now, then = whole["trustpub"].median("cpu"), whole[f"trustpub@{baseline}"].median("cpu")
        targets.append(
            target(
                "check: ... and add <= 5 ms CPU per small file to a whole publish run "
                f"(vs {baseline})",
                (now - then) / len(files) * 1000 if now is not None and then is not None else None,
                5.0,
                unit="ms",
            )
        )
    return {
        "rows": rows,
        "targets": targets,
        "files": len(files),
        "baseline": baseline,
        "cpu_per_file_ms": None if per_file is None else per_file / len(files) * 1000,
        "added_cpu_per_file_ms": added,
        "figures": figures,
    }


def case_attest(
    cfg: Config, runner: Runner, work: Path, log: Callable[[str], None]
) -> dict[str, Any]:
    """The release by trusted publishing over TLS, signed (PEP 740) and unsigned."""
    variants = {"trustpub": "require", "trustpub --attestations off": "off"}
    publisher = (
        f"provider=github,repository={PUBLISHER_REPO},workflow=release.yml,projects={ATT_PROJECT}"
    )
    group = {name: Series(name, name) for name in variants}
    files = 0
    with sandbox(work, "attest", "--publisher", publisher) as box:

        def command(mode: str, number: int) -> tuple[list[str], dict[str, str]]:
            release = dists.build_release(
                work / "attest" / str(number),
                ATT_PROJECT,
                f"1.{number}.0",
                wheel_size=cfg.wheel_size,
            )
            return (
                [
                    str(BIN / "trustpub"),
                    "publish",
                    "-r",
                    box.upload_url,
                    "--trusted-publishing",
                    "always",
                    "--attestations",
                    mode,
                    "--no-keyring",
                    *map(str, release),
                ],
                child_env({**job_env(box), **tls_env(box)}),
            )

        plan = [(-1, name) for name in variants] + list(
            alternate(cfg.release_runs, tuple(variants))
        )
        for number, (run, name) in enumerate(plan):
            argv, env = command(variants[name], number)
            files = sum(1 for arg in argv if arg.endswith((".whl", ".tar.gz")))
            sample, why = runner.measure(argv, env)
            if run < 0:
                if sample is None:
                    log(f"attest warm-up {name} failed: {why}")
                continue
            record(group[name], sample, why)
            log(
                f"attest run {run} {name}: {fmt_s(sample.wall) + ', CPU ' + fmt_s(sample.cpu) if sample else 'FAILED'}"
            )
        if runner.profile_dir is not None:
            argv, env = command("require", len(plan))
            runner.profile("attest", argv, env)
    rows = table_rows(f"trusted publishing, {files} files, TLS: attested vs unsigned", group)
    return {"rows": rows, "targets": [], "files": files}


def case_large(
    cfg: Config, runner: Runner, work: Path, log: Callable[[str], None]
) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    targets: list[dict[str, Any]] = []
    with sandbox(work, "large", "--no-tls") as box:
        for number, size in enumerate(cfg.large_sizes):
            label = f"{size // MIB} MB"
            wheel = dists.build_wheel(
                work / "large", "bench-large", f"{number + 1}.0.0", payload_size=size, seed=number
            )
            # Untimed first upload: the index has the file, so every timed upload does the same
            # work on the server (an identical file is a 200 no-op there, as on PyPI).
            command, extra = upload_command("trustpub", box, [wheel])
            sample, why = runner.measure(command, child_env(extra))
            if sample is None:
                log(f"large warm-up failed: {why}")
            group = {tool: Series(tool, tool) for tool in TOOLS}
            for run, tool in alternate(cfg.large_runs, TOOLS):
                command, extra = upload_command(tool, box, [wheel])
                sample, why = runner.measure(command, child_env(extra), timeout=900)
                record(group[tool], sample, why)
                log(
                    f"large {label} run {run} {tool}: "
                    f"{fmt_s(sample.wall) + ', ' + fmt_mib(sample.rss_mib) if sample else 'FAILED'}"
                )
            command, extra = upload_command("trustpub", box, [wheel])
            runner.profile(f"large-{size // MIB}MB", command, child_env(extra))
            wheel.unlink()
            rows.extend(table_rows(f"one {label} wheel", group))
            mine = group["trustpub"]
            targets.append(
                target(
                    f"{label}: trustpub peak RSS <= 64 MiB",
                    mine.median("rss_mib"),
                    64.0,
                    unit="MiB",
                )
            )
            targets.append(
                target(
                    f"{label}: trustpub wall <= 0.8x twine's",
                    ratio(mine.median("wall"), group["twine"].median("wall")),
                    0.8,
                    unit="x",
                )
            )
    return {"rows": rows, "targets": targets, "sizes": list(cfg.large_sizes)}


def job_env(box: Sandbox) -> dict[str, str]:
    """A fresh GitHub-like job from ``trustpub sandbox env`` (one OIDC token per job)."""
    done = subprocess.run(
        [
            str(BIN / "trustpub"),
            "sandbox",
            "env",
            "--ready-file",
            str(box.ready_file),
            "--provider",
            "github",
            "--repository",
            PUBLISHER_REPO,
            "--workflow",
            "release.yml",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        env=child_env(),
        check=True,
    )
    env: dict[str, str] = json.loads(done.stdout)
    return env


def sandbox_log(box: Sandbox) -> list[dict[str, Any]]:
    import ssl

    context = ssl.create_default_context(cafile=box.ca_cert) if box.ca_cert else None
    url = f"{box.info['url']}/_sandbox/log"  # http(s) URL from the sandbox's ready line
    with urllib.request.urlopen(url, context=context) as response:  # noqa: S310
        data: dict[str, Any] = json.load(response)
    return list(data.get("requests", []))


def case_trusted(
    cfg: Config, runner: Runner, work: Path, log: Callable[[str], None]
) -> dict[str, Any]:
    tools = ("trustpub", "uv")
    publisher = (
        f"provider=github,repository={PUBLISHER_REPO},workflow=release.yml,projects={TP_PROJECT}"
    )
    group = {tool: Series(tool, tool) for tool in tools}
    burns: dict[str, int] = {}
    with sandbox(work, "trusted", "--publisher", publisher) as box:
        # The project must exist: minted tokens cannot create projects (as on PyPI).
        seed = dists.build_wheel(work / "tp", TP_PROJECT, "0.0.1")
        command, extra = upload_command("trustpub", box, [seed])
        sample, why = runner.measure(command, child_env({**extra, **tls_env(box)}))
        if sample is None:
            raise RuntimeError(f"could not create {TP_PROJECT}: {why}")
        for warm in range(len(tools) + cfg.trusted_runs * len(tools)):
            dists.build_wheel(work / "tp" / str(warm), TP_PROJECT, f"1.0.{warm}")
        counter = iter(range(10**6))
        plan = [(-1, tool) for tool in tools] + list(alternate(cfg.trusted_runs, tools))
        for run, tool in plan:
            index = next(counter)
            wheel = next((work / "tp" / str(index)).glob("*.whl"))
            env = child_env({**job_env(box), **tls_env(box)})
            if tool == "trustpub":
                command = [
                    str(BIN / "trustpub"),
                    "publish",
                    "-r",
                    box.upload_url,
                    "--trusted-publishing",
                    "always",
                    "--no-keyring",
                    str(wheel),
                ]
            else:
                command = [
                    str(BIN / "uv"),
                    "publish",
                    "--trusted-publishing",
                    "always",
                    "--publish-url",
                    box.upload_url,
                    "--no-progress",
                    str(wheel),
                ]
            before = len(sandbox_log(box))
            sample, why = runner.measure(command, env)
            requests = sandbox_log(box)[before:]
            burned = sum(
                1
                for entry in requests
                if entry.get("path") == "/_/oidc/burn-token" and entry.get("status") == 200
            )
            if run >= 0:
                record(group[tool], sample, why)
                burns[tool] = burns.get(tool, 0) + burned
                log(
                    f"trusted run {run} {tool}: {fmt_s(sample.wall) if sample else 'FAILED'}"
                    f" (tokens burned: {burned})"
                )
            elif sample is None:
                log(f"trusted warm-up {tool} failed: {why}")
        if runner.profile_dir is not None:
            wheel = dists.build_wheel(work / "tp" / "profile", TP_PROJECT, "9.0.0")
            command = [
                str(BIN / "trustpub"),
                "publish",
                "-r",
                box.upload_url,
                "--trusted-publishing",
                "always",
                "--no-keyring",
                str(wheel),
            ]
            runner.profile("trusted", command, child_env({**job_env(box), **tls_env(box)}))
    rows = table_rows("trusted publishing, one small wheel, TLS", group)
    rows.append(
        {
            "case": rows[0]["case"],
            "tool": "twine",
            "runs": 0,
            "wall": None,
            "cpu": None,
            "rss_mib": None,
            "note": "n/a: twine mints tokens only for upload.pypi.org / "
            "test.pypi.org URLs, so it cannot publish to the sandbox with trusted publishing",
        }
    )
    targets = [
        target(
            "trusted publishing: trustpub <= 1.5x uv's wall",
            ratio(group["trustpub"].median("wall"), group["uv"].median("wall")),
            1.5,
            unit="x",
        )
    ]
    return {"rows": rows, "targets": targets, "tokens_burned": burns}


# --------------------------------------------------------------------------- reporting


def record(series: Series, sample: Sample | None, why: str) -> None:
    if sample is None:
        series.failures.append(why)
    else:
        series.samples.append(sample)


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def target(
    name: str, value: float | None, limit: float, *, unit: str, higher: bool = False
) -> dict[str, Any]:
    if value is None:
        verdict = "MISS"
    else:
        verdict = "PASS" if (value >= limit if higher else value <= limit) else "MISS"
    return {"target": name, "value": value, "limit": limit, "unit": unit, "verdict": verdict}


def table_rows(case: str, group: dict[str, Series]) -> list[dict[str, Any]]:
    base = group.get("trustpub")
    rows = []
    for tool, series in group.items():
        row: dict[str, Any] = {
            "case": case,
            "tool": tool,
            "runs": len(series.samples),
            "wall": series.median("wall"),
            "cpu": series.median("cpu"),
            "rss_mib": series.median("rss_mib"),
            "failures": series.failures[:3],
        }
        if base is not None and tool != "trustpub":
            row["trustpub_ratio"] = {
                key: ratio(base.median(key), series.median(key))
                for key in ("wall", "cpu", "rss_mib")
            }
        rows.append(row)
    return rows


def fmt_s(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def fmt_mib(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} MiB"


def fmt_ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def load_average() -> str:
    """The 1, 5 and 15-minute load averages ("?" where the system has none)."""
    try:
        return "/".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "?"


def markdown(result: dict[str, Any]) -> str:
    lines = [
        "| case | tool | runs | wall | CPU | peak RSS | trustpub/tool wall | CPU | RSS |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for case in result["cases"].values():
        for row in case["rows"]:
            ratios = row.get("trustpub_ratio", {})
            note = row.get("note")
            if note:
                lines.append(f"| {row['case']} | {row['tool']} | - | {note} | | | | | |")
                continue
            failed = f" ({len(row['failures'])} failed)" if row.get("failures") else ""
            lines.append(
                f"| {row['case']} | {row['tool']} | {row['runs']}{failed} | {fmt_s(row['wall'])} "
                f"| {fmt_s(row['cpu'])} | {fmt_mib(row['rss_mib'])} "
                f"| {fmt_ratio(ratios.get('wall'))} | {fmt_ratio(ratios.get('cpu'))} "
                f"| {fmt_ratio(ratios.get('rss_mib'))} |"
            )
    lines += ["", "| target | value | verdict |", "|---|---:|---|"]
    for case in result["cases"].values():
        for item in case["targets"]:
            value = item["value"]
            unit = item["unit"]
            if value is None:
                shown = "-"
            elif unit == "s":
                shown = fmt_s(value)
            elif unit == "x":
                shown = f"{value:.2f}x"
            else:
                shown = f"{value:.1f} {unit}"
            lines.append(f"| {item['target']} | {shown} | {item['verdict']} |")
    loads = [
        f"{name} {case['load'][0]} -> {case['load'][1]}"
        for name, case in result["cases"].items()
        if "load" in case
    ]
    if loads:
        lines += [
            "",
            "Load average (1/5/15 min) at the start and end of each case: "
            + "; ".join(loads)
            + ".",
        ]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- main

CASES = ("startup", "check", "release", "large", "trusted", "attest")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: fewer runs, smaller files")
    parser.add_argument(
        "--runs", type=int, help="runs per tool and case (at least 5 unless --quick)"
    )
    parser.add_argument(
        "--cases", default=",".join(CASES), help=f"comma-separated subset of {','.join(CASES)}"
    )
    parser.add_argument("--no-install", action="store_true", help="use bench/.venv as it is")
    parser.add_argument("--output", type=Path, default=RESULTS / "latest.json")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs, files)")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="after each case, run trustpub once more under pyinstrument (untimed); "
        "reports go to bench/results/profile-<case>.txt",
    )
    parser.add_argument(
        "--check-baseline",
        default=CHECK_BASELINE,
        metavar="REF",
        help="the git revision whose validation the check case compares with "
        f"(default {CHECK_BASELINE}, before the stricter upload rules)",
    )
    args = parser.parse_args(argv)
    cases = [name.strip() for name in args.cases.split(",") if name.strip()]
    unknown = set(cases) - set(CASES)
    if unknown:
        parser.error(f"unknown case(s): {', '.join(sorted(unknown))}")
    # Absolute: the profiler runs in the work directory, so a relative path would land there.
    args.output = args.output.resolve()
    cfg = Config.make(args.quick, args.runs)
    started = time.monotonic()
    ensure_venv(not args.no_install)
    work = Path(tempfile.mkdtemp(prefix="trustpub-bench-"))

    def log(message: str) -> None:
        print(f"[{time.monotonic() - started:6.1f}s] (load {load_average()}) {message}", flush=True)

    result: dict[str, Any] = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "config": asdict(cfg),
        "cases": {},
    }
    log(f"machine: {json.dumps(result['machine'])}")
    runner = Runner(work, args.output.parent if args.profile else None)
    try:
        for name in cases:
            log(f"case {name} ...")
            load_before = load_average()
            if name == "startup":
                result["cases"][name] = case_startup(cfg, runner, log)
            elif name == "check":
                result["cases"][name] = case_check(cfg, runner, work, log, args.check_baseline)
            elif name == "release":
                result["cases"][name] = case_release(cfg, runner, work, log)
            elif name == "attest":
                result["cases"][name] = case_attest(cfg, runner, work, log)
            elif name == "large":
                result["cases"][name] = case_large(cfg, runner, work, log)
            else:
                result["cases"][name] = case_trusted(cfg, runner, work, log)
            result["cases"][name]["load"] = [load_before, load_average()]
    finally:
        if args.keep:
            log(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    result["duration_s"] = round(time.monotonic() - started, 1)
    table = markdown(result)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    args.output.with_suffix(".md").write_text(table)
    print()
    print(
        f"{result['date']}, {result['machine']['nproc']} CPUs ({result['machine']['cpu']}), "
        f"{result['machine']['memory']}, {result['machine']['python']}; "
        f"{'quick' if cfg.quick else 'full'} run in {result['duration_s']} s"
    )
    print(table)
    print(f"written: {args.output} and {args.output.with_suffix('.md')}")
    failures = [
        row for case in result["cases"].values() for row in case["rows"] if row.get("failures")
    ]
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
