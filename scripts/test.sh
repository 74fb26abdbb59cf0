#!/usr/bin/env bash
# Runs the whole test suite against real local servers (Temporal dev and test servers, anvil,
# moto), installing the tools first. Extra arguments go to `cargo test`.
#
# Caches outside the clone, so repeated runs stay fast:
#   ORCHESTRATOR_CACHE  default ~/.cache/orchestrator (cargo target folder)
#   ORCHESTRATOR_TOOLS  default <repo>/.local (Temporal CLI, anvil, solc-js)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
export ORCHESTRATOR_CACHE=${ORCHESTRATOR_CACHE:-$HOME/.cache/orchestrator}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ORCHESTRATOR_CACHE/target}
export ORCHESTRATOR_TOOLS=${ORCHESTRATOR_TOOLS:-$root/.local}
export ORCHESTRATOR_FIXTURES=${ORCHESTRATOR_FIXTURES:-$root/../shared/fixtures}
export ORCHESTRATOR_ANVIL_BIN=${ORCHESTRATOR_ANVIL_BIN:-$ORCHESTRATOR_TOOLS/bin/anvil}

"$root/scripts/install-tools.sh"
# The end-to-end test runs a real Starknet node: built once into the cache (about 20 minutes
# on 2 cores the first time, instant afterwards).
"$root/scripts/install-devnet.sh"
if [ ! -d "$ORCHESTRATOR_FIXTURES" ]; then
    echo "fixtures folder $ORCHESTRATOR_FIXTURES not found; set ORCHESTRATOR_FIXTURES" >&2
    exit 1
fi

cd "$root"
# Two test threads: the suite starts servers of its own and the machine may have two cores.
cargo test --workspace --locked --no-fail-fast "$@" -- --test-threads=2 \
    --skip pipeline_settles_devnet_blocks

cargo test --workspace --locked --test end_to_end "$@" -- --nocapture
