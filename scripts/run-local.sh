#!/usr/bin/env bash
# Runs the main job on the embedded defaults. It brings up the local stack
# (scripts/dev-stack.sh) and sends signed transactions to starknet-devnet so blocks with real state
# diffs appear. Then it starts the chain's block follower, which starts a block workflow for
# every new block, and prints progress until BLOCKS blocks (default 5) are settled on anvil.
# The stack and the follower keep running afterwards: new devnet blocks keep settling.
# `scripts/dev-stack.sh down` stops everything.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
blocks=${BLOCKS:-5}
"$root/scripts/dev-stack.sh" up

export ORCHESTRATOR_CACHE=${ORCHESTRATOR_CACHE:-$HOME/.cache/orchestrator}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ORCHESTRATOR_CACHE/target}
export ORCHESTRATOR_TOOLS=${ORCHESTRATOR_TOOLS:-$root/.local}
export TEMPORAL_ADDRESS=127.0.0.1:7233
export ORCHESTRATOR_CHAIN_ID=${ORCHESTRATOR_CHAIN_ID:-devnet}
orchestrator=$CARGO_TARGET_DIR/debug/orchestrator
stack=$ORCHESTRATOR_TOOLS/stack
core=$(sed -n 's/.*"core_contract": *"\([^"]*\)".*/\1/p' "$stack/contracts.json")

rpc() {
    curl -sf -H 'content-type: application/json' \
        -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$2\",\"params\":$3}" "$1"
}
latest_l2() { rpc http://127.0.0.1:5050/rpc starknet_blockNumber '[]' | sed -n 's/.*"result":\([0-9]*\).*/\1/p'; }
settled_l1() {
    "$orchestrator" l1 state --rpc-url http://127.0.0.1:8545 --core-contract "$core" --json \
        | sed -n 's/.*"block_number": *\([0-9-]*\).*/\1/p'
}

# Signed transactions from devnet's first predeployed account: STRK transfers, then one
# contract deployment. Devnet makes one block per transaction.
"$orchestrator" load --rpc-url http://127.0.0.1:5050/rpc --transfers $((blocks - 1)) --deployments 1

target=$(latest_l2)
echo "L2 head is block $target; starting the block follower"
"$orchestrator" follow --settings "$root/scripts/local-settings.json" --poll-interval-secs 2

echo "waiting for settlement (Web UI: http://127.0.0.1:8233)"
for _ in $(seq 1 600); do
    settled=$(settled_l1 || echo "?")
    echo "$(date +%T)  settled on L1: ${settled:-none}  |  $("$orchestrator" follow --show 2>/dev/null || echo "follower: no status yet")"
    if [ "${settled:-}" = "$target" ]; then
        "$orchestrator" status "1..$target"
        echo "all $target blocks settled"
        exit 0
    fi
    sleep 5
done
"$orchestrator" status "1..$target"
echo "blocks did not settle within 50 minutes; see .local/stack/logs/worker.log" >&2
exit 1
