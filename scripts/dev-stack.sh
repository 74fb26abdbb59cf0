#!/usr/bin/env bash
# The embedded development stack, all on 127.0.0.1:
#   Temporal dev server (SQLite in WAL mode) + Web UI   :7233, UI http://127.0.0.1:8233
#   anvil (Prague, 1 s blocks) with the core contract    :8545
#   starknet-devnet (built once into the cache)          :5050
#   local Atlantic-compatible prover                     :8090
#   orchestrator worker
#
# Usage: scripts/dev-stack.sh up|down|status
# `up` is idempotent: a service already running is kept. State, logs and the deployed
# addresses live in $ORCHESTRATOR_TOOLS/stack (default .local/stack). `down` stops every
# service and deletes that state, because anvil and devnet keep their chains in memory and a
# later `up` starts both afresh.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
export ORCHESTRATOR_CACHE=${ORCHESTRATOR_CACHE:-$HOME/.cache/orchestrator}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ORCHESTRATOR_CACHE/target}
export ORCHESTRATOR_TOOLS=${ORCHESTRATOR_TOOLS:-$root/.local}
stack=$ORCHESTRATOR_TOOLS/stack
bin=$ORCHESTRATOR_TOOLS/bin
mkdir -p "$stack/logs" "$stack/run" "$stack/artifacts"

# The first two anvil accounts: well-known development keys, never used outside local chains.
# The worker settles with the first; the local prover registers facts with the second, so the
# two never compete for nonces.
anvil_key=0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80
prover_key=0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d
export TEMPORAL_ADDRESS=127.0.0.1:7233
export ORCHESTRATOR_CHAIN_ID=${ORCHESTRATOR_CHAIN_ID:-devnet}
export MADARA_ORCHESTRATOR_MADARA_RPC_URL=http://127.0.0.1:5050/rpc
export MADARA_ORCHESTRATOR_ETHEREUM_SETTLEMENT_RPC_URL=http://127.0.0.1:8545
export MADARA_ORCHESTRATOR_ATLANTIC_SERVICE_URL=http://127.0.0.1:8090
export ORCHESTRATOR_ARTIFACT_STORE=file://$stack/artifacts

running() { [ -f "$stack/run/$1.pid" ] && kill -0 "$(cat "$stack/run/$1.pid")" 2>/dev/null; }

start() { # name, then the command
    local name=$1; shift
    if running "$name"; then echo "$name: already running"; return; fi
    nohup "$@" >"$stack/logs/$name.log" 2>&1 &
    echo $! >"$stack/run/$name.pid"
    echo "$name: started (log $stack/logs/$name.log)"
}

wait_for() { # name, command that succeeds once the service answers
    local name=$1; shift
    for _ in $(seq 1 120); do
        if "$@" >/dev/null 2>&1; then return; fi
        running "$name" || { echo "$name exited; see $stack/logs/$name.log" >&2; tail -20 "$stack/logs/$name.log" >&2; exit 1; }
        sleep 0.5
    done
    echo "$name did not respond within 60 s; see $stack/logs/$name.log" >&2
    exit 1
}

rpc() { # url, method, params
    curl -sf -H 'content-type: application/json' \
        -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$2\",\"params\":$3}" "$1"
}

devnet_bin() {
    "$root/scripts/install-devnet.sh" >&2
    echo "$ORCHESTRATOR_CACHE/devnet/bin/starknet-devnet"
}

