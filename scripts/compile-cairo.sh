#!/usr/bin/env bash
# Compiles the Cairo 0 stand-in for the Starknet OS (cairo/snos_standin.cairo) into
# cairo/snos_standin.json, which is committed and embedded in the orchestrator binary, so Rust
# builds need no Python.
#
# cairo-compile comes from the PyPI package cairo-lang, installed on first use into a virtual
# environment under the tool folder. cairo-compile runs on Python 3.11.
#
# Environment:
#   ORCHESTRATOR_TOOLS    tool folder (default: .local at the repository root)
#   ORCHESTRATOR_PYTHON   Python used to create the virtual environment (default: python3)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
tools=${ORCHESTRATOR_TOOLS:-$root/.local}
python=${ORCHESTRATOR_PYTHON:-python3}
venv="$tools/cairo-venv"
cairo_lang_version=0.14.0.1

if [ ! -x "$venv/bin/cairo-compile" ]; then
    echo "installing cairo-lang $cairo_lang_version into $venv"
    mkdir -p "$tools"
    "$python" -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "cairo-lang==$cairo_lang_version"
fi

# --no_debug_info keeps absolute source paths out of the committed JSON; error messages still
# carry the program's `with_attr error_message` texts.
"$venv/bin/cairo-compile" "$root/cairo/snos_standin.cairo" \
    --output "$root/cairo/snos_standin.json" \
    --no_debug_info
echo "wrote $root/cairo/snos_standin.json"
