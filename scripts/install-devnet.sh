#!/usr/bin/env bash
# Builds starknet-devnet 0.10.1 from crates.io into the cache, once. The end-to-end test and
# the local stack run it from there. A binary already present is kept, so later runs return
# at once; the first build takes about 20 minutes on 2 cores.
#
#   ORCHESTRATOR_CACHE  default ~/.cache/orchestrator; the binary lands in
#                       $ORCHESTRATOR_CACHE/devnet/bin/starknet-devnet and the build files in
#                       $ORCHESTRATOR_CACHE/devnet-target
set -euo pipefail

cache=${ORCHESTRATOR_CACHE:-$HOME/.cache/orchestrator}
devnet=$cache/devnet/bin/starknet-devnet

if [ -x "$devnet" ]; then
    echo "starknet-devnet already installed at $devnet"
    exit 0
fi

echo "building starknet-devnet 0.10.1 into $cache/devnet (about 20 minutes on 2 cores)"
mkdir -p "$cache"
CARGO_TARGET_DIR=$cache/devnet-target \
    cargo install --locked starknet-devnet --version 0.10.1 --root "$cache/devnet"
echo "starknet-devnet installed at $devnet"
