#!/usr/bin/env bash
# Build the documentation site strictly (any warning, broken link or missing page fails).
set -euo pipefail
cd "$(dirname "$0")/../.."
.venv/bin/python -m pip install -q -e '.[docs]'
site_dir="$(mktemp -d)"
trap 'rm -rf "$site_dir"' EXIT
NO_MKDOCS_2_WARNING=1 .venv/bin/python -m mkdocs build --strict --quiet --site-dir "$site_dir"
echo "docs: mkdocs build --strict ok"
