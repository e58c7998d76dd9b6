"""trustpub publish ends without the interpreter's teardown, but with everything shutdown does.

The teardown (clearing every module httpx, click, packaging and twine loaded) took
40-90 ms after the last byte of output (bench/, release case); cli._leave skips it.
What must still happen: the exit code, flushed output, and every atexit callback
(coverage, temporary directories, logging) in the process.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

RUN = (
    "import atexit, sys\n"
    "marker = sys.argv.pop(1)\n"
    "atexit.register(lambda: open(marker, 'w').write('ran'))\n"
    "class Teardown:\n"  # its __del__ runs only when the interpreter clears __main__
    "    def __del__(self, open=open, marker=marker):\n"
    "        open(marker + '.teardown', 'w').write('ran')\n"
    "kept = Teardown()\n"
    "from trustpub.cli import run\n"
    "run()\n"
)


def _run(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    marker = tmp_path / "atexit-ran"
    # Without a tracer, however the suite was started: .ci/run measures coverage in every
    # child (COVERAGE_PROCESS_START), and under a tracer trustpub takes the normal exit.
    env = {k: v for k, v in os.environ.items() if k != "COVERAGE_PROCESS_START"}
    done = subprocess.run(
        [sys.executable, "-c", RUN, str(marker), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )
    return done, marker


def test_publish_keeps_its_exit_code_output_and_atexit_callbacks(tmp_path: Path) -> None:
    missing = tmp_path / "absent-1.0-py3-none-any.whl"
    done, marker = _run(
        tmp_path, "publish", "--no-keyring", "-r", "http://127.0.0.1:9/legacy/", str(missing)
    )
    assert done.returncode == 3  # the documented code of a distribution that cannot be read
    assert "no such file or directory" in done.stderr
    assert marker.read_text() == "ran"
    assert not Path(f"{marker}.teardown").exists()  # the teardown was skipped


def test_main_still_raises_system_exit_for_its_caller(tmp_path: Path) -> None:
    """Only run() (the command) leaves early; a caller of main() gets SystemExit back."""
    code = (
        "import sys\n"
        "sys.argv = ['trustpub', 'publish', '--no-keyring', '-r', 'http://127.0.0.1:9/legacy/',"
        " sys.argv[1]]\n"
        "from trustpub.cli import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as stop:\n"
        "    print('caught', stop.code)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "absent-1.0-py3-none-any.whl")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (done.returncode, done.stdout) == (0, "caught 3\n")


def test_other_commands_exit_normally(tmp_path: Path) -> None:
    done, marker = _run(tmp_path, "check", "--bogus-option")
    assert done.returncode == 2
    assert "No such option" in done.stderr
    assert marker.read_text() == "ran"
    assert Path(f"{marker}.teardown").read_text() == "ran"


def test_a_wrapper_gets_control_back(tmp_path: Path) -> None:
    """Under a profiler or any runner that reports afterwards, run() returns SystemExit to it."""
    (tmp_path / "wrapper.py").write_text(
        "import sys\n"
        "from trustpub.cli import run\n"
        "def wrap(report):\n"
        "    try:\n"
        "        run()\n"
        "    except SystemExit as stop:\n"
        "        open(report, 'w').write(f'report written, code {stop.code}')\n"
        "        raise\n"
    )
    report = tmp_path / "report.txt"
    code = (
        "import sys\n"
        "report = sys.argv.pop(1)\n"
        "sys.path.insert(0, sys.argv.pop(1))\n"
        "import wrapper\n"
        "wrapper.wrap(report)\n"
    )
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            str(report),
            str(tmp_path),
            "publish",
            "--no-keyring",
            "-r",
            "http://127.0.0.1:9/legacy/",
            str(tmp_path / "absent-1.0-py3-none-any.whl"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 3
    assert report.read_text() == "report written, code 3"