up() {
    "$root/scripts/install-tools.sh"
    (cd "$root" && cargo build --locked --workspace --bins)
    local orchestrator=$CARGO_TARGET_DIR/debug/orchestrator

    start temporal "$bin/temporal" server start-dev --ip 127.0.0.1 --port 7233 --ui-port 8233 \
        --db-filename "$stack/temporal.sqlite" \
        --sqlite-pragma journal_mode=wal --sqlite-pragma synchronous=normal --log-level warn
    wait_for temporal "$bin/temporal" operator cluster health --address 127.0.0.1:7233
    "$orchestrator" setup

    start anvil "$bin/anvil" --host 127.0.0.1 --port 8545 --hardfork prague --block-time 1
    wait_for anvil rpc http://127.0.0.1:8545 eth_blockNumber '[]'
    echo "$anvil_key" >"$stack/l1.key"
    echo "$prover_key" >"$stack/prover.key"
    chmod 600 "$stack/l1.key" "$stack/prover.key"

    start devnet "$(devnet_bin)" --host 127.0.0.1 --port 5050 --seed 42 --block-generation-on transaction
    wait_for devnet rpc http://127.0.0.1:5050/rpc starknet_blockNumber '[]'

    if [ ! -f "$stack/contracts.json" ] || ! rpc http://127.0.0.1:8545 eth_getCode \
        "[\"$(sed -n 's/.*"core_contract": *"\([^"]*\)".*/\1/p' "$stack/contracts.json")\",\"latest\"]" \
        | grep -q '"result":"0x[0-9a-f]'; then
        # Block 0 (the devnet genesis) counts as settled: the pipeline starts at block 1.
        local genesis_hash
        genesis_hash=$(rpc http://127.0.0.1:5050/rpc starknet_getBlockWithTxHashes '{"block_id":{"block_number":0}}' \
            | sed -n 's/.*"block_hash":"\(0x[0-9a-f]*\)".*/\1/p')
        "$orchestrator" l1 deploy --rpc-url http://127.0.0.1:8545 --private-key-file "$stack/l1.key" \
            --program-hash "$("$orchestrator" snos program-hash)" \
            --initial-state "0,0x0,$genesis_hash" >"$stack/contracts.json"
    fi
    MADARA_ORCHESTRATOR_L1_CORE_CONTRACT_ADDRESS=$(sed -n 's/.*"core_contract": *"\([^"]*\)".*/\1/p' "$stack/contracts.json")
    ORCHESTRATOR_FACT_REGISTRY_ADDRESS=$(sed -n 's/.*"fact_registry": *"\([^"]*\)".*/\1/p' "$stack/contracts.json")
    export MADARA_ORCHESTRATOR_L1_CORE_CONTRACT_ADDRESS ORCHESTRATOR_FACT_REGISTRY_ADDRESS
    echo "contracts: $(cat "$stack/contracts.json")"

    start prover "$orchestrator" prover serve --listen 127.0.0.1:8090 \
        --l1-rpc-url http://127.0.0.1:8545 --l1-private-key-file "$stack/prover.key" \
        --fact-registry "$ORCHESTRATOR_FACT_REGISTRY_ADDRESS" --state-file "$stack/prover.json"
    wait_for prover curl -sf http://127.0.0.1:8090/_local/stats

    export MADARA_ORCHESTRATOR_ETHEREUM_PRIVATE_KEY_FILE=$stack/l1.key
    export MADARA_ORCHESTRATOR_ATLANTIC_API_KEY=local-development-key
    start worker "$CARGO_TARGET_DIR/debug/orchestrator-worker"
    sleep 1
    running worker || { tail -20 "$stack/logs/worker.log" >&2; exit 1; }

    cat <<EOF2

Stack is up.
  Temporal Web UI: http://127.0.0.1:8233  (filter: BlockNumber >= 1)
  Environment for the CLI:  export TEMPORAL_ADDRESS=127.0.0.1:7233 ORCHESTRATOR_CHAIN_ID=$ORCHESTRATOR_CHAIN_ID
  Core contract: $MADARA_ORCHESTRATOR_L1_CORE_CONTRACT_ADDRESS
EOF2
}

down() {
    for name in worker prover devnet anvil temporal; do
        if running "$name"; then
            kill "$(cat "$stack/run/$name.pid")" && echo "$name: stopped"
        fi
        rm -f "$stack/run/$name.pid"
    done
    rm -rf "$stack"
    echo "state in $stack deleted"
}

status() {
    for name in temporal anvil devnet prover worker; do
        if running "$name"; then echo "$name: running"; else echo "$name: stopped"; fi
    done
}

case "${1:-up}" in
    up) up ;;
    down) down ;;
    status) status ;;
    *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
