"""What PEP 740 signing adds to a release: 41 files attested vs the same release unsigned.

    python3 bench/attest_cost.py              # 3 rounds
    python3 bench/attest_cost.py --rounds 1

Runs this interpreter's trustpub (``pip install -e .``) against a local sandbox over TLS, in a
simulated GitHub job (``trustpub sandbox env``). Each round builds a fresh release of the
release case's 41 files (40 wheels and an sdist, ``bench/dists.py``, 128 KiB each) per mode and
times, wall clock, median over rounds:

* ``unsigned``: ``trustpub publish --attestations off``;
* ``attested``: ``trustpub publish --attestations require`` (one sigstore token and
  certificate, 41 DSSE signatures, 41 transparency-log entries, 41 attestations verified by
  the sandbox as PyPI verifies them);
* ``attest only``: ``trustpub attest`` on a third copy (the signing alone, no upload).

Where the time goes: ``attested - unsigned`` is what attestations cost in all; ``attest only``
is the client's share (certificate + signing + log); the rest is the index verifying each
attestation (chain, SCT, inclusion proof, checkpoint, SET, policy) on upload. Loopback only.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dists import build_release

PROJECT = "bench-attest"
REPOSITORY = "octo-org/bench-attest"


def _cli(*args: str, env: dict[str, str], cwd: Path | None = None) -> float:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "trustpub", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"trustpub {args[0]} failed: {done.stderr[-2000:]}")
    return elapsed


def _base_env() -> dict[str, str]:
    drop = ("GITHUB_", "ACTIONS_", "GITLAB_", "CI_", "TRUSTPUB_", "GOOGLE_", "GCE_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop) and k != "CI"}
    env.update(
        {"NO_COLOR": "1", "TERM": "dumb", "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
    )
    return env


def _job(ready: Path) -> dict[str, str]:
    done = subprocess.run(
        [sys.executable, "-m", "trustpub", "sandbox", "env", "--ready-file", str(ready),
         "--provider", "github", "--repository", REPOSITORY, "--workflow", "release.yml",
         "--format", "json"],
        capture_output=True, text=True, env=_base_env(), check=True,
    )  # fmt: skip
    env = _base_env()
    env.update(json.loads(done.stdout))
    return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="trustpub-attest-bench-"))
    ready = work / "ready.json"
    publisher = (
        f"provider=github,repository={REPOSITORY},workflow=release.yml,"
        f"projects={PROJECT},pending=true"
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "trustpub", "sandbox", "serve", "--state-dir", str(work / "box"),
         "--ready-file", str(ready), "--publisher", publisher],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_base_env(),
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the sandbox did not start")
            time.sleep(0.05)
        url = json.loads(ready.read_text().splitlines()[-1])["upload_url"]
        times: dict[str, list[float]] = {"unsigned": [], "attested": [], "attest only": []}
        times_modes = list(times)
        times["attest, nothing to sign"] = []
        for number in range(options.rounds):
            for index, mode in enumerate(times_modes):
                folder = work / f"{mode.replace(' ', '-')}-{number}"
                build_release(
                    folder / "dist", PROJECT, f"1.{number}.{index}", wheel_size=128 * 1024
                )
                env = _job(ready)
                if mode == "attest only":
                    times[mode].append(_cli("attest", "dist/*", env=env, cwd=folder))
                    # again: every file has its attestation now, so this is the fixed cost
                    # (start-up, file discovery, token) that the signing figure excludes
                    times["attest, nothing to sign"].append(
                        _cli("attest", "dist/*", env=_job(ready), cwd=folder)
                    )
                    continue
                flag = "off" if mode == "unsigned" else "require"
                times[mode].append(
                    _cli("publish", "-r", url, "--attestations", flag, "-q", env=env, cwd=folder)
                )
        medians = {mode: round(statistics.median(values), 3) for mode, values in times.items()}
        medians["attestations cost"] = round(medians["attested"] - medians["unsigned"], 3)
        signing = medians["attest only"] - medians["attest, nothing to sign"]
        medians["client signing (cert + 41 signatures + log entries)"] = round(signing, 3)
        medians["index verification on upload (rest)"] = round(
            medians["attestations cost"] - signing, 3
        )
        print(json.dumps({"files": 41, "rounds": options.rounds, "seconds": medians}, indent=2))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
