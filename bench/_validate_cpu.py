"""CPU time of trustpub's pre-upload validation, measured inside one fresh process.

Usage: ``python _validate_cpu.py OUT.json REPEAT FILE...``

Which trustpub is measured is whatever ``import trustpub`` finds (the harness
puts an exported older checkout first on ``PYTHONPATH`` for the baseline). The
figures are CPU seconds of this process (``time.process_time``: user + sys of
every thread), so other work on a shared machine barely moves them:

* ``import``: importing ``trustpub.upload.validate`` (what ``publish`` needs for it);
* ``first``: the first ``validate(files)`` call, which also pays for the modules and
  tables the rules load on first use (what one ``trustpub publish`` run pays);
* ``total``: ``import`` + ``first``;
* ``warm``: the median of ``REPEAT`` further calls on the same files.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path


def main() -> int:
    out, repeat, files = sys.argv[1], int(sys.argv[2]), [Path(arg) for arg in sys.argv[3:]]
    start = time.process_time()
    import trustpub
    from trustpub.upload.validate import validate

    imported = time.process_time()
    validated = validate(files)
    first = time.process_time()
    warm = []
    for _ in range(repeat):
        before = time.process_time()
        validate(files)
        warm.append(time.process_time() - before)
    result = {
        "trustpub": str(Path(trustpub.__file__).resolve().parent),
        "files": len(validated),
        "import": imported - start,
        "first": first - imported,
        "total": first - start,
        "warm": statistics.median(warm) if warm else None,
    }
    Path(out).write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
