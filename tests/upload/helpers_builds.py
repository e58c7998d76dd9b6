"""Real builds of small projects by six build backends, offline.

Each backend is installed by the project's ``test`` extra. The PEP 517 hooks are
called directly in a child process (no build isolation, no network); maturin is
driven by its CLI (``maturin build --sdist``), which audits the binary and tags
the wheel ``manylinux_*`` as a release build would. The Rust crate has no
dependencies, so cargo builds it offline.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

BACKENDS = ("hatchling", "setuptools", "flit_core", "pdm-backend", "uv_build", "maturin")

_HOOKS = {
    "hatchling": "hatchling.build",
    "setuptools": "setuptools.build_meta",
    "flit_core": "flit_core.buildapi",
    "pdm-backend": "pdm.backend",
    "uv_build": "uv_build",
}

_PEP517 = (
    "import importlib, sys\n"
    "hook, out = sys.argv[1:3]\n"
    "del sys.argv[1:]  # setuptools passes sys.argv on to its commands\n"
    "backend = importlib.import_module(hook)\n"
    "backend.build_wheel(out)\n"
    "backend.build_sdist(out)\n"
)


def project_name(backend: str) -> str:
    return "fid-" + backend.replace("_", "-")


def _pyproject(backend: str) -> str:
    name = project_name(backend)
    build = {
        "hatchling": ('["hatchling"]', "hatchling.build"),
        "setuptools": ('["setuptools>=77"]', "setuptools.build_meta"),
        "flit_core": ('["flit_core>=3.12"]', "flit_core.buildapi"),
        "pdm-backend": ('["pdm-backend"]', "pdm.backend"),
        "uv_build": ('["uv_build"]', "uv_build"),
        "maturin": ('["maturin>=1.8"]', "maturin"),
    }[backend]
    text = f"""[build-system]
requires = {build[0]}
build-backend = "{build[1]}"

[project]
name = "{name}"
version = "0.1.0"
description = "A small project built by {backend} for trustpub's fidelity table"
readme = "README.md"
license = "MIT"
license-files = ["LICENSE"]
requires-python = ">=3.10"
authors = [{{ name = "Trustpub Tests", email = "tests@example.org" }}]
keywords = ["trustpub", "fidelity"]
classifiers = [
  "Development Status :: 4 - Beta",
  "Programming Language :: Python :: 3",
  "Typing :: Typed",
]
dependencies = ["packaging>=20", "tomli>=2; python_version < '3.11'"]

[project.optional-dependencies]
extra = ["rich>=13"]

[project.urls]
Homepage = "https://example.org/{name}"
Source = "https://example.org/{name}/source"
"""
    if backend == "maturin":
        return text + '\n[tool.maturin]\nbindings = "bin"\n'
    return text + f'\n[project.scripts]\n{name} = "{_module(backend)}:main"\n'


def _module(backend: str) -> str:
    return project_name(backend).replace("-", "_")


def write_project(root: Path, backend: str) -> Path:
    """A small project for ``backend`` under ``root``; returns its directory."""
    directory = root / backend
    directory.mkdir(parents=True)
    (directory / "pyproject.toml").write_text(_pyproject(backend), encoding="utf-8")
    (directory / "README.md").write_text(
        f"# {project_name(backend)}\n\nBuilt by *{backend}*.\n", encoding="utf-8"
    )
    (directory / "LICENSE").write_text("MIT License\n\nCopyright (c) the tests\n", "utf-8")
    if backend == "maturin":
        (directory / "Cargo.toml").write_text(
            f'[package]\nname = "{project_name(backend)}"\nversion = "0.1.0"\n'
            'edition = "2021"\nlicense = "MIT"\ndescription = "tests"\n\n[dependencies]\n',
            encoding="utf-8",
        )
        (directory / "src").mkdir()
        (directory / "src" / "main.rs").write_text('fn main() { println!("hi"); }\n', "utf-8")
        return directory
    package = directory / "src" / _module(backend)
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(
        '"""A small package."""\n\n__version__ = "0.1.0"\n\n\ndef main() -> None:\n'
        '    print("hi")\n',
        encoding="utf-8",
    )
    (package / "py.typed").write_text("", encoding="utf-8")
    return directory


def build(root: Path, backend: str) -> list[Path]:
    """Build ``backend``'s project offline; the wheel and the sdist, wheel first."""
    directory = write_project(root, backend)
    out = directory / "dist"
    out.mkdir()
    env = {**os.environ, "CARGO_NET_OFFLINE": "true", "PIP_NO_INDEX": "1"}
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    if backend == "maturin":
        maturin = shutil.which("maturin", path=env["PATH"]) or "maturin"
        command = [maturin, "build", "--release", "--sdist", "--out", str(out)]
    else:
        command = [sys.executable, "-c", _PEP517, _HOOKS[backend], str(out)]
    done = subprocess.run(
        command, cwd=directory, env=env, capture_output=True, text=True, timeout=600
    )
    if done.returncode != 0:
        raise RuntimeError(f"{backend} build failed:\n{done.stdout}\n{done.stderr}")
    files = sorted(out.iterdir(), key=lambda path: (not path.name.endswith(".whl"), path.name))
    return [path for path in files if path.name.endswith((".whl", ".tar.gz"))]


__all__ = ["BACKENDS", "build", "project_name", "write_project"]
