"""The CPU cost of PyPI's upload rules in ``publish --check``, per small file.

    python3 bench/check_cost.py            # 41 files (the release case), 15 rounds
    python3 bench/check_cost.py --rounds 5

Runs in this interpreter with the checkout importable (``pip install -e .``). It builds the
release case's 41 files (40 wheels and an sdist, 128 KiB each, ``bench/dists.py``) and
measures, with ``time.process_time`` (CPU of this process), median over rounds:

* ``rules``: the checks of ``trustpub.upload.rules`` alone on each file (open the archive as PyPI
  does, read its metadata, the form's metadata rules, the description, the file name, the archive
  and wheel/sdist checks) - what the stricter ``--check`` adds;
* ``validate``: the whole ``trustpub.upload.validate.validate`` (hashing, twine's form, the
  rules, the release checks) for comparison.

Target (issue 13): ``rules`` at most 5 ms of CPU per small file. No network.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import dists

from trustpub.upload import rules
from trustpub.upload.multipart import form_fields
from trustpub.upload.validate import inspect, validate

TARGET_MS = 5.0


def rules_time(forms: list[tuple[Path, str, list[tuple[str, str]]]]) -> float:
    start = time.process_time()
    for path, filetype, fields in forms:
        with ExitStack() as stack:
            opened = rules.open_distribution(path, path.name, stack)
            rules.read_core_metadata(opened)
            meta, refusals = rules.check_form_metadata(rules.sanitize_form(fields))
            assert meta is not None
            assert not refusals
            assert rules.description_refusal(meta) is None
            assert rules.filename_refusal(path.name, filetype) is None
            assert rules.distribution_refusal(opened, meta, meta.name) is None
    return time.process_time() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--size", type=int, default=128 * 1024, help="bytes per wheel")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="check-cost-") as work:
        paths = dists.build_release(Path(work), "bench-release", "1.2.3", wheel_size=args.size)
        forms = []
        for path in paths:
            dist, problems = inspect(path)
            assert dist is not None
            assert not problems, problems
            forms.append((path, dist.filetype, form_fields(dist, attestations=False)))
        rules_time(forms)  # warm-up: imports, caches
        validate(paths)
        rule_samples = [rules_time(forms) for _ in range(args.rounds)]
        whole = []
        for _ in range(args.rounds):
            start = time.process_time()
            validate(paths)
            whole.append(time.process_time() - start)
    count = len(paths)
    result = {
        "files": count,
        "rounds": args.rounds,
        "rules_ms_per_file": round(statistics.median(rule_samples) / count * 1000, 3),
        "validate_ms_per_file": round(statistics.median(whole) / count * 1000, 3),
        "target_ms_per_file": TARGET_MS,
    }
    result["pass"] = result["rules_ms_per_file"] <= TARGET_MS
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
