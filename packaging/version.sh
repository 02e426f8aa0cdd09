#!/bin/sh
# Print the project version from pyproject.toml ([project] version), the single source of
# the package versions.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
exec "${PYTHON:-/usr/bin/python3.11}" -c '
import sys, tomllib
with open(sys.argv[1], "rb") as fh:
    print(tomllib.load(fh)["project"]["version"])
' "$ROOT/pyproject.toml"
