#!/usr/bin/env bash
# Compiles the Solidity sources in contracts/src with solc-js and writes their ABI and bytecode
# to contracts/out/, which is committed so that Rust builds need neither node nor solc.
#
# Environment:
#   ORCHESTRATOR_SOLC_JS  solc-js package directory
#                         (default /root/.cache/orchestrator/npm/node_modules/solc)
#   ORCHESTRATOR_NODE     node binary (default: node on PATH)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
solc_js="${ORCHESTRATOR_SOLC_JS:-/root/.cache/orchestrator/npm/node_modules/solc}"
node_bin="${ORCHESTRATOR_NODE:-node}"

if [[ ! -f "$solc_js/package.json" ]]; then
  echo "solc-js not found in $solc_js: install the npm package solc or set ORCHESTRATOR_SOLC_JS" >&2
  exit 1
fi

exec "$node_bin" "$root/scripts/compile-contracts.mjs" "$solc_js" "$root/contracts"
