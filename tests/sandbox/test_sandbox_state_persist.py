"""index.json round trip: every file record survives a restart exactly."""

from __future__ import annotations

import json
from pathlib import Path

from trustpub.sandbox.state import FileRecord, IndexState


def _record(name: str, version: str, *, attestations: bool = False) -> FileRecord:
    return FileRecord(
        filename=name,
        version=version,
        filetype="bdist_wheel" if name.endswith(".whl") else "sdist",
        size=1234,
        sha256="a" * 64,
        blake2_256="b" * 64,
        requires_python=">=3.10" if attestations else None,
        upload_time=1_700_000_000.25,
        attestations=attestations,
    )


def test_files_survive_a_restart(tmp_path: Path) -> None:
    state = IndexState(tmp_path)
    added = [
        ("Demo.Pkg", _record("demo_pkg-1.0-py3-none-any.whl", "1.0", attestations=True)),
        ("Demo.Pkg", _record("demo_pkg-1.0.tar.gz", "1.0")),
        ("other", _record("other-2.0-py3-none-any.whl", "2.0")),
    ]
    for project, record in added:
        staged = state.staging_file()
        staged.write_bytes(b"content of " + record.filename.encode())
        state.add_file(project, record, staged)

    saved = json.loads((tmp_path / "index.json").read_text(encoding="utf-8"))
    assert [p["name"] for p in saved["projects"]] == ["Demo.Pkg", "other"]
    assert saved["projects"][0]["files"][0]["requires_python"] == ">=3.10"

    again = IndexState(tmp_path)
    demo = again.project("demo-pkg")
    other = again.project("other")
    assert demo is not None
    assert other is not None
    assert demo.name == "Demo.Pkg"
    assert demo.files == [added[0][1], added[1][1]]
    assert other.files == [added[2][1]]
    assert again.file_path("Demo.Pkg", "demo_pkg-1.0.tar.gz").read_bytes() == (
        b"content of demo_pkg-1.0.tar.gz"
    )
