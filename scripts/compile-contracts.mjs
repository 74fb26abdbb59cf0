// Compiles contracts/src/*.sol with solc-js (standard JSON) and writes one artifact per
// contract to contracts/out/<Name>.json: {contractName, sourceName, compiler, abi, bytecode,
// deployedBytecode}. Rust code embeds these files, so builds need neither node nor solc.
//
// Usage: node compile-contracts.mjs <solc-js package dir> <contracts dir>

import { createRequire } from "node:module";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

const [solcDir, contractsDir] = process.argv.slice(2);
if (!solcDir || !contractsDir) {
  console.error("usage: node compile-contracts.mjs <solc-js package dir> <contracts dir>");
  process.exit(2);
}

const solc = createRequire(path.join(path.resolve(solcDir), "package.json"))("./index.js");
const sourceDir = path.join(contractsDir, "src");
const outDir = path.join(contractsDir, "out");

const sources = {};
for (const file of readdirSync(sourceDir).filter((name) => name.endsWith(".sol")).sort()) {
  sources[file] = { content: readFileSync(path.join(sourceDir, file), "utf8") };
}

// BLOBHASH needs Cancun. Targeting Cancun rather than the compiler's default keeps the
// bytecode valid on every node from Cancun on. Leaving out the metadata hash keeps the
// bytecode unchanged by comment-only edits.
const input = {
  language: "Solidity",
  sources,
  settings: {
    evmVersion: "cancun",
    optimizer: { enabled: true, runs: 200 },
    metadata: { bytecodeHash: "none" },
    outputSelection: { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] } },
  },
};

const output = JSON.parse(solc.compile(JSON.stringify(input)));
let failed = false;
for (const message of output.errors ?? []) {
  console.error(message.formattedMessage ?? message.message);
  if (message.severity === "error") failed = true;
}
if (failed) process.exit(1);

mkdirSync(outDir, { recursive: true });
for (const [sourceName, contracts] of Object.entries(output.contracts)) {
  for (const [contractName, contract] of Object.entries(contracts)) {
    // Interfaces have no bytecode and need no artifact.
    if (!contract.evm.bytecode.object) continue;
    const artifact = {
      contractName,
      sourceName: `contracts/src/${sourceName}`,
      compiler: `solc-js ${solc.version()}`,
      abi: contract.abi,
      bytecode: `0x${contract.evm.bytecode.object}`,
      deployedBytecode: `0x${contract.evm.deployedBytecode.object}`,
    };
    const file = path.join(outDir, `${contractName}.json`);
    writeFileSync(file, `${JSON.stringify(artifact, null, 2)}\n`);
    console.log(`wrote ${path.relative(process.cwd(), file)}`);
  }
}
